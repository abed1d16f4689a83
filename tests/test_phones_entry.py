"""Numbers typed in the form, the contact page or a sheet are stored in one canonical form,
shown formatted, refused with a reason when they are no numbers, and found again by the
duplicate check and quick search however they are typed next time (issue 17, items 3 and 7)."""
from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from conftest import latest_job, list_table, start_import, upload_sheet
from models import Contact, Customer, CustomerKey, db
from rules import duplicate_keys, entry, search, settings


def new_customer(client, name: str, **fields):
    return client.post_form("/admin/customer/new/", {"kind": "company", "name": name, **fields}, follow=True)


def stored(app, name: str) -> tuple:
    with app.app_context():
        c = db.session.scalar(select(Customer).where(Customer.name == name))
        return (c.phone, c.mobile, c.fax) if c else None


@pytest.mark.both_dbs
def test_the_form_stores_numbers_clean_and_shows_them_formatted(app, client, make_user, clock):
    make_user("rep1")
    client.login("rep1")
    new_customer(client, "沧州宏达机械", phone="0317 7149 0681 转 8001", mobile="＋８６ １３８ １２３４ ５６７８",
                 fax="+86 317 7149 0682", **{"contacts-0-name": "刘工", "contacts-0-mobile": "13800138000.0",
                                              "contacts-0-phone": "(010)88888888"})
    assert stored(app, "沧州宏达机械") == ("0317-71490681-8001", "13812345678", "0317-71490682")
    with app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.name == "刘工"))
        assert (contact.mobile, contact.phone) == ("13800138000", "010-88888888")
        cid = contact.customer_id
    listing = list_table(client.get("/admin/customer/").get_data(as_text=True))
    assert "138 1234 5678" in listing and "13812345678" not in listing
    details = client.get(f"/admin/customer/details/?id={cid}").get_data(as_text=True)
    assert "0317-71490681 转 8001" in details and "138 0013 8000" in details and "010-88888888" in details
    # found by quick search however the number is typed
    for term in ("0317 7149 0681", "71490681", "138 1234 5678", "+86 138 1234 5678"):
        assert "沧州宏达机械" in list_table(client.get("/admin/customer/", query_string={"search": term})
                                      .get_data(as_text=True)), term


def test_the_form_refuses_a_wrong_number_with_the_reason_and_keeps_what_was_typed(app, client, make_user, clock):
    make_user("rep1")
    client.login("rep1")
    page = new_customer(client, "区号写错", phone="031-771490681").get_data(as_text=True)
    assert "座机号码区号应为 3 或 4 位" in page and 'value="031-771490681"' in page
    page = new_customer(client, "手机写错", mobile="0317-71490681").get_data(as_text=True)
    assert "请填在“电话”中" in page
    assert stored(app, "区号写错") is None and stored(app, "手机写错") is None


@pytest.mark.both_dbs
def test_a_duplicate_is_found_across_formats(app, client, make_user, make_customer, clock):
    uid = make_user("rep1")
    make_customer("沧州宏达机械", uid, phone="0317-71490681")
    client.login("rep1")
    page = new_customer(client, "宏达机械沧州分厂", phone="+86 317 7149 0681").get_data(as_text=True)
    assert "请确认" in page and "电话“0317-71490681”与已有客户「沧州宏达机械」重复" in page
    assert stored(app, "宏达机械沧州分厂") is None


def test_the_contact_page_stores_numbers_clean_and_refuses_wrong_ones(app, client, make_user, make_customer, clock):
    uid = make_user("rep1")
    cid = make_customer("沧州宏达机械", uid)
    client.login("rep1")
    bad = client.post_form("/admin/contact/new/", {"customer": str(cid), "name": "王工", "phone": "0317-7149"},
                           follow=True).get_data(as_text=True)
    assert "座机号码本地号码应为 7 或 8 位" in bad
    client.post_form("/admin/contact/new/", {"customer": str(cid), "name": "王工", "mobile": "0086 139 0013 9000",
                                              "phone": "0317 7149 0681"}, follow=True)
    with app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.name == "王工"))
        assert (contact.mobile, contact.phone) == ("13900139000", "0317-71490681")
    assert "139 0013 9000" in list_table(client.get("/admin/contact/").get_data(as_text=True))


def phone_workbook() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["公司名称", "手机", "电话"])
    for row in (["甲公司", 13812345678.0, "0571 8888 8888"],                          # 2 imported
                ["乙公司", "＋８６ １３９ ００１３ ９０００", "010 6666 6666 转 8001"],       # 3 imported
                ["丙公司", "0086 137 0013 7000", "+86 317 7149 0681"],                # 4 skipped: 老客户's phone
                ["丁公司", None, "031-771490681"],                                    # 5 warned: area code
                ["戊公司", "13812345678", None]):                                     # 6 skipped: row 2
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.both_dbs
def test_the_importer_reads_numbers_as_the_form_does(app, client, make_user, make_customer):
    uid = make_user("chenxm")
    make_customer("老客户", uid, phone="0317-71490681")
    client.login("chenxm")
    assert upload_sheet(client, phone_workbook(), name="电话.xlsx", entity="customer").status_code == 302
    job = latest_job(app)
    assert start_import(client, job.id, owner="me").status_code == 302
    job = latest_job(app)
    # a malformed phone is a bad optional cell: left empty and warned, the row still imported
    assert (job.imported, job.warned, job.skipped, job.rejected) == (2, 1, 2, 0), job.error
    assert stored(app, "甲公司") == ("0571-88888888", "13812345678", None)
    assert stored(app, "乙公司") == ("010-66666666-8001", "13900139000", None)
    with app.app_context():
        from models.job import JobRowIssue

        reasons = dict(db.session.execute(select(JobRowIssue.row_no, JobRowIssue.reason)
                                          .where(JobRowIssue.job_id == job.id)).all())
    assert "与已有客户「老客户」重复" in reasons[4]
    assert "“031-771490681”已留空" in reasons[5] and "座机号码区号应为 3 或 4 位" in reasons[5]
    assert stored(app, "丁公司") == (None, None, None)
    assert "与文件第 2 行重复" in reasons[6]


