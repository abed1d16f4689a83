"""A salesperson cannot reach a colleague's customer by any URL; managers see their scope.
Run on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest

from conftest import list_table, sheet_rows, xlsx_export
from models import Customer, db

pytestmark = pytest.mark.both_dbs


@pytest.fixture
def two_reps(make_user, make_customer):
    sup = make_user("sup1", role="主管")
    rep1 = make_user("rep1", superior="sup1")
    rep2 = make_user("rep2", superior="sup1")
    mine = make_customer("华为技术有限公司", rep1, phone="13800000001")
    theirs = make_customer("华润置地有限公司", rep2, phone="13800000002")
    return {"sup": sup, "rep1": rep1, "rep2": rep2, "mine": mine, "theirs": theirs}


def exists(app, cid: int) -> bool:
    """Still a live customer (not deleted, not in the recycle bin)."""
    with app.app_context():
        customer = db.session.get(Customer, cid)
        return customer is not None and customer.deleted_at is None


def test_list_count_and_search_show_only_own_customers(app, client, two_reps):
    client.login("rep1")
    page = client.get("/admin/customer/").get_data(as_text=True)
    assert "华为技术有限公司" in page
    assert "华润置地有限公司" not in page
    assert "列表 (1)" in page or "List (1)" in page
    found = client.get("/admin/customer/?search=华润").get_data(as_text=True)
    assert "华润置地有限公司" not in found


def test_details_edit_and_delete_of_a_colleagues_customer_answer_404(app, client, two_reps):
    client.login("rep1")
    theirs = two_reps["theirs"]
    details = client.get(f"/admin/customer/details/?id={theirs}")
    assert details.status_code == 404
    # The page says nothing about the record, only that it cannot be shown, in the product's language.
    text = details.get_data(as_text=True)
    assert "记录不存在，或不在您的数据范围内" in text and "华润置地" not in text and "回到工作台" in text
    assert client.get(f"/admin/customer/edit/?id={theirs}").status_code == 404
    edit = client.post_form(f"/admin/customer/edit/?id={two_reps['mine']}",
                            {"name": "改名", "kind": "company"}, to=f"/admin/customer/edit/?id={theirs}")
    assert edit.status_code == 404
    delete = client.post_form("/admin/customer/", {"id": str(theirs), "url": "/admin/customer/"},
                              to="/admin/customer/delete/")
    assert delete.status_code == 404
    assert exists(app, theirs)
    with app.app_context():
        assert db.session.get(Customer, theirs).name == "华润置地有限公司"


def test_a_forged_id_in_a_batch_action_refuses_the_whole_batch(app, client, two_reps):
    client.login("rep1")
    response = client.action("/admin/customer/", "delete", [two_reps["mine"], two_reps["theirs"]], follow=False)
    assert response.status_code == 404
    assert exists(app, two_reps["mine"]) and exists(app, two_reps["theirs"])
    ok = client.action("/admin/customer/", "delete", [two_reps["mine"]])
    assert "已删除 1 条记录" in ok.get_data(as_text=True)
    assert not exists(app, two_reps["mine"])


def test_export_holds_only_customers_in_scope(app, client, two_reps):
    client.login("rep1")
    names = [row[0] for row in sheet_rows(xlsx_export(client))[1:]]
    assert names == ["华为技术有限公司"]  # the colleague's 华润置地 is not in the file
    assert client.get("/admin/customer/export/csv/").status_code != 200  # one export: xlsx


def test_ajax_lookup_offers_only_customers_in_scope(app, client, two_reps):
    client.login("rep1")
    response = client.get("/admin/customer/ajax/lookup/?name=parent&query=华")
    names = [label for _id, label in json.loads(response.get_data(as_text=True))]
    assert names == ["华为技术有限公司"]


def test_forged_parent_in_a_form_is_refused(app, client, two_reps):
    client.login("rep1")
    response = client.post_form(f"/admin/customer/edit/?id={two_reps['mine']}",
                                {"name": "华为技术有限公司", "kind": "company", "parent": str(two_reps["theirs"])},
                                follow=True)
    with app.app_context():
        assert db.session.get(Customer, two_reps["mine"]).parent_id is None
    assert response.status_code == 200


def test_supervisor_sees_the_department_and_a_new_customer_belongs_to_its_creator(app, client, two_reps):
    client.login("sup1")
    page = client.get("/admin/customer/").get_data(as_text=True)
    assert "华为技术有限公司" in page and "华润置地有限公司" in page
    assert client.get(f"/admin/customer/details/?id={two_reps['theirs']}").status_code == 200
    created = client.post_form("/admin/customer/new/", {"name": " 阿里巴巴 ", "kind": "company",
                                                         "phone": "0571-88888888"}, follow=True)
    assert created.status_code == 200
    with app.app_context():
        row = db.session.query(Customer).filter_by(name="阿里巴巴").one()
        assert row.owner_id == two_reps["sup"]


def test_anonymous_visitors_are_sent_to_login(app, client, two_reps):
    response = client.get(f"/admin/customer/details/?id={two_reps['mine']}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_long_list_is_counted_up_to_a_cap(app, client, two_reps, make_customer, monkeypatch):
    """Counting every row of a million-row list on each page view is what makes big CRMs
    slow; past the cap the tab says "N+" and paging still works."""
    import admin_views.base

    monkeypatch.setattr(admin_views.base, "COUNT_CAP", 3)
    for i in range(4):
        make_customer(f"额外客户{i}", two_reps["rep1"])
    client.login("rep1")
    page = client.get("/admin/customer/?page_size=20").get_data(as_text=True)
    assert "列表 (3+)" in page
    assert list_table(page).count("额外客户") == 4  # the rows themselves are all there


def test_search_results_are_counted_up_to_a_lower_cap(app, client, two_reps, make_customer, monkeypatch):
    """A common search term shows "N+" sooner than the plain list: counting every hit of
    科技 among a million customers would cost more than the page itself."""
    import admin_views.customers

    monkeypatch.setattr(admin_views.customers, "SEARCH_COUNT_CAP", 2)
    for i in range(3):
        make_customer(f"瑞和科技{i}", two_reps["rep1"])
    client.login("rep1")
    page = client.get("/admin/customer/?search=科技").get_data(as_text=True)
    assert "列表 (2+)" in page
    assert list_table(page).count("瑞和科技") == 3
    assert "列表 (2+)" not in client.get("/admin/customer/").get_data(as_text=True)  # the plain list counts on
