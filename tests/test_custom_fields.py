"""Custom fields: added by the administrator, they appear in the form, list, filter and
details at once, without restart, and their values are validated."""
from __future__ import annotations

import json

from sqlalchemy import select

from conftest import list_table, sheet_rows, xlsx_export
from models import Contact, Customer, CustomField, db


def add_field(client, **data):
    defaults = {"entity": "customer", "sort_order": "0", "active": "y", "searchable": "y", "importable": "y"}
    return client.post_form("/admin/custom_field/new/", {**defaults, **data}, follow=True)


def test_a_new_field_shows_in_form_list_filter_and_details_without_restart(app, client, new_client, admin_id,
                                                                          make_user, make_customer):
    rep = make_user("rep1")
    cid = make_customer("华为技术", rep)
    other = make_customer("小米科技", rep)
    rep_client = new_client()
    rep_client.login("rep1")
    rep_client.get("/admin/customer/")  # the view is built and has served a page before the field exists
    client.login("admin")
    add_field(client, label="年采购额（万元）", key="budget", field_type="number", required="y", show_in_list="y")
    add_field(client, label="客户级别", key="grade", field_type="choice", options="战略\n普通", show_in_list="y")

    form = rep_client.get(f"/admin/customer/edit/?id={cid}").get_data(as_text=True)
    assert "年采购额（万元） *" in form and "战略" in form
    bad = rep_client.post_form(f"/admin/customer/edit/?id={cid}", {"kind": "company", "name": "华为技术",
                                                                   "cf_budget": "很多", "cf_grade": "战略"})
    body = bad.get_data(as_text=True)
    assert "年采购额（万元）：应为数字" in body and 'value="很多"' in body
    missing = rep_client.post_form(f"/admin/customer/edit/?id={cid}", {"kind": "company", "name": "华为技术"})
    assert "请填写年采购额（万元）" in missing.get_data(as_text=True)
    rep_client.post_form(f"/admin/customer/edit/?id={cid}", {"kind": "company", "name": "华为技术",
                                                             "cf_budget": "1,200", "cf_grade": "战略"})
    rep_client.post_form(f"/admin/customer/edit/?id={other}", {"kind": "company", "name": "小米科技",
                                                               "cf_budget": "80", "cf_grade": "普通"})
    with app.app_context():
        assert db.session.get(Customer, cid).custom == {"budget": 1200, "grade": "战略"}

    listing = rep_client.get("/admin/customer/").get_data(as_text=True)
    table = list_table(listing)
    assert "年采购额（万元）" in table and "1200" in table and "战略" in table
    assert json.dumps("客户级别")[1:-1] in listing  # offered as a filter
    # find the filter's index the way the page does, then filter by it
    groups = json.loads(listing.split('id="filter-groups-data"')[1].split(">", 1)[1].split("</div>")[0]
                        .replace("&#34;", '"').replace("&quot;", '"'))
    grade = next(f for f in groups["客户级别"])
    filtered = list_table(rep_client.get(f"/admin/customer/?flt0_{grade['index']}=战略").get_data(as_text=True))
    assert "华为技术" in filtered and "小米科技" not in filtered
    budget = next(f for f in groups["年采购额（万元）"] if f["operation"] == "大于等于")
    rich = list_table(rep_client.get(f"/admin/customer/?flt0_{budget['index']}=100").get_data(as_text=True))
    assert "华为技术" in rich and "小米科技" not in rich

    details = rep_client.get(f"/admin/customer/details/?id={cid}").get_data(as_text=True)
    assert "年采购额（万元）" in details and "1200" in details
    header, *rows = sheet_rows(xlsx_export(rep_client))
    assert "年采购额（万元）" in header and "客户级别" in header
    assert any("战略" in row for row in rows)


def test_field_definitions_are_checked(app, client, admin_id):
    client.login("admin")
    page = add_field(client, label="等级", key="Bad Key", field_type="text").get_data(as_text=True)
    assert "字段标识只能用小写字母" in page
    page = add_field(client, label="渠道", key="channel", field_type="choice", options="").get_data(as_text=True)
    assert "至少需要一个选项" in page
    add_field(client, label="渠道", key="channel", field_type="choice", options="线上\n线下")
    page = add_field(client, label="渠道2", key="channel", field_type="text").get_data(as_text=True)
    assert "已被使用" in page
    with app.app_context():
        assert db.session.scalar(select(CustomField.options).where(CustomField.key == "channel")) == ["线上", "线下"]


def test_contacts_get_custom_fields_through_the_same_mechanism(app, client, new_client, admin_id, make_user,
                                                               make_customer):
    rep = make_user("rep1")
    cid = make_customer("华为技术", rep)
    client.login("admin")
    add_field(client, entity="contact", label="爱好", key="hobby", field_type="multi_choice",
              options="高尔夫\n钓鱼\n茶", show_in_list="y")
    rep_client = new_client()
    rep_client.login("rep1")
    rep_client.post_form("/admin/contact/new/", {"customer": str(cid), "name": "任总", "cf_hobby": ["茶", "钓鱼"]})
    with app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.name == "任总"))
        assert contact.custom == {"hobby": ["钓鱼", "茶"]} or contact.custom == {"hobby": ["茶", "钓鱼"]}
        assert contact.is_primary  # the first contact of a customer becomes its primary one
    table = list_table(rep_client.get("/admin/contact/").get_data(as_text=True))
    assert "任总" in table and "钓鱼" in table


def test_contacts_on_the_customer_form_have_the_contact_custom_fields_with_the_same_rules(
        app, client, new_client, admin_id, make_user):
    """A contact field added after the customer view was built shows on the customer form's
    contact rows (and on the blank row the 添加联系人 button copies), is required there as on the
    contact form, keeps what was typed when refused, and shows the stored value when editing."""
    make_user("rep1")
    rep_client = new_client()
    rep_client.login("rep1")
    rep_client.get("/admin/customer/new/")  # the view has built its forms before the field exists
    client.login("admin")
    add_field(client, entity="contact", label="微信昵称", key="nickname", field_type="text", required="y")
    add_field(client, entity="contact", label="生日月份", key="month", field_type="number")

    blank = rep_client.get("/admin/customer/new/").get_data(as_text=True)
    row_template = blank.split("inline-field-template", 1)[1]  # the row 添加联系人 copies
    assert "微信昵称 *" in row_template and "cf_nickname" in row_template

    refused = rep_client.post_form("/admin/customer/new/", {
        "kind": "company", "name": "行内字段公司", "contacts-0-name": "王总", "contacts-0-mobile": "13911112222",
        "contacts-0-cf_month": "五月"}, follow=True).get_data(as_text=True)
    assert "请填写微信昵称" in refused
    assert 'value="王总"' in refused and 'value="五月"' in refused  # what was typed is kept
    with app.app_context():
        assert db.session.scalar(select(Customer).where(Customer.name == "行内字段公司")) is None

    rep_client.post_form("/admin/customer/new/", {
        "kind": "company", "name": "行内字段公司", "contacts-0-name": "王总", "contacts-0-mobile": "13911112222",
        "contacts-0-cf_nickname": "老王", "contacts-0-cf_month": "5"})
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.name == "行内字段公司"))
        contact = db.session.scalar(select(Contact).where(Contact.customer_id == customer.id))
        assert contact.custom == {"nickname": "老王", "month": 5}
        cid = customer.id
    edit = rep_client.get(f"/admin/customer/edit/?id={cid}").get_data(as_text=True)
    assert 'name="contacts-0-cf_nickname"' in edit and 'value="老王"' in edit
