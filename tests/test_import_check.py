"""Issue 17: legacy sheets import whole. 值对应 (unknown dictionary values mapped, added or left
empty, remembered per layout), 导入预检 (the whole file checked as a job, totals by outcome and
reason, pages of rows), bad optional cells as warnings, form lengths, merged cells, and counts
that always add up."""
from __future__ import annotations

import io
import random
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from conftest import (REDIS_URL, csrf_token, redis_app_signed_in, latest_job, need_service, start_import,
                      upload_sheet, worker_env)
from models import Customer, DictItem, db
from models.job import JobRecord

ROOT = Path(__file__).resolve().parent.parent


def workbook(header: list, rows: list[list], merges: tuple[str, ...] = ()) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    for cells in merges:
        ws.merge_cells(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def job_of(app, job_id: int) -> JobRecord:
    with app.app_context():
        job = db.session.get(JobRecord, job_id)
        db.session.expunge(job)
        return job


def draft(app, client, data: bytes):
    assert upload_sheet(client, data, name="老客户.xlsx", entity="customer").status_code == 302
    job = latest_job(app)
    assert job.status == "draft", job.error
    return job


def check_all_rows(client, job_id: int, **changes):
    """The mapping page as shown, then “下一步：检查全部行”."""
    return start_import(client, job_id, go="check", owner="me", **changes)


def check_page(client, job_id: int, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    response = client.get(f"/admin/excel/{job_id}/check/" + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def totals(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'<td data-outcome="(\w+)">(\d+)</td>', page)}


def value_selects(page: str) -> dict[str, str]:
    """值对应: the value each select is for → the select's name."""
    return {v: n for n, v in re.findall(r'<select class="form-control form-control-sm" name="(v_[\w:]+_\d+)" '
                                        r'data-value="([^"]*)"', page)}


def item_id(app, kind: str, name: str) -> int | None:
    with app.app_context():
        return db.session.scalar(select(DictItem.id).where(DictItem.kind == kind, DictItem.name == name))


LEGACY = ["客户名称", "客户来源", "所属行业", "邮箱"]


@pytest.fixture
def admin(make_user):
    return make_user("boss", role="系统管理员", display_name="王总")


@pytest.fixture
def sales(make_user):
    return make_user("chenxm", display_name="陈晓明")


@pytest.mark.both_dbs
def test_values_step_maps_adds_and_remembers_unknown_values(app, client, admin):
    client.login("boss")
    job = draft(app, client, workbook(LEGACY, [
        ["甲公司", "自主开发", "医疗健康行业", None],   # 医疗健康行业 is 医疗健康: a common suffix
        ["乙公司", "老客户介绍", "ｉｔ", None],          # no ＩＴ industry either
        ["丙公司", "自主开发", " 制造 ", None],          # 制造 is 制造业
    ]))
    check_all_rows(client, job.id)
    page = check_page(client, job.id)
    assert "值对应" in page
    selects = value_selects(page)
    assert set(selects) == {"自主开发", "老客户介绍", "it"}  # as typed, width folded
    assert re.search(r"<td>自主开发</td><td>2</td>", page)  # with how many rows hold it
    assert "添加到数据字典：老客户介绍" in page
    assert totals(page)["imported_warned"] == 3  # until chosen, an unknown value is left empty, warned

    web = item_id(app, "source", "网络推广")
    token = csrf_token(page)
    response = client.post(f"/admin/excel/{job.id}/values/", data={
        "csrf_token": token, selects["自主开发"]: str(web), selects["老客户介绍"]: "new", selects["it"]: "empty"})
    assert response.status_code == 302
    page = check_page(client, job.id)
    assert "值对应" not in page and totals(page) == {"total": 3, "imported": 3, "imported_warned": 0,
                                                     "updated": 0, "skipped": 0, "rejected": 0}
    with app.app_context():  # the dry run it replaces is gone, rows and all
        assert db.session.scalar(select(func.count(JobRecord.id)).where(JobRecord.kind == "check_import")) == 1
    client.post(f"/admin/excel/{job.id}/commit/", data={"csrf_token": csrf_token(page)})
    assert job_of(app, job.id).status == "done"
    referral = item_id(app, "source", "老客户介绍")
    assert referral is not None
    with app.app_context():
        got = {c.name: (c.source_id, c.industry_id) for c in db.session.scalars(select(Customer))}
    assert got == {"甲公司": (web, item_id(app, "industry", "医疗健康")),
                   "乙公司": (referral, None),
                   "丙公司": (web, item_id(app, "industry", "制造业"))}

    # The next file of the same layout: the choices are remembered with the mapping.
    job = draft(app, client, workbook(LEGACY, [["丁公司", "自主开发", "ＩＴ行业", None]]))
    check_all_rows(client, job.id)
    page = check_page(client, job.id)
    assert "值对应" not in page and totals(page)["imported"] == 1


def test_without_the_dictionary_permission_values_can_be_mapped_but_not_added(app, client, sales):
    client.login("chenxm")
    job = draft(app, client, workbook(LEGACY, [["甲公司", "自主开发", None, None]]))
    check_all_rows(client, job.id)
    page = check_page(client, job.id)
    selects = value_selects(page)
    assert list(selects) == ["自主开发"] and "添加到数据字典：自主开发" not in page
    response = client.post(f"/admin/excel/{job.id}/values/",
                           data={"csrf_token": csrf_token(page), selects["自主开发"]: "new"})
    assert response.status_code == 403
    assert item_id(app, "source", "自主开发") is None
    other = item_id(app, "source", "其他")
    client.post(f"/admin/excel/{job.id}/values/", data={"csrf_token": csrf_token(page), selects["自主开发"]: str(other)})
    page = check_page(client, job.id)
    assert totals(page)["imported"] == 1 and "值对应" not in page


@pytest.mark.both_dbs
def test_the_dry_run_counts_every_row_pages_by_outcome_and_the_commit_rechecks_duplicates(app, client, sales):
    rows = []
    for i in range(120):
        if i % 12 == 5:
            rows.append([None, None, None, f"n{i}@example.com"])               # rejected: no name
        elif i % 12 == 7:
            rows.append([f"客户{i - 1:03d}", None, None, None])                 # skipped: same name as the row above
        elif i % 12 == 9:
            rows.append([f"客户{i:03d}", None, None, "not-an-email"])           # warned: the email is left empty
        else:
            rows.append([f"客户{i:03d}", None, None, f"c{i}@example.com"])
    client.login("chenxm")
    job = draft(app, client, workbook(LEGACY, rows))
    check_all_rows(client, job.id)
    page = check_page(client, job.id)
    assert totals(page) == {"total": 120, "imported": 90, "imported_warned": 10, "updated": 0, "skipped": 10,
                            "rejected": 10}
    reasons = page.split('id="check-reasons"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"请填写客户名称</td><td>10</td>", reasons)
    assert re.search(r"邮箱“…”已留空：邮箱格式不正确</td><td>10</td>", reasons)
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id))) == 0  # a dry run writes nothing

    first = check_page(client, job.id, outcome="imported")
    second = check_page(client, job.id, outcome="imported", page=1)
    numbers = [int(n) for p in (first, second) for n in re.findall(r"<tr class=\"[^\"]*\">\s*<td>(\d+)</td>", p)]
    assert len(numbers) == 90 and len(set(numbers)) == 90 and 'id="check-pager"' in first
    rejected = check_page(client, job.id, outcome="rejected")
    assert sorted(int(n) for n in re.findall(r"<tr class=\"table-danger\">\s*<td>(\d+)</td>", rejected)) == \
        [i + 2 for i in range(120) if i % 12 == 5]

    # Between the dry run and the commit someone enters 客户000 by hand: the commit finds it.
    with app.app_context():
        from rules import customers as customer_rules

        taken = Customer(name="客户000", kind="company", mnemonic="kh000")
        db.session.add(taken)
        db.session.flush()
        customer_rules.reindex(db.session, taken)
        db.session.commit()
    client.post(f"/admin/excel/{job.id}/commit/", data={"csrf_token": csrf_token(page)})
    job = job_of(app, job.id)
    assert (job.total, job.imported, job.warned, job.skipped, job.rejected) == (120, 89, 10, 11, 10)


