"""开票 in a browser: a salesperson adds the customer's 发票抬头 on its page and requests an invoice
against an active contract; finance issues it, posts it and reverses it (红冲) from the invoice
page, and the customer page shows the balances. Every page without a Content-Security-Policy
complaint; the screenshots are for people to look at."""
from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import log_in, screenshot
from models import Contract, db
from models.contract import ContractStatus
from test_rules_invoices import books, invoice_flow  # noqa: F401 - fixture
from test_rules_orders import shop  # noqa: F401 - fixture

pytestmark = pytest.mark.browser
SHOTS = Path("/work/shots/invoices")


def _shot(page, name: str) -> None:
    path = screenshot(page, name)
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


def test_title_request_issue_post_and_reverse(app, page, live_server, make_user, make_customer):
    from playwright.sync_api import expect

    rep = make_user("chenxm", display_name="陈晓明")
    make_user("lijing", role="财务", department=("财务部",), display_name="李静")
    customer_id = make_customer("杭州西湖茶业有限公司", rep)
    with app.app_context():
        contract = Contract(number="HT202611200001", revision=1, title="2027 年度茶叶供货合同", customer_id=customer_id,
                            owner_id=rep, status=ContractStatus.ACTIVE, signed_on=date(2026, 11, 20),
                            tax_rate=Decimal("0.13"), total=Decimal("120000.00"), received=Decimal("50000.00"))
        db.session.add(contract)
        db.session.commit()
        contract_id = contract.id
    invoice_flow(app, False)  # the approval itself is the approvals journey's; here: invoicing
    page.on("dialog", lambda dialog: dialog.accept())

    log_in(page, "chenxm")
    page.goto(page.base + f"/admin/customer/details/?id={customer_id}")
    page.click("a[href='#tab-invoices']")
    expect(page.locator("#tab-invoices")).to_contain_text("还没有发票抬头")
    page.click("#kechi-title-new")
    page.fill("#name", "杭州西湖茶业有限公司")
    page.fill("#tax_no", "91330100MA2B3C4D5E")
    page.fill("#bank", "中国工商银行杭州西湖支行")
    page.fill("#account", "1202 0212 0900 1234 567")
    page.fill("#address", "杭州市西湖区龙井路 18 号")
    page.fill("#phone", "0571-87961234")
    _shot(page, "invoices-01-title-form")
    page.click("#kechi-title-save")
    expect(page.locator(".alert-success")).to_contain_text("已保存")
    page.click("a[href='#tab-invoices']")
    expect(page.locator(".kechi-invoice-titles")).to_contain_text("91330100MA2B3C4D5E")
    expect(page.locator(".kechi-invoice-titles")).to_contain_text("默认")
    _shot(page, "invoices-02-customer-tab")

    page.goto(page.base + f"/admin/invoice/new/?contract_id={contract_id}")
    expect(page.locator(".kechi-invoice-target")).to_contain_text("¥120,000.00")
    page.fill("#amount", "120000.01")
    page.click("#kechi-invoice-submit")
    expect(page.locator(".alert-danger")).to_contain_text("超出了余额")
    page.fill("#amount", "56500")
    page.fill("#notes", "首期货款，专票寄至采购部王经理")
    _shot(page, "invoices-03-request-form")
    page.click("#kechi-invoice-submit")
    expect(page.locator(".kechi-invoice-state")).to_have_text("待开票")
    expect(page.locator(".kechi-invoice-money")).to_contain_text("¥50,000.00")
    _shot(page, "invoices-04-requested")

    page.context.clear_cookies()
    log_in(page, "lijing")
    page.goto(page.base + "/admin/invoice/")
    expect(page.locator(".model-list")).to_contain_text("杭州西湖茶业有限公司")
    _shot(page, "invoices-05-list")
    page.click(".model-list a:has-text('KP')")
    page.fill("#invoice_no", "33012400000088")
    page.click("#kechi-invoice-issue")
    expect(page.locator(".kechi-invoice-state")).to_have_text("已开票")
    page.fill("#carrier", "顺丰速运")
    page.fill("#tracking_no", "SF1402233445566")
    page.click("#kechi-invoice-send")
    expect(page.locator(".alert-success")).to_contain_text("已登记寄出")
    _shot(page, "invoices-06-issued")
    page.fill("#red_no", "33012400000099")
    page.fill("#red_reason", "税率开错，重开")
    page.click("#kechi-invoice-reverse")
    expect(page.locator(".alert-success")).to_contain_text("已红冲")
    expect(page.locator(".kechi-invoice-money")).to_contain_text("-¥56,500.00")
    _shot(page, "invoices-07-reversal")

    page.goto(page.base + f"/admin/customer/details/?id={customer_id}")
    page.click("a[href='#tab-invoices']")
    expect(page.locator("#tab-invoices [data-balance='received_not_invoiced']")).to_contain_text("¥50,000.00")
    _shot(page, "invoices-08-customer-balances")


def test_the_order_page_section_in_english(app, page, live_server, books):
    """An approved order's 开票 section (its invoice, balances and room), then the customer's
    开票 tab with English chosen."""
    from playwright.sync_api import expect

    from test_rules_invoices import ask
    from test_rules_orders import move, new_order

    order_id = new_order(app, books)
    move(app, order_id, "approve")
    ask(app, books, "50", doc="order", order_id=order_id)
    log_in(page, "rep")
    page.goto(page.base + f"/admin/order/details/?id={order_id}")
    section = page.locator(".kechi-invoices-for")
    expect(section).to_contain_text("可开票余额 ¥27.23")
    expect(section).to_contain_text("KP202611230001")
    section.scroll_into_view_if_needed()
    _shot(page, "invoices-09-order-section")
    page.goto(page.base + "/lang/en")
    page.goto(page.base + f"/admin/customer/details/?id={books['customer']}")
    page.click("a[href='#tab-invoices']")
    expect(page.locator("#tab-invoices")).to_contain_text("Invoice title")
    expect(page.locator("#tab-invoices")).to_contain_text("Received, not invoiced")
    page.wait_for_timeout(300)
    _shot(page, "invoices-10-customer-tab-english")
