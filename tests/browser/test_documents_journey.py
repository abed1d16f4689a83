"""Documents, attachments and printing as people use them in the demo company (issue 20): the
administrator designs an order template watching the live preview of a real order, prints that
order to PDF and reads what is on the paper; a salesperson batch-prints envelopes for customers
ticked in the list and watches the progress bar, attaches a file to a customer and downloads it
back; a colleague finds a document in the 文档中心 by a word written inside it."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import log_in, screenshot
from jobs.queue import EXTENSION, EmbeddedRunner
from models import Customer, Order, User, db
from rules import pdf

pytestmark = pytest.mark.browser


def _demo(app, tmp_path):
    from demo import seed_demo

    app.config["FILES_DIR"] = str(tmp_path / "files")
    with app.app_context():
        seed_demo(db.session, customers=20)
        db.session.commit()


def _pdf_text(download) -> str:
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF")
    return pdf.text_of(data)


def test_design_print_envelopes_attach_and_find(app, page, tmp_path):
    from playwright.sync_api import expect

    _demo(app, tmp_path)
    # Embedded mode as `make run` serves it: a batch runs in a background thread of the server.
    app.config["EMBEDDED_JOBS_SYNC"] = False
    app.extensions[EXTENSION] = EmbeddedRunner(app)
    with app.app_context():
        rep = db.session.scalar(select(User).where(User.username == "chenxm"))
        order = db.session.scalar(select(Order).where(Order.salesperson_id == rep.id).order_by(Order.id).limit(1))
        order_id, order_number, order_total = order.id, order.number, order.total
        order_customer = db.session.get(Customer, order.customer_id).name
        mine = db.session.scalars(select(Customer).where(Customer.owner_id == rep.id, Customer.deleted_at.is_(None))
                                  .order_by(Customer.id).limit(3)).all()
        envelope_names = [c.name for c in mine]
        customer_id = mine[0].id
    page.on("dialog", lambda dialog: dialog.accept())

    # 1. 管理员 designs an order template, the preview showing a real order as the body is typed
    log_in(page, "admin")
    page.goto(page.base + "/admin/print_template/")
    page.click("a:has-text('新建模板')")
    page.select_option("select[name=doc_type]", "order")
    page.fill("input[name=name]", "订单（旅程测试版）")
    body = page.locator("textarea[name=body]")
    body.fill("<h1>销售订单 {{ order.number }}</h1>\n<p>客户：")
    body.press("End")
    page.click("[data-print-field='customer.name']")  # the field picker inserts at the cursor
    body.press("Control+End")
    body.type("</p>\n{{ lines_table }}\n<p>大写：{{ order.total | amount_words }}</p>")
    page.fill("input[name=preview_record]", order_number)
    preview = page.frame_locator("iframe.kechi-print-preview")
    expect(preview.locator("body")).to_contain_text(f"销售订单 {order_number}", timeout=15_000)
    expect(preview.locator("body")).to_contain_text(order_customer)
    screenshot(page, "90-template-designer")
    page.click("button[type=submit]:has-text('保存')")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("body")).to_contain_text("订单（旅程测试版）")

    # 2. the order printed to PDF with that template: its words are on the paper
    page.goto(page.base + f"/admin/order/details/?id={order_id}")
    page.click(".kechi-print-menu >> text=打印")
    screenshot(page, "91-order-print-menu")
    with page.expect_download() as info:
        page.click(".kechi-print-menu a:has-text('订单（旅程测试版）') >> xpath=following-sibling::a[1]")
    text = _pdf_text(info.value)
    assert f"销售订单 {order_number}" in text
    assert order_customer in text
    from rules.amount_words import rmb_upper
    assert rmb_upper(Decimal(order_total)) in text.replace("\n", "")

    # 3. 业务员: envelopes for three customers ticked in the list, as a background batch
    log_in(page, "chenxm")
    page.goto(page.base + "/admin/customer/?sort=id")
    for name in envelope_names:
        page.locator("table.model-list tr", has_text=name).locator("input.action-checkbox").check()
    page.click("text=选中的")
    page.click("a[data-kechi-action=print_envelopes]")
    expect(page.locator(".kechi-job-bar, #job-bar")).to_be_visible()
    expect(page.locator("[data-finished]")).to_have_attribute("data-finished", "done", timeout=60_000)
    screenshot(page, "92-envelope-batch-done")
    with page.expect_download() as info:
        page.click("a:has-text('下载 PDF')")
    envelopes = _pdf_text(info.value)
    for name in envelope_names:
        assert name in envelopes

    # 4. a file attached to a customer, listed on the page and downloaded back unchanged
    from demo.documents import docx_file
    upload = tmp_path / "报价说明.docx"
    upload.write_bytes(docx_file("报价说明", ["本报价含税含运费，有效期三十天。"]))
    page.goto(page.base + f"/admin/customer/details/?id={customer_id}")
    attachments = page.locator(".kechi-attachments")
    attachments.locator("input[type=file]").set_input_files(str(upload))
    attachments.locator("button[type=submit]").click()
    expect(page.locator(".kechi-attachments")).to_contain_text("报价说明.docx")
    screenshot(page, "93-customer-attachments")
    with page.expect_download() as info:
        page.locator(".kechi-attachments a", has_text="报价说明.docx").click()
    assert Path(info.value.path()).read_bytes() == upload.read_bytes()
    assert info.value.suggested_filename == "报价说明.docx"

    # 5. 文档中心: the demo's travel policy found by a word inside the PDF, not in its name
    page.goto(page.base + "/admin/document/")
    page.fill("input[name=q]", "高铁")
    page.press("input[name=q]", "Enter")
    results = page.locator(".kechi-document-results")
    expect(results).to_contain_text("差旅与报销制度.pdf")
    screenshot(page, "94-document-search")
    assert [url for url in page.requested if not url.startswith(page.base)] == []
