"""客户池: who may claim from which pool, and every move of a customer between the pool and
a salesperson. Each move is one conditional UPDATE checked by its row count, so two people
acting on the same customer at once get exactly one winner on SQLite and PostgreSQL alike,
and each move writes one OwnershipEvent."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.customer import Customer, OwnershipEvent, OwnershipReason, PoolReason
from models.org import Department, User
from models.pool import ClaimQuota, ClaimRequest, Pool, PoolMember, RequestStatus
from rules import notifications, opportunities, settings
from rules.actor import Actor
from rules.errors import (
    AlreadyClaimed, AlreadyDecided, ChangedMeanwhile, ClaimCooldown, ClaimRefused, DailyClaimLimit, InvalidValue,
    OutOfScope, OwnedLimit, PermissionDenied, PoolDisabled,
)
from rules.scope import customer_assign_clause, owner_clause
from rules.links import ListKind, ListLink, RecordLink

# The moves that take a customer from its owner back to the pool; the re-claim cooldown counts from them.
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


def _require_enabled(session: Session) -> None:
    if not enabled(session):
        raise PoolDisabled(_l("客户池未开启，请联系管理员"))


def default_pool(session: Session) -> Pool:
    pool = session.scalar(select(Pool).where(Pool.is_default.is_(True)).order_by(Pool.id).limit(1))
    if pool is None:
        pool = Pool(name="公共客户池", is_default=True)
        session.add(pool)
        session.flush()
    return pool


def memberships(session: Session, user_ids: set[int] | list[int]) -> dict[int, list[int]]:
    """成员关系: the pools each user draws from (`_memberships`)."""
    return _memberships(session, user_ids)[0]


def _memberships(session: Session, user_ids: set[int] | list[int]) -> tuple[dict[int, list[int]], Pool | None]:
    """成员关系: the pools each user draws from (公共客户 shows their unowned customers, claim
    limits are each pool's own), in three queries whatever the number of users.

    A user draws from every pool that names them, directly or through their department or any
    department above it; a user may so belong to several pools. Someone no pool names draws
    from the default pool, and only then: adding a user's department to another pool takes
    them out of the default pool unless the default pool names them too. The pool settings page
    shows every user's pools, and saving a pool warns who moved (`moves`)."""
    fallback: Pool | None = None  # the default pool, when someone draws from it (returned too)
    wanted = set(user_ids)
    if not wanted:
        return {}, None
    paths = dict(session.execute(select(User.id, Department.path).outerjoin(
        Department, User.department_id == Department.id).where(User.id.in_(wanted))).all())
    # "/2/3/" names the department and every one above it.
    chains = {uid: {int(p) for p in (paths.get(uid) or "").split("/") if p} for uid in wanted}
    departments = set().union(*chains.values())
    members = session.execute(select(PoolMember.pool_id, PoolMember.user_id, PoolMember.department_id).where(
        or_(PoolMember.user_id.in_(wanted), PoolMember.department_id.in_(departments)))).all()
    pools: dict[int, list[int]] = {}
    for uid in wanted:
        named = sorted({pool for pool, user, dept in members
                        if user == uid or (dept is not None and dept in chains[uid])})
        if not named and fallback is None:
            fallback = default_pool(session)
        pools[uid] = named or [fallback.id]  # type: ignore[union-attr]
    return pools, fallback


def names(session: Session, pool_ids: list[int] | tuple[int, ...]) -> list[str]:
    """The pools' names, in the order given."""
    found = dict(session.execute(select(Pool.id, Pool.name).where(Pool.id.in_(pool_ids))).all())
    return [found[i] for i in pool_ids if i in found]


def pools_of(session: Session, user_id: int) -> list[int]:
    """The pools one user draws from (`memberships`)."""
    return memberships(session, [user_id])[user_id]


def home_pool(session: Session, user_id: int) -> int:
    """Where a user's released, recalled or recycled customers go (`home_pools`)."""
    return home_pools(session, [user_id])[user_id]


def home_pool_rows(session: Session, user_ids: set[int] | list[int]) -> dict[int, Pool]:
    """`home_pools` as the pools themselves (a list page's owners: their recycle rules). The
    default pool comes with the memberships; only pools named by a membership cost a query."""
    found, fallback = _memberships(session, user_ids)
    homes = {uid: pools[0] for uid, pools in found.items()}
    named = set(homes.values()) - ({fallback.id} if fallback else set())
    rows = {p.id: p for p in session.scalars(select(Pool).where(Pool.id.in_(named)))} if named else {}
    if fallback is not None:
        rows[fallback.id] = fallback
    return {uid: rows[pool_id] for uid, pool_id in homes.items()}


def home_pools(session: Session, user_ids: set[int] | list[int]) -> dict[int, int]:
    """回收去向: a customer leaving its owner goes to the owner's home pool, the first (lowest
    id, so the oldest) of the pools the owner draws from. One pool per owner keeps release,
    recall and the nightly recycle agreeing on a customer's destination and on whose recycle
    rules apply to it, however many pools the owner draws from."""
    return {uid: pools[0] for uid, pools in memberships(session, user_ids).items()}


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


def pool_clause(session: Session, actor: Actor, *, now: datetime) -> ColumnElement[bool]:
    """Unowned, live, unprotected customers of the actor's pools: the 公共客户 list."""
    return and_(Customer.owner_id.is_(None), Customer.deleted_at.is_(None),
                Customer.pool_id.in_(pools_of(session, actor.user_id)),
                or_(Customer.protected_until.is_(None), Customer.protected_until < now))


def _event(session: Session, customer_id: int, *, from_user: int | None, to_user: int | None, actor: Actor | None,
           reason: OwnershipReason, now: datetime, note: str | None = None) -> OwnershipEvent:
    event = OwnershipEvent(customer_id=customer_id, from_user_id=from_user, to_user_id=to_user,
                           actor_id=actor.user_id if actor else None, reason=reason, note=note, at=now)
    session.add(event)
    session.flush()
    opportunities.follow_customer_owner(session, customer_id, from_user=from_user, to_user=to_user, actor=actor, now=now)
    return event


def _take_quota(session: Session, user_id: int, *, today: date, limit: int) -> None:
    """Count one claim against today's limit in this transaction. The guarded UPDATE also
    serialises a user's simultaneous claims, so the limits below can never be overrun."""
    for _attempt in range(5):
        bumped = session.execute(
            update(ClaimQuota).where(ClaimQuota.user_id == user_id, ClaimQuota.day == today,
                                     or_(limit <= 0, ClaimQuota.claims < limit))
            .values(claims=ClaimQuota.claims + 1).execution_options(synchronize_session=False)).rowcount
        if bumped:
            return
        current = session.scalar(select(ClaimQuota.claims).where(ClaimQuota.user_id == user_id,
                                                                 ClaimQuota.day == today))
        if current is None:
            try:
                with session.begin_nested():
                    session.execute(insert(ClaimQuota).values(user_id=user_id, day=today, claims=1))
                return
            except IntegrityError:
                continue  # someone created today's row at the same moment: count on it
        if 0 < limit <= current:
            raise DailyClaimLimit(_l("已达到每日领用上限：今天已领用 %(n)d 个，上限 %(m)d 个", n=current, m=limit))
        # the row appeared or changed after our UPDATE looked: look again
    raise ChangedMeanwhile(_l("系统繁忙，请稍后重试"))


def _owned_count(session: Session, user_id: int, rules: ClaimRules) -> int:
    stmt = select(func.count(Customer.id)).where(Customer.owner_id == user_id, Customer.deleted_at.is_(None))
    if not rules.deals_count_as_owned:
        stmt = stmt.where(Customer.has_deal.is_(False))
    return session.scalar(stmt) or 0


def _check_limits(session: Session, customer_ids: list[int], pool: Pool, *, actor: Actor, role_id: int,
                  now: datetime, today: date) -> None:
    rules = claim_rules(session, pool, role_id=role_id)
    for _ in customer_ids:
        _take_quota(session, actor.user_id, today=today, limit=rules.max_claims_per_day)
    if rules.max_owned > 0:
        owned = _owned_count(session, actor.user_id, rules)
        if owned + len(customer_ids) > rules.max_owned:
            raise OwnedLimit(_l("已达到客户拥有上限：您已有 %(n)d 个客户，上限 %(m)d 个", n=owned, m=rules.max_owned))
    if rules.cooldown_days > 0:
        since = now - timedelta(days=rules.cooldown_days)
        recent = session.scalar(select(OwnershipEvent.customer_id).where(
            OwnershipEvent.customer_id.in_(customer_ids), OwnershipEvent.from_user_id == actor.user_id,
            OwnershipEvent.reason.in_(BACK_TO_POOL), OwnershipEvent.at >= since).limit(1))
        if recent is not None:
            raise ClaimCooldown(_l("放弃或被回收的客户需 %(d)d 天后才能再次领用", d=rules.cooldown_days))


def claim(session: Session, customer_id: int, *, actor: Actor, role_id: int, now: datetime,
          today: date) -> OwnershipEvent:
    """领用 one pool customer."""
    _require_enabled(session)
    if not actor.can("pool.claim"):
        raise PermissionDenied(_l("您没有领用客户的权限"))
    customer = session.get(Customer, customer_id)
    pools = pools_of(session, actor.user_id)
    if customer is None or customer.deleted_at is not None or customer.pool_id not in pools:
        raise OutOfScope(_l("记录不存在"))
    _check_limits(session, [customer_id], session.get(Pool, customer.pool_id), actor=actor, role_id=role_id,
                  now=now, today=today)
    won = session.execute(
        update(Customer)
        .where(Customer.id == customer_id, Customer.owner_id.is_(None), Customer.deleted_at.is_(None),
               or_(Customer.protected_until.is_(None), Customer.protected_until < now))
        .values(owner_id=actor.user_id, department_id=actor.department_id, claimed_at=now, pool_reason=None)
        .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise AlreadyClaimed(_l("客户“%(n)s”已被他人领用", n=customer.name))
    session.refresh(customer)
    return _event(session, customer_id, from_user=None, to_user=actor.user_id, actor=actor,
                  reason=OwnershipReason.CLAIM, now=now)


def claim_random(session: Session, count: int, *, actor: Actor, role_id: int, now: datetime, today: date,
                 pool_id: int | None = None, seed: int | None = None) -> list[OwnershipEvent]:
    """批量随机领用: up to `count` customers picked at random from the actor's pool; a customer
    someone else takes meanwhile is skipped, not an error."""
    if count <= 0:
        raise InvalidValue(_l("请填写要领用的数量"))
    pools = pools_of(session, actor.user_id)
    if pool_id is not None and pool_id not in pools:
        raise OutOfScope(_l("记录不存在"))
    candidates = list(session.scalars(
        select(Customer.id).where(pool_clause(session, actor, now=now),
                                  Customer.pool_id == (pool_id or pools[0])).limit(max(count * 5, 50))))
    random.Random(seed).shuffle(candidates)
    events = []
    for customer_id in candidates:
        if len(events) == count:
            break
        try:
            with session.begin_nested():
                events.append(claim(session, customer_id, actor=actor, role_id=role_id, now=now, today=today))
        except AlreadyClaimed:
            continue  # taken meanwhile: the next candidate
        except ClaimRefused:  # a limit: keep what was taken, or say why nothing was
            if not events:
                raise
            break
    return events


def release(session: Session, customer_id: int, *, actor: Actor, reason: str, now: datetime) -> OwnershipEvent:
    """放弃: give one's own customer back to one's pool, saying why."""
    _require_enabled(session)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidValue(_l("请填写放弃原因"))
    pool_id = home_pool(session, actor.user_id)
    moved = session.execute(
        update(Customer).where(Customer.id == customer_id, Customer.owner_id == actor.user_id,
                               Customer.deleted_at.is_(None))
        .values(owner_id=None, department_id=None, pool_id=pool_id, pool_reason=PoolReason.RELEASED,
                pool_entered_at=now, claimed_at=None, protected_until=None)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise OutOfScope(_l("记录不存在"))
    return _event(session, customer_id, from_user=actor.user_id, to_user=None, actor=actor,
                  reason=OwnershipReason.RELEASE, now=now, note=reason[:255])


def assignable_clause(session: Session, actor: Actor) -> ColumnElement[bool]:
    """The customers `actor` may assign: their scope's and their pools' (rules/scope.py)."""
    return customer_assign_clause(actor, pools_of(session, actor.user_id))


def assign(session: Session, customer_ids: list[int], *, to_user: User, actor: Actor, now: datetime) -> int:
    """指派: a manager gives customers (their own scope's or the pool's) to a colleague in scope."""
    if not actor.can("pool.assign"):
        raise PermissionDenied(_l("您没有指派客户的权限"))
    if not to_user.active:
        raise InvalidValue(_l("%(n)s 已停用，不能接收客户", n=to_user.display_name))
    in_scope = session.scalar(select(User.id).where(User.id == to_user.id, owner_clause(User.id, actor)))
    if in_scope is None:
        raise PermissionDenied(_l("只能指派给您管理范围内的同事"))
    movable = assignable_clause(session, actor)
    rows = list(session.execute(select(Customer.id, Customer.owner_id).where(Customer.id.in_(customer_ids), movable)))
    if len(rows) != len(set(customer_ids)):
        raise OutOfScope(_l("记录不存在"))
    for customer_id, previous in rows:
        moved = session.execute(
            update(Customer).where(Customer.id == customer_id, _same_owner(previous))
            .values(owner_id=to_user.id, department_id=to_user.department_id, claimed_at=now, pool_reason=None)
            .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise ChangedMeanwhile(_l("客户已被他人改动，请刷新后重试"))
        _event(session, customer_id, from_user=previous, to_user=to_user.id, actor=actor,
               reason=OwnershipReason.ASSIGN, now=now)
    if rows and to_user.id != actor.user_id:
        notifications.notify(session, user_id=to_user.id, now=now, link=ListLink(ListKind.CUSTOMER),
                             title=_l("%(who)s 给您指派了 %(n)d 位客户", who=actor.display_name, n=len(rows)))
    return len(rows)


def _same_owner(owner_id: int | None) -> ColumnElement[bool]:
    return Customer.owner_id.is_(None) if owner_id is None else Customer.owner_id == owner_id


def recall(session: Session, customer_ids: list[int], *, actor: Actor, now: datetime, note: str | None = None) -> int:
    """收回: a manager takes customers in scope back to their owners' pool."""
    if not actor.can("pool.recall"):
        raise PermissionDenied(_l("您没有收回客户的权限"))
    rows = list(session.execute(select(Customer.id, Customer.owner_id).where(
        Customer.id.in_(customer_ids), Customer.deleted_at.is_(None), Customer.owner_id.is_not(None),
        owner_clause(Customer.owner_id, actor))))
    if len(rows) != len(set(customer_ids)):
        raise OutOfScope(_l("记录不存在"))
    for customer_id, owner in rows:
        moved = session.execute(
            update(Customer).where(Customer.id == customer_id, Customer.owner_id == owner)
            .values(owner_id=None, department_id=None, pool_id=home_pool(session, owner),
                    pool_reason=PoolReason.RECALLED, pool_entered_at=now, claimed_at=None, protected_until=None)
            .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise ChangedMeanwhile(_l("客户已被他人改动，请刷新后重试"))
        _event(session, customer_id, from_user=owner, to_user=None, actor=actor, reason=OwnershipReason.RECALL,
               now=now, note=note)
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
    notifications.notify(session, user_id=request.applicant_id, now=now, title=title, body=note,
                         link=RecordLink(ListKind.CUSTOMER, customer.id) if approve else ListLink(ListKind.POOL))
    session.refresh(request)
    return request

