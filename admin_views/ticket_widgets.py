"""The workbench's service widgets: 我的工单 (my active tickets per SLA state, each figure opening
the list filtered so) and 今日将超时工单 (due before the day ends, soonest first)."""
from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from admin_views import links
from admin_views.context import current_actor, now
from admin_views.formatters import local
from models import db
from rules import sla, tickets
from rules.links import DrillFilter, ListKind, ListLink


def _list(filters: dict[DrillFilter, Any]) -> str | None:
    return links.list_url(current_app.extensions["admin"][0], ListLink.of(ListKind.TICKET, filters))


def my_tickets(widget: type) -> Any:
    actor = current_actor()
    items = [{"title": gettext("%(s)s · %(n)d 张", s=sla.LABELS[state], n=count), "pinned": state is sla.SlaState.BREACHED,
              "day": "", "link": _list({DrillFilter.ASSIGNEE: actor.user_id, DrillFilter.TICKET_CATEGORY: tickets.ACTIVE_CATEGORIES,
                             DrillFilter.SLA_STATE: state.value})}
             for state, count in tickets.my_sla_counts(db.session, actor, now()) if count]
    return widget("my_tickets", _l("我的工单"), None, url_for("ticket_mine.index_view"),
                  _l("没有分派给您的未结工单。可以去“我组的工单”领取"), items=items)


def tickets_due_today(widget: type) -> Any:
    count, rows = tickets.due_today(db.session, current_actor(), now(), current_app.config["TIMEZONE"])
    items = [{"title": f"{t.number} {t.subject}", "pinned": False, "link": url_for("ticket.details_view", id=t.id),
              "day": local(min(d for d in (t.resolution_due_at, t.first_response_due_at if t.first_responded_at is None
                                           else None) if d)).strftime("%H:%M")} for t in rows]
    return widget("tickets_due_today", _l("今日将超时工单（%(n)d）", n=count), None,
                  _list({DrillFilter.DUE_TODAY: "1"}),
                  _l("今天没有将要超时的工单"), items=items)
