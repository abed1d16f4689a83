"""A salesperson claims two pool customers from the list, releases one with a reason, and
finds both moves in 流转记录."""
from __future__ import annotations

import pytest

from conftest import FIXED_NOW, log_in, screenshot
from models import Customer, db
from rules import pool as pool_rules

pytestmark = pytest.mark.browser


def test_claim_two_release_one_and_see_the_history(app, page, make_user, make_customer):
    from playwright.sync_api import expect

    make_user("chenxm", display_name="陈晓明")
    ids = [make_customer(name, None) for name in ("西湖龙井茶庄", "千岛湖鱼业", "乌镇民宿")]
    with app.app_context():
        pool = pool_rules.default_pool(db.session)
        for cid in ids:
            c = db.session.get(Customer, cid)
            c.pool_id, c.pool_reason, c.pool_entered_at = pool.id, "new", FIXED_NOW
        db.session.commit()

    log_in(page, "chenxm")
    page.goto(page.base + "/admin/pool/")
    for name in ("西湖龙井茶庄", "千岛湖鱼业"):
        page.locator("table.model-list tr", has_text=name).locator("input.action-checkbox").check()
    page.click("text=选中的")
    page.locator(".dropdown-menu.show a.dropdown-item").get_by_text("领用", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("已领用 2 位客户")
    expect(page.locator("table.model-list")).not_to_contain_text("西湖龙井茶庄")
    screenshot(page, "20-pool-after-claim")

    page.goto(page.base + "/admin/customer/")
    page.locator("table.model-list tr", has_text="千岛湖鱼业").locator("input.action-checkbox").check()
    page.click("text=选中的")
    page.locator(".dropdown-menu.show a.dropdown-item").get_by_text("放弃到客户池", exact=True).click()
    page.fill("#reason", "客户已改行，不再采购")
    page.click("button:has-text('确定放弃')")
    expect(page.locator(".alert-success")).to_contain_text("已将 1 位客户放弃到客户池")

    page.goto(page.base + "/admin/ownership_event/")
    table = page.locator("table.model-list")
    expect(table).to_contain_text("西湖龙井茶庄")
    expect(table.locator("tr", has_text="千岛湖鱼业").filter(has_text="放弃")).to_contain_text("客户已改行")
    expect(table.locator("tr", has_text="千岛湖鱼业").filter(has_text="领用")).to_have_count(1)
    screenshot(page, "21-ownership-history")
    assert [url for url in page.requested if not url.startswith(page.base)] == []
