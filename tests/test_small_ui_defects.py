"""Issue 16 item 17: small things a user notices — the print time, the page-size menu, the
address book's department filter, the new-order page's title, discounts as 9折, full-width
colons in email subjects, and the SFA start page with a shared customer in the selection."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, list_table
from models import Customer, User, db
from models.messaging import SfaPlan
from rules import messaging, sharing
from rules.actor import Actor


def as_english(app, username: str) -> None:
    with app.app_context():
        db.session.scalar(select(User).where(User.username == username)).locale = "en"
        db.session.commit()


def test_the_print_page_says_when_it_was_printed(app, client, admin_id, make_customer):
    cid = make_customer("和泰商贸", admin_id)
    client.login("admin")
    page = client.get(f"/admin/customer/print/?id={cid}").get_data(as_text=True)
    assert '打印时间：<span data-testid="printed-at">2026-11-23 10:00</span>' in page


def test_the_page_size_menu_speaks_the_readers_language(app, client, admin_id, make_customer):
    make_customer("和泰商贸", admin_id)
    client.login("admin")
    page = client.get("/admin/customer/").get_data(as_text=True)
    menu = page[page.index('data-testid="page-size"'):]
    menu = menu[:menu.index("</div>")]
    assert "每页 20 条" in menu and "每页 50 条" in menu and "每页 100 条" in menu
    assert "项目" not in menu and "items" not in menu
    as_english(app, "admin")
    page = client.get("/admin/customer/").get_data(as_text=True)
    menu = page[page.index('data-testid="page-size"'):]
    assert "50 per page" in menu[:menu.index("</div>")]


def test_the_address_book_filters_by_department_in_chinese(app, client, make_user):
    make_user("chenxm", display_name="陈晓明")
    make_user("liqiang", display_name="李强", department=("销售部", "销售二部"))
    client.login("chenxm")
    page = client.get("/admin/address_book/").get_data(as_text=True)
    assert "Department" not in page and "Name" not in page
    assert 'class="dropdown-item filter">部门<' in page
    with client.application.app_context():
        from models import Department
        second = db.session.scalar(select(Department.id).where(Department.name == "销售二部"))
    table = list_table(client.get(f"/admin/address_book/?flt0_0={second}").get_data(as_text=True))
    assert "李强" in table and "陈晓明" not in table


@pytest.mark.parametrize(("url", "name", "list_name"), [("/admin/order/new/", "新建订单", "订单综合查询"),
                                                     ("/admin/quote/new/", "新建报价单", "报价单列表")])
def test_a_new_document_page_is_called_by_what_it_makes(app, client, admin_id, url, name, list_name):
    """订单 and 报价单 share one entry page (templates/admin/line_documents/create.html)."""
    client.login("admin")
    page = client.get(url).get_data(as_text=True)
    assert f"<title>{name} - 客池CRM</title>" in page
    heading = page[page.index('<h4 class="mb-4">'):]
    heading = heading[:heading.index("</h4>")]
    assert name in heading and list_name not in heading
    assert 'id="kechi-prices"' in page  # the lines' price look-up came along


@pytest.mark.parametrize("rate,text,tooltip", [
    ("0.9", "9折", "90%"), ("0.95", "9.5折", "95%"), ("0.885", "8.85折", "88.5%"), ("1", "不打折", "100%"),
])
def test_discounts_read_as_zhe_with_the_percentage_as_tooltip(app, rate, text, tooltip):
    from admin_views.formatters import fmt_discount

    with app.test_request_context():
        shown = str(fmt_discount(Decimal(rate)))
    assert f">{text}</span>" in shown and f"title='{tooltip}'" in shown


def test_an_email_subject_keeps_its_full_width_colon(app):
    with app.app_context():
        subject, _html = messaging.render_email("{客户名称}：本月报价（含税）", "<p>您好</p>", {"客户名称": "和泰商贸"})
    assert subject == "和泰商贸：本月报价（含税）"


def test_the_sfa_start_page_skips_a_shared_customer_and_says_so(app, client, make_user, make_customer):
    mine_owner = make_user("chenxm", display_name="陈晓明")
    other = make_user("liqiang", display_name="李强", department=("销售部", "销售二部"))
    mine = make_customer("和泰商贸", mine_owner)
    shared = make_customer("瑞和科技", other)
    with app.app_context():
        db.session.add(SfaPlan(name="每7天提醒", action="remind", remind_text="打电话", interval_days=7))
        sharing.share(db.session, db.session.get(Customer, shared), to_user=db.session.get(User, mine_owner),
                      mode="read_only", until=None, actor=Actor.from_user(db.session.get(User, other)), now=FIXED_NOW)
        db.session.commit()
    client.login("chenxm")
    response = client.get(f"/admin/sfa_enrollment/start/?ids={mine},{shared}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "已跳过 1 位不归您负责的客户" in page and "瑞和科技" in page
    assert "<li>和泰商贸</li>" in page and "<li>瑞和科技</li>" not in page
