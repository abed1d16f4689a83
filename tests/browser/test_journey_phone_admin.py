"""An administrator opens the admin on a phone (390×844, touch): the 工作台
title reads on one line, the company sales report's table scrolls inside its card instead of
widening the page, the menu folds behind its toggler, and a 手机版 link leads to /m/. Widened
to 1366 the chart follows the window, and the link is not there."""
from __future__ import annotations

import pytest

from conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_admin_pages_fit_a_phone(app, admin_id, phone_page):
    from playwright.sync_api import expect

    # No data needed: the report's months and columns are as wide with zeros as with sales.
    page = phone_page
    log_in(page, "admin")
    expect(page.locator(".kechi-workbench")).to_be_visible()

    title = page.locator(".kechi-workbench h4").first
    one_line = title.evaluate("h => parseFloat(getComputedStyle(h).lineHeight)")
    assert title.bounding_box()["height"] < 1.5 * one_line
    expect(page.locator("#admin-navbar-collapse")).to_be_hidden()
    expect(page.locator(".navbar-toggler")).to_be_visible()
    link = page.locator("#kechi-mobile-link")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == "/m/"
    screenshot(page, "phone-admin-workbench")

    page.goto(page.base + "/admin/reports/sales?start=2026-01-01&end=2026-11-23")
    table = page.locator("#kechi-report-table")
    expect(table).to_contain_text("合计")
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 390
    scroller = page.locator("#kechi-report-card .kechi-table-scroll")
    inner, outer = scroller.evaluate("s => [s.scrollWidth, s.clientWidth]")
    assert inner > outer  # wider than the phone, so it scrolls inside its card
    table.scroll_into_view_if_needed()
    screenshot(page, "phone-admin-sales-report")

    chart = page.locator("#kechi-chart canvas").first
    assert chart.bounding_box()["width"] <= 390
    page.set_viewport_size({"width": 1366, "height": 900})
    page.wait_for_function("document.querySelector('#kechi-chart canvas').getBoundingClientRect().width > 1000")
    page.reload()
    expect(page.locator("#kechi-mobile-link")).to_be_hidden()
    expect(page.locator("#admin-navbar-collapse")).to_be_visible()
