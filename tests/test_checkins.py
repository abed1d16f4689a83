"""外勤签到 (issue 23): a check-in at a customer is a 拜访 follow-up with the position and its accuracy;
refusals say what is wrong and keep what was typed; without a position the visit can still be
saved; a manager sees the team's check-ins of a day, on the phone and in the panel, and nobody
sees another department's."""
from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.test import EnvironBuilder

import attachment_files as sample
from conftest import FIXED_NOW
from models import Customer, FollowUp, FollowUpKind, User, db
from models.attachment import Attachment
from models.checkin import CheckIn
from rules import settings

MB = 1024 * 1024
SHANGHAI = {"latitude": "31.2304", "longitude": "121.4737", "accuracy": "35"}


@pytest.fixture
def staff(app, make_user, make_customer, tmp_path):
    app.config["FILES_DIR"] = str(tmp_path / "files")
    ids = {"mgr": make_user("mgr", role="经理", department=("销售部",), display_name="张经理"),
           "rep": make_user("rep", display_name="王小明"),
           "other": make_user("other", department=("市场部",), display_name="外部门")}
    ids["cust"] = make_customer("华为技术有限公司", ids["rep"])
    ids["far"] = make_customer("市场部的客户", ids["other"])
    with app.app_context():
        customer = db.session.get(Customer, ids["cust"])
        customer.province, customer.city, customer.district = "上海市", "上海市", "黄浦区"
        customer.address = "南京东路100号"
        db.session.commit()
    return ids


def check_in(client, customer_id: int, follow: bool = True, photo: bytes | None = None, **form):
    url = f"/m/customers/{customer_id}/check-in"
    data = dict(form, csrf_token=client.token("/admin/"))
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "现场.png")
    # The body built here (a temporary file past 500 KB) is closed by the test, not left to the GC.
    environ = EnvironBuilder(url, method="POST", data=data, content_type="multipart/form-data").get_environ()
    try:
        return client.open(environ, follow_redirects=follow)
    finally:
        environ["wsgi.input"].close()


def saved(app) -> tuple[list[CheckIn], list[FollowUp]]:
    with app.app_context():
        return (list(db.session.scalars(select(CheckIn))),
                list(db.session.scalars(select(FollowUp).order_by(FollowUp.id))))


@pytest.mark.both_dbs
def test_a_check_in_is_a_visit_with_its_position_and_accuracy(app, client, staff):
    client.login("rep")
    page = client.get(f"/m/customers/{staff['cust']}/check-in").get_data(as_text=True)
    assert "华为技术有限公司" in page and "上海市黄浦区南京东路100号" in page
    assert 'capture="environment"' in page and "kechi-mobile-checkin.js" in page
    done = check_in(client, staff["cust"], note="谈了续约", **SHANGHAI)
    assert "签到成功：华为技术有限公司（±35 米）" in done.get_data(as_text=True)
    [made], [visit] = saved(app)
    assert (made.latitude, made.longitude, made.accuracy) == (Decimal("31.230400"), Decimal("121.473700"), 35)
    assert made.address == "上海市黄浦区南京东路100号" and made.note == "谈了续约" and made.follow_up_id == visit.id
    assert visit.kind == FollowUpKind.VISIT and visit.content == "外勤签到：上海市黄浦区南京东路100号（±35 米）：谈了续约"
    with app.app_context():
        assert db.session.get(Customer, staff["cust"]).last_follow_up_at is not None  # the recycle clock restarts
    # The admin's follow-up page shows where the visit was written.
    shown = client.get(f"/admin/follow_up/details/?id={visit.id}").get_data(as_text=True)
    assert "31.230400, 121.473700 (±35 米)" in shown


def test_refusals_say_why_and_keep_the_note(app, client, staff):
    client.login("rep")
    missing = check_in(client, staff["cust"], note="门卫不让进", latitude="", longitude="", accuracy="")
    html = missing.get_data(as_text=True)
    assert "没有获取到位置，无法签到" in html and "门卫不让进" in html
    assert "无法获取位置：请在手机设置中允许浏览器定位后重试" in html
    assert "data-checkin-fallback hidden" not in html and "仅保存拜访记录" in html  # the fallback is offered
    far = check_in(client, staff["cust"], note="坐标乱了", latitude="95", longitude="121.47", accuracy="10")
    assert "坐标超出范围" in far.get_data(as_text=True) and "坐标乱了" in far.get_data(as_text=True)
    assert saved(app) == ([], [])
    assert check_in(client, staff["far"], follow=False, **SHANGHAI).status_code == 404


def test_without_a_position_the_visit_is_saved_as_a_follow_up_only(app, client, staff):
    client.login("rep")
    check_in(client, staff["cust"], note="客户在开会，留了资料", action="visit_only", latitude="", longitude="")
    check_ins, [visit] = saved(app)
    assert check_ins == []
    assert visit.kind == FollowUpKind.VISIT and "客户在开会，留了资料" in visit.content


def test_the_photo_goes_on_the_follow_up_and_a_photo_over_the_limit_keeps_the_note(app, client, staff):
    with app.app_context():
        settings.put(db.session, "attachment_max_mb", 1)
        db.session.commit()
    client.login("rep")
    big = sample.png() + b"\0" * (MB + 1)
    refused = check_in(client, staff["cust"], note="带了样品", photo=big, **SHANGHAI).get_data(as_text=True)
    assert "超过单个文件上限 1 MB" in refused and "带了样品" in refused
    assert saved(app) == ([], [])
    check_in(client, staff["cust"], note="带了样品", photo=sample.png(), **SHANGHAI)
    [made], [visit] = saved(app)
    with app.app_context():
        [photo] = db.session.scalars(select(Attachment)).all()
        assert (photo.entity, photo.record_id) == ("follow_up", visit.id)


