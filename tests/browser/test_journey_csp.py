"""Under a Content-Security-Policy without 'unsafe-inline' for scripts, the administrator of the
demo company walks the main pages and uses what inline handlers used to do: the batch-action menu
of the customer list, adding a contact row while editing, the select that re-runs a report, the
export page's 全选/全不选 and a confirm on the pool. Chromium reports no refused script on the way
(the `page` fixture fails the test on any CSP violation)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import screenshot, seeded_demo
from models import Customer, Order, db

pytestmark = pytest.mark.browser


def test_main_pages_work_under_a_nonce_policy(app, tmp_path, page):
    from playwright.sync_api import expect

    from demo import DEMO_PASSWORD

    seeded_demo(app, tmp_path)
    with app.app_context():
        customer = db.session.scalar(select(Customer.id).where(Customer.owner_id.is_not(None)).limit(1))
        order = db.session.scalar(select(Order.id).limit(1))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(page.base + "/login")
    page.fill("#username", "admin")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")

    for url in ["/admin/", f"/admin/customer/details/?id={customer}", "/admin/pool/", "/admin/order/",
                f"/admin/order/details/?id={order}", "/admin/excel/", "/admin/message_send/"]:
        response = page.goto(page.base + url)
        assert response.ok, url
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => typeof window.jQuery") == "function", url  # Flask-Admin's scripts ran

    # The batch-action menu (Flask-Admin's onclick, now data-kechi-action).
    page.goto(page.base + "/admin/customer/")
    page.locator("input.action-checkbox").first.check()
    page.click("text=选中的")
    page.click("a[data-kechi-action=assign]")
    page.wait_for_url("**/admin/customer/assign/**")

    # Adding a contact row on the edit page (Flask-Admin's faForm.addInlineField).
    page.goto(page.base + f"/admin/customer/edit/?id={customer}")
    rows = page.locator(".inline-field").count()
    page.click("[data-kechi-add-inline]")
    expect(page.locator(".inline-field")).to_have_count(rows + 1)

    # A report's dimension select submits its form when changed.
    page.goto(page.base + "/admin/reports/customers/")
    expect(page.locator("#kechi-chart")).to_have_attribute("data-rendered", "bar")
    page.select_option("#choice-by", "department")
    page.wait_for_url("**by=department**")
    expect(page.locator("#kechi-chart")).to_have_attribute("data-rendered", "bar")
    screenshot(page, "79-report-under-csp")

    # 全选 / 全不选 on the export page.
    page.goto(page.base + "/admin/excel/export/customer/")
    page.click("text=全不选")
    expect(page.locator(".export-col:checked")).to_have_count(0)
    page.click("text=全选")
    expect(page.locator(".export-col:not(:checked)")).to_have_count(0)

    # A confirm on a form: dismissing it keeps the pool as it was.
    page.goto(page.base + "/admin/pool/")
    before = page.url
    page.locator(".kechi-random-claim button[type=submit]").click()
    assert dialogs and "随机领用" in dialogs[-1]
    assert page.url == before
