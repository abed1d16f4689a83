"""Stored XSS on the report pages: an order clerk names a product, an administrator names an
employee, a department and the dictionary items (客户分类, 跟进程度, ...) with markup that would end
the chart's <script> block or an attribute. The boss then opens every report page the admin
registers (each statistic dimension of the customer-count, product, follow-up and pool reports)
and the workbench in Chromium: no script of the payload runs, no dialog opens, the names show as
text, and the charts are still drawn."""
from __future__ import annotations

import pytest

from conftest import log_in, screenshot
from models import Customer, Department, DictItem, Product, ProductCategory, User, db
from models.dictionary import DictKind
from test_reports import shop  # noqa: F401  (the fixed data set of the report tests)

pytestmark = pytest.mark.browser

# One payload per context: ending the JSON <script> block (unquoted, as json.dumps would turn a
# quoted handler into \"...\"), the same quoted, and breaking out of a quoted attribute.
SCRIPT = "X</script><img src=x onerror=window.__xss=1>"
QUOTED = 'Q</script><img src=x onerror="window.__xss=4">'
ATTRIBUTE = """Y" onmouseover="window.__xss=2" x='><img src=x onerror=window.__xss=3>"""


# A payload that got out of its text leaves an element behind the moment it is parsed (or the
# tooltip's HTML is set), whether or not its image request has failed yet: looking for those is
# exact without waiting for the network to go quiet on every page.
INJECTED = """() => !!(window.__xss || document.querySelector('img[src="x"], [onmouseover], [onerror]'))"""
# The tooltips carry the names too: show each data point's tooltip, as a pointer over it would.
SHOW_TIPS = """() => {
  const box = document.querySelector('#kechi-chart');
  const chart = box && window.echarts && echarts.getInstanceByDom(box);
  if (!chart) { return 0; }
  const sizes = (chart.getOption().series || []).map(s => (s.data || []).length);
  sizes.forEach((size, series) => { for (let i = 0; i < size; i++) {
    chart.dispatchAction({type: 'showTip', seriesIndex: series, dataIndex: i}); } });
  return sizes.reduce((a, b) => a + b, 0);
}"""
DRAWN = """() => [...document.querySelectorAll('#kechi-chart, .kechi-mini-chart')].every(
  el => el.querySelector('canvas') && el.getAttribute('data-rendered'))"""


def _name_everything(app, shop) -> None:  # noqa: F811
    with app.app_context():
        db.session.get(Product, shop["p1"]).name = "龙井" + SCRIPT
        db.session.get(ProductCategory, db.session.get(Product, shop["p1"]).category_id).name = "茶" + ATTRIBUTE
        chen = db.session.get(User, shop["chen"])
        chen.display_name = "陈" + SCRIPT
        db.session.get(User, shop["liu"]).display_name = "刘" + ATTRIBUTE
        db.session.get(Department, chen.department_id).name = "一部" + QUOTED
        for n, kind in enumerate(DictKind):
            payload = SCRIPT if n % 2 == 0 else ATTRIBUTE
            item = DictItem(kind=kind, name=f"{kind.value[:4]}{payload}"[:64], sort_order=n)
            db.session.add(item)
            db.session.flush()
            column = {"category": "category_id", "source": "source_id", "industry": "industry_id",
                      "value_level": "value_level_id", "stage": "stage_id"}.get(kind.value)
            if column:
                for cid in (shop["c1"], shop["c2"], shop["c3"]):
                    setattr(db.session.get(Customer, cid), column, item.id)
        db.session.commit()


def _report_urls(app) -> list[str]:
    """Every registered report page with each choice it offers (the dimensions of a report)."""
    from admin_views.reports import ReportView

    views = [v for v in app.extensions["admin"][0]._views if isinstance(v, ReportView)]
    assert len(views) >= 9, [v.endpoint for v in views]
    urls = []
    with app.test_request_context():
        for view in views:
            base = view.url + "/?start=2025-01-01&end=2026-11-23"
            urls.append(base)
            if view.endpoint.startswith("report_service_"):
                # The shop has no tickets: the names show only in the filters, the same on every
                # dimension; the service reports' own rows are covered by tests/test_service_reports.py.
                continue
            for name, _label, options, _default in view.choices:
                urls.extend(f"{base}&{name}={value}" for value, _l in options if value)
    return urls


def test_names_with_markup_stay_text_on_every_report_and_the_workbench(app, page, shop):  # noqa: F811
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    _name_everything(app, shop)
    urls = _report_urls(app)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.emulate_media(reduced_motion="reduce")  # the charts draw at once: 66 pages need not wait for animations
    log_in(page, "boss")
    page.wait_for_url("**/admin/")
    fired: list[str] = []  # every page where a payload ran, so a failure names them all
    undrawn: list[str] = []
    tips = 0
    for url in ["/admin/"] + urls:
        page.goto(page.base + url)
        # Each chart parsed its JSON and drew on its canvas (data-rendered is set once ECharts finished).
        try:
            page.wait_for_function(DRAWN, timeout=5000)
        except PlaywrightTimeout:
            undrawn.append(url)
        tips += page.evaluate(SHOW_TIPS)
        if page.evaluate(INJECTED):
            fired.append(url)
    assert fired == []
    assert undrawn == []
    assert tips > 100  # the tooltips were shown, point by point
    assert dialogs == []

    page.goto(page.base + "/admin/reports/products/?start=2025-01-01&end=2026-11-23")
    expect(page.locator("#kechi-chart")).to_have_attribute("data-rendered", "bar")
    expect(page.locator("#kechi-report-table")).to_contain_text("龙井" + SCRIPT)  # shown as text
    page.goto(page.base + "/admin/reports/salespeople/?start=2025-01-01&end=2026-11-23")
    expect(page.locator("#kechi-report-table")).to_contain_text("陈" + SCRIPT)
    expect(page.locator("#kechi-report-table")).to_contain_text("刘" + ATTRIBUTE)
    page.goto(page.base + "/admin/reports/customers/?start=2025-01-01&end=2026-11-23&by=category")
    expect(page.locator("#kechi-chart")).to_have_attribute("data-rendered", "bar")
    expect(page.locator("#kechi-report-table")).to_contain_text("cate" + SCRIPT)
    screenshot(page, "78-report-names-with-markup")
    assert page.evaluate("() => window.__xss") is None
