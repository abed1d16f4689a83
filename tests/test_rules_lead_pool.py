"""The lead pool (线索池) under the customer pool's rules: claims under concurrency on SQLite and
PostgreSQL, limits counted per kind of pool, the cooldown, release/assign/recall with their
events, memberships per kind, and the nightly recycle of cold leads."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW, run_at_once
from test_rules_pool import TODAY, actor, set_pool
from models import ClaimQuota, Customer, Lead, LeadEvent, Notification, OwnershipEvent, Pool, PoolMember, User, db
from models.pool import PoolKind
from rules import org
from rules import pool as pool_rules
from rules import recycle
from rules.errors import (
    AlreadyClaimed, ClaimCooldown, DailyClaimLimit, InvalidValue, OutOfScope, OwnedLimit, PermissionDenied,
)
from rules.pool_subject import CUSTOMERS, LEADS

def add_leads(app, names: list[str], *, pool_id: int | None = None, **values) -> list[int]:
    with app.app_context():
        pool_id = pool_id or pool_rules.default_pool(db.session, LEADS).id
        ids = []
        for name in names:
            lead = Lead(name=name, pool_id=pool_id, pool_reason="new", pool_entered_at=FIXED_NOW, **values)
            db.session.add(lead)
            db.session.flush()
            ids.append(lead.id)
        db.session.commit()
        return ids


@pytest.fixture
def lead_pool(app, make_user):
    """Twenty salespeople and ten leads waiting in the default lead pool."""
    for i in range(20):
        make_user(f"rep{i}")
    ids = add_leads(app, [f"线索{i}" for i in range(10)])
    with app.app_context():
        pool_id = pool_rules.default_pool(db.session, LEADS).id
    return pool_id, ids


def claim_lead(session, username: str, lead_id: int, *, now=FIXED_NOW, today=TODAY):
    who, role_id = actor(session, username)
    return pool_rules.claim(session, lead_id, actor=who, role_id=role_id, now=now, today=today, subject=LEADS)


@pytest.mark.both_dbs
def test_twenty_people_claim_the_same_lead_and_exactly_one_wins(app, lead_pool):
    _pool_id, ids = lead_pool
    target = ids[0]

    def claimer(username):
        return lambda session: claim_lead(session, username, target)

    results = run_at_once(app, [claimer(f"rep{i}") for i in range(20)])
    assert results.count("ok") == 1
    assert all(r == "线索“线索0”已被他人领用" for r in results if r != "ok"), results
    with app.app_context():
        events = db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == target,
                                                            LeadEvent.reason == "claim")).all()
        assert len(events) == 1
        lead = db.session.get(Lead, target)
        assert lead.owner_id == events[0].to_user_id and lead.claimed_at is not None and lead.pool_reason is None
        # the losers' refused claims used none of their daily lead quota, and no customer quota
        assert db.session.scalar(select(func.sum(ClaimQuota.claims)).where(ClaimQuota.kind == "lead")) == 1
        assert db.session.scalar(select(func.count()).select_from(ClaimQuota).where(ClaimQuota.kind == "customer")) == 0
        assert db.session.scalar(select(func.count(OwnershipEvent.id))) == 0


@pytest.mark.both_dbs
def test_the_daily_lead_limit_holds_under_concurrent_claims_by_the_same_user(app, lead_pool):
    pool_id, ids = lead_pool
    set_pool(app, pool_id, max_claims_per_day=3)
    results = run_at_once(app, [lambda session, lid=lid: claim_lead(session, "rep0", lid) for lid in ids])
    assert results.count("ok") == 3
    assert {r for r in results if r != "ok"} == {"已达到每日线索领用上限：今天已领用 3 条，上限 3 条"}


def test_daily_limits_are_counted_per_kind_of_pool(app, lead_pool, make_customer):
    lead_pool_id, leads = lead_pool
    set_pool(app, lead_pool_id, max_claims_per_day=2)
    with app.app_context():
        customer_pool = pool_rules.default_pool(db.session)
        customer_pool.max_claims_per_day = 2
        customers = []
        for i in range(3):
            customer = Customer(name=f"公海客户{i}", pool_id=customer_pool.id, pool_entered_at=FIXED_NOW)
            db.session.add(customer)
            db.session.flush()
            customers.append(customer.id)
        db.session.commit()
        who, role_id = actor(db.session, "rep1")
        for lead_id in leads[:2]:
            claim_lead(db.session, "rep1", lead_id)
        # two leads today leave the two customers of the customer quota untouched, and the reverse
        for customer_id in customers[:2]:
            pool_rules.claim(db.session, customer_id, actor=who, role_id=role_id, now=FIXED_NOW, today=TODAY)
        db.session.commit()
        with pytest.raises(DailyClaimLimit, match="已达到每日线索领用上限：今天已领用 2 条，上限 2 条"):
            claim_lead(db.session, "rep1", leads[2])
        db.session.rollback()
        with pytest.raises(DailyClaimLimit, match="已达到每日领用上限：今天已领用 2 个，上限 2 个"):
            pool_rules.claim(db.session, customers[2], actor=who, role_id=role_id, now=FIXED_NOW, today=TODAY)
        db.session.rollback()
        quotas = dict(db.session.execute(select(ClaimQuota.kind, ClaimQuota.claims)
                                         .where(ClaimQuota.user_id == who.user_id)).all())
        assert quotas == {"lead": 2, "customer": 2}


def test_the_owned_limit_counts_open_leads_only_and_not_customers(app, lead_pool, make_customer):
    pool_id, ids = lead_pool
    set_pool(app, pool_id, max_owned=2)
    with app.app_context():
        rep = db.session.scalar(select(User).where(User.username == "rep1"))
        rep_id = rep.id
    make_customer("自己的客户", rep_id)
    add_leads(app, ["已转化的线索"], owner_id=rep_id, status="converted")
    add_leads(app, ["无效线索"], owner_id=rep_id, status="invalid")
    with app.app_context():
        claim_lead(db.session, "rep1", ids[0])
        claim_lead(db.session, "rep1", ids[1])
        db.session.commit()
        with pytest.raises(OwnedLimit, match="已达到线索拥有上限：您已有 2 条跟进中的线索，上限 2 条"):
            claim_lead(db.session, "rep1", ids[2])
        db.session.rollback()


def test_release_needs_a_reason_and_the_cooldown_blocks_reclaiming(app, lead_pool):
    pool_id, ids = lead_pool
    set_pool(app, pool_id, cooldown_days=7)
    with app.app_context():
        who, _ = actor(db.session, "rep1")
        claim_lead(db.session, "rep1", ids[0])
        with pytest.raises(InvalidValue, match="请填写放弃原因"):
            pool_rules.release(db.session, ids[0], actor=who, reason=" ", now=FIXED_NOW, subject=LEADS)
        event = pool_rules.release(db.session, ids[0], actor=who, reason="联系不上", now=FIXED_NOW, subject=LEADS)
        assert isinstance(event, LeadEvent) and event.note == "联系不上" and event.reason == "release"
        lead = db.session.get(Lead, ids[0])
        db.session.refresh(lead)
        assert lead.owner_id is None and lead.pool_reason == "released" and lead.pool_id == pool_id
        with pytest.raises(ClaimCooldown, match="放弃或被回收的线索需 7 天后才能再次领用"):
            claim_lead(db.session, "rep1", ids[0])
        db.session.rollback()
        claim_lead(db.session, "rep2", ids[0])  # a colleague may take it at once
        db.session.rollback()
        later = FIXED_NOW + timedelta(days=8)
        claim_lead(db.session, "rep1", ids[0], now=later, today=TODAY + timedelta(days=8))
        db.session.commit()


def test_converted_or_invalid_leads_in_a_pool_are_never_claimed(app, lead_pool):
    _pool_id, _ids = lead_pool
    converted, invalid = add_leads(app, ["已转化", "无效"])
    with app.app_context():
        db.session.get(Lead, converted).status = "converted"
        db.session.get(Lead, invalid).status = "invalid"
        db.session.commit()
        for lead_id in (converted, invalid):
            with pytest.raises(OutOfScope):
                claim_lead(db.session, "rep1", lead_id)
            db.session.rollback()


def test_assign_and_recall_need_the_lead_permissions_stay_in_scope_and_write_events(app, lead_pool, make_user):
    _pool_id, ids = lead_pool
    make_user("mgr", role="经理", department=("销售部",))
    make_user("outsider", department=("客服部",))
    with app.app_context():
        rep, _ = actor(db.session, "rep1")
        target = db.session.scalar(select(User).where(User.username == "rep2"))
        with pytest.raises(PermissionDenied, match="您没有指派线索的权限"):
            pool_rules.assign(db.session, [ids[0]], to_user=target, actor=rep, now=FIXED_NOW, subject=LEADS)
        with pytest.raises(PermissionDenied, match="您没有收回线索的权限"):
            pool_rules.recall(db.session, [ids[0]], actor=rep, now=FIXED_NOW, subject=LEADS)
        mgr, _ = actor(db.session, "mgr")
        outsider = db.session.scalar(select(User).where(User.username == "outsider"))
        with pytest.raises(PermissionDenied, match="管理范围内"):
            pool_rules.assign(db.session, [ids[0]], to_user=outsider, actor=mgr, now=FIXED_NOW, subject=LEADS)
        assert pool_rules.assign(db.session, ids[:2], to_user=target, actor=mgr, now=FIXED_NOW, subject=LEADS) == 2
        db.session.commit()
        assert db.session.get(Lead, ids[0]).owner_id == target.id
        assert db.session.scalar(select(Notification.title).where(Notification.user_id == target.id)) \
            == "mgr 给您指派了 2 条线索"
        foreign = add_leads(app, ["客服部的线索"], owner_id=outsider.id)[0]
        with pytest.raises(OutOfScope):  # one forged id refuses the whole batch
            pool_rules.recall(db.session, [ids[0], foreign], actor=mgr, now=FIXED_NOW, subject=LEADS)
        db.session.rollback()
        assert db.session.get(Lead, ids[0]).owner_id == target.id
        assert pool_rules.recall(db.session, [ids[0]], actor=mgr, now=FIXED_NOW, note="重新分配", subject=LEADS) == 1
        db.session.commit()
        lead = db.session.get(Lead, ids[0])
        assert lead.owner_id is None and lead.pool_reason == "recalled"
        assert lead.pool_id == pool_rules.home_pool(db.session, target.id, LEADS)
        moves = db.session.execute(select(LeadEvent.reason, LeadEvent.from_user_id, LeadEvent.to_user_id,
                                          LeadEvent.actor_id, LeadEvent.note)
                                   .where(LeadEvent.lead_id == ids[0]).order_by(LeadEvent.id)).all()
        assert moves == [("assign", None, target.id, mgr.user_id, None),
                         ("recall", target.id, None, mgr.user_id, "重新分配")]
        assert db.session.scalar(select(func.count(OwnershipEvent.id))) == 0


def test_claim_random_takes_the_asked_number_of_leads(app, lead_pool):
    _pool_id, ids = lead_pool
    with app.app_context():
        rep, role_id = actor(db.session, "rep1")
        events = pool_rules.claim_random(db.session, 4, actor=rep, role_id=role_id, now=FIXED_NOW, today=TODAY,
                                         seed=1, subject=LEADS)
        db.session.commit()
        assert len({e.lead_id for e in events}) == 4
        assert db.session.scalar(select(func.count(Lead.id)).where(Lead.owner_id == rep.user_id)) == 4


def test_lead_pools_and_customer_pools_have_their_own_members_and_default(app, make_user):
    make_user("rep1", department=("销售部", "电销组"))
    with app.app_context():
        rep = db.session.scalar(select(User).where(User.username == "rep1"))
        customer_default = pool_rules.default_pool(db.session)
        lead_default = pool_rules.default_pool(db.session, LEADS)
        assert (customer_default.kind, lead_default.kind) == ("customer", "lead")
        assert lead_default.name == "公共线索池" and lead_default.id != customer_default.id
        telesales = Pool(name="电销线索池", kind=PoolKind.LEAD)
        telesales.members = [PoolMember(department_id=org.ensure_department_path(db.session, ["销售部", "电销组"]).id)]
        db.session.add(telesales)
        db.session.commit()
        # a department lead pool takes its people out of the default lead pool only
        assert pool_rules.pools_of(db.session, rep.id, LEADS) == [telesales.id]
        assert pool_rules.pools_of(db.session, rep.id) == [customer_default.id]
        assert pool_rules.pools_of(db.session, rep.id, CUSTOMERS) == [customer_default.id]


# --- recycling ----------------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_the_nightly_job_recycles_cold_leads_but_never_converted_or_invalid_ones(app, lead_pool, clock):
    from jobs.recycle import recycle_customers, recycle_leads

    pool_id, _ = lead_pool
    set_pool(app, pool_id, recycle_enabled=True, no_contact_days=10, idle_days=30,
             no_deal_days=5)  # 未成交 has no meaning for a lead: never applied
    with app.app_context():
        rep_id = db.session.scalar(select(User.id).where(User.username == "rep1"))
    now = FIXED_NOW
    cases = {
        "never_contacted": dict(claimed_at=now - timedelta(days=11)),
        "fresh_claim": dict(claimed_at=now - timedelta(days=5)),
        "idle": dict(claimed_at=now - timedelta(days=60), last_follow_up_at=now - timedelta(days=31), status="following"),
        "active": dict(claimed_at=now - timedelta(days=60), last_follow_up_at=now - timedelta(days=3), status="following"),
        "converted": dict(claimed_at=now - timedelta(days=60), last_follow_up_at=now - timedelta(days=31),
                          status="converted"),
        "invalid": dict(claimed_at=now - timedelta(days=60), status="invalid"),
    }
    ids = {name: add_leads(app, [name], owner_id=rep_id, **values)[0] for name, values in cases.items()}
    with app.app_context():
        # an idle customer of the same owner stays: the customer pool does not recycle
        idle_customer = Customer(name="久未联系的客户", owner_id=rep_id, claimed_at=now - timedelta(days=60))
        db.session.add(idle_customer)
        db.session.commit()
        assert recycle.preview(db.session, now=now, subject=LEADS) == {"no_contact": 1, "idle": 1, "no_deal": 0}
        # the nightly jobs as the schedule runs them
        assert recycle_leads() == {"no_contact": 1, "idle": 1, "no_deal": 0}
        assert recycle_customers() == {"no_contact": 0, "idle": 0, "no_deal": 0}
        gone = {name for name, lid in ids.items() if db.session.get(Lead, lid).owner_id is None}
        assert gone == {"never_contacted", "idle"}
        for name in gone:
            lead = db.session.get(Lead, ids[name])
            assert lead.pool_id == pool_id and lead.pool_reason == "recycled" and lead.claimed_at is None
        events = db.session.execute(select(LeadEvent.lead_id, LeadEvent.reason, LeadEvent.recycle_rule,
                                           LeadEvent.from_user_id)).all()
        assert sorted(events) == sorted([(ids["never_contacted"], "recycle", "no_contact", rep_id),
                                         (ids["idle"], "recycle", "idle", rep_id)])
        assert db.session.get(Customer, idle_customer.id).owner_id == rep_id
        assert db.session.scalars(select(Notification.title)).all() == ["2 条线索因长期未跟进已被收回线索池"]
    # a day later nothing more has gone cold: the run is idempotent
        clock.advance(days=1)
        assert recycle_leads() == {"no_contact": 0, "idle": 0, "no_deal": 0}
