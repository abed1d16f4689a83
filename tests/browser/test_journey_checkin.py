"""外勤签到 on a phone (390×844, touch): with the position allowed, 签到 records the check-in and its
拜访 follow-up with the phone's coordinates and accuracy; with it refused, the page says how to
allow it and saves the visit without a check-in, keeping the note."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from conftest import log_in, screenshot
from models import Customer, FollowUp, FollowUpKind, db
from models.checkin import CheckIn

pytestmark = pytest.mark.browser


def test_check_in_with_and_without_the_position(app, phone_page, make_user, make_customer):
    from playwright.sync_api import expect

    rep = make_user("rep", display_name="王小明")
    customer_id = make_customer("华为技术有限公司", rep)
    with app.app_context():
        db.session.get(Customer, customer_id).address = "上海市黄浦区南京东路100号"
        db.session.commit()
    page = phone_page
    log_in(page, "rep")
    page.goto(page.base + f"/m/customers/{customer_id}/check-in")
    expect(page.locator("[data-testid=checkin-address]")).to_have_text("上海市黄浦区南京东路100号")
    page.fill("#checkin-note", "谈了续约")
    screenshot(page, "m-checkin-form")
    page.tap("[data-checkin-go]")
    expect(page.locator(".m-flash-success")).to_contain_text("签到成功：华为技术有限公司（±35 米）")
    with app.app_context():
        [made] = db.session.scalars(select(CheckIn)).all()
        assert (made.latitude, made.longitude, made.accuracy) == (Decimal("31.230400"), Decimal("121.473700"), 35)
        visit = db.session.get(FollowUp, made.follow_up_id)
        assert visit.kind == FollowUpKind.VISIT and "（±35 米）：谈了续约" in visit.content
    # Back on the customer's 360 page; the day's check-ins list it with its coordinates.
    page.goto(page.base + "/m/checkins/")
    expect(page.locator("[data-testid=checkins-mine]")).to_contain_text("31.230400, 121.473700")
    screenshot(page, "m-checkins-today")

    page.context.clear_permissions()
    page.goto(page.base + f"/m/customers/{customer_id}/check-in")
    expect(page.locator("[data-checkin-fallback]")).to_be_hidden()
    page.fill("#checkin-note", "门卫不让进，留了资料")
    page.tap("[data-checkin-go]")
    expect(page.locator("[data-checkin-status]")).to_have_text("无法获取位置：请在手机设置中允许浏览器定位后重试")
    expect(page.locator("#checkin-note")).to_have_value("门卫不让进，留了资料")
    screenshot(page, "m-checkin-refused")
    page.tap("text=仅保存拜访记录")
    expect(page.locator(".m-flash-success")).to_contain_text("拜访记录已保存（未签到）")
    with app.app_context():
        assert len(db.session.scalars(select(CheckIn)).all()) == 1
        last = db.session.scalars(select(FollowUp).order_by(FollowUp.id.desc())).first()
        assert last.kind == FollowUpKind.VISIT and "门卫不让进，留了资料" in last.content
