"""订单 in the panel: a salesperson enters an order, clerks move it through the per-state lists
(single and batch), refusals say why, forged ids in a batch refuse the whole batch, other
salespeople get 404, payments, the customer 360 tabs, products and stock pages."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from conftest import list_table
from models import Customer, Order, OrderEvent, Product, Stock, User, db
from rules import settings
from test_rules_orders import move, new_order, shop  # noqa: F401 - fixture
from test_rules_receipts import receipts_confirmed_without_flow  # noqa: F401 - fixture: no approval flow here


def login(new_client, username):
    client = new_client()
    client.login(username)
    return client


def order_form(shop, **extra):
    data = {"customer": str(shop["customer"]), "price_level": str(shop["retail"]),
            "warehouse": str(shop["warehouse"]), "salesperson": "", "order_date": "", "consignee": "",
            "phone": "", "province": "", "city": "", "district": "", "address": "", "notes": "加急",
            "lines-0-product": str(shop["tea"]), "lines-0-quantity": "3", "lines-0-unit_price": "",
            "lines-0-discount_rate": "0.95",
            "lines-1-product": str(shop["cup"]), "lines-1-quantity": "7", "lines-1-unit_price": "3.33",
            "lines-1-discount_rate": "0.88"}
    data.update(extra)
    return data


def test_a_salesperson_enters_an_order_with_two_lines(app, shop, new_client):
    rep = login(new_client, "rep")
    page = rep.get(f"/admin/order/new/?customer_id={shop['customer']}").get_data(as_text=True)
    assert f'data-json="[{shop["customer"]}, ' in page  # the customer chosen on its page is preselected
    response = rep.post_form("/admin/order/new/", order_form(shop), follow=True)
    html = response.get_data(as_text=True)
    assert "已提交，等待审核" in html
    assert "创建记录成功" not in html  # one success message, the order's own
    assert "¥77.23" in html and "¥68.35" in html and "¥8.88" in html  # total, ex tax, tax
    assert "等待审核" in html
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert (order.total, order.salesperson_id, order.notes) == (Decimal("77.23"), shop["rep"], "加急")
        assert len(order.lines) == 2


def test_a_bad_order_form_keeps_what_was_typed_and_says_why(app, shop, new_client):
    rep = login(new_client, "rep")
    html = rep.post_form("/admin/order/new/", order_form(shop, **{"lines-0-discount_rate": "1.5"}),
                         follow=True).get_data(as_text=True)
    assert "折扣应在 0 到 1 之间" in html
    assert "加急" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 0


def test_a_salesperson_cannot_order_for_a_customer_out_of_scope(app, shop, new_client):
    rep = login(new_client, "rep")
    assert rep.get(f"/admin/order/new/?customer_id={shop['other_customer']}").status_code == 404
    rep.post_form("/admin/order/new/", order_form(shop, customer=str(shop["other_customer"])))
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 0


def test_clerks_approve_from_the_waiting_list_and_each_state_has_its_list(app, shop, new_client):
    first, second = new_order(app, shop), new_order(app, shop)
    clerk = login(new_client, "clerk")
    waiting = list_table(clerk.get("/admin/order_pending/").get_data(as_text=True))
    assert "DD202611230001" in waiting and "DD202611230002" in waiting
    html = clerk.action("/admin/order_pending/", "approve", [first, second]).get_data(as_text=True)
    assert "已审核 2 个订单，进入配货" in html
    assert "DD202611230001" not in list_table(clerk.get("/admin/order_pending/").get_data(as_text=True))
    assert "没有等待审核的订单" in clerk.get("/admin/order_pending/").get_data(as_text=True)
    picking = list_table(clerk.get("/admin/order_picking/").get_data(as_text=True))
    assert "DD202611230001" in picking
    # the shipped list offers 签收 and 退货, the waiting list does not offer 发货
    assert 'data-kechi-action="ship"' not in clerk.get("/admin/order_pending/").get_data(as_text=True)
    assert 'data-kechi-action="sign"' in clerk.get("/admin/order_shipped/").get_data(as_text=True)


def test_batch_ship_asks_for_tracking_numbers_and_deducts_stock(app, shop, new_client):
    first, second = new_order(app, shop), new_order(app, shop, lines=[(shop["tea"], 1, None, "1")])
    for order_id in (first, second):
        move(app, order_id, "approve")
    clerk = login(new_client, "clerk")
    response = clerk.action("/admin/order_picking/", "ship", [first, second], follow=False)
    assert "/batch/ship/" in response.headers["Location"]
    form_url = response.headers["Location"]
    html = clerk.post_form(form_url, {"carrier": "顺丰速运", f"tracking_{first}": "SF001", f"tracking_{second}": ""},
                           follow=True).get_data(as_text=True)
    assert "发货需要填写物流公司和物流单号" in html  # nothing shipped: all or nothing
    assert 'value="SF001"' in html  # what was typed is kept
    html = clerk.post_form(form_url, {"carrier": "顺丰速运", f"tracking_{first}": "SF001",
                                      f"tracking_{second}": "SF002"}, follow=True).get_data(as_text=True)
    assert "已发货 2 个订单，库存已扣减" in html
    with app.app_context():
        assert [o.tracking_no for o in db.session.scalars(select(Order).order_by(Order.id))] == ["SF001", "SF002"]
        assert db.session.scalar(select(Stock.quantity).where(Stock.product_id == shop["tea"])) == 6


def test_a_refused_move_says_why_and_a_mixed_batch_applies_nothing(app, shop, new_client):
    waiting, picking = new_order(app, shop), new_order(app, shop)
    move(app, picking, "approve")
    clerk = login(new_client, "clerk")
    html = clerk.action("/admin/order/", "approve", [waiting, picking]).get_data(as_text=True)
    assert "订单DD202611230002当前状态为“正在配货”，不能审核：只有“等待审核”的订单可以审核" in html
    with app.app_context():
        assert db.session.get(Order, waiting).state == "pending_review"  # not half-applied


@pytest.mark.both_dbs
def test_a_forged_id_in_a_batch_is_refused_without_half_applying(app, shop, new_client):
    mine = new_order(app, shop)
    theirs = new_order(app, shop, who="rep2", customer="other_customer")
    rep = login(new_client, "rep")
    response = rep.action("/admin/order/", "cancel", [mine, theirs], follow=False)
    assert response.status_code == 404
    assert rep.get(f"/admin/order/batch/cancel/?ids={mine},{theirs}").status_code == 404
    with app.app_context():
        assert {o.state for o in db.session.scalars(select(Order))} == {"pending_review"}


@pytest.mark.both_dbs
def test_salespeople_see_and_act_only_on_orders_in_scope(app, shop, new_client):
    mine = new_order(app, shop)
    theirs = new_order(app, shop, who="rep2", customer="other_customer")
    rep = login(new_client, "rep")
    table = list_table(rep.get("/admin/order/").get_data(as_text=True))
    assert "DD202611230001" in table and "DD202611230002" not in table
    for url in (f"/admin/order/details/?id={theirs}", f"/admin/order/edit/?id={theirs}"):
        assert rep.get(url).status_code == 404, url
    token = rep.token(f"/admin/order/details/?id={mine}")
    assert rep.post(f"/admin/order/move/cancel/?id={theirs}", data={"csrf_token": token,
                                                                    "reason": "x"}).status_code == 404
    assert rep.post(f"/admin/order/pay/?id={theirs}", data={"csrf_token": token, "amount": "1"}).status_code == 404
    # the clerk (all) sees both
    clerk = login(new_client, "clerk")
    assert "DD202611230002" in list_table(clerk.get("/admin/order/").get_data(as_text=True))


def test_the_order_page_moves_an_order_and_shows_its_history(app, shop, new_client):
    order_id = new_order(app, shop)
    clerk = login(new_client, "clerk")
    page = f"/admin/order/details/?id={order_id}"
    html = clerk.get(page).get_data(as_text=True)
    assert "kechi-approve" in html and "kechi-ship" not in html
    clerk.post_form(page, {}, to=f"/admin/order/move/approve/?id={order_id}")
    html = clerk.post_form(page, {"carrier": "中通快递", "tracking_no": ""}, to=f"/admin/order/move/ship/?id={order_id}",
                           follow=True).get_data(as_text=True)
    assert "发货需要填写物流公司和物流单号" in html
    html = clerk.post_form(page, {"carrier": "中通快递", "tracking_no": "ZT123"},
                           to=f"/admin/order/move/ship/?id={order_id}", follow=True).get_data(as_text=True)
    assert "已发货 1 个订单" in html and "中通快递 ZT123" in html
    history = html[html.find("kechi-order-history"):]
    assert history.index("提交") < history.index("审核") < history.index("发货")
    html = clerk.post_form(page, {"partial": "1", "qty_1": "1", "qty_2": "0", "reason": "破损"},
                           to=f"/admin/order/move/return/?id={order_id}", follow=True).get_data(as_text=True)
    assert "已办理 1 个订单的退货" in html and "破损" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(OrderEvent.id))) == 4


def test_after_a_partial_return_the_order_page_shows_what_the_customer_kept(app, shop, new_client):
    """Issue 16 item 2: after returning one of three teas the order moved to 退货 for good and its
    订单金额/税额/毛利 still showed the whole order."""
    order_id = new_order(app, shop)
    for step in ("approve", "ship"):
        move(app, order_id, step)
    clerk = login(new_client, "clerk")
    page = f"/admin/order/details/?id={order_id}"
    html = clerk.post_form(page, {"partial": "1", "qty_1": "1", "qty_2": "0", "reason": "破损"},
                           to=f"/admin/order/move/return/?id={order_id}", follow=True).get_data(as_text=True)
    assert "kechi-partly-returned" in html and "kechi-sign" in html  # still 已发货, may still be signed
    total = html[html.find("kechi-order-total"):]
    assert total[:total.find("</td>")].endswith("¥58.32")
    assert "¥51.61 / ¥6.71" in html and "¥32.47 / ¥19.14" in html  # tax and margin of what was kept
    assert "龙井茶 × 1 · ¥18.91" in html
    assert 'max="2" name="qty_1"' in html  # a second return offers what is left
    listing = list_table(clerk.get("/admin/order_shipped/").get_data(as_text=True))
    assert "¥58.32" in listing and "部分退货" in listing
    html = clerk.post_form(page, {}, to=f"/admin/order/move/sign/?id={order_id}", follow=True).get_data(as_text=True)
    assert "已签收 1 个订单" in html
    with app.app_context():
        customer = db.session.get(Customer, shop["customer"])
        assert (customer.purchase_count, customer.purchase_total, customer.points) == (1, Decimal("58.32"), 11)


def test_an_order_waiting_for_review_owes_nothing_on_any_page(app, shop, new_client, make_user):
    """Issue 16 item 4: 等待审核 orders showed 欠款 in red on the order list and the customer page
    while 公司销售报表 left them out."""
    pending = new_order(app, shop)
    approved = new_order(app, shop, lines=[(shop["cup"], 1, None, "1")])  # ¥3.33
    move(app, approved, "approve")
    clerk = login(new_client, "clerk")
    table = list_table(clerk.get("/admin/order/").get_data(as_text=True))
    assert table.count("text-danger") == 1 and "¥3.33</span>" in table
    customer = clerk.get(f"/admin/customer/details/?id={shop['customer']}").get_data(as_text=True)
    money = customer[customer.find("kechi-customer-money"):customer.find("kechi-customer-orders")]
    owed = money[money.find('data-money="outstanding"'):]
    assert "¥3.33" in owed[:owed.find("</div></div>")]
    html = clerk.get(f"/admin/order/details/?id={pending}").get_data(as_text=True)
    assert "统计口径" in html and "等待审核和已取消的订单不计应收" in html
    make_user("boss", role="总经理")
    report = login(new_client, "boss").get("/admin/reports/sales/").get_data(as_text=True)
    assert "等待审核和已取消的订单不计应收" in report


def test_payments_from_the_order_page_and_the_customer_360_tabs(app, shop, new_client):
    order_id = new_order(app, shop)
    move(app, order_id, "approve")
    rep = login(new_client, "rep")
    page = f"/admin/order/details/?id={order_id}"
    html = rep.post_form(page, {"kind": "receipt", "amount": "50", "paid_on": "2026-11-23", "method": "transfer",
                                "note": "首付"}, to=f"/admin/order/pay/?id={order_id}", follow=True).get_data(as_text=True)
    assert "已登记 回款 ¥50.00，等待其他同事确认后计入实收" in html
    html = rep.post_form(page, {"kind": "receipt", "amount": "99", "paid_on": "2026-11-23"},
                         to=f"/admin/order/pay/?id={order_id}", follow=True).get_data(as_text=True)
    assert "回款金额 ¥99.00 超过未收金额 ¥27.23" in html  # the ¥50 waiting for confirmation counts here
    clerk = login(new_client, "clerk")
    assert "已确认 1 笔款项" in clerk.action("/admin/payment_pending/", "approve", [1]).get_data(as_text=True)
    customer = rep.get(f"/admin/customer/details/?id={shop['customer']}").get_data(as_text=True)
    orders_tab = customer[customer.find('id="tab-orders"'):customer.find('id="tab-payments"')]
    assert "DD202611230001" in orders_tab and "¥27.23" in orders_tab
    assert "统计口径" in orders_tab
    payments_tab = customer[customer.find('id="tab-payments"'):]
    assert "¥50.00" in payments_tab


def test_a_confirmer_confirms_waiting_receipts_from_their_list_but_never_their_own(app, shop, new_client,
                                                                                   make_user):
    """Issue 16 item 3: 陈晓明's ¥100 on his own order counted at once, confirmed by himself."""
    order_id = new_order(app, shop)
    move(app, order_id, "approve")
    rep = login(new_client, "rep")
    html = rep.post_form(f"/admin/order/details/?id={order_id}", {"kind": "receipt", "amount": "20"},
                         to=f"/admin/order/pay/?id={order_id}", follow=True).get_data(as_text=True)
    assert "等待其他同事确认后计入实收" in html
    assert 'data-kechi-action="approve"' not in rep.get("/admin/payment/").get_data(as_text=True)
    assert rep.get("/admin/payment_pending/").status_code in (403, 404)
    with app.app_context():
        assert db.session.get(Order, order_id).received == Decimal("0.00")
    # the boss may confirm payments, but not one on his own order
    make_user("boss", role="总经理")
    with app.app_context():
        db.session.get(Customer, shop["customer"]).owner_id = db.session.scalar(
            select(User.id).where(User.username == "boss"))
        db.session.commit()
    own = new_order(app, shop, who="boss")
    move(app, own, "approve")
    boss = login(new_client, "boss")
    html = boss.post_form(f"/admin/order/details/?id={own}", {"kind": "receipt", "amount": "30"},
                          to=f"/admin/order/pay/?id={own}", follow=True).get_data(as_text=True)
    assert "等待其他同事确认后计入实收" in html
    html = boss.action("/admin/payment_pending/", "approve", [2]).get_data(as_text=True)
    assert "订单DD202611230002的这笔款项是您自己登记的，不能由您确认" in html
    clerk = login(new_client, "clerk")
    listing = clerk.get("/admin/payment_pending/").get_data(as_text=True)
    assert "DD202611230001" in list_table(listing) and "¥20.00" in list_table(listing)
    html = clerk.action("/admin/payment_pending/", "approve", [1]).get_data(as_text=True)
    assert "已确认 1 笔款项" in html
    with app.app_context():
        assert db.session.get(Order, order_id).received == Decimal("20.00")
        assert db.session.get(Order, own).received == Decimal("0.00")
    assert "已确认 1 笔款项" in clerk.action("/admin/payment_pending/", "approve", [2]).get_data(as_text=True)
    assert "没有待确认的款项" in clerk.get("/admin/payment_pending/").get_data(as_text=True)


