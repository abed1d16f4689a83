"""A salesperson picks three customers in the list, sends them an SMS from a template, checks
the confirmation counts, and finds the messages in the outbox and on each customer's timeline."""
from __future__ import annotations

import pytest

from conftest import log_in, screenshot
from models import Customer, db
from models.messaging import MessageTemplate

pytestmark = pytest.mark.browser


def test_select_three_customers_and_send_an_sms_from_a_template(app, page, make_user, make_customer):
    from playwright.sync_api import expect

    uid = make_user("chenxm", display_name="陈晓明")
    names = ["杭州西湖茶业有限公司", "宁波港口物流有限公司", "温州鞋业有限公司", "不选的公司"]
    ids = [make_customer(name, uid) for name in names]
    with app.app_context():
        for i, cid in enumerate(ids):
            db.session.get(Customer, cid).mobile = f"1390571000{i}"
        db.session.add(MessageTemplate(channel="sms", name="新品通知",
                                       body="{客户名称}您好，春茶新品已到货，欢迎来电。{业务员}"))
        db.session.commit()

    log_in(page, "chenxm")

    page.goto(page.base + "/admin/customer/")
    for cid in ids[:3]:
        page.check(f"input.action-checkbox[value='{cid}']")
    chosen = page.eval_on_selector_all("input.action-checkbox:checked", "boxes => boxes.map(b => b.value)")
    assert sorted(map(int, chosen)) == sorted(ids[:3])
    # The list's "发短信" action (added by the lead in customers.py) opens this page with the selection.
    page.goto(page.base + "/admin/message_send/?ids=" + ",".join(chosen))
    expect(page.locator(".kechi-send-form")).to_contain_text("3 位客户")
    page.select_option("#template_id", label="短信 · 新品通知")
    expect(page.locator("#body")).to_have_value("{客户名称}您好，春茶新品已到货，欢迎来电。{业务员}")
    expect(page.get_by_test_id("sms-counter")).to_contain_text("计 1 条短信")
    screenshot(page, "40-sms-send-form")
    page.click("text=下一步：确认收件人")

    expect(page.get_by_test_id("recipient-count")).to_have_text("3")
    expect(page.get_by_test_id("segment-count")).to_have_text("3")
    expect(page.get_by_test_id("skipped-count")).to_have_text("0")
    expect(page.locator(".kechi-sample").first).to_contain_text("杭州西湖茶业有限公司您好，春茶新品已到货")
    screenshot(page, "41-sms-confirm")
    page.click("text=确认发送")

    expect(page.locator(".alert-success")).to_contain_text("已提交发送 3 条消息")
    expect(page.locator("[data-count=sent]")).to_have_text("3")
    screenshot(page, "42-sms-batch-progress")

    page.goto(page.base + "/admin/outbox/")
    rows = page.locator("table.model-list tbody tr")
    expect(rows).to_have_count(3)
    for name in names[:3]:
        expect(page.locator("table.model-list")).to_contain_text(name)
    expect(page.locator("table.model-list")).not_to_contain_text(names[3])
    screenshot(page, "43-sms-outbox")

    for cid, name in zip(ids[:3], names[:3]):
        page.goto(page.base + f"/admin/customer/details/?id={cid}")
        page.click("a[href='#tab-timeline']")
        expect(page.locator("#tab-timeline .kechi-timeline-item").first).to_contain_text(
            f"{name}您好，春茶新品已到货，欢迎来电。陈晓明")
    screenshot(page, "44-sms-on-timeline")
    assert [url for url in page.requested if not url.startswith(page.base)] == []
