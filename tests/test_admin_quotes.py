"""报价单 in the panel: a salesperson writes a quote with lines (9折 and -10% shown, money split
as orders split it), a bad line keeps the form and writes nothing, send → accept → 转订单 from the
quote page (a second 转订单 refused), 修订 keeps the old version, other salespeople get 404 on
every path, the print page, the customer page's 报价单 tab and 报价设置."""
from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import func, select

from conftest import list_table
from models import Order, Quote, QuoteEvent, Role, db
from rules import settings
from test_rules_orders import shop  # noqa: F401 - fixture
from test_rules_quotes import act, deal, new_quote  # noqa: F401 - fixture


def login(new_client, username):
    client = new_client()
    client.login(username)
    return client


def quote_form(shop, **extra):
    data = {"customer": str(shop["customer"]), "opportunity": "", "owner": "", "quote_date": "",
            "valid_until": "2026-12-20", "price_level": str(shop["wholesale"]), "tax_rate": "0.13",
            "terms": "款到发货，含运费", "notes": "",
            "lines-0-product": str(shop["tea"]), "lines-0-quantity": "3", "lines-0-unit_price": "",
            "lines-0-discount_rate": "0.9", "lines-0-notes": "",
            "lines-1-product": str(shop["cup"]), "lines-1-quantity": "7", "lines-1-unit_price": "",
            "lines-1-discount_rate": "0.85", "lines-1-notes": ""}
    data.update(extra)
    return data


def test_a_salesperson_writes_a_quote_with_two_lines(app, shop, new_client):
    rep = login(new_client, "rep")
    page = rep.get(f"/admin/quote/new/?customer_id={shop['customer']}").get_data(as_text=True)
    assert f'data-json="[{shop["customer"]}, ' in page  # the customer chosen on its page is preselected
    html = rep.post_form("/admin/quote/new/", quote_form(shop), follow=True).get_data(as_text=True)
    assert "报价单 BJ202611230001 已保存为草稿" in html
    assert "创建记录成功" not in html
    assert "9折" in html and "-10%" in html and "8.5折" in html and "-15%" in html
    assert "¥63.01" in html and "¥55.76" in html and "¥7.25" in html  # 价税合计, 不含税金额, 税额
    assert "2026-12-20" in html and "款到发货，含运费" in html
    assert 'id="kechi-quote-send"' in html and 'id="kechi-quote-convert"' not in html
    listing = list_table(rep.get("/admin/quote/").get_data(as_text=True))
    assert "BJ202611230001" in listing and "华星贸易" in listing and "¥63.01" in listing and "草稿" in listing


def test_a_bad_line_keeps_what_was_typed_and_writes_nothing(app, shop, new_client):
    rep = login(new_client, "rep")
    html = rep.post_form("/admin/quote/new/", quote_form(shop, **{"lines-0-unit_price": "-5"}),
                         follow=True).get_data(as_text=True)
    assert "“龙井茶”的单价不能为负数" in html
    assert "款到发货，含运费" in html  # the form as typed
    with app.app_context():
        role_id = db.session.scalar(select(Role.id).where(Role.name == "业务员"))
        settings.put(db.session, "quote_min_discount_rate", {str(role_id): "0.9"})
        db.session.commit()
    html = rep.post_form("/admin/quote/new/", quote_form(shop), follow=True).get_data(as_text=True)
    assert "“茶杯”的折扣超出您的权限（最低 9折）" in html
    assert "款到发货，含运费" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Quote.id))) == 0
        assert db.session.scalar(select(func.count(QuoteEvent.id))) == 0


def _press(client, quote_id, move, follow=True):
    return client.post_form(f"/admin/quote/details/?id={quote_id}", {}, to=f"/admin/quote/move/{move}/?id={quote_id}",
                            follow=follow).get_data(as_text=True)


def test_send_accept_and_convert_from_the_quote_page_once(app, shop, new_client):
    quote_id = new_quote(app, shop)
    rep = login(new_client, "rep")
    assert "已发送" in _press(rep, quote_id, "send")
    html = _press(rep, quote_id, "accept")
    assert 'id="kechi-quote-convert"' in html
    html = _press(rep, quote_id, "convert")
    with app.app_context():
        order = db.session.scalar(select(Order))
    assert f"已转为订单 {order.number}，等待审核" in html
    assert f"已转订单 {order.number}" in html and 'id="kechi-quote-convert"' not in html
    html = _press(rep, quote_id, "convert")  # a second press (an old tab)
    assert f"该报价单已转为订单 {order.number}" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1


