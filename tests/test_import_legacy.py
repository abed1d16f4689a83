"""Issue 17, "Legacy customer sheets import whole": a generated legacy workbook (tests/messy_workbook.py,
seeded, a truth per row) imported through the wizard on an empty and on the demo database,
embedded and through a real rq worker; then the history a sheet brings (创建日期, 最后联系, 下次联系,
业务员, 客户编号) and duplicates decided as the entry policy and a person would decide them."""
from __future__ import annotations

import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

import messy_workbook
from conftest import FIXED_NOW, Browserish, csrf_token, latest_job, redis_app_signed_in, start_import, seeded_demo, upload_sheet
from messy_workbook import REASONS, Label, Truth
from test_import_customers import _worker, redis_url  # noqa: F401 (a fixture)
from models import Customer, User, db
from models.job import JobRowIssue, RowOutcome
from rules import customers, pool as pool_rules, recycle, reports
from rules.actor import Actor

TZ = ZoneInfo("Asia/Shanghai")


def _local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(TZ).date() if moment is not None else None


def _import(app, client, data: bytes, **changes: str):
    """Upload, accept the mapping the wizard proposes, start; the finished (or queued) job."""
    response = upload_sheet(client, data, name="客户资料.xlsx", entity="customer")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    job = latest_job(app)
    if job.status == "draft":
        assert start_import(client, job.id, **{"owner": "me", **changes}).status_code == 302
    return job


def _existing_ids(app) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(Customer.id)))


def check_truth(app, job_id: int, truths: list[Truth], before: set[int], *, canonical: bool,
                strict: bool = False, existing: frozenset[str] = frozenset()) -> None:
    """Every row against its truth; the failures listed by label, so a red run says which truth.
    A bad mobile or email is a bad optional cell: left empty and warned, the row imported with
    the rest of its truth, unless the import was `strict`, which rejects the row for it. A bad
    mobile row named as an `existing` customer has, once the mobile is left empty, nothing but
    that name to tell it apart: it is skipped as that customer, the bad mobile still listed."""
    with app.app_context():
        from models.job import JobRecord

        job = db.session.get(JobRecord, job_id)
        assert job.status == "done", job.error
        issues = {i.row_no: i for i in db.session.scalars(select(JobRowIssue).where(JobRowIssue.job_id == job_id))}
        new = [c for c in db.session.scalars(select(Customer)) if c.id not in before]
        by_name: dict[str, list[Customer]] = {}
        for customer in new:
            by_name.setdefault(customer.name, []).append(customer)
        filled = [t for t in truths if t.label != Label.BLANK]
        assert job.total == len(filled), (job.total, len(filled))
        assert job.imported + job.warned + job.updated + job.skipped + job.rejected == job.total

        wrong: dict[str, list[str]] = {}

        def fail(truth: Truth, what: str, detail: str = "") -> None:
            wrong.setdefault(f"{truth.label}: {what}", []).append(f"row {truth.row_no}: {detail}")

        def check_history(truth: Truth, customer: Customer) -> None:
            if _local_day(customer.created_at) != truth.created:
                fail(truth, "created date", f"{_local_day(customer.created_at)} != {truth.created}")
            if customer.province != truth.province:
                fail(truth, "province", f"{customer.province} != {truth.province}")
            if _local_day(customer.last_follow_up_at) != truth.last_contact:
                fail(truth, "last contact", f"{customer.last_follow_up_at} != {truth.last_contact}")
            if customer.claimed_at != (customer.last_follow_up_at or FIXED_NOW):
                fail(truth, "recycle clock", f"from {customer.claimed_at}")

        added = (RowOutcome.IMPORTED, RowOutcome.IMPORTED_WITH_WARNINGS)
        good = [t for t in filled if t.good]
        imported = 0
        for truth in good:
            issue = issues.get(truth.row_no)
            found = by_name.get(truth.name, [])
            if (issue is not None and issue.outcome not in added) or len(found) != 1:
                fail(truth, "not imported", issue.reason if issue else f"{len(found)} customers named {truth.name}")
                continue
            imported += 1
            customer = found[0]
            check_history(truth, customer)
            if truth.source in messy_workbook.KNOWN_SOURCES and (customer.source is None
                                                                 or customer.source.name != truth.source):
                fail(truth, "source", f"{customer.source} != {truth.source}")
            if canonical and (customer.mobile or None) != truth.mobile:
                fail(truth, "mobile not canonical", f"{customer.mobile!r}, not {truth.mobile}")
            if canonical and truth.landline:
                stored = customer.phone or ""
                if re.sub(r"\D", "", stored) != truth.landline or not re.fullmatch(r"[0-9\-转]+", stored):
                    fail(truth, "landline not canonical", f"{stored!r}, not {truth.landline}")
        bad_cell = {Label.BAD_MOBILE: "mobile", Label.BAD_EMAIL: "email"}
        for truth in filled:
            if truth.good:
                continue
            issue = issues.get(truth.row_no)
            expected = REASONS[truth.label]
            if truth.label == Label.IN_FILE_DUPLICATE:
                expected = f"与文件第 {truth.duplicate_of} 行重复"
            if truth.label == Label.BAD_MOBILE and not strict and truth.name in existing:
                outcome = RowOutcome.SKIPPED
                if issue is not None and "重复" not in issue.reason:
                    fail(truth, "skipped without its duplicate", issue.reason)
            elif truth.label in bad_cell and not strict:
                outcome = RowOutcome.IMPORTED_WITH_WARNINGS
            elif truth.label == Label.IN_FILE_DUPLICATE:
                outcome = RowOutcome.SKIPPED
            else:
                outcome = RowOutcome.REJECTED
            if issue is None:
                fail(truth, "imported without a word")
            elif expected not in issue.reason:
                fail(truth, "wrong reason", f"{issue.reason!r}, expected {expected!r}")
            elif issue.outcome != outcome:
                fail(truth, f"not {outcome}", str(issue.outcome))
            elif outcome == RowOutcome.IMPORTED_WITH_WARNINGS:
                # the row is in, the bad cell left empty, the rest of it as in the truth
                found = by_name.get(truth.name, [])
                if len(found) != 1:
                    fail(truth, "warned but not imported", f"{len(found)} customers named {truth.name}")
                    continue
                if getattr(found[0], bad_cell[truth.label]):
                    fail(truth, "bad cell kept", repr(getattr(found[0], bad_cell[truth.label])))
                check_history(truth, found[0])
            elif truth.label != Label.IN_FILE_DUPLICATE and truth.name and by_name.get(truth.name):
                fail(truth, "rejected but in the database", truth.name)
    summary = "; ".join(f"{k} ×{len(v)} (e.g. {' | '.join(v[:2])})" for k, v in sorted(wrong.items()))
    assert imported >= 0.99 * len(good) and not wrong, f"{imported} of {len(good)} good rows imported. {summary}"


