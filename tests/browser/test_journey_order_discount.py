"""订单折扣审批 in the browser: a salesperson's order at 七五折 cannot be reviewed; he submits it
for discount approval from the order page, his manager gets the pop-up and approves from the
order page's own panel, and the clerk can then 审核 it."""
from __future__ import annotations

from decimal import Decimal

import pytest

from approval_fake import make_flow
from conftest import log_in, screenshot
from models import db
from test_rules_orders import new_order, shop  # noqa: F401 - fixture

pytestmark = pytest.mark.browser


def test_discount_approval_from_the_order_page(app, page, shop, make_user):
    from playwright.sync_api import expect

    make_user("boss", role="经理", department=("销售部",), display_name="王经理")
    with app.app_context():
        make_flow(db.session, {"kind": "users", "users": ["boss"], "name": "经理审批"},
                  doc_type="order_discount", threshold=Decimal("0.85"))
        db.session.commit()
    order_id = new_order(app, shop, lines=[(shop["tea"], 3, None, "0.75")])
    order_url = f"{page.base}/admin/order/details/?id={order_id}"

    log_in(page, "rep")
    page.goto(order_url)
    expect(page.locator('[data-testid="order-discount-needed"]')).to_contain_text("7.5折")
    page.click('[data-testid="order-discount-submit"]')
    expect(page.locator(".alert-success")).to_contain_text("已提交折扣审批")
    expect(page.locator('[data-testid="approval-status"]')).to_have_text("审批中")

    page.context.clear_cookies()
    log_in(page, "boss")
    popup = page.locator("#kechi-approval-popup")
    expect(popup).to_contain_text("折扣 0.75")
    popup.locator("a").click()
    page.click('[data-testid="approval-document"]')
    expect(page).to_have_url(order_url)
    screenshot(page, "order-discount-panel")
    page.click('[data-testid="approval-approve"]')
    expect(page.locator('[data-testid="approval-status"]')).to_have_text("已通过")

    page.context.clear_cookies()
    log_in(page, "clerk")
    page.goto(order_url)
    page.click(f'form[action$="/admin/order/move/approve/?id={order_id}"] button')
    expect(page.locator(".kechi-order-state")).to_have_text("正在配货")