def test_completing_an_order_updates_the_customer(app, shop, new_client):
    order_id = new_order(app, shop)
    for step in ("approve", "ship"):
        move(app, order_id, step)
    clerk = login(new_client, "clerk")
    html = clerk.action("/admin/order_shipped/", "sign", [order_id]).get_data(as_text=True)
    assert "已签收 1 个订单" in html
    with app.app_context():
        customer = db.session.get(Customer, shop["customer"])
        assert (customer.purchase_count, customer.has_deal, customer.points) == (1, True, 13)


@pytest.mark.both_dbs
def test_order_search_combines_filters(app, shop, new_client):
    cheap = new_order(app, shop, lines=[(shop["cup"], 1, None, "1")])
    dear = new_order(app, shop)
    move(app, dear, "approve")
    clerk = login(new_client, "clerk")
    html = clerk.get("/admin/order/").get_data(as_text=True)
    assert "订单金额" in html and "产品（编号或名称）" in html
    # filters are addressed by position in column_filters: state=0, total greater=11, product=13
    table = list_table(clerk.get("/admin/order/?flt0_0=picking&flt1_13=龙井").get_data(as_text=True))
    assert "DD202611230002" in table and "DD202611230001" not in table
    table = list_table(clerk.get("/admin/order/?flt1_13=茶杯&flt2_11=50").get_data(as_text=True))
    assert "DD202611230002" in table and "DD202611230001" not in table
    table = list_table(clerk.get("/admin/order/?search=DD202611230001").get_data(as_text=True))
    assert "DD202611230001" in table and "DD202611230002" not in table
    # an amount as people type it (PostgreSQL refused to compare the amount with text)
    table = list_table(clerk.get("/admin/order/?flt0_11=1,000.00").get_data(as_text=True))
    assert "DD202611230001" not in table
    assert "订单金额" in clerk.get("/admin/order/?flt0_11=很多").get_data(as_text=True)  # ignored, not an error
    assert cheap


