"""SLA of a ticket: its state (正常 / 即将超时 / 已超时 / 已达成, or paused) read from the due
columns, as a Python value for one ticket and as a SQL clause for lists and counts, so a list
filtered by SLA state and the badge on each row agree.

The due instants themselves are computed in working hours by the SLA rules (policies per
priority, the working calendar) through the hooks at the end; the ticket rules call them on
every move."""
from __future__ import annotations

import enum
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, false, or_
from sqlalchemy.orm import Session

from models.service import ACTIVE_CATEGORIES, StatusCategory, Ticket
from rules import sla_policies, working_calendar
from rules.working_calendar import DEFAULT_TZ

# How long before a due instant a ticket counts as 即将超时 (wall-clock; the assignee is warned).
WARN_BEFORE = timedelta(hours=2)


class SlaState(enum.StrEnum):
    NORMAL = "normal"      # 正常
    SOON = "soon"          # 即将超时
    BREACHED = "breached"  # 已超时
    MET = "met"            # 已达成
    PAUSED = "paused"      # 暂停计时


LABELS = {SlaState.NORMAL: _l("正常"), SlaState.SOON: _l("即将超时"), SlaState.BREACHED: _l("已超时"),
          SlaState.MET: _l("已达成"), SlaState.PAUSED: _l("暂停计时")}


def _late(done: datetime | None, due: datetime | None, now: datetime) -> bool:
    return due is not None and (done or now) > due


def state(ticket: Ticket, now: datetime, warn: timedelta = WARN_BEFORE) -> SlaState:
    """The SLA state of one ticket at `now`."""
    first_late = _late(ticket.first_responded_at, ticket.first_response_due_at, now)
    if ticket.status_category not in ACTIVE_CATEGORIES:
        # Done: judged by when it was done (a resolved or closed ticket carries resolved_at).
        late = ticket.resolved_at is not None and _late(ticket.resolved_at, ticket.resolution_due_at, now)
        first_late = ticket.first_responded_at is not None and first_late
        return SlaState.BREACHED if first_late or late else SlaState.MET
    if first_late or _late(None, ticket.resolution_due_at, now):
        return SlaState.BREACHED
    if ticket.status_category == StatusCategory.PAUSED:
        return SlaState.PAUSED
    dues = [d for d in (ticket.resolution_due_at,
                        ticket.first_response_due_at if ticket.first_responded_at is None else None) if d]
    return SlaState.SOON if dues and min(dues) <= now + warn else SlaState.NORMAL


def state_clause(wanted: SlaState, now: datetime, warn: timedelta = WARN_BEFORE) -> ColumnElement[bool]:
    """The tickets in state `wanted` at `now`: the same truth as `state`, as SQL on the indexed
    category and due columns."""
    t = Ticket
    active = t.status_category.in_(ACTIVE_CATEGORIES)
    first_open = t.first_responded_at.is_(None)
    # A first reply given late keeps the ticket 已超时 until it is done, as `state` says.
    late_now = or_(and_(first_open, t.first_response_due_at < now), t.first_responded_at > t.first_response_due_at,
                   t.resolution_due_at < now)
    late_done = or_(t.first_responded_at > t.first_response_due_at, t.resolved_at > t.resolution_due_at)
    due_soon = or_(and_(first_open, t.first_response_due_at <= now + warn), t.resolution_due_at <= now + warn)
    if wanted is SlaState.BREACHED:
        return or_(and_(active, late_now), and_(~active, late_done))
    if wanted is SlaState.MET:
        return and_(~active, ~late_done.is_(True))
    if wanted is SlaState.PAUSED:
        return and_(t.status_category == StatusCategory.PAUSED.value, ~late_now.is_(True))
    if wanted is SlaState.SOON:
        return and_(t.status_category == StatusCategory.OPEN.value, ~late_now.is_(True), due_soon)
    if wanted is SlaState.NORMAL:
        return and_(t.status_category == StatusCategory.OPEN.value, ~late_now.is_(True), ~due_soon.is_(True))
    return false()


