"""The 财务 opens 应收账龄 and 回款统计 on the small book of tests/test_finance_reports.py: the
charts are drawn by the ECharts this app serves (no CSP refusal, no request leaves the machine),
the figures and 统计口径 are on the page, and 本周应回款 / 逾期回款 are on 陈's workbench."""
from __future__ import annotations

import shutil

import pytest

from conftest import log_in, screenshot
from test_finance_reports import fill_book
from test_journey_reports import PAINTED

pytestmark = pytest.mark.browser
SHOTS = "/work/shots/fin-reports"


def keep(path) -> None:
    """A copy for the people reviewing this branch, when their folder exists."""
    try:
        shutil.copy(path, SHOTS)
    except OSError:
        pass


def test_finance_reports_draw_their_charts_and_figures(app, page, make_user):
    from playwright.sync_api import expect

    fill_book(app, make_user)
    log_in(page, "cai")
    for url, name, text in [
            ("/admin/reports/ageing/", "90-fin-ageing", "¥58,500.00"),
            ("/admin/reports/ageing/?by=department", "91-fin-ageing-department", "销售二部"),
            ("/admin/reports/receipts/?start=2026-01-01&end=2026-11-23", "92-fin-receipts", "¥22,200.00"),
            ("/admin/reports/receipts/?start=2026-01-01&end=2026-11-23&by=method", "93-fin-receipts-method", "银行转账"),
            ("/admin/reports/plan-actual/?start=2026-01-01&end=2026-11-23", "94-fin-plan-actual", "23.1%"),
            ("/admin/reports/overdue/", "95-fin-overdue", "114"),
            ("/admin/reports/invoices/?start=2026-01-01&end=2026-11-23", "96-fin-invoices", "¥5,800.00"),
            ("/admin/reports/contracts/?start=2026-01-01&end=2026-11-23&by=product", "97-fin-contracts-product", "产品A")]:
        page.goto(page.base + url)
        expect(page.locator("#kechi-chart")).to_have_attribute("data-rendered", "bar")
        assert page.evaluate(PAINTED) > 500, url
        expect(page.locator("#kechi-report-table")).to_contain_text(text)
        expect(page.locator("#kechi-report-definition")).to_contain_text("统计口径")
        keep(screenshot(page, name))
    page.goto(page.base + "/admin/reports/receipts/?start=2026-01-01&end=2026-11-23&by=method")
    page.click("[data-chart-type=pie]")
    expect(page.locator("#kechi-chart")).to_have_attribute("data-rendered", "pie")
    keep(screenshot(page, "98-fin-receipts-pie"))

    page.context.clear_cookies()  # 陈 signs in on the same browser
    log_in(page, "chen")
    page.goto(page.base + "/admin/")
    expect(page.locator('[data-widget="plans_due_this_week"]')).to_contain_text("¥10,000.00")
    expect(page.locator('[data-widget="overdue_plans"]')).to_contain_text("¥10,000.00")
    keep(screenshot(page, "99-fin-workbench"))
    assert page.requested and all(u.startswith(page.base) for u in page.requested), \
        [u for u in page.requested if not u.startswith(page.base)]
