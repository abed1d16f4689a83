"""客户资料导入: a messy sheet through the wizard, the counts and the rejected-rows file, bad files,
resuming after a crash (embedded and a real rq worker killed mid-import), templates."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from conftest import (REDIS_URL, csrf_token, latest_job, need_service, redis_app_signed_in, start_import,
                      upload_sheet, worker_env)
from models import Contact, Customer, CustomField, CustomerKey, CustomerSearch, OwnershipEvent, db

ROOT = Path(__file__).resolve().parent.parent
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def messy_workbook() -> bytes:
    """What firms really send: a merged title row above the header, a blank row, merged
    category cells, phones as floats and full-width digits, three kinds of dates,
    an in-file duplicate, an existing customer, rows missing required fields or badly formed."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户资料"
    ws.append(["2023年客户资料（从旧系统导出）"])
    ws.merge_cells("A1:I1")
    ws.append([])
    ws.append(["公司名称", "联系人", "手机号码", "电话", "客户分类", "所在省份", "地址", "签约日期", "Email"])
    rows = [
        ["杭州甲科技有限公司", "王一", 13800138001.0, "0571-88880001", "意向客户", "浙江", "杭州市西湖区文三路1号",
         "2023年5月1日", "a@example.com"],                                                        # 4 imported
        ["北京乙贸易有限公司", "李二", "１３８００１３８００２", None, None, "北京", None, "2023/5/1", None],  # 5 imported
        [None] * 9,                                                                                # 6 blank
        ["丙商行", "张三", "1.3800138003E+10", None, "潜在客户", None, "广东省深圳市南山区科技园", 45047, None],  # 7 imported
        ["杭州甲科技有限公司", "王一", 13800138001.0, None, "意向客户", "浙江", None, None, None],     # 8 skipped: row 4
        ["老客户有限公司", "赵四", 13800138005.0, "0571-88889999", None, None, None, None, None],     # 9 skipped: existing
        [None, "钱五", 13800138006.0, None, None, None, None, None, None],                           # 10 rejected: no name
        ["丁公司", "孙六", 12345.0, None, None, None, None, None, None],                             # 11 warned: mobile
        ["戊公司", "周七", 13800138008.0, None, None, None, None, "明年", "not-an-email"],            # 12 warned: date+email
        ["己公司", "吴八", 13800138009.0, None, "不存在的分类", None, None, None, None],              # 13 warned: dict
    ]
    for row in rows:
        ws.append(row)
    ws.merge_cells("E4:E5")  # one category for two customers
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def sales(make_user, make_customer, app):
    uid = make_user("chenxm", display_name="陈晓明")
    make_customer("老客户有限公司", uid, phone="0571-88889999")
    with app.app_context():
        db.session.add(CustomField(entity="customer", key="sign_date", label="签约日期", field_type="date"))
        db.session.commit()
    return uid


def upload(client, data: bytes, name: str = "客户.xlsx", entity: str = "customer"):
    return upload_sheet(client, data, name=name, entity=entity)


def start(client, job_id: int, **changes):
    return start_import(client, job_id, **{"owner": "me", **changes})


