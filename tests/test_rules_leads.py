"""线索 rules: entering (owned or into a lead pool), the status table (新线索 → 跟进中 by a
follow-up, 无效 with a reason, 已转化 final), and 撞单 across leads, customers, the customer pool
and protected customers under the administrator's entry and protection policies."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW
from models import Customer, Lead, LeadEvent, LeadFollowUp, LeadKey, Pool, User, db
from models.lead import LeadStatus
from rules import leads, settings
from rules import pool as pool_rules
from rules.actor import Actor
from rules.errors import EntryRefused, InvalidValue, NeedsConfirmation, OutOfScope

TODAY = date(2026, 11, 23)


def actor(username: str) -> Actor:
    user = db.session.scalar(select(User).where(User.username == username))
    return Actor.from_user(user, today=TODAY, has_shares=False)


def lead_pool() -> int:
    pool = Pool(name="线索池", kind="lead")
    db.session.add(pool)
    db.session.flush()
    return pool.id


@pytest.fixture
def team(app, make_user):
    make_user("sup1", role="主管")
    make_user("rep1", superior="sup1")
    make_user("rep2", superior="sup1")
    make_user("other", department=("销售部", "销售二部"))
    with app.app_context():
        yield


def test_a_salespersons_lead_is_theirs_and_a_web_form_lead_waits_in_the_pool(team):
    mine = leads.create_lead(db.session, {"name": "星河科技", "mobile": "138 0013 8000"}, actor=actor("rep1"),
                             now=FIXED_NOW)
    pool_id = lead_pool()
    pooled = leads.create_lead(db.session, {"name": "云海贸易"}, actor=None, now=FIXED_NOW, pool_id=pool_id)
    db.session.commit()
    assert (mine.owner_id, mine.status, mine.mobile) == (actor("rep1").user_id, "new", "13800138000")
    assert (pooled.owner_id, pooled.pool_id, pooled.pool_reason) == (None, pool_id, "new")
    keys = set(db.session.execute(select(LeadKey.field, LeadKey.value).where(LeadKey.lead_id == mine.id)))
    assert keys == {("name", "星河科技"), ("mobile", "13800138000")}
    reasons = [e.reason for e in db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == pooled.id))]
    assert reasons == ["created"]
    with pytest.raises(InvalidValue, match="线索池"):
        leads.create_lead(db.session, {"name": "无处可去"}, actor=None, now=FIXED_NOW)


def test_the_first_follow_up_moves_a_new_lead_to_following_once(team):
    rep = actor("rep1")
    lead = leads.create_lead(db.session, {"name": "星河科技"}, actor=rep, now=FIXED_NOW)
    leads.add_follow_up(db.session, lead.id, actor=rep, kind="phone", content="电话沟通需求", now=FIXED_NOW,
                        next_contact_at=TODAY + timedelta(days=3))
    later = FIXED_NOW + timedelta(hours=2)
    leads.add_follow_up(db.session, lead.id, actor=rep, kind="visit", content="上门拜访", now=later)
    db.session.commit()
    db.session.refresh(lead)
    assert lead.status == LeadStatus.FOLLOWING and lead.last_follow_up_at == later
    moves = [(e.from_status, e.to_status) for e in db.session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.reason == "status"))]
    assert moves == [("new", "following")]
    assert len(db.session.scalars(select(LeadFollowUp).where(LeadFollowUp.lead_id == lead.id)).all()) == 2


@pytest.mark.parametrize("status, reason, refusal", [
    ("new", "空号", None),
    ("following", "客户无需求", None),
    ("new", "  ", "请填写无效原因"),
    ("converted", "重复", "已转化为客户，不能标记为无效"),
    ("invalid", "重复", "已是无效线索"),
])
def test_marking_a_lead_invalid(team, status, reason, refusal):
    rep = actor("rep1")
    lead = leads.create_lead(db.session, {"name": "星河科技"}, actor=rep, now=FIXED_NOW)
    lead.status = status
    db.session.commit()
    if refusal:
        with pytest.raises(InvalidValue if "原因" in refusal else leads.StatusRefused, match=refusal):
            leads.mark_invalid(db.session, lead.id, actor=rep, reason=reason, now=FIXED_NOW)
        db.session.rollback()
        assert db.session.get(Lead, lead.id).status == status
        return
    event = leads.mark_invalid(db.session, lead.id, actor=rep, reason=reason, now=FIXED_NOW)
    db.session.commit()
    lead = db.session.get(Lead, lead.id)
    assert (lead.status, lead.invalid_reason) == ("invalid", reason)
    assert (event.from_status, event.to_status, event.note) == (status, "invalid", reason)


@pytest.mark.parametrize("status", ["converted", "invalid"])
def test_a_closed_lead_takes_no_follow_up(team, status):
    rep = actor("rep1")
    lead = leads.create_lead(db.session, {"name": "星河科技"}, actor=rep, now=FIXED_NOW)
    lead.status = status
    db.session.commit()
    with pytest.raises(leads.StatusRefused, match="不能再跟进"):
        leads.add_follow_up(db.session, lead.id, actor=rep, kind="phone", content="再联系", now=FIXED_NOW)


def test_a_converted_lead_cannot_be_edited_into_another_status(team):
    rep = actor("rep1")
    lead = leads.create_lead(db.session, {"name": "星河科技"}, actor=rep, now=FIXED_NOW)
    lead.status = LeadStatus.CONVERTED
    db.session.commit()
    lead.status = LeadStatus.NEW
    with pytest.raises(leads.StatusRefused):
        leads.update_lead(db.session, lead, actor=rep, now=FIXED_NOW)
    db.session.rollback()
    assert db.session.get(Lead, lead.id).status == "converted"


def test_a_colleagues_lead_is_out_of_reach_of_follow_ups_and_marking(team):
    lead = leads.create_lead(db.session, {"name": "星河科技"}, actor=actor("rep2"), now=FIXED_NOW)
    db.session.commit()
    with pytest.raises(OutOfScope):
        leads.add_follow_up(db.session, lead.id, actor=actor("rep1"), kind="phone", content="抢单", now=FIXED_NOW)
    with pytest.raises(OutOfScope):
        leads.mark_invalid(db.session, lead.id, actor=actor("rep1"), reason="抢单", now=FIXED_NOW)


# --- 撞单 ---------------------------------------------------------------------------------------
def _customer(name: str, owner: str | None, *, mobile: str | None = None, protected: bool = False,
              pool: bool = False) -> int:
    from rules import customers

    owner_id = actor(owner).user_id if owner else None
    customer = Customer(name=name, kind="company", mobile=mobile, owner_id=owner_id, mnemonic="x",
                        protected_until=FIXED_NOW + timedelta(days=10) if protected else None)
    if pool:
        customer.pool_id = pool_rules.default_pool(db.session).id
    db.session.add(customer)
    db.session.flush()
    customers.reindex(db.session, customer)
    return customer.id


@pytest.mark.both_dbs
@pytest.mark.parametrize("existing, policy, expected", [
    # a lead vs another lead: the rep's own is named, a colleague's out of scope is masked
    ("own lead", {}, ("warning", "与已有线索「星河科技」重复")),
    ("colleague lead", {}, ("warning", "与已有线索「权限范围外的线索」重复")),
    ("colleague lead", {"mobile": "forbid"}, ("error", "与已有线索「权限范围外的线索」重复，不允许重复录入")),
    # vs customers: own named; a colleague's (out of scope) masked; a pool customer named
    ("own customer", {}, ("warning", "与已有客户「星河科技」重复")),
    ("colleague customer", {}, ("warning", "与已有客户「权限范围外的客户」重复")),
    ("colleague customer", {"mobile": "forbid"}, ("error", "与已有客户「权限范围外的客户」重复，不允许重复录入")),
    ("pool customer", {}, ("warning", "与已有客户「星河科技」重复")),
    ("colleague customer", {"mobile": "allow", "name": "allow"}, None),
    # a customer someone else protects: the protection policy's on_collision, masked
    ("protected customer", {"mobile": "allow", "name": "allow"}, ("warning", "与受保护的客户「权限范围外的客户」撞单")),
])
def test_duplicate_matrix(app, team, existing, policy, expected):
    settings.put(db.session, "entry_policy", {"duplicates": policy})
    mobile = "13800138000"
    if existing == "own lead":
        leads.create_lead(db.session, {"name": "星河科技", "mobile": mobile}, actor=actor("rep1"), now=FIXED_NOW)
    elif existing == "colleague lead":
        leads.create_lead(db.session, {"name": "星河科技", "mobile": mobile}, actor=actor("other"), now=FIXED_NOW)
    elif existing == "own customer":
        _customer("星河科技", "rep1", mobile=mobile)
    elif existing == "colleague customer":
        _customer("星河科技", "other", mobile=mobile)
    elif existing == "pool customer":
        _customer("星河科技", None, mobile=mobile, pool=True)
    elif existing == "protected customer":
        _customer("星河科技", "other", mobile=mobile, protected=True)
    db.session.commit()
    values = {"name": "星河科技", "mobile": "+86 138-0013-8000"}
    if expected is None:
        leads.create_lead(db.session, values, actor=actor("rep1"), now=FIXED_NOW)
        db.session.commit()
        return
    level, text = expected
    refusal = EntryRefused if level == "error" else NeedsConfirmation
    with pytest.raises(refusal) as caught:
        leads.create_lead(db.session, values, actor=actor("rep1"), now=FIXED_NOW)
    db.session.rollback()
    assert any(text in i.message for i in caught.value.issues), [i.message for i in caught.value.issues]
    if level == "warning":  # confirmed, the lead is taken
        lead = leads.create_lead(db.session, values, actor=actor("rep1"), now=FIXED_NOW, confirmed=True)
        db.session.commit()
        assert lead.id is not None


def test_protected_collision_refused_when_the_policy_forbids(team):
    settings.put(db.session, "protection_policy", {"on_collision": "forbid"})
    _customer("星河科技", "other", protected=True)
    db.session.commit()
    with pytest.raises(EntryRefused, match="与受保护的客户「权限范围外的客户」撞单，不允许录入"):
        leads.create_lead(db.session, {"name": "星河科技"}, actor=actor("rep1"), now=FIXED_NOW)


def test_a_web_form_lead_is_taken_with_its_warnings_noted(team):
    _customer("星河科技", "other")
    pool_id = lead_pool()
    db.session.commit()
    lead = leads.create_lead(db.session, {"name": "星河科技"}, actor=None, now=FIXED_NOW, pool_id=pool_id)
    db.session.commit()
    event = db.session.scalar(select(LeadEvent).where(LeadEvent.lead_id == lead.id))
    assert "权限范围外的客户" in event.note and "星河" not in event.note.replace("“星河科技”", "")


def test_a_bad_mobile_is_refused_with_nothing_written(team):
    with pytest.raises(EntryRefused, match="手机号码格式不正确"):
        leads.create_lead(db.session, {"name": "星河科技", "mobile": "12345"}, actor=actor("rep1"), now=FIXED_NOW)
    db.session.rollback()
    assert db.session.scalar(select(Lead.id)) is None
