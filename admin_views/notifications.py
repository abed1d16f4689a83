"""My notifications (the bell's full list): one's own inbox, whatever the role."""
from __future__ import annotations

from typing import Any

from flask import abort, redirect, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from admin_views import links
from admin_views.base import SIGNED_IN, ScopedModelView
from admin_views.filters import LocalDateBetween
from admin_views.context import current_actor, now
from admin_views.menu import OFFICE, fa
from admin_views.transaction import transaction
from models import Notification, db
from rules import notifications


class NotificationView(ScopedModelView):
    permission_view = SIGNED_IN  # one's own inbox (rules/scope.recipient_clause), whatever the role
    column_list = ["created_at", "title", "body", "read_at"]
    column_labels = {"created_at": _l("时间"), "title": _l("标题"), "body": _l("内容"), "read_at": _l("已读时间")}
    column_default_sort = ("created_at", True)
    column_searchable_list = ["title"]  # the text in the default language
    column_formatters = {"title": lambda view, context, model, name: notifications.title_of(model)}
    column_filters = [LocalDateBetween(Notification.created_at, _l("时间"))]
    list_template = "admin/notifications/list.html"

    @action("mark_read", _l("标为已读"))
    def action_mark_read(self, ids: list[str]) -> None:
        records = self.scoped_batch(ids)
        with transaction() as outcome:
            count = notifications.mark_read(db.session, [r.id for r in records], actor=current_actor(), now=now())
            outcome.done(ngettext("已将 %(num)d 条提醒标为已读。", "已将 %(num)d 条提醒标为已读。", count))

    @expose("/open/<int:note_id>")
    def open(self, note_id: int) -> Any:
        note = self.get_one(note_id)
        if note is None:
            abort(404)
        with transaction():
            notifications.mark_read(db.session, [note.id], actor=current_actor(), now=now())
        return redirect(links.stored_url(self.admin, note.link) or url_for(".index_view"))


def views() -> list[Any]:
    return [NotificationView(Notification, name=_l("我的提醒"), category=OFFICE, endpoint="notification",
                             **fa("fa-bell"))]
