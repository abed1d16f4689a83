"""Documents, attachments and printing as people use them in the demo company (issue 20): the
administrator designs an order template watching the live preview of a real order, prints that
order to PDF and reads what is on the paper; a salesperson batch-prints envelopes for customers
ticked in the list and watches the progress bar, attaches a file to a customer and downloads it
back; a colleague finds a document in the 文档中心 by a word written inside it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import log_in, screenshot, seeded_demo
from jobs.queue import EXTENSION, EmbeddedRunner
from models import Customer, Order, User, db
from demo import DEMO_PASSWORD
from demo.documents import docx_file
from rules import pdf
from rules.amount_words import rmb_upper

pytestmark = pytest.mark.browser


def _demo(app, tmp_path):
    seeded_demo(app, tmp_path)


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
    log_in(page, "admin", DEMO_PASSWORD)
    page.goto(page.base + "/admin/print_template/")
    page.click("a[href*='doc_type=order']:has-text('新建模板')")
    page.fill("#name", "订单（旅程测试版）")
    body = page.locator("#body")
    body.fill("<h1>销售订单 {{ order.number }}</h1>\n<p>客户：")
    picker = page.locator(".kechi-field-picker")

    def pick(selector: str) -> None:
        button = picker.locator(selector)
        # Scrolled first: clicked straight after the box was filled, Playwright's own scroll of the
        # page and of the picker's scroll box has landed the click in the preview frame.
        button.scroll_into_view_if_needed()
        button.click()

    pick("button[data-kechi-insert='{{ customer.name }}']")  # inserted at the cursor
    expect(body).to_have_value(re.compile(r"<p>客户：\{\{ customer\.name \}\}$"))
    body.press_sequentially("</p>\n")
    pick("button[data-kechi-insert*='kechi-lines']")  # 明细表 with the ticked columns
    body.press_sequentially("\n<p>大写：")
    pick("button[data-kechi-insert='{{ order.total_words }}']")
    expect(body).to_have_value(re.compile(r"</table>\n<p>大写：\{\{ order\.total_words \}\}$"))
    body.press_sequentially("</p>")
    page.fill("#record", order_number)
    page.press("#record", "Enter")
    preview = page.frame_locator("#kechi-template-preview")
    expect(preview.locator("h1")).to_have_text(f"销售订单 {order_number}", timeout=20_000)
    expect(preview.locator("body")).to_contain_text(f"客户：{order_customer}", timeout=20_000)
    expect(preview.locator("body")).to_contain_text(f"大写：{rmb_upper(order_total)}", timeout=20_000)
    expect(preview.locator("table.kechi-lines tbody tr").first).to_be_visible()
    screenshot(page, "90-template-designer")
    page.click("#kechi-save-template")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#name")).to_have_value("订单（旅程测试版）")

    # 2. the order printed to PDF with that template: its words are on the paper
    page.goto(page.base + f"/admin/order/details/?id={order_id}")
    page.click("[data-testid=print-pdf-menu] [data-toggle=dropdown]")
    screenshot(page, "91-order-pdf-menu")
    with page.expect_download() as info:
        page.click("[data-testid=print-pdf-menu] a:has-text('订单（旅程测试版）')")
    text = _pdf_text(info.value)
    assert f"销售订单 {order_number}" in text
    assert f"客户：{order_customer}" in text
    assert rmb_upper(order_total) in text.replace("\n", "").replace(" ", "")

    # 3. 业务员: envelopes for three customers ticked in the list, as a background batch
    log_in(page, "chenxm", DEMO_PASSWORD)
    page.goto(page.base + "/admin/customer/")
    for name in envelope_names:
        page.locator("table.model-list tr", has_text=name).locator("input.action-checkbox").check()
    page.click("text=选中的")
    page.click("a[data-kechi-action=print_envelopes]")  # confirmed by the dialog handler above
    expect(page.locator("#job-bar")).to_be_visible()
    expect(page.locator("#kechi-job")).to_have_attribute("data-finished", "done", timeout=60_000)
    expect(page.locator("#job-bar")).to_have_text("100%")
    expect(page.locator("#job-done")).to_have_text("3")
    screenshot(page, "92-envelope-batch-done")
    with page.expect_download() as info:
        page.click("#job-result")
    envelopes = _pdf_text(info.value)
    for name in envelope_names:
        assert name in envelopes.replace("\n", "")

    # 4. a file attached to a customer, listed on the page and downloaded back unchanged
    upload = tmp_path / "报价说明.docx"
    upload.write_bytes(docx_file("报价说明", ["本报价含税含运费，有效期三十天。"]))
    page.goto(page.base + f"/admin/customer/details/?id={customer_id}")
    page.click("a[href='#tab-attachments']")
    form = page.locator("#tab-attachments .kechi-attachment-upload")
    form.locator("input[type=file]").set_input_files(str(upload))
    form.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    # back on the customer page with the 附件 tab open, the new file in it
    listed = page.locator("#tab-attachments a.kechi-attachment-name", has_text="报价说明.docx")
    expect(listed).to_be_visible()
    screenshot(page, "93-customer-attachments")
    with page.expect_download() as info:
        listed.click()
    assert info.value.suggested_filename == "报价说明.docx"
    assert Path(info.value.path()).read_bytes() == upload.read_bytes()

    # 5. 文档中心: the demo's travel policy found by a word inside the PDF, not in its name
    page.goto(page.base + "/admin/document/")
    page.fill("[data-testid=document-search]", "高铁")
    page.press("[data-testid=document-search]", "Enter")
    expect(page.locator("[data-testid=search-results]")).to_contain_text("差旅与报销制度.pdf")
    screenshot(page, "94-document-search")
    assert [url for url in page.requested if not url.startswith(page.base)] == []
