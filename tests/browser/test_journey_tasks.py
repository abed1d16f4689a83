"""待办: a 主管 hands a task to a salesperson through the form; the salesperson finds it on the
workbench, gives feedback and completes it from 我的待办 with the batch menu (asked to confirm);
the 主管 sees it done, with the feedback, on the task page."""
from __future__ import annotations

import pytest

from conftest import log_in, screenshot
from sqlalchemy import select

from models import Notification, Task, db

pytestmark = pytest.mark.browser


def test_assign_then_complete_a_task(app, page, make_user):
    from playwright.sync_api import expect

    boss = make_user("lizg", role="主管", display_name="李强")
    make_user("chenxm", superior="lizg", display_name="陈晓明")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))

    log_in(page, "lizg")
    page.goto(page.base + "/admin/task/new/")
    page.fill("#title", "给华为发送新版报价单")
    page.select_option("#assignee_id", label="陈晓明")
    page.fill("#due_date", "2026-11-24")
    page.select_option("#priority", label="高")
    page.click("input[type=submit][value='保存'], button[type=submit]:has-text('保存')")
    expect(page.locator(".kechi-task-state")).to_have_text("待办")
    expect(page.locator(".kechi-task-fields")).to_contain_text("2026-11-24 23:59")

    log_in(page, "chenxm")
    widget = page.locator("[data-widget=my_tasks]")
    expect(widget).to_contain_text("给华为发送新版报价单")
    widget.get_by_text("给华为发送新版报价单").click()
    page.fill("#kechi-task-note", "客户要求加上安装费")
    page.click("#kechi-task-send-feedback")
    expect(page.locator(".alert-success")).to_contain_text("反馈已记录")

    page.goto(page.base + "/admin/task/")
    page.locator("table.model-list tr", has_text="给华为发送新版报价单").locator("input.action-checkbox").check()
    page.fill("#kechi-task-feedback", "已发送，含安装费")
    page.click("text=选中的")
    page.locator(".dropdown-menu.show a.dropdown-item", has_text="完成").click()
    expect(page.locator(".alert-success")).to_contain_text("已完成 1 项待办")
    assert dialogs and "已完成" in dialogs[0]
    screenshot(page, "60-tasks-batch-completed")

    log_in(page, "lizg")
    with app.app_context():
        task_id = db.session.query(Task.id).scalar()
    page.goto(page.base + f"/admin/task/{task_id}/")
    expect(page.locator(".kechi-task-state")).to_have_text("已完成")
    expect(page.locator(".kechi-task-history")).to_contain_text("客户要求加上安装费")
    expect(page.locator(".kechi-task-feedback")).to_contain_text("已发送，含安装费")
    with app.app_context():
        told = set(db.session.scalars(select(Notification.title).where(Notification.user_id == boss)))
    assert {"陈晓明 反馈了待办：给华为发送新版报价单", "陈晓明 完成了待办：给华为发送新版报价单"} <= told
    screenshot(page, "61-task-page-done")
