"""The records behind a pipeline report's figure (销售预测, 销售漏斗, 赢单率, 输单原因, 线索转化率),
as WHERE clauses that the 销售机会 and 线索 lists add to their own scoped queries.

A report's link names them with rules/links.QUERY_PARAMETERS (?owner_id=3&outcome=open&
close_month=2026-12); admin_views/pipeline_drill.py reads those parameters into the dataclasses
below, and these functions turn them into SQL. rules/pipeline_reports.py counts with the very
same clauses, so the list a figure opens holds exactly the rows the figure counted (both apply
the reader's own data scope: rules/scope.opportunity_clause / lead_clause).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from models.lead import Lead
from models.opportunity import Opportunity, OpportunityEvent, Outcome, Stage
from models.org import Department
from rules.links import Days

# Outcomes whose stage counts towards the funnel: a won opportunity has reached every stage, an
# invalid one (无效: never a real deal) none.
WORKED = (Outcome.OPEN, Outcome.LOST)


@dataclass(frozen=True)
class OpportunityDrill:
    owner_id: int | None = None
    department_ids: tuple[int, ...] = ()
    source_id: int | None = None
    group_id: int | None = None
    stage_id: int | None = None
    reached_stage_id: int | None = None
    outcome: Outcome | None = None
    close_month: str | None = None  # 2026-12
    closed: Days | None = None
    created: Days | None = None
    loss_reason_id: int | None = None


@dataclass(frozen=True)
class LeadDrill:
    owner_id: int | None = None
    department_ids: tuple[int, ...] = ()
    source_id: int | None = None
    status: str | None = None
    created: Days | None = None


def utc_range(days: Days, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants from the first local day's midnight to the one after the last day."""
    zone = ZoneInfo(tz)
    start = datetime.combine(days.first, time.min, tzinfo=zone).astimezone(timezone.utc)
    end = datetime.combine(days.last + timedelta(days=1), time.min, tzinfo=zone).astimezone(timezone.utc)
    return start, end


def month_days(month: str) -> Days:
    """The first and last day of a month written 2026-12 (ValueError for anything else)."""
    year, _dash, number = month.partition("-")
    first = date(int(year), int(number), 1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return Days(first, following - timedelta(days=1))


def department_tree(session: Session, department_id: int) -> tuple[int, ...]:
    """A department and every department below it."""
    path = select(Department.path).where(Department.id == department_id).scalar_subquery()
    return tuple(session.scalars(select(Department.id).where(Department.path.startswith(path))
                                 .order_by(Department.id)))


def group_stages(session: Session, group_id: int) -> list[Stage]:
    """A stage group's stages in funnel order (sort order, then creation)."""
    return list(session.scalars(select(Stage).where(Stage.group_id == group_id).order_by(Stage.sort_order, Stage.id)))


def backward_moves(positions: dict[int, int], *, at_or_beyond: int = 0) -> ColumnElement[bool]:
    """Events that moved an opportunity back from a stage at position ≥ `at_or_beyond` to an
    earlier stage of the same group. An opportunity now below its furthest stage left that stage
    by such a move (a forward move would have gone further; 赢单/输单 keep the stage), so these
    few events, read through (from_stage_id, to_stage_id), are all the history the funnel needs."""
    branches = []
    for stage_id, pos in positions.items():
        earlier = [s for s, p in positions.items() if p < pos]
        if pos >= at_or_beyond and earlier:
            branches.append(and_(OpportunityEvent.from_stage_id == stage_id, OpportunityEvent.to_stage_id.in_(earlier)))
    return or_(*branches) if branches else false()


def reached_clause(session: Session, stage_id: int) -> ColumnElement[bool]:
    """Opportunities that reached stage `stage_id` (销售漏斗's 到达数): won ones of its group, and
    open or lost ones whose current stage is at or beyond it, or that were there before moving
    back. Invalid ones reach nothing."""
    stage = session.get(Stage, stage_id)
    if stage is None:
        return false()
    stages = group_stages(session, stage.group_id)
    positions = {s.id: i for i, s in enumerate(stages)}
    mine = positions[stage.id]
    later = [s for s, p in positions.items() if p >= mine]
    was_there = (select(OpportunityEvent.id).where(OpportunityEvent.opportunity_id == Opportunity.id,
                                                  backward_moves(positions, at_or_beyond=mine))
                 .correlate(Opportunity).exists())
    return and_(Opportunity.group_id == stage.group_id,
                or_(Opportunity.outcome == Outcome.WON,
                    and_(Opportunity.outcome.in_(WORKED), or_(Opportunity.stage_id.in_(later), was_there))))


def _created(column: Any, days: Days | None, tz: str) -> list[ColumnElement[bool]]:
    """`column` (an instant) within local days; a list may leave either end open (None)."""
    if days is None:
        return []
    clauses = []
    if days.first is not None:
        clauses.append(column >= utc_range(Days(days.first, days.first), tz)[0])
    if days.last is not None:
        clauses.append(column < utc_range(Days(days.last, days.last), tz)[1])
    return clauses


def opportunity_where(session: Session, drill: OpportunityDrill, tz: str) -> list[ColumnElement[bool]]:
    """The conditions of an opportunity drill-down (to be AND-ed with the list's scope)."""
    o = Opportunity
    clauses: list[ColumnElement[bool]] = []
    if drill.owner_id is not None:
        clauses.append(o.owner_id == drill.owner_id)
    if drill.department_ids:
        clauses.append(o.department_id.in_(drill.department_ids))
    if drill.source_id is not None:
        clauses.append(o.source_id == drill.source_id)
    if drill.group_id is not None:
        clauses.append(o.group_id == drill.group_id)
    if drill.stage_id is not None:
        clauses.append(o.stage_id == drill.stage_id)
    if drill.reached_stage_id is not None:
        clauses.append(reached_clause(session, drill.reached_stage_id))
    if drill.outcome is not None:
        clauses.append(o.outcome == drill.outcome)
    if drill.close_month is not None:
        days = month_days(drill.close_month)
        clauses += [o.expected_close_on >= days.first, o.expected_close_on <= days.last]
    if drill.loss_reason_id is not None:
        clauses.append(o.loss_reason_id == drill.loss_reason_id)
    clauses += _created(o.closed_at, drill.closed, tz)
    clauses += _created(o.created_at, drill.created, tz)
    return clauses


def lead_where(drill: LeadDrill, tz: str) -> list[ColumnElement[bool]]:
    """The conditions of a lead drill-down (to be AND-ed with the list's scope)."""
    clauses: list[ColumnElement[bool]] = []
    if drill.owner_id is not None:
        clauses.append(Lead.owner_id == drill.owner_id)
    if drill.department_ids:
        clauses.append(Lead.department_id.in_(drill.department_ids))
    if drill.source_id is not None:
        clauses.append(Lead.source_id == drill.source_id)
    if drill.status is not None:
        clauses.append(Lead.status == drill.status)
    clauses += _created(Lead.created_at, drill.created, tz)
    return clauses
