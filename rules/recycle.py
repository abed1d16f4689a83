"""回收: owned customers go back to the pool when their owner lets them go cold.

Three rules, each switchable per pool, each with N days that may differ per value level:
(a) no_contact: claimed N days ago and no follow-up and no business since the claim
    (领用未联系收回);
(b) idle: no follow-up and no business for N days, the clock starting at the latest of claim,
    last follow-up and last business activity (间隔未联系收回);
(c) no_deal: claimed N days ago, still no deal, and no business for N days (跟进未成功收回).
"Business" is rules/activity.py: an order placed, approved, shipped or signed, a receipt, and
whatever later domains record there. Protected customers are exempt, so are customers with
business in progress (an open order: rules.activity.open_business_clause), and (optionally)
customers with a deal.

One clause decides, three readers use it: the nightly job (`recycle_due`), the 将被回收 list
(`soon_clause`) and the 还剩 N 天 countdown (`deadline`, the same rules as date arithmetic, fed
the same exemption through rules.activity.busy_ids), so what the list warns about is what
the job then moves, under the rule the countdown names.

Lead pools (PoolKind.LEAD) keep the same settings and the same clauses, written once against a
PoolSubject (rules/pool_subject.py): a lead has no value level, no business and no deal, so only
(a) and (b) apply to it, counted from its claim and its last follow-up; a converted or invalid
lead is never recycled (the subject's live rows are open leads only).

Everything is set-based SQL: per pool one INSERT ... SELECT of the events (each naming its
rule) and one UPDATE of the customers, then one notification per former owner. Running it
twice moves nothing the second time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, case, false, func, insert, literal, or_, select, true, update
from sqlalchemy.orm import Session

from models.customer import Customer, OwnershipReason, PoolReason, RecycleRule
from models.office import NotificationKind
from models.org import User
from models.pool import Pool, PoolKind
from rules import activity, notifications
from rules.pool import back_to_pool_values, enabled_for, home_pools
from rules.pool_subject import CUSTOMERS, PoolSubject
from rules.links import ListKind, ListLink

RULES = tuple(RecycleRule)
RULE_FIELDS = {RecycleRule.NO_CONTACT: "no_contact_days", RecycleRule.IDLE: "idle_days",
               RecycleRule.NO_DEAL: "no_deal_days"}
# Shown, never stored: an event keeps the rule's key (OwnershipEvent.recycle_rule).
RULE_LABELS = {RecycleRule.NO_CONTACT: _l("领用后未联系"), RecycleRule.IDLE: _l("长期未联系"),
               RecycleRule.NO_DEAL: _l("未成交")}


@dataclass(frozen=True)
class RecycleRun:
    moved: dict[RecycleRule, int]
    owners_notified: int

    @property
    def total(self) -> int:
        return sum(self.moved.values())


def _days(pool: Pool, rule: RecycleRule) -> dict[int | None, int]:
    """Days for a rule: {value level id: days}, with None for customers of any other level."""
    field = RULE_FIELDS[rule]
    days: dict[int | None, int] = {}
    base = getattr(pool, field)
    if base:
        days[None] = int(base)
    for level, overrides in (pool.level_days or {}).items():
        if overrides.get(field):
            days[int(level)] = int(overrides[field])
    return days


def _older_than(column, days: dict[int | None, int], now: datetime,
                level=Customer.value_level_id) -> ColumnElement[bool]:
    """`column` is older than the rule's N days for the record's value level (`level`; None: the
    subject has no levels and the pool's own days apply)."""
    specific = [k for k in days if k is not None] if level is not None else []
    parts = [and_(level == lvl, column < now - timedelta(days=days[lvl])) for lvl in specific]
    if None in days:
        # Customers of any level without days of its own (every customer when no level has any).
        other = true() if not specific else or_(level.is_(None), level.not_in(specific))
        parts.append(and_(other, column < now - timedelta(days=days[None])))
    return or_(*parts) if parts else false()


def _none_since(column, since) -> ColumnElement[bool]:
    return or_(column.is_(None), column < since)


def _quiet_for(column, days: dict[int | None, int], now: datetime, level=Customer.value_level_id) -> ColumnElement[bool]:
    return or_(column.is_(None), _older_than(column, days, now, level))


def rule_clause(pool: Pool, rule: RecycleRule, now: datetime, subject: PoolSubject = CUSTOMERS) -> ColumnElement[bool]:
    days = _days(pool, rule)
    if not days:
        return false()
    model, level, active = subject.model, subject.level_column, subject.activity_column
    claimed_long_ago = _older_than(model.claimed_at, days, now, level)
    # A subject without business (leads) has only its follow-up clock.
    business = [] if active is None else [active]
    if rule == RecycleRule.NO_CONTACT:
        return and_(claimed_long_ago, *(_none_since(c, model.claimed_at) for c in [model.last_follow_up_at, *business]))
    if rule == RecycleRule.IDLE:
        return and_(claimed_long_ago, *(_quiet_for(c, days, now, level) for c in [model.last_follow_up_at, *business]))
    if subject.deal_column is None:
        return false()
    return and_(claimed_long_ago, subject.deal_column.is_(False), *(_quiet_for(c, days, now, level) for c in business))


def _customer_exemptions(pool: Pool, now: datetime) -> list[ColumnElement[bool]]:
    exempt = [or_(Customer.protected_until.is_(None), Customer.protected_until < now),
              ~activity.open_business_clause()]
    if pool.exempt_deals:
        exempt.append(Customer.has_deal.is_(False))
    return exempt


# What keeps an owned record from being recycled whatever its clocks say, besides not being live.
_EXEMPTIONS = {PoolKind.CUSTOMER: _customer_exemptions, PoolKind.LEAD: lambda pool, now: []}


def _candidates(pool: Pool, owner_ids: list[int], now: datetime, subject: PoolSubject = CUSTOMERS) -> ColumnElement[bool]:
    model = subject.model
    return and_(model.owner_id.in_(owner_ids), subject.live(), model.claimed_at.is_not(None),
                *_EXEMPTIONS[subject.kind](pool, now))


def _owners_by_pool(session: Session, subject: PoolSubject = CUSTOMERS) -> dict[int, list[int]]:
    owners: dict[int, list[int]] = {}
    for user_id, pool_id in sorted(home_pools(session, set(session.scalars(select(User.id))), subject).items()):
        owners.setdefault(pool_id, []).append(user_id)
    return owners


def due_clause(session: Session, now: datetime, subject: PoolSubject = CUSTOMERS) -> ColumnElement[bool]:
    """Every owned customer (or lead) that tonight's run would move, across pools."""
    parts = []
    for pool_id, owner_ids in _owners_by_pool(session, subject).items():
        pool = session.get(Pool, pool_id)
        if pool is None or not pool.recycle_enabled:
            continue
        rules = or_(*(rule_clause(pool, rule, now, subject) for rule in RULES))
        parts.append(and_(_candidates(pool, owner_ids, now, subject), rules))
    return or_(*parts) if parts else false()


def preview(session: Session, *, now: datetime, subject: PoolSubject = CUSTOMERS) -> dict[RecycleRule, int]:
    """How many customers (or leads) each rule would move now (one counts under its first rule)."""
    return recycle_due(session, now=now, dry_run=True, subject=subject).moved


def _first_rule(pool: Pool, now: datetime, subject: PoolSubject = CUSTOMERS) -> tuple[ColumnElement[bool], Any]:
    """Whether any rule applies, and the key of the first one that does."""
    clauses = {rule: rule_clause(pool, rule, now, subject) for rule in RULES}
    which = case(*((clauses[rule], literal(rule.value)) for rule in RULES), else_=literal(None))
    return or_(*clauses.values()), which


def recycle_due(session: Session, *, now: datetime, dry_run: bool = False,
                subject: PoolSubject = CUSTOMERS) -> RecycleRun:
    """Per pool, one INSERT ... SELECT logs the moves (with the rule that caused each) and one
    UPDATE makes them: two passes over the candidates whatever the number of rules."""
    moved = {rule: 0 for rule in RULES}
    if not enabled_for(session, subject):
        return RecycleRun(moved=moved, owners_notified=0)
    event, model = subject.event, subject.model
    # This run's events are the ones after this id (a primary-key range, not a scan of the log).
    before = session.scalar(select(func.max(event.id))) or 0
    for pool_id, owner_ids in _owners_by_pool(session, subject).items():
        pool = session.get(Pool, pool_id)
        if pool is None or not pool.recycle_enabled:
            continue
        due, which = _first_rule(pool, now, subject)
        clause = and_(_candidates(pool, owner_ids, now, subject), due)
        if dry_run:
            counted = session.execute(select(which, func.count(model.id)).where(clause).group_by(which))
            for rule, count in counted:
                moved[RecycleRule(rule)] += count
        else:
            _move(session, clause, which, pool, now, subject)
    if dry_run:
        return RecycleRun(moved=moved, owners_notified=0)
    counts = session.execute(
        select(event.from_user_id, event.recycle_rule, func.count(event.id))
        .where(event.id > before, event.reason == OwnershipReason.RECYCLE)
        .group_by(event.from_user_id, event.recycle_rule)).all()
    per_owner: dict[int, int] = {}
    for owner_id, rule, count in counts:
        moved[RecycleRule(rule)] += count
        per_owner[owner_id] = per_owner.get(owner_id, 0) + count
    _notify_owners(session, per_owner, now, subject)
    return RecycleRun(moved=moved, owners_notified=len(per_owner))


def _move(session: Session, clause: ColumnElement[bool], which: Any, pool: Pool, now: datetime,
          subject: PoolSubject = CUSTOMERS) -> int:
    """Log the moves, then make them: two statements for all of the pool's rules together."""
    event, model = subject.event, subject.model
    session.execute(insert(event).from_select(
        [subject.fk, "from_user_id", "to_user_id", "actor_id", "reason", "recycle_rule", "at"],
        select(model.id, model.owner_id, literal(None), literal(None), literal(OwnershipReason.RECYCLE.value),
               which, literal(now, event.at.type)).where(clause)))
    return session.execute(
        update(model).where(clause).values(**back_to_pool_values(subject, pool.id, PoolReason.RECYCLED, now))
        .execution_options(synchronize_session=False)).rowcount


def _notify_owners(session: Session, per_owner: dict[int, int], now: datetime,
                   subject: PoolSubject = CUSTOMERS) -> None:
    """One summary per former owner of this run's moves."""
    key = "recycle" if subject is CUSTOMERS else f"recycle-{subject.kind}"
    for owner_id, count in per_owner.items():
        notifications.notify(session, kind=NotificationKind.RECYCLE_WARNING, user_id=owner_id, now=now, link=ListLink(subject.recycled_list),
                             title=subject.say["recycled"](count), dedupe_key=f"{key}:{now.isoformat()}")


@dataclass(frozen=True)
class Deadline:
    at: datetime
    rule: RecycleRule

    def days_left(self, now: datetime) -> int:
        return max(0, (self.at - now).days)


def deadline(customer: Customer, pool: Pool | None, *, busy: bool = False) -> Deadline | None:
    """When a customer would be recycled if nothing happens, and under which rule (None: never).
    `busy`: it has business in progress (rules.activity.busy_ids), which exempts it. The same
    rules as `rule_clause`, as dates: a test holds the two together."""
    if (pool is None or not pool.recycle_enabled or customer.claimed_at is None or customer.owner_id is None
            or busy):
        return None
    if pool.exempt_deals and customer.has_deal:
        return None
    claimed, followed, active = customer.claimed_at, customer.last_follow_up_at, customer.last_activity_at
    dates: list[Deadline] = []
    for rule in RULES:
        days = _days(pool, rule)
        n = days.get(customer.value_level_id, days.get(None))
        if not n:
            continue
        if rule == RecycleRule.NO_CONTACT:
            if (followed is None or followed < claimed) and (active is None or active < claimed):
                dates.append(Deadline(claimed + timedelta(days=n), rule))
        elif rule == RecycleRule.IDLE:
            dates.append(Deadline(max(claimed, followed or claimed, active or claimed) + timedelta(days=n), rule))
        elif not customer.has_deal:
            dates.append(Deadline(max(claimed, active or claimed) + timedelta(days=n), rule))
    if customer.protected_until:
        dates = [Deadline(max(d.at, customer.protected_until), d.rule) for d in dates]
    # The earliest date; on a tie the rule the job names first (RULES order, as _first_rule).
    return min(dates, key=lambda d: (d.at, RULES.index(d.rule))) if dates else None


def days_left(customer: Customer, pool: Pool | None, now: datetime, *, busy: bool = False) -> int | None:
    due = deadline(customer, pool, busy=busy)
    return None if due is None else due.days_left(now)


def soon_clause(session: Session, now: datetime, *, within_days: int | None = None) -> ColumnElement[bool]:
    """Owned customers that will be recycled within their pool's warning days (将被回收)."""
    parts = []
    for pool_id, owner_ids in _owners_by_pool(session).items():
        pool = session.get(Pool, pool_id)
        if pool is None or not pool.recycle_enabled:
            continue
        ahead = now + timedelta(days=within_days if within_days is not None else pool.warn_days)
        rules = or_(*(rule_clause(pool, rule, ahead) for rule in RULES))
        parts.append(and_(_candidates(pool, owner_ids, ahead), rules))
    return or_(*parts) if parts else false()


def warn_owners(session: Session, *, now: datetime, today) -> int:
    """One reminder a day per owner with customers about to be recycled."""
    counts = session.execute(select(Customer.owner_id, func.count(Customer.id))
                             .where(soon_clause(session, now)).group_by(Customer.owner_id)).all()
    for owner_id, count in counts:
        notifications.notify(session, kind=NotificationKind.RECYCLE_WARNING, user_id=owner_id, now=now, link=ListLink(ListKind.SOON_RECYCLED),
                             title=_l("%(n)d 位客户即将被回收，请尽快跟进", n=count),
                             dedupe_key=f"recycle-warn:{today.isoformat()}")
    return len(counts)