# --- the legacy workbook whole: these need the values step (importa) and real phones (phones) ------

@pytest.mark.both_dbs
def test_a_legacy_workbook_imports_whole_on_an_empty_database(app, client, make_user):
    make_user("chenxm")
    client.login("chenxm")
    data, truths = messy_workbook.build(seed=17)
    before = _existing_ids(app)
    job = _import(app, client, data)
    check_truth(app, job.id, truths, before, canonical=True)


def test_a_legacy_workbook_in_strict_mode_rejects_bad_mobiles_and_emails(app, client, make_user):
    """The wizard's 'strict' choice: any invalid value rejects its row, with that value's reason.
    Unknown dictionary values are decided in 值对应 first (left empty, on purpose), so they are
    no longer invalid and their rows go in."""
    from test_import_check import check_page, value_selects

    make_user("chenxm")
    client.login("chenxm")
    data, truths = messy_workbook.build(seed=19)
    before = _existing_ids(app)
    assert upload_sheet(client, data, name="客户资料.xlsx", entity="customer").status_code == 302
    job = latest_job(app)
    start_import(client, job.id, go="check", owner="me", strict="1")
    page = check_page(client, job.id)
    selects = value_selects(page)
    assert set(selects) == {*messy_workbook.UNKNOWN_SOURCES, *messy_workbook.UNKNOWN_INDUSTRIES}
    client.post(f"/admin/excel/{job.id}/values/",
                data={"csrf_token": csrf_token(page), **{name: "empty" for name in selects.values()}})
    page = check_page(client, job.id)
    assert "值对应" not in page
    assert client.post(f"/admin/excel/{job.id}/commit/", data={"csrf_token": csrf_token(page)}).status_code == 302
    check_truth(app, job.id, truths, before, canonical=True, strict=True)


