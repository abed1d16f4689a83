"""工作请示 as people use it: a salesperson fills in a leave (a first try ending before it starts
is refused with what was typed kept), submits it, and his superior, told by the pop-up, finds it
under 我的审批 with a readable summary, opens the request and approves it; the salesperson
sees 已通过."""
from __future__ import annotations

import pytest

from conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_submit_a_leave_and_the_superior_approves_it(app, page, make_user):
    from playwright.sync_api import expect

    make_user("lead", role="主管", display_name="李主管")
    make_user("rep", superior="lead", display_name="陈晓明")
    page.on("dialog", lambda dialog: dialog.accept())

    log_in(page, "rep")
    page.goto(page.base + "/admin/office_request/")
    expect(page.locator('[data-testid="requests-empty"]')).to_contain_text("您还没有提交过申请")
    page.click('[data-testid="new-leave"]')
    page.select_option("#leave_type_id", label="年假")
    page.fill("#start_day", "2026-11-26")
    page.select_option("#start_half", "am")
    page.fill("#end_day", "2026-11-25")
    page.fill("#content", "回老家办理房产手续，工作已交接给刘芳。")
    page.click('[data-testid="request-submit"]')
    expect(page.locator(".alert-danger")).to_contain_text("结束时间不能早于开始时间")
    expect(page.locator("#content")).to_have_value("回老家办理房产手续，工作已交接给刘芳。")
    expect(page.locator("#start_day")).to_have_value("2026-11-26")
    page.fill("#end_day", "2026-11-27")
    page.select_option("#end_half", "am")
    screenshot(page, "office-request-leave-form")
    page.click('[data-testid="request-submit"]')
    expect(page.locator('[data-testid="request-status"]')).to_have_text("审批中")
    expect(page.locator('[data-testid="request-days"]')).to_have_text("1.5 天")
    expect(page.locator('[data-approver="李主管"]').first).to_contain_text("待审批")
    screenshot(page, "office-request-pending")

    log_in(page, "lead")
    expect(page.locator("#kechi-approval-popup")).to_contain_text("陈晓明 请假：年假")
    page.goto(page.base + "/admin/approval/")
    row = page.locator("table.kechi-approvals tbody tr").first
    expect(row).to_contain_text("请假申请")
    expect(row).to_contain_text("陈晓明 请假：年假，2026-11-26 上午 至 2026-11-27 上午，共 1.5 天")
    screenshot(page, "office-request-my-approvals")
    row.locator("a").first.click()
    page.click('[data-testid="approval-document"]')
    expect(page.locator('[data-testid="request-detail"]')).to_contain_text("回老家办理房产手续")
    page.fill('input[name="comment"]', "同意，注意交接")
    page.click('[data-testid="approval-approve"]')
    expect(page.locator(".alert-success")).to_contain_text("已同意")
    expect(page.locator('[data-testid="request-status"]')).to_have_text("已通过")

    log_in(page, "rep")
    page.goto(page.base + "/admin/office_request/")
    expect(page.locator("table.kechi-office-requests tbody tr").first).to_contain_text("已通过")
    screenshot(page, "office-request-list")
    page.locator("table.kechi-office-requests tbody tr a").first.click()
    expect(page.locator('[data-approver="李主管"]').first).to_contain_text("已同意 · 同意,注意交接")
    screenshot(page, "office-request-approved")