def test_product_entry_warns_of_a_second_product_with_the_same_name(app, shop, new_client):
    clerk = login(new_client, "clerk")
    form = {"code": "P900", "name": "龙井茶", "spec": "500g", "unit": "罐", "category": "", "cost": "20",
            "points": "1", "safety_stock": "0", "active": "y", "notes": "", f"price_{shop['retail']}": "39.9",
            f"price_{shop['wholesale']}": ""}
    html = clerk.post_form("/admin/product/new/", form, follow=True).get_data(as_text=True)
    assert "已有同名产品“龙井茶”（编号 P001，250g/罐）" in html
    html = clerk.post_form("/admin/product/new/", dict(form, confirm_duplicates="y"), follow=True).get_data(as_text=True)
    with app.app_context():
        product = db.session.scalar(select(Product).where(Product.code == "P900"))
        assert product is not None and [p.price for p in product.prices] == [Decimal("39.90")]
    html = clerk.post_form("/admin/product/new/", dict(form, code="p001", name="别的"), follow=True).get_data(as_text=True)
    assert "产品编号“P001”已被“龙井茶”使用" in html
    listing = list_table(clerk.get("/admin/product/?search=ljc").get_data(as_text=True))
    assert "P001" in listing and "P900" in listing and "P002" not in listing
    assert "零售价 ¥19.90" in listing


