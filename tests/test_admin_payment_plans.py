"""回款计划 in the panel: the list and its quick lists (逾期, 本周应回款) and their exports show
exactly the instalments in the reader's scope; the order page's editor saves a plan that adds
up, and a plan that does not is refused with the difference and shown again as typed; other
people's documents answer 404; a reminder leads to the instalment's document."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, list_table, sheet_rows, xlsx_export
from models import Order, PaymentPlan, db
from plan_helpers import TODAY, actor_of, make_contract, reader_role
from rules import payment_plans
from test_rules_orders import move, new_order, shop  # noqa: F401 - fixture


def login(new_client, username):
    client = new_client()
    client.login(username)
    return client


def plan(contract_id=None, order_id=None, *rows, who="rep"):
    payment_plans.set_plan(db.session, contract_id=contract_id, order_id=order_id, actor=actor_of(who),
                           now=FIXED_NOW, today=TODAY,
                           instalments=[{"due_on": due, "amount": amount, "note": note} for due, amount, note in rows])
    db.session.commit()


@pytest.fixture
def book(app, shop, make_user):
    """rep's contract (A1 overdue, A2 due this week), rep2's contract (B), rep's order (C, this week)."""
    make_user("lead1", role="主管", department=("销售部", "销售一部"))
    make_user("lead2", role="主管", department=("销售部", "销售二部"))
    make_user("mgr", role="经理", department=("销售部",))
    make_user("fin", role="财务", department=("财务部",))
    make_user("boss", role="总经理", department=("总经办",))
    with app.app_context():
        reader_role("无回款权限")
        db.session.execute(db.text("UPDATE roles SET permissions = :p WHERE name = '无回款权限'"),
                           {"p": '["customer.view"]'})
        db.session.commit()
    make_user("nobody", role="无回款权限", department=("销售部", "销售一部"))
    order_id = new_order(app, shop)
    move(app, order_id, "approve")
    with app.app_context():
        mine = make_contract(shop["customer"], "10000")
        theirs = make_contract(shop["other_customer"], "500")
        plan(mine, None, ("2026-11-20", "6000", "A1"), ("2026-11-25", "4000", "A2"))
        plan(theirs, None, ("2026-12-20", "500", "B"), who="rep2")
        total = str(db.session.get(Order, order_id).total)
        plan(None, order_id, ("2026-11-26", total, "C"))
        payment_plans.mark_overdue(db.session, TODAY, now=FIXED_NOW)
        db.session.commit()
    return dict(shop, mine=mine, theirs=theirs, order=order_id)


def notes_in(html):
    return sorted(re.findall(r'class="col-note">\s*([ABC]\d?)\s*<', list_table(html)))


ALL = ["A1", "A2", "B", "C"]
SCOPE = [("rep", ["A1", "A2", "C"]), ("rep2", ["B"]), ("lead1", ["A1", "A2", "C"]), ("lead2", ["B"]),
         ("mgr", ALL), ("fin", ALL), ("boss", ALL)]
QUICK = {"payment_plan": None, "payment_plan_overdue": {"A1"}, "payment_plan_week": {"A2", "C"}}


@pytest.mark.both_dbs
@pytest.mark.parametrize("who, sees", SCOPE)
def test_the_list_its_quick_lists_and_their_exports_show_exactly_the_scope(app, book, new_client, who, sees):
    client = login(new_client, who)
    for endpoint, only in QUICK.items():
        expected = sorted(n for n in sees if only is None or n in only)
        html = client.get(f"/admin/{endpoint}/").get_data(as_text=True)
        assert notes_in(html) == expected, (endpoint, who)
        rows = sheet_rows(xlsx_export(client, "payment_plan" if endpoint == "payment_plan"
                                      else f"payment_plan/from/{endpoint}"))
        header = list(rows[0])
        assert sorted(r[header.index("备注")] for r in rows[1:]) == expected, (endpoint, who)


def test_without_payment_view_the_lists_are_closed(app, book, new_client):
    client = login(new_client, "nobody")
    for endpoint in QUICK:
        assert client.get(f"/admin/{endpoint}/").status_code == 403
    assert client.get("/admin/excel/export/payment_plan/").status_code == 403


