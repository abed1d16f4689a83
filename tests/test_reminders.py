"""提醒中心 and 弹屏: each user's 提醒设置 (kinds that pop up, kinds also texted, days ahead,
do-not-disturb hours), the poll every open page asks (only new, only one's own, only chosen
kinds, none in quiet hours, two statements at most), SMS through the outbox once per
notification, a flood grouped into one, the centre's filters and 全部标为已读."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW, list_table
from test_statement_counts import counted
from models import Announcement, Notification, NotificationKind, NotificationSetting, Outbox, User, db
from rules import announcements, notification_settings, notifications
from rules.actor import Actor
from rules.errors import InvalidValue
from rules.links import ListKind, ListLink

K = NotificationKind


@pytest.fixture
def staff(app, make_user):
    ids = {"rep1": make_user("rep1", display_name="陈晓明"), "rep2": make_user("rep2", display_name="刘芳"),
           "boss": make_user("boss", role="总经理", department=("总经办",), display_name="张总")}
    with app.app_context():
        db.session.get(User, ids["rep1"]).mobile = "13900000001"
        db.session.commit()
    return ids


def raise_note(app, user_id: int, title: str, kind: K = K.OTHER, **extra) -> int | None:
    with app.app_context():
        note = notifications.notify(db.session, user_id=user_id, title=title, now=FIXED_NOW, kind=kind, **extra)
        db.session.commit()
        return note.id if note is not None else None


def choose(app, user_id: int, **chosen) -> None:
    values = dict(popup_kinds=[k.value for k in K], sms_kinds=[], days_ahead=1, quiet_start="", quiet_end="")
    values.update(chosen)
    with app.app_context():
        notification_settings.save(db.session, user_id, now=FIXED_NOW, **values)
        db.session.commit()


def outbox_rows(app) -> list[tuple[str, str, str, datetime | None]]:
    with app.app_context():
        return [(r.key, r.to_address, r.body, r.scheduled_at) for r in db.session.scalars(select(Outbox).order_by(Outbox.id))]


# --- 提醒设置 ------------------------------------------------------------------------------------

def test_without_settings_everything_pops_up_nothing_is_texted_and_reminders_start_a_day_ahead(app, staff):
    with app.app_context():
        assert notifications.days_ahead(db.session, staff["rep1"]) == 1
        choices = notifications.settings_for(db.session, staff["rep1"])
        assert choices.pops_up("task") and not choices.texts("task")
    choose(app, staff["rep1"], days_ahead="3")
    with app.app_context():
        assert notifications.days_ahead(db.session, staff["rep1"]) == 3
        assert notifications.days_ahead(db.session, staff["rep2"]) == 1  # someone else's stays


@pytest.mark.parametrize("start,end,expected", [
    ("25:00", "07:00", "免打扰开始时间“25:00”格式不对"),
    ("22:00", "", "免打扰时段请同时填写开始和结束时间"),
    ("22:00", "22:00", "免打扰的开始和结束时间不能相同"),
])
def test_malformed_quiet_hours_are_refused_with_a_reason(app, staff, start, end, expected):
    with app.app_context(), pytest.raises(InvalidValue, match=expected):
        notification_settings.save(db.session, staff["rep1"], popup_kinds=[], sms_kinds=[], days_ahead=1,
                                   quiet_start=start, quiet_end=end, now=FIXED_NOW)


def test_quiet_hours_run_over_midnight(app):
    choices = notification_settings.Choices(frozenset(), frozenset(), 1, time(22), time(7, 30))
    at = lambda h, m=0: datetime(2026, 11, 23, h, m, tzinfo=timezone(timedelta(hours=8)))  # noqa: E731
    assert [choices.quiet_at(at(h, m), "Asia/Shanghai") for h, m in ((21, 59), (22, 0), (3, 0), (7, 29), (7, 30))] \
        == [False, True, True, True, False]
    assert choices.quiet_until(at(23), "Asia/Shanghai") == datetime(2026, 11, 23, 23, 30, tzinfo=timezone.utc)


def test_the_settings_page_saves_and_keeps_what_was_typed_when_refused(app, staff, client):
    client.login("rep1")
    page = client.get("/admin/notification_settings/")
    assert page.status_code == 200 and "提醒信息弹屏天数" in page.get_data(as_text=True)
    form = {"popup": ["task", "event"], "sms": ["task"], "days_ahead": "5", "quiet_start": "25:00",
            "quiet_end": "07:00"}
    refused = client.post_form("/admin/notification_settings/", form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert "免打扰开始时间“25:00”格式不对" in text
    assert 'value="25:00"' in text and 'value="5"' in text  # what was typed, not the saved values
    assert re.search(r'id="sms_task" value="task"[^>]*checked', text) and not re.search(r'id="sms_event"[^>]*checked', text)
    with app.app_context():
        assert db.session.get(NotificationSetting, staff["rep1"]) is None  # nothing half-saved

    saved = client.post_form("/admin/notification_settings/", dict(form, quiet_start="22:00"), follow=True)
    assert "提醒设置已保存" in saved.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(NotificationSetting, staff["rep1"])
        assert (row.popup_kinds, row.sms_kinds, row.days_ahead, row.quiet_start, row.quiet_end) == \
            (["event", "task"], ["task"], 5, "22:00", "07:00")


# --- SMS -----------------------------------------------------------------------------------------

def test_a_kind_chosen_for_sms_queues_one_text_keyed_by_the_notification(app, staff):
    choose(app, staff["rep1"], sms_kinds=["task"])
    task_note = raise_note(app, staff["rep1"], "王芳指派给您：报价单复核", K.TASK)
    raise_note(app, staff["rep1"], "新公告：年终盘点", K.ANNOUNCEMENT)  # not chosen for SMS
    assert outbox_rows(app) == [(f"notice:{task_note}", "13900000001", "【提醒】王芳指派给您：报价单复核", None)]
    choose(app, staff["rep2"], sms_kinds=["task"])  # rep2 has no mobile number: nothing to text
    raise_note(app, staff["rep2"], "待办", K.TASK)
    assert len(outbox_rows(app)) == 1


def test_a_text_raised_in_do_not_disturb_hours_waits_for_their_end(app, staff):
    choose(app, staff["rep1"], sms_kinds=["task"], quiet_start="09:00", quiet_end="12:00")  # FIXED_NOW is 10:00 local
    raise_note(app, staff["rep1"], "待办到期", K.TASK)
    [(_key, _to, _body, scheduled)] = outbox_rows(app)
    assert scheduled == datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)  # 12:00 in Asia/Shanghai


# --- flood control -------------------------------------------------------------------------------

def test_ten_thousand_reminders_for_one_user_become_one_notification_and_one_text(app, staff):
    choose(app, staff["rep1"], sms_kinds=["recycle_warning"])
    notices = [notifications.Notice(title=f"客户{i}即将被回收", dedupe_key=f"soon:{i}") for i in range(10_000)]
    with app.app_context():
        raised = notifications.notify_grouped(
            db.session, user_id=staff["rep1"], kind=K.RECYCLE_WARNING, notices=notices, now=FIXED_NOW,
            summary=lambda n: notifications._l("%(n)d 位客户即将被回收，请尽快跟进", n=n),
            link=ListLink(ListKind.SOON_RECYCLED), dedupe_key="soon:2026-11-23")
        db.session.commit()
        assert len(raised) == 1
        notes = list(db.session.scalars(select(Notification).where(Notification.user_id == staff["rep1"])))
        assert [n.title for n in notes] == ["10000 位客户即将被回收，请尽快跟进"]
        assert notes[0].body.startswith("客户0即将被回收\n客户1即将被回收") and notes[0].body.endswith("……共 10000 条")
        # The job runs again the same day: nothing new.
        assert notifications.notify_grouped(
            db.session, user_id=staff["rep1"], kind=K.RECYCLE_WARNING, notices=notices, now=FIXED_NOW,
            summary=lambda n: notifications._l("%(n)d 位客户即将被回收，请尽快跟进", n=n),
            dedupe_key="soon:2026-11-23") == []
    assert len(outbox_rows(app)) == 1


def test_a_few_reminders_go_out_one_by_one_and_none_twice(app, staff):
    notices = [notifications.Notice(title=f"待办{i}已逾期", dedupe_key=f"late:{i}") for i in range(3)]
    with app.app_context():
        notifications.notify(db.session, user_id=staff["rep1"], title="待办0已逾期", now=FIXED_NOW, dedupe_key="late:0")
        raised = notifications.notify_grouped(db.session, user_id=staff["rep1"], kind=K.TASK, notices=notices,
                                              now=FIXED_NOW, summary=lambda n: f"{n} 项待办已逾期")
        db.session.commit()
        assert [n.title for n in raised] == ["待办1已逾期", "待办2已逾期"]


# --- the poll ------------------------------------------------------------------------------------

def poll(client, after: int):
    return client.get(f"/admin/notification/poll?after={after}", headers={"Accept": "application/json"})


@pytest.mark.both_dbs
def test_the_poll_answers_only_new_own_chosen_reminders_in_two_statements(app, staff, client):
    old = raise_note(app, staff["rep1"], "昨天的提醒", K.TASK)
    client.login("rep1")
    assert poll(client, old).status_code == 204  # nothing new: no body at all

    raise_note(app, staff["rep2"], "刘芳的待办", K.TASK)  # someone else's
    assert poll(client, old).status_code == 204
    task = raise_note(app, staff["rep1"], "张总指派给您：报价单复核", K.TASK)
    news = raise_note(app, staff["rep1"], "新公告：年终盘点", K.ANNOUNCEMENT)
    choose(app, staff["rep1"], popup_kinds=["task"])  # announcements only under the bell
    with counted(app) as seen:
        answer = poll(client, old)
    assert answer.status_code == 200
    assert answer.json == {"last": news, "unread": 3, "items": [
        {"id": task, "kind": "task", "title": "张总指派给您：报价单复核", "url": f"/admin/notification/open/{task}"}]}
    with counted(app) as login_only:
        client.get("/admin/notification/poll?after=999999999")
    assert len(seen) - len(login_only) <= 1  # the new items: one statement beyond the "anything new?" one
    assert len(login_only) <= 3  # signing in (user, actor) and the poll's one

    assert poll(client, news).status_code == 204  # the page moved on to `last`


@pytest.mark.both_dbs
def test_nothing_pops_up_in_do_not_disturb_hours_but_the_bell_still_counts(app, staff, client):
    choose(app, staff["rep1"], quiet_start="09:30", quiet_end="11:00")  # FIXED_NOW is 10:00 local
    raise_note(app, staff["rep1"], "待办到期", K.TASK)
    client.login("rep1")
    answer = poll(client, 0)
    assert answer.json["items"] == [] and answer.json["unread"] == 1


def test_an_unread_reminder_read_elsewhere_does_not_pop_up(app, staff, client):
    note = raise_note(app, staff["rep1"], "待办到期", K.TASK)
    with app.app_context():
        db.session.get(Notification, note).read_at = FIXED_NOW
        db.session.commit()
    client.login("rep1")
    assert poll(client, 0).json["items"] == []


def test_signed_out_the_poll_says_so_instead_of_answering(app, staff, client):
    response = poll(client, 0)
    assert response.status_code in (302, 401)


def test_every_page_carries_the_poll_and_where_it_starts(app, staff, client):
    note = raise_note(app, staff["rep1"], "待办到期", K.TASK)
    client.login("rep1")
    html = client.get("/admin/customer/").get_data(as_text=True)
    assert 'id="kechi-notify"' in html and f'data-after="{note}"' in html and "js/kechi-notify.js" in html


# --- 提醒中心 ------------------------------------------------------------------------------------

def test_the_centre_filters_by_kind_and_read_state_and_marks_all_read(app, staff, client):
    raise_note(app, staff["rep1"], "张总指派给您：报价单复核", K.TASK)
    raise_note(app, staff["rep1"], "新公告：年终盘点", K.ANNOUNCEMENT)
    read = raise_note(app, staff["rep1"], "审批已通过：合同A", K.APPROVAL)
    raise_note(app, staff["rep2"], "刘芳的待办", K.TASK)
    client.login("rep1")
    client.get(f"/admin/notification/open/{read}")
    page = client.get("/admin/notification/").get_data(as_text=True)
    tabs = page[page.index('data-testid="notice-tabs"'):]
    task_tab = tabs[:tabs.index(">待办<")].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    unread_tab = tabs[:tabs.index(">未读<")].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    tasks = list_table(client.get(task_tab).get_data(as_text=True))
    assert "报价单复核" in tasks and "年终盘点" not in tasks and "刘芳的待办" not in tasks
    unread = list_table(client.get(unread_tab).get_data(as_text=True))
    assert "报价单复核" in unread and "年终盘点" in unread and "合同A" not in unread

    done = client.post_form("/admin/notification/", {}, to="/admin/notification/read-all/", follow=True)
    assert "已将 2 条提醒标为已读" in done.get_data(as_text=True)
    still = list_table(client.get(unread_tab).get_data(as_text=True))
    assert "报价单复核" not in still and "年终盘点" not in still
    with app.app_context():  # rep2's stays unread
        assert db.session.scalar(select(func.count(Notification.id)).where(Notification.read_at.is_(None))) == 1


def test_a_published_announcement_is_an_announcement_reminder(app, staff):
    with app.app_context():
        boss = db.session.get(User, staff["boss"])
        item = Announcement(title="年终盘点安排", body="周五盘点", whole_company=True, author_id=boss.id)
        db.session.add(item)
        db.session.flush()
        announcements.publish(db.session, item, actor=Actor.from_user(boss, today=FIXED_NOW.date()), now=FIXED_NOW)
        db.session.commit()
        kinds = set(db.session.scalars(select(Notification.kind)))
        assert kinds == {"announcement"}


def test_the_poll_does_not_keep_an_idle_session_alive(app, staff, client, clock):
    client.login("rep1")
    assert client.get("/admin/").status_code == 200
    for _ in range(3):  # a page left open keeps asking for 24 minutes; nobody at work
        clock.advance(minutes=8)
        assert poll(client, 0).status_code in (200, 204)
    clock.advance(minutes=8)  # 32 minutes since the person last did anything (IDLE_TIMEOUT is 30)
    assert poll(client, 0).status_code == 302  # the session ended: the page stops asking
    assert "/login" in client.get("/admin/").headers["Location"]


def test_an_announcement_is_texted_to_those_who_chose_it_once_however_often_published(app, staff):
    choose(app, staff["rep1"], sms_kinds=["announcement"])
    with app.app_context():
        boss = db.session.get(User, staff["boss"])
        item = Announcement(title="年终盘点安排", body="周五盘点", whole_company=True, author_id=boss.id)
        db.session.add(item)
        db.session.flush()
        actor = Actor.from_user(boss, today=FIXED_NOW.date())
        for _ in range(2):  # published, then published again to move it to the top
            announcements.publish(db.session, item, actor=actor, now=FIXED_NOW)
            db.session.commit()
        note = db.session.scalar(select(Notification.id).where(Notification.user_id == staff["rep1"]))
    assert outbox_rows(app) == [(f"notice:{note}", "13900000001", "【提醒】新公告：年终盘点安排", None)]
