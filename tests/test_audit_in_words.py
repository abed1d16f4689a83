"""Issue 16 item 16: the audit log names fields by their labels and ids by what they point to
(业务员: 陈晓明 → 李强), in the reader's language, while the stored row keeps the raw values."""
from __future__ import annotations

from sqlalchemy import select

from conftest import FIXED_NOW, list_table
from models import AuditLog, Customer, User, db


def a_reassignment(app, make_user, make_customer) -> tuple[int, int, int]:
    chen = make_user("chenxm", display_name="陈晓明")
    li = make_user("liqiang", display_name="李强")
    cid = make_customer("和泰商贸", chen)
    with app.app_context():
        db.session.add(AuditLog(at=FIXED_NOW, actor_name="管理员", action="update", entity="Customer",
                                entity_id=str(cid), entity_label="和泰商贸",
                                changes={"owner_id": [chen, li], "kind": ["person", "company"],
                                         "name": ["和泰", "和泰商贸"]}))
        db.session.commit()
    return chen, li, cid


def test_the_audit_log_shows_labels_and_names_not_columns_and_ids(app, client, make_user, make_customer, admin_id):
    chen, li, cid = a_reassignment(app, make_user, make_customer)
    client.login("admin")
    table = list_table(client.get("/admin/audit_log/?search=和泰").get_data(as_text=True))
    assert "业务员" in table and "陈晓明" in table and "李强" in table
    assert "客户名称" in table and "类型" in table and "企业" in table
    assert "owner_id" not in table and "kind" not in table
    with app.app_context():   # the row itself keeps the raw values
        row = db.session.scalar(select(AuditLog).where(AuditLog.entity_id == str(cid)))
        assert row.changes["owner_id"] == [chen, li]


def test_the_details_page_and_english_readers_get_the_same_in_their_language(app, client, make_user,
                                                                             make_customer, admin_id):
    chen, li, cid = a_reassignment(app, make_user, make_customer)
    with app.app_context():
        db.session.get(User, admin_id).locale = "en"
        row_id = db.session.scalar(select(AuditLog.id).where(AuditLog.entity_id == str(cid)))
        db.session.commit()
    client.login("admin")
    page = client.get(f"/admin/audit_log/details/?id={row_id}").get_data(as_text=True)
    assert "陈晓明" in page and "李强" in page and "owner_id" not in page
    assert "Salesperson" in page and "Company" in page


def test_a_record_deleted_since_is_named_by_its_number(app, client, make_user, make_customer, admin_id):
    chen, li, cid = a_reassignment(app, make_user, make_customer)
    with app.app_context():
        row = db.session.scalar(select(AuditLog).where(AuditLog.entity_id == str(cid)))
        row.changes = {"owner_id": [chen, 987654]}
        db.session.commit()
    client.login("admin")
    table = list_table(client.get("/admin/audit_log/?search=和泰").get_data(as_text=True))
    assert "已删除（编号 987654）" in table
