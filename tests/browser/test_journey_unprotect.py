"""A salesperson unprotects a customer and returns it to the pool from the batch menu: the menu
marks the administrator's default way, the release asks for confirmation first, and the
customer then waits in 公共客户 under the pools the page names."""
from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import FIXED_NOW, log_in, screenshot
from models import Customer, db

pytestmark = pytest.mark.browser


def test_unprotect_and_release_from_the_batch_menu(app, page, make_user, make_customer):
    from playwright.sync_api import expect

    rep = make_user("chenxm", display_name="陈晓明")
    cid = make_customer("和泰网络有限公司", rep)
    with app.app_context():
        db.session.get(Customer, cid).protected_until = FIXED_NOW + timedelta(days=10)
        db.session.commit()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))

    log_in(page, "chenxm")
    page.goto(page.base + "/admin/customer/")
    page.locator("table.model-list tr", has_text="和泰网络有限公司").locator("input.action-checkbox").check()
    page.click("text=选中的")
    menu = page.locator(".dropdown-menu.show a.dropdown-item")
    expect(menu.get_by_text("取消保护（默认）", exact=True)).to_be_visible()
    screenshot(page, "30-unprotect-menu")
    menu.get_by_text("取消保护并放回客户池", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("已取消保护 1 位客户，并放回客户池")
    assert dialogs and "放回客户池" in dialogs[0]

    page.goto(page.base + "/admin/pool/")
    expect(page.locator(".kechi-my-pools")).to_contain_text("公共客户池")
    expect(page.locator("table.model-list")).to_contain_text("和泰网络有限公司")
    screenshot(page, "31-pool-after-unprotect-release")