@pytest.mark.both_dbs
def test_a_messy_sheet_imports_with_exactly_the_expected_counts(app, client, sales):
    client.login("chenxm")
    response = upload(client, messy_workbook())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    job = latest_job(app)
    assert job.params["header_row"] == 2  # the title row and the blank row are passed over
    page = client.get(f"/admin/excel/{job.id}/mapping/").get_data(as_text=True)
    assert "不能导入" in page and "与文件第 4 行重复" in page  # the preview shows each row's problem

    response = start(client, job.id)
    assert response.status_code == 302
    job = latest_job(app)
    assert job.status == "done", job.error
    # A bad optional cell never loses the row: 11–13 come in with the cell left empty.
    assert (job.total, job.imported, job.warned, job.updated, job.skipped, job.rejected) == (9, 3, 3, 0, 2, 1), \
        (job.params["mapping"], job.params["options"])
    assert job.imported + job.warned + job.updated + job.skipped + job.rejected == job.total

    with app.app_context():
        rows = {c.name: c for c in db.session.scalars(select(Customer))}
        assert set(rows) == {"老客户有限公司", "杭州甲科技有限公司", "北京乙贸易有限公司", "丙商行", "丁公司", "戊公司", "己公司"}
        assert rows["丁公司"].mobile is None and rows["戊公司"].email is None and rows["己公司"].category_id is None
        a, b, c = rows["杭州甲科技有限公司"], rows["北京乙贸易有限公司"], rows["丙商行"]
        assert a.owner_id == sales and a.code and a.mnemonic == "hzjkjyxgs"
        assert (a.province, a.city) == ("浙江省", "杭州市")
        assert (b.province, b.city) == ("北京市", "北京市")
        assert (c.province, c.city, c.district) == ("广东省", "深圳市", "南山区")  # read from the address
        assert a.category.name == b.category.name == "意向客户"  # the merged cell fills both rows
        assert [x.custom["sign_date"] for x in (a, b, c)] == ["2023-05-01"] * 3
        contacts = {x.name: x for x in db.session.scalars(select(Contact))}
        assert contacts["王一"].customer_id == a.id and contacts["王一"].is_primary
        assert contacts["李二"].mobile is None and b.mobile == "13800138002"
        assert a.mobile == "13800138001" and c.mobile == "13800138003"
        # found by duplicate checks and quick search like any customer entered by hand
        assert db.session.scalar(select(func.count()).select_from(CustomerKey).where(
            CustomerKey.customer_id == c.id, CustomerKey.field == "mobile", CustomerKey.value == "13800138003")) == 1
        assert db.session.get(CustomerSearch, c.id) is not None
        assert db.session.scalar(select(func.count()).select_from(OwnershipEvent).where(
            OwnershipEvent.reason == "import")) == 6

    with client.get(f"/admin/excel/{job.id}/result.xlsx") as result:
        assert result.status_code == 200 and result.mimetype == XLSX
        book = openpyxl.load_workbook(io.BytesIO(result.data))
    rejected = list(book["未导入的行"].iter_rows(values_only=True))
    assert rejected[0][:3] == ("行号", "公司名称", "联系人") and rejected[0][-1] == "原因"
    reasons = {row[0]: row[-1] for row in rejected[1:]}
    assert set(reasons) == {10}
    assert "请填写客户名称" in reasons[10]
    warned = list(book["导入（有警告）的行"].iter_rows(values_only=True))
    assert warned[0][-1] == "警告（原值与原因）"
    warnings = {row[0]: row[-1] for row in warned[1:]}
    assert set(warnings) == {11, 12, 13}
    assert "手机“12345”已留空" in warnings[11] and "手机号码格式不正确" in warnings[11]
    assert "签约日期“明年”已留空" in warnings[12] and "邮箱“not-an-email”已留空" in warnings[12]
    assert "客户分类“不存在的分类”已留空" in warnings[13] and "数据字典" in warnings[13]
    assert warned[1][1:4] == ("丁公司", "孙六", "12345")  # the original values, as typed
    skipped = {row[0]: row[-1] for row in list(book["跳过的行"].iter_rows(values_only=True))[1:]}
    assert "与文件第 4 行重复" in skipped[8]
    assert "老客户有限公司" in skipped[9] and "重复" in skipped[9]


def test_update_existing_and_mapping_is_remembered(app, client, sales):
    client.login("chenxm")
    wb = openpyxl.Workbook()
    wb.active.append(["客户", "备注说明", "微信"])
    wb.active.append(["老客户有限公司", "大客户", "wx-old"])
    wb.active.append(["新客户有限公司", "新的", "wx-new"])
    buf = io.BytesIO()
    wb.save(buf)
    upload(client, buf.getvalue())
    job = latest_job(app)
    assert job.params["mapping"] == ["name", "", "wechat"]  # 备注说明 is not a known header
    start(client, job.id, col_1="notes", on_duplicate="update")
    job = latest_job(app)
    assert (job.imported, job.updated, job.skipped, job.rejected) == (1, 1, 0, 0), job.error
    with app.app_context():
        old = db.session.scalar(select(Customer).where(Customer.name == "老客户有限公司"))
        assert (old.notes, old.wechat, old.phone) == ("大客户", "wx-old", "0571-88889999")
    upload(client, buf.getvalue())  # the user's choice for 备注说明 is remembered
    assert latest_job(app).params["mapping"] == ["name", "notes", "wechat"]