def _demo(app, tmp_path) -> list[str]:
    """The demo company; the names of some of its customers, for the sheet's namesakes."""
    seeded_demo(app, tmp_path, customers=300)
    with app.app_context():
        return list(db.session.scalars(select(Customer.name).order_by(Customer.id).limit(90)))


def test_a_legacy_workbook_imports_whole_on_the_demo_database(app, tmp_path):
    from demo import DEMO_PASSWORD

    namesakes = _demo(app, tmp_path)
    client = Browserish(app.test_client())
    client.login("wangjl", DEMO_PASSWORD)
    data, truths = messy_workbook.build(seed=23, namesakes=namesakes)
    assert sum(1 for t in truths if t.name in set(namesakes)) >= 60
    before = _existing_ids(app)
    job = _import(app, client, data)
    check_truth(app, job.id, truths, before, canonical=True, existing=frozenset(namesakes))


# --- what this branch owns: history and duplicates, on rows no other change is needed for ---------

@pytest.mark.both_dbs
def test_history_and_duplicates_of_a_legacy_workbook_on_the_demo_database(app, tmp_path):
    from demo import DEMO_PASSWORD

    namesakes = _demo(app, tmp_path)
    client = Browserish(app.test_client())
    client.login("wangjl", DEMO_PASSWORD)
    data, truths = messy_workbook.build(seed=29, namesakes=namesakes, unknown_values=False, landlines=False)
    before = _existing_ids(app)
    job = _import(app, client, data)
    check_truth(app, job.id, truths, before, canonical=False, existing=frozenset(namesakes))
    with app.app_context():  # the namesakes went in beside the demo customers of the same name
        twins = [c for c in db.session.scalars(select(Customer).where(Customer.name.in_(namesakes)))
                 if c.id not in before]
    assert len(twins) >= 60


@pytest.mark.parametrize("whole", [True, False], ids=["legacy-whole", "history-and-duplicates"])
def test_a_legacy_workbook_through_a_real_rq_worker(tmp_path, redis_url, whole):
    app, client = redis_app_signed_in(tmp_path, redis_url)
    data, truths = messy_workbook.build(seed=31, unknown_values=whole, landlines=whole)
    before = _existing_ids(app)
    job = _import(app, client, data)
    assert latest_job(app).status == "reading"
    assert _worker(app, redis_url, tmp_path).wait(timeout=180) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    assert start_import(client, job.id, owner="me").status_code == 302
    assert latest_job(app).status == "queued"
    assert _worker(app, redis_url, tmp_path).wait(timeout=300) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    check_truth(app, job.id, truths, before, canonical=whole)


# --- item 4: the history a sheet brings -----------------------------------------------------------

def _sheet(header: list[str], *rows: list[object]) -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(header)
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _reasons(app, job_id: int) -> dict[int, tuple[str, str]]:
    with app.app_context():
        return {i.row_no: (i.outcome, i.reason) for i in db.session.scalars(
            select(JobRowIssue).where(JobRowIssue.job_id == job_id))}


def _customers(app) -> dict[str, Customer]:
    with app.app_context():
        found = {c.name: c for c in db.session.scalars(select(Customer))}
        for c in found.values():
            db.session.expunge(c)
        return found