def test_stock_pages(app, shop, new_client):
    clerk = login(new_client, "clerk")
    html = clerk.post_form("/admin/stock/adjust/", {"product_id": str(shop["tea"]), "warehouse_id": str(shop["warehouse"]),
                                                    "reason": "out", "quantity": "20"}, follow=True).get_data(as_text=True)
    assert "“龙井茶”在“上海仓”库存不足：现有 10，需要 20" in html
    html = clerk.post_form("/admin/stock/adjust/", {"product_id": str(shop["tea"]), "warehouse_id": str(shop["warehouse"]),
                                                    "reason": "out", "quantity": "6"}, follow=True).get_data(as_text=True)
    assert "已记录库存变动，现有 4" in html
    assert "龙井茶" in list_table(clerk.get("/admin/low_stock/").get_data(as_text=True))
    assert "出库" in list_table(clerk.get("/admin/stock_movement/").get_data(as_text=True))
    rep = login(new_client, "rep")
    assert rep.get("/admin/stock/adjust/").status_code == 403


@pytest.mark.parametrize("url", ["/admin/order_settings/", "/admin/price_level/", "/admin/warehouse/"])
def test_settings_pages_are_for_their_roles(app, shop, new_client, url):
    rep = login(new_client, "rep")
    assert rep.get(url).status_code == 403


