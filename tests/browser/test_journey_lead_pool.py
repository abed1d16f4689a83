"""A salesperson opens the 线索池, claims one lead from the list and three more at random (after
confirming), and the administrator sees the lead pool beside the customer pools on 客户池设置."""
from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import FIXED_NOW, log_in, screenshot
from models import Lead, db
from rules import pool as pool_rules
from rules.pool_subject import LEADS

pytestmark = pytest.mark.browser


def test_claim_a_lead_then_three_at_random(app, page, make_user, admin_id):
    from playwright.sync_api import expect

    make_user("chenxm", display_name="陈晓明")
    names = ["杭州绿源科技", "宁波海田贸易", "温州东瓯鞋业", "嘉兴南湖食品", "绍兴古越酒业"]
    with app.app_context():
        pool = pool_rules.default_pool(db.session, LEADS)
        pool.hidden_fields = ["mobile"]
        for minutes, name in enumerate(names):
            db.session.add(Lead(name=name, company=name + "有限公司", contact_name="王经理", mobile="13900001111",
                                province="浙江省", city="杭州市", pool_id=pool.id, pool_reason="new",
                                pool_entered_at=FIXED_NOW - timedelta(minutes=minutes)))
        db.session.commit()

    log_in(page, "chenxm")
    page.goto(page.base + "/admin/lead_pool/")
    expect(page.locator(".kechi-my-pools")).to_contain_text("公共线索池")
    expect(page.locator("table.model-list")).to_contain_text("领用后可见")
    screenshot(page, "lead-pool-list")
    page.locator("table.model-list tr", has_text="杭州绿源科技").locator("input.action-checkbox").check()
    page.click("text=选中的")
    page.locator(".dropdown-menu.show a.dropdown-item").get_by_text("领用", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("已领用 1 条线索")
    expect(page.locator("table.model-list")).not_to_contain_text("杭州绿源科技")

    page.wait_for_load_state()  # the confirmation is bound by kechi-page.js at the page's end
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.fill(".kechi-random-claim input[name=count]", "3")
    page.click(".kechi-random-claim button")
    expect(page.locator(".alert-success")).to_contain_text("随机领用了 3 条线索")
    assert asked == ["从线索池中随机领用这么多条线索吗？"]
    screenshot(page, "lead-pool-after-random-claim")
    with app.app_context():
        assert db.session.query(Lead).filter(Lead.owner_id.is_(None)).count() == 1

    page.context.clear_cookies()
    log_in(page, "admin")
    page.goto(page.base + "/admin/pool_settings/")
    expect(page.locator("table.model-list")).to_contain_text("公共线索池")
    screenshot(page, "pool-settings-with-lead-pool")
    page.goto(page.base + "/admin/pool_settings/new/")
    expect(page.locator("select[name=kind]")).to_be_visible()
    screenshot(page, "pool-settings-new")
    assert page.csp_violations == []
    assert [url for url in page.requested if not url.startswith(page.base)] == []
