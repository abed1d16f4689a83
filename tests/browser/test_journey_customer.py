"""A salesperson enters a customer with two contacts, adds a follow-up due today, and finds
the customer in 待回访客户 and under the bell."""
from __future__ import annotations

import pytest

from conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_new_customer_with_contacts_and_a_follow_up_due_today(app, page, make_user):
    from playwright.sync_api import expect

    make_user("chenxm", display_name="陈晓明")
    log_in(page, "chenxm")

    page.goto(page.base + "/admin/customer/new/")
    page.fill("#name", "杭州西湖茶业有限公司")
    page.select_option("select#province", "浙江省")
    page.select_option("select#city", "杭州市")
    page.select_option("select#district", "西湖区")
    page.fill("#mobile", "13905710001")
    for _ in range(2):
        page.click("text=添加 联系人")
    contacts = page.locator(".inline-field-list > .inline-field")
    expect(contacts).to_have_count(2)
    page.fill("#contacts-0-name", "龙井")
    page.fill("#contacts-0-mobile", "13905710002")
    page.fill("#contacts-1-name", "碧螺")
    page.fill("#contacts-1-mobile", "13905710003")
    screenshot(page, "10-new-customer-form")
    page.click("input[type=submit][value='保存']")
    expect(page.locator(".alert-success")).to_be_visible()

    page.click("text=杭州西湖茶业有限公司")
    expect(page.locator(".kechi-360 h4")).to_have_text("杭州西湖茶业有限公司")
    page.click("a[href='#tab-contacts']")
    expect(page.locator("#tab-contacts")).to_contain_text("龙井")
    expect(page.locator("#tab-contacts")).to_contain_text("碧螺")
    expect(page.locator("#tab-contacts tr[data-contact]").first).to_contain_text("首要")

    page.click("a[href='#tab-timeline']")
    page.fill(".kechi-followup-form textarea[name=content]", "电话沟通了春茶采购，约好今天下午再确认数量。")
    today = page.locator(".kechi-followup-form input[name=next_contact_at]").get_attribute("min")
    page.fill(".kechi-followup-form input[name=next_contact_at]", today)
    page.click(".kechi-followup-form button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("已添加联系记录")
    expect(page.locator("#tab-timeline")).to_be_visible()  # back on the tab the user was using
    expect(page.locator("#tab-timeline .kechi-timeline-item")).to_contain_text("春茶采购")
    expect(page.locator(".badge-warning")).to_have_text("今日需回访")
    screenshot(page, "11-customer-360")

    page.goto(page.base + "/admin/due_customer/")
    expect(page.locator("table.model-list")).to_contain_text("杭州西湖茶业有限公司")
    expect(page.get_by_test_id("bell-count")).to_have_text("1")
    page.click("#kechi-bell")
    expect(page.locator(".kechi-bell-menu")).to_contain_text("今天有 1 位客户需要回访")
    screenshot(page, "12-due-and-bell")
    assert [url for url in page.requested if not url.startswith(page.base)] == []
