"""Departments, roles, staff, address book, notifications, language."""
from __future__ import annotations

from sqlalchemy import select

from conftest import FIXED_NOW
from models import Department, Role, User, db
from rules import notifications
from rules.links import ListKind, ListLink


def role_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Role.id).where(Role.name == name))


def test_role_permissions_are_grouped_checkboxes_and_take_effect(app, client, new_client, make_user, admin_id,
                                                                 make_customer):
    rep = make_user("rep1")
    make_customer("华为", rep)
    rid = role_id(app, "业务员")
    client.login("admin")
    form = client.get(f"/admin/role/edit/?id={rid}").get_data(as_text=True)
    for heading in ("客户管理", "客户池", "销售管理", "系统设置", "导出客户", "本部门及下属部门"):
        assert heading in form
    rep_client = new_client()
    rep_client.login("rep1")
    assert "导出Excel" in rep_client.get("/admin/customer/").get_data(as_text=True)
    assert rep_client.get("/admin/excel/export/customer/").status_code == 200
    client.post_form(f"/admin/role/edit/?id={rid}", {
        "name": "业务员", "data_scope": "self", "description": "",
        "permissions": ["customer.view", "customer.create", "customer.edit"]})
    with app.app_context():
        assert db.session.get(Role, rid).permissions == ["customer.view", "customer.create", "customer.edit"]
    refused = rep_client.get("/admin/excel/export/customer/")
    assert refused.status_code == 403 and "没有权限" in refused.get_data(as_text=True)  # no file
    listing = rep_client.get("/admin/customer/").get_data(as_text=True)
    assert "/admin/excel/export/customer/" not in listing and "导出Excel" not in listing  # and no link


def test_unknown_permissions_are_refused_with_the_form_kept(app, client, admin_id):
    client.login("admin")
    response = client.post_form("/admin/role/new/", {"name": "怪角色", "data_scope": "self",
                                                      "permissions": ["customer.view", "root.everything"]})
    body = response.get_data(as_text=True)
    assert "怪角色" in body  # the form comes back with what was typed
    with app.app_context():
        assert db.session.scalar(select(Role).where(Role.name == "怪角色")) is None


def test_departments_form_a_tree_and_cycles_are_explained(app, client, admin_id):
    client.login("admin")
    client.post_form("/admin/department/new/", {"name": "华东大区", "sort_order": "0"})
    with app.app_context():
        east = db.session.scalar(select(Department).where(Department.name == "华东大区"))
        east_id = east.id
    client.post_form("/admin/department/new/", {"name": "上海分公司", "parent": str(east_id), "sort_order": "0"})
    with app.app_context():
        sh = db.session.scalar(select(Department).where(Department.name == "上海分公司"))
        assert sh.path == f"/{east_id}/{sh.id}/"
        sh_id = sh.id
    refused = client.post_form(f"/admin/department/edit/?id={east_id}",
                               {"name": "华东大区", "parent": str(sh_id), "sort_order": "0"})
    assert "不能把部门移到它自己或它的下级部门之下" in refused.get_data(as_text=True)
    listing = client.get("/admin/department/").get_data(as_text=True)
    assert "└ 上海分公司" in listing
    busy = client.post_form("/admin/department/", {"id": str(east_id), "url": "/admin/department/"},
                            to="/admin/department/delete/", follow=True)
    assert "还有员工或下级部门" in busy.get_data(as_text=True)


def test_an_administrator_creates_staff_who_can_then_log_in(app, client, new_client, admin_id):
    client.login("admin")
    with app.app_context():
        dept = db.session.scalar(select(Department).where(Department.name == "总经办"))
        rid = db.session.scalar(select(Role.id).where(Role.name == "业务员"))
    missing = client.post_form("/admin/user/new/", {"username": "newbie", "display_name": "新同事",
                                                    "department": str(dept.id), "role": str(rid),
                                                    "locale": "zh_CN"})
    assert "新建员工时请设置密码" in missing.get_data(as_text=True)
    assert 'value="新同事"' in missing.get_data(as_text=True)
    client.post_form("/admin/user/new/", {"username": "newbie", "display_name": "新同事",
                                          "department": str(dept.id), "role": str(rid), "superior": str(admin_id),
                                          "locale": "zh_CN", "new_password": "welcome-2026"})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "newbie"))
        assert user.report_path == f"/{admin_id}/{user.id}/"
    assert new_client().login("newbie", "welcome-2026").status_code == 302


def test_address_book_lists_active_colleagues_for_everyone(app, client, new_client, make_user, admin_id):
    make_user("rep1", display_name="陈晓明")
    gone = make_user("rep2", display_name="已离职的人")
    admin = new_client()
    admin.login("admin")
    admin.action("/admin/user/", "disable", [gone])
    client.login("rep1")
    page = client.get("/admin/address_book/").get_data(as_text=True)
    assert "陈晓明" in page and "管理员" in page and "已离职的人" not in page
    assert "陈晓明" in client.get("/admin/address_book/?search=陈").get_data(as_text=True)


def test_the_bell_counts_unread_notifications_and_opening_one_marks_it_read(app, client, make_user):
    rep = make_user("rep1")
    other = make_user("rep2")
    with app.app_context():
        note = notifications.notify(db.session, user_id=rep, title="客户华为明天回访", now=FIXED_NOW,
                                    link=ListLink(ListKind.CUSTOMER))
        foreign = notifications.notify(db.session, user_id=other, title="别人的提醒", now=FIXED_NOW)
        db.session.commit()
        note_id, foreign_id = note.id, foreign.id
    client.login("rep1")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'data-testid="bell-count">1<' in page and "客户华为明天回访" in page and "别人的提醒" not in page
    opened = client.get(f"/admin/notification/open/{note_id}")
    assert opened.headers["Location"].endswith("/admin/customer/")
    assert 'data-testid="bell-count"' not in client.get("/admin/").get_data(as_text=True)
    assert client.get(f"/admin/notification/open/{foreign_id}").status_code == 404
    assert "别人的提醒" not in client.get("/admin/notification/").get_data(as_text=True)


def test_english_can_be_chosen_per_user(app, client, make_user):
    make_user("rep1")
    client.login("rep1")
    assert "客户管理" in client.get("/admin/").get_data(as_text=True)
    client.get("/lang/en", headers={"Referer": "http://localhost/admin/"})
    page = client.get("/admin/").get_data(as_text=True)
    assert "Customers" in page and "Workbench" in page
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.username == "rep1")) == "en"
