"""开票 in the panel: a salesperson requests an invoice from a contract (the room shown, too much
refused with the form kept), finance issues, posts and reverses it from the invoice page, the
customer page's 发票抬头 editor and balances, the order page's 开票 section, and who sees what
on the list, the invoice page and the export (a scope truth table)."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from conftest import list_table, sheet_rows, xlsx_export
from models import Invoice, InvoiceTitle, Order, db
from test_rules_invoices import TAX_NO, act, ask, books, new_contract, new_title  # noqa: F401 - fixture
from test_rules_orders import move, new_order, shop  # noqa: F401 - fixture

D = Decimal


def login(new_client, username):
    client = new_client()
    client.login(username)
    return client


def test_a_salesperson_requests_an_invoice_from_the_contract(app, books, new_client):
    rep = login(new_client, "rep")
    url = f"/admin/invoice/new/?contract_id={books['contract']}"
    page = rep.get(url).get_data(as_text=True)
    assert "可开票余额" in page and "¥1,000.00" in page and 'value="1000.00"' in page
    assert "华星贸易有限公司（企业）" in page
    form = {"title_id": str(books["title"]), "invoice_type": "special", "amount": "1000.01", "tax_rate": "",
            "notes": "技术服务费"}
    html = rep.post_form(url, form, follow=True).get_data(as_text=True)
    assert "可开票余额为 ¥1,000.00" in html and "本次申请 ¥1,000.01 超出了余额" in html
    assert "技术服务费" in html and 'value="1000.01"' in html  # the form as typed
    html = rep.post_form(url, dict(form, amount="565"), follow=True).get_data(as_text=True)
    assert "开票申请 KP202611230001 已提交（待开票）" in html
    assert "¥565.00" in html and "¥500.00" in html and "¥65.00" in html
    assert 'id="kechi-invoice-issue"' not in html  # a salesperson does not issue
    assert 'id="kechi-invoice-void"' in html
    listing = list_table(rep.get("/admin/invoice/").get_data(as_text=True))
    assert "KP202611230001" in listing and "华星贸易" in listing and "待开票" in listing and "增值税专用发票" in listing


def _press(client, invoice_id, move_name, follow=True, **data):
    return client.post_form(f"/admin/invoice/details/?id={invoice_id}", data,
                            to=f"/admin/invoice/move/{move_name}/?id={invoice_id}", follow=follow).get_data(as_text=True)


def test_finance_issues_posts_and_reverses_from_the_invoice_page(app, books, new_client):
    invoice_id = ask(app, books, "800")
    fin = login(new_client, "fin")
    html = fin.get(f"/admin/invoice/details/?id={invoice_id}").get_data(as_text=True)
    assert 'id="kechi-invoice-issue"' in html and 'id="kechi-invoice-reverse"' not in html
    html = _press(fin, invoice_id, "issue", invoice_no="", issued_on="2026-11-23")
    assert "请填写发票号码" in html
    html = _press(fin, invoice_id, "issue", invoice_no="044031900111", issued_on="2026-11-40")
    assert "开票日期“2026-11-40”无法识别" in html
    html = _press(fin, invoice_id, "issue", invoice_no="044031900111", issued_on="2026-11-22")
    assert "开票申请 KP202611230001 已开票" in html and "044031900111" in html and "2026-11-22" in html
    assert 'id="kechi-invoice-void"' not in html and "已开具的发票不能作废" not in html
    html = _press(fin, invoice_id, "send", carrier="顺丰速运", tracking_no="SF123")
    assert "已登记寄出" in html and "顺丰速运 SF123" in html
    html = _press(fin, invoice_id, "reverse", reason="金额开错", invoice_no="044031900112")
    assert "已红冲，红字发票 KP202611230002" in html and "-¥800.00" in html and "红字发票" in html
    html = _press(fin, invoice_id, "reverse", reason="再冲", invoice_no="044031900113")
    assert "已于 2026-11-23 红冲（KP202611230002）" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Invoice.id))) == 2


def test_the_customer_page_keeps_titles_and_shows_balances(app, books, new_client):
    rep = login(new_client, "rep")
    customer = books["customer"]
    url = f"/admin/invoice/title/?customer_id={customer}"
    html = rep.post_form(url, {"kind": "company", "name": "华星科技", "tax_no": "9131000MA1FL8XQ3K"},
                         follow=True).get_data(as_text=True)
    assert "税号应为 15、18 或 20 位（统一社会信用代码为 18 位），您填写的是 17 位" in html
    assert 'value="华星科技"' in html  # kept as typed
    rep.post_form(url, {"kind": "company", "name": "华星科技", "tax_no": "913100000000000002", "is_default": "1"},
                  follow=True)
    page = rep.get(f"/admin/customer/details/?id={customer}").get_data(as_text=True)
    tab = page[page.find('id="tab-invoices"'):]
    assert "华星科技" in tab and "华星贸易有限公司" in tab and TAX_NO in tab
    assert tab.index("华星科技") < tab.index("华星贸易有限公司")  # the default first
    for label in ("应收", "已收", "已开票", "未开票", "已收未开", "已开未收"):
        assert label in tab
    assert 'data-balance="receivable"><small class="text-muted d-block">应收</small><b>¥1,000.00</b>' in tab
    with app.app_context():
        title_id = db.session.scalar(select(InvoiceTitle.id).where(InvoiceTitle.name == "华星科技"))
    rep.post_form(f"/admin/customer/details/?id={customer}", {"title_id": str(title_id)},
                  to=f"/admin/invoice/title/delete/?customer_id={customer}")
    with app.app_context():
        assert db.session.get(InvoiceTitle, title_id).deleted_at is not None
        assert db.session.get(InvoiceTitle, books["title"]).is_default
    other = login(new_client, "rep2")  # does not see the customer: nothing to open or change
    assert other.get(url).status_code == 404
    assert other.post_form("/admin/invoice/", {"title_id": str(books["title"])},
                           to=f"/admin/invoice/title/delete/?customer_id={customer}").status_code == 404


def test_the_order_page_shows_its_invoices_and_balances(app, books, new_client):
    order_id = new_order(app, books)
    move(app, order_id, "approve")
    ask(app, books, "50", doc="order", order_id=order_id)
    rep = login(new_client, "rep")
    html = rep.get(f"/admin/order/details/?id={order_id}").get_data(as_text=True)
    section = html[html.find("kechi-invoices-for"):]
    assert "KP202611230001" in section and "¥50.00" in section and "可开票余额 ¥27.23" in section
    assert f"/admin/invoice/new/?order_id={order_id}" in section.replace("&amp;", "&")


# --- who sees what: list, invoice page, export ----------------------------------------------------------

@pytest.fixture
def seen(app, books, make_user):
    """rep's invoice (销售一部) and rep2's (销售二部); a 主管 of 销售一部, the 财务 clerk, a 内勤."""
    make_user("boss1", role="主管", department=("销售部", "销售一部"))
    mine = ask(app, books, "100")
    other_contract = new_contract(app, books, owner="rep2", customer="other_customer", number="HT-OTHER")
    other_title = new_title(app, books, who="rep2", customer="other_customer", name="远方公司")
    with app.app_context():
        from rules import invoices
        from test_rules_orders import TZ, actor_of
        from conftest import FIXED_NOW
        theirs = invoices.request(db.session, actor=actor_of(db.session, "rep2"), now=FIXED_NOW, tz=TZ,
                                  title_id=other_title, amount="200", invoice_type="normal",
                                  contract_id=other_contract).id
        db.session.commit()
    return {"mine": mine, "theirs": theirs}


@pytest.mark.parametrize("who, sees_mine, sees_theirs", [
    ("rep", True, False),
    ("rep2", False, True),
    ("boss1", True, False),   # 主管: 本部门
    ("fin", True, True),      # 财务: all
    ("clerk", True, True),    # 内勤: all, invoice.view
])
def test_scope_truth_table_for_list_page_and_export(app, seen, new_client, who, sees_mine, sees_theirs):
    client = login(new_client, who)
    listing = list_table(client.get("/admin/invoice/").get_data(as_text=True))
    assert ("KP202611230001" in listing) is sees_mine
    assert ("KP202611230002" in listing) is sees_theirs
    for key, expected in (("mine", sees_mine), ("theirs", sees_theirs)):
        status = client.get(f"/admin/invoice/details/?id={seen[key]}").status_code
        assert status == (200 if expected else 404), (key, status)
    rows = sheet_rows(xlsx_export(client, "invoice"))
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {n for n, ok in (("KP202611230001", sees_mine), ("KP202611230002", sees_theirs)) if ok}
    assert rows[0][:3] == ("申请编号", "客户名称", "客户编号")


def test_without_invoice_view_the_pages_are_closed(app, seen, make_user, new_client):
    make_user("shop_only", role="业务员")
    with app.app_context():
        from models import Role
        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        role.permissions = [p for p in role.permissions if not p.startswith("invoice.")]
        db.session.commit()
    client = login(new_client, "shop_only")
    assert client.get("/admin/invoice/").status_code == 403
    assert client.get(f"/admin/invoice/details/?id={seen['mine']}").status_code == 403
    assert client.get("/admin/excel/export/invoice/").status_code == 403


def test_a_forged_document_in_the_request_address_is_not_found(app, seen, books, new_client):
    rep = login(new_client, "rep")
    with app.app_context():
        other_contract = db.session.scalar(select(Invoice.contract_id).where(Invoice.id == seen["theirs"]))
    assert rep.get(f"/admin/invoice/new/?contract_id={other_contract}").status_code == 404
    assert rep.get(f"/admin/invoice/new/?customer_id={books['other_customer']}").status_code == 404
    html = rep.get("/admin/invoice/new/", follow_redirects=True).get_data(as_text=True)
    assert "请从合同、订单或客户页面的“申请开票”进入" in html
    assert re.search(r"KP\d+", list_table(html)) is not None or "还没有开票申请" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 0


def test_custom_fields_on_the_request_the_page_the_list_and_the_export(app, books, new_client):
    from models import CustomField

    with app.app_context():
        db.session.add(CustomField(entity="invoice", key="project", label="项目名称", field_type="text", required=True,
                                   show_in_list=True))
        db.session.commit()
    rep = login(new_client, "rep")
    url = f"/admin/invoice/new/?contract_id={books['contract']}"
    form = {"title_id": str(books["title"]), "invoice_type": "normal", "amount": "100", "tax_rate": "", "notes": ""}
    html = rep.post_form(url, form, follow=True).get_data(as_text=True)
    assert "请填写项目名称" in html and 'name="cf_project"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Invoice.id))) == 0
    html = rep.post_form(url, dict(form, cf_project="智慧园区一期"), follow=True).get_data(as_text=True)
    assert "已提交" in html and "智慧园区一期" in html
    assert "智慧园区一期" in list_table(rep.get("/admin/invoice/").get_data(as_text=True))
    rows = sheet_rows(xlsx_export(rep, "invoice"))
    assert "项目名称" in rows[0] and rows[1][rows[0].index("项目名称")] == "智慧园区一期"


def test_the_request_number_pattern_is_a_setting(app, books, make_user, new_client):
    make_user("admin", role="系统管理员", department=("总经办",))
    admin = login(new_client, "admin")
    html = admin.get("/admin/invoice_settings/").get_data(as_text=True)
    assert "KP{yyyy}{mm}{dd}{seq:04d}" in html and "KP202611230001" in html
    html = admin.post_form("/admin/invoice_settings/", {"invoice_number_pattern": "FP{yyyy}"},
                           follow=True).get_data(as_text=True)
    assert "编号规则必须且只能包含一个 {seq}" in html and 'value="FP{yyyy}"' in html
    html = admin.post_form("/admin/invoice_settings/", {"invoice_number_pattern": "FP{yy}{mm}-{seq:03d}"},
                           follow=True).get_data(as_text=True)
    assert "开票设置已保存" in html and "FP2611-001" in html
    assert login(new_client, "rep").get("/admin/invoice_settings/").status_code == 403
    invoice_id = ask(app, books, "10")
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).number == "FP2611-001"


def test_a_finance_report_figure_opens_exactly_its_invoices(app, books, new_client):
    """The drill-down parameters of rules/finance_reports (fin-reports branch) narrow the list
    and its export; skipped until that branch is merged."""
    pytest.importorskip("admin_views.finance_drill")
    issued = ask(app, books, "300")
    act(app, "issue", issued, invoice_no="044031900900")
    ask(app, books, "100")
    fin = login(new_client, "fin")
    listing = list_table(fin.get("/admin/invoice/?status=issued&issued_from=2026-11-23&issued_to=2026-11-23")
                         .get_data(as_text=True))
    assert "KP202611230001" in listing and "KP202611230002" not in listing
    rows = sheet_rows(xlsx_export(fin, "invoice", "status=issued"))
    assert [row[0] for row in rows[1:]] == ["KP202611230001"]
    assert fin.get("/admin/invoice/?owner_id=abc").status_code == 400
