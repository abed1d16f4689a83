"""The 线索 pages: who sees which lead by every URL (list, details, edit, follow-up, 标记无效,
delete) on SQLite and PostgreSQL, the form keeping what was typed when the entry policy refuses,
and the status moves a user makes from the lead's page."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, list_table
from models import Lead, LeadFollowUp, Pool, User, db
from rules import leads
from rules.actor import Actor


def _lead(app, name: str, owner: str | None, **values) -> int:
    with app.app_context():
        if owner is None:
            pool = db.session.scalar(select(Pool).where(Pool.kind == "lead")) or Pool(name="线索池", kind="lead")
            db.session.add(pool)
            db.session.flush()
            lead = leads.create_lead(db.session, {"name": name, **values}, actor=None, now=FIXED_NOW,
                                     pool_id=pool.id)
        else:
            user = db.session.scalar(select(User).where(User.username == owner))
            lead = leads.create_lead(db.session, {"name": name, **values}, actor=Actor.from_user(user),
                                     now=FIXED_NOW, confirmed=True)
        db.session.commit()
        return lead.id


@pytest.fixture
def company(app, make_user):
    """总经办: 总经理 (all). 销售部 (经理, tree) → 销售一部 (主管 sup1; rep1, rep2) and 销售二部 (rep3)."""
    make_user("boss", role="总经理", department=("总经办",))
    make_user("mgr", role="经理", department=("销售部",))
    make_user("sup1", role="主管")
    make_user("rep1", superior="sup1")
    make_user("rep2", superior="sup1")
    make_user("rep3", department=("销售部", "销售二部"))
    return {
        "rep1": _lead(app, "一号线索", "rep1"),
        "rep2": _lead(app, "二号线索", "rep2"),
        "rep3": _lead(app, "三号线索", "rep3"),
        "pool": _lead(app, "公海线索", None),
    }


# Who sees whose lead: own only (业务员), the department (主管), the department tree (经理),
# everyone (总经理); a lead waiting in the pool is on no one's list.
TRUTH = {
    "rep1": {"rep1"},
    "rep2": {"rep2"},
    "sup1": {"rep1", "rep2"},
    "mgr": {"rep1", "rep2", "rep3"},
    "boss": {"rep1", "rep2", "rep3"},
}
NAMES = {"rep1": "一号线索", "rep2": "二号线索", "rep3": "三号线索", "pool": "公海线索"}


@pytest.mark.both_dbs
@pytest.mark.parametrize("viewer", sorted(TRUTH))
def test_lead_scope_truth_table_through_every_page(app, client, company, viewer):
    client.login(viewer)
    listed = list_table(client.get("/admin/lead/").get_data(as_text=True))
    for owner, name in NAMES.items():
        assert (name in listed) == (owner in TRUTH[viewer]), (viewer, owner)
    for owner, lead_id in company.items():
        visible = owner in TRUTH[viewer]
        expected = 200 if visible else 404
        assert client.get(f"/admin/lead/details/?id={lead_id}").status_code == expected, (viewer, owner)
        assert client.get(f"/admin/lead/edit/?id={lead_id}").status_code == expected, (viewer, owner)
        posted = client.post_form("/admin/lead/", {"kind": "phone", "content": f"{viewer} 跟进"},
                                  to=f"/admin/lead/follow-up/?id={lead_id}")
        assert posted.status_code == (302 if visible else 404), (viewer, owner)
    with app.app_context():
        written = {db.session.get(Lead, f.lead_id).name for f in db.session.scalars(select(LeadFollowUp))}
    assert written == {NAMES[o] for o in TRUTH[viewer]}


@pytest.mark.both_dbs
def test_a_colleagues_lead_cannot_be_edited_invalidated_or_deleted(app, client, company):
    client.login("rep1")
    theirs = company["rep2"]
    edit = client.post_form(f"/admin/lead/edit/?id={company['rep1']}", {"name": "改名"},
                            to=f"/admin/lead/edit/?id={theirs}")
    assert edit.status_code == 404
    invalid = client.post_form("/admin/lead/", {"reason": "抢单"}, to=f"/admin/lead/invalid/?id={theirs}")
    assert invalid.status_code == 404
    delete = client.post_form("/admin/lead/", {"id": str(theirs), "url": "/admin/lead/"}, to="/admin/lead/delete/")
    assert delete.status_code == 404
    with app.app_context():
        lead = db.session.get(Lead, theirs)
        assert (lead.name, lead.status, lead.deleted_at) == ("二号线索", "new", None)


def test_creating_a_lead_from_the_form_and_following_it_up(app, client, make_user):
    make_user("rep1")
    client.login("rep1")
    empty = client.get("/admin/lead/").get_data(as_text=True)
    assert "还没有线索" in empty and "点击这里录入第一条线索" in empty
    created = client.post_form("/admin/lead/new/", {"name": "星河科技", "contact_name": "王经理",
                                                    "mobile": "138 0013 8000"}, follow=True)
    assert created.status_code == 200
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert (lead.name, lead.mobile, lead.status) == ("星河科技", "13800138000", "new")
        lead_id = lead.id
    page = client.get(f"/admin/lead/details/?id={lead_id}").get_data(as_text=True)
    assert "新线索" in page and "添加跟进记录" in page and "标记无效" in page
    followed = client.post_form(f"/admin/lead/details/?id={lead_id}", {"kind": "phone", "content": "电话沟通需求"},
                                to=f"/admin/lead/follow-up/?id={lead_id}", follow=True).get_data(as_text=True)
    assert "已添加跟进记录" in followed and "电话沟通需求" in followed and "跟进中" in followed
    refused = client.post_form(f"/admin/lead/details/?id={lead_id}", {"reason": ""},
                               to=f"/admin/lead/invalid/?id={lead_id}", follow=True).get_data(as_text=True)
    assert "请填写无效原因" in refused
    done = client.post_form(f"/admin/lead/details/?id={lead_id}", {"reason": "客户无需求"},
                            to=f"/admin/lead/invalid/?id={lead_id}", follow=True).get_data(as_text=True)
    assert "已将线索标记为无效" in done and "客户无需求" in done
    with app.app_context():
        assert db.session.get(Lead, lead_id).status == "invalid"


def test_the_form_keeps_what_was_typed_when_a_duplicate_is_refused(app, client, make_user, make_customer):
    make_user("rep1")
    other = make_user("rep2", department=("销售部", "销售二部"))
    make_customer("星河科技有限公司", other, phone="0317-71490681")
    client.login("rep1")
    page = client.post_form("/admin/lead/new/", {"name": "星河科技有限公司", "contact_name": "王经理",
                                                 "notes": "展会上认识的"}).get_data(as_text=True)
    assert "与已有客户「权限范围外的客户」重复" in page and "重名提示已知晓，仍然保存" in page
    assert 'value="王经理"' in page and "展会上认识的" in page
    with app.app_context():
        assert db.session.scalar(select(Lead.id)) is None
    saved = client.post_form("/admin/lead/new/", {"name": "星河科技有限公司", "contact_name": "王经理",
                                                  "confirm_duplicates": "y"}, follow=True)
    assert saved.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Lead.name)) == "星河科技有限公司"


def test_a_converted_lead_offers_no_edit_follow_up_or_invalid(app, client, make_user):
    make_user("rep1")
    lead_id = _lead(app, "星河科技", "rep1")
    with app.app_context():
        db.session.get(Lead, lead_id).status = "converted"
        db.session.commit()
    client.login("rep1")
    page = client.get(f"/admin/lead/details/?id={lead_id}").get_data(as_text=True)
    assert "已转化" in page and "标记无效" not in page and "添加跟进记录" not in page
    refused = client.post_form(f"/admin/lead/details/?id={lead_id}", {"reason": "重复"},
                               to=f"/admin/lead/invalid/?id={lead_id}", follow=True).get_data(as_text=True)
    assert "已转化为客户，不能标记为无效" in refused
    client.post_form(f"/admin/lead/edit/?id={lead_id}", {"name": "星河科技", "status": "new"})
    with app.app_context():
        assert db.session.get(Lead, lead_id).status == "converted"


@pytest.mark.both_dbs
@pytest.mark.parametrize("common_hits", [2_000, 1])  # 1: every token counts as common (the per-lead path)
def test_quick_search_by_name_part_and_phone_start(app, client, make_user, monkeypatch, common_hits):
    from rules import lead_search

    monkeypatch.setattr(lead_search, "COMMON_HITS", common_hits)
    make_user("rep1")
    _lead(app, "星河科技有限公司", "rep1", mobile="13800138000")
    _lead(app, "云海贸易", "rep1", contact_name="李华", phone="0317-71490681")
    client.login("rep1")

    def found(term: str) -> set[str]:
        table = list_table(client.get("/admin/lead/", query_string={"search": term}).get_data(as_text=True))
        return {n for n in ("星河科技有限公司", "云海贸易") if n in table}

    assert found("科技") == {"星河科技有限公司"}
    assert found("星河科技有") == {"星河科技有限公司"}
    assert found("河") == {"星河科技有限公司"}
    assert found("李华") == {"云海贸易"}
    assert found("1380013") == {"星河科技有限公司"}
    assert found("0317-7149") == {"云海贸易"}
    assert found("技科") == set()


def test_english_labels(app, client, make_user):
    make_user("rep1")
    _lead(app, "星河科技", "rep1")
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "rep1")).locale = "en"
        db.session.commit()
    client.login("rep1")
    page = client.get("/admin/lead/").get_data(as_text=True)
    for label in ("Name", "Contact", "Mobile", "Source", "Status", "Owner", "Last follow-up", "Created"):
        assert label in page, label


def test_administrators_define_fields_for_leads_opportunities_and_quotes(app, client, new_client, admin_id,
                                                                         make_user):
    from models import CustomField
    from rules import custom_fields
    from rules.errors import InvalidValue

    make_user("rep1")
    client.login("admin")
    form = client.get("/admin/custom_field/new/").get_data(as_text=True)
    assert all(f'value="{entity}"' in form for entity in ("lead", "opportunity", "quote"))
    for entity, key in (("lead", "budget"), ("opportunity", "competitor"), ("quote", "delivery")):
        client.post_form("/admin/custom_field/new/", {"entity": entity, "label": f"{entity}预算", "key": key,
                                                      "field_type": "number" if key == "budget" else "text",
                                                      "required": "y", "sort_order": "0", "active": "y",
                                                      "searchable": "y", "importable": "y", "show_in_list": "y"})
    with app.app_context():
        assert {f.entity for f in db.session.scalars(select(CustomField))} == {"lead", "opportunity", "quote"}
        # the helper the opportunity and quote rules call with raw values
        assert custom_fields.clean(db.session, "opportunity", {"competitor": " 华为 "}) == {"competitor": "华为"}
        with pytest.raises(InvalidValue, match="请填写quote预算"):
            custom_fields.clean(db.session, "quote", {})
    rep = new_client()
    rep.login("rep1")
    assert "lead预算 *" in rep.get("/admin/lead/new/").get_data(as_text=True)
    bad = rep.post_form("/admin/lead/new/", {"name": "星河科技", "cf_budget": "很多"}).get_data(as_text=True)
    assert "lead预算：应为数字" in bad and 'value="很多"' in bad
    rep.post_form("/admin/lead/new/", {"name": "星河科技", "cf_budget": "1,200"})
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert lead.custom == {"budget": 1200}
        lead_id = lead.id
    assert "1200" in rep.get(f"/admin/lead/details/?id={lead_id}").get_data(as_text=True)
    assert "1200" in list_table(rep.get("/admin/lead/").get_data(as_text=True))


def test_the_convert_button_is_offered_on_open_leads_only(app, client, make_user):
    """转化 on an open lead's page (to the conversion page); an invalid lead offers none."""
    actor = make_user("rep1")
    lead_id = _lead(app, "星河科技", "rep1")
    dead_id = _lead(app, "废弃线索", "rep1")
    with app.app_context():
        leads.mark_invalid(db.session, dead_id, actor=Actor.from_user(db.session.get(User, actor)), reason="空号",
                           now=FIXED_NOW)
        db.session.commit()
    client.login("rep1")
    assert f'href="/admin/lead-conversion/{lead_id}' in client.get(f"/admin/lead/details/?id={lead_id}").get_data(
        as_text=True)
    assert 'data-testid="convert"' not in client.get(f"/admin/lead/details/?id={dead_id}").get_data(as_text=True)


