"""What the 短信邮件 pages share: ids from a query string, handing messages to the queue (or
explaining why not), list-cell formatters, and the base of the pages that need message.manage."""
from __future__ import annotations

from typing import Any

from flask import flash, url_for
from flask_babel import gettext
from markupsafe import Markup, escape

from admin_views import params
from admin_views.base import SecureModelView
from jobs import messaging as message_jobs
from jobs.queue import QueueUnavailable, enqueue
from models.messaging import Channel
from rules import i18n, messaging


def ids_from(raw: str | None) -> list[int]:
    """The ids of "1,2,3" (?ids=…), each once, in order; anything else is ignored."""
    return params.ids_list(raw)


def enqueue_or_explain(func: Any, arg: Any, count: int) -> bool:
    try:
        enqueue(func, arg, job_timeout=message_jobs.BULK_TIMEOUT)
    except QueueUnavailable:
        flash(gettext("任务队列（Redis）暂时连不上：%(n)d 条消息已保存在发件箱，状态为“待发送”，"
                      "队列恢复后会自动发出，请不要重复发送。", n=count), "warning")
        return False
    return True


def customer_link(view: Any, context: Any, model: Any, name: str) -> Markup | str:
    if model.customer_id is None:
        return ""
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(url_for('customer.details_view', id=model.customer_id))}'>"
                  f"{escape(model.customer.name)}</a>")


def short(field: str, size: int = 40, *, stored_message: bool = False):
    """The field cut to `size`; a `stored_message` (a reason the system wrote) in the reader's language."""
    def fmt(view: Any, context: Any, model: Any, name: str) -> str:
        value = getattr(model, field) or ""
        if stored_message:
            value = i18n.shown(value)
        if getattr(model, "channel", None) == Channel.EMAIL and field == "body":
            value = f"{model.subject or ''}：{messaging.html_to_text(value)}"
        return value if len(value) <= size else value[:size] + "…"

    return fmt



class ManageModelView(SecureModelView):
    permission_view = permission_create = permission_edit = permission_delete = "message.manage"

