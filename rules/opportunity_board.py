"""The board (看板): a stage group's stages as columns of the open opportunities the actor sees.

A column's count, 金额 and 加权金额 (金额 × the stage's 赢率) are true sums over ALL its
opportunities, from one GROUP BY over ix_opportunities_outcome_stage (outcome, stage_id, id); only
the first CARDS_PER_COLUMN cards of each column are fetched, one LIMIT query per column walking the
same index backwards (newest first), so a column of 200,000 opportunities costs what one of 50
does. Stale opportunities (停滞: no follow-up for N days, a setting) are marked on cards and listed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from models.opportunity import Opportunity, Outcome, Stage, StageGroup
from models.org import Department, User
from rules import scope, settings
from rules.actor import Actor
from rules.errors import InvalidValue

CARDS_PER_COLUMN = 50
STALE_DAYS_KEY = "opportunity_stale_days"  # 停滞天数: open and no follow-up for this many days
DEFAULT_STALE_DAYS = 14
CENT = Decimal("0.01")


def stale_days(session: Session) -> int:
    value = settings.get(session, STALE_DAYS_KEY)
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_STALE_DAYS
    return days if days > 0 else DEFAULT_STALE_DAYS


def set_stale_days(session: Session, value: Any) -> int:
    """停滞天数 as the administrator typed it: a whole number of days from 1 to 365."""
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or not 1 <= int(text) <= 365:
        raise InvalidValue(_l("停滞天数应为 1 到 365 之间的整数"))
    settings.put(session, STALE_DAYS_KEY, int(text))
    return int(text)


def stale_cutoff(session: Session, now: datetime) -> datetime:
    return now - timedelta(days=stale_days(session))


def stale_clause(cutoff: datetime) -> ColumnElement[bool]:
    """Open, and the last follow-up (or, never followed up, the creation) is older than `cutoff`."""
    return and_(Opportunity.outcome == Outcome.OPEN,
                or_(Opportunity.last_follow_up_at < cutoff,
                    and_(Opportunity.last_follow_up_at.is_(None), Opportunity.created_at < cutoff)))


def is_stale(opportunity: Opportunity, cutoff: datetime) -> bool:
    last = opportunity.last_follow_up_at or opportunity.created_at
    return opportunity.outcome == Outcome.OPEN and last is not None and last < cutoff


def weighted(amount: Decimal, probability: int) -> Decimal:
    return (Decimal(amount) * Decimal(probability) / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class BoardFilters:
    """看板的筛选: a stage group (None: the actor's default), an owner, a department (with its
    sub-departments) and a month of expected close (its first day)."""

    group_id: int | None = None
    owner_id: int | None = None
    department_id: int | None = None
    close_month: date | None = None


def month_bounds(first: date) -> tuple[date, date]:
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def groups(session: Session) -> list[StageGroup]:
    return list(session.scalars(select(StageGroup).where(StageGroup.active.is_(True))
                                .order_by(StageGroup.sort_order, StageGroup.id)))


def default_group(session: Session, actor: Actor, choices: list[StageGroup]) -> StageGroup | None:
    """The group of the actor's department or the nearest one above it, else the one for
    everyone, else the first."""
    by_department = {g.department_id: g for g in choices}
    ancestors = [int(p) for p in (actor.department_path or "").strip("/").split("/") if p.isdigit()]
    for department_id in reversed(ancestors):
        if department_id in by_department:
            return by_department[department_id]
    return by_department.get(None) or (choices[0] if choices else None)


def filter_clauses(session: Session, filters: BoardFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.owner_id:
        clauses.append(Opportunity.owner_id == filters.owner_id)
    if filters.department_id:
        path = session.scalar(select(Department.path).where(Department.id == filters.department_id))
        tree = list(session.scalars(select(Department.id).where(Department.path.startswith(path)))) if path else []
        clauses.append(Opportunity.department_id.in_(tree or [0]))
    if filters.close_month:
        first, last = month_bounds(filters.close_month)
        clauses.append(Opportunity.expected_close_on.between(first, last))
    return clauses


@dataclass
class Column:
    stage: Stage
    count: int = 0
    amount: Decimal = Decimal("0")
    cards: list[Opportunity] = field(default_factory=list)

    @property
    def weighted(self) -> Decimal:
        return weighted(self.amount, self.stage.probability)


def _open_in_scope(session: Session, actor: Actor, filters: BoardFilters) -> list[ColumnElement[bool]]:
    """For the sums: the staff in scope as a list, so a 主管's GROUP BY reads only their rows
    through the owner index."""
    return [Opportunity.outcome == Outcome.OPEN, scope.opportunity_listed_clause(session, actor),
            *filter_clauses(session, filters)]


def _open_in_scope_for_cards(session: Session, actor: Actor, filters: BoardFilters) -> list[ColumnElement[bool]]:
    """For a column's first cards: the scope as a per-row check, so the database walks the
    column's index newest first and stops at 50 (the list form makes SQLite gather and sort every
    matching row of the column first)."""
    return [Opportunity.outcome == Outcome.OPEN, scope.clause_for(Opportunity, actor),
            *filter_clauses(session, filters)]


def column_sums(session: Session, actor: Actor, stage_ids: list[int], filters: BoardFilters,
                where: list[ColumnElement[bool]] | None = None) -> dict[int, tuple[int, Decimal]]:
    """{stage id: (count, Σ amount)} over every open opportunity of those stages in scope."""
    where = where if where is not None else _open_in_scope(session, actor, filters)
    rows = session.execute(
        select(Opportunity.stage_id, func.count(Opportunity.id), func.coalesce(func.sum(Opportunity.amount), 0))
        .where(Opportunity.stage_id.in_(stage_ids or [0]), *where)
        .group_by(Opportunity.stage_id))
    return {stage_id: (count, Decimal(total)) for stage_id, count, total in rows}


def column_cards_query(session: Session, actor: Actor, stage_id: int, filters: BoardFilters,
                       limit: int = CARDS_PER_COLUMN, where: list[ColumnElement[bool]] | None = None) -> Any:
    where = where if where is not None else _open_in_scope_for_cards(session, actor, filters)
    return select(Opportunity).where(Opportunity.stage_id == stage_id, *where).order_by(Opportunity.id.desc()).limit(limit)


def board(session: Session, actor: Actor, group: StageGroup, filters: BoardFilters,
          limit: int = CARDS_PER_COLUMN) -> list[Column]:
    """The columns: one GROUP BY for the sums, then one LIMIT query per column that has cards."""
    stages = [s for s in group.stages if s.active]
    sums = column_sums(session, actor, [s.id for s in stages], filters)
    where = _open_in_scope_for_cards(session, actor, filters)
    columns = []
    for stage in stages:
        count, amount = sums.get(stage.id, (0, Decimal("0")))
        cards = []
        if count:
            cards = list(session.scalars(column_cards_query(session, actor, stage.id, filters, limit, where).options(
                joinedload(Opportunity.customer), joinedload(Opportunity.owner))).unique())
        columns.append(Column(stage, count, amount, cards))
    return columns


def owners_to_filter(session: Session, actor: Actor) -> list[User]:
    """The 负责人 filter offers the colleagues in the actor's scope."""
    return list(session.scalars(select(User).where(User.active.is_(True), scope.owner_clause(User.id, actor))
                                .order_by(User.display_name)))


def stale_list(session: Session, actor: Actor, now: datetime, *, owner_id: int | None = None,
               limit: int = 100) -> tuple[int, list[Opportunity]]:
    """停滞的销售机会 in scope (optionally one owner's): how many, and the longest-forgotten first."""
    where = [stale_clause(stale_cutoff(session, now)), scope.clause_for(Opportunity, actor)]
    if owner_id:
        where.append(Opportunity.owner_id == owner_id)
    count = session.scalar(select(func.count(Opportunity.id)).where(*where)) or 0
    rows = list(session.scalars(
        select(Opportunity).where(*where).options(joinedload(Opportunity.customer), joinedload(Opportunity.owner),
                                                  joinedload(Opportunity.stage))
        .order_by(func.coalesce(Opportunity.last_follow_up_at, Opportunity.created_at), Opportunity.id)
        .limit(limit)).unique())
    return count, rows
