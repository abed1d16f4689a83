"""今日: the first page of the mobile workspace. What needs the salesperson today, each figure
from the rule the admin's workbench uses (rules/followups.due_clause + scope, task_reminders,
events, approvals, notifications), and the reminders opened on the phone."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, url_for
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from admin_views import links as admin_links
from admin_views.base import SIGNED_IN
from admin_views.context import current_actor, now
from admin_views.formatters import local
from admin_views.mobile.base import MobileView, mobile_url
from admin_views.transaction import transaction
from models import Customer, Notification, db
from rules import approvals, events, followups, notifications, scope, task_reminders
from rules.errors import OutOfScope
from rules.links import ListKind, ListLink, RecordLink, load

DUE_SHOWN = 10

# A stored reminder link (rules/links) → the mobile page showing the same thing, when it exists.
_MOBILE_RECORDS = {
    ListKind.CUSTOMER: ("m_customers.detail", "customer_id"),
    ListKind.OPPORTUNITY: ("m_opportunities.detail", "opportunity_id"),
    ListKind.APPROVAL: ("m_approvals.detail", "request_id"),
    ListKind.ORDER: ("m_orders.detail", "order_id"),
}
_MOBILE_LISTS = {
    ListKind.CUSTOMER: "m_customers.index",
    ListKind.DUE_CUSTOMER: "m_home.index",
    ListKind.WORKBENCH: "m_home.index",
    ListKind.POOL: "m_pool.index",
    ListKind.OPPORTUNITY: "m_opportunities.index",
    ListKind.APPROVAL: "m_approvals.index",
    ListKind.ORDER: "m_orders.index",
}


def reminder_target(stored: str | None) -> str | None:
    """Where a reminder leads on the phone: its mobile page, else the admin's page."""
    link = load(stored)
    if isinstance(link, RecordLink) and link.kind in _MOBILE_RECORDS:
        endpoint, arg = _MOBILE_RECORDS[link.kind]
        found = mobile_url(endpoint, **{arg: link.id})
    elif isinstance(link, ListLink) and not link.filters and link.kind in _MOBILE_LISTS:
        found = mobile_url(_MOBILE_LISTS[link.kind])
    else:
        found = None
    return found or admin_links.stored_url(current_app.extensions["admin"][0], stored)


class HomeView(MobileView):
    permission = SIGNED_IN
    mobile_url = ""
    tab = "m_home.index"

    @expose("/")
    def index(self) -> Any:
        actor, moment, tz = current_actor(), now(), current_app.config["TIMEZONE"]
        mine_due = scope.scoped(select(Customer), Customer, actor).where(
            Customer.owner_id == actor.user_id, followups.due_clause(actor.today))
        due = list(db.session.scalars(mine_due.order_by(Customer.next_contact_at, Customer.id).limit(DUE_SHOWN)))
        due_count = len(due) if len(due) < DUE_SHOWN else db.session.scalar(
            select(func.count()).select_from(mine_due.subquery()))
        overdue_tasks, tasks = task_reminders.my_open(db.session, actor, moment, tz, limit=10, days=0)
        return self.render(
            "mobile/home.html", title=_l("今日"), due=due, due_count=due_count, today=actor.today,
            tasks=tasks, overdue_tasks=overdue_tasks, now=moment,
            today_events=events.upcoming_today(db.session, actor, moment, tz)[:10],
            waiting=approvals.waiting_count(db.session, actor),
            approvals_url=mobile_url("m_approvals.index") or _first_page("approval.index_view", "approval.index"),
            unread=notifications.unread_count(db.session, actor),
            reminders=notifications.latest_unread(db.session, actor, limit=5),
            poll_after=notifications.newest_id(db.session, current_user.id), clock=_clock)

    @expose("/reminders/<int:note_id>")
    def reminder(self, note_id: int) -> Any:
        """Open a reminder from the phone: marked read, then its mobile page (or the admin's)."""
        try:
            note = scope.get_in_scope(db.session, Notification, note_id, current_actor())
        except OutOfScope:
            abort(404)
        with transaction():
            notifications.mark_read(db.session, [note.id], actor=current_actor(), now=now())
        return redirect(reminder_target(note.link) or url_for(".index"))


def _clock(moment: Any, *, with_day: bool = False) -> str:
    """A time as the phone shows it, in the firm's zone: 14:30, or 11-20 14:30 for another day."""
    return local(moment).strftime("%m-%d %H:%M" if with_day else "%H:%M")


def _first_page(*endpoints: str) -> str | None:
    return next((url_for(e) for e in endpoints if e in current_app.view_functions), None)


def views() -> list[BaseView]:
    return [HomeView(_l("今日"), endpoint="m_home")]