def test_the_list_speaks_chinese_and_money(app, book, new_client):
    html = login(new_client, "boss").get("/admin/payment_plan_overdue/").get_data(as_text=True)
    table = list_table(html)
    for text in ("合同/订单", "应收日期", "应收金额", "未收", "负责人", "第1期", "¥6,000.00", "2026-11-20", "逾期",
                 "华星贸易"):
        assert text in html, text
    assert "HT202611230001" in table
    week = login(new_client, "boss").get("/admin/payment_plan_week/").get_data(as_text=True)
    assert "本周：2026-11-23 至 2026-11-29" in week
    empty = login(new_client, "rep2").get("/admin/payment_plan_week/").get_data(as_text=True)
    assert "本周没有应回款的期次。" in empty


def test_the_order_page_editor_saves_a_plan_that_adds_up(app, book, new_client):
    rep = login(new_client, "rep")
    page_url = f"/admin/order/details/?id={book['order']}"
    html = rep.get(page_url).get_data(as_text=True)
    assert 'id="payment-plan"' in html and "data-kechi-plan-editor" in html and "kechi-payment-plan.js" in html
    assert "第1期" in html and 'value="C"' in html
    with app.app_context():
        total = db.session.get(Order, book["order"]).total
        existing = db.session.scalar(select(PaymentPlan.id).where(PaymentPlan.order_id == book["order"]))
    half = (total / 2).quantize(total)
    form = {"id": [str(existing), ""], "due_on": ["2026-12-01", "2027-01-01"],
            "amount": [str(half), str(total - half)], "remind_days": ["3", "5"], "note": ["首付", "尾款"],
            "url": page_url}
    done = rep.post_form(page_url, form, to=f"/admin/payment_plan/save/order/{book['order']}/", follow=True)
    text = done.get_data(as_text=True)
    assert "回款计划已保存，共 2 期" in text and "尾款" in text
    assert "回款计划记录" in text and "应收日期 2026-11-26 → 2026-12-01" in text  # 调整 of the kept instalment
    with app.app_context():
        found = [(p.period, p.due_on, p.amount, p.note) for p in
                 payment_plans.instalments_of(db.session, order_id=book["order"])]
        assert found == [(1, date(2026, 12, 1), half, "首付"), (2, date(2027, 1, 1), total - half, "尾款")]


def test_a_contract_plan_that_does_not_add_up_writes_nothing(app, book, new_client):
    rep = login(new_client, "rep")
    back = f"/admin/order/details/?id={book['order']}"
    form = {"id": ["", ""], "due_on": ["2026-12-01", "2027-01-01"], "amount": ["5000", "3765.50"],
            "remind_days": ["3", "3"], "note": ["第一笔", "第二笔"], "url": back}
    done = rep.post_form("/admin/payment_plan/", form, to=f"/admin/payment_plan/save/contract/{book['mine']}/")
    assert done.status_code == 302 and done.headers["Location"].endswith(back + "#payment-plan")
    with app.app_context():
        assert sorted(p.note for p in payment_plans.instalments_of(db.session, contract_id=book["mine"])) == ["A1", "A2"]


def test_a_refused_plan_comes_back_as_typed_on_the_order_page(app, book, new_client):
    rep = login(new_client, "rep")
    page_url = f"/admin/order/details/?id={book['order']}"
    form = {"id": [""], "due_on": ["2026-12-01"], "amount": ["1.00"], "remind_days": ["3"], "note": ["我刚输入的"],
            "url": page_url}
    done = rep.post_form(page_url, form, to=f"/admin/payment_plan/save/order/{book['order']}/", follow=True)
    html = done.get_data(as_text=True)
    assert "各期金额合计 ¥1.00，与订单应收" in html and "还差" in html
    assert 'value="我刚输入的"' in html
    assert 'value="我刚输入的"' not in rep.get(page_url).get_data(as_text=True)  # shown once


