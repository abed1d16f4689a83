"""A salesperson types numbers the way they come (spaces, +86, full-width digits, an extension),
the list and the 360 page show them formatted, and a wrong area code is explained on the form."""
from __future__ import annotations

import os
import re
import shutil

import pytest

from conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def keep(path) -> None:
    """Also where the team looks at screenshots of this change (outside the repository)."""
    target = os.environ.get("KECHI_SHOTS")
    if target:
        os.makedirs(target, exist_ok=True)
        shutil.copy(path, target)


def test_numbers_typed_any_way_are_shown_formatted(app, page, make_user):
    from playwright.sync_api import expect

    make_user("chenxm", display_name="陈晓明")
    log_in(page, "chenxm")

    page.goto(page.base + "/admin/customer/new/")
    page.fill("#name", "沧州宏达机械有限公司")
    page.fill("#phone", "031-771490681")
    page.click("input[type=submit][value='保存']")
    expect(page.locator(".alert-danger")).to_contain_text("座机号码区号应为 3 或 4 位")
    expect(page.locator("#phone")).to_have_value("031-771490681")  # kept as typed
    keep(screenshot(page, "40-phone-refused"))

    page.fill("#phone", "0317 7149 0681 转 8001")
    page.fill("#mobile", "＋８６ １３８ １２３４ ５６７８")
    page.fill("#fax", "+86 317 7149 0682")
    page.click("text=添加 联系人")
    page.fill("#contacts-0-name", "刘工")
    page.fill("#contacts-0-mobile", "0086 139 0013 9000")
    page.fill("#contacts-0-phone", "+852 2123 4567")
    page.click("input[type=submit][value='保存']")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("table.model-list")).to_contain_text("138 1234 5678")
    keep(screenshot(page, "41-phone-list"))

    page.click("text=沧州宏达机械有限公司")
    expect(page.locator("#tab-record")).to_contain_text("0317-71490681 转 8001")
    expect(page.locator("#tab-record")).to_contain_text("0317-71490682")
    keep(screenshot(page, "42-phone-details"))
    page.click("a[href='#tab-contacts']")
    expect(page.locator("#tab-contacts")).to_have_class(re.compile(r"\bshow\b"))  # faded in
    expect(page.locator("#tab-contacts")).to_contain_text("139 0013 9000")
    expect(page.locator("#tab-contacts")).to_contain_text("+852 2123 4567")
    keep(screenshot(page, "43-phone-contacts"))