# ---- hooks the ticket rules call on every create / move / priority change ----
#
# Choices (DESIGN §6 leaves them open): only the resolution clock pauses (a first reply is owed
# before a ticket waits for the customer); a reopened ticket gets a fresh resolution target from
# the reopening; a priority change counts both targets again from the creation (time spent
# paused before the change counts as worked). Each restart forgets the warning and escalation
# already sent, so the new due is watched again.

def on_created(session: Session, ticket: Ticket, now: datetime, tz: str = DEFAULT_TZ) -> None:
    """Set the first-response and resolution due instants of a new ticket."""
    _start(session, ticket, now, now, tz)


def on_category_change(session: Session, ticket: Ticket, old: StatusCategory, new: StatusCategory,
                       now: datetime, tz: str = DEFAULT_TZ) -> None:
    """Pause (into PAUSED), resume (out of it: the due set again from the working time left),
    stop (RESOLVED / CLOSED) or restart (reopened) the clocks."""
    old, new = StatusCategory(old), StatusCategory(new)
    if old == new:
        return
    calendar = working_calendar.load(session, tz)
    if old.value not in ACTIVE_CATEGORIES and new.value in ACTIVE_CATEGORIES:  # reopened
        targets = sla_policies.targets_for(session, ticket)
        ticket.resolution_due_at = (working_calendar.add_working(calendar, now, targets.resolution_seconds)
                                    if targets else None)
        _forget_notices(ticket, now)
        if new == StatusCategory.PAUSED:
            _pause(session, ticket, now, calendar)
        return
    if old == StatusCategory.PAUSED:
        _resume(ticket, now, calendar)
    if new == StatusCategory.PAUSED:
        _pause(session, ticket, now, calendar)


def on_priority_change(session: Session, ticket: Ticket, now: datetime, tz: str = DEFAULT_TZ) -> None:
    """The policy follows the priority: the due instants are computed again from the creation."""
    if ticket.status_category not in ACTIVE_CATEGORIES:
        return
    ticket.sla_paused_at = ticket.sla_remaining_seconds = None
    _start(session, ticket, ticket.created_at or now, now, tz)
    _forget_notices(ticket, now)


def _start(session: Session, ticket: Ticket, start: datetime, now: datetime, tz: str) -> None:
    """Both due instants from `start` by the ticket's policy (none: not timed); a paused ticket
    keeps the time left at `now`."""
    targets = sla_policies.targets_for(session, ticket)
    if targets is None:
        ticket.first_response_due_at = ticket.resolution_due_at = None
        return
    calendar = working_calendar.load(session, tz)
    ticket.first_response_due_at = working_calendar.add_working(calendar, start, targets.first_response_seconds)
    ticket.resolution_due_at = working_calendar.add_working(calendar, start, targets.resolution_seconds)
    if ticket.status_category == StatusCategory.PAUSED:
        _pause(session, ticket, now, calendar)


def _pause(session: Session, ticket: Ticket, now: datetime, calendar: working_calendar.Calendar) -> None:
    """Keep the working time left and stop the resolution clock. A ticket already past its due
    stays 已超时: a pause does not forgive a breach."""
    due = ticket.resolution_due_at
    if due is None or due <= now:
        return
    ticket.sla_remaining_seconds = working_calendar.working_seconds_between(calendar, now, due)
    ticket.sla_paused_at = now
    ticket.resolution_due_at = None


def _resume(ticket: Ticket, now: datetime, calendar: working_calendar.Calendar) -> None:
    if ticket.sla_paused_at is None:
        return
    ticket.resolution_due_at = working_calendar.add_working(calendar, now, ticket.sla_remaining_seconds or 0)
    ticket.sla_paused_at = ticket.sla_remaining_seconds = None
    _forget_notices(ticket, now)


def _forget_notices(ticket: Ticket, now: datetime) -> None:
    """New due times: the assignee is warned again; the leader hears of a breach again only if
    the ticket is no longer breached (a first reply given late keeps it so through every pause)."""
    ticket.sla_warned_at = None
    if state(ticket, now) is not SlaState.BREACHED:
        ticket.sla_escalated_at = None