def test_a_page_of_its_own_gets_the_custom_fields_of_its_entity(app, admin_id):
    """The helpers an opportunity's or a quote's own form uses (admin_views/custom_fields.py)."""
    from types import SimpleNamespace

    from flask_admin.form import BaseForm
    from werkzeug.datastructures import MultiDict
    from wtforms import StringField
    from wtforms.validators import ValidationError

    from admin_views.custom_fields import (
        prefill_custom_fields, request_definitions, store_custom_fields, with_custom_fields,
    )
    from models import CustomField

    with app.app_context():
        db.session.add(CustomField(entity="quote", key="delivery", label="交货期（天）", field_type="number",
                                   required=True))
        db.session.commit()

    class QuoteForm(BaseForm):
        title = StringField("标题")

    with app.test_request_context():
        form_class = with_custom_fields(QuoteForm, "quote")
        quote = SimpleNamespace(custom={"delivery": 30})
        shown = form_class()
        prefill_custom_fields(shown, quote, "quote")
        assert shown.cf_delivery.data == "30" and shown.cf_delivery.label.text == "交货期（天） *"
        typed = form_class(MultiDict({"title": "报价", "cf_delivery": "很快"}))
        with pytest.raises(ValidationError, match="交货期（天）：应为数字"):
            store_custom_fields(typed, quote, request_definitions("quote"))
        store_custom_fields(form_class(MultiDict({"cf_delivery": "45"})), quote, request_definitions("quote"))
        assert quote.custom == {"delivery": 45}