def test_revising_from_the_quote_page_keeps_the_old_version(app, shop, new_client):
    quote_id = new_quote(app, shop)
    act(app, quote_id, "send")
    rep = login(new_client, "rep")
    html = _press(rep, quote_id, "revise")
    assert "已修订为新版本 BJ202611230001-V2（草稿），旧版本保留" in html
    assert 'id="kechi-quote-send"' in html  # now on the new draft
    old = rep.get(f"/admin/quote/details/?id={quote_id}").get_data(as_text=True)
    assert "已有新版本" in old and "BJ202611230001-V2" in old and 'id="kechi-quote-accept"' not in old
    assert rep.get(f"/admin/quote/edit/?id={quote_id}", follow_redirects=True).get_data(as_text=True).count(
        "只有最新版本的草稿可以修改") == 1


def test_another_salesperson_gets_404_everywhere(app, shop, new_client):
    quote_id = new_quote(app, shop)
    rep2 = login(new_client, "rep2")
    for url in (f"/admin/quote/details/?id={quote_id}", f"/admin/quote/print/?id={quote_id}",
                f"/admin/quote/edit/?id={quote_id}", f"/admin/quote/new/?customer_id={shop['customer']}"):
        assert rep2.get(url).status_code == 404, url
    token = rep2.token("/admin/quote/")
    assert rep2.post(f"/admin/quote/move/send/?id={quote_id}", data={"csrf_token": token}).status_code == 404
    assert "BJ202611230001" not in list_table(rep2.get("/admin/quote/").get_data(as_text=True))


def test_the_print_page_shows_money_in_figures_and_words(app, shop, new_client):
    quote_id = new_quote(app, shop)
    rep = login(new_client, "rep")
    html = rep.get(f"/admin/quote/print/?id={quote_id}").get_data(as_text=True)
    assert "报 价 单" in html and "华星贸易" in html and "BJ202611230001" in html
    assert "¥63.01" in html and "¥55.76" in html and "¥7.25" in html
    assert "陆拾叁元零壹分" in html
    assert "2026-11-23" in html and "2026-12-23" in html  # 报价日期, 有效期至 (30 days)
    assert "9折" in html and "-10%" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script
    assert "@page" not in html and "kechi-quote-print.css" in html


def test_the_customer_page_lists_its_quotes(app, shop, new_client):
    quote_id = new_quote(app, shop)
    html = login(new_client, "rep").get(f"/admin/customer/details/?id={shop['customer']}").get_data(as_text=True)
    tab = html[html.index('id="tab-quotes"'):]
    tab = tab[:tab.index('id="tab-', 10)]
    assert f"/admin/quote/details/?id={quote_id}" in tab and "BJ202611230001" in tab and "¥63.01" in tab
    assert f"/admin/quote/new/?customer_id={shop['customer']}" in tab


def test_an_administrator_sets_a_roles_lowest_discount(app, shop, new_client, admin_id):
    admin = login(new_client, "admin")
    with app.app_context():
        role_id = db.session.scalar(select(Role.id).where(Role.name == "业务员"))
    page = admin.get("/admin/quote_settings/").get_data(as_text=True)
    assert "BJ202611230001" in page  # the next number
    data = {"quote_number_pattern": "BJ{yyyy}{mm}{dd}{seq:04d}", "quote_valid_days": "15", "quote_terms": "",
            f"limit_{role_id}": "0.9"}
    html = admin.post_form("/admin/quote_settings/", data, follow=True).get_data(as_text=True)
    assert "报价设置已保存" in html and "9折" in html
    with app.app_context():
        assert settings.get(db.session, "quote_min_discount_rate") == {str(role_id): "0.9"}
        assert settings.get(db.session, "quote_valid_days") == 15
    assert login(new_client, "rep").get("/admin/quote_settings/").status_code in (403, 404)


