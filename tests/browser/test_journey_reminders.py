"""THE reminder journey: a salesperson leaves her workbench open; the 总经理, in his own browser,
publishes a company-wide announcement through the app; without any reload her page pops the
reminder up in the lower right (title, 查看, ×) and the bell counts it; 查看 opens the
announcement and marks it read; a reload pops nothing again. Her 提醒设置 and the 提醒中心
are looked at too. The poll interval is shortened by its config value; the clock stays pinned."""
from __future__ import annotations

import pytest

from conftest import FIXED_NOW, log_in, screenshot
from models import NotificationKind, User, db
from rules import notifications

pytestmark = pytest.mark.browser


def test_a_reminder_pops_up_on_a_page_left_open(app, page, make_user):
    from playwright.sync_api import expect

    app.config["NOTIFY_POLL_SECONDS"] = 1
    rep = make_user("rep", display_name="陈晓明")
    make_user("boss", role="总经理", department=("总经办",), display_name="张总")
    with app.app_context():  # an old reminder: under the bell, but it must not pop up when the page opens
        notifications.notify(db.session, user_id=rep, title="昨天的提醒：回访华星贸易", now=FIXED_NOW,
                             kind=NotificationKind.FOLLOW_UP_DUE)
        db.session.commit()

    log_in(page, "rep")
    expect(page.locator("[data-testid=bell-count]")).to_have_text("1")
    page.wait_for_timeout(2500)  # a couple of polls: nothing new
    expect(page.locator("[data-testid=toast]")).to_have_count(0)

    # The 总经理 publishes an announcement from his own browser.
    boss_context = page.context.browser.new_context(viewport={"width": 1366, "height": 860}, locale="zh-CN")
    boss = boss_context.new_page()
    boss.base = page.base
    log_in(boss, "boss")
    boss.goto(page.base + "/admin/announcement_manage/new/")
    boss.fill("#title", "年终盘点安排")
    boss.fill("#body", "本周五下午全员盘点库存。")
    boss.check("#publish_now")
    boss.click("form.admin-form [type=submit]")
    expect(boss.locator(".alert-success").first).to_contain_text("已发布")
    boss_context.close()

    # Her page, left as it was, pops the reminder up and counts it.
    toast = page.locator("[data-testid=toast]")
    expect(toast).to_have_count(1, timeout=10_000)
    expect(toast).to_contain_text("新公告：年终盘点安排")
    expect(toast.get_by_role("link", name="查看")).to_be_visible()
    expect(page.locator("[data-testid=bell-count]")).to_have_text("2")
    screenshot(page, "reminder-toast")
    toast.get_by_role("link", name="查看").click()
    expect(page.locator("body")).to_contain_text("本周五下午全员盘点库存")
    expect(page.locator("[data-testid=bell-count]")).to_have_text("1")  # opened: read

    page.reload()
    page.wait_for_timeout(2500)
    expect(page.locator("[data-testid=toast]")).to_have_count(0)  # a reload does not pop it again

    # Two more arrive while she reads: they stack; × closes one.
    with app.app_context():
        for title in ("张总指派给您：报价单复核", "审批已通过：华星贸易 年度服务合同"):
            notifications.notify(db.session, user_id=rep, title=title, now=FIXED_NOW, kind=NotificationKind.TASK)
        db.session.commit()
    expect(page.locator("[data-testid=toast]")).to_have_count(2, timeout=10_000)
    page.locator("[data-testid=toast]").first.locator("button.close").click()
    expect(page.locator("[data-testid=toast]")).to_have_count(1)

    page.goto(page.base + "/admin/notification/")
    expect(page.locator("[data-testid=notice-tabs]")).to_contain_text("全部标为已读")
    screenshot(page, "reminder-centre")
    page.goto(page.base + "/admin/notification_settings/")
    page.fill("#quiet_start", "25:00")
    page.fill("#quiet_end", "07:00")
    page.click("form[data-testid=notification-settings] button[type=submit]")
    expect(page.locator(".alert-danger")).to_contain_text("格式不对")
    expect(page.locator("#quiet_start")).to_have_value("25:00")
    screenshot(page, "reminder-settings-refused")
    with app.app_context():
        assert db.session.get(User, rep).display_name == "陈晓明"