def test_csv_in_gbk_and_owner_choices(app, client, sales, make_user):
    make_user("lizg", role="主管", display_name="李强")
    client.login("lizg")
    text = "客户名称,手机\n甲公司,13900139001\n乙公司,13900139002\n"
    upload(client, text.encode("gbk"), name="客户.csv")
    job = latest_job(app)
    start(client, job.id, owner=str(sales))
    assert latest_job(app).imported == 2
    with app.app_context():
        assert {c.owner_id for c in db.session.scalars(select(Customer).where(Customer.name.in_(["甲公司", "乙公司"])))} \
            == {sales}
    upload(client, "客户名称\n丙公司\n".encode("utf-8-sig"), name="pool.csv")
    start(client, latest_job(app).id, owner="pool")
    with app.app_context():
        pooled = db.session.scalar(select(Customer).where(Customer.name == "丙公司"))
        assert pooled.owner_id is None and pooled.pool_id is not None and pooled.pool_reason == "imported"


def test_a_salesperson_cannot_import_for_a_colleague(app, client, sales, make_user):
    other = make_user("liufang")
    client.login("chenxm")
    upload(client, "客户名称\n甲公司\n".encode(), name="a.csv")
    response = start(client, latest_job(app).id, owner=str(other))
    assert response.status_code == 200 and "没有指派客户的权限" in response.get_data(as_text=True)
    assert latest_job(app).status == "draft"


