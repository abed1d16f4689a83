"""After a partial return the order page proposes the refund: switching the payment form to
退款 puts 应退 in the amount (issue 16 item 17: it used to leave the amount empty), switching
back proposes what is still to be received, and a number the clerk typed stays."""
from __future__ import annotations

import pytest

from conftest import log_in, screenshot
from models import Order, db
from test_rules_orders import move, new_order, shop  # noqa: F401 - fixture
from test_rules_payments import pay
from test_rules_receipts import receipts_confirmed_without_flow  # noqa: F401 - fixture: no approval flow here

pytestmark = pytest.mark.browser


def test_switching_to_refund_proposes_what_is_refundable(app, shop, page, live_server):
    from playwright.sync_api import expect

    order_id = new_order(app, shop)  # 3 罐龙井 ¥56.72 + 7 盒茶杯 ¥20.51 = ¥77.23
    pay(app, order_id, "70", who="clerk")
    for step in ("approve", "ship"):
        move(app, order_id, step)
    with app.app_context():
        tea = next(line.id for line in db.session.get(Order, order_id).lines if line.product_id == shop["tea"])
    move(app, order_id, "return", quantities={tea: 1})  # ¥18.91 back: keeps ¥58.32, paid ¥70 → 应退 ¥11.68
    waiting = new_order(app, shop, lines=[(shop["cup"], 3, None, "1")])  # ¥9.99, the salesperson's receipt waits
    move(app, waiting, "approve")
    pay(app, waiting, "9.99", who="rep")
    new_order(app, shop, lines=[(shop["tea"], 1, None, "1")])  # 等待审核: owes nothing yet

    log_in(page, "clerk")
    page.goto(page.base + f"/admin/order/details/?id={order_id}")
    expect(page.locator(".kechi-partly-returned")).to_have_text("部分退货")
    expect(page.locator(".kechi-order-state")).to_have_text("已发货")
    kind, amount = page.locator(".kechi-pay-form select[name=kind]"), page.locator(".kechi-pay-form input[name=amount]")
    expect(kind).to_have_value("refund")
    expect(amount).to_have_value("11.68")
    kind.select_option("receipt")
    expect(amount).to_have_value("")  # nothing more to receive
    kind.select_option("refund")
    expect(amount).to_have_value("11.68")
    amount.fill("5.00")
    kind.select_option("receipt")
    expect(amount).to_have_value("5.00")  # typed by the clerk: kept
    kind.select_option("refund")
    amount.fill("11.68")
    screenshot(page, "money-order-partly-returned")
    page.locator(".kechi-pay-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("已登记 退款 ¥11.68")
    expect(page.locator("[data-money=refunded]")).to_contain_text("¥11.68")
    expect(page.locator("[data-money=refundable]")).to_contain_text("¥0.00")

    page.goto(page.base + "/admin/order/")
    expect(page.locator("table.model-list tr", has_text="DD202611230001")).to_contain_text("部分退货")
    screenshot(page, "money-order-list")
    page.goto(page.base + "/admin/payment_pending/")
    expect(page.locator("table.model-list tr", has_text="DD202611230002")).to_contain_text("¥9.99")
    screenshot(page, "money-pending-payments")
    page.goto(page.base + f"/admin/customer/details/?id={shop['customer']}")
    page.click("a[href='#tab-orders']")
    expect(page.locator("#tab-orders")).to_be_visible()
    owed = page.locator("#tab-orders .kechi-customer-money [data-money=outstanding]")
    expect(owed).to_contain_text("¥9.99")  # the approved order only; the one waiting for review owes nothing
    screenshot(page, "money-customer-orders-tab")