def test_points_are_redeemed_from_the_customer_page_with_a_log(app, shop, new_client):
    order_id = new_order(app, shop)
    for step in ("approve", "ship", "sign"):
        move(app, order_id, step)
    rep = login(new_client, "rep")
    page = f"/admin/customer/details/?id={shop['customer']}"
    html = rep.post_form(page, {"points": "10", "note": "兑换茶具一套"},
                         to=f"/admin/order/redeem/?customer_id={shop['customer']}", follow=True).get_data(as_text=True)
    assert "已兑换 10 积分，剩余 3 分" in html
    log = html[html.find("kechi-points-log"):]
    assert "兑换茶具一套" in log and "-10" in log and "+13" in log
    html = rep.post_form(page, {"points": "5"}, to=f"/admin/order/redeem/?customer_id={shop['customer']}",
                         follow=True).get_data(as_text=True)
    assert "积分不足：现有 3 分，需要 5 分" in html
    rep2 = login(new_client, "rep2")
    token = rep2.token("/admin/")
    assert rep2.post(f"/admin/order/redeem/?customer_id={shop['customer']}",
                     data={"csrf_token": token, "points": "1"}).status_code == 404


def test_order_settings_change_numbering_tax_and_policies(app, shop, new_client, admin_id):
    admin = login(new_client, "admin")
    html = admin.post_form("/admin/order_settings/", {"order_number_pattern": "SO{yyyy}", "order_tax_rate": "13",
                                                      "order_deal_category": "成交客户"}, follow=True).get_data(as_text=True)
    assert "编号规则必须且只能包含一个 {seq}" in html
    assert 'value="SO{yyyy}"' in html  # what was typed stays
    html = admin.post_form("/admin/order_settings/", {"order_number_pattern": "SO{yyyy}-{seq:05d}", "order_tax_rate": "6",
                                                      "order_deal_category": "重点客户", "allow_negative_stock": "1",
                                                      "payment_requires_approval": "1"}, follow=True).get_data(as_text=True)
    assert "订单设置已保存" in html and "SO2026-00001" in html  # the next number, previewed
    order_id = new_order(app, shop)
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.number.startswith("SO") and order.tax_rate == Decimal("0.06")
        assert settings.get(db.session, "allow_negative_stock") is True