@pytest.mark.both_dbs
def test_created_dates_count_in_their_real_month_and_the_recycle_clock_starts_at_the_last_contact(
        app, client, make_user):
    uid = make_user("chenxm")
    client.login("chenxm")
    data = _sheet(["客户名称", "手机", "创建日期", "最后联系", "下次联系"],
                  ["三月老客户", 13900000001, "2025年3月15日", "2026.8.1", "2026/12/1"],   # 2
                  ["序列号日期", 13900000002, 45658, 46300, None],                        # 3: 2025-01-01, 2026-10-05
                  ["八位数日期", 13900000003, "20240229", None, None],                     # 4
                  ["日期单元格", 13900000004, datetime(2023, 5, 1), "2026-11-20 09:30", None],  # 5
                  ["没有历史", 13900000005, None, None, None],                            # 6
                  ["未来的创建日期", 13900000006, "2027年1月1日", None, None])              # 7
    job = _import(app, client, data)
    job = latest_job(app)
    assert job.params["mapping"] == ["name", "mobile", "created_on", "last_contact_on", "next_contact_at"]
    # a created day after today is a bad optional cell: the row goes in without it, warned
    assert (job.imported, job.warned, job.rejected) == (5, 1, 0), job.error
    assert _reasons(app, job.id)[7][0] == RowOutcome.IMPORTED_WITH_WARNINGS
    assert "创建日期“2027-01-01”晚于今天" in _reasons(app, job.id)[7][1]
    rows = _customers(app)
    march, serial, leap, cell, plain = (rows[n] for n in ("三月老客户", "序列号日期", "八位数日期", "日期单元格", "没有历史"))
    assert [_local_day(c.created_at) for c in (march, serial, leap, cell)] == [
        date(2025, 3, 15), date(2025, 1, 1), date(2024, 2, 29), date(2023, 5, 1)]
    assert plain.created_at == FIXED_NOW
    assert _local_day(march.last_follow_up_at) == date(2026, 8, 1) and march.next_contact_at == date(2026, 12, 1)
    assert _local_day(serial.last_follow_up_at) == date(2026, 10, 5)
    # the recycle clock: from the last contact, or the import day without one
    assert march.claimed_at == march.last_follow_up_at and plain.claimed_at == FIXED_NOW
    assert all(c.owner_id == uid for c in rows.values())
    assert rows["未来的创建日期"].created_at == FIXED_NOW  # the future day dropped: created on import

    with app.app_context():
        who = Actor.from_user(db.session.get(User, uid), today=date(2026, 11, 23))
        months = {r["period"]: r["count"] for r in reports.new_customers(
            db.session, who, reports.Filters(start=date(2023, 1, 1), end=date(2026, 11, 23))).rows}
        # 2026-11: the row without a created day and the one whose future day was dropped
        assert (months["2023-05"], months["2024-02"], months["2025-01"], months["2025-03"], months["2026-11"]) == (
            1, 1, 1, 1, 2)
        pool = pool_rules.default_pool(db.session)
        pool.recycle_enabled, pool.idle_days = True, 60
        db.session.commit()
        run = recycle.recycle_due(db.session, now=FIXED_NOW)
        db.session.commit()
        back = {c.name for c in db.session.scalars(select(Customer).where(Customer.owner_id.is_(None)))}
    # last contacted 2026-08-01 (114 days ago) goes back to the pool; a contact on 11-20, or none
    # before the import, keeps the customer with its owner
    assert run.total == 1 and back == {"三月老客户"}


def test_customers_imported_with_an_owner_never_were_in_the_pool(app, client, make_user):
    uid = make_user("chenxm")
    client.login("chenxm")
    _import(app, client, _sheet(["客户名称", "手机", "创建日期"], ["甲", 13900000061, "2026年2月1日"],
                                ["乙", 13900000062, "2025/6/30"]))
    assert latest_job(app).imported == 2
    with app.app_context():
        who = Actor.from_user(db.session.get(User, uid), today=date(2026, 11, 23))
        rows = reports.pool_size(db.session, who, reports.Filters(start=date(2026, 1, 1), end=date(2026, 11, 23))).rows
    assert {(r["size"], r["outflow"]) for r in rows} == {(0, 0)}  # the pool stayed empty all year