def test_keys_follow_the_policy_and_a_newly_checked_field_is_built_before_it_is_compared(
        app, client, admin_id, make_user, clock):
    make_user("rep1")
    client.login("rep1")
    new_customer(client, "甲公司", email="sales@jia.cn")
    with app.app_context():
        fields = set(db.session.scalars(select(CustomerKey.field)))
        assert "email" not in fields and {"name", "code"} <= fields  # e-mail is not checked by default
        # while the keys are being built the new check waits instead of answering "no duplicate"
        policy = entry.load_policy(db.session)
        policy["duplicates"]["email"] = entry.WARN
        assert duplicate_keys.change_policy(db.session, policy) == ["email"]
        assert entry.load_policy(db.session)["duplicates"]["email"] == entry.ALLOW
        settings.put(db.session, entry.PENDING_POLICY, None)
        settings.put(db.session, "entry_policy", entry.DEFAULT_POLICY)
        db.session.commit()
    admin = client.__class__(app.test_client())
    admin.login("admin")
    form = {"customer_code_pattern": "KH{yyyy}{seq:05d}", "check_formats": "1",
            **{f"dup_{f}": a for f, a in entry.DEFAULT_POLICY["duplicates"].items()}, "dup_email": "warn"}
    admin.post_form("/admin/customer_settings/", form)  # the build job runs (inline in tests)
    with app.app_context():
        assert entry.load_policy(db.session)["duplicates"]["email"] == entry.WARN
        assert settings.get(db.session, entry.PENDING_POLICY) is None
        assert db.session.scalars(select(CustomerKey.value).where(CustomerKey.field == "email")).all() == [
            "sales@jia.cn"]
    page = new_customer(client, "乙公司", email="Sales@Jia.cn").get_data(as_text=True)
    assert "邮箱“Sales@Jia.cn”与已有客户「甲公司」" in page


def test_quick_search_index_holds_contact_numbers_by_their_digits(app, make_user, make_customer):
    uid = make_user("rep1")
    cid = make_customer("甲公司", uid)
    with app.app_context():
        from rules import customers

        db.session.add(Contact(customer_id=cid, name="王工", phone="0317-71490681", is_primary=True))
        db.session.flush()
        customers.reindex(db.session, db.session.get(Customer, cid))
        db.session.commit()
        assert list(db.session.scalars(select(Customer.name).where(search.clause(db.session, "031771490681")))) == [
            "甲公司"]



def test_with_a_real_worker_the_new_check_waits_for_its_keys_then_finds_the_duplicate(tmp_path):
    """Production mode: the settings page enqueues the build on Redis. Until an `rq worker` has
    built the e-mail keys the page says so and the e-mail check is not applied (it would answer
    "no duplicate" from a half-built index); after the worker it finds the duplicate."""
    import subprocess
    import sys
    from pathlib import Path

    from redis import Redis

    from conftest import PASSWORD, REDIS_URL, Browserish, build_app, need_service, worker_env
    from models import Role, User
    from rules import org

    redis_url = need_service(REDIS_URL, "Redis")
    Redis.from_url(redis_url).flushdb()
    app = build_app("sqlite", tmp_path, REDIS_URL=redis_url, EMBEDDED_JOBS_SYNC=False)
    with app.app_context():
        for username, role in (("admin", "系统管理员"), ("rep1", "业务员")):
            org.create_user(db.session, username=username, password=PASSWORD, display_name=username,
                            role=db.session.scalar(select(Role).where(Role.name == role)),
                            department=org.ensure_department_path(db.session, ["销售部"]), superior=None)
        db.session.commit()
    rep, admin = Browserish(app.test_client()), Browserish(app.test_client())
    rep.login("rep1")
    admin.login("admin")
    new_customer(rep, "甲公司", email="sales@jia.cn")
    form = {"customer_code_pattern": "KH{yyyy}{seq:05d}", "check_formats": "1",
            **{f"dup_{f}": a for f, a in entry.DEFAULT_POLICY["duplicates"].items()}, "dup_email": "warn"}
    admin.post_form("/admin/customer_settings/", form)
    page = admin.get("/admin/customer_settings/").get_data(as_text=True)
    assert "正在为邮箱建立查重索引" in page
    assert 'name="dup_email" id="dup_email_warn" value="warn" checked' in page  # what the administrator chose
    with app.app_context():
        assert entry.load_policy(db.session)["duplicates"]["email"] == entry.ALLOW
        assert not db.session.scalars(select(CustomerKey).where(CustomerKey.field == "email")).all()
        assert db.session.scalar(select(User.id).where(User.username == "rep1"))

    result = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, "kechi"],
                            cwd=Path(__file__).resolve().parent.parent, env=worker_env(app, tmp_path, redis_url),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "正在为邮箱建立查重索引" not in admin.get("/admin/customer_settings/").get_data(as_text=True)
    page = new_customer(rep, "乙公司", email="SALES@jia.cn").get_data(as_text=True)
    assert "邮箱“SALES@jia.cn”与已有客户「甲公司」" in page
