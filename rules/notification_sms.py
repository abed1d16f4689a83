"""A notification also sent as an SMS, for the kinds its reader chose (提醒设置). The outbox row is
written in the transaction that raised the notification and its key is the notification's
(f"notice:{id}"), so the dispatch job sends it once however often it runs or restarts
(jobs/messaging.py). Text sent during the reader's do-not-disturb hours waits for their end;
the company's SMS quiet hours (短信设置) apply as to every reminder SMS."""
from __future__ import annotations

import re
from datetime import datetime

from flask_babel import force_locale, gettext
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models.messaging import Channel, Outbox, OutboxStatus
from models.office import Notification, NotificationKind
from models.org import User
from rules import messaging, settings
from models.notification_setting import NotificationSetting
from rules.notification_settings import Choices, choices_of

_MOBILE = re.compile(r"1\d{10}")


def key_of(note: Notification) -> str:
    return f"notice:{note.id}"


def queue(session: Session, note: Notification, choices: Choices, *, now: datetime, tz: str) -> bool:
    """Write the SMS of `note` to the outbox; False when the reader has no usable mobile number,
    or the approvals' own SMS (审批短信通知, rules/approval_notices.py) already texts this one."""
    if note.kind == NotificationKind.APPROVAL and _approvals_text_themselves(session):
        return False
    person = session.execute(select(User.display_name, User.mobile).where(User.id == note.user_id,
                                                                          User.active.is_(True))).first()
    if person is None:
        return False
    address = messaging.normalize_address(Channel.SMS, person.mobile)
    if not _MOBILE.fullmatch(address):
        return False
    with force_locale("zh_CN"):
        body = gettext("【提醒】%(t)s", t=note.title)
    session.execute(insert(Outbox).values(
        channel=Channel.SMS.value, status=OutboxStatus.PENDING.value, key=key_of(note), user_id=note.user_id,
        to_address=address, to_name=person.display_name, body=body, segments=messaging.segments(body),
        scheduled_at=choices.quiet_until(now, tz), respect_quiet_hours=True, created_at=now, attempts=0))
    return True


def queue_bulk(session: Session, *, kind: NotificationKind, dedupe_key: str, now: datetime,
               tz: str = "Asia/Shanghai") -> int:
    """The SMS of notifications written in bulk (INSERT … SELECT, as a published announcement's),
    for those readers who chose `kind`: one look at the settings table (a row per user at most)."""
    chosen = {row.user_id: choices_of(row) for row in session.scalars(select(NotificationSetting))
              if kind.value in (row.sms_kinds or ())}
    if not chosen:
        return 0
    notes = list(session.scalars(select(Notification).where(Notification.dedupe_key == dedupe_key,
                                                            Notification.user_id.in_(chosen))))
    done = set(session.scalars(select(Outbox.key).where(Outbox.key.in_([key_of(note) for note in notes]))))
    return sum(queue(session, note, chosen[note.user_id], now=now, tz=tz) for note in notes
               if key_of(note) not in done)


def _approvals_text_themselves(session: Session) -> bool:
    from rules.approval_notices import SMS_SETTING  # approval_notices calls notify(): import late

    return bool(settings.get(session, SMS_SETTING))
