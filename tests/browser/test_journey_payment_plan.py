"""A salesperson plans the payment of an approved order on its page: 平均分期 fills the rows, the
sum and the difference follow every keystroke, a plan that does not add up comes back refused
with the difference and the rows as typed, the corrected plan is saved, and the instalments
appear in 回款计划 and 本周应回款. No script breaks the Content-Security-Policy."""
from __future__ import annotations

import pytest

from conftest import log_in, screenshot
from test_rules_orders import move, new_order, shop  # noqa: F401 - fixture

pytestmark = pytest.mark.browser


def test_plan_an_order_in_instalments(app, page, shop):
    from playwright.sync_api import expect

    order_id = new_order(app, shop)  # ¥77.23
    move(app, order_id, "approve")
    log_in(page, "rep")
    page.goto(page.base + f"/admin/order/details/?id={order_id}")
    section = page.locator("#payment-plan")
    expect(section.locator(".kechi-plan-empty")).to_contain_text("还没有回款计划")
    editor = section.locator("form[data-kechi-plan-editor]")
    expect(editor).to_be_visible()  # open while there is no plan

    editor.locator("[data-kechi-plan-split-n]").fill("3")
    editor.locator("[data-kechi-plan-split-first]").fill("2026-11-25")
    editor.locator("[data-kechi-plan-split]").click()
    amounts = editor.locator("[data-kechi-plan-body] [name=amount]")
    expect(amounts).to_have_count(3)
    expect(amounts.nth(0)).to_have_value("25.74")
    expect(amounts.nth(2)).to_have_value("25.75")
    expect(editor.locator("[data-kechi-plan-body] [name=due_on]").nth(2)).to_have_value("2027-01-25")
    expect(editor.locator("[data-kechi-plan-sum]")).to_have_text("¥77.23")
    expect(editor.locator("[data-kechi-plan-diff]")).to_have_text("与订单应收一致")

    amounts.nth(2).fill("20")
    expect(editor.locator("[data-kechi-plan-diff]")).to_have_text("还差 ¥5.75")
    editor.locator("[data-kechi-plan-body] [name=note]").nth(2).fill("尾款")
    screenshot(page, "70-plan-editor-live-difference")
    editor.locator("button[type=submit]").click()
    expect(page.locator(".alert")).to_contain_text("各期金额合计 ¥71.48，与订单应收 ¥77.23 相比还差 ¥5.75")
    expect(page.locator("[data-kechi-plan-body] [name=note]").nth(2)).to_have_value("尾款")  # as typed
    expect(page.locator("[data-kechi-plan-diff]")).to_have_text("还差 ¥5.75")

    page.locator("[data-kechi-plan-add]").click()
    added = page.locator("[data-kechi-plan-body] [name=amount]").nth(3)
    added.fill("5.75")
    expect(page.locator("[data-kechi-plan-body] [name=due_on]").nth(3)).to_have_value("2027-02-25")
    expect(page.locator("[data-kechi-plan-diff]")).to_have_text("与订单应收一致")
    page.locator("[data-kechi-plan-body] [data-kechi-plan-remove]").nth(3).click()
    expect(page.locator("[data-kechi-plan-diff]")).to_have_text("还差 ¥5.75")
    page.locator("[data-kechi-plan-add]").click()
    page.locator("[data-kechi-plan-body] [name=amount]").nth(3).fill("5.75")
    page.locator("form[data-kechi-plan-editor] button[type=submit]").click()
    expect(page.locator(".alert")).to_contain_text("回款计划已保存，共 4 期")
    rows = page.locator("#payment-plan .kechi-plan-table tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("第1期")
    expect(rows.nth(0)).to_contain_text("2026-11-25")
    expect(rows.nth(0)).to_contain_text("待回款")
    screenshot(page, "71-plan-saved-on-order")

    page.goto(page.base + "/admin/payment_plan_week/")
    expect(page.locator("table.model-list tbody tr")).to_have_count(1)
    expect(page.locator(".kechi-plan-week")).to_contain_text("2026-11-23 至 2026-11-29")
    page.goto(page.base + "/admin/payment_plan/")
    expect(page.locator("table.model-list tbody tr")).to_have_count(4)
    screenshot(page, "72-plan-list")
