"""The 回款 pages (issue 19 item 4): the list with its filters and export, what each role sees
(scope truth table), the receipt form reached from an instalment, a contract or an order, the
receipt page, and the customer 360 page's 回款 tab with contract receipts."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from conftest import sheet_rows, xlsx_export
from models import Order, Payment, db
from rules import payments
from test_rules_orders import move, new_order, shop  # noqa: F401 - fixture
from test_rules_receipts import books, new_contract, receipts_confirmed_without_flow, receive  # noqa: F401 - fixture


def login(new_client, username):
    client = new_client()
    client.login(username)
    return client


@pytest.fixture
def ledger(app, books, make_user):
    """Receipts of two salespeople in two departments, and who looks at them:
    rep (业务员, 销售一部) owns HT-A with a ¥400 receipt on its first instalment and an order
    receipt of ¥20; rep2 (业务员, 销售二部) owns HT-B with a ¥70 receipt; boss1 is 主管 of 销售一部."""
    books["boss1"] = make_user("boss1", role="主管")
    books["contract_b"], _plans = new_contract(app, books, "HT-B", "100.00", [], owner="rep2",
                                               customer="other_customer")
    books["r_a"] = receive(app, "fin", "400", plan_id=books["plans"][0])
    order_id = new_order(app, books)
    move(app, order_id, "approve")
    books["order"] = order_id
    books["r_order"] = receive(app, "fin", "20", order_id=order_id)
    books["r_b"] = receive(app, "fin", "70", contract_id=books["contract_b"])
    return books


SEES = {  # who → the receipts of the ledger the list, the page and the export show
    "rep": {"r_a", "r_order"},
    "rep2": {"r_b"},
    "boss1": {"r_a", "r_order"},
    "fin": {"r_a", "r_order", "r_b"},
    "clerk": {"r_a", "r_order", "r_b"},
}


@pytest.mark.parametrize("who", sorted(SEES))
def test_scope_truth_table_of_the_receipt_list_page_and_export(app, ledger, new_client, who):
    client = login(new_client, who)
    listing = client.get("/admin/payment/").get_data(as_text=True)
    for key in ("r_a", "r_order", "r_b"):
        link = f"/admin/payment/details/?id={ledger[key]}"
        assert (link in listing) == (key in SEES[who]), (who, key)
        assert client.get(link).status_code == (200 if key in SEES[who] else 404), (who, key)
    with xlsx_export(client, "payment") as response:
        rows = sheet_rows(response)
    header, body = rows[0], rows[1:]
    assert {"回款日期", "合同编号", "订单编号", "期次", "金额", "方式", "状态", "业绩归属"} <= set(header)
    amounts = sorted(float(dict(zip(header, r))["金额"]) for r in body)
    wanted = sorted({"r_a": 400.0, "r_order": 20.0, "r_b": 70.0}[k] for k in SEES[who])
    assert amounts == wanted, who


def test_the_list_filters_by_method_owner_date_and_number(app, ledger, new_client):
    fin = login(new_client, "fin")
    view = fin.get("/admin/payment/").get_data(as_text=True)
    assert "承兑汇票" in view and "HT-A" in view and "第1期" in view
    with app.app_context():
        db.session.get(Payment, ledger["r_b"]).method = "check"  # a key of earlier versions
        db.session.commit()
    assert "支票" in fin.get("/admin/payment/").get_data(as_text=True)
    from admin_views.receipts import PaymentView
    with app.app_context():
        view_obj = next(v for v in app.extensions["admin"][0]._views if isinstance(v, PaymentView)
                        and v.endpoint == "payment")
        names = [str(f.name) for f in view_obj.column_filters]
        index = {name: names.index(name) for name in ("方式", "业绩归属", "订单/合同编号", "回款日期")}

    def shown(arg):
        html = fin.get(f"/admin/payment/?{arg}").get_data(as_text=True)
        return {key for key in ("r_a", "r_order", "r_b") if f"/admin/payment/details/?id={ledger[key]}" in html}

    assert shown(f"flt0_{index['方式']}=check") == {"r_b"}
    assert shown(f"flt0_{index['业绩归属']}={ledger['rep2']}") == {"r_b"}
    assert shown(f"flt0_{index['订单/合同编号']}=HT-A") == {"r_a"}
    assert shown(f"flt0_{index['回款日期']}=2026-11-01+to+2026-11-30") == {"r_a", "r_order", "r_b"}
    assert shown(f"flt0_{index['回款日期']}=2026-12-01+to+2026-12-31") == set()


def test_the_receipt_form_from_an_instalment_proposes_its_room_and_keeps_what_was_typed(app, ledger, new_client):
    second = ledger["plans"][1]
    rep = login(new_client, "rep")
    form = rep.get(f"/admin/payment/new/?plan_id={second}").get_data(as_text=True)
    assert "HT-A 第2期" in form and 'value="600.00"' in form and "¥600.00" in form
    assert 'name="write_off"' not in form  # 业务员 may not 抹零
    refused = rep.post_form(f"/admin/payment/new/?plan_id={second}",
                            {"amount": "650.00", "paid_on": "2026-11-20", "method": "wechat", "note": "第二期尾款"},
                            follow=True).get_data(as_text=True)
    assert "回款金额 ¥650.00 超过HT-A 第2期未收金额 ¥600.00" in refused
    assert 'value="650.00"' in refused and 'value="2026-11-20"' in refused and "第二期尾款" in refused
    assert '<option value="wechat" selected>' in refused
    done = rep.post_form(f"/admin/payment/new/?plan_id={second}",
                         {"amount": "600.00", "paid_on": "2026-11-20", "method": "wechat"}, follow=True)
    page = done.get_data(as_text=True)
    assert "已登记回款 ¥600.00，等待审核后计入实收" in page and "待确认" in page
    with app.app_context():
        saved = db.session.scalar(select(Payment).order_by(Payment.id.desc()).limit(1))
        assert (saved.plan_id, saved.contract_id, saved.method, saved.status, saved.paid_on) == (
            second, ledger["contract"], "wechat", "pending", date(2026, 11, 20))
    # out of scope: rep2 cannot even open the form on rep's instalment
    assert login(new_client, "rep2").get(f"/admin/payment/new/?plan_id={second}").status_code == 404


def test_a_finance_clerk_writes_off_within_the_limit_and_confirms_from_the_receipt_page(app, ledger, new_client):
    fin = login(new_client, "fin")
    contract_form = fin.get(f"/admin/payment/new/?contract_id={ledger['contract']}").get_data(as_text=True)
    assert 'value="600.00"' in contract_form and 'name="write_off"' in contract_form
    too_much = fin.post_form(f"/admin/payment/new/?contract_id={ledger['contract']}",
                             {"amount": "450", "write_off": "150", "method": "transfer"}, follow=True)
    assert "抹零金额 ¥150.00 超过上限 ¥100.00" in too_much.get_data(as_text=True)
    rep = login(new_client, "rep")
    rep.post_form(f"/admin/payment/new/?order_id={ledger['order']}", {"amount": "10", "method": "cash"})
    with app.app_context():
        waiting = db.session.scalar(select(Payment.id).where(Payment.status == "pending"))
    page = rep.get(f"/admin/payment/details/?id={waiting}").get_data(as_text=True)
    assert "kechi-receipt-approve" not in page and "kechi-receipt-withdraw" in page
    page = fin.get(f"/admin/payment/details/?id={waiting}").get_data(as_text=True)
    assert "kechi-receipt-approve" in page and "DD202611230001" in page
    confirmed = fin.post_form(f"/admin/payment/details/?id={waiting}", {},
                              to=f"/admin/payment/decide/approve/?id={waiting}", follow=True).get_data(as_text=True)
    assert "已确认到账" in confirmed and "已确认" in confirmed
    with app.app_context():
        assert db.session.get(Payment, waiting).approved_by_id == ledger["fin"]


def test_the_form_without_a_document_asks_for_a_number(app, ledger, new_client):
    fin = login(new_client, "fin")
    assert 'name="document"' in fin.get("/admin/payment/new/").get_data(as_text=True)
    unknown = fin.post_form("/admin/payment/new/", {"document": "HT-X", "amount": "1"}, follow=True)
    assert "找不到编号为 HT-X 的订单或合同" in unknown.get_data(as_text=True)
    fin.post_form("/admin/payment/new/", {"document": "ht-b", "amount": "30", "method": "alipay"})
    with app.app_context():
        assert db.session.get(Payment, ledger["r_b"]).contract.received == Decimal("100.00")


def test_the_customer_360_payments_tab_lists_contract_receipts(app, ledger, new_client):
    page = login(new_client, "rep").get(f"/admin/customer/details/?id={ledger['customer']}").get_data(as_text=True)
    tab = page[page.find('id="tab-payments"'):]
    assert "HT-A" in tab and "第1期" in tab and "¥400.00" in tab and "DD202611230001" in tab
    assert 'data-contract-money="received"' in tab and "合同实收" in tab
    assert "HT-B" not in tab


def test_old_addresses_and_the_order_page_keep_working(app, ledger, new_client):
    clerk = login(new_client, "clerk")
    assert clerk.get("/admin/payment_pending/").status_code == 200
    order_page = clerk.get(f"/admin/order/details/?id={ledger['order']}").get_data(as_text=True)
    assert f"/admin/payment/new/?order_id={ledger['order']}" in order_page
    with app.app_context():
        assert payments.receipt_room(db.session, db.session.get(Order, ledger["order"])) == Decimal("57.23")


def test_a_contract_page_lists_its_receipts_with_the_partial(app, ledger):
    """templates/admin/receipts/_for_document.html, for the contract page to include."""
    from flask import render_template_string
    from flask_login import login_user

    from models import User
    include = "{% set receipt_doc = ('contract', cid) %}{% include 'admin/receipts/_for_document.html' %}"
    for who, sees in (("rep", True), ("rep2", False)):
        with app.test_request_context("/admin/"):
            login_user(db.session.get(User, ledger[who]))
            html = render_template_string(include, cid=ledger["contract"])
        assert ("¥400.00" in html and "第1期" in html) == sees, who
    assert f"/admin/payment/new/?contract_id={ledger['contract']}" in html


def test_the_administrator_sets_the_write_off_limit(app, ledger, admin_id, new_client):
    assert login(new_client, "fin").get("/admin/payment_settings/").status_code == 403
    admin = login(new_client, "admin")
    refused = admin.post_form("/admin/payment_settings/", {"write_off_limit": "-5"}, follow=True)
    assert "金额必须大于 0" in refused.get_data(as_text=True)
    saved = admin.post_form("/admin/payment_settings/", {"write_off_limit": "200"}, follow=True)
    assert "抹零上限已保存：¥200.00" in saved.get_data(as_text=True)
    with app.app_context():
        assert payments.write_off_limit(db.session) == Decimal("200")
    receive(app, "fin", "450", write_off="150", contract_id=ledger["contract"])
