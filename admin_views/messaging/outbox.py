"""发件箱 (every message in scope, newest first, retry and cancel) and 未发出的短信."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, flash
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy.orm import joinedload

from admin_views.base import ScopedModelView
from admin_views.context import now
from admin_views.filters import LocalDateBetween
from admin_views.formatters import choice_label, fmt_datetime
from admin_views.menu import MESSAGING, fa
from admin_views.messaging.common import customer_link, enqueue_or_explain, short
from admin_views.transaction import transaction
from jobs import messaging as message_jobs
from models import db
from models.messaging import Channel, Outbox, OutboxStatus
from rules import i18n, messaging


def _status(view: Any, context: Any, model: Outbox, name: str) -> Markup:
    css = {"sent": "success", "failed": "danger", "unknown": "warning", "pending": "secondary",
           "sending": "info", "cancelled": "light"}.get(model.status, "light")
    label = messaging.STATUS_LABELS.get(model.status, model.status)
    extra = ""
    if model.status == OutboxStatus.PENDING and model.scheduled_at is not None:
        extra = f" <small class='text-muted'>{escape(fmt_datetime(model.scheduled_at))}</small>"
    abandoned_after = timedelta(seconds=int(current_app.config["JOB_ABANDONED_SECONDS"]))
    if messaging.send_interrupted(model, now=now(), abandoned_after=abandoned_after):
        css, label = "warning", _l("发送中断，待核实")
        extra = f" <small class='text-muted'>{escape(gettext('稍后按消息编号向通道核实，不会重复发送'))}</small>"
    # Markup is safe here: css comes from a fixed table, the label and time pass through escape().
    return Markup(f"<span class='badge badge-{css}'>{escape(str(label))}</span>{extra}")


OUTBOX_LABELS = {
    "created_at": _l("创建时间"), "channel": _l("类型"), "to_name": _l("收件人"), "to_address": _l("号码/邮箱"),
    "customer": _l("客户"), "body": _l("内容"), "segments": _l("条数"), "status": _l("状态"),
    "attempts": _l("尝试次数"), "sent_at": _l("发送时间"), "provider_id": _l("通道编号"), "error": _l("错误"),
    "user": _l("发送人"), "scheduled_at": _l("定时"), "subject": _l("主题"), "delivery_status": _l("回执"),
    "delivered_at": _l("回执时间"), "account": _l("邮件账户"), "provider": _l("通道"),
}


class OutboxView(ScopedModelView):
    """发件箱: every message in scope (rules/scope.outbox_clause), newest first, with retry for those
    that did not go out."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("这里还没有消息。在客户列表勾选客户后发短信/邮件，或打开“发送短信/邮件”按地区、分类群发。")
    permission_view = "message.send"
    can_view_details = True
    column_list = ["created_at", "channel", "customer", "to_name", "to_address", "body", "segments", "status",
                   "sent_at", "user"]
    column_details_list = ["created_at", "channel", "customer", "to_name", "to_address", "subject", "body",
                           "segments", "status", "scheduled_at", "attempts", "sent_at", "provider", "provider_id",
                           "account", "delivery_status", "delivered_at", "user", "error"]
    column_labels = OUTBOX_LABELS
    column_formatters = {"channel": choice_label(messaging.CHANNEL_LABELS), "customer": customer_link,
                         "body": short("body"), "status": _status,
                         "error": short("error", 30, stored_message=True)}
    column_formatters_detail = {"channel": choice_label(messaging.CHANNEL_LABELS), "customer": customer_link,
                                "status": _status, "error": lambda v, c, m, n: i18n.shown(m.error),
                                # HTML only once nh3 has cleaned it (no script, handler or javascript: link).
                                "body": lambda v, c, m, n: Markup(messaging.clean_html(m.body))
                                if m.channel == Channel.EMAIL else m.body}
    column_filters = [
        FilterEqual(Outbox.status, _l("状态"), options=[(k, str(v)) for k, v in messaging.STATUS_LABELS.items()]),
        FilterEqual(Outbox.channel, _l("类型"), options=[(k, str(v)) for k, v in messaging.CHANNEL_LABELS.items()]),
        FilterLike(Outbox.to_address, _l("号码/邮箱")),
        LocalDateBetween(Outbox.created_at, _l("创建时间")),
    ]
    column_searchable_list = ["to_address", "to_name"]
    column_default_sort = ("id", True)
    action_permissions = {"retry": "message.send", "cancel": "message.send"}

    def narrow(self, query: Any) -> Any:
        return query

    def get_query(self) -> Any:
        return self.narrow(super().get_query()).options(joinedload(Outbox.customer), joinedload(Outbox.user))

    def get_count_query(self) -> Any:
        return self.narrow(super().get_count_query())

    @action("retry", _l("重新发送"), _l("所选的未发出消息将重新发送，确定吗？"))
    def action_retry(self, ids: list[str]) -> None:
        with transaction() as outcome:
            ready = messaging.retry(db.session, [r.id for r in self.scoped_batch(ids)])
        if not outcome.ok:
            return
        if ready and enqueue_or_explain(message_jobs.send_messages, ready, len(ready)):
            flash(gettext("已重新提交 %(n)d 条消息", n=len(ready)), "success")
        elif not ready:
            flash(gettext("所选消息都已发出，无需重发"), "info")

    @action("cancel", _l("取消发送"), _l("所选的未发出消息将不再发送，确定吗？"))
    def action_cancel(self, ids: list[str]) -> None:
        with transaction() as outcome:
            n = messaging.cancel(db.session, [r.id for r in self.scoped_batch(ids)])
            outcome.done(gettext("已取消 %(n)d 条消息", n=n))


class UnsentSmsView(OutboxView):
    """未发出的短信: waiting, failed, or of unknown fate."""

    empty_message = _l("所有短信都已发出。发送失败或等待发送的短信会出现在这里，可以勾选后重新发送。")

    column_list = ["created_at", "customer", "to_name", "to_address", "body", "status", "attempts", "error", "user"]

    def narrow(self, query: Any) -> Any:
        return query.filter(Outbox.channel == Channel.SMS, Outbox.status.in_(messaging.UNSENT_STATUSES))


def views() -> list[Any]:
    return [
        OutboxView(Outbox, name=_l("发件箱"), category=MESSAGING, endpoint="outbox", **fa("fa-envelope-o")),
        UnsentSmsView(Outbox, name=_l("未发出的短信"), category=MESSAGING, endpoint="unsent_sms",
                      **fa("fa-exclamation-circle")),
    ]
