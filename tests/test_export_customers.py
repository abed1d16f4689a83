"""Excel exports: exactly the user's scope and the list's search, formula-like text kept as text,
logged with the row count, large exports as a job, and a round trip through the importer."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from conftest import build_app, csrf_token, sheet_rows
from conftest import xlsx_export as export
from models import AuditLog, Contact, Customer, CustomField, DictItem, FollowUp, User, db
from models.job import JobRecord
from rules import customers as customer_rules


@pytest.fixture
def team(app, make_user, make_customer):
    me = make_user("chenxm", display_name="陈晓明")
    colleague = make_user("liufang", display_name="刘芳")
    make_customer("我的客户甲", me, phone="0571-88880001")
    make_customer("我的客户乙", me)
    make_customer("同事的客户", colleague)
    return me, colleague


@pytest.mark.both_dbs
def test_a_salespersons_export_holds_only_their_own_customers_and_is_logged(app, client, team):
    client.login("chenxm")
    rows = sheet_rows(export(client))
    header, data = rows[0], rows[1:]
    assert header[:2] == ("客户名称", "客户编号")
    assert sorted(r[0] for r in data) == ["我的客户乙", "我的客户甲"]
    with app.app_context():
        log = db.session.scalar(select(AuditLog).where(AuditLog.action == "export"))
        assert log.entity == "Customer" and log.changes["rows"] == 2 and log.actor_name == "陈晓明"


def test_the_export_follows_the_lists_search(app, client, team):
    client.login("chenxm")
    list_page = client.get("/admin/customer/?search=甲").get_data(as_text=True)
    assert "/admin/excel/export/customer/?search=" in list_page  # the button carries the list's arguments
    rows = sheet_rows(export(client, query="search=甲"))
    assert [r[0] for r in rows[1:]] == ["我的客户甲"]


def test_formula_like_cells_are_written_as_text(app, client, make_user):
    me = make_user("chenxm")
    with app.app_context():
        for name, notes in (("=HYPERLINK(\"http://evil\",\"点我\")", "+86 1"), ("@SUM(A1)", "-1+2")):
            customer = Customer(name=name, notes=notes, owner_id=me, custom={})
            db.session.add(customer)
            db.session.flush()
            customer_rules.reindex(db.session, customer)
        db.session.commit()
    client.login("chenxm")
    response = export(client, columns=["name", "notes"])
    with response:
        book = openpyxl.load_workbook(io.BytesIO(response.data))
    cells = [c for row in book.active.iter_rows(min_row=2) for c in row]
    assert {c.value for c in cells} == {"=HYPERLINK(\"http://evil\",\"点我\")", "+86 1", "@SUM(A1)", "-1+2"}
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)  # text, and stays text when edited


def test_a_role_without_export_permission_gets_nothing(app, client, team):
    with app.app_context():
        from models import Role

        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        role.permissions = [p for p in role.permissions if p != "customer.export"]
        db.session.commit()
    client.login("chenxm")
    assert client.get("/admin/excel/export/customer/").status_code == 403
    assert "kechi-export-xlsx" not in client.get("/admin/customer/").get_data(as_text=True)


def test_a_large_export_runs_as_a_job_with_a_download_link(app, client, team):
    app.config["EXPORT_INLINE_ROWS"] = 1
    client.login("chenxm")
    response = export(client)
    assert response.status_code == 302
    with app.app_context():
        job = db.session.scalar(select(JobRecord).order_by(JobRecord.id.desc()))
        assert (job.kind, job.status, job.done) == ("export_customer", "done", 2)
        job_id = job.id
    page = client.get(f"/admin/excel/{job_id}/").get_data(as_text=True)
    assert "下载导出文件" in page
    assert len(sheet_rows(client.get(f"/admin/excel/{job_id}/result.xlsx"))) == 3


def test_contacts_and_follow_ups_exports_are_scoped(app, client, team):
    me, colleague = team
    with app.app_context():
        mine = db.session.scalar(select(Customer).where(Customer.owner_id == me))
        theirs = db.session.scalar(select(Customer).where(Customer.owner_id == colleague))
        db.session.add_all([Contact(customer_id=mine.id, name="王经理", is_primary=True, mobile="13800138000", custom={}),
                            Contact(customer_id=theirs.id, name="李经理", is_primary=True, custom={}),
                            FollowUp(customer_id=mine.id, user_id=me, kind="phone", content="电话沟通报价"),
                            FollowUp(customer_id=theirs.id, user_id=colleague, kind="visit", content="上门拜访")])
        db.session.commit()
    client.login("chenxm")
    assert "/admin/excel/export/contact/" in client.get("/admin/contact/").get_data(as_text=True)
    assert "/admin/excel/export/follow_up/" in client.get("/admin/follow_up/").get_data(as_text=True)
    contacts = sheet_rows(export(client, "contact"))
    assert contacts[0][:3] == ("所属客户", "客户编号", "姓名")
    assert [r[2] for r in contacts[1:]] == ["王经理"]
    follow_ups = sheet_rows(export(client, "follow_up"))
    assert [r[5] for r in follow_ups[1:]] == ["电话沟通报价"] and follow_ups[1][4] == "电话"


@pytest.mark.both_dbs
def test_export_then_import_into_an_empty_database_gives_the_same_customers(app, client, tmp_path, make_user):
    boss = make_user("zhangzong", role="总经理", department=("总经办",))
    with app.app_context():
        db.session.add(CustomField(entity="customer", key="grade", label="客户级别", field_type="choice",
                                   options=["重要客户", "普通客户"]))
        vip = db.session.scalar(select(DictItem).where(DictItem.name == "重点客户"))
        for i, (name, mobile, province, city) in enumerate([("杭州云杉科技有限公司", "13800138001", "浙江省", "杭州市"),
                                                            ("=北京算式有限公司", "13800138002", "北京市", "北京市"),
                                                            ("张伟", None, None, None)]):
            customer = Customer(name=name, code=f"KH2026{i:05d}", kind="person" if name == "张伟" else "company",
                                mobile=mobile, province=province, city=city, owner_id=boss, email=f"c{i}@example.com",
                                category_id=vip.id if i == 0 else None, custom={"grade": "重要客户"} if i < 2 else {},
                                notes="-先打电话" if i == 1 else None)
            db.session.add(customer)
            db.session.flush()
            if mobile:
                db.session.add(Contact(customer_id=customer.id, name=f"联系人{i}", is_primary=True,
                                       mobile=f"1390013900{i}", custom={}))
            db.session.flush()
            customer_rules.reindex(db.session, customer)
        db.session.commit()
    client.login("zhangzong")
    response = export(client)
    with response:
        exported = response.data

    fresh = build_app("sqlite", tmp_path / "fresh")
    from conftest import Browserish, PASSWORD
    from rules import org

    with fresh.app_context():
        from models import Role

        db.session.add(CustomField(entity="customer", key="grade", label="客户级别", field_type="choice",
                                   options=["重要客户", "普通客户"]))
        role = db.session.scalar(select(Role).where(Role.name == "总经理"))
        org.create_user(db.session, username="zhangzong", password=PASSWORD, display_name="张建国", role=role)
        db.session.commit()
    other = Browserish(fresh.test_client())
    other.login("zhangzong")
    from test_import_customers import latest_job, start, upload

    assert upload(other, exported, name="导出.xlsx").status_code == 302
    job = latest_job(fresh)
    start(other, job.id)
    job = latest_job(fresh)
    assert (job.total, job.imported, job.rejected) == (3, 3, 0), job.error

    def snapshot(application) -> list[tuple]:
        with application.app_context():
            out = []
            for c in db.session.scalars(select(Customer).order_by(Customer.code)):
                primary = next((x for x in c.contacts if x.is_primary), None)
                out.append((c.code, c.name, c.kind, c.mobile, c.email, c.province, c.city, c.notes,
                            c.category.name if c.category else None, c.custom,
                            (primary.name, primary.mobile) if primary else None))
            return out

    assert snapshot(fresh) == snapshot(app)
