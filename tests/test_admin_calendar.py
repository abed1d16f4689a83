"""The 日程 pages: the calendar served locally, the feed within scope, the form (refusals keep what
was typed, a conflict asks before saving), a drag from a stale page, the event page's scope, the
.ics download, 今日日程 on the workbench."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW
from models import AuditLog, Event, EventParticipant, Notification, NotificationKind, User, db
from rules import events
from rules.actor import Actor
from rules.events import EventInput

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
TODAY = FIXED_NOW.astimezone(SH).date()  # Monday 2026-11-23, 10:00 local


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH).astimezone(timezone.utc)


@pytest.fixture
def staff(make_user):
    return {"mgr": make_user("mgr", role="主管", display_name="王主管"),
            "rep1": make_user("rep1", display_name="张三"),
            "rep2": make_user("rep2", display_name="李四"),
            "out": make_user("out", department=("客服部",), display_name="赵六")}


def add(app, username: str, title: str, start: datetime, end: datetime, **extra) -> int:
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == username))
        event = events.create(db.session, EventInput(title=title, starts_at=start, ends_at=end, **extra),
                              actor=Actor.from_user(user), now=FIXED_NOW, tz=TZ, confirmed=True)
        db.session.commit()
        return event.id


def form(**changes) -> dict:
    values = {"title": "拜访瑞和科技", "start_date": TODAY.isoformat(), "start_time": "14:00",
              "end_date": TODAY.isoformat(), "end_time": "15:00", "repeat": "none", "remind": "15", "place": "杭州"}
    values.update(changes)
    return values


def test_the_calendar_page_loads_fullcalendar_from_this_server(app, staff, client):
    client.login("rep1")
    html = client.get("/admin/event/").get_data(as_text=True)
    assert "vendor/fullcalendar/index.global.min.js" in html and "vendor/fullcalendar/zh-cn.global.min.js" in html
    assert "js/kechi-calendar.js" in html and 'data-now="2026-11-23T10:00:00"' in html
    assert "http://" not in html.split("kechi-calendar")[1].split("</script>")[0]
    with client.get("/static/vendor/fullcalendar/index.global.min.js") as served:
        assert served.status_code == 200


def test_the_feed_gives_local_times_and_the_team_view_only_staff_in_scope(app, staff, client):
    add(app, "rep1", "拜访", at(TODAY, 14), at(TODAY, 15), rrule="FREQ=DAILY;COUNT=2")
    add(app, "out", "客服回访", at(TODAY, 9), at(TODAY, 10))
    client.login("mgr")
    week = "start=2026-11-23T00:00:00&end=2026-11-30T00:00:00"
    ids = "&".join(f"user={staff[u]}" for u in ("mgr", "rep1", "rep2", "out"))
    items = client.get(f"/admin/event/feed?{week}&{ids}").get_json()
    assert [(i["title"], i["start"], i["end"]) for i in items] == [
        ("张三：拜访", "2026-11-23T14:00:00", "2026-11-23T15:00:00"),
        ("张三：拜访", "2026-11-24T14:00:00", "2026-11-24T15:00:00")]
    assert client.get(f"/admin/event/feed?{week}").get_json() == []  # the manager's own calendar is empty
    page = client.get("/admin/event/?team=1").get_data(as_text=True)
    assert "张三" in page and "李四" in page and "赵六" not in page
    assert client.get("/admin/event/feed?start=bad&end=2026-11-30").status_code == 400


def test_an_event_page_outside_ones_scope_is_404(app, staff, client):
    theirs = add(app, "out", "客服回访", at(TODAY, 9), at(TODAY, 10))
    mine = add(app, "rep1", "拜访", at(TODAY, 14), at(TODAY, 15), participant_ids=[staff["rep2"]])
    client.login("mgr")
    assert client.get(f"/admin/event/{theirs}/").status_code == 404
    assert client.get(f"/admin/event/{theirs}/edit").status_code == 404
    shown = client.get(f"/admin/event/{mine}/").get_data(as_text=True)
    assert "拜访" in shown and '<span class="mr-2">李四</span>' in shown  # who takes part
    client.logout()
    client.login("rep2")  # a participant sees it, may not change it
    page = client.get(f"/admin/event/{mine}/").get_data(as_text=True)
    assert "您是此日程的参与人" in page
    response = client.post_form(f"/admin/event/{mine}/", {"version": "1"}, to=f"/admin/event/{mine}/delete",
                                follow=True)
    assert "只有日程的创建人或其上级可以修改此日程" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Event, mine).deleted_at is None


def test_the_form_refuses_bad_times_and_endless_repeats_keeping_what_was_typed(app, staff, client):
    client.login("rep1")
    page = client.post_form("/admin/event/new", form(end_time="13:00")).get_data(as_text=True)
    assert "结束时间必须晚于开始时间" in page and 'value="拜访瑞和科技"' in page and 'value="杭州"' in page
    page = client.post_form("/admin/event/new", form(repeat="custom", rrule="FREQ=WEEKLY;BYDAY=MO")).get_data(
        as_text=True)
    assert "重复规则必须设置结束日期或次数" in page and "FREQ=WEEKLY;BYDAY=MO" in page
    with app.app_context():
        assert db.session.scalar(select(Event.id)) is None


def test_a_conflict_asks_first_and_saves_once_confirmed_notifying_participants(app, staff, client):
    add(app, "rep2", "客户来访", at(TODAY, 14, 30), at(TODAY, 16))
    client.login("rep1")
    page = client.post_form("/admin/event/new", form(participants=[str(staff["rep2"])])).get_data(as_text=True)
    assert "李四 在 2026-11-23 14:30–16:00 已有日程“客户来访”" in page and 'name="confirm"' in page
    response = client.post_form("/admin/event/new", form(participants=[str(staff["rep2"])], confirm="1"))
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.title == "拜访瑞和科技"))
        assert sorted(p.user_id for p in event.participants) == sorted([staff["rep1"], staff["rep2"]])
        note = db.session.scalar(select(Notification).where(Notification.user_id == staff["rep2"]))
        assert note.kind == NotificationKind.EVENT and note.title == "张三 邀请您参加日程“拜访瑞和科技”（2026-11-23 14:00）"


def test_a_drag_moves_the_event_and_a_stale_page_is_refused(app, staff, client):
    event_id = add(app, "rep1", "拜访", at(TODAY, 14), at(TODAY, 15))
    client.login("rep1")
    token = client.token("/admin/event/")
    moved = client.post("/admin/event/move", data={"csrf_token": token, "id": event_id, "version": 1,
                                                   "start": "2026-11-24T16:00:00", "end": "2026-11-24T17:30:00",
                                                   "all_day": "0"}).get_json()
    assert moved["ok"] and moved["version"] == 2 and "2026-11-24 16:00" in moved["message"]
    stale = client.post("/admin/event/move", data={"csrf_token": token, "id": event_id, "version": 1,
                                                   "start": "2026-11-25T09:00:00", "all_day": "0"}).get_json()
    assert not stale["ok"] and stale["message"] == "该日程已被他人修改，请刷新后再改"
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert (event.starts_at, event.ends_at) == (at(TODAY + timedelta(days=1), 16),
                                                    at(TODAY + timedelta(days=1), 17, 30))
        assert db.session.scalar(select(EventParticipant.starts_at).where(EventParticipant.event_id == event_id)) \
            == event.starts_at
        logged = db.session.scalars(select(AuditLog.action).where(AuditLog.entity == "Event",
                                                                  AuditLog.entity_id == str(event_id))).all()
        assert "update" in logged  # the move is in the audit log


def test_the_ics_holds_ones_own_events_with_their_repeat(app, staff, client):
    add(app, "rep1", "周例会; 销售部, 全员", at(TODAY, 9), at(TODAY, 10),
        rrule="FREQ=WEEKLY;UNTIL=20261231T235959", remind_minutes=15)
    add(app, "rep2", "别人的日程", at(TODAY, 11), at(TODAY, 12))
    client.login("rep1")
    response = client.get("/admin/event/calendar.ics")
    assert response.mimetype == "text/calendar"
    text = response.get_data(as_text=True)
    lines = text.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
    assert "DTSTART;TZID=Asia/Shanghai:20261123T090000" in lines
    assert "RRULE:FREQ=WEEKLY;UNTIL=20261231T155959Z" in lines
    assert "SUMMARY:周例会\\; 销售部\\, 全员" in lines and "TRIGGER:-PT15M" in lines
    assert "别人的日程" not in text
    assert all(len(line.encode()) <= 75 for line in lines)


def test_todays_events_on_the_workbench(app, staff, client):
    add(app, "rep1", "下午拜访瑞和", at(TODAY, 14), at(TODAY, 15))
    add(app, "rep1", "早会", at(TODAY, 8), at(TODAY, 9))  # over already at 10:00
    client.login("rep1")
    html = client.get("/admin/").get_data(as_text=True)
    widget = html.split('data-widget="today_events"')[1].split("</ul>")[0]
    assert "下午拜访瑞和" in widget and "14:00" in widget and "早会" not in widget


def test_a_teams_month_shows_daily_counts_that_open_the_persons_day(app, staff, client):
    for hour in (9, 11, 14):
        add(app, "rep1", f"拜访{hour}", at(TODAY, hour), at(TODAY, hour + 1))
    add(app, "rep2", "客户来访", at(TODAY, 10), at(TODAY, 11))
    client.login("mgr")
    ids = "&".join(f"user={staff[u]}" for u in ("mgr", "rep1", "rep2"))
    items = client.get(f"/admin/event/feed?start=2026-10-26T00:00:00&end=2026-12-07T00:00:00&{ids}").get_json()
    assert [(i["title"], i["start"], i["allDay"]) for i in items] == [
        ("张三：3 项日程", "2026-11-23", True), ("李四：1 项日程", "2026-11-23", True)]
    day = client.get(items[0]["url"]).get_data(as_text=True)
    assert 'data-initial-view="timeGridDay"' in day and f"user={staff['rep1']}" in day


def test_an_event_page_names_the_customer_it_is_about(app, staff, client, make_customer):
    customer = make_customer("杭州瑞和科技", staff["rep1"])
    client.login("rep1")
    page = client.get(f"/admin/event/new?customer={customer}").get_data(as_text=True)
    assert "杭州瑞和科技" in page and f'name="customer" value="{customer}"' in page
    client.post_form(f"/admin/event/new?customer={customer}", form(customer=str(customer)))
    with app.app_context():
        event_id = db.session.scalar(select(Event.id).where(Event.customer_id == customer))
    assert "杭州瑞和科技" in client.get(f"/admin/event/{event_id}/").get_data(as_text=True)
