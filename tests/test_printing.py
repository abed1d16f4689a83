"""打印 and PDF (issue 20): the PDF holds the document's Chinese text on the template's paper, an
envelope is laid out as the post office expects, a record outside one's scope prints nothing
(404), financial documents leave an audit row, and batches run as jobs bounded at 1,000."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from conftest import FIXED_NOW, REDIS_URL, need_service, redis_app_signed_in, worker_env
from models import AuditLog, Customer, Order, User, db
from models.job import JobRecord, JobStatus
from models.printing import PrintDocType
from rules import envelopes, pdf, print_defaults, print_templates, printing
from test_rules_orders import new_order, shop  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_ENVELOPE = Path(__file__).parent / "data" / "envelope_dl.html"
MM = 72 / 25.4


def size_mm(data: bytes) -> tuple[int, int]:
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    return round(float(box.width) / MM), round(float(box.height) / MM)


def order_number(app, order_id: int) -> str:
    with app.app_context():
        return db.session.get(Order, order_id).number


def with_address(app, customer_id: int, *, zip_code: str = "200120") -> None:
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        customer.address, customer.zip_code = "上海市浦东新区世纪大道100号", zip_code
        db.session.commit()


@pytest.mark.both_dbs
def test_an_orders_pdf_holds_its_chinese_text_on_a4(app, client, shop):
    order_id = new_order(app, shop)
    client.login("rep")
    response = client.get(f"/admin/printing/pdf/order/{order_id}/")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    text = pdf.text_of(response.data)
    for expected in (order_number(app, order_id), "华星贸易", "龙井茶", "茶杯"):
        assert expected in text, expected
    assert size_mm(response.data) == (210, 297)


def test_a_delivery_note_prints_without_prices(app, client, shop):
    order_id = new_order(app, shop)
    client.login("rep")
    text = pdf.text_of(client.get(f"/admin/printing/pdf/delivery/{order_id}/").data)
    assert "龙井茶" in text and "¥" not in text


def test_an_envelope_pdf_is_a_dl_envelope_with_the_recipients_address(app, client, shop):
    with_address(app, shop["customer"])
    client.login("rep")
    response = client.get(f"/admin/printing/pdf/envelope/{shop['customer']}/")
    assert response.status_code == 200
    assert size_mm(response.data) == (220, 110)
    text = pdf.text_of(response.data)
    assert "上海市浦东新区世纪大道100号" in text and "华星贸易" in text


@pytest.mark.parametrize("zip_code, boxes", [("200120", list("200120")), (" 100-080 ", list("100080")),
                                             ("12345", [""] * 6), (None, [""] * 6), ("SW1A 1AA", [""] * 6)])
def test_zip_boxes(zip_code, boxes):
    assert envelopes.zip_boxes(zip_code) == boxes


def test_the_envelope_layout_matches_the_stored_snapshot():
    """The default envelope template over a fixed customer: six 邮编 boxes, the stamp box, the
    recipient and the sender, on one DL sheet. A change to the layout shows here as a diff."""
    data = {"recipient": {"zip_code": "200120", "zip_boxes": envelopes.zip_boxes("200120"),
                          "address": "上海市浦东新区世纪大道100号", "company": "上海星河贸易有限公司", "name": "王经理",
                          "title": "采购经理", "phone": "138 0013 8000"},
            "sender": {"name": "客池科技有限公司", "address": "北京市海淀区中关村大街1号", "zip_code": "100080",
                       "zip_boxes": envelopes.zip_boxes("100080"), "phone": "010-62345678"}}
    template = print_defaults.template_of(PrintDocType.ENVELOPE, now=FIXED_NOW)
    html = print_templates.render_page(None, template, data, files_root=None)
    assert "size: 220mm 110mm" in html
    assert html.count('<span class="zip-box">') == 12  # the recipient's six and the sender's six
    assert html == EXPECTED_ENVELOPE.read_text(encoding="utf-8")
    assert size_mm(pdf.html_to_pdf(html)) == (220, 110)
    assert len(PdfReader(io.BytesIO(pdf.html_to_pdf(html))).pages) == 1


def test_the_preview_is_the_page_itself_with_a_toolbar_that_is_not_printed(app, client, shop):
    order_id = new_order(app, shop)
    client.login("rep")
    html = client.get(f"/admin/printing/preview/order/{order_id}/").get_data(as_text=True)
    assert "@page { size: 210mm 297mm" in html
    assert 'data-testid="print-toolbar"' in html and "data-kechi-print" in html and "kechi-print.css" in html
    assert "龙井茶" in html and "下载 PDF" in html


@pytest.mark.both_dbs
def test_someone_elses_order_and_unknown_types_print_nothing(app, client, shop):
    order_id = new_order(app, shop)
    client.login("rep2")
    for url in (f"/admin/printing/preview/order/{order_id}/", f"/admin/printing/pdf/order/{order_id}/",
                f"/admin/printing/pdf/delivery/{order_id}/", f"/admin/printing/pdf/envelope/{shop['customer']}/",
                f"/admin/printing/pdf/nonsense/{order_id}/", "/admin/printing/pdf/order/99999999999999999999/",
                "/admin/printing/pdf/order/99999999999999/", "/admin/order/details/?id=99999999999999"):
        assert client.get(url).status_code == 404, url


def test_financial_prints_leave_an_audit_row_and_customer_profiles_do_not(app, client, shop):
    order_id = new_order(app, shop)
    client.login("rep")
    client.get(f"/admin/printing/pdf/order/{order_id}/")
    client.get(f"/admin/printing/preview/order/{order_id}/")
    client.get(f"/admin/printing/pdf/customer/{shop['customer']}/")
    with app.app_context():
        rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "print")).all()
        assert [(r.entity, r.entity_id, r.changes["output"], r.actor_name) for r in rows] == [
            ("Order", str(order_id), "pdf", "rep"), ("Order", str(order_id), "preview", "rep")]


def test_the_record_pages_offer_print_and_pdf(app, client, shop):
    order_id = new_order(app, shop)
    client.login("rep")
    order_page = client.get(f"/admin/order/details/?id={order_id}").get_data(as_text=True)
    assert f'href="/admin/printing/preview/order/{order_id}/"' in order_page
    assert f'href="/admin/printing/pdf/delivery/{order_id}/"' in order_page
    customer_page = client.get(f"/admin/customer/details/?id={shop['customer']}").get_data(as_text=True)
    assert f'href="/admin/printing/preview/customer/{shop["customer"]}/"' in customer_page
    assert client.get(f"/admin/customer/print/?id={shop['customer']}&noprint=1").status_code == 200  # the old page


def test_the_lists_offer_batch_printing(app, client, shop):
    client.login("rep")
    customers = client.get("/admin/customer/").get_data(as_text=True)
    assert "批量打印/导出PDF" in customers and "批量打印信封" in customers and "批量打印发货单" not in customers
    orders = client.get("/admin/order/").get_data(as_text=True)
    assert "批量打印发货单" in orders and "批量打印信封" not in orders
    assert "批量打印/导出PDF" in client.get("/admin/quote/").get_data(as_text=True)


def test_five_thousand_envelopes_are_refused_with_a_reason(app, client, shop):
    client.login("rep")
    page = client.action("/admin/customer/", "print_envelopes", list(range(1, 5001)))
    assert "一次最多批量打印 1000 份，您选择了 5000 份" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(JobRecord).where(JobRecord.kind == "print_batch")) is None


def test_a_batch_prints_the_selected_envelopes_in_scope_and_drops_the_others(app, client, shop):
    with_address(app, shop["customer"])
    client.login("rep")
    page = client.action("/admin/customer/", "print_envelopes", [shop["customer"], shop["other_customer"]])
    html = page.get_data(as_text=True)
    assert "批量打印" in html and 'id="kechi-job"' in html
    with app.app_context():
        job = db.session.scalar(select(JobRecord).where(JobRecord.kind == "print_batch"))
        assert (job.status, job.total, job.params["ids"]) == (JobStatus.DONE, 1, [shop["customer"]])
    state = client.get(f"/admin/printing/batch/{job.id}/status.json").get_json()
    assert (state["percent"], state["status"]) == (100, "done")
    with client.get(state["result_url"]) as download:
        assert download.mimetype == "application/pdf"
        reader = PdfReader(io.BytesIO(download.data))
    assert len(reader.pages) == 1 and "华星贸易" in reader.pages[0].extract_text()
    client.logout()
    client.login("rep2")
    assert client.get(f"/admin/printing/batch/{job.id}/").status_code == 404  # a batch is its starter's
    assert client.get(state["result_url"]).status_code == 404


def test_a_batch_of_only_foreign_ids_is_404(app, client, shop):
    client.login("rep")
    assert client.action("/admin/customer/", "print_batch", [shop["other_customer"]], follow=False).status_code == 404


def test_a_batch_of_orders_runs_on_a_real_rq_worker_with_progress(tmp_path):
    redis_url = need_service(REDIS_URL, "Redis")
    app, client = redis_app_signed_in(tmp_path, redis_url)
    with app.app_context():
        me = db.session.scalar(select(User).where(User.username == "chenxm"))
        ids = []
        for n in range(60):  # two chunks
            customer = Customer(name=f"星河贸易{n:02d}", owner_id=me.id, department_id=me.department_id,
                                address=f"杭州市西湖区文三路{n}号", zip_code="310012")
            db.session.add(customer)
            db.session.flush()
            ids.append(customer.id)
        db.session.commit()
    page = client.action("/admin/customer/", "print_envelopes", ids, follow=False)
    assert page.status_code == 302
    with app.app_context():
        job = db.session.scalar(select(JobRecord).where(JobRecord.kind == "print_batch"))
        assert job.status == JobStatus.QUEUED and job.total == 60
    queued = client.get(f"/admin/printing/batch/{job.id}/status.json").get_json()
    assert (queued["percent"], queued["result_url"]) == (0, None)
    env = worker_env(app, tmp_path, redis_url, KECHI_UPLOAD_DIR=app.config["UPLOAD_DIR"],
                     KECHI_FILES_DIR=app.config["FILES_DIR"])
    result = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, "kechi"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    state = client.get(f"/admin/printing/batch/{job.id}/status.json").get_json()
    assert (state["status"], state["done"], state["total"], state["percent"]) == ("done", 60, 60, 100)
    with client.get(state["result_url"]) as download:
        reader = PdfReader(io.BytesIO(download.data))
    assert len(reader.pages) == 60
    assert "星河贸易00" in reader.pages[0].extract_text() and "星河贸易59" in reader.pages[59].extract_text()


def test_the_batch_limit_is_a_thousand():
    assert printing.MAX_BATCH == 1000


def test_the_preview_speaks_english(app, client, shop):
    order_id = new_order(app, shop)
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "rep")).locale = "en"
        db.session.commit()
    client.login("rep")
    html = client.get(f"/admin/printing/preview/order/{order_id}/").get_data(as_text=True)
    assert "Download PDF" in html and "Print template" in html
    assert "Batch print envelopes" in client.get("/admin/customer/").get_data(as_text=True)


def test_a_contracts_page_and_pdf(app, client, shop):
    from plan_helpers import make_contract

    with app.app_context():
        contract_id = make_contract(shop["customer"], "12345.60", number="HT202611230001")
    client.login("rep")
    page = client.get(f"/admin/contract/details/?id={contract_id}").get_data(as_text=True)
    assert f'href="/admin/printing/pdf/contract/{contract_id}/"' in page
    text = pdf.text_of(client.get(f"/admin/printing/pdf/contract/{contract_id}/").data)
    assert "HT202611230001" in text and "华星贸易" in text
    client.logout()
    client.login("rep2")
    assert client.get(f"/admin/printing/pdf/contract/{contract_id}/").status_code == 404


def test_a_chosen_template_prints_and_a_broken_one_explains_itself(app, client, shop):
    from models.printing import PrintTemplate

    order_id = new_order(app, shop)
    with app.app_context():
        plain = PrintTemplate(doc_type="order", name="简洁订单", body="<h1>简洁订单 {{ customer.name }}</h1>", columns=[],
                              options={})
        broken = PrintTemplate(doc_type="order", name="坏模板", body="{{ ''.__class__.__mro__ }}", columns=[], options={})
        envelope = PrintTemplate(doc_type="envelope", name="信封模板", body="信封", paper="DL", columns=[], options={})
        db.session.add_all([plain, broken, envelope])
        db.session.commit()
        plain_id, broken_id, envelope_id = plain.id, broken.id, envelope.id
    client.login("rep")
    html = client.get(f"/admin/printing/preview/order/{order_id}/?template_id={plain_id}").get_data(as_text=True)
    assert "<h1>简洁订单 华星贸易</h1>" in html and f'template_id={plain_id}" selected' in html
    refused = client.get(f"/admin/printing/pdf/order/{order_id}/?template_id={broken_id}")
    assert refused.status_code == 422 and "模板试图访问不允许的内容" in refused.get_data(as_text=True)
    other_type = client.get(f"/admin/printing/preview/order/{order_id}/?template_id={envelope_id}")
    assert other_type.status_code == 422 and "所选打印模板不存在或已停用" in other_type.get_data(as_text=True)
    assert client.get(f"/admin/printing/preview/order/{order_id}/?template_id=abc").status_code == 400
