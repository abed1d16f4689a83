"""What the SLA panel on a ticket's page says: the state, both due instants, whether each was met,
and the working time left (or kept, while paused). A value for the template
(templates/admin/service/_sla_panel.html), computed here so the page does no arithmetic."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from models.service import ACTIVE_CATEGORIES, StatusCategory, Ticket
from rules import sla, working_calendar
from rules.sla import LABELS, SlaState

CSS = {SlaState.NORMAL: "success", SlaState.SOON: "warning", SlaState.BREACHED: "danger", SlaState.MET: "info",
       SlaState.PAUSED: "secondary"}


@dataclass(frozen=True)
class Panel:
    state: SlaState
    label: LazyString
    css: str
    first_due: datetime | None
    first_done: datetime | None
    first_late: bool
    due: datetime | None
    done: datetime | None
    late: bool
    paused_since: datetime | None
    left: LazyString | None  # working time left to the resolution due (kept while paused)
    timed: bool  # False: no policy for this ticket, nothing is timed


def duration(seconds: int) -> LazyString:
    minutes = max(0, seconds) // 60
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _l("%(h)d 小时 %(m)d 分钟", h=hours, m=rest)
    return _l("%(h)d 小时", h=hours) if hours else _l("%(m)d 分钟", m=rest)


def panel(session: Session, ticket: Ticket, now: datetime, tz: str = working_calendar.DEFAULT_TZ) -> Panel:
    state = sla.state(ticket, now)
    paused = ticket.status_category == StatusCategory.PAUSED and ticket.sla_paused_at is not None
    active = ticket.status_category in ACTIVE_CATEGORIES
    left = None
    if paused:
        left = duration(ticket.sla_remaining_seconds or 0)
    elif active and ticket.resolution_due_at is not None and ticket.resolution_due_at > now:
        calendar = working_calendar.load(session, tz)
        left = duration(working_calendar.working_seconds_between(calendar, now, ticket.resolution_due_at))
    first_done, first_due = ticket.first_responded_at, ticket.first_response_due_at
    done = ticket.resolved_at
    return Panel(
        state=state, label=LABELS[state], css=CSS[state], first_due=first_due, first_done=first_done,
        first_late=first_due is not None and (first_done or now) > first_due,
        due=ticket.resolution_due_at, done=done,
        late=ticket.resolution_due_at is not None and (done or now) > ticket.resolution_due_at,
        paused_since=ticket.sla_paused_at if paused else None, left=left,
        timed=any(x is not None for x in (first_due, ticket.resolution_due_at, ticket.sla_paused_at)))