@pytest.mark.both_dbs
def test_salesperson_column_assigns_within_scope_and_refuses_with_a_reason(app, client, make_user):
    boss = make_user("lizg", role="主管", display_name="李强")
    rep = make_user("chenxm", display_name="陈晓明")
    make_user("liufang", display_name="刘芳")
    make_user("sunwei", department=("销售部", "销售二部"), display_name="孙伟")
    make_user("zhangwei", display_name="张伟")
    make_user("zhangwei2", display_name="张伟")
    client.login("lizg")
    data = _sheet(["客户名称", "手机", "业务员"],
                  ["归陈晓明", 13900000011, "陈晓明"],      # 2: by display name
                  ["归刘芳", 13900000012, "liufang"],       # 3: by username
                  ["归孙伟", 13900000013, "孙伟"],          # 4: another department: outside 李强's scope
                  ["归无名", 13900000014, "王二麻"],        # 5: nobody of that name
                  ["归张伟", 13900000015, "张伟"],          # 6: two colleagues of that name
                  ["没写业务员", 13900000016, None])        # 7: the owner chosen for the file
    upload_sheet(client, data, name="c.xlsx", entity="customer")
    job = latest_job(app)
    page = client.get(f"/admin/excel/{job.id}/mapping/").get_data(as_text=True)
    assert "表格中填了“业务员”的行归该业务员" in page and "不是您权限范围内的在职员工" in page
    start_import(client, job.id, owner="me")
    job = latest_job(app)
    assert job.params["mapping"] == ["name", "mobile", "owner"]
    assert (job.imported, job.rejected) == (3, 3), job.error
    reasons = _reasons(app, job.id)
    assert "业务员“孙伟”不是您权限范围内的在职员工" in reasons[4][1]
    assert "业务员“王二麻”不是您权限范围内的在职员工" in reasons[5][1]
    assert "有多位员工名为“张伟”，请改填其用户名" in reasons[6][1]
    rows = _customers(app)
    with app.app_context():
        liufang = db.session.scalar(select(User).where(User.username == "liufang"))
        assert rows["归刘芳"].owner_id == liufang.id and rows["归刘芳"].department_id == liufang.department_id
    assert rows["归陈晓明"].owner_id == rep and rows["没写业务员"].owner_id == boss
    assert "归孙伟" not in rows

    # a salesperson whose scope is their own customers may only name themself
    client.logout()
    client.login("chenxm")
    _import(app, client, _sheet(["客户名称", "手机", "业务员"], ["自己的", 13900000021, "陈晓明"],
                                ["给同事的", 13900000022, "刘芳"]))
    job = latest_job(app)
    assert (job.imported, job.rejected) == (1, 1)
    assert "业务员“刘芳”不是您权限范围内的在职员工" in _reasons(app, job.id)[3][1]


@pytest.mark.both_dbs
def test_customer_numbers_are_kept_and_stay_unique(app, client, make_user, make_customer):
    uid = make_user("chenxm")
    taken = "OLD-0001"
    with app.app_context():
        existing = db.session.get(Customer, make_customer("老客户", uid))
        existing.code = taken
        customers.reindex(db.session, existing)
        db.session.commit()
    client.login("chenxm")
    data = _sheet(["客户编号", "客户名称", "手机"],
                  ["LEGACY-0001", "甲公司", 13900000031],   # 2 kept
                  [taken, "乙公司", 13900000032],           # 3 another customer's number
                  ["LEGACY-0001", "丙公司", 13900000033],   # 4 an earlier row's number
                  ["X" * 40, "丁公司", 13900000034])        # 5 longer than a number may be
    _import(app, client, data, on_duplicate="import")  # 仍然导入 cannot take a number the policy forbids
    job = latest_job(app)
    # the over-long number is a bad optional cell: the row goes in with a number of its own, warned
    assert (job.imported, job.warned, job.skipped, job.rejected) == (1, 1, 0, 2), _reasons(app, job.id)
    reasons = _reasons(app, job.id)
    assert f"客户编号“{taken}”已被其他客户使用" in reasons[3][1]
    assert "与文件第 2 行重复（录入策略不允许重复）" in reasons[4][1]
    assert reasons[5][0] == RowOutcome.IMPORTED_WITH_WARNINGS
    assert "客户编号“" + "X" * 40 + "”已留空：不能超过 32 个字" in reasons[5][1]
    rows = _customers(app)
    assert rows["甲公司"].code == "LEGACY-0001"
    assert rows["丁公司"].code and rows["丁公司"].code != "X" * 40


# --- item 5: duplicates decided like a person would -------------------------------------------------

