"""客户池 and 线索池: who may claim from which pool, and every move of a customer (or a lead)
between the pool and a salesperson. Each move is one conditional UPDATE checked by its row
count, so two people acting on the same record at once get exactly one winner on SQLite and
PostgreSQL alike, and each move writes one event (OwnershipEvent, LeadEvent).

One implementation serves both kinds of pool: every function takes the PoolSubject
(rules/pool_subject.py) it moves, customers by default; claim requests (申请/批示) are for
customers only."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.customer import Customer, OwnershipEvent, OwnershipReason, PoolReason
from models.office import NotificationKind
from models.org import Department, User
from models.pool import ClaimQuota, ClaimRequest, Pool, PoolKind, PoolMember, RequestStatus
from rules import notifications, opportunities, settings
from rules.actor import Actor
from rules.errors import (
    AlreadyClaimed, AlreadyDecided, ChangedMeanwhile, ClaimCooldown, ClaimRefused, DailyClaimLimit, InvalidValue,
    OutOfScope, OwnedLimit, PermissionDenied, PoolDisabled,
)
from rules.scope import owner_clause
from rules.links import ListKind, ListLink, RecordLink
from rules.pool_subject import CUSTOMERS, PoolSubject

# The moves that take a record from its owner back to the pool; the re-claim cooldown counts from them.
BACK_TO_POOL = (OwnershipReason.RELEASE, OwnershipReason.RECYCLE, OwnershipReason.RECALL)


@dataclass(frozen=True)
class ClaimRules:
    max_owned: int
    deals_count_as_owned: bool
    max_claims_per_day: int
    cooldown_days: int


def enabled(session: Session) -> bool:
    """是否开启客户池: with the pool off, nothing is claimed, released or recycled."""
    return bool(settings.get(session, "pool_enabled"))


def enabled_for(session: Session, subject: PoolSubject) -> bool:
    """The setting switches the customer pool; the lead pool is always on."""
    return subject.kind is not PoolKind.CUSTOMER or enabled(session)


def _require_enabled(session: Session, subject: PoolSubject = CUSTOMERS) -> None:
    if not enabled_for(session, subject):
        raise PoolDisabled(_l("客户池未开启，请联系管理员"))


def default_pool(session: Session, subject: PoolSubject = CUSTOMERS) -> Pool:
    """The pool of its kind that everyone no other pool names draws from (made on first need)."""
    pool = session.scalar(select(Pool).where(Pool.is_default.is_(True), Pool.kind == subject.kind)
                          .order_by(Pool.id).limit(1))
    if pool is None:
        pool = Pool(name=subject.default_pool_name, kind=subject.kind, is_default=True)
        session.add(pool)
        session.flush()
    return pool


def memberships(session: Session, user_ids: set[int] | list[int],
                subject: PoolSubject = CUSTOMERS) -> dict[int, list[int]]:
    """成员关系: the pools of the subject's kind each user draws from (`_memberships`)."""
    return _memberships(session, user_ids, subject)[0]


def _memberships(session: Session, user_ids: set[int] | list[int],
                 subject: PoolSubject = CUSTOMERS) -> tuple[dict[int, list[int]], Pool | None]:
    """成员关系: the pools each user draws from (公共客户 shows their unowned customers, claim
    limits are each pool's own), in three queries whatever the number of users.

    A user draws from every pool that names them, directly or through their department or any
    department above it; a user may so belong to several pools. Someone no pool names draws
    from the default pool, and only then: adding a user's department to another pool takes
    them out of the default pool unless the default pool names them too. The pool settings page
    shows every user's pools, and saving a pool warns who moved (`moves`). Customer pools and lead
    pools are two separate worlds: each kind has its own memberships and its own default pool."""
    fallback: Pool | None = None  # the default pool, when someone draws from it (returned too)
    wanted = set(user_ids)
    if not wanted:
        return {}, None
    paths = dict(session.execute(select(User.id, Department.path).outerjoin(
        Department, User.department_id == Department.id).where(User.id.in_(wanted))).all())
    # "/2/3/" names the department and every one above it.
    chains = {uid: {int(p) for p in (paths.get(uid) or "").split("/") if p} for uid in wanted}
    departments = set().union(*chains.values())
    members = session.execute(
        select(PoolMember.pool_id, PoolMember.user_id, PoolMember.department_id)
        .join(Pool, Pool.id == PoolMember.pool_id)
        .where(Pool.kind == subject.kind,
               or_(PoolMember.user_id.in_(wanted), PoolMember.department_id.in_(departments)))).all()
    pools: dict[int, list[int]] = {}
    for uid in wanted:
        named = sorted({pool for pool, user, dept in members
                        if user == uid or (dept is not None and dept in chains[uid])})
        if not named and fallback is None:
            fallback = default_pool(session, subject)
        pools[uid] = named or [fallback.id]  # type: ignore[union-attr]
    return pools, fallback