def test_an_order_waiting_for_review_can_be_changed_and_then_not(app, shop, new_client):
    order_id = new_order(app, shop)
    rep = login(new_client, "rep")
    edit = f"/admin/order/edit/?id={order_id}"
    html = rep.get(edit).get_data(as_text=True)
    assert 'name="lines-0-quantity"' in html
    with app.app_context():
        line_ids = [line.id for line in db.session.get(Order, order_id).lines]
    form = order_form(shop, **{"lines-0-id": str(line_ids[0]), "lines-1-id": str(line_ids[1]), "lines-0-quantity": "4"})
    rep.post_form(edit, form, follow=True)
    with app.app_context():
        assert db.session.get(Order, order_id).total == Decimal("96.13")
    move(app, order_id, "approve")
    html = rep.get(edit, follow_redirects=True).get_data(as_text=True)
    assert "只有“等待审核”的订单可以修改" in html


def test_products_take_custom_fields(app, shop, new_client, admin_id):
    from models import CustomField

    with app.app_context():
        db.session.add(CustomField(entity="product", key="origin", label="产地", field_type="text", show_in_list=True))
        db.session.commit()
    admin = login(new_client, "admin")
    form = {"code": "P777", "name": "安吉白茶", "spec": "", "unit": "", "category": "", "cost": "10", "points": "0",
            "safety_stock": "0", "active": "y", "notes": "", "cf_origin": "浙江安吉"}
    admin.post_form("/admin/product/new/", form, follow=True)
    assert "浙江安吉" in list_table(admin.get("/admin/product/").get_data(as_text=True))


