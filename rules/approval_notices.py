"""Telling people about approvals: the bell (rules/notifications), and an SMS through the
messaging outbox when the administrator turned on 审批短信通知 (the outbox row is written in the
deciding transaction and sent by the periodic dispatch, once: its key is the task's)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models.approval import ApprovalRequest, ApprovalStatus
from models.messaging import Channel, Outbox, OutboxStatus
from models.office import NotificationKind
from models.org import User
from rules import messaging, notifications, settings
from rules.links import ListKind, RecordLink

_MOBILE = re.compile(r"1\d{10}")
SMS_SETTING = "approval_sms"  # 审批短信通知: off unless the administrator turns it on


def sms_enabled(session: Session) -> bool:
    return bool(settings.get(session, SMS_SETTING))


def tell_approvers(session: Session, request: ApprovalRequest, user_ids: list[int], *, now: datetime) -> None:
    """The approvers whose turn it now is."""
    title = _l("待审批：%(t)s（%(who)s 提交）", t=request.title, who=request.submitter.display_name)
    for user_id in user_ids:
        notifications.notify(session, kind=NotificationKind.APPROVAL, user_id=user_id, title=title, now=now,
                             link=RecordLink(ListKind.APPROVAL, request.id),
                             dedupe_key=f"approval:{request.id}:{request.step_index}:{user_id}")
    _sms(session, request, user_ids, now=now, kind=f"wait{request.step_index}",
         text=lambda: gettext("【审批】%(t)s 等待您审批，请登录系统处理。", t=request.title))


def tell_submitter(session: Session, request: ApprovalRequest, *, now: datetime, reason: str | None = None) -> None:
    """The outcome, to the one who submitted."""
    if request.status == ApprovalStatus.APPROVED:
        title = _l("审批已通过：%(t)s", t=request.title)
    else:
        title = _l("审批被驳回：%(t)s（原因：%(r)s）", t=request.title, r=reason or "")
    notifications.notify(session, kind=NotificationKind.APPROVAL, user_id=request.submitter_id, title=title, now=now,
                         link=RecordLink(ListKind.APPROVAL, request.id),
                         dedupe_key=f"approval:{request.id}:{request.status}")
    _sms(session, request, [request.submitter_id], now=now, kind=str(request.status),
         text=lambda: (gettext("【审批】%(t)s 已通过。", t=request.title) if request.status == ApprovalStatus.APPROVED
                       else gettext("【审批】%(t)s 被驳回：%(r)s", t=request.title, r=reason or "")))


def _sms(session: Session, request: ApprovalRequest, user_ids: list[int], *, now: datetime, kind: str,
         text: Any) -> None:
    if not user_ids or not sms_enabled(session):
        return
    rows = []
    users = session.execute(select(User.id, User.display_name, User.mobile).where(User.id.in_(user_ids))).all()
    for user_id, name, mobile in users:
        address = messaging.normalize_address(Channel.SMS, mobile)
        if not _MOBILE.fullmatch(address):
            continue
        key = f"approval:{request.id}:{kind}:{user_id}"
        if session.scalar(select(Outbox.id).where(Outbox.key == key)) is not None:
            continue
        with force_locale("zh_CN"):
            body = text()
        rows.append({"channel": Channel.SMS.value, "status": OutboxStatus.PENDING.value, "key": key[:128],
                     "user_id": user_id, "to_address": address, "to_name": name, "body": body,
                     "segments": messaging.segments(body), "respect_quiet_hours": True, "created_at": now,
                     "attempts": 0})
    if rows:
        session.execute(insert(Outbox), rows)

