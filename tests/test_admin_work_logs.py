"""工作日志 pages as people use them: write today's log (the figures shown and saved), a refused
save keeps what was typed, the list's search, a log's page marks it read and takes leaders'
comments, another's log outside one's scope is 404 for reading and commenting alike, 未提交,
the administrators' setting, and the workbench widget."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import AuditLog, Customer, Notification, Order, Role, WorkLog, WorkLogComment, WorkLogRecipient, db
from rules import work_logs

UTC = timezone.utc


@pytest.fixture
def team(app, make_user, admin_id):
    ids = {"admin": admin_id,
           "boss": make_user("boss", role="总经理", department=("总经办",), display_name="张总")}
    ids["li"] = make_user("li", role="主管", department=("销售部", "销售一部"), superior="boss", display_name="李主管")
    ids["chen"] = make_user("chen", superior="li", display_name="陈晓明")
    ids["liu"] = make_user("liu", superior="li", display_name="刘芳")
    ids["sun"] = make_user("sun", department=("销售部", "销售二部"), display_name="孙伟")
    return ids


def signed_in(new_client, username):
    client = new_client()
    client.login(username)
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def write_today(client, content="拜访华为，报价两份", **extra):
    return client.post_form("/admin/work_log/new", {"content": content, "plan": "明天签合同", "problems": "",
                                                    "period": "daily", "day": "2026-11-23", **extra}, follow=True)


def test_write_todays_log_with_its_figures(app, team, new_client):
    with app.app_context():
        c = Customer(name="杭州一茶", owner_id=team["chen"], created_by_id=team["chen"],
                     created_at=datetime(2026, 11, 23, 1, tzinfo=UTC), updated_at=datetime(2026, 11, 23, 1, tzinfo=UTC))
        db.session.add(c)
        db.session.flush()
        db.session.add(Order(number="O1", customer_id=c.id, salesperson_id=team["chen"],
                             order_date=datetime(2026, 11, 23).date(), state="completed", total=Decimal("1234.50"),
                             received=Decimal("1000")))
        db.session.commit()
    chen = signed_in(new_client, "chen")
    form = text(chen.get("/admin/work_log/new"))
    assert "写日志" in form and "¥1,234.50" in form and "默认发送给您的上级：李主管、张总" in form
    page = text(write_today(chen))
    assert "日志已提交" in page and "拜访华为，报价两份" in page and "¥1,234.50" in page
    assert "李主管" in page and "未读" in page
    with app.app_context():
        log = db.session.scalar(select(WorkLog))
        assert log.figures["amount"] == "1234.50" and log.figures["new_customers"] == 1
    # a second one for the same day leads to the first
    again = chen.get("/admin/work_log/new", follow_redirects=True)
    assert "这一期的日志已经提交过" in text(again) and "修改日志" in text(again)


def test_a_refused_save_keeps_what_was_typed(app, team, new_client):
    chen = signed_in(new_client, "chen")
    page = text(write_today(chen, content="   ", plan="这段计划不能丢"))
    assert "请填写工作内容" in page and "这段计划不能丢" in page
    with app.app_context():
        assert db.session.scalar(select(WorkLog.id)) is None


def test_leaders_read_and_comment_and_the_author_is_told(app, team, new_client):
    chen = signed_in(new_client, "chen")
    write_today(chen)
    with app.app_context():
        log_id = db.session.scalar(select(WorkLog.id))
    li = signed_in(new_client, "li")
    inbox = text(li.get("/admin/work_log/?box=inbox"))
    assert "陈晓明" in inbox and "未读" in inbox
    workbench = text(li.get("/admin/"))
    assert "待阅日志（1）" in workbench and "陈晓明 的日报" in workbench
    page = text(li.get(f"/admin/work_log/{log_id}/"))
    assert "拜访华为" in page and "已读" in page
    li.post_form(f"/admin/work_log/{log_id}/", {"content": "报价要抓紧"}, to=f"/admin/work_log/{log_id}/comment")
    boss = signed_in(new_client, "boss")
    done = text(boss.post_form(f"/admin/work_log/{log_id}/", {"content": "不错"},
                               to=f"/admin/work_log/{log_id}/comment", follow=True))
    assert "点评已发表" in done and "报价要抓紧" in done and "不错" in done and "点评（2）" in done
    assert "待阅日志（0）" in text(li.get("/admin/"))
    with app.app_context():
        titles = list(db.session.scalars(select(Notification.title).where(Notification.user_id == team["chen"])))
    assert titles == ["李主管 点评了您的2026-11-23 日报", "张总 点评了您的2026-11-23 日报"]
    assert "我的日志有 2 条新点评" in text(chen.get("/admin/"))


def test_outside_scope_a_log_is_404_for_reading_commenting_and_editing(app, team, new_client):
    chen = signed_in(new_client, "chen")
    write_today(chen)
    with app.app_context():
        log_id = db.session.scalar(select(WorkLog.id))
    sun = signed_in(new_client, "sun")  # 业务员 of another department, not a recipient
    assert sun.get(f"/admin/work_log/{log_id}/").status_code == 404
    token = sun.token("/admin/work_log/")
    assert sun.post(f"/admin/work_log/{log_id}/comment", data={"content": "偷看", "csrf_token": token}).status_code == 404
    assert sun.get(f"/admin/work_log/{log_id}/edit").status_code == 404
    assert "拜访华为" not in text(sun.get("/admin/work_log/?q=华为"))
    li = signed_in(new_client, "li")  # may read it, but not edit another's log
    assert li.get(f"/admin/work_log/{log_id}/edit").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(WorkLogComment.id)) is None
        assert db.session.scalar(select(WorkLogRecipient.read_at).where(WorkLogRecipient.user_id == team["sun"])) is None


def test_search_by_person_period_and_keyword(app, team, new_client):
    write_today(signed_in(new_client, "chen"), content="拜访华为")
    write_today(signed_in(new_client, "liu"), content="整理报价单")
    li = signed_in(new_client, "li")
    page = text(li.get("/admin/work_log/?q=华为"))
    assert "拜访华为" in page and "整理报价单" not in page
    page = text(li.get(f"/admin/work_log/?author={team['liu']}&period=daily&start=2026-11-23&end=2026-11-23"))
    assert "整理报价单" in page and "拜访华为" not in page
    assert "没有符合条件的日志" in text(li.get("/admin/work_log/?period=monthly"))
    assert li.get("/admin/work_log/?start=2026-13-01").status_code == 400


def test_not_submitted_list_and_its_setting(app, team, new_client):
    li = signed_in(new_client, "li")
    assert "管理员还没有设置" in text(li.get("/admin/work_log/missing"))
    assert li.get("/admin/work_log_settings/").status_code == 403
    admin = signed_in(new_client, "admin")
    with app.app_context():
        role = db.session.scalar(select(Role.id).where(Role.name == "业务员"))
    refused = text(admin.post_form("/admin/work_log_settings/", {"roles": [str(role)], "hour": "25"}))
    assert "0 到 23" in refused and re.search(rf'value="{role}"\s+checked', refused) and 'value="25"' in refused
    saved = text(admin.post_form("/admin/work_log_settings/", {"roles": [str(role)], "hour": "18"}, follow=True))
    assert "工作日志设置已保存" in saved
    write_today(signed_in(new_client, "liu"))
    page = re.search(r'kechi-missing-table.*?</table>', text(li.get("/admin/work_log/missing?day=2026-11-23")),
                     re.S).group(0)
    assert "陈晓明" in page and "刘芳" not in page and "孙伟" not in page  # 孙 is outside 李's department
    with app.app_context():
        assert work_logs.remind_hour(db.session) == 18


def test_edit_ones_own_log_and_a_stale_form_is_refused_keeping_the_text(app, team, new_client):
    chen = signed_in(new_client, "chen")
    write_today(chen)
    with app.app_context():
        log_id = db.session.scalar(select(WorkLog.id))
    url = f"/admin/work_log/{log_id}/edit"
    form = text(chen.get(url))
    assert "修改日志" in form and "拜访华为，报价两份" in form
    version = re.search(r'name="version"[^>]*value="(\d+)"', form).group(1)
    token = chen.token(url)
    saved = chen.post(url, data={"csrf_token": token, "content": "拜访华为，签了合同", "plan": "", "problems": "",
                                 "version": version}, follow_redirects=True)
    assert "日志已保存" in text(saved) and "拜访华为，签了合同" in text(saved)
    stale = text(chen.post(url, data={"csrf_token": token, "content": "旧页面里改的字", "plan": "", "problems": "",
                                      "version": version}))
    assert "请刷新后再改" in stale and "旧页面里改的字" in stale
    with app.app_context():
        assert db.session.get(WorkLog, log_id).content == "拜访华为，签了合同"
        logged = db.session.execute(select(AuditLog.action, AuditLog.actor_name).where(AuditLog.entity == "WorkLog")
                                    .order_by(AuditLog.id)).all()
        assert [tuple(r) for r in logged] == [("create", "陈晓明"), ("update", "陈晓明")]