def test_a_name_longer_than_the_form_allows_is_refused_and_a_bad_email_only_warned(app, client, sales):
    from rules.import_cells import max_length

    limit = max_length(Customer, "name")
    client.login("chenxm")
    job = draft(app, client, workbook(LEGACY, [["长" * 220, None, None, None],
                                               ["名" * limit, None, None, "bad@@mail"]]))
    start_import(client, job.id, owner="me")
    job = latest_job(app)
    assert (job.imported, job.warned, job.rejected) == (0, 1, 1)
    with client.get(f"/admin/excel/{job.id}/result.xlsx") as result:
        book = openpyxl.load_workbook(io.BytesIO(result.data))
    rejected = list(book["未导入的行"].values)
    assert rejected[1][0] == 2 and f"不能超过 {limit} 个字" in rejected[1][-1]
    warned = list(book["导入（有警告）的行"].values)
    assert warned[1][0] == 3 and warned[1][-1] == "邮箱“bad@@mail”已留空：邮箱格式不正确"
    with app.app_context():
        kept = db.session.scalar(select(Customer))
        assert kept.name == "名" * limit and kept.email is None

    # The customer form refuses the same 220 characters.
    page = client.get("/admin/customer/new/").get_data(as_text=True)
    response = client.post("/admin/customer/new/", data={"csrf_token": csrf_token(page), "name": "长" * 220,
                                                         "kind": "company"})
    assert response.status_code == 200 and f"{limit}" in response.get_data(as_text=True)


