"""线索导入 through the import wizard: columns mapped by their Chinese headers, 值对应, the dry run
listing each row's outcome with its reason, duplicates (in the file and against existing
customers and leads) reported as the customer import reports them, leads owned by the importer or
waiting in the lead pool; through a real rq worker too."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import csrf_token, latest_job, redis_app_signed_in, start_import, upload_sheet
from models import Customer, DictItem, Pool, db
from models.lead import Lead, LeadStatus
from test_import_check import check_all_rows, check_page, job_of, redis_url, run_worker, totals, workbook  # noqa: F401

HEADER = ["名称", "公司", "联系人", "职务", "电话", "手机", "邮箱", "来源", "行业", "省市区", "地址", "备注"]
ROWS = [
    ["王先生", "远航物流有限公司", "王海", "总经理", "0571-86001234", "13900001111", "wh@yuanhang.cn", "展会", "制造业",
     "浙江省杭州市西湖区", "文一路 8 号", "展会上留的名片"],                                           # 2 imported
    ["王总", "远航物流", None, None, None, "13900001111", None, None, None, None, None, None],      # 3 skipped: row 2
    [None, "无名公司", "赵六", None, None, "13900002222", None, None, None, None, None, None],     # 4 rejected: no name
    ["钱女士", None, None, None, None, "12345", None, None, None, None, None, None],                # 5 rejected: mobile
    ["老客户联系人", "老客户有限公司", None, None, None, "13900003333", None, None, None, None, None, None],  # 6 skipped
]


@pytest.fixture
def sales(make_user, make_customer, app):
    uid = make_user("chenxm", display_name="陈晓明")
    make_customer("老客户有限公司", uid, phone="13900003333")
    return uid


def lead_draft(app, client, data: bytes):
    assert upload_sheet(client, data, name="展会线索.xlsx", entity="lead").status_code == 302
    job = latest_job(app)
    assert (job.kind, job.status) == ("import_lead", "draft"), job.error
    return job


@pytest.mark.both_dbs
def test_leads_import_with_the_dry_run_listing_each_row_and_its_reason(app, client, sales):
    client.login("chenxm")
    assert "线索" in client.get("/admin/excel/").get_data(as_text=True)
    job = lead_draft(app, client, workbook(HEADER, ROWS))
    assert job.params["mapping"] == ["name", "company", "contact_name", "position", "phone", "mobile", "email",
                                     "source", "industry", "region", "address", "notes"]
    check_all_rows(client, job.id)
    page = check_page(client, job.id)
    assert totals(page) == {"total": 5, "imported": 1, "imported_warned": 0, "updated": 0, "skipped": 2,
                            "rejected": 2}
    rows = check_page(client, job.id, outcome="rejected") + check_page(client, job.id, outcome="skipped")
    assert "请填写线索名称" in rows and "手机号码格式不正确" in rows
    assert "与文件第 2 行重复" in rows and "老客户有限公司" in rows
    with app.app_context():
        assert db.session.scalar(select(Lead.id)) is None  # a dry run writes nothing
    client.post(f"/admin/excel/{job.id}/commit/", data={"csrf_token": csrf_token(page)})
    done = job_of(app, job.id)
    assert (done.status, done.imported, done.skipped, done.rejected) == ("done", 1, 2, 2), done.error
    with app.app_context():
        [lead] = db.session.scalars(select(Lead)).all()
        source = db.session.scalar(select(DictItem.id).where(DictItem.kind == "source", DictItem.name == "展会"))
        assert (lead.name, lead.company, lead.contact_name, lead.position, lead.mobile, lead.email, lead.source_id,
                lead.province, lead.city, lead.district, lead.address, lead.notes, lead.owner_id, lead.status) == (
            "王先生", "远航物流有限公司", "王海", "总经理", "13900001111", "wh@yuanhang.cn", source, "浙江省", "杭州市",
            "西湖区", "文一路 8 号", "展会上留的名片", sales, LeadStatus.NEW)
        assert db.session.scalar(select(Customer.id).where(Customer.name == "远航物流有限公司")) is None
    import io

    import openpyxl

    with client.get(f"/admin/excel/{job.id}/result.xlsx") as response:
        result = openpyxl.load_workbook(io.BytesIO(response.data))
    rejected = {row[0]: row[-1] for row in result["未导入的行"].iter_rows(min_row=2, values_only=True)}
    assert set(rejected) == {4, 5} and "请填写线索名称" in rejected[4] and "手机号码格式不正确" in rejected[5]


def test_import_anyway_takes_a_lead_that_matches_an_existing_customer_with_the_warning(app, client, sales):
    client.login("chenxm")
    job = lead_draft(app, client, workbook(HEADER, [ROWS[4]]))
    check_all_rows(client, job.id, on_duplicate="import")
    page = check_page(client, job.id)
    assert totals(page)["imported"] == 1
    client.post(f"/admin/excel/{job.id}/commit/", data={"csrf_token": csrf_token(page)})
    assert job_of(app, job.id).imported == 1


def test_a_manager_imports_leads_into_the_lead_pool(app, client, make_user):
    make_user("mgr", role="经理", department=("销售部",))
    with app.app_context():
        db.session.add(Pool(name="线索池", kind="lead", is_default=True))
        db.session.commit()
        pool_id = db.session.scalar(select(Pool.id).where(Pool.kind == "lead"))
    client.login("mgr")
    job = lead_draft(app, client, workbook(HEADER, [ROWS[0]]))
    start_import(client, job.id, go="check", owner="pool")
    page = check_page(client, job.id)
    client.post(f"/admin/excel/{job.id}/commit/", data={"csrf_token": csrf_token(page)})
    assert job_of(app, job.id).imported == 1
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert (lead.owner_id, lead.pool_id) == (None, pool_id)


def test_the_lead_template_names_the_lead_columns(app, client, sales):
    client.login("chenxm")
    import io

    import openpyxl

    with client.get("/admin/excel/template/lead.xlsx") as response:
        assert response.status_code == 200
        header = [c.value for c in next(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows())]
    assert header[:6] == ["线索名称*", "公司", "联系人", "职务", "电话", "手机"], header


def test_leads_import_through_a_real_rq_worker(tmp_path, redis_url, clock):  # noqa: F811
    app, client = redis_app_signed_in(tmp_path, redis_url)
    upload_sheet(client, workbook(HEADER, ROWS[:4]), name="线索.xlsx", entity="lead")
    run_worker(app, redis_url, tmp_path)
    job = latest_job(app)
    assert (job.kind, job.status) == ("import_lead", "draft"), job.error
    check_all_rows(client, job.id)
    run_worker(app, redis_url, tmp_path)
    page = check_page(client, job.id)
    assert (totals(page)["imported"], totals(page)["skipped"], totals(page)["rejected"]) == (1, 1, 2)
    client.post(f"/admin/excel/{job.id}/commit/", data={"csrf_token": csrf_token(page)})
    run_worker(app, redis_url, tmp_path)
    done = job_of(app, job.id)
    assert (done.status, done.imported, done.skipped, done.rejected) == ("done", 1, 1, 2), done.error
    with app.app_context():
        assert [lead.name for lead in db.session.scalars(select(Lead))] == ["王先生"]