def test_bad_return_quantities_and_foreign_return_urls_are_refused(app, shop, new_client):
    order_id = new_order(app, shop)
    for step in ("approve", "ship"):
        move(app, order_id, step)
    clerk = login(new_client, "clerk")
    page = f"/admin/order/details/?id={order_id}"
    html = clerk.post_form(page, {"partial": "1", "qty_1": "两个", "qty_2": "0", "reason": "破损"},
                           to=f"/admin/order/move/return/?id={order_id}", follow=True).get_data(as_text=True)
    assert "退货数量应为整数" in html
    html = clerk.post_form(page, {"partial": "1", "qty_1": "9", "qty_2": "0", "reason": "破损"},
                           to=f"/admin/order/move/return/?id={order_id}", follow=True).get_data(as_text=True)
    assert "“龙井茶”的退货数量应在 0 到 3 之间" in html
    with app.app_context():
        assert db.session.get(Order, order_id).state == "shipped"
    waiting = new_order(app, shop)
    form_url = f"/admin/order/batch/cancel/?ids={waiting}&url=//evil.example/"
    response = clerk.post_form(form_url, {"reason": "客户取消"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/order/")


def test_the_order_export_is_a_workbook_a_chinese_excel_reads(app, shop, new_client, clock):
    """导出Excel of orders (issue 16 item 5): xlsx named in local time, 审核时间 in local time,
    money as numbers shown ¥, 退货金额 and 退货数量 present, only the salesperson's own orders, the
    download audited; Flask-Admin's CSV address leads there."""
    from datetime import datetime, timezone
    from urllib.parse import unquote

    from openpyxl import load_workbook
    from io import BytesIO

    from conftest import sheet_rows, xlsx_export
    from models import AuditLog, OrderLine

    mine = new_order(app, shop)
    new_order(app, shop, who="rep2", customer="other_customer")
    move(app, mine, "approve")
    with app.app_context():  # approved at 07:16 on 6 December in Shanghai; one 罐 came back
        db.session.execute(Order.__table__.update().where(Order.id == mine).values(
            approved_at=datetime(2026, 12, 5, 23, 16, 27, 523537, tzinfo=timezone.utc), returned_amount=Decimal("18.91")))
        db.session.execute(OrderLine.__table__.update().where(OrderLine.order_id == mine,
                                                              OrderLine.product_id == shop["tea"]).values(returned_quantity=1))
        db.session.commit()
    clock.set(datetime(2026, 12, 5, 23, 30, tzinfo=timezone.utc))
    rep = login(new_client, "rep")
    listed = rep.get("/admin/order/").get_data(as_text=True)
    assert 'id="kechi-export-xlsx"' in listed and "export/csv" not in listed
    redirect = rep.get("/admin/order/export/csv/?search=DD")
    assert redirect.status_code == 302 and redirect.headers["Location"].endswith("/admin/excel/export/order/?search=DD")

    with xlsx_export(rep, "order") as response:
        assert response.mimetype.endswith("spreadsheetml.sheet")
        name = unquote(response.headers["Content-Disposition"])
        data = response.data
    assert "导出订单-20261206-0730.xlsx" in name
    sheet = load_workbook(BytesIO(data)).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    assert {"订单编号", "订单金额", "审核时间", "退货金额", "退货数量", "业务员", "状态"} <= set(header)
    assert len(rows) == 2  # the header and rep's one order: rep2's is outside his scope
    cell = {h: c for h, c in zip(header, rows[1])}
    assert cell["订单编号"].value == "DD202611230001"
    assert cell["订单金额"].value == 77.23 and "¥" in cell["订单金额"].number_format
    assert cell["退货金额"].value == 18.91 and "¥" in cell["退货金额"].number_format
    assert cell["退货数量"].value == 1
    assert cell["审核时间"].value == "2026-12-06 07:16"
    assert cell["状态"].value == "正在配货"
    with app.app_context():
        logged = db.session.scalar(select(AuditLog).where(AuditLog.action == "export", AuditLog.entity == "Order"))
        assert logged is not None and logged.changes["rows"] == 1

    # each state's list exports what it shows
    clerk = login(new_client, "clerk")
    pending = sheet_rows(xlsx_export(clerk, "order/from/order_pending"))
    assert [r[0] for r in pending[1:]] == ["DD202611230002"]


def test_the_cancel_action_is_offered_to_exactly_those_the_rule_lets_cancel(app, shop, new_client, make_user):
    """取消 needs order.create or order.approve (rules/orders.TRANSITIONS): someone who may only
    look at orders is not offered it on the lists or the order page, and a forged request does
    nothing; a salesperson who enters orders is offered it and it works."""
    from models import Role

    with app.app_context():
        db.session.add(Role(name="查单员", data_scope="all", permissions=["order.view"]))
        db.session.commit()
    make_user("viewer", role="查单员", department=("内勤部",))
    order_id = new_order(app, shop)
    viewer = login(new_client, "viewer")
    for url in ("/admin/order/", "/admin/order_pending/"):
        html = viewer.get(url).get_data(as_text=True)
        assert "DD202611230001" in list_table(html)
        assert 'data-kechi-action="cancel"' not in html, url
    assert 'id="kechi-cancel"' not in viewer.get(f"/admin/order/details/?id={order_id}").get_data(as_text=True)
    response = viewer.action("/admin/order/", "cancel", [order_id], follow=False)
    assert "/batch/" not in response.headers.get("Location", "")
    assert viewer.get(f"/admin/order/batch/cancel/?ids={order_id}").status_code == 403
    with app.app_context():
        assert db.session.get(Order, order_id).state == "pending_review"

    rep = login(new_client, "rep")
    assert 'data-kechi-action="cancel"' in rep.get("/admin/order_pending/").get_data(as_text=True)
    assert 'id="kechi-cancel"' in rep.get(f"/admin/order/details/?id={order_id}").get_data(as_text=True)
    form_url = rep.action("/admin/order_pending/", "cancel", [order_id], follow=False).headers["Location"]
    assert "已取消 1 个订单" in rep.post_form(form_url, {"reason": "客户不要了"}, follow=True).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Order, order_id).state == "cancelled"