def test_strict_reading_rejects_a_row_for_any_invalid_value(app, client, sales):
    client.login("chenxm")
    job = draft(app, client, workbook(LEGACY, [["甲公司", None, None, "bad@@mail"]]))
    start_import(client, job.id, owner="me", strict="1")
    job = latest_job(app)
    assert (job.imported, job.warned, job.rejected) == (0, 0, 1)


def test_a_merged_cell_is_never_filled_down_into_an_otherwise_blank_row(app, client, sales):
    client.login("chenxm")
    job = draft(app, client, workbook(LEGACY, [["甲公司", "展会", None, None], ["乙公司", None, None, None],
                                               [None, None, None, None]], merges=("B2:B4",)))
    start_import(client, job.id, owner="me")
    job = latest_job(app)
    assert (job.total, job.imported, job.rejected) == (2, 2, 0)
    with app.app_context():
        assert {c.source.name for c in db.session.scalars(select(Customer))} == {"展会"}


def random_sheet(rng: random.Random, existing: list[str]) -> bytes:
    rows = []
    for i in range(rng.randint(1, 25)):
        name = rng.choice([f"随机客户{rng.randint(0, 30)}", None, "长" * rng.choice([10, 200]), rng.choice(existing)])
        source = rng.choice([None, "展会", "自主开发", "老客户介绍"])
        industry = rng.choice([None, "医疗健康行业", "农林牧渔", "ｉｔ"])
        email = rng.choice([None, f"a{i}@example.com", "bad", "x@y"])
        rows.append([name, source, industry, email, rng.choice([None, 13800138000 + rng.randint(0, 40), "12345",
                                                                "0317-71490681", "＋86 138 0013 8000"])])
    if rng.random() < 0.3:
        rows.append([None] * 5)
    return workbook([*LEGACY, "手机"], rows)