def names(session: Session, pool_ids: list[int] | tuple[int, ...]) -> list[str]:
    """The pools' names, in the order given."""
    found = dict(session.execute(select(Pool.id, Pool.name).where(Pool.id.in_(pool_ids))).all())
    return [found[i] for i in pool_ids if i in found]


def pools_of(session: Session, user_id: int, subject: PoolSubject = CUSTOMERS) -> list[int]:
    """The pools one user draws from (`memberships`)."""
    return memberships(session, [user_id], subject)[user_id]


def home_pool(session: Session, user_id: int, subject: PoolSubject = CUSTOMERS) -> int:
    """Where a user's released, recalled or recycled customers (or leads) go (`home_pools`)."""
    return home_pools(session, [user_id], subject)[user_id]


def home_pool_rows(session: Session, user_ids: set[int] | list[int],
                   subject: PoolSubject = CUSTOMERS) -> dict[int, Pool]:
    """`home_pools` as the pools themselves (a list page's owners: their recycle rules). The
    default pool comes with the memberships; only pools named by a membership cost a query."""
    found, fallback = _memberships(session, user_ids, subject)
    homes = {uid: pools[0] for uid, pools in found.items()}
    named = set(homes.values()) - ({fallback.id} if fallback else set())
    rows = {p.id: p for p in session.scalars(select(Pool).where(Pool.id.in_(named)))} if named else {}
    if fallback is not None:
        rows[fallback.id] = fallback
    return {uid: rows[pool_id] for uid, pool_id in homes.items()}


def home_pools(session: Session, user_ids: set[int] | list[int],
               subject: PoolSubject = CUSTOMERS) -> dict[int, int]:
    """回收去向: a customer leaving its owner goes to the owner's home pool, the first (lowest
    id, so the oldest) of the pools the owner draws from. One pool per owner keeps release,
    recall and the nightly recycle agreeing on a customer's destination and on whose recycle
    rules apply to it, however many pools the owner draws from."""
    return {uid: pools[0] for uid, pools in memberships(session, user_ids, subject).items()}


@dataclass(frozen=True)
class MembershipMove:
    """A user whose pools changed: drawing no longer from `left`, now from `now`; their home
    pool (where their customers go back) was `now`'s first before if `rehomed` is False."""

    user_id: int
    left: tuple[int, ...]
    now: tuple[int, ...]
    rehomed: bool


def moves(before: dict[int, list[int]], after: dict[int, list[int]]) -> list[MembershipMove]:
    """Users who stopped drawing from a pool between two `memberships` snapshots."""
    out = []
    for uid in sorted(before):
        left = tuple(p for p in before[uid] if p not in after.get(uid, []))
        if left:
            now = tuple(after.get(uid, []))
            out.append(MembershipMove(uid, left, now, rehomed=bool(now) and now[0] != before[uid][0]))
    return out


def claim_rules(session: Session, pool: Pool, *, role_id: int) -> ClaimRules:
    override = (pool.role_limits or {}).get(str(role_id), {})
    return ClaimRules(
        max_owned=int(override.get("max_owned", pool.max_owned) or 0),
        deals_count_as_owned=bool(pool.deals_count_as_owned),
        max_claims_per_day=int(override.get("max_claims_per_day", pool.max_claims_per_day) or 0),
        cooldown_days=int(pool.cooldown_days or 0),
    )


def pool_clause(session: Session, actor: Actor, *, now: datetime,
                subject: PoolSubject = CUSTOMERS) -> ColumnElement[bool]:
    """Unowned, live, claimable records of the actor's pools of the subject's kind: the 公共客户
    list (unprotected customers), the 线索池 list (open leads)."""
    model = subject.model
    return and_(model.owner_id.is_(None), subject.live(), model.pool_id.in_(pools_of(session, actor.user_id, subject)),
                subject.claimable(now))


def _event(session: Session, record_id: int, *, from_user: int | None, to_user: int | None, actor: Actor | None,
           reason: OwnershipReason, now: datetime, note: str | None = None,
           subject: PoolSubject = CUSTOMERS) -> OwnershipEvent:
    event = subject.event(**{subject.fk: record_id}, from_user_id=from_user, to_user_id=to_user,
                          actor_id=actor.user_id if actor else None, reason=reason, note=note, at=now)
    session.add(event)
    session.flush()
    if subject is CUSTOMERS:  # a customer's open opportunities follow it to its new owner
        opportunities.follow_customer_owner(session, record_id, from_user=from_user, to_user=to_user, actor=actor,
                                            now=now)
    return event


