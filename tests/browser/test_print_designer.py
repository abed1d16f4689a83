"""The administrator designs an order template: the live preview prints the unsaved form on a
real order (found by its number) in a sandboxed frame, a field from the picker lands at the
cursor, a column chosen shows in the 明细表, a mistyped field is refused with the typed text kept,
and the saved template is listed as the default. No Content-Security-Policy complaint."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import log_in, screenshot
from tests.print_records import documents

pytestmark = pytest.mark.browser
SHOTS = Path("/work/shots/templates")


def _keep(path: Path, name: str) -> None:
    if SHOTS.is_dir():
        shutil.copy(path, SHOTS / f"{name}.png")


def test_design_an_order_template_with_the_live_preview(app, page, admin_id, make_customer):
    from playwright.sync_api import expect

    customer = make_customer("杭州青禾贸易有限公司", admin_id)
    documents(app, customer, admin_id)
    log_in(page, "admin")
    page.goto(page.base + "/admin/print_template/")
    expect(page.locator("[data-doc-type=order]")).to_contain_text("标准销售订单")
    _keep(screenshot(page, "print-templates-list"), "list")

    page.click("[data-doc-type=order] >> text=新建模板")
    page.fill("#name", "简洁订单")
    page.fill("#record", "DD2026A001")
    page.click("[data-kechi-preview-now]")
    preview = page.frame_locator("#kechi-template-preview")
    expect(preview.locator("body")).to_contain_text("DD2026A001")
    expect(preview.locator("body")).to_contain_text("壹仟贰佰叁拾肆元伍角整")
    expect(preview.locator("body")).to_contain_text("打印时间：2026-11-23 10:00")
    expect(preview.locator("img.kechi-qr")).to_have_count(1)  # the order's page as a QR code
    _keep(screenshot(page, "print-template-designer-default"), "designer-default")

    page.fill("#body", "<h2>订单 </h2><p>备注：</p>")
    page.click("#body")
    page.evaluate("() => { const b = document.getElementById('body'); b.selectionStart = b.selectionEnd = 7; }")
    page.evaluate("() => window.scrollTo(0, 0)")  # back up to the picker, as a person scrolls
    page.click(".kechi-field-picker >> button:text-is('客户名称')")
    expect(page.locator("#body")).to_have_value("<h2>订单 {{ customer.name }}</h2><p>备注：</p>")
    expect(preview.locator("h2")).to_have_text("订单 杭州青禾贸易有限公司")

    page.fill("#body", "{{ customer.nmae }}<table>{% for line in lines %}<tr><td>{{ line.product_name }}</td></tr>{% endfor %}</table>")
    expect(preview.locator("[data-testid=preview-error]")).to_contain_text("字段 customer.nmae 不存在")
    page.click("#kechi-save-template")
    expect(page.locator(".alert")).to_contain_text("字段 customer.nmae 不存在")
    expect(page.locator("#body")).to_have_value(
        "{{ customer.nmae }}<table>{% for line in lines %}<tr><td>{{ line.product_name }}</td></tr>{% endfor %}</table>")
    expect(page.locator("#name")).to_have_value("简洁订单")

    page.fill("#body", "<h2>{{ customer.name }}</h2>" + "{% for c in columns %}<b>{{ c.label }}</b>{% endfor %}")
    page.check("#col-notes")
    page.fill("#footer", "第一联：客户留存 {{ order.number }}")
    page.check("#is_default")
    page.fill("#record", "DD2026A001")
    page.click("[data-kechi-preview-now]")
    expect(preview.locator("body")).to_contain_text("备注")
    expect(preview.locator(".kechi-print-footer")).to_have_text("第一联：客户留存 DD2026A001")
    _keep(screenshot(page, "print-template-designer"), "designer")
    page.click("#kechi-save-template")
    expect(page.locator(".alert-success")).to_contain_text("打印模板已保存")
    page.goto(page.base + "/admin/print_template/")
    expect(page.locator("[data-doc-type=order] tr", has_text="简洁订单").locator(".badge")).to_have_text("默认")
    expect(page.locator("[data-doc-type=order] tr", has_text="标准销售订单").locator(".badge")).to_have_count(0)

    page.goto(page.base + "/admin/print_template/company/")
    _keep(screenshot(page, "company-profile"), "company")
