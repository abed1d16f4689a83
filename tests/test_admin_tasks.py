"""待办 pages: the three lists show exactly their rows, the form refuses a task outside one's scope
and keeps what was typed, the task page answers 404 outside scope, feedback and 批量完成 tell
the assigner."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, list_table
from models import AuditLog, Notification, Task, User, db
from rules import tasks
from rules.actor import Actor


@pytest.fixture
def staff(make_user):
    ids = {"boss": make_user("boss", role="主管", department=("销售部", "销售一部"), display_name="李主管")}
    ids["rep"] = make_user("rep", superior="boss", display_name="陈晓明")
    ids["rep2"] = make_user("rep2", superior="boss", display_name="刘芳")
    ids["stranger"] = make_user("stranger", department=("客服部",), display_name="外部门")
    return ids


def give(app, staff, title, *, by="boss", to="rep", due=None) -> int:
    with app.app_context():
        actor = Actor.from_user(db.session.get(User, staff[by]))
        task = tasks.create(db.session, actor=actor, now=FIXED_NOW, title=title, assignee_id=staff[to], due_at=due)
        db.session.commit()
        return task.id


def test_the_three_lists_show_their_own_rows(app, client, staff):
    give(app, staff, "给陈晓明的任务")
    give(app, staff, "自己的任务", to="boss")
    give(app, staff, "刘芳自己记的", by="rep2", to="rep2")
    client.login("boss")
    mine = list_table(client.get("/admin/task/").get_data(as_text=True))
    assert "自己的任务" in mine and "给陈晓明的任务" not in mine
    assigned = list_table(client.get("/admin/task_given/").get_data(as_text=True))
    assert "给陈晓明的任务" in assigned and "自己的任务" not in assigned and "刘芳自己记的" not in assigned
    team = list_table(client.get("/admin/task_team/").get_data(as_text=True))
    assert "给陈晓明的任务" in team and "刘芳自己记的" in team and "自己的任务" not in team
    client.logout()
    client.login("rep")
    team = client.get("/admin/task_team/").get_data(as_text=True)
    assert "您的下属目前没有这类待办" in team  # a salesperson has nobody below


def test_overdue_pill_lists_only_overdue_open_tasks(app, client, staff):
    give(app, staff, "昨天就该交", to="boss", due=FIXED_NOW - timedelta(days=1))
    give(app, staff, "明天交", to="boss", due=FIXED_NOW + timedelta(days=1))
    client.login("boss")
    html = list_table(client.get("/admin/task/?show=overdue").get_data(as_text=True))
    assert "昨天就该交" in html and "明天交" not in html
    assert "逾期" in html


def test_creating_a_task_for_a_subordinate_tells_them(app, client, staff):
    client.login("boss")
    response = client.post_form("/admin/task/new/", {
        "title": "拜访华为", "assignee_id": str(staff["rep"]), "due_date": "2026-11-25", "due_time": "",
        "priority": "high", "description": "带上报价单", "entity": "", "record_id": ""}, follow=True)
    assert response.status_code == 200
    with app.app_context():
        task = db.session.scalar(select(Task).where(Task.title == "拜访华为"))
        assert task.assignee_id == staff["rep"] and task.assigner_id == staff["boss"]
        assert task.due_at.isoformat() == "2026-11-25T15:59:59+00:00"  # the end of that local day
        assert db.session.scalar(select(Notification.title).where(Notification.user_id == staff["rep"])) \
            == "李主管 给您分配了待办：拜访华为"
        logged = db.session.scalar(select(AuditLog).where(AuditLog.entity == "Task", AuditLog.action == "create"))
        assert logged.entity_id == str(task.id) and logged.actor_name == "李主管"
    assert "拜访华为" in response.get_data(as_text=True)  # the task page


def test_a_task_for_someone_outside_scope_is_refused_and_the_form_keeps_the_input(app, client, staff):
    client.login("rep")
    form = client.get("/admin/task/new/").get_data(as_text=True)
    assert "外部门" not in form and "李主管" in form  # the picker offers oneself and one's superior
    response = client.post_form("/admin/task/new/", {
        "title": "越权分配", "assignee_id": str(staff["stranger"]), "due_date": "", "due_time": "",
        "priority": "normal", "description": "写了很多字", "entity": "", "record_id": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "越权分配" in html and "写了很多字" in html
    with app.app_context():
        assert db.session.scalar(select(Task.id)) is None


def test_the_task_page_is_404_outside_scope(app, client, staff):
    task_id = give(app, staff, "内部任务")
    for username, status in (("rep", 200), ("boss", 200), ("rep2", 404), ("stranger", 404)):
        client.login(username)
        assert client.get(f"/admin/task/{task_id}/").status_code == status, username
        assert client.get(f"/admin/task/edit/?id={task_id}").status_code == (200 if username == "boss" else 404)
        client.logout()


def test_feedback_and_completion_from_the_task_page_tell_the_assigner(app, client, staff):
    task_id = give(app, staff, "整理合同")
    client.login("rep")
    page = f"/admin/task/{task_id}/"
    client.post_form(page, {"note": "已联系法务"}, to=f"/admin/task/{task_id}/feedback/")
    with app.app_context():
        version = db.session.get(Task, task_id).version
    client.post_form(page, {"version": str(version), "feedback": "已归档"}, to=f"/admin/task/{task_id}/move/complete/")
    html = client.get(page).get_data(as_text=True)
    assert "已完成" in html and "已联系法务" in html and "已归档" in html
    with app.app_context():
        notes = list(db.session.scalars(select(Notification.title).where(Notification.user_id == staff["boss"])
                                        .order_by(Notification.id)))
        assert notes == ["陈晓明 反馈了待办：整理合同", "陈晓明 完成了待办：整理合同"]


def test_a_stale_page_cannot_complete(app, client, staff):
    task_id = give(app, staff, "旧页面")
    client.login("rep")
    page = f"/admin/task/{task_id}/"
    client.post_form(page, {"version": "1"}, to=f"/admin/task/{task_id}/move/start/")
    response = client.post_form(page, {"version": "1"}, to=f"/admin/task/{task_id}/move/complete/", follow=True)
    assert "刚被他人处理过" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Task, task_id).status == "doing"


def test_batch_complete_with_feedback(app, client, staff):
    ids = [give(app, staff, f"批量{i}") for i in range(3)]
    client.login("rep")
    response = client.post_form("/admin/task/", {"action": "complete", "rowid": [str(i) for i in ids[:2]],
                                                 "feedback": "一起做完了"}, to="/admin/task/action/", follow=True)
    assert "已完成 2 项待办" in response.get_data(as_text=True)
    with app.app_context():
        assert [db.session.get(Task, i).status for i in ids] == ["done", "done", "todo"]
        assert db.session.get(Task, ids[0]).feedback == "一起做完了"


def test_batch_complete_with_a_forged_id_changes_nothing(app, client, staff):
    mine = give(app, staff, "我的")
    other = give(app, staff, "别人的", to="rep2")
    client.login("rep")
    response = client.post_form("/admin/task/", {"action": "complete", "rowid": [str(mine), str(other)]},
                                to="/admin/task/action/")
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Task, mine).status == "todo"


def test_workbench_shows_my_overdue_and_due_soon_tasks(app, client, staff):
    give(app, staff, "逾期的报价", due=FIXED_NOW - timedelta(hours=3))
    give(app, staff, "明天的拜访", due=FIXED_NOW + timedelta(hours=20))
    give(app, staff, "下个月的事", due=FIXED_NOW + timedelta(days=30))
    client.login("rep")
    html = client.get("/admin/").get_data(as_text=True)
    widget = html[html.index('data-widget="my_tasks"'):]
    widget = widget[:widget.index("</ul>")]
    assert "逾期的报价" in widget and "逾期 11-23 07:00" in widget
    assert "明天的拜访" in widget and "下个月的事" not in widget


def test_customer_page_has_a_task_box_that_opens_the_form_linked(app, client, staff, make_customer):
    customer_id = make_customer("华为技术", staff["rep"])
    with app.app_context():
        actor = Actor.from_user(db.session.get(User, staff["boss"]))
        tasks.create(db.session, actor=actor, now=FIXED_NOW, title="催回款", assignee_id=staff["rep"],
                     entity="customer", record_id=customer_id)
        db.session.commit()
    client.login("rep")
    page = client.get(f"/admin/customer/details/?id={customer_id}").get_data(as_text=True)
    box = page[page.index('data-testid="tasks"'):]
    assert "催回款" in box[:box.index("</ul>")]
    form = client.get(f"/admin/task/new/?entity=customer&record_id={customer_id}").get_data(as_text=True)
    assert "这条待办将关联到：客户：华为技术" in form
    response = client.post_form(f"/admin/task/new/?entity=customer&record_id={customer_id}", {
        "title": "准备合同", "assignee_id": str(staff["rep"]), "due_date": "", "due_time": "", "priority": "normal",
        "description": "", "entity": "customer", "record_id": str(customer_id)}, follow=True)
    assert "华为技术" in response.get_data(as_text=True)  # the task page names the linked customer
    with app.app_context():
        assert db.session.scalar(select(Task.record_id).where(Task.title == "准备合同")) == customer_id


def test_the_assigner_reassigns_through_the_edit_form_and_the_new_assignee_is_told(app, client, staff):
    task_id = give(app, staff, "改派的任务")
    client.login("boss")
    with app.app_context():
        version = db.session.get(Task, task_id).version
    client.post_form(f"/admin/task/edit/?id={task_id}", {
        "title": "改派的任务", "assignee_id": str(staff["rep2"]), "due_date": "2026-11-30", "due_time": "09:00",
        "priority": "urgent", "description": "", "entity": "", "record_id": "", "version": str(version)}, follow=True)
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert task.assignee_id == staff["rep2"] and task.priority == "urgent"
        assert task.due_at.isoformat() == "2026-11-30T01:00:00+00:00"
        assert db.session.scalar(select(Notification.title).where(Notification.user_id == staff["rep2"])) \
            == "李主管 给您分配了待办：改派的任务"
    stale = client.post_form(f"/admin/task/edit/?id={task_id}", {
        "title": "旧页面的修改", "assignee_id": str(staff["rep"]), "due_date": "", "due_time": "",
        "priority": "low", "description": "", "entity": "", "record_id": "", "version": str(version)})
    assert "旧页面的修改" in stale.get_data(as_text=True)  # refused, the typed input kept
    with app.app_context():
        assert db.session.get(Task, task_id).title == "改派的任务"


def test_the_assignment_notice_opens_the_task_page(app, staff):
    from admin_views import links

    task_id = give(app, staff, "看提醒")
    with app.app_context():
        stored = db.session.scalar(select(Notification.link).where(Notification.user_id == staff["rep"]))
    with app.test_request_context():
        assert links.stored_url(app.extensions["admin"][0], stored) == f"/admin/task/{task_id}/"