def test_a_poor_accuracy_is_marked_everywhere(app, client, staff, new_client):
    client.login("rep")
    check_in(client, staff["cust"], latitude="31.23", longitude="121.47", accuracy="850.4")
    _, [visit] = saved(app)
    assert "±850 米，定位精度低" in visit.content
    mgr = new_client()
    mgr.login("mgr")
    assert "±850 米，定位精度低" in mgr.get("/admin/checkin/").get_data(as_text=True)
    assert "±850 米，定位精度低" in mgr.get("/m/checkins/").get_data(as_text=True)


@pytest.mark.both_dbs
def test_who_sees_a_check_in_the_panel_and_the_phone_agree(app, client, staff, new_client):
    client.login("rep")
    check_in(client, staff["cust"], note="标记-123", **SHANGHAI)
    # own, a subordinate's as manager, another department's
    for viewer, sees in (("rep", True), ("mgr", True), ("other", False)):
        browser = new_client()
        browser.login(viewer)
        admin = browser.get("/admin/checkin/").get_data(as_text=True)
        phone = browser.get("/m/checkins/").get_data(as_text=True)
        assert ("标记-123" in admin, "标记-123" in phone) == (sees, sees), viewer
        form = browser.get(f"/m/customers/{staff['cust']}/check-in")
        assert form.status_code == (200 if sees else 404), viewer
    mgr = new_client()
    mgr.login("mgr")
    assert "团队签到" in mgr.get("/m/checkins/").get_data(as_text=True)


def test_the_admin_list_shows_today_by_default_and_filters_by_day_salesperson_and_department(
        app, client, staff, clock, new_client):
    rep = new_client()
    rep.login("rep")
    check_in(rep, staff["cust"], note="今天的拜访", **SHANGHAI)
    client.login("mgr")
    today = client.get("/admin/checkin/").get_data(as_text=True)
    assert "今天的拜访" in today and "31.230400, 121.473700" in today and "±35 米" in today
    assert "上海市黄浦区南京东路100号" in today and "/admin/follow_up/details/" in today
    yesterday = (clock.now - timedelta(days=1)).date().isoformat()
    assert "今天的拜访" not in client.get(f"/admin/checkin/?day={yesterday}").get_data(as_text=True)
    assert "今天的拜访" not in client.get(f"/admin/checkin/?user_id={staff['mgr']}").get_data(as_text=True)
    with app.app_context():
        from models import Department
        market = db.session.scalar(select(Department.id).where(Department.name == "市场部"))
        sales = db.session.scalar(select(Department.id).where(Department.name == "销售部"))
    assert "今天的拜访" not in client.get(f"/admin/checkin/?department_id={market}").get_data(as_text=True)
    assert "今天的拜访" in client.get(f"/admin/checkin/?department_id={sales}").get_data(as_text=True)
    assert client.get("/admin/checkin/?day=2026-13-40").status_code == 400


def test_the_day_exports_to_excel_as_the_page_lists_it(app, client, staff, new_client):
    from conftest import sheet_rows

    rep = new_client()
    rep.login("rep")
    check_in(rep, staff["cust"], note="导出我", **SHANGHAI)
    client.login("mgr")
    assert "导出Excel" in client.get("/admin/checkin/").get_data(as_text=True)
    header, *rows = sheet_rows(client.get(f"/admin/checkin/export?user_id={staff['rep']}"))
    assert header[:6] == ("时间", "业务员", "客户", "纬度", "经度", "精度（米）")
    assert [row[1:7] for row in rows] == [("王小明", "华为技术有限公司", 31.2304, 121.4737, 35, None)]
    assert rows[0][-1] == "导出我"
    assert sheet_rows(client.get("/admin/checkin/export?department_id=999999")) == [header]


def test_a_check_in_follows_its_customer_through_a_merge_and_goes_with_it_when_purged(app, client, staff,
                                                                                      make_customer):
    from rules import customers as customer_rules
    from rules.actor import Actor

    twin = make_customer("华为技术（上海）有限公司", staff["rep"])
    brief = make_customer("临时客户", staff["rep"])
    client.login("rep")
    # An accuracy no phone reports is kept as unknown, not a crash that loses the note.
    done = check_in(client, staff["cust"], note="谈了续约", latitude="31.2304", longitude="121.4737", accuracy="1e30")
    assert "签到成功" in done.get_data(as_text=True)
    [made], _ = saved(app)
    assert made.accuracy is None and made.note == "谈了续约"
    check_in(client, brief, **SHANGHAI)
    with app.app_context():
        rep = Actor.from_user(db.session.get(User, staff["rep"]), has_shares=False)
        customer_rules.merge(db.session, db.session.get(Customer, twin), [db.session.get(Customer, staff["cust"])],
                             actor=rep, now=FIXED_NOW)
        db.session.commit()
        assert db.session.get(CheckIn, made.id).customer_id == twin  # the day's lists still show the visit
        binned = db.session.get(Customer, brief)
        binned.deleted_at = FIXED_NOW
        customer_rules.purge(db.session, binned)  # 彻底删除 from the bin: its check-in goes too
        db.session.commit()
        assert [c.id for c in db.session.scalars(select(CheckIn))] == [made.id]