@pytest.mark.both_dbs
def test_counts_always_add_up_over_random_sheets(app, client, sales, make_customer):
    existing = ["老客户有限公司", "随机客户3"]
    for name in existing:
        make_customer(name, sales, phone="0571-88889999")
    client.login("chenxm")
    rng = random.Random(17)
    for n in range(12):
        job = draft(app, client, random_sheet(rng, existing))
        start_import(client, job.id, owner="me", on_duplicate=rng.choice(["skip", "update", "import"]))
        job = latest_job(app)
        assert job.status == "done", job.error
        assert job.imported + job.warned + job.updated + job.skipped + job.rejected == job.total, (n, job)


@pytest.fixture
def redis_url() -> str:
    url = need_service(REDIS_URL, "Redis")
    from redis import Redis

    Redis.from_url(url).flushdb()
    return url


def run_worker(app, redis_url: str, tmp_path: Path) -> None:
    env = worker_env(app, tmp_path, redis_url, KECHI_UPLOAD_DIR=app.config["UPLOAD_DIR"])
    with (tmp_path / "worker.log").open("a") as log:
        done = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, "kechi"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=180)
    assert done.returncode == 0, (tmp_path / "worker.log").read_text()[-3000:]


def test_the_dry_run_and_the_commit_through_a_real_rq_worker(tmp_path, redis_url, clock):
    app, client = redis_app_signed_in(tmp_path, redis_url)
    upload_sheet(client, workbook(LEGACY, [["甲公司", "展会", None, None], ["乙公司", None, None, "bad"],
                                           [None, None, None, "x@example.com"]]), name="老客户.xlsx",
                 entity="customer")
    run_worker(app, redis_url, tmp_path)
    job = latest_job(app)
    assert job.status == "draft"
    check_all_rows(client, job.id)
    page = check_page(client, job.id)
    assert 'data-reload-when-done="1"' in page  # a progress bar until the worker has checked the file
    run_worker(app, redis_url, tmp_path)
    page = check_page(client, job.id)
    assert totals(page) == {"total": 3, "imported": 1, "imported_warned": 1, "updated": 0, "skipped": 0,
                            "rejected": 1}
    client.post(f"/admin/excel/{job.id}/commit/", data={"csrf_token": csrf_token(page)})
    with app.app_context():
        assert db.session.get(JobRecord, job.id).status == "queued"
    run_worker(app, redis_url, tmp_path)
    with app.app_context():
        done = db.session.get(JobRecord, job.id)
        assert (done.status, done.imported, done.warned, done.rejected) == ("done", 1, 1, 1)


def test_an_unrecognised_province_is_matched_in_the_values_step(app, client, sales):
    client.login("chenxm")
    job = draft(app, client, workbook(["客户名称", "省份"], [["甲公司", "河北"], ["乙公司", "冀"], ["丙公司", "冀"]]))
    check_all_rows(client, job.id)
    page = check_page(client, job.id)
    selects = value_selects(page)
    assert list(selects) == ["冀"] and re.search(r"<td>冀</td><td>2</td>", page)  # 河北 is read as 河北省
    assert "添加到数据字典" + "：冀" not in page  # provinces are not a dictionary
    client.post(f"/admin/excel/{job.id}/values/", data={"csrf_token": csrf_token(page), selects["冀"]: "河北省"})
    page = check_page(client, job.id)
    client.post(f"/admin/excel/{job.id}/commit/", data={"csrf_token": csrf_token(page)})
    with app.app_context():
        assert {c.name: c.province for c in db.session.scalars(select(Customer))} == \
            {"甲公司": "河北省", "乙公司": "河北省", "丙公司": "河北省"}


