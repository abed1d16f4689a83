"""The workbench layout each user chooses: which widgets are hidden and in what order, kept as
a settings row per user ("workbench:<user id>") so no schema change is needed; and the figures
of the pipeline's widgets."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from models.contract import ContractStatus
from models.lead import Lead, LeadStatus
from models.opportunity import Opportunity, Outcome, Stage
from models.payment_plan import PaymentPlan
from rules import finance_drill, settings
from rules.actor import Actor
from rules.finance_drill import plan_outstanding
from rules.links import Days, DrillFilter, ListKind, ListLink
from rules.opportunity_board import stale_clause


def _key(user_id: int) -> str:
    return f"workbench:{user_id}"


def load_layout(session: Session, user_id: int) -> dict[str, list[str]]:
    value = settings.get(session, _key(user_id)) or {}
    return {"order": [str(k) for k in value.get("order", [])], "hidden": [str(k) for k in value.get("hidden", [])]}


def save_layout(session: Session, user_id: int, *, order: Sequence[str], hidden: Sequence[str],
                known: Sequence[str]) -> None:
    """Only widget keys that exist are kept; flushes, the caller commits."""
    allowed = set(known)
    settings.put(session, _key(user_id), {"order": [k for k in order if k in allowed],
                                          "hidden": sorted({k for k in hidden if k in allowed})})


def arrange(keys: Sequence[str], layout: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """(shown keys in the user's order, hidden keys). Widgets the user never placed keep
    their default position after the placed ones."""
    rank: dict[str, Any] = {k: i for i, k in enumerate(layout.get("order", []))}
    ordered = sorted(keys, key=lambda k: (rank.get(k, len(rank) + list(keys).index(k)),))
    hidden = set(layout.get("hidden", []))
    return [k for k in ordered if k not in hidden], [k for k in ordered if k in hidden]


# --- the pipeline's widgets (opp-board): each counts the actor's OWN records -----------------------

def my_open_by_stage(session: Session, actor: Actor) -> list[tuple[Stage, int, Decimal]]:
    """我的销售机会: my open opportunities per stage (count, Σ 金额), in the stages' order; one
    GROUP BY over ix_opportunities_owner_outcome_stage."""
    rows = session.execute(
        select(Opportunity.stage_id, func.count(Opportunity.id), func.coalesce(func.sum(Opportunity.amount), 0))
        .where(Opportunity.owner_id == actor.user_id, Opportunity.outcome == Outcome.OPEN,
               Opportunity.deleted_at.is_(None))
        .group_by(Opportunity.stage_id)).all()
    stages = {s.id: s for s in session.scalars(select(Stage).where(Stage.id.in_([r[0] for r in rows] or [0])))}
    found = [(stages[stage_id], count, Decimal(total)) for stage_id, count, total in rows]
    return sorted(found, key=lambda r: (r[0].group_id, r[0].sort_order, r[0].id))


def my_closing_in_month(session: Session, actor: Actor, first: date, last: date) -> tuple[int, Decimal]:
    """本月预计成交: my open opportunities expected to close between `first` and `last`."""
    count, total = session.execute(
        select(func.count(Opportunity.id), func.coalesce(func.sum(Opportunity.amount), 0))
        .where(Opportunity.owner_id == actor.user_id, Opportunity.outcome == Outcome.OPEN,
               Opportunity.deleted_at.is_(None), Opportunity.expected_close_on.between(first, last))).one()
    return count, Decimal(total)


def my_stale_count(session: Session, actor: Actor, cutoff: datetime) -> int:
    """停滞的销售机会: mine, open, no follow-up since `cutoff` (rules/opportunity_board.stale_clause)."""
    return session.scalar(select(func.count(Opportunity.id)).where(
        Opportunity.owner_id == actor.user_id, Opportunity.deleted_at.is_(None), stale_clause(cutoff))) or 0


def leads_to_follow_clause(actor: Actor, today: date) -> ColumnElement[bool]:
    """待跟进线索: my live leads still being worked whose 下次联系 has come, or that are new and
    nobody has followed up yet."""
    return and_(Lead.owner_id == actor.user_id, Lead.deleted_at.is_(None),
                Lead.status.in_((LeadStatus.NEW, LeadStatus.FOLLOWING)),
                or_(Lead.next_contact_at <= today,
                    and_(Lead.status == LeadStatus.NEW, Lead.last_follow_up_at.is_(None))))


def my_leads_to_follow(session: Session, actor: Actor, today: date) -> int:
    return session.scalar(select(func.count(Lead.id)).where(leads_to_follow_clause(actor, today))) or 0


# --- the finance widgets (fin-reports): the actor's OWN instalments and contracts -----------------
# Each figure is counted with the very link its widget opens (rules/finance_drill.py), so the
# 回款计划 or 合同 list shows as many rows as the figure says.

EXPIRING_DAYS = 30  # 即将到期合同: ending within this many days


def week_days(today: date) -> Days:
    """Monday to Sunday of `today`'s week."""
    monday = today - timedelta(days=today.weekday())
    return Days(monday, monday + timedelta(days=6))


def plans_due_link(actor: Actor, today: date) -> ListLink:
    """本周应回款: my instalments still to be paid that fall due this week."""
    return ListLink.of(ListKind.PAYMENT_PLAN, {DrillFilter.OWNER: actor.user_id, DrillFilter.OUTSTANDING: "1",
                                              DrillFilter.DUE_ON: week_days(today)})


def overdue_plans_link(actor: Actor, today: date) -> ListLink:
    """逾期回款: my instalments due before today and not fully paid."""
    return ListLink.of(ListKind.PAYMENT_PLAN, {DrillFilter.OWNER: actor.user_id, DrillFilter.OUTSTANDING: "1",
                                              DrillFilter.DUE_ON: Days(None, today - timedelta(days=1))})


def expiring_contracts_link(actor: Actor, today: date) -> ListLink:
    """即将到期合同: my contracts 执行中 ending between today and EXPIRING_DAYS from now."""
    return ListLink.of(ListKind.CONTRACT, {DrillFilter.OWNER: actor.user_id,
                                          DrillFilter.STATUS_IN: (ContractStatus.ACTIVE.value,),
                                          DrillFilter.END_ON: Days(today, today + timedelta(days=EXPIRING_DAYS))})


def plans_figure(session: Session, actor: Actor, link: ListLink) -> tuple[int, Decimal]:
    """How many instalments a plan link holds and what is still owed on them."""
    count, owed = session.execute(select(func.count(PaymentPlan.id), func.coalesce(func.sum(plan_outstanding()), 0))
                                  .where(*finance_drill.link_where(actor, link))).one()
    return count, Decimal(owed)
