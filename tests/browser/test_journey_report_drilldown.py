"""A 主管 opens 公司销售报表, clicks April's 应收 bar and lands on the order list of April: the
orders of their department past review (刘's returned O3 and 陈's O6), not 孙's (another
department) nor the one still awaiting review; no request leaves the machine."""
from __future__ import annotations

import pytest

from conftest import log_in, screenshot
from test_reports import shop  # noqa: F401  (the fixed data set of the report tests)

pytestmark = pytest.mark.browser

BAR = """([series, index]) => {
  const layout = window.kechiChart.getModel().getSeriesByIndex(series).getData().getItemLayout(index);
  return {x: layout.x + layout.width / 2, y: layout.y + layout.height / 2};
}"""


def test_a_month_bar_of_company_sales_opens_that_months_orders(app, page, shop):  # noqa: F811
    from playwright.sync_api import expect

    log_in(page, "li")
    page.goto(page.base + "/admin/reports/sales/?start=2026-01-01&end=2026-11-23")
    chart = page.locator("#kechi-chart")
    expect(chart).to_have_attribute("data-rendered", "bar")
    expect(page.locator("#kechi-report-table")).to_contain_text("2026-04")

    box = chart.bounding_box()
    april = page.evaluate(BAR, [0, 3])  # 应收, the fourth month of the range
    page.mouse.click(box["x"] + april["x"], box["y"] + april["y"])
    page.wait_for_url("**/admin/order/?flt*")
    listed = page.locator("table.model-list")
    expect(listed).to_contain_text("O3")
    expect(listed).to_contain_text("O6")
    for other in ("O1", "O2", "O4", "O5"):  # March; 孙's cancelled and awaiting-review orders
        expect(listed).not_to_contain_text(other)
    expect(page.locator("body")).to_contain_text("已审核")  # the filter is shown
    screenshot(page, "73-report-sales-drill-down-orders")

    assert page.requested and all(url.startswith(page.base) for url in page.requested), \
        [url for url in page.requested if not url.startswith(page.base)]
