"""提醒中心 (endpoint "notification"): one's own reminders, whatever the role, filtered by kind and
read/unread; opening one marks it read; 全部标为已读; and the poll every open page asks (the
pop-ups of static/js/kechi-notify.js). Rules: rules/notifications.py."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin_views import links, params
from admin_views.base import SEARCH_COUNT_CAP, SIGNED_IN, ScopedModelView
from admin_views.context import current_actor, now
from admin_views.filters import LocalDateBetween
from admin_views.forms import CsrfForm
from admin_views.menu import OFFICE, fa
from admin_views.transaction import transaction
from models import Notification, db
from rules import notifications
from rules.notification_settings import KIND_LABELS

READ_STATES = {"unread": _l("未读"), "read": _l("已读")}


class ReadState(BaseSQLAFilter):
    """未读 / 已读."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        column = self.get_column(alias)
        return query.filter(column.is_(None) if value == "unread" else column.is_not(None))

    def operation(self) -> Any:
        return _l("是")


KIND_FILTER = FilterEqual(Notification.kind, _l("类型"), options=list(KIND_LABELS.items()))
READ_FILTER = ReadState(Notification.read_at, _l("状态"), options=list(READ_STATES.items()))


class NotificationView(ScopedModelView):
    permission_view = SIGNED_IN  # one's own inbox (rules/scope.recipient_clause), whatever the role
    column_list = ["created_at", "kind", "title", "body", "read_at"]
    column_labels = {"created_at": _l("时间"), "kind": _l("类型"), "title": _l("标题"), "body": _l("内容"),
                     "read_at": _l("已读时间")}
    column_sortable_list = ["created_at"]
    column_default_sort = ("id", True)  # the (user_id, id) index: newest first without sorting 5M rows
    column_searchable_list = ["title"]  # the text in the default language
    column_formatters = {"title": lambda view, context, model, name: notifications.title_of(model),
                         "kind": lambda view, context, model, name: KIND_LABELS.get(model.kind, model.kind)}
    column_filters = [KIND_FILTER, READ_FILTER, LocalDateBetween(Notification.created_at, _l("时间"))]
    capped_count = True
    list_template = "admin/notifications/list.html"

    def get_count_query(self) -> Any:
        g.kechi_count_cap = SEARCH_COUNT_CAP  # an inbox says "1000+", it does not count 100,000 rows a page
        return super().get_count_query()

    def filter_url(self, flt: Any, value: str) -> str:
        """This list with one of its filters set: the kind and read tabs above it."""
        arg = next(arg for arg, (_index, known) in self._filter_args.items() if known is flt)
        return url_for(".index_view", **{f"flt0_{arg}": value})

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.list_template:
            kwargs.update(kind_tabs=[(label, self.filter_url(KIND_FILTER, kind), kind) for kind, label in KIND_LABELS.items()],
                          read_tabs=[(label, self.filter_url(READ_FILTER, state), state) for state, label in READ_STATES.items()],
                          chosen={str(value) for _i, _name, value in kwargs.get("active_filters") or ()})
        return super().render(template, **kwargs)

    @action("mark_read", _l("标为已读"))
    def action_mark_read(self, ids: list[str]) -> None:
        records = self.scoped_batch(ids)
        with transaction() as outcome:
            count = notifications.mark_read(db.session, [r.id for r in records], actor=current_actor(), now=now())
            outcome.done(ngettext("已将 %(num)d 条提醒标为已读。", "已将 %(num)d 条提醒标为已读。", count))

    @expose("/read-all/", methods=["POST"])
    def read_all(self) -> Any:
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
        else:
            with transaction() as outcome:
                count = notifications.mark_all_read(db.session, actor=current_actor(), now=now())
                outcome.done(ngettext("已将 %(num)d 条提醒标为已读。", "已将 %(num)d 条提醒标为已读。", count)
                             if count else gettext("没有未读提醒。"))
        return redirect(url_for(".index_view"))

    @expose("/open/<int:note_id>")
    def open(self, note_id: int) -> Any:
        note = self.get_one(note_id)
        if note is None:
            abort(404)
        with transaction():
            notifications.mark_read(db.session, [note.id], actor=current_actor(), now=now())
        return redirect(links.stored_url(self.admin, note.link) or url_for(".index_view"))

    @expose("/poll")
    def poll(self) -> Any:
        """What every open page asks every half minute (static/js/kechi-notify.js): 204 when
        nothing arrived after `after`; else the unread count and up to five new ones to pop up.
        Reads plain rows in at most two statements (rules.notifications.poll)."""
        after = params.optional_int(request.args.get("after"), name="after") or 0
        answer = notifications.poll(db.session, user_id=current_user.id, after=after, now=now(),
                                    tz=current_app.config["TIMEZONE"])
        if answer is None:
            return "", 204
        items = [{"id": row.id, "kind": row.kind, "title": notifications.title_of(row),
                  "url": url_for(".open", note_id=row.id)} for row in answer.popups]
        return {"last": answer.newest, "unread": answer.unread, "items": items}


def views() -> list[Any]:
    return [NotificationView(Notification, name=_l("提醒中心"), category=OFFICE, endpoint="notification",
                             **fa("fa-bell"))]