def test_an_editor_left_open_while_someone_else_saved_is_refused_and_keeps_what_was_typed(app, book, new_client):
    rep = login(new_client, "rep")
    page_url = f"/admin/order/details/?id={book['order']}"
    seen = re.search(r'name="version" value="(\d+)"', rep.get(page_url).get_data(as_text=True)).group(1)
    with app.app_context():
        total = db.session.get(Order, book["order"]).total
    first = {"id": [""], "due_on": ["2026-12-01"], "amount": [str(total)], "remind_days": ["3"], "note": ["同事的"],
             "version": seen, "url": page_url}
    assert "回款计划已保存" in rep.post_form(page_url, first, to=f"/admin/payment_plan/save/order/{book['order']}/",
                                        follow=True).get_data(as_text=True)
    stale = dict(first, note=["我在旧页面上输入的"])
    html = rep.post_form(page_url, stale, to=f"/admin/payment_plan/save/order/{book['order']}/",
                         follow=True).get_data(as_text=True)
    assert "刚被其他人修改过，请刷新页面后重新制定回款计划" in html
    assert 'value="我在旧页面上输入的"' in html
    with app.app_context():
        assert [p.note for p in payment_plans.instalments_of(db.session, order_id=book["order"])] == ["同事的"]


def test_other_peoples_documents_answer_404(app, book, new_client):
    rep2 = login(new_client, "rep2")
    form = {"id": [""], "due_on": ["2026-12-01"], "amount": ["10000"], "remind_days": ["3"], "note": [""]}
    for kind, doc in (("contract", book["mine"]), ("order", book["order"]), ("order", 10**12)):
        response = rep2.post_form("/admin/payment_plan/", form, to=f"/admin/payment_plan/save/{kind}/{doc}/")
        assert response.status_code == 404, (kind, doc)
    assert rep2.post_form("/admin/payment_plan/", form, to="/admin/payment_plan/save/invoice/1/").status_code == 400


def test_a_reminder_leads_to_the_instalments_document(app, book, new_client):
    with app.app_context():
        payment_plans.send_reminders(db.session, TODAY, now=FIXED_NOW)
        db.session.commit()
    rep = login(new_client, "rep")
    html = rep.get("/admin/notification/").get_data(as_text=True)
    assert "回款逾期：HT202611230001 华星贸易 第1期 ¥6,000.00 已于 2026-11-20 到期未回款" in html
    with app.app_context():
        c_plan = db.session.scalar(select(PaymentPlan.id).where(PaymentPlan.order_id == book["order"]))
    from rules.links import ListKind, RecordLink
    from admin_views import links as admin_links

    with app.test_request_context():
        from flask_login import login_user
        from models import User

        login_user(db.session.scalar(select(User).where(User.username == "rep")))
        url = admin_links.record_url(app.extensions["admin"][0], RecordLink(ListKind.PAYMENT_PLAN, c_plan))
    assert url == f"/admin/order/details/?id={book['order']}#payment-plan"


def test_each_unpaid_instalment_offers_回款_where_the_receipt_form_takes_it(app, book, new_client, monkeypatch):
    from models import Payment

    with app.app_context():
        paid, unpaid = [p.id for p in payment_plans.instalments_of(db.session, contract_id=book["mine"])]
        plan_row = db.session.get(PaymentPlan, paid)
        db.session.add(Payment(plan_id=paid, contract_id=book["mine"], customer_id=plan_row.customer_id,
                               kind="receipt", amount=plan_row.amount, paid_on=TODAY, status="approved"))
        payment_plans.recompute(db.session, paid, today=TODAY)
        order_plan = db.session.scalar(select(PaymentPlan.id).where(PaymentPlan.order_id == book["order"]))
        db.session.commit()
    receipts = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "payment")
    monkeypatch.setattr(receipts, "permission_create", "payment.record")
    html = login(new_client, "rep").get(f"/admin/order/details/?id={book['order']}").get_data(as_text=True)
    assert f'href="/admin/payment/new/?plan_id={order_plan}"' in html
    monkeypatch.setattr(receipts, "permission_create", None)  # the list takes no receipts: no button
    html = login(new_client, "rep").get(f"/admin/order/details/?id={book['order']}").get_data(as_text=True)
    assert "kechi-plan-pay" not in html
    with app.test_request_context():
        from flask_login import login_user
        from models import User

        monkeypatch.setattr(receipts, "permission_create", "payment.record")
        login_user(db.session.scalar(select(User).where(User.username == "rep")))
        from admin_views.payment_plans import plans_for

        found = plans_for("contract", book["mine"])
        assert [p.status for p in found["plans"]] == ["paid", "pending"]
        assert found["receipt_url"](unpaid) == f"/admin/payment/new/?plan_id={unpaid}"
        from flask import render_template_string

        html = render_template_string("{% set plan_doc = ('contract', " + str(book["mine"]) + ") %}"
                                      "{% include 'admin/payment_plans/_for_document.html' %}")
        assert "合同金额 <b>¥10,000.00</b>" in html and "已有回款 ¥6,000.00，不能低于此数" in html
        assert f'href="/admin/payment/new/?plan_id={unpaid}"' in html and html.count("kechi-plan-pay") == 1
        assert f'action="/admin/payment_plan/save/contract/{book["mine"]}/"' in html


