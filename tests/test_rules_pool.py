"""The pool: claims under concurrency on SQLite and PostgreSQL, quotas, release, assign,
recall, requests; and the recycle rules."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import FIXED_NOW, run_at_once
from models import ClaimRequest, Customer, DictItem, Notification, OwnershipEvent, Pool, User, db
from rules import pool as pool_rules
from rules import recycle
from rules.actor import Actor
from rules.errors import AlreadyDecided, ClaimCooldown, InvalidValue, OutOfScope, PermissionDenied

TODAY = date(2026, 11, 23)


def actor(session: Session, username: str) -> tuple[Actor, int]:
    user = session.scalar(select(User).where(User.username == username))
    return Actor.from_user(user, today=TODAY, has_shares=False), user.role_id


@pytest.fixture
def pooled(app, make_user, make_customer):
    """Twenty salespeople and ten customers waiting in the default pool."""
    for i in range(20):
        make_user(f"rep{i}")
    ids = []
    with app.app_context():
        default = pool_rules.default_pool(db.session)
        db.session.commit()
        pool_id = default.id
    for i in range(10):
        cid = make_customer(f"公海客户{i}", None)
        ids.append(cid)
    with app.app_context():
        for cid in ids:
            customer = db.session.get(Customer, cid)
            customer.pool_id, customer.pool_reason, customer.pool_entered_at = pool_id, "new", FIXED_NOW
        db.session.commit()
    return pool_id, ids


def set_pool(app, pool_id: int, **values) -> None:
    with app.app_context():
        pool = db.session.get(Pool, pool_id)
        for key, value in values.items():
            setattr(pool, key, value)
        db.session.commit()


@pytest.mark.both_dbs
def test_twenty_people_claim_the_same_customer_and_exactly_one_wins(app, pooled):
    _pool_id, ids = pooled
    target = ids[0]

    def claimer(username):
        def job(session):
            who, role_id = actor(session, username)
            pool_rules.claim(session, target, actor=who, role_id=role_id, now=FIXED_NOW, today=TODAY)
        return job

    results = run_at_once(app, [claimer(f"rep{i}") for i in range(20)])
    assert results.count("ok") == 1
    assert all("已被他人领用" in r for r in results if r != "ok")
    with app.app_context():
        events = db.session.scalars(select(OwnershipEvent).where(OwnershipEvent.customer_id == target,
                                                                 OwnershipEvent.reason == "claim")).all()
        assert len(events) == 1
        assert db.session.get(Customer, target).owner_id == events[0].to_user_id
        # the losers' refused claims used none of their daily quota
        from models import ClaimQuota
        assert db.session.scalar(select(func.sum(ClaimQuota.claims))) == 1


@pytest.mark.both_dbs
@pytest.mark.parametrize("limit", ["daily", "owned"])
def test_limits_hold_under_concurrent_claims_by_the_same_user(app, pooled, limit):
    pool_id, ids = pooled
    set_pool(app, pool_id, **({"max_claims_per_day": 3} if limit == "daily" else {"max_owned": 3}))

    def claimer(customer_id):
        def job(session):
            who, role_id = actor(session, "rep0")
            pool_rules.claim(session, customer_id, actor=who, role_id=role_id, now=FIXED_NOW, today=TODAY)
        return job

    results = run_at_once(app, [claimer(cid) for cid in ids])
    assert results.count("ok") == 3
    refusals = [r for r in results if r != "ok"]
    expected = "已达到每日领用上限：今天已领用 3 个，上限 3 个" if limit == "daily" else "已达到客户拥有上限：您已有 3 个客户，上限 3 个"
    assert all(r == expected for r in refusals), refusals
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id)).where(Customer.owner_id.is_not(None))) == 3


def test_release_needs_a_reason_and_cooldown_blocks_reclaiming(app, pooled):
    pool_id, ids = pooled
    set_pool(app, pool_id, cooldown_days=7)
    with app.app_context():
        who, role_id = actor(db.session, "rep1")
        pool_rules.claim(db.session, ids[0], actor=who, role_id=role_id, now=FIXED_NOW, today=TODAY)
        with pytest.raises(InvalidValue, match="请填写放弃原因"):
            pool_rules.release(db.session, ids[0], actor=who, reason=" ", now=FIXED_NOW)
        event = pool_rules.release(db.session, ids[0], actor=who, reason="客户已转行", now=FIXED_NOW)
        assert event.note == "客户已转行"
        customer = db.session.get(Customer, ids[0])
        assert customer.owner_id is None and customer.pool_reason == "released"
        with pytest.raises(ClaimCooldown, match="7 天后才能再次领用"):
            pool_rules.claim(db.session, ids[0], actor=who, role_id=role_id, now=FIXED_NOW, today=TODAY)
        later = FIXED_NOW + timedelta(days=8)
        pool_rules.claim(db.session, ids[0], actor=who, role_id=role_id, now=later, today=TODAY + timedelta(days=8))
        db.session.commit()


def test_salespeople_cannot_assign_or_recall_and_managers_only_within_scope(app, pooled, make_user, make_customer):
    _pool_id, ids = pooled
    make_user("mgr", role="经理", department=("销售部",))
    make_user("outsider", department=("客服部",))
    with app.app_context():
        rep, _ = actor(db.session, "rep1")
        target = db.session.scalar(select(User).where(User.username == "rep2"))
        with pytest.raises(PermissionDenied):
            pool_rules.assign(db.session, [ids[0]], to_user=target, actor=rep, now=FIXED_NOW)
        with pytest.raises(PermissionDenied):
            pool_rules.recall(db.session, [ids[0]], actor=rep, now=FIXED_NOW)
        mgr, _ = actor(db.session, "mgr")
        outsider = db.session.scalar(select(User).where(User.username == "outsider"))
        with pytest.raises(PermissionDenied, match="管理范围内"):
            pool_rules.assign(db.session, [ids[0]], to_user=outsider, actor=mgr, now=FIXED_NOW)
        assert pool_rules.assign(db.session, ids[:2], to_user=target, actor=mgr, now=FIXED_NOW) == 2
        db.session.commit()
        assert db.session.get(Customer, ids[0]).owner_id == target.id
        assert db.session.scalar(select(Notification.title).where(Notification.user_id == target.id)) \
            == "mgr 给您指派了 2 位客户"
        foreign = make_customer("客服部的客户", outsider.id)
        with pytest.raises(OutOfScope):  # one forged id refuses the whole batch
            pool_rules.recall(db.session, [ids[0], foreign], actor=mgr, now=FIXED_NOW)
        db.session.rollback()
        assert db.session.get(Customer, ids[0]).owner_id == target.id
        assert pool_rules.recall(db.session, [ids[0]], actor=mgr, now=FIXED_NOW, note="重新分配") == 1
        db.session.commit()
        assert db.session.get(Customer, ids[0]).pool_reason == "recalled"


def test_claim_requests_are_approved_once_and_the_applicant_is_told(app, pooled, make_user):
    _pool_id, ids = pooled
    make_user("sup", role="主管")
    with app.app_context():
        rep, _ = actor(db.session, "rep1")
        request = pool_rules.request_claim(db.session, ids[3], actor=rep, reason="老客户介绍", now=FIXED_NOW)
        with pytest.raises(InvalidValue, match="已申请过"):
            pool_rules.request_claim(db.session, ids[3], actor=rep, reason="again", now=FIXED_NOW)
        sup, _ = actor(db.session, "sup")
        pool_rules.decide(db.session, request.id, approve=True, actor=sup, now=FIXED_NOW, note="同意")
        db.session.commit()
        assert db.session.get(Customer, ids[3]).owner_id == rep.user_id
        with pytest.raises(AlreadyDecided, match="已被他人批示"):
            pool_rules.decide(db.session, request.id, approve=False, actor=sup, now=FIXED_NOW)
        db.session.rollback()
        titles = db.session.scalars(select(Notification.title).where(Notification.user_id == rep.user_id)).all()
        assert titles == [f"您对客户「公海客户3」的领用申请已批准"]
        assert db.session.get(ClaimRequest, request.id).status == "approved"


def test_claim_random_takes_the_asked_number(app, pooled):
    _pool_id, ids = pooled
    with app.app_context():
        rep, role_id = actor(db.session, "rep1")
        events = pool_rules.claim_random(db.session, 4, actor=rep, role_id=role_id, now=FIXED_NOW, today=TODAY,
                                         seed=1)
        db.session.commit()
        assert len(events) == 4 and len({e.customer_id for e in events}) == 4
        assert db.session.scalar(select(func.count(Customer.id)).where(Customer.owner_id == rep.user_id)) == 4


# --- recycling ------------------------------------------------------------------------------

@pytest.fixture
def owned(app, pooled, make_customer):
    """Customers of rep1 in every state the rules care about."""
    pool_id, _ = pooled
    set_pool(app, pool_id, recycle_enabled=True, no_contact_days=10, idle_days=30, no_deal_days=90)
    now = FIXED_NOW
    with app.app_context():
        rep = db.session.scalar(select(User).where(User.username == "rep1"))
        level_a = db.session.scalar(select(DictItem).where(DictItem.kind == "value_level", DictItem.name == "A"))
        cases = {
            "never_contacted": dict(claimed_at=now - timedelta(days=11)),
            "fresh_claim": dict(claimed_at=now - timedelta(days=5)),
            "idle": dict(claimed_at=now - timedelta(days=60), last_follow_up_at=now - timedelta(days=31)),
            "active": dict(claimed_at=now - timedelta(days=60), last_follow_up_at=now - timedelta(days=3)),
            "no_deal": dict(claimed_at=now - timedelta(days=91), last_follow_up_at=now - timedelta(days=1)),
            "with_deal": dict(claimed_at=now - timedelta(days=91), last_follow_up_at=now - timedelta(days=40),
                              has_deal=True),
            "protected": dict(claimed_at=now - timedelta(days=11), protected_until=now + timedelta(days=5)),
            "level_a_idle": dict(claimed_at=now - timedelta(days=60), last_follow_up_at=now - timedelta(days=31),
                                 value_level_id=level_a.id),
        }
        ids = {}
        for name, values in cases.items():
            customer = Customer(name=name, owner_id=rep.id, **values)
            db.session.add(customer)
            db.session.flush()
            ids[name] = customer.id
        pool = db.session.get(Pool, pool_id)
        pool.level_days = {str(level_a.id): {"idle_days": 45}}  # A customers get longer
        db.session.commit()
    return pool_id, ids


@pytest.mark.both_dbs
def test_each_rule_moves_exactly_its_customers_once_and_the_owner_hears_once(app, owned):
    pool_id, ids = owned
    with app.app_context():
        preview = recycle.preview(db.session, now=FIXED_NOW)
        assert preview == {"no_contact": 1, "idle": 1, "no_deal": 1}
        run = recycle.recycle_due(db.session, now=FIXED_NOW)
        db.session.commit()
        assert run.moved == {"no_contact": 1, "idle": 1, "no_deal": 1} and run.owners_notified == 1
        gone = {name for name, cid in ids.items() if db.session.get(Customer, cid).owner_id is None}
        assert gone == {"never_contacted", "idle", "no_deal"}
        for name in gone:
            customer = db.session.get(Customer, ids[name])
            assert customer.pool_id == pool_id and customer.pool_reason == "recycled"
        events = db.session.scalars(select(OwnershipEvent).where(OwnershipEvent.reason == "recycle")).all()
        assert {e.customer.name: e.recycle_rule for e in events} == {
            "never_contacted": "no_contact", "idle": "idle", "no_deal": "no_deal"}
        assert {e.note for e in events} == {None}  # the rule is a key; its label is chosen when shown
        again = recycle.recycle_due(db.session, now=FIXED_NOW)
        db.session.commit()
        assert again.total == 0
        notes = db.session.scalars(select(Notification.title)).all()
        assert notes == ["3 位客户因长期未跟进已被收回客户池"]


def test_countdown_shows_days_left(app, owned):
    pool_id, ids = owned
    with app.app_context():
        pool = db.session.get(Pool, pool_id)
        fresh = db.session.get(Customer, ids["fresh_claim"])
        active = db.session.get(Customer, ids["active"])
        deal = db.session.get(Customer, ids["with_deal"])
        assert recycle.days_left(fresh, pool, FIXED_NOW) == 5      # no_contact: 10 days from claim
        assert recycle.days_left(active, pool, FIXED_NOW) == 27    # idle: 30 days from last follow-up
        assert recycle.days_left(deal, pool, FIXED_NOW) is None    # deals are exempt


def test_pool_wide_days_apply_to_customers_of_every_value_level(app, pooled, make_user):
    """With days set on the pool only (the usual setting), a customer with a value level is
    recycled like any other, and its countdown keeps its promise."""
    pool_id, _ = pooled
    set_pool(app, pool_id, recycle_enabled=True, no_contact_days=10)
    with app.app_context():
        rep = db.session.scalar(select(User).where(User.username == "rep1"))
        level_b = db.session.scalar(select(DictItem).where(DictItem.kind == "value_level", DictItem.name == "B"))
        customer = Customer(name="B级客户", owner_id=rep.id, value_level_id=level_b.id,
                            claimed_at=FIXED_NOW - timedelta(days=20))
        db.session.add(customer)
        db.session.commit()
        assert recycle.days_left(customer, db.session.get(Pool, pool_id), FIXED_NOW) == 0
        assert recycle.recycle_due(db.session, now=FIXED_NOW).total == 1
        db.session.commit()
        assert db.session.get(Customer, customer.id).owner_id is None
