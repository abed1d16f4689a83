"""Lost updates: two people open the same customer, order or product; the first saves a change
to one field, the second saves another. The second save is refused with who changed the record
and when ("该记录已被 王经理 于 10:05 修改，请刷新后再改"), nothing of the first change is lost,
and the second person's typed values are still in the form. Run on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from conftest import FIXED_NOW
from models import Contact, CustomField, Customer, Order, Product, db
from test_rules_orders import new_order, shop  # noqa: F401 - fixture

pytestmark = pytest.mark.both_dbs


class _Form(HTMLParser):
    """What a browser submits for the page's main form: inputs, checked boxes, selected options,
    textareas (the hidden row template that 添加联系人 copies is not sent)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._template_depth = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: (v or "") for k, v in attrs}
        if "inline-field-template" in a.get("class", ""):
            self._template_depth = 1
            return
        if self._template_depth:
            self._template_depth += tag not in ("input", "br", "img", "hr", "meta", "link")
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "y")
            elif kind not in ("submit", "button", "file"):
                self.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
                self.fields.setdefault(self._select, self._first_option)
            if "selected" in a:
                self.fields[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._template_depth:
            self._template_depth -= 1
            return
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and not self._template_depth:
            # as a browser reads it: CRLF becomes LF, and a newline right after <textarea> is dropped
            data = data.replace("\r\n", "\n")
            self.fields[self._textarea] += data.removeprefix("\n") if not self.fields[self._textarea] else data


def form_of(client, url: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(client.get(url).get_data(as_text=True))
    assert "version" in parser.fields, "the edit form carries the row version"
    return parser.fields


def login(new_client, username: str):
    client = new_client()
    client.login(username)
    return client


def save(client, url: str, fields: dict[str, str]):
    """Submit the form as it was shown, with the user's changes (the token of that page)."""
    return client.client.post(url, data=fields, follow_redirects=True)


def local_hm(app, moment) -> str:
    return moment.astimezone(ZoneInfo(app.config["TIMEZONE"])).strftime("%H:%M")


@pytest.fixture
def managers(app, shop, make_user):
    make_user("mgr1", role="经理", department=("销售部",), display_name="王经理")
    make_user("mgr2", role="主管", display_name="李主管")
    with app.app_context():
        db.session.add(CustomField(entity="customer", key="grade", label="客户等级", field_type="text"))
        db.session.add(Contact(customer_id=shop["customer"], name="赵联系", mobile="13900001111", is_primary=True))
        db.session.commit()
    return shop


def test_a_stale_customer_save_is_refused_naming_who_changed_it_and_keeps_what_was_typed(
        app, managers, new_client, clock):
    url = f"/admin/customer/edit/?id={managers['customer']}"
    first, second = login(new_client, "mgr1"), login(new_client, "mgr2")
    mine, theirs = form_of(first, url), form_of(second, url)
    assert theirs["contacts-0-name"] == "赵联系"

    saved_at = clock.advance(minutes=5)
    mine["phone"] = "0571-88886666"
    assert "请刷新后再改" not in save(first, url, mine).get_data(as_text=True)

    clock.advance(minutes=3)
    theirs.update({"notes": "第二位经理写的备注", "cf_grade": "A级", "contacts-0-position": "采购总监"})
    page = save(second, url, theirs).get_data(as_text=True)
    assert f"该记录已被 王经理 于 {local_hm(app, saved_at)} 修改，请刷新后再改" in page
    # what the second manager typed is still in the form, contact row and custom field included
    assert "第二位经理写的备注" in page and 'value="A级"' in page and 'value="采购总监"' in page
    with app.app_context():
        customer = db.session.get(Customer, managers["customer"])
        assert customer.phone == "0571-88886666"  # the first change is kept
        assert customer.notes in (None, "") and (customer.custom or {}).get("grade") is None
        assert db.session.get(Contact, customer.contacts[0].id).position in (None, "")

    # after refreshing, the second manager's change goes in on top of the first
    fresh = form_of(second, url)
    fresh["notes"] = "第二位经理写的备注"
    save(second, url, fresh)
    with app.app_context():
        customer = db.session.get(Customer, managers["customer"])
        assert (customer.phone, customer.notes) == ("0571-88886666", "第二位经理写的备注")


def test_a_contact_changed_on_its_own_page_makes_an_open_customer_form_stale(app, managers, new_client, clock):
    """The customer form carries its contact rows: saving it after someone changed a contact
    would put the old row back."""
    url = f"/admin/customer/edit/?id={managers['customer']}"
    first, second = login(new_client, "mgr1"), login(new_client, "mgr2")
    theirs = form_of(second, url)
    with app.app_context():
        contact_id = db.session.get(Customer, managers["customer"]).contacts[0].id
    contact_url = f"/admin/contact/edit/?id={contact_id}"
    contact_form = form_of(first, contact_url)
    saved_at = clock.advance(minutes=4)
    contact_form["position"] = "总经理"
    save(first, contact_url, contact_form)
    theirs["notes"] = "客户表单上的备注"
    page = save(second, url, theirs).get_data(as_text=True)
    assert f"该记录已被 王经理 于 {local_hm(app, saved_at)} 修改，请刷新后再改" in page
    assert "客户表单上的备注" in page
    with app.app_context():
        assert db.session.get(Contact, contact_id).position == "总经理"
        assert db.session.get(Customer, managers["customer"]).notes != "客户表单上的备注"


def test_a_single_edit_still_saves_and_moves_the_version(app, managers, new_client):
    url = f"/admin/customer/edit/?id={managers['customer']}"
    manager = login(new_client, "mgr1")
    fields = form_of(manager, url)
    fields["notes"] = "一次普通的修改"
    page = save(manager, url, fields).get_data(as_text=True)
    assert "请刷新后再改" not in page
    again = form_of(manager, url)
    assert int(again["version"]) == int(fields["version"]) + 1
    again["notes"] = "再改一次"
    assert "请刷新后再改" not in save(manager, url, again).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Customer, managers["customer"]).notes == "再改一次"


def test_a_stale_order_save_is_refused(app, managers, new_client, clock):
    order_id = new_order(app, managers)
    url = f"/admin/order/edit/?id={order_id}"
    rep, sup = login(new_client, "rep"), login(new_client, "mgr2")
    mine, theirs = form_of(rep, url), form_of(sup, url)
    saved_at = clock.advance(minutes=7)
    mine["consignee"] = "收货人甲"
    save(rep, url, mine)
    theirs["notes"] = "主管补充的备注"
    page = save(sup, url, theirs).get_data(as_text=True)
    assert f"该记录已被 rep 于 {local_hm(app, saved_at)} 修改，请刷新后再改" in page
    assert "主管补充的备注" in page
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.consignee == "收货人甲" and order.notes != "主管补充的备注"


def test_a_stale_product_save_is_refused(app, managers, new_client, clock):
    url = f"/admin/product/edit/?id={managers['tea']}"
    clerk, clerk2 = login(new_client, "clerk"), login(new_client, "clerk2")
    mine, theirs = form_of(clerk, url), form_of(clerk2, url)
    saved_at = clock.advance(minutes=9)
    mine["cost"] = "13.00"
    save(clerk, url, mine)
    theirs["spec"] = "500g/罐"
    page = save(clerk2, url, theirs).get_data(as_text=True)
    assert f"该记录已被 clerk 于 {local_hm(app, saved_at)} 修改，请刷新后再改" in page
    assert 'value="500g/罐"' in page
    with app.app_context():
        product = db.session.get(Product, managers["tea"])
        assert (str(product.cost), product.spec) == ("13.00", "250g/罐")


def test_a_change_landing_between_the_check_and_the_commit_is_refused_not_a_500(app, managers, new_client):
    """The form's version matches when checked, but another save commits before this one's
    UPDATE (version_id_col): the user gets the same refusal, not an error page."""
    from sqlalchemy import event, update

    url = f"/admin/customer/edit/?id={managers['customer']}"
    manager = login(new_client, "mgr1")
    fields = form_of(manager, url)
    fields["notes"] = "晚到的修改"
    with app.app_context():
        engine = db.engine

    def sneak_in(conn, cursor, statement, parameters, context, executemany):
        # Just before this save's UPDATE of the customer, the row's version moves on (as when
        # another save commits in that instant; run on this connection, SQLite allows one writer).
        if statement.lstrip().upper().startswith("UPDATE CUSTOMERS") and not sneak_in.done:
            sneak_in.done = True
            conn.execute(update(Customer).where(Customer.id == managers["customer"])
                         .values(version=Customer.version + 1))

    sneak_in.done = False
    event.listen(engine, "before_cursor_execute", sneak_in)
    try:
        response = save(manager, url, fields)
    finally:
        event.remove(engine, "before_cursor_execute", sneak_in)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and sneak_in.done
    assert "请刷新后再改" in page and "晚到的修改" in page
    with app.app_context():
        assert db.session.get(Customer, managers["customer"]).notes != "晚到的修改"