def _take_quota(session: Session, user_id: int, *, today: date, limit: int,
                subject: PoolSubject = CUSTOMERS) -> None:
    """Count one claim against today's limit of the subject's kind in this transaction (claiming
    leads never eats the customer quota, nor the reverse). The guarded UPDATE also serialises a
    user's simultaneous claims, so the limits below can never be overrun."""
    mine = and_(ClaimQuota.user_id == user_id, ClaimQuota.kind == subject.kind, ClaimQuota.day == today)
    for _attempt in range(5):
        bumped = session.execute(
            update(ClaimQuota).where(mine, or_(limit <= 0, ClaimQuota.claims < limit))
            .values(claims=ClaimQuota.claims + 1).execution_options(synchronize_session=False)).rowcount
        if bumped:
            return
        current = session.scalar(select(ClaimQuota.claims).where(mine))
        if current is None:
            try:
                with session.begin_nested():
                    session.execute(insert(ClaimQuota).values(user_id=user_id, kind=subject.kind, day=today,
                                                              claims=1))
                return
            except IntegrityError:
                continue  # someone created today's row at the same moment: count on it
        if 0 < limit <= current:
            raise DailyClaimLimit(subject.say["daily_limit"](current, limit))
        # the row appeared or changed after our UPDATE looked: look again
    raise ChangedMeanwhile(_l("系统繁忙，请稍后重试"))


def _owned_count(session: Session, user_id: int, rules: ClaimRules, subject: PoolSubject = CUSTOMERS) -> int:
    model = subject.model
    return session.scalar(select(func.count(model.id)).where(
        model.owner_id == user_id, subject.live(), subject.counted(rules.deals_count_as_owned))) or 0


def _check_limits(session: Session, record_ids: list[int], pool: Pool, *, actor: Actor, role_id: int,
                  now: datetime, today: date, subject: PoolSubject = CUSTOMERS) -> None:
    rules = claim_rules(session, pool, role_id=role_id)
    for _ in record_ids:
        _take_quota(session, actor.user_id, today=today, limit=rules.max_claims_per_day, subject=subject)
    if rules.max_owned > 0:
        owned = _owned_count(session, actor.user_id, rules, subject)
        if owned + len(record_ids) > rules.max_owned:
            raise OwnedLimit(subject.say["owned_limit"](owned, rules.max_owned))
    if rules.cooldown_days > 0:
        since = now - timedelta(days=rules.cooldown_days)
        event = subject.event
        recent = session.scalar(select(subject.event_fk).where(
            subject.event_fk.in_(record_ids), event.from_user_id == actor.user_id,
            event.reason.in_(BACK_TO_POOL), event.at >= since).limit(1))
        if recent is not None:
            raise ClaimCooldown(subject.say["cooldown"](rules.cooldown_days))


