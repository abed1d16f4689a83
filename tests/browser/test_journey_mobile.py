"""手机版 as a field salesperson and his manager use it, on a phone (390×844, touch): 陈晓明 finds
his customer by its pinyin initials, the call button dials the mobile, he writes the visit with a
photo from the camera and the phone's position, checks in at the customer; 李主管 opens 审批 on
his phone and approves 陈晓明's leave. Each page is looked at in a screenshot."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from approval_fake import actor
from conftest import FIXED_NOW, log_in, screenshot
from models import Attachment, CheckIn, Customer, DictItem, FollowUp, OfficeRequest, User, db
from rules import customers as customer_rules
from rules import normalize, office_requests
from rules.office_requests import RequestInput, RequestKind

pytestmark = pytest.mark.browser
TZ = "Asia/Shanghai"


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 110, 235)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def field(app, make_user):
    lead = make_user("lead", role="主管", display_name="李主管")
    rep = make_user("rep", superior="lead", display_name="陈晓明")
    with app.app_context():
        customer = Customer(name="华为技术有限公司", mnemonic=normalize.mnemonic("华为技术有限公司"), owner_id=rep,
                            mobile="13800138000", province="上海市", city="上海市", district="黄浦区",
                            address="南京东路100号",
                            department_id=db.session.get(User, rep).department_id)
        db.session.add(customer)
        db.session.flush()
        customer_rules.reindex(db.session, customer)
        annual = db.session.scalar(select(DictItem.id).where(DictItem.kind == "leave_type", DictItem.name == "年假"))
        leave = office_requests.create(db.session, RequestKind.LEAVE.value,
                                       RequestInput(leave_type_id=str(annual), start_day="2026-11-26",
                                                    end_day="2026-11-26", content="孩子家长会"),
                                       actor=actor(db.session, "rep"), now=FIXED_NOW, tz=TZ)
        office_requests.submit(db.session, leave.id, actor=actor(db.session, "rep"), now=FIXED_NOW)
        db.session.commit()
        return {"customer": customer.id, "lead": lead, "rep": rep}


def test_find_call_write_check_in_and_approve_on_a_phone(app, phone_page, field):
    from playwright.sync_api import expect

    page = phone_page
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, "rep")
    page.wait_for_url("**/admin/**")
    page.goto(page.base + "/m/")
    screenshot(page, "m-01-today")
    page.get_by_role("link", name="客户", exact=True).tap()
    page.fill("input[name=q]", "hwjs")  # 华为技术: pinyin initials
    page.press("input[name=q]", "Enter")
    expect(page.get_by_test_id("m-customer-list")).to_contain_text("华为技术有限公司")
    screenshot(page, "m-02-search")
    page.get_by_test_id("m-customer-list").get_by_text("华为技术有限公司").tap()
    expect(page.get_by_test_id("m-customer-head")).to_contain_text("华为技术有限公司")
    expect(page.get_by_test_id("m-mobile")).to_contain_text("138 0013 8000 北京 中国移动")  # 手机归属地
    expect(page.get_by_test_id("m-call")).to_have_attribute("href", "tel:13800138000")
    expect(page.get_by_test_id("m-sms")).to_have_attribute("href", "sms:13800138000")
    assert page.get_by_test_id("m-navigate").get_attribute("href").startswith("geo:0,0?q=")
    # Nothing on the page is wider than the phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(page, "m-03-customer-360")

    page.get_by_role("link", name="写跟进", exact=True).tap()
    expect(page.get_by_test_id("geo-note")).to_contain_text("已获取位置（±35 米）")
    page.fill("#content", "现场演示了新系统，客户下周安排采购会")
    page.set_input_files("#photo", files=[{"name": "scene.jpg", "mimeType": "image/jpeg", "buffer": _photo()}])
    screenshot(page, "m-04-follow-up")
    page.get_by_test_id("followup-save").tap()
    expect(page.get_by_test_id("m-follow-ups")).to_contain_text("现场演示了新系统")
    with app.app_context():
        written = db.session.scalar(select(FollowUp).where(FollowUp.content.like("现场演示%")))
        assert (written.latitude, written.longitude, written.location_accuracy) == (
            Decimal("31.230400"), Decimal("121.473700"), 35)
        assert db.session.scalar(select(Attachment).where(Attachment.entity == "follow_up",
                                                          Attachment.record_id == written.id)) is not None

    page.get_by_role("link", name="签到", exact=True).tap()
    page.fill("#checkin-note", "见了采购部王经理")
    page.tap("[data-checkin-go]")
    expect(page.locator(".m-flash-success")).to_contain_text("签到成功：华为技术有限公司（±35 米）")
    with app.app_context():
        [made] = db.session.scalars(select(CheckIn)).all()
        assert made.customer_id == field["customer"] and made.accuracy == 35
    screenshot(page, "m-05-checked-in")

    log_in(page, "lead")
    page.goto(page.base + "/m/")
    expect(page.get_by_test_id("m-approvals")).to_contain_text("1")
    page.get_by_role("link", name="审批", exact=True).tap()
    expect(page.get_by_test_id("approval-list")).to_contain_text("陈晓明")
    screenshot(page, "m-06-approvals")
    page.get_by_test_id("approval-list").locator("a").first.tap()
    page.fill("#comment", "同意")
    page.get_by_test_id("approve").tap()
    expect(page.locator(".m-flash").first).to_contain_text("已同意")
    expect(page.get_by_test_id("approval-count")).to_have_text("待我审批 0 项")
    with app.app_context():
        assert db.session.scalar(select(OfficeRequest.status)) == "approved"
    screenshot(page, "m-07-approved")
    # The manager sees the day's check-ins of his team.
    page.goto(page.base + "/m/checkins/")
    expect(page.get_by_test_id("checkins-team")).to_contain_text("华为技术有限公司")
    screenshot(page, "m-08-team-check-ins")
