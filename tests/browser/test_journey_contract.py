"""A salesperson writes a contract from the customer's page (two lines, one at 9折), submits it
(no approval flow on this branch: it takes effect and locks), orders part of it from the contract
page, and finds it on the list by the customer's name. Every page without a Content-Security-Policy
complaint; screenshots of the form, the contract page and the list."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from conftest import log_in, screenshot
from models import db
from models.contract import ContractLine
from test_rules_contracts import no_approval_flow, team  # noqa: F401 - fixtures
from test_rules_orders import shop  # noqa: F401 - fixture

pytestmark = pytest.mark.browser


def test_contract_written_submitted_and_ordered(app, page, live_server, team):
    from playwright.sync_api import expect

    log_in(page, "rep")
    page.goto(page.base + f"/admin/customer/details/?id={team['customer']}")
    page.click("a[href='#tab-contracts']")
    expect(page.locator("#tab-contracts")).to_contain_text("这位客户还没有合同")
    page.click("#tab-contracts >> text=新建合同")
    expect(page.locator(".select2-container").first).to_contain_text("华星贸易")
    page.fill("#title", "华星茶叶年度供货合同")
    page.fill("#end_on", "2026-12-10")
    page.fill("#their_signatory", "王经理")
    page.select_option("#price_level", label="批发价", force=True)
    for index, (product_id, quantity, discount) in enumerate([(team["tea"], "3", "0.9"), (team["cup"], "7", "1")]):
        page.click("#lines-button")
        page.select_option(f"#lines-{index}-product", value=str(product_id), force=True)
        page.fill(f"#lines-{index}-quantity", quantity)
        page.fill(f"#lines-{index}-discount_rate", discount)
    page.fill("#terms", "分两期付款；货到验收。")
    screenshot(page, "contract-form")
    page.locator("input[type=submit][value='保存']").click()

    # 3 × 16.00 × 0.9 = 43.20; 7 × 3.33 = 23.31; 66.51 含税
    expect(page.locator(".alert-success")).to_contain_text("已保存为草稿")
    expect(page.locator(".kechi-contract-total")).to_have_text("¥66.51")
    expect(page.locator(".kechi-contract-state")).to_have_text("草稿")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#kechi-contract-submit")
    expect(page.locator(".kechi-contract-state")).to_have_text("执行中")
    expect(page.locator(".alert-info")).to_contain_text("已审批生效并锁定")
    page.click("#kechi-contract-order-open")
    with app.app_context():
        tea_line = db.session.scalar(select(ContractLine.id).where(ContractLine.product_id == team["tea"]))
    page.fill(f"input[name='qty-{tea_line}']", "2")
    expect(page.locator("#kechi-contract-order-form")).to_have_class(re.compile(r"\bcollapse show\b"))
    expect(page.locator("#kechi-contract-assign")).to_have_count(0)  # nobody else in a 业务员's scope
    screenshot(page, "contract-detail")
    page.click("#kechi-contract-order")
    expect(page.locator(".alert-success")).to_contain_text("已生成订单")

    page.goto(page.base + "/admin/contract/?search=华星")
    expect(page.locator(".model-list")).to_contain_text("华星茶叶年度供货合同")
    expect(page.locator(".model-list")).to_contain_text("执行中")
    screenshot(page, "contract-list")
    page.goto(page.base + "/admin/contract_expiring/")
    expect(page.locator(".model-list")).to_contain_text("华星茶叶年度供货合同")
    screenshot(page, "contract-expiring")
    page.goto(page.base + f"/admin/customer/details/?id={team['customer']}")
    page.click("a[href='#tab-contracts']")
    expect(page.locator("#tab-contracts .kechi-contract-table")).to_contain_text("华星茶叶年度供货合同")
    expect(page.locator("#tab-contracts")).to_have_class(re.compile(r"\bshow\b"))
    expect(page.locator("#tab-contracts .kechi-contract-table")).to_be_visible()
    screenshot(page, "contract-customer-tab")

