"""客户服务 as the desk works it (issue 22): a customer calls; the 客服主管 types the number into the
客服控制台, finds the customer and the caller, opens 新建工单 prefilled, saves the ticket and hands
it to an agent; the agent finds it on the workbench, replies to the customer and marks it 已解决.
Every page under the nonce-only CSP; screenshots along the way. (The coordinator extends it with
the knowledge-base reply and the satisfaction visit after the merge.)"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import log_in, screenshot
from models import Contact, Customer, db
from models.service import Ticket
from rules import customers

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("KECHI_JOURNEY_SHOTS", "/work/shots/tickets"))


def shot(page, name: str) -> None:
    path = screenshot(page, f"service-{name}")
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


def test_a_call_becomes_a_ticket_that_is_assigned_answered_and_resolved(app, page, make_user, make_customer):
    from playwright.sync_api import expect

    make_user("zhenghai", role="客服主管", department=("客服部",), display_name="郑海")
    agent = make_user("wujing", role="客服", department=("客服部",), display_name="吴静")
    rep = make_user("chenxm", display_name="陈晓明")
    customer_id = make_customer("青禾茶业有限公司", rep)
    with app.app_context():
        db.session.add(Contact(customer_id=customer_id, name="林晓", mobile="13655551234"))
        customers.reindex(db.session, db.session.get(Customer, customer_id))
        db.session.commit()

    log_in(page, "zhenghai")
    page.goto(page.base + "/admin/service_console/")
    page.fill("#kechi-console-q", "136 5555 1234")
    page.click("#kechi-console-find")
    card = page.locator("[data-testid=console-card]")
    expect(card).to_contain_text("青禾茶业有限公司")
    expect(card).to_contain_text("来电联系人：林晓")
    shot(page, "1-console")
    page.click("#kechi-console-new-ticket")
    expect(page.locator("#s2id_customer, .select2-container").first).to_contain_text("青禾茶业有限公司")
    page.fill("#subject", "紫砂壶壶盖有裂纹")
    page.fill("#description", "收到第二次使用就发现壶盖边缘有细裂纹")
    page.select_option("#priority", label="高")
    page.click("input[type=submit][value='保存'], button[type=submit]:has-text('保存')")
    expect(page.locator("[data-testid=ticket-status]")).to_have_text("新建")
    expect(page.locator(".kechi-ticket-fields")).to_contain_text("林晓")
    page.select_option("#kechi-ticket-assignee", label="吴静")
    page.click("#kechi-ticket-assign")
    expect(page.locator(".alert-success")).to_contain_text("工单已分派给 吴静")
    expect(page.locator("[data-testid=ticket-assignee]")).to_have_text("吴静")
    shot(page, "2-assigned")

    log_in(page, "wujing")
    widget = page.locator("[data-widget=my_tickets]")
    expect(widget).to_contain_text("正常 · 1 张")
    widget.get_by_text("正常 · 1 张").click()
    page.locator("table.model-list tr", has_text="紫砂壶壶盖有裂纹").get_by_role("link", name="GD202611230001").click()
    page.fill("#ticket-reply-body", "您好，已为您安排更换壶盖，明天顺丰寄出。")
    page.click("#kechi-ticket-send-reply")
    expect(page.locator(".alert-success")).to_contain_text("已回复客户")
    expect(page.locator("[data-testid=ticket-timeline]")).to_contain_text("明天顺丰寄出")
    page.locator("[data-testid=ticket-move][data-status=已解决]").click()
    expect(page.locator(".alert-success")).to_contain_text("工单状态已改为“已解决”")
    expect(page.locator("[data-testid=ticket-status]")).to_have_text("已解决")
    expect(page.locator("[data-testid=ticket-sla]")).to_contain_text("已达成")
    shot(page, "3-resolved")
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert ticket.assignee_id == agent and ticket.first_responded_at is not None
        assert ticket.resolved_at is not None and ticket.status_category == "resolved"
