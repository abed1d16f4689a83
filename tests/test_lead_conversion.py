"""转化: a lead becomes a customer (+ primary contact, + optionally an opportunity) carrying its
follow-ups and history, once and only once, also when several people convert it at the same
moment on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from conftest import FIXED_NOW, run_at_once
from models import Contact, Customer, FollowUp, OwnershipEvent, User, db
from models.lead import Lead, LeadEvent, LeadFollowUp, LeadStatus
from models.opportunity import Opportunity, OpportunityEvent, Stage, StageGroup
from rules import customers, settings
from rules.actor import Actor
from rules.errors import ConversionRefused, EntryRefused, NeedsConfirmation, OutOfScope
from rules.lead_conversion import convert

TODAY = date(2026, 11, 23)


def actor_of(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    return Actor.from_user(user, today=TODAY, has_shares=False)


def make_lead(app, owner_username: str, **values) -> int:
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.username == owner_username))
        lead = Lead(**{"name": "张伟", "company": "星河贸易有限公司", "contact_name": "张伟", "position": "采购经理",
                       "mobile": "13912345678", "phone": "0571-88776655", "email": "zw@xinghe.cn",
                       "province": "浙江省", "city": "杭州市", "district": "西湖区", "address": "文三路 1 号",
                       "notes": "展会名片", "owner_id": owner.id, "department_id": owner.department_id,
                       "status": LeadStatus.FOLLOWING, "custom": {}, **values})
        db.session.add(lead)
        db.session.commit()
        return lead.id


def no_stage_groups(app) -> None:
    """Switch off the group every installation starts with (rules/stage_groups.ensure_default)."""
    with app.app_context():
        db.session.execute(update(StageGroup).values(active=False))
        db.session.commit()


def stage_group(app, *, department_id=None) -> int:
    if department_id is None:
        no_stage_groups(app)  # the test's own group is the one for everyone
    with app.app_context():
        group = StageGroup(name=f"标准流程{department_id or ''}", department_id=department_id, sort_order=1)
        db.session.add(group)
        db.session.flush()
        for order, (name, pct) in enumerate([("方案报价", 40), ("初步接洽", 10)], start=1):
            db.session.add(Stage(group_id=group.id, name=name, sort_order=3 - order, probability=pct,
                                 required_fields=[]))
        db.session.commit()
        return group.id


def test_a_lead_becomes_a_customer_with_its_contact_follow_ups_history_and_opportunity(app, make_user):
    rep = make_user("rep")
    lead_id = make_lead(app, "rep")
    group_id = stage_group(app)
    with app.app_context():
        for day, text in ((3, "电话沟通需求"), (1, "上门拜访")):
            db.session.add(LeadFollowUp(lead_id=lead_id, user_id=rep, kind="visit", content=text,
                                        happened_at=FIXED_NOW - timedelta(days=day)))
        db.session.commit()
        done = convert(db.session, lead_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW,
                       opportunity={"title": "星河贸易 2027 年采购", "amount": "12,000.50",
                                    "expected_close_on": "2026-12-31"})
        db.session.commit()
        customer = db.session.get(Customer, done.customer.id)
        assert (customer.name, customer.owner_id, customer.mobile, customer.email, customer.province,
                customer.address, customer.notes) == ("星河贸易有限公司", rep, "13912345678", "zw@xinghe.cn",
                                                      "浙江省", "文三路 1 号", "展会名片")
        assert customer.code  # numbered as any new customer
        [contact] = db.session.scalars(select(Contact).where(Contact.customer_id == customer.id)).all()
        assert (contact.name, contact.position, contact.mobile, contact.is_primary) == ("张伟", "采购经理",
                                                                                       "13912345678", True)
        carried = db.session.execute(select(FollowUp.user_id, FollowUp.kind, FollowUp.content, FollowUp.happened_at)
                                     .where(FollowUp.customer_id == customer.id).order_by(FollowUp.happened_at)).all()
        assert [tuple(r) for r in carried] == [(rep, "visit", "电话沟通需求", FIXED_NOW - timedelta(days=3)),
                                               (rep, "visit", "上门拜访", FIXED_NOW - timedelta(days=1))]
        assert customer.last_follow_up_at == FIXED_NOW - timedelta(days=1)
        lead = db.session.get(Lead, lead_id)
        assert (lead.status, lead.customer_id, lead.converted_at, lead.converted_by_id) == (
            LeadStatus.CONVERTED, customer.id, FIXED_NOW, rep)
        event = db.session.scalar(select(LeadEvent).where(LeadEvent.lead_id == lead_id))
        assert (event.reason, event.from_status, event.to_status) == ("status", "following", "converted")
        created = db.session.scalar(select(OwnershipEvent).where(OwnershipEvent.customer_id == customer.id))
        assert created.reason == "created" and "张伟" in created.note and created.to_user_id == rep
        opp = db.session.scalar(select(Opportunity).where(Opportunity.customer_id == customer.id))
        first = db.session.scalar(select(Stage).where(Stage.group_id == group_id, Stage.name == "初步接洽"))
        assert (opp.title, opp.amount, opp.expected_close_on, opp.group_id, opp.stage_id, opp.owner_id,
                opp.source_lead_id, opp.contact_id, opp.outcome) == (
            "星河贸易 2027 年采购", Decimal("12000.50"), date(2026, 12, 31), group_id, first.id, rep, lead_id,
            contact.id, "open")
        assert db.session.scalar(select(func.count(OpportunityEvent.id))
                                 .where(OpportunityEvent.opportunity_id == opp.id)) == 1


def test_a_second_conversion_is_refused_and_an_invalid_lead_never_converts(app, make_user):
    make_user("rep")
    lead_id = make_lead(app, "rep")
    invalid_id = make_lead(app, "rep", company="另一家公司", mobile="13700001111", status=LeadStatus.INVALID,
                           invalid_reason="空号")
    with app.app_context():
        rep = actor_of(db.session, "rep")
        convert(db.session, lead_id, actor=rep, now=FIXED_NOW)
        db.session.commit()
        with pytest.raises(ConversionRefused, match="已转化为客户，不能重复转化"):
            convert(db.session, lead_id, actor=rep, now=FIXED_NOW, confirmed=True)
        db.session.rollback()
        with pytest.raises(ConversionRefused, match="^无效线索不能转化$"):
            convert(db.session, invalid_id, actor=rep, now=FIXED_NOW)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Customer.id))) == 1
        assert db.session.get(Lead, invalid_id).status == LeadStatus.INVALID


def test_without_a_stage_group_the_opportunity_is_refused_and_nothing_is_written(app, make_user):
    make_user("rep")
    lead_id = make_lead(app, "rep")
    no_stage_groups(app)
    with app.app_context():
        with pytest.raises(ConversionRefused, match="阶段组"):
            convert(db.session, lead_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW,
                    opportunity={"title": "试单"})
        db.session.rollback()
        assert db.session.scalar(select(func.count(Customer.id))) == 0
        assert db.session.get(Lead, lead_id).status == LeadStatus.FOLLOWING


def test_leads_outside_scope_are_not_found(app, make_user):
    make_user("rep")
    make_user("other", department=("客服部",))
    lead_id = make_lead(app, "rep")
    with app.app_context():
        with pytest.raises(OutOfScope):
            convert(db.session, lead_id, actor=actor_of(db.session, "other"), now=FIXED_NOW)


def test_a_collision_with_a_protected_customer_warns_or_refuses_as_the_policy_says(app, make_user, make_customer):
    make_user("rep")
    other = make_user("other")
    lead_id = make_lead(app, "rep", mobile="13811112222")
    protected = make_customer("星河贸易有限公司", other, phone="13811112222")
    with app.app_context():
        db.session.get(Customer, protected).protected_until = FIXED_NOW + timedelta(days=10)
        customers.reindex(db.session, db.session.get(Customer, protected))
        db.session.commit()
        rep = actor_of(db.session, "rep")
        with pytest.raises(NeedsConfirmation, match="与受保护的客户「星河贸易有限公司」撞单"):
            convert(db.session, lead_id, actor=rep, now=FIXED_NOW)
        db.session.rollback()
        settings.put(db.session, "protection_policy", {"on_collision": "forbid"})
        db.session.commit()
        with pytest.raises(EntryRefused, match="不允许录入"):
            convert(db.session, lead_id, actor=rep, now=FIXED_NOW, confirmed=True)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Customer.id))) == 1
        assert db.session.get(Lead, lead_id).customer_id is None


@pytest.mark.both_dbs
def test_five_people_converting_the_same_lead_at_once_make_exactly_one_customer(app, make_user):
    make_user("rep")
    for i in range(4):
        make_user(f"mgr{i}", role="经理", department=("销售部",))
    lead_id = make_lead(app, "rep")

    def converter(username):
        def job(session):
            convert(session, lead_id, actor=actor_of(session, username), now=FIXED_NOW, confirmed=True)
        return job

    results = run_at_once(app, [converter(u) for u in ("rep", "mgr0", "mgr1", "mgr2", "mgr3")])
    assert results.count("ok") == 1, results
    assert all("不能重复转化" in r for r in results if r != "ok"), results
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id))) == 1
        assert db.session.scalar(select(func.count(Contact.id))) == 1
        assert db.session.scalar(select(func.count(LeadEvent.id)).where(LeadEvent.to_status == "converted")) == 1
        lead = db.session.get(Lead, lead_id)
        assert lead.customer_id == db.session.scalar(select(Customer.id))


# --- the 转化 page ------------------------------------------------------------------------------

def test_the_conversion_page_prefills_converts_once_and_lands_on_the_customer(app, client, make_user):
    make_user("rep")
    make_user("other", department=("客服部",))
    stage_group(app)
    lead_id = make_lead(app, "rep")
    url = f"/admin/lead-conversion/{lead_id}/"
    client.login("other")
    assert client.get(url).status_code == 404
    client.logout()
    client.login("rep")
    html = client.get(url).get_data(as_text=True)
    assert 'value="星河贸易有限公司"' in html and 'value="采购经理"' in html and "同时创建销售机会" in html
    response = client.post_form(url, {"name": "星河贸易有限公司", "kind": "company", "mobile": "13912345678",
                                      "contact_name": "张伟", "contact_position": "采购部长",
                                      "with_opportunity": "y", "opportunity_title": "首批样品",
                                      "opportunity_amount": "8000", "opportunity_close": "2026-12-20"})
    assert response.status_code == 302
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        assert response.headers["Location"].endswith(f"/admin/customer/details/?id={customer.id}")
        assert db.session.scalar(select(Contact.position)) == "采购部长"
        assert db.session.scalar(select(Opportunity.amount)) == Decimal("8000.00")
    landed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "线索已转化为客户“星河贸易有限公司”，并创建了销售机会“首批样品”" in landed
    again = client.post_form(url, {"name": "星河贸易有限公司", "kind": "company", "contact_name": "张伟"})
    assert again.status_code == 200
    assert "已转化为客户，不能重复转化" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id))) == 1


def test_a_duplicate_warning_keeps_the_form_and_asks_for_confirmation(app, client, make_user, make_customer):
    rep = make_user("rep")
    make_customer("星河贸易有限公司", rep)
    lead_id = make_lead(app, "rep", mobile="13700007777")
    url = f"/admin/lead-conversion/{lead_id}/"
    client.login("rep")
    form = {"name": "星河贸易有限公司", "kind": "company", "contact_name": "张伟", "notes": "我改过的备注"}
    html = client.post_form(url, form).get_data(as_text=True)
    assert "与已有客户" in html and "重复提示已知晓，仍然转化" in html and "我改过的备注" in html
    response = client.post_form(url, {**form, "confirm_duplicates": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id))) == 2


def test_a_web_form_lead_without_a_contact_person_gets_its_own_name_as_the_contact(app, make_user):
    make_user("rep")
    lead_id = make_lead(app, "rep", name="李女士", company="云帆文化传媒", contact_name=None, position=None,
                        mobile="13598765432", phone=None, email=None)
    with app.app_context():
        done = convert(db.session, lead_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        db.session.commit()
        assert (done.customer.name, done.contact.name, done.contact.mobile) == ("云帆文化传媒", "李女士", "13598765432")
