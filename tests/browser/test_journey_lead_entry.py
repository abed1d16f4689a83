"""A visitor leaves their details on a 留资表单 (CAPTCHA image and all, under the nonce-only
Content-Security-Policy); the lead waits in the lead pool. A salesperson converts a lead of theirs
on the 转化 page, with a first opportunity, and lands on the new customer's page."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, log_in, screenshot
from models import Customer, DictItem, LoginCaptcha, Pool, User, db
from models.lead import Lead, LeadStatus
from models.lead_form import LeadForm
from models.opportunity import Stage, StageGroup

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("KECHI_SHOTS", "")) if os.environ.get("KECHI_SHOTS") else None


def shot(page, name: str) -> None:
    path = screenshot(page, name)
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / path.name).write_bytes(path.read_bytes())


def test_a_visitor_leaves_details_on_the_web_form(app, page):
    with app.app_context():
        pool = Pool(name="官网线索池", kind="lead")
        source = DictItem(kind="source", name="官网表单")
        db.session.add_all([pool, source])
        db.session.flush()
        db.session.add(LeadForm(name="官网咨询", key="demo-form-key-0123456789abcdef", pool_id=pool.id,
                                source_id=source.id, title="预约免费演示", intro="留下联系方式，顾问一个工作日内与您联系。",
                                fields={"company": "shown", "mobile": "required", "email": "shown", "notes": "shown"},
                                max_posts_per_ip=5))
        db.session.commit()
        pool_id = pool.id
    page.goto(page.base + "/f/demo-form-key-0123456789abcdef")
    page.fill("#f-name", "周先生")
    page.fill("#f-company", "青禾教育科技")
    page.fill("#f-mobile", "13655556666")
    page.fill("#f-notes", "想了解 50 人团队的报价")
    page.fill("#f-captcha", "WRONG")
    page.click("button[type=submit]")
    assert page.locator("text=验证码错误，请重新输入").is_visible()
    assert page.input_value("#f-company") == "青禾教育科技"  # what was typed stays
    shot(page, "lead_web_form_wrong_captcha")
    with app.app_context():
        answer = db.session.scalar(select(LoginCaptcha.answer))
    page.fill("#f-captcha", answer)
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks")
    assert page.locator("[data-testid=form-thanks]").is_visible()
    shot(page, "lead_web_form_thanks")
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert (lead.name, lead.pool_id, lead.owner_id) == ("周先生", pool_id, None)


def test_a_salesperson_converts_a_lead_with_a_first_opportunity(app, page, make_user):
    rep = make_user("rep", display_name="陈晓明")
    with app.app_context():
        user = db.session.get(User, rep)
        group = StageGroup(name="标准流程", sort_order=1)
        db.session.add(group)
        db.session.flush()
        db.session.add(Stage(group_id=group.id, name="初步接洽", sort_order=1, probability=10, required_fields=[]))
        lead = Lead(name="周先生", company="青禾教育科技有限公司", contact_name="周明", position="校长",
                    mobile="13655556666", owner_id=rep, department_id=user.department_id, status=LeadStatus.FOLLOWING,
                    custom={}, created_at=FIXED_NOW, updated_at=FIXED_NOW)
        db.session.add(lead)
        db.session.commit()
        lead_id = lead.id
    log_in(page, "rep")
    page.goto(page.base + f"/admin/lead-conversion/{lead_id}/")
    assert page.input_value("#name") == "青禾教育科技有限公司"
    page.check("#with_opportunity")
    page.fill("#opportunity_amount", "36000")
    page.fill("#opportunity_close", "2026-12-31")
    shot(page, "lead_conversion_form")
    page.click("text=确定转化")
    page.wait_for_url("**/admin/customer/details/**")
    assert page.locator("text=线索已转化为客户“青禾教育科技有限公司”").is_visible()
    shot(page, "lead_conversion_done")
    with app.app_context():
        assert db.session.scalar(select(Customer.name)) == "青禾教育科技有限公司"
