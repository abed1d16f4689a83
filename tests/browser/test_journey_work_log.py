"""A salesperson writes today's log (the day's figures shown, the superiors named as recipients),
the supervisor finds it on the workbench, opens it (the author then sees it read) and comments;
the author sees the comment. No inline script: the page would fail on a CSP refusal."""
from __future__ import annotations

import pytest

from conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_write_a_log_and_the_leader_comments(app, page, make_user):
    from playwright.sync_api import expect

    make_user("boss", role="总经理", department=("总经办",), display_name="张总")
    make_user("lead", role="主管", superior="boss", display_name="李主管")
    make_user("rep", superior="lead", display_name="陈晓明")

    log_in(page, "rep")
    page.goto(page.base + "/admin/work_log/new")
    expect(page.locator(".kechi-work-log-figures")).to_contain_text("新增客户")
    expect(page.locator(".kechi-work-log-form")).to_contain_text("默认发送给您的上级：李主管、张总")
    page.fill('textarea[name="content"]', "上午拜访华星贸易，下午电话回访三家老客户。")
    page.fill('textarea[name="plan"]', "明天把报价发给华星贸易。")
    screenshot(page, "work-log-write")
    page.click("button:has-text('提交日志')")
    expect(page.locator(".alert-success")).to_contain_text("日志已提交")
    expect(page.locator(".kechi-work-log-receipts")).to_contain_text("李主管")
    expect(page.locator(".kechi-work-log-receipts")).to_contain_text("未读")

    log_in(page, "lead")
    widget = page.locator('[data-widget="logs_to_read"]')
    expect(widget).to_contain_text("待阅日志（1）")
    widget.locator("a:has-text('陈晓明 的日报')").click()
    expect(page.locator('[data-section="content"]')).to_contain_text("上午拜访华星贸易")
    page.fill('textarea[name="content"]', "报价今天就可以发，别等到明天。")
    page.click("button:has-text('发表点评')")
    expect(page.locator(".alert-success")).to_contain_text("点评已发表")
    expect(page.locator(".kechi-work-log-comments")).to_contain_text("李主管")
    screenshot(page, "work-log-commented")

    log_in(page, "rep")
    expect(page.locator('[data-widget="logs_to_read"]')).to_contain_text("我的日志有 1 条新点评")
    page.goto(page.base + "/admin/work_log/?box=mine")
    page.locator(".kechi-work-log-table tbody a").first.click()
    expect(page.locator(".kechi-work-log-comments")).to_contain_text("报价今天就可以发")
    expect(page.locator(".kechi-work-log-receipts")).to_contain_text("已读")