@pytest.mark.both_dbs
def test_namesakes_with_other_phones_are_other_customers_and_in_file_duplicates_honour_import_anyway(
        app, client, make_user, make_customer):
    uid = make_user("chenxm")
    make_customer("华联超市", uid, phone="0571-88880001")
    client.login("chenxm")
    rows = [["华联超市", "13900000041", "河北"],        # 2 namesake, other phone and province: imported
            ["华联超市", "0571-88880001", "浙江"],      # 3 the same customer (name + phone): duplicate
            ["新华书店", "13900000043", "江苏"],        # 4 imported
            ["新华书店", "13900000043", "江苏"],        # 5 repeats row 4
            ["新华书店", "13900000044", "四川"]]        # 6 namesake of row 4 with its own phone: imported
    data = _sheet(["客户名称", "电话", "省份"], *rows)
    upload_sheet(client, data, name="a.xlsx", entity="customer")
    job = latest_job(app)
    page = client.get(f"/admin/excel/{job.id}/mapping/").get_data(as_text=True)
    assert "客户名称“华联超市”与已有客户「华联超市」" in page  # the preview names whom a row collides with
    assert "与文件第 4 行同名" in page
    start_import(client, job.id, owner="me")
    job = latest_job(app)
    assert (job.imported, job.skipped, job.rejected) == (3, 2, 0), _reasons(app, job.id)
    reasons = _reasons(app, job.id)
    assert "华联超市" in reasons[3][1] and "与文件第 4 行重复" in reasons[5][1]
    with app.app_context():
        provinces = sorted(db.session.scalars(select(Customer.province).where(Customer.name == "华联超市")),
                           key=str)
    assert provinces == [None, "河北省"]

    # 仍然导入: the policy only warns, so the repeats go in too, in-file ones included
    _import(app, client, _sheet(["客户名称", "电话"], ["新华文具", "13900000045"], ["新华文具", "13900000045"],
                                ["华联超市", "0571-88880001"]), on_duplicate="import")
    job = latest_job(app)
    assert (job.imported, job.skipped, job.rejected) == (3, 0, 0), _reasons(app, job.id)


@pytest.mark.both_dbs
def test_name_alone_is_a_duplicate_when_the_policy_forbids_duplicate_names(app, client, make_user, make_customer):
    from rules import settings

    uid = make_user("chenxm")
    make_customer("华联超市", uid, phone="0571-88880001")
    with app.app_context():
        settings.put(db.session, "entry_policy", {"duplicates": {"name": "forbid"}})
        db.session.commit()
    client.login("chenxm")
    _import(app, client, _sheet(["客户名称", "手机"], ["华联超市", "13900000051"], ["新华书店", "13900000052"],
                                ["新华书店", "13900000053"]), on_duplicate="import")
    job = latest_job(app)
    assert (job.imported, job.skipped, job.rejected) == (1, 0, 2), _reasons(app, job.id)
    reasons = _reasons(app, job.id)
    assert "不允许重复录入" in reasons[2][1] and "与文件第 3 行重复（录入策略不允许重复）" in reasons[4][1]


@pytest.mark.both_dbs
def test_a_collision_outside_the_importers_scope_is_reported_without_naming_the_customer(
        app, client, make_user, make_customer):
    rep = make_user("chenxm")
    other = make_user("sunwei", department=("销售部", "销售二部"))
    make_customer("孙伟的秘密客户", other, phone="0571-88880009")
    make_customer("陈晓明的客户", rep, phone="0571-88880008")
    client.login("chenxm")
    upload_sheet(client, _sheet(["客户名称", "电话"], ["随便一家", "0571-88880009"], ["另一家", "0571-88880008"]),
                 name="b.xlsx", entity="customer")
    job = latest_job(app)
    page = client.get(f"/admin/excel/{job.id}/mapping/").get_data(as_text=True)
    assert "孙伟的秘密客户" not in page and "权限范围外的客户" in page
    assert "「陈晓明的客户」" in page
    start_import(client, job.id, owner="me")
    reasons = _reasons(app, latest_job(app).id)
    assert "孙伟的秘密客户" not in reasons[2][1] and "权限范围外的客户" in reasons[2][1]
    assert "陈晓明的客户" in reasons[3][1]


def test_days_in_every_format_a_sheet_holds():
    from rules.importing import parse_date

    for typed in (45047, 45047.0, 45047.75, "45047", "2023年5月1日", "２０２３年５月１日", "2023/5/1", "2023.5.1",
                  "20230501", "2023-05-01", "2023-05-01 14:30", datetime(2023, 5, 1, 9), date(2023, 5, 1)):
        assert parse_date(typed) == date(2023, 5, 1), typed