def _opportunity_section(app, username, opportunity_id):
    """The section the opportunity page includes, rendered for `username` as that page would."""
    from flask import render_template_string
    from flask_login import login_user

    from models import Opportunity, User

    with app.test_request_context("/admin/opportunity/details/"):
        login_user(db.session.scalar(select(User).where(User.username == username)))
        return render_template_string("{% include 'admin/quotes/_for_opportunity.html' %}",
                                      model=db.session.get(Opportunity, opportunity_id))


def test_the_opportunity_section_lists_its_quotes_for_whoever_sees_them(app, deal, new_client):
    on_deal = new_quote(app, deal, customer=None, lines=[], level="retail", opportunity_id=deal["opportunity"])
    other = new_quote(app, deal)  # the same customer, not on the opportunity
    section = _opportunity_section(app, "rep3", deal["opportunity"])  # a collaborator
    assert f"/admin/quote/details/?id={on_deal}" in section and f"?id={other}" not in section
    assert f"/admin/quote/new/?opportunity_id={deal['opportunity']}" in section and "新建报价" in section
    rep3 = login(new_client, "rep3")
    assert rep3.get(f"/admin/quote/details/?id={on_deal}").status_code == 200
    assert rep3.get(f"/admin/quote/details/?id={other}").status_code == 404
    assert "这个销售机会还没有报价单" in _opportunity_section(app, "rep2", deal["opportunity"])
    # 新建报价 from the opportunity: its customer preselected, its products quoted when no line is typed
    page = rep3.get(f"/admin/quote/new/?opportunity_id={deal['opportunity']}").get_data(as_text=True)
    assert f'data-json="[{deal["customer"]}, ' in page and f'data-json="[{deal["opportunity"]}, ' in page


def test_a_draft_is_changed_on_its_form_and_the_money_follows(app, shop, new_client):
    quote_id = new_quote(app, shop)
    with app.app_context():
        quote = db.session.get(Quote, quote_id)
        line_ids, version = [line.id for line in quote.lines], quote.version
    rep = login(new_client, "rep")
    form = quote_form(shop, **{"lines-0-id": str(line_ids[0]), "lines-1-id": str(line_ids[1]),
                               "lines-0-quantity": "4", "version": str(version)})
    html = rep.post_form(f"/admin/quote/edit/?id={quote_id}", form, follow=True).get_data(as_text=True)
    # 4 × 16.00 × 0.9 = 57.60; + 19.81 = 77.41
    assert "¥77.41" in html and "修改" in html
    with app.app_context():
        quote = db.session.get(Quote, quote_id)
        assert quote.total == Decimal("77.41") and len(quote.lines) == 2
        assert [e.action for e in db.session.scalars(select(QuoteEvent).where(QuoteEvent.quote_id == quote_id)
                                                     .order_by(QuoteEvent.id))] == ["create", "edit"]
    act(app, quote_id, "send")
    html = rep.post_form(f"/admin/quote/details/?id={quote_id}", form, to=f"/admin/quote/edit/?id={quote_id}",
                         follow=True).get_data(as_text=True)
    assert "只有最新版本的草稿可以修改" in html
    with app.app_context():
        assert db.session.get(Quote, quote_id).total == Decimal("77.41")


def test_a_quote_that_became_a_contract_offers_no_convert_to_order(app, shop, new_client):
    quote_id = new_quote(app, shop)
    act(app, quote_id, "send")
    act(app, quote_id, "accept")
    rep = login(new_client, "rep")
    assert 'id="kechi-quote-convert"' in rep.get(f"/admin/quote/details/?id={quote_id}").get_data(as_text=True)
    html = rep.post_form(f"/admin/quote/details/?id={quote_id}", {"quote_id": str(quote_id)},
                         to="/admin/contract/from_quote/", follow=True).get_data(as_text=True)
    assert "已生成合同草稿" in html
    html = rep.get(f"/admin/quote/details/?id={quote_id}").get_data(as_text=True)
    assert "kechi-contract-link" in html and 'id="kechi-quote-convert"' not in html
    assert "报价单BJ202611230001已转为合同" in _press(rep, quote_id, "convert")  # an old tab is still refused
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 0
