"""A manager opens 客户数量报表 by province, switches the chart from bar to pie, clicks 浙江省 and
lands on the customer list of 浙江省; the chart is drawn by the ECharts this app serves, and no
request leaves the machine."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from conftest import log_in, screenshot
from models import Customer, User, db

pytestmark = pytest.mark.browser

PAINTED = """() => {
  const canvas = document.querySelector('#kechi-chart canvas');
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 16) { if (data[i] > 0) painted++; }
  return painted;
}"""


def test_customer_count_by_province_bar_to_pie_then_drill_down(app, page, make_user):
    from playwright.sync_api import expect

    boss = make_user("boss", role="总经理", department=("总经办",), display_name="张总")
    rep = make_user("chen", display_name="陈晓明")
    with app.app_context():
        dept = db.session.get(User, rep).department_id
        created = datetime(2026, 3, 1, 2, tzinfo=timezone.utc)
        for i, province in enumerate(["浙江省"] * 4 + ["江苏省"]):
            db.session.add(Customer(name=f"{province[:2]}客户{i}", owner_id=rep, department_id=dept,
                                    province=province, created_at=created, updated_at=created))
        db.session.commit()
    assert boss

    log_in(page, "boss")
    page.goto(page.base + "/admin/reports/customers/?by=province")
    chart = page.locator("#kechi-chart")
    expect(chart).to_have_attribute("data-rendered", "bar")
    assert page.evaluate(PAINTED) > 500  # bars and axes, not an empty canvas
    expect(page.locator("#kechi-report-table")).to_contain_text("浙江省")
    screenshot(page, "70-report-customers-bar")

    page.click("[data-chart-type=pie]")
    expect(chart).to_have_attribute("data-rendered", "pie")
    assert page.evaluate(PAINTED) > 500
    screenshot(page, "71-report-customers-pie")

    # 浙江省 is 4 of 5: its slice runs clockwise from twelve o'clock past nine o'clock, so a point
    # left of the centre, between the pie's inner (30%) and outer (65%) radius, is on it.
    box = chart.bounding_box()
    radius = min(box["width"], box["height"]) / 2 * 0.48
    page.mouse.click(box["x"] + box["width"] / 2 - radius, box["y"] + box["height"] / 2)
    page.wait_for_url("**/admin/customer/?flt*")
    listed = page.locator("table.model-list")
    for i in range(4):
        expect(listed).to_contain_text(f"浙江客户{i}")
    expect(listed).not_to_contain_text("江苏客户4")
    screenshot(page, "72-report-drill-down-list")

    assert page.requested and all(url.startswith(page.base) for url in page.requested), \
        [url for url in page.requested if not url.startswith(page.base)]
