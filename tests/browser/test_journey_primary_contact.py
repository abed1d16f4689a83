"""A salesperson makes another contact the primary one from the customer page's contact tab
(issue 16 item 14), under the page's CSP."""
from __future__ import annotations

import pytest

from conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_set_primary_contact_from_the_customer_page(app, page, make_user, make_customer):
    from playwright.sync_api import expect

    from models import Contact, db

    uid = make_user("chenxm", display_name="陈晓明")
    cid = make_customer("杭州西湖茶业有限公司", uid)
    with app.app_context():
        db.session.add_all([Contact(customer_id=cid, name="龙井", is_primary=True, custom={}),
                            Contact(customer_id=cid, name="碧螺", is_primary=False, custom={})])
        db.session.commit()
    log_in(page, "chenxm")
    page.goto(page.base + f"/admin/customer/details/?id={cid}")
    page.click("a[href='#tab-contacts']")
    row = page.locator("#tab-contacts tr[data-contact]", has_text="碧螺")
    row.locator("[data-testid=set-primary]").click()
    expect(page.locator(".alert-success")).to_contain_text("已将“碧螺”设为首要联系人")
    page.click("a[href='#tab-contacts']")
    badge = "span.badge-primary"   # 首要
    expect(page.locator("#tab-contacts tr[data-contact]", has_text="碧螺").locator(badge)).to_have_count(1)
    expect(page.locator("#tab-contacts tr[data-contact]", has_text="龙井").locator(badge)).to_have_count(0)
    expect(page.locator("#tab-contacts tr[data-contact]", has_text="龙井")).to_contain_text("设为首要联系人")
    screenshot(page, "16-primary-contact")
