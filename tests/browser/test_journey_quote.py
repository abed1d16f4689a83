"""A salesperson quotes a customer from its page (two lines, one at 9折), sends the quote, the
customer accepts, and 转订单 makes the order; the print page shows the totals in figures and in
words. Every page without a Content-Security-Policy complaint."""
from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import log_in, screenshot
from models import PriceLevel, Product, ProductPrice, db
from rules import messaging

pytestmark = pytest.mark.browser


def test_quote_send_accept_convert_and_print(app, page, live_server, make_user, make_customer):
    from playwright.sync_api import expect

    rep = make_user("chenxm", display_name="陈晓明")
    customer_id = make_customer("西湖龙井茶庄", rep)
    with app.app_context():
        messaging.save_settings(db.session, {"company_name": "杭州客池茶业有限公司"})
        retail = PriceLevel(name="零售价")
        tea = Product(code="LJ250", name="明前龙井", spec="250g/罐", unit="罐", cost=Decimal("120"))
        cup = Product(code="BZ06", name="青瓷茶杯", spec="6只/盒", unit="盒", cost=Decimal("30"))
        db.session.add_all([retail, tea, cup])
        db.session.flush()
        db.session.add_all([ProductPrice(product_id=tea.id, level_id=retail.id, price=Decimal("268.00")),
                            ProductPrice(product_id=cup.id, level_id=retail.id, price=Decimal("88.00"))])
        db.session.commit()
        tea_id, cup_id = tea.id, cup.id

    log_in(page, "chenxm")
    page.goto(page.base + f"/admin/customer/details/?id={customer_id}")
    page.click("a[href='#tab-quotes']")
    expect(page.locator("#tab-quotes")).to_contain_text("这位客户还没有报价单")
    page.click("#tab-quotes >> text=新建报价")
    expect(page.locator(".select2-container").first).to_contain_text("西湖龙井茶庄")
    page.select_option("#price_level", label="零售价", force=True)
    for index, (product_id, quantity, discount) in enumerate([(tea_id, "2", "0.9"), (cup_id, "3", "1")]):
        page.click("#lines-button")
        page.select_option(f"#lines-{index}-product", value=str(product_id), force=True)
        page.fill(f"#lines-{index}-quantity", quantity)
        page.fill(f"#lines-{index}-discount_rate", discount)
    expect(page.locator("#lines-0-unit_price")).to_have_attribute("placeholder", "¥268.00")
    page.fill("#terms", "款到发货；报价含13%增值税。")
    screenshot(page, "60-quote-form")
    page.locator("input[type=submit][value='保存']").click()

    # 2 × 268 × 0.9 = 482.40; 3 × 88 = 264.00; 746.40 含税, 660.53 + 85.87
    expect(page.locator(".alert-success")).to_contain_text("已保存为草稿")
    expect(page.locator(".kechi-quote-lines")).to_contain_text("9折")
    expect(page.locator(".kechi-quote-total")).to_have_text("¥746.40")
    expect(page.locator(".kechi-quote-ex-tax")).to_have_text("¥660.53")
    expect(page.locator(".kechi-quote-tax")).to_have_text("¥85.87")
    page.click("#kechi-quote-send")
    expect(page.locator(".kechi-quote-state")).to_have_text("已发送")
    page.click("#kechi-quote-accept")
    expect(page.locator(".kechi-quote-state")).to_have_text("已接受")
    screenshot(page, "61-quote-accepted")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#kechi-quote-convert")
    expect(page.locator(".alert-success")).to_contain_text("已转为订单")
    expect(page.locator(".kechi-quote-order")).to_contain_text("已转订单 DD")
    screenshot(page, "62-quote-converted")

    page.click("[data-testid=print-print-menu] .dropdown-toggle")
    with page.expect_popup() as popup:
        page.click("[data-testid=print-print-quote]")  # the default 报价单 template
    printed = popup.value
    printed.wait_for_load_state()
    expect(printed.locator("body")).to_contain_text("杭州客池茶业有限公司")
    expect(printed.locator("body")).to_contain_text("柒佰肆拾陆元肆角整")
    expect(printed.locator("body")).to_contain_text("2026-12-23")
    printed.set_viewport_size({"width": 900, "height": 1200})
    screenshot(printed, "63-quote-print")
    printed.close()

    page.goto(page.base + f"/admin/customer/details/?id={customer_id}")
    page.click("a[href='#tab-quotes']")
    expect(page.locator("#tab-quotes .kechi-quote-table")).to_be_visible()
    expect(page.locator("#tab-quotes .kechi-quote-table")).to_contain_text("¥746.40")
    screenshot(page, "64-customer-quotes-tab")
    page.goto(page.base + "/admin/quote/")
    screenshot(page, "65-quote-list")
