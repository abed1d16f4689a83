"""A salesperson logs in, sees the workbench in Chinese and only their own customers."""
from __future__ import annotations

import pytest

from conftest import PASSWORD, screenshot

pytestmark = pytest.mark.browser


def test_salesperson_sees_chinese_workbench_and_only_own_customers(page, make_user, make_customer):
    from playwright.sync_api import expect

    rep1 = make_user("chenxm", display_name="陈晓明")
    rep2 = make_user("liufang", display_name="刘芳")
    for name in ("华为技术有限公司", "深圳市腾讯计算机系统有限公司", "杭州海康威视数字技术股份有限公司"):
        make_customer(name, rep1, phone="13800000000")
    make_customer("刘芳的大客户有限公司", rep2)

    page.goto(page.base + "/admin/customer/")
    expect(page).to_have_url(page.base + "/login?next=/admin/customer/?")
    expect(page.locator("h1")).to_contain_text("客池CRM")
    screenshot(page, "01-login")
    page.fill("#username", "chenxm")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")
    expect(page.locator("#username")).to_have_value("chenxm")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")

    expect(page).to_have_url(page.base + "/admin/customer/")
    rows = page.locator("table.model-list tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("table.model-list")).not_to_contain_text("刘芳的大客户有限公司")
    expect(page.locator("table.model-list thead")).to_contain_text("客户名称")
    screenshot(page, "03-customer-list")

    page.click("a.navbar-brand")
    expect(page.locator(".kechi-workbench h4")).to_have_text("工作台")
    expect(page.locator("[data-widget=customers] .kechi-widget-value")).to_have_text("3")
    expect(page.locator("nav")).to_contain_text("客户管理")
    expect(page.locator("nav")).not_to_contain_text("系统设置")
    screenshot(page, "02-workbench")

    page.click("#kechi-user")
    page.click("text=退出登录")
    expect(page).to_have_url(page.base + "/login")
    outside = [url for url in page.requested if not url.startswith(page.base)]
    assert outside == []