@pytest.mark.parametrize("data,name,message", [
    (b"", "a.xlsx", "文件是空的"),
    (b"%PDF-1.4 not a sheet", "a.pdf", "不是 Excel 文件"),
    (b"PK\x03\x04broken zip", "a.xlsx", "文件已损坏"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 64, "a.xlsx",
     "文件已加密"),
    (b"x" * 3000, "big.csv", "文件太大"),
])
def test_bad_files_get_a_clear_message(app, client, sales, data, name, message):
    app.config["IMPORT_MAX_BYTES"] = 2048
    client.login("chenxm")
    response = upload(client, data, name=name)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_an_upload_over_the_request_limit_gets_a_clear_message(app, client, sales):
    client.login("chenxm")
    token = client.token("/admin/excel/")
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = client.post("/admin/excel/", data={"csrf_token": token, "entity": "customer",
                                                  "file": (io.BytesIO(b"x" * 8192), "big.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200 and "文件太大" in response.get_data(as_text=True)


def test_an_empty_sheet_a_wrong_sheet_and_a_missing_required_column(app, client, sales):
    client.login("chenxm")
    wb = openpyxl.Workbook()
    buf = io.BytesIO()
    wb.save(buf)
    assert "是空的" in upload(client, buf.getvalue()).get_data(as_text=True)

    wb.active.title = "填写说明"  # an empty first sheet: the data on the second one is found
    wb.create_sheet("客户").append(["客户名称"])
    wb["客户"].append(["甲公司"])
    buf = io.BytesIO()
    wb.save(buf)
    assert upload(client, buf.getvalue()).status_code == 302
    job = latest_job(app)
    assert job.params["sheet"] == "客户" and job.params["sheets"] == ["填写说明", "客户"]
    page = client.get(f"/admin/excel/{job.id}/mapping/").get_data(as_text=True)
    response = client.post(f"/admin/excel/{job.id}/mapping/", data={"csrf_token": csrf_token(page), "sheet": "客户2"},
                           follow_redirects=True)
    assert "找不到工作表“客户2”，文件中的工作表有：填写说明、客户" in response.get_data(as_text=True)
    upload(client, "手机\n13900139001\n".encode(), name="a.csv")
    response = start(client, latest_job(app).id)
    assert "请为必填项选择对应的列：客户名称" in response.get_data(as_text=True)


def big_sheet(path: Path, rows: int) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("客户")
    ws.append(["客户名称", "手机"])
    for i in range(rows):
        ws.append([f"批量客户{i:05d}", f"139{i:08d}" if i % 10 else f"139{i + 1:08d}"])
    wb.save(str(path))


@pytest.mark.parametrize("batch_size", [2, 100])
def test_a_repeated_customer_code_is_an_in_file_duplicate_whatever_the_batches(app, client, sales, batch_size):
    """The second row with a code is reported against the first, whether the first row's batch
    was already committed (batches of 2) or not (one batch)."""
    from models.job import JobRowIssue

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户名称", "客户编号"])
    for row in (["甲公司", "K-001"], ["乙公司", "K-002"], ["丙公司", "K-001"], ["丁公司", "K-003"]):
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    client.login("chenxm")
    upload(client, out.getvalue())
    app.config["IMPORT_BATCH_SIZE"] = batch_size
    start(client, latest_job(app).id)
    job = latest_job(app)
    assert (job.imported, job.skipped, job.rejected) == (3, 1, 0)
    with app.app_context():
        issue = db.session.scalar(select(JobRowIssue).where(JobRowIssue.job_id == job.id))
        assert (issue.row_no, issue.outcome) == (4, "skipped") and "与文件第 2 行重复" in issue.reason
        assert db.session.scalar(select(Customer.name).where(Customer.code == "K-001")) == "甲公司"


def test_the_primary_contacts_custom_fields_are_imported_and_checked_as_on_the_contact_form(app, client, sales):
    """A contact custom field has its column in the customer sheet (and the template); a required
    one refuses a row whose contact lacks it, as the contact form does; rows without a contact
    need none."""
    from models import Contact

    with app.app_context():
        db.session.add(CustomField(entity="contact", key="nickname", label="微信昵称", field_type="text",
                                   required=True))
        db.session.add(CustomField(entity="contact", key="month", label="生日月份", field_type="number"))
        db.session.commit()
    client.login("chenxm")
    template = openpyxl.load_workbook(io.BytesIO(client.get("/admin/excel/template/customer.xlsx").data))
    headers = [c.value for c in template.active[1]]
    assert "联系人·微信昵称*" in headers and "联系人·生日月份" in headers
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户名称", "联系人", "联系人·微信昵称", "联系人微信昵称2", "联系人生日月份"])
    ws.append(["有昵称公司", "王总", "老王", None, 5])
    ws.append(["没昵称公司", "李总", None, None, None])
    ws.append(["没联系人公司", None, None, None, None])
    ws.append(["月份不对公司", "赵总", "老赵", None, "五月"])
    out = io.BytesIO()
    wb.save(out)
    upload(client, out.getvalue())
    job = latest_job(app)
    assert job.params["mapping"] == ["name", "contact_name", "ccf:nickname", "", "ccf:month"]
    start(client, job.id)
    job = latest_job(app)
    assert (job.imported, job.warned, job.rejected) == (2, 1, 1)  # a bad optional 生日月份 is only a warning
    with app.app_context():
        from models.job import JobRowIssue

        reasons = dict(db.session.execute(select(JobRowIssue.row_no, JobRowIssue.reason)
                                          .where(JobRowIssue.job_id == job.id)).all())
        assert reasons[3] == "联系人：请填写微信昵称"
        assert reasons[5] == "生日月份“五月”已留空：应为数字"
        contact = db.session.scalar(select(Contact).join(Customer).where(Customer.name == "有昵称公司"))
        assert contact.custom == {"nickname": "老王", "month": 5} and contact.is_primary
        assert db.session.scalar(select(func.count(Contact.id)).join(Customer)
                                 .where(Customer.name == "没联系人公司")) == 0


def test_an_english_speaking_user_gets_the_reasons_and_the_result_file_in_english(app, client, sales):
    """The import job runs in the language of whoever started it, not the server's default."""
    from models import User

    with app.app_context():
        db.session.get(User, sales).locale = "en"
        db.session.commit()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Customer Name", "Mobile"])
    ws.append(["Good Trading Ltd", "13800138011"])
    ws.append(["Bad Phone Ltd", "12345"])
    out = io.BytesIO()
    wb.save(out)
    client.login("chenxm")
    upload(client, out.getvalue(), name="customers.xlsx")
    start(client, latest_job(app).id)
    job = latest_job(app)
    assert (job.imported, job.warned, job.rejected) == (1, 1, 0)
    with client.get(f"/admin/excel/{job.id}/result.xlsx") as result:
        book = openpyxl.load_workbook(io.BytesIO(result.data))
    assert book.sheetnames == ["Rows Not Imported", "Skipped Rows", "Rows Imported with Warnings"]
    rows = list(book["Rows Imported with Warnings"].values)
    assert rows[1][0] == 3 and rows[1][1] == "Bad Phone Ltd"
    assert "Invalid mobile number" in rows[1][-1] and "手机" not in rows[1][-1] and "12345" in rows[1][-1]


def crash_after_batches(monkeypatch: pytest.MonkeyPatch, batches: int) -> None:
    """The import dies after `batches` committed batches, as a killed process would: the next
    batch's rows are written but its bookkeeping never happens, so nothing of it is committed.
    (A real worker killed mid-import: test_import_through_a_real_rq_worker_killed_mid_import...)"""
    from rules import import_batch

    real, recorded = import_batch.record_batch, []

    def record_batch(*args, **kwargs):
        if len(recorded) >= batches:
            raise RuntimeError("the worker died")
        recorded.append(kwargs.get("end"))
        return real(*args, **kwargs)

    monkeypatch.setattr(import_batch, "record_batch", record_batch)


@pytest.mark.both_dbs
def test_a_crash_between_batches_then_continue_imports_every_row_once(app, client, sales, tmp_path, monkeypatch):
    client.login("chenxm")
    big_sheet(tmp_path / "big.xlsx", 450)
    upload(client, (tmp_path / "big.xlsx").read_bytes())
    job = latest_job(app)
    app.config.update(IMPORT_BATCH_SIZE=100)
    crash_after_batches(monkeypatch, 2)
    with pytest.raises(RuntimeError):
        start(client, job.id)
    job = latest_job(app)
    assert job.status == "failed" and job.done == 200 and "继续导入" in job.error
    page = client.get(f"/admin/excel/{job.id}/").get_data(as_text=True)
    assert "继续" in page
    monkeypatch.undo()
    token = client.token(f"/admin/excel/{job.id}/")
    client.post(f"/admin/excel/{job.id}/resume/", data={"csrf_token": token})
    job = latest_job(app)
    assert job.status == "done" and job.done == job.total == 450
    assert (job.imported, job.skipped) == (405, 45)  # every tenth row takes its next neighbour's mobile
    with app.app_context():
        names = list(db.session.scalars(select(Customer.name).where(Customer.name.like("批量客户%"))))
        assert len(names) == len(set(names)) == 405


@pytest.fixture
def redis_url() -> str:
    url = need_service(REDIS_URL, "Redis")
    from redis import Redis

    Redis.from_url(url).flushdb()
    return url


def _worker(app, redis_url: str, tmp_path: Path, **env_extra) -> subprocess.Popen:
    env = worker_env(app, tmp_path, redis_url, KECHI_UPLOAD_DIR=app.config["UPLOAD_DIR"], **env_extra)
    log = (tmp_path / "worker.log").open("a")
    try:
        return subprocess.Popen([sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, "kechi"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        log.close()


def test_import_through_a_real_rq_worker_killed_mid_import_and_run_again(tmp_path, redis_url, clock):
    app, client = redis_app_signed_in(tmp_path, redis_url)
    big_sheet(tmp_path / "big.xlsx", 3000)
    upload(client, (tmp_path / "big.xlsx").read_bytes())
    job = latest_job(app)
    assert job.status == "reading"  # the upload is read by a worker, never in the web request
    assert _worker(app, redis_url, tmp_path).wait(timeout=120) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    assert latest_job(app).status == "draft"
    assert start(client, job.id).status_code == 302
    assert latest_job(app).status == "queued"

    worker = _worker(app, redis_url, tmp_path, KECHI_IMPORT_BATCH_SIZE="50")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = latest_job(app).done
        if done >= 100:
            break
        time.sleep(0.02)
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its work horse die mid-import, no clean-up
    worker.wait(timeout=30)
    job = latest_job(app)
    assert 0 < job.done < 3000 and job.status == "running"

    app.config["JOB_STALE_SECONDS"] = 0  # the page offers to continue a job nobody is running
    clock.advance(seconds=1)  # ... once its last heartbeat is in the past
    page = client.get(f"/admin/excel/{job.id}/").get_data(as_text=True)
    assert 'id="job-resume" method="post"' in page and 'id="job-resume" method="post" action' in page
    token = client.token(f"/admin/excel/{job.id}/")
    client.post(f"/admin/excel/{job.id}/resume/", data={"csrf_token": token})
    worker = _worker(app, redis_url, tmp_path, KECHI_IMPORT_BATCH_SIZE="500")
    assert worker.wait(timeout=240) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    job = latest_job(app)
    assert job.status == "done", (tmp_path / "worker.log").read_text()[-3000:]
    assert (job.total, job.imported, job.skipped, job.rejected) == (3000, 2700, 300, 0)
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id))) == 2700
        assert db.session.scalar(select(func.count(func.distinct(Customer.name)))) == 2700
    status = client.get(f"/admin/excel/{job.id}/status.json").get_json()
    assert status["percent"] == 100 and status["result_url"]


def test_templates_mark_required_columns_and_include_custom_fields(app, client, sales):
    client.login("chenxm")
    response = client.get("/admin/excel/template/customer.xlsx")
    assert response.status_code == 200
    header = next(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert header[0] == "客户名称*" and "签约日期" in header and "手机" in header
    contact = client.get("/admin/excel/template/contact.xlsx")
    header = next(openpyxl.load_workbook(io.BytesIO(contact.data)).active.iter_rows(values_only=True))
    assert header[:2] == ("所属客户*", "姓名*")


def test_contacts_import_to_existing_customers(app, client, sales):
    client.login("chenxm")
    text = "所属客户,姓名,手机,首要联系人\n老客户有限公司,钱经理,13700137001,是\n不存在公司,孙经理,13700137002,\n" \
           "老客户有限公司,钱经理,13700137001,\n"
    upload(client, text.encode(), name="contacts.csv", entity="contact")
    job = latest_job(app)
    assert job.params["mapping"] == ["customer", "name", "mobile", "is_primary"]
    start(client, job.id)
    job = latest_job(app)
    assert (job.imported, job.skipped, job.rejected) == (1, 1, 1), job.error
    with app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.name == "钱经理"))
        assert contact.is_primary and contact.mobile == "13700137001"


def test_someone_elses_job_is_404(app, client, sales, make_user, new_client):
    make_user("liufang")
    client.login("chenxm")
    upload(client, "客户名称\n甲\n".encode(), name="a.csv")
    job = latest_job(app)
    other = new_client()
    other.login("liufang")
    assert other.get(f"/admin/excel/{job.id}/").status_code == 404
    assert other.get(f"/admin/excel/{job.id}/mapping/").status_code == 404
    assert other.get(f"/admin/excel/{job.id}/status.json").status_code == 404


def test_import_in_embedded_mode_runs_in_a_background_thread_and_the_page_follows_it(app, client, sales, tmp_path):
    """`make run`: no Redis; the job runs in a thread of the web process while the page polls."""
    from jobs.queue import EXTENSION, EmbeddedRunner

    app.config.update(EMBEDDED_JOBS_SYNC=False, IMPORT_BATCH_SIZE=100)
    runner = app.extensions[EXTENSION] = EmbeddedRunner(app)
    client.login("chenxm")
    big_sheet(tmp_path / "big.xlsx", 600)
    upload(client, (tmp_path / "big.xlsx").read_bytes())
    job = latest_job(app)
    deadline = time.monotonic() + 60
    while client.get(f"/admin/excel/{job.id}/status.json").get_json()["status"] == "reading":  # the page waits
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert start(client, job.id).status_code == 302
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(f"/admin/excel/{job.id}/status.json").get_json()
        seen.add(status["status"])
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    runner.pool.shutdown(wait=True)
    assert status["status"] == "done" and status["percent"] == 100, status
    assert (status["imported"], status["skipped"]) == (540, 60)


def test_choosing_another_header_row_maps_the_columns_afresh(app, client, sales):
    client.login("chenxm")
    upload(client, messy_workbook())
    job = latest_job(app)
    assert job.params["header_row"] == 2 and job.params["mapping"][:3] == ["name", "contact_name", "mobile"]
    page = client.get(f"/admin/excel/{job.id}/mapping/").get_data(as_text=True)
    client.post(f"/admin/excel/{job.id}/mapping/", data={"csrf_token": csrf_token(page), "header_row": "3",
                                                         "go": "preview"})
    job = latest_job(app)
    assert job.params["header_row"] == 3 and job.params["headers"][0] == "杭州甲科技有限公司"
    assert job.params["mapping"][0] == ""  # a data row names no known column