def test_a_custom_choice_field_takes_part_in_the_values_step(app, client, sales):
    from models import CustomField

    with app.app_context():
        db.session.add(CustomField(entity="customer", key="grade", label="客户等级", field_type="choice",
                                   options=["A类", "B类"]))
        db.session.commit()
    client.login("chenxm")
    job = draft(app, client, workbook(["客户名称", "客户等级"], [["甲公司", "ａ"], ["乙公司", "丙级"]]))
    check_all_rows(client, job.id)
    page = check_page(client, job.id)
    selects = value_selects(page)
    assert list(selects) == ["丙级"]  # ａ is A类: width, case and the suffix 类 set aside
    client.post(f"/admin/excel/{job.id}/values/", data={"csrf_token": csrf_token(page), selects["丙级"]: "B类"})
    page = check_page(client, job.id)
    assert totals(page)["imported"] == 2
    client.post(f"/admin/excel/{job.id}/commit/", data={"csrf_token": csrf_token(page)})
    with app.app_context():
        assert {c.name: c.custom.get("grade") for c in db.session.scalars(select(Customer))} == \
            {"甲公司": "A类", "乙公司": "B类"}


@pytest.mark.both_dbs
def test_values_step_maps_salesperson_names_to_colleagues_in_scope(app, client, make_user):
    """值对应 covers 业务员: names no colleague answers to are listed with counts and mapped to an
    active colleague in the importer's scope, or left empty (the file's owner); a name nobody
    decided on still rejects its row."""
    boss = make_user("lizg", role="主管", display_name="李强")
    liufang = make_user("liufang", display_name="刘芳")
    make_user("zhangwei", display_name="张伟")
    zhangwei2 = make_user("zhangwei2", display_name="张伟")
    make_user("sunwei", department=("销售部", "销售二部"), display_name="孙伟")  # outside 李强's scope
    client.login("lizg")
    job = draft(app, client, workbook(["客户名称", "手机", "业务员"], [
        ["甲公司", "13900000071", "刘芳"],     # matches: not listed
        ["乙公司", "13900000072", "小刘"],     # a nickname, twice
        ["丙公司", "13900000073", "小刘"],
        ["丁公司", "13900000074", "张伟"],     # two colleagues of that name
        ["戊公司", "13900000075", "王二麻"],   # nobody: left empty
        ["己公司", "13900000076", "孙伟"],     # outside the scope: not offered, left undecided
    ]))
    check_all_rows(client, job.id)
    page = check_page(client, job.id)
    selects = value_selects(page)
    assert set(selects) == {"小刘", "张伟", "王二麻", "孙伟"}
    assert re.search(r"<td>小刘</td><td>2</td>", page)
    assert "data-owner-note" in page and "归本次导入选择的负责人" in page
    assert "对应到：刘芳（liufang）" in page and "对应到：张伟（zhangwei2）" in page
    assert "孙伟（sunwei）" not in page and "添加到数据字典：小刘" not in page
    assert totals(page)["rejected"] == 5  # until decided, an unknown 业务员 refuses the row as before

    client.post(f"/admin/excel/{job.id}/values/", data={
        "csrf_token": csrf_token(page), selects["小刘"]: str(liufang), selects["张伟"]: str(zhangwei2),
        selects["王二麻"]: "empty"})
    page = check_page(client, job.id)
    assert set(value_selects(page)) == {"孙伟"}
    assert (totals(page)["imported"], totals(page)["rejected"]) == (5, 1)
    client.post(f"/admin/excel/{job.id}/commit/", data={"csrf_token": csrf_token(page)})
    done = job_of(app, job.id)
    assert (done.status, done.imported, done.rejected) == ("done", 5, 1)
    with app.app_context():
        owners = {c.name: c.owner_id for c in db.session.scalars(select(Customer))}
    assert owners == {"甲公司": liufang, "乙公司": liufang, "丙公司": liufang, "丁公司": zhangwei2,
                      "戊公司": boss}

    # a salesperson without the right to assign may map a name only to themself
    client.logout()
    client.login("liufang")
    job = draft(app, client, workbook(["客户名称", "手机", "业务员"], [["庚公司", "13900000077", "芳芳"]]))
    check_all_rows(client, job.id)
    page = check_page(client, job.id)
    assert "对应到：刘芳（liufang）" in page and "张伟（zhangwei" not in page
