"""Every create, update and delete through the panel leaves an audit row with before/after."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import sheet_rows, xlsx_export
from models import AuditLog, Customer, User, db


def audit_rows(app, entity: str) -> list[AuditLog]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.id)))
        db.session.expunge_all()
        return rows


@pytest.mark.both_dbs
def test_create_update_delete_leave_before_and_after_values(app, client, make_user):
    rep = make_user("rep1", display_name="陈晓明")
    client.login("rep1")
    client.post_form("/admin/customer/new/", {"name": "华为技术", "kind": "company", "phone": "13800000000"})
    with app.app_context():
        cid = db.session.scalar(select(Customer.id).where(Customer.name == "华为技术"))
    client.post_form(f"/admin/customer/edit/?id={cid}", {"name": "华为技术有限公司", "kind": "company",
                                                         "phone": "13800000000"})
    client.action("/admin/customer/", "delete", [cid])

    created, updated, deleted = audit_rows(app, "Customer")
    # Deleting a customer moves it to the recycle bin: an update of deleted_at.
    assert (created.action, updated.action, deleted.action) == ("create", "update", "update")
    assert {r.actor_id for r in (created, updated, deleted)} == {rep}
    assert created.actor_name == "陈晓明" and created.ip == "127.0.0.1"
    assert created.entity_id == str(cid)
    assert created.changes["name"] == [None, "华为技术"]
    assert created.changes["owner_id"] == [None, rep]
    assert created.changes["code"][1].startswith("KH")  # one row per transaction, final values
    assert updated.changes == {"name": ["华为技术", "华为技术有限公司"], "mnemonic": ["hwjs", "hwjsyxgs"]}
    assert deleted.changes["deleted_by_id"] == [None, rep]


def test_password_changes_are_masked_and_the_audit_view_shows_them(app, client, make_user, admin_id):
    rep = make_user("rep1")
    client.login("admin")
    form = client.get(f"/admin/user/edit/?id={rep}").get_data(as_text=True)
    assert "新建时必填" in form
    with app.app_context():
        user = db.session.get(User, rep)
        data = {"username": "rep1", "display_name": "陈晓明", "department": str(user.department_id),
                "role": str(user.role_id), "mobile": "13900000000", "email": "", "locale": "zh_CN",
                "new_password": "brand-new-pass"}
    client.post_form(f"/admin/user/edit/?id={rep}", data)
    (row,) = [r for r in audit_rows(app, "User") if r.action == "update"]
    assert row.changes["password_hash"] == ["******", "******"]
    assert row.changes["display_name"] == ["rep1", "陈晓明"]
    assert row.changes["mobile"] == [None, "13900000000"]
    page = client.get("/admin/audit_log/").get_data(as_text=True)
    assert "陈晓明" in page and "修改" in page and "员工" in page


def test_nobody_can_edit_or_delete_the_audit_log(app, client, make_user, admin_id, make_customer):
    client.login("admin")
    client.post_form("/admin/customer/new/", {"name": "审计客户", "kind": "company"})
    (row,) = audit_rows(app, "Customer")
    assert client.get(f"/admin/audit_log/edit/?id={row.id}").status_code in (302, 403, 404)
    client.post_form("/admin/audit_log/", {"id": str(row.id)}, to="/admin/audit_log/delete/")
    client.action("/admin/audit_log/", "delete", [row.id])
    assert [r.id for r in audit_rows(app, "Customer")] == [row.id]
    page = client.get("/admin/audit_log/").get_data(as_text=True)
    assert "/admin/audit_log/edit/" not in page and "/admin/audit_log/new/" not in page


def test_an_export_is_audited_with_its_row_count(app, client, make_user, make_customer):
    rep = make_user("rep1")
    make_customer("甲公司", rep)
    make_customer("乙公司", rep)
    client.login("rep1")
    assert len(sheet_rows(xlsx_export(client))) == 3  # the header and two customers
    exports = [r for r in audit_rows(app, "Customer") if r.action == "export"]
    assert len(exports) == 1 and exports[0].changes["rows"] == 2 and exports[0].actor_id == rep
