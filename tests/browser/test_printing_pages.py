"""打印 as a person uses it (issue 20): 打印 ▾ on an order opens the print preview in a new tab
(no CSP refusal: its 打印 button is static JS), PDF ▾ downloads the PDF, and 批量打印信封 from the
customer list asks first, then shows the progress bar until the merged PDF can be downloaded."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import log_in, screenshot
from models import Customer, db
from rules import pdf
from test_rules_orders import new_order, shop  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def test_print_and_pdf_from_an_order_and_envelopes_from_the_customer_list(app, page, shop, tmp_path):
    order_id = new_order(app, shop)
    with app.app_context():
        customer = db.session.get(Customer, shop["customer"])
        customer.address, customer.zip_code = "上海市浦东新区世纪大道100号", "200120"
        db.session.commit()
    log_in(page, "rep")
    page.goto(f"{page.base}/admin/order/details/?id={order_id}")
    page.click("[data-testid=print-print-menu] a.dropdown-toggle")
    assert page.is_visible("[data-testid=print-print-delivery]")
    with page.context.expect_page() as opened:
        page.click("[data-testid=print-print-order]")
    preview = opened.value
    preview.wait_for_load_state()
    assert preview.is_visible("[data-testid=print-toolbar]") and "龙井茶" in preview.content()
    screenshot(preview, "printing-order-preview")
    preview.close()

    page.click("[data-testid=print-pdf-menu] a.dropdown-toggle")
    with page.expect_download() as download:
        page.click("[data-testid=print-pdf-order]")
    saved = Path(tmp_path / "order.pdf")
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith("订单-") and "龙井茶" in pdf.text_of(saved.read_bytes())

    page.goto(f"{page.base}/admin/customer/")
    page.check(f"input.action-checkbox[value='{shop['customer']}']")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.click("a.dropdown-toggle:has-text('选中的')")
    page.click("a:has-text('批量打印信封')")
    page.wait_for_selector("#kechi-job[data-finished=done]", timeout=60000)
    assert "一次最多 1000 份" in questions[0]
    screenshot(page, "printing-batch-done")
    with page.expect_download() as batch:
        page.click("[data-testid=batch-download]")
    batch.value.save_as(tmp_path / "batch.pdf")
    assert "华星贸易" in pdf.text_of((tmp_path / "batch.pdf").read_bytes())