def test_custom_fields_of_instalments_are_typed_checked_shown_and_exported(app, book, new_client):
    from models import CustomField

    with app.app_context():
        db.session.add(CustomField(entity="payment_plan", key="node", label="收款节点", field_type="choice",
                                   options=["预付款", "验收款"], required=True))
        db.session.commit()
        total = db.session.get(Order, book["order"]).total
        existing = db.session.scalar(select(PaymentPlan.id).where(PaymentPlan.order_id == book["order"]))
    rep = login(new_client, "rep")
    page_url = f"/admin/order/details/?id={book['order']}"
    assert 'name="cf_node"' in rep.get(page_url).get_data(as_text=True)
    form = {"id": [str(existing), ""], "due_on": ["2026-12-01", "2027-01-01"], "amount": ["10", str(total - 10)],
            "remind_days": ["3", "3"], "note": ["", ""], "cf_node": ["预付款", "尾款"], "url": page_url}
    html = rep.post_form(page_url, form, to=f"/admin/payment_plan/save/order/{book['order']}/",
                         follow=True).get_data(as_text=True)
    assert "第2行：收款节点：“尾款”不在可选项中" in html
    assert '<option selected>预付款</option>' in html  # the rows as typed
    form["cf_node"] = ["预付款", "验收款"]
    html = rep.post_form(page_url, form, to=f"/admin/payment_plan/save/order/{book['order']}/",
                         follow=True).get_data(as_text=True)
    assert "回款计划已保存，共 2 期" in html
    assert re.findall(r'class="kechi-plan-custom">([^<]*)<', html) == ["预付款", "验收款"]
    rows = sheet_rows(xlsx_export(rep, "payment_plan"))
    header = list(rows[0])
    assert sorted(r[header.index("收款节点")] for r in rows[1:] if r[header.index("收款节点")]) == ["预付款", "验收款"]


def test_reports_drill_into_the_list_by_owner_due_date_and_status(app, book, new_client):
    """What 账龄/逾期 reports link to (rules/links.py): 回款计划 reads the finance reports' drill-down
    parameters (admin_views/finance_drill.py) on its list."""
    from flask_login import login_user

    from admin_views import links as admin_links
    from models import User
    from rules.links import Days, DrillFilter, ListKind, ListLink

    link = ListLink.of(ListKind.PAYMENT_PLAN, {DrillFilter.OWNER: book["rep"],
                                               DrillFilter.DUE_ON: Days(date(2026, 11, 1), date(2026, 11, 30)),
                                               DrillFilter.STATUS_IN: ("pending", "partial", "overdue")})
    with app.test_request_context():
        login_user(db.session.scalar(select(User).where(User.username == "boss")))
        url = admin_links.list_url(app.extensions["admin"][0], link)
    assert url and url.startswith("/admin/payment_plan/?owner_id=")
    html = login(new_client, "boss").get(url).get_data(as_text=True)
    assert notes_in(html) == ["A1", "A2", "C"]


def test_an_english_reader_sees_the_lists_and_the_editor_in_english(app, book, new_client):
    from models import User

    with app.app_context():
        db.session.scalar(select(User).where(User.username == "rep")).locale = "en"
        db.session.commit()
    rep = login(new_client, "rep")
    html = rep.get("/admin/payment_plan_overdue/").get_data(as_text=True)
    assert "Due date" in html and "Overdue" in html and "Instalment 1" in html and "应收日期" not in html
    page = rep.get(f"/admin/order/details/?id={book['order']}").get_data(as_text=True)
    assert "Change payment plan" in page and "Save payment plan" in page and 'data-text-short="{d} short"' in page