def claim(session: Session, record_id: int, *, actor: Actor, role_id: int, now: datetime,
          today: date, subject: PoolSubject = CUSTOMERS) -> OwnershipEvent:
    """领用 one pool customer (or lead)."""
    _require_enabled(session, subject)
    if not actor.can(subject.claim_permission):
        raise PermissionDenied(subject.say["no_claim"]())
    model = subject.model
    record = session.scalar(select(model).where(model.id == record_id, subject.live()))
    if record is None or record.pool_id not in pools_of(session, actor.user_id, subject):
        raise OutOfScope(_l("记录不存在"))
    _check_limits(session, [record_id], session.get(Pool, record.pool_id), actor=actor, role_id=role_id,
                  now=now, today=today, subject=subject)
    won = session.execute(
        update(model)
        .where(model.id == record_id, model.owner_id.is_(None), subject.live(), subject.claimable(now))
        .values(owner_id=actor.user_id, department_id=actor.department_id, claimed_at=now, pool_reason=None)
        .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise AlreadyClaimed(subject.say["taken"](record.name))
    session.refresh(record)
    return _event(session, record_id, from_user=None, to_user=actor.user_id, actor=actor,
                  reason=OwnershipReason.CLAIM, now=now, subject=subject)


def claim_random(session: Session, count: int, *, actor: Actor, role_id: int, now: datetime, today: date,
                 pool_id: int | None = None, seed: int | None = None,
                 subject: PoolSubject = CUSTOMERS) -> list[OwnershipEvent]:
    """批量随机领用: up to `count` records picked at random from the actor's pool; one someone
    else takes meanwhile is skipped, not an error."""
    if count <= 0:
        raise InvalidValue(_l("请填写要领用的数量"))
    pools = pools_of(session, actor.user_id, subject)
    if pool_id is not None and pool_id not in pools:
        raise OutOfScope(_l("记录不存在"))
    model = subject.model
    candidates = list(session.scalars(
        select(model.id).where(pool_clause(session, actor, now=now, subject=subject),
                               model.pool_id == (pool_id or pools[0])).limit(max(count * 5, 50))))
    random.Random(seed).shuffle(candidates)
    events = []
    for record_id in candidates:
        if len(events) == count:
            break
        try:
            with session.begin_nested():
                events.append(claim(session, record_id, actor=actor, role_id=role_id, now=now, today=today,
                                    subject=subject))
        except AlreadyClaimed:
            continue  # taken meanwhile: the next candidate
        except ClaimRefused:  # a limit: keep what was taken, or say why nothing was
            if not events:
                raise
            break
    return events


def back_to_pool_values(subject: PoolSubject, pool_id: int, reason: PoolReason, now: datetime) -> dict:
    """The columns of a record going back to pool `pool_id`."""
    return dict(owner_id=None, department_id=None, pool_id=pool_id, pool_reason=reason, pool_entered_at=now,
                claimed_at=None, **subject.cleared)


def release(session: Session, record_id: int, *, actor: Actor, reason: str, now: datetime,
            subject: PoolSubject = CUSTOMERS) -> OwnershipEvent:
    """放弃: give one's own customer (or lead) back to one's pool, saying why."""
    _require_enabled(session, subject)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidValue(_l("请填写放弃原因"))
    pool_id = home_pool(session, actor.user_id, subject)
    model = subject.model
    moved = session.execute(
        update(model).where(model.id == record_id, model.owner_id == actor.user_id, subject.live())
        .values(**back_to_pool_values(subject, pool_id, PoolReason.RELEASED, now))
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise OutOfScope(_l("记录不存在"))
    return _event(session, record_id, from_user=actor.user_id, to_user=None, actor=actor,
                  reason=OwnershipReason.RELEASE, now=now, note=reason[:255], subject=subject)


def assignable_clause(session: Session, actor: Actor, subject: PoolSubject = CUSTOMERS) -> ColumnElement[bool]:
    """The records `actor` may assign: their scope's and their pools' (rules/scope.py)."""
    return and_(subject.live(), subject.assignable(actor, pools_of(session, actor.user_id, subject)))


def assign(session: Session, record_ids: list[int], *, to_user: User, actor: Actor, now: datetime,
           subject: PoolSubject = CUSTOMERS) -> int:
    """指派: a manager gives customers (or leads) of their own scope or their pools to a colleague
    in scope."""
    if not actor.can(subject.assign_permission):
        raise PermissionDenied(subject.say["no_assign"]())
    if not to_user.active:
        raise InvalidValue(subject.say["inactive"](to_user.display_name))
    in_scope = session.scalar(select(User.id).where(User.id == to_user.id, owner_clause(User.id, actor)))
    if in_scope is None:
        raise PermissionDenied(_l("只能指派给您管理范围内的同事"))
    model = subject.model
    movable = assignable_clause(session, actor, subject)
    rows = list(session.execute(select(model.id, model.owner_id).where(model.id.in_(record_ids), movable)))
    if len(rows) != len(set(record_ids)):
        raise OutOfScope(_l("记录不存在"))
    for record_id, previous in rows:
        moved = session.execute(
            update(model).where(model.id == record_id, _same_owner(previous, subject), subject.live())
            .values(owner_id=to_user.id, department_id=to_user.department_id, claimed_at=now, pool_reason=None)
            .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise ChangedMeanwhile(subject.say["changed"]())
        _event(session, record_id, from_user=previous, to_user=to_user.id, actor=actor,
               reason=OwnershipReason.ASSIGN, now=now, subject=subject)
    if rows and to_user.id != actor.user_id:
        notifications.notify(session, kind=NotificationKind.CUSTOMER, user_id=to_user.id, now=now, link=ListLink(subject.owned_list),
                             title=subject.say["assigned"](actor.display_name, len(rows)))
    return len(rows)


def _same_owner(owner_id: int | None, subject: PoolSubject = CUSTOMERS) -> ColumnElement[bool]:
    column = subject.model.owner_id
    return column.is_(None) if owner_id is None else column == owner_id


def recall(session: Session, record_ids: list[int], *, actor: Actor, now: datetime, note: str | None = None,
           subject: PoolSubject = CUSTOMERS) -> int:
    """收回: a manager takes customers (or leads) in scope back to their owners' pool."""
    if not actor.can(subject.recall_permission):
        raise PermissionDenied(subject.say["no_recall"]())
    model = subject.model
    rows = list(session.execute(select(model.id, model.owner_id).where(
        model.id.in_(record_ids), subject.live(), model.owner_id.is_not(None),
        owner_clause(model.owner_id, actor))))
    if len(rows) != len(set(record_ids)):
        raise OutOfScope(_l("记录不存在"))
    homes = home_pools(session, {owner for _id, owner in rows}, subject)
    for record_id, owner in rows:
        moved = session.execute(
            update(model).where(model.id == record_id, model.owner_id == owner, subject.live())
            .values(**back_to_pool_values(subject, homes[owner], PoolReason.RECALLED, now))
            .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise ChangedMeanwhile(subject.say["changed"]())
        _event(session, record_id, from_user=owner, to_user=None, actor=actor, reason=OwnershipReason.RECALL,
               now=now, note=note, subject=subject)
    return len(rows)


def request_claim(session: Session, customer_id: int, *, actor: Actor, reason: str, now: datetime) -> ClaimRequest:
    """申请: ask for a pool customer (or a colleague's customer one can see)."""
    _require_enabled(session)
    customer = session.get(Customer, customer_id)
    if customer is None or customer.deleted_at is not None:
        raise OutOfScope(_l("记录不存在"))
    if customer.owner_id == actor.user_id:
        raise InvalidValue(_l("这已经是您的客户"))
    pending = session.scalar(select(ClaimRequest.id).where(
        ClaimRequest.customer_id == customer_id, ClaimRequest.applicant_id == actor.user_id,
        ClaimRequest.status == RequestStatus.PENDING))
    if pending is not None:
        raise InvalidValue(_l("您已申请过这个客户，请等待批示"))
    request = ClaimRequest(customer_id=customer_id, applicant_id=actor.user_id, owner_id=customer.owner_id,
                           reason=(reason or "").strip()[:255] or None, created_at=now)
    session.add(request)
    session.flush()
    return request


def requests_for_approver(actor: Actor) -> ColumnElement[bool]:
    """Pending requests whose applicant is inside the approver's scope."""
    return and_(ClaimRequest.status == RequestStatus.PENDING, owner_clause(ClaimRequest.applicant_id, actor))


def decide(session: Session, request_id: int, *, approve: bool, actor: Actor, now: datetime,
           note: str | None = None) -> ClaimRequest:
    """批示: approve (the customer moves to the applicant) or reject; the applicant is told."""
    if not actor.can("pool.approve"):
        raise PermissionDenied(_l("您没有批示领用申请的权限"))
    request = session.scalar(select(ClaimRequest).where(ClaimRequest.id == request_id,
                                                        owner_clause(ClaimRequest.applicant_id, actor)))
    if request is None:
        raise OutOfScope(_l("记录不存在"))
    if request.status != RequestStatus.PENDING:
        raise AlreadyDecided(_l("该申请已被他人批示"))
    status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    decided = session.execute(
        update(ClaimRequest).where(ClaimRequest.id == request_id, ClaimRequest.status == RequestStatus.PENDING)
        .values(status=status, decided_by_id=actor.user_id, decided_at=now, decision_note=note)
        .execution_options(synchronize_session=False)).rowcount
    if decided != 1:
        raise AlreadyDecided(_l("该申请已被他人批示"))
    customer = session.get(Customer, request.customer_id)
    if approve:
        applicant = session.get(User, request.applicant_id)
        moved = session.execute(
            update(Customer).where(Customer.id == customer.id, _same_owner(request.owner_id),
                                   Customer.deleted_at.is_(None))
            .values(owner_id=applicant.id, department_id=applicant.department_id, claimed_at=now, pool_reason=None)
            .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise ChangedMeanwhile(_l("客户已被他人领用或改动，无法批准"))
        _event(session, customer.id, from_user=request.owner_id, to_user=applicant.id, actor=actor,
               reason=OwnershipReason.APPROVED, now=now, note=note)
    title = (_l("您对客户「%(c)s」的领用申请已批准", c=customer.name) if approve
             else _l("您对客户「%(c)s」的领用申请未获批准", c=customer.name))
    notifications.notify(session, kind=NotificationKind.CUSTOMER, user_id=request.applicant_id, now=now, title=title, body=note,
                         link=RecordLink(ListKind.CUSTOMER, customer.id) if approve else ListLink(ListKind.POOL))
    session.refresh(request)
    return request

