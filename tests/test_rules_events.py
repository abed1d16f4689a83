"""日程 rules: conflicts (overlap, touching ends, repeats, all-day), bad times refused, a drag on a
stale page refused, reminders once per occurrence, the team calendar within scope."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW
from models import Customer, Event, Notification, NotificationKind, User, db
from rules import events
from rules.actor import Actor
from rules.errors import ChangedMeanwhile, InvalidValue, NeedsConfirmation, NotEditable, OutOfScope
from rules.events import EventInput
from rules import scope

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
MONDAY = FIXED_NOW.astimezone(SH).date()  # 2026-11-23, a Monday


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH).astimezone(timezone.utc)


def actor(username: str) -> Actor:
    return Actor.from_user(db.session.scalar(select(User).where(User.username == username)))


@pytest.fixture
def staff(make_user):
    ids = {"mgr": make_user("mgr", role="主管", display_name="王主管"),
           "rep1": make_user("rep1", display_name="张三"),
           "rep2": make_user("rep2", display_name="李四"),
           "out": make_user("out", department=("客服部",), display_name="赵六")}
    return ids


def add(username: str, title: str, start: datetime, end: datetime, *, with_: tuple[str, ...] = (),
        confirmed: bool = True, **extra) -> Event:
    ids = [db.session.scalar(select(User.id).where(User.username == u)) for u in with_]
    event = events.create(db.session, EventInput(title=title, starts_at=start, ends_at=end, participant_ids=ids,
                                                 **extra),
                          actor=actor(username), now=FIXED_NOW, tz=TZ, confirmed=confirmed)
    db.session.commit()
    return event


def try_add(username: str, start: datetime, end: datetime, **extra) -> None:
    events.create(db.session, EventInput(title="新日程", starts_at=start, ends_at=end, **extra),
                  actor=actor(username), now=FIXED_NOW, tz=TZ)
    db.session.rollback()


@pytest.mark.both_dbs
def test_an_overlapping_event_of_a_participant_is_a_warning_naming_who_and_what(app, staff):
    with app.test_request_context():
        add("rep1", "拜访华为", at(MONDAY, 14), at(MONDAY, 15))
        with pytest.raises(NeedsConfirmation) as warned:
            try_add("mgr", at(MONDAY, 14, 30), at(MONDAY, 16), participant_ids=[staff["rep1"], staff["rep2"]])
        assert str(warned.value) == "张三 在 2026-11-23 14:00–15:00 已有日程“拜访华为”"
        # confirmed, it is saved all the same, on both people's calendars
        add("mgr", "周会", at(MONDAY, 14, 30), at(MONDAY, 16), with_=("rep1",), confirmed=True)
        shown = events.occurrences(db.session, actor("rep1"), at(MONDAY, 0), at(MONDAY + timedelta(days=1), 0), tz=TZ)
        assert [o.title for o in shown] == ["拜访华为", "周会"]


def test_events_that_only_touch_do_not_conflict(app, staff):
    with app.test_request_context():
        add("rep1", "拜访", at(MONDAY, 14), at(MONDAY, 15))
        try_add("rep1", at(MONDAY, 15), at(MONDAY, 16))
        try_add("rep1", at(MONDAY, 13), at(MONDAY, 14))
        with pytest.raises(NeedsConfirmation):
            try_add("rep1", at(MONDAY, 14, 59), at(MONDAY, 16))


def test_a_repeat_conflicts_on_any_of_its_occurrences_and_only_there(app, staff):
    with app.test_request_context():
        add("rep1", "周例会", at(MONDAY, 9), at(MONDAY, 10), rrule="FREQ=WEEKLY;COUNT=10")
        in_three_weeks = MONDAY + timedelta(weeks=3)
        with pytest.raises(NeedsConfirmation) as warned:
            try_add("rep1", at(in_three_weeks, 9, 30), at(in_three_weeks, 11))
        assert "2026-12-14 09:00–10:00" in str(warned.value) and "周例会" in str(warned.value)
        try_add("rep1", at(in_three_weeks + timedelta(days=1), 9), at(in_three_weeks + timedelta(days=1), 10))
        try_add("rep1", at(MONDAY + timedelta(weeks=10), 9), at(MONDAY + timedelta(weeks=10), 10))  # after the 10th
        # a new daily series meets a one-off twelve days ahead
        add("rep2", "出差", at(MONDAY + timedelta(days=12), 8), at(MONDAY + timedelta(days=12), 18))
        with pytest.raises(NeedsConfirmation) as warned:
            try_add("rep2", at(MONDAY, 17), at(MONDAY, 18), rrule="FREQ=DAILY;COUNT=20")
        assert "李四 在 2026-12-05 08:00–18:00 已有日程“出差”" == str(warned.value)


def test_an_all_day_event_fills_its_local_day(app, staff):
    wednesday = MONDAY + timedelta(days=2)
    with app.test_request_context():
        events.create(db.session, EventInput(title="外出培训", all_day=True, first_day=wednesday, last_day=wednesday),
                      actor=actor("rep1"), now=FIXED_NOW, tz=TZ)
        db.session.commit()
        with pytest.raises(NeedsConfirmation) as warned:
            try_add("rep1", at(wednesday, 23), at(wednesday + timedelta(days=1), 1))
        assert str(warned.value) == "张三 在 2026-11-25 全天 已有日程“外出培训”"
        try_add("rep1", at(wednesday + timedelta(days=1), 0), at(wednesday + timedelta(days=1), 1))
        try_add("rep1", at(wednesday - timedelta(days=1), 22), at(wednesday, 0))
        with pytest.raises(NeedsConfirmation):
            events.create(db.session, EventInput(title="全天", all_day=True, first_day=wednesday),
                          actor=actor("rep1"), now=FIXED_NOW, tz=TZ)


@pytest.mark.parametrize("minutes", [0, -30])
def test_an_event_ending_before_or_when_it_starts_is_refused(app, staff, minutes):
    with app.test_request_context(), pytest.raises(InvalidValue) as refused:
        try_add("rep1", at(MONDAY, 14), at(MONDAY, 14) + timedelta(minutes=minutes))
    assert str(refused.value) == "结束时间必须晚于开始时间"
    with app.app_context():
        assert db.session.scalar(select(Event.id)) is None


def test_a_repeat_without_an_end_is_refused(app, staff):
    with app.test_request_context(), pytest.raises(InvalidValue) as refused:
        try_add("rep1", at(MONDAY, 14), at(MONDAY, 15), rrule="FREQ=WEEKLY;BYDAY=MO")
    assert str(refused.value) == "重复规则必须设置结束日期或次数"


@pytest.mark.both_dbs
def test_a_drag_from_a_stale_page_is_refused_and_a_current_one_moves_it_for_everyone(app, staff):
    with app.test_request_context():
        event = add("rep1", "拜访", at(MONDAY, 14), at(MONDAY, 15), with_=("rep2",))
        seen = event.version
        events.update_event(db.session, event.id, EventInput(title="拜访客户", starts_at=event.starts_at,
                                                             ends_at=event.ends_at, participant_ids=[staff["rep2"]]),
                            actor=actor("rep1"), now=FIXED_NOW, tz=TZ, expected_version=seen)
        db.session.commit()
        with pytest.raises(ChangedMeanwhile):
            events.move(db.session, event.id, starts_at=at(MONDAY, 16), ends_at=at(MONDAY, 17), all_day=False,
                        actor=actor("rep1"), now=FIXED_NOW, tz=TZ, expected_version=seen)
        db.session.rollback()
        assert db.session.get(Event, event.id).starts_at == at(MONDAY, 14)
        events.move(db.session, event.id, starts_at=at(MONDAY, 16), ends_at=at(MONDAY, 17), all_day=False,
                    actor=actor("rep1"), now=FIXED_NOW, tz=TZ, expected_version=seen + 1)
        db.session.commit()
        shown = events.occurrences(db.session, actor("rep2"), at(MONDAY, 0), at(MONDAY, 23), tz=TZ)
        assert [(o.title, o.starts_at) for o in shown] == [("拜访客户", at(MONDAY, 16))]
        # a participant sees it but may not move it
        with pytest.raises(NotEditable) as refused:
            events.move(db.session, event.id, starts_at=at(MONDAY, 18), ends_at=None, all_day=False,
                        actor=actor("rep2"), now=FIXED_NOW, tz=TZ, expected_version=seen + 2)
        assert "只有日程的创建人" in str(refused.value)


def test_participants_are_notified_and_reminded_once_per_occurrence(app, staff, clock):
    with app.test_request_context():
        event = add("rep1", "晨会", at(MONDAY, 10, 30), at(MONDAY, 11), with_=("rep2",),
                    rrule="FREQ=DAILY;COUNT=3", remind_minutes=15)
        invited = db.session.scalars(select(Notification).where(Notification.user_id == staff["rep2"])).all()
        assert [(n.kind, n.title) for n in invited] == [
            (NotificationKind.EVENT, "张三 邀请您参加日程“晨会”（2026-11-23 10:30）")]
        assert events.remind_upcoming(db.session, clock.now, tz=TZ) == 0  # 10:00, half an hour ahead
        clock.advance(minutes=16)
        assert events.remind_upcoming(db.session, clock.now, tz=TZ) == 2  # the owner and the participant
        db.session.commit()
        assert events.remind_upcoming(db.session, clock.now, tz=TZ) == 0
        clock.advance(days=1)
        assert events.remind_upcoming(db.session, clock.now, tz=TZ) == 2  # the next day's occurrence
        db.session.commit()
        titles = db.session.scalars(select(Notification.title).where(Notification.user_id == staff["rep1"],
                                                                     Notification.kind == NotificationKind.EVENT)
                                    .order_by(Notification.id)).all()
        assert titles == ["日程提醒：晨会（11-23 10:30）", "日程提醒：晨会（11-24 10:30）"]
        assert event.id


@pytest.mark.both_dbs
def test_the_team_calendar_shows_only_staff_in_scope_and_an_event_page_outside_is_out_of_scope(app, staff):
    with app.test_request_context():
        mine = add("rep1", "拜访", at(MONDAY, 14), at(MONDAY, 15))
        theirs = add("out", "客服回访", at(MONDAY, 9), at(MONDAY, 10))
        everyone = [staff[u] for u in ("mgr", "rep1", "rep2", "out")]
        shown = events.occurrences(db.session, actor("mgr"), at(MONDAY, 0), at(MONDAY, 23), tz=TZ, user_ids=everyone)
        assert [o.title for o in shown] == ["拜访"]
        assert {u.username for u in events.team(db.session, actor("mgr"))} == {"mgr", "rep1", "rep2"}
        assert events.occurrences(db.session, actor("rep2"), at(MONDAY, 0), at(MONDAY, 23), tz=TZ,
                                  user_ids=[staff["rep1"]]) == []
        assert scope.get_in_scope(db.session, Event, mine.id, actor("mgr")).title == "拜访"
        for who, event_id in (("mgr", theirs.id), ("rep2", mine.id)):
            with pytest.raises(OutOfScope):
                scope.get_in_scope(db.session, Event, event_id, actor(who))


def test_next_contact_days_of_ones_customers_show_read_only(app, staff, make_customer):
    cid = make_customer("杭州瑞和科技", staff["rep1"])
    make_customer("别人的客户", staff["rep2"])
    with app.test_request_context():
        for customer in db.session.scalars(select(Customer)):
            customer.next_contact_at = MONDAY + timedelta(days=1)
        db.session.commit()
        shown = events.occurrences(db.session, actor("rep1"), at(MONDAY, 0), at(MONDAY + timedelta(days=7), 0), tz=TZ)
        assert [(o.kind, o.id, o.title, o.all_day, o.editable) for o in shown] == [
            ("next_contact", cid, "下次联系：杭州瑞和科技", True, False)]


@pytest.mark.both_dbs
def test_a_teams_month_counts_each_persons_events_per_local_day(app, staff):
    with app.test_request_context():
        add("rep1", "早会", at(MONDAY, 0, 30), at(MONDAY, 1))  # 16:30 UTC the day before: counted on Monday
        add("rep1", "拜访", at(MONDAY, 14), at(MONDAY, 15), with_=("rep2",))
        add("rep2", "周会", at(MONDAY, 9), at(MONDAY, 10), rrule="FREQ=WEEKLY;COUNT=3")
        add("out", "客服回访", at(MONDAY, 9), at(MONDAY, 10))
        gone = add("rep1", "取消的", at(MONDAY, 16), at(MONDAY, 17))
        events.delete(db.session, gone.id, actor=actor("rep1"), now=FIXED_NOW, tz=TZ, expected_version=None)
        db.session.commit()
        everyone = [staff[u] for u in ("mgr", "rep1", "rep2", "out")]
        loads = events.day_loads(db.session, actor("mgr"), at(MONDAY, 0), at(MONDAY + timedelta(days=21), 0), tz=TZ,
                                 user_ids=everyone)
        assert [(d.user_id, d.day, d.count) for d in loads] == [
            (staff["rep1"], MONDAY, 2), (staff["rep2"], MONDAY, 2),
            (staff["rep2"], MONDAY + timedelta(weeks=1), 1), (staff["rep2"], MONDAY + timedelta(weeks=2), 1)]


def test_events_that_began_before_the_range_still_show_in_it(app, staff):
    with app.test_request_context():
        events.create(db.session, EventInput(title="出差北京", all_day=True, first_day=MONDAY - timedelta(days=3),
                                             last_day=MONDAY + timedelta(days=1)),
                      actor=actor("rep1"), now=FIXED_NOW, tz=TZ)
        add("rep1", "夜间发货", at(MONDAY - timedelta(days=1), 22), at(MONDAY, 2))
        add("rep1", "上周的会", at(MONDAY - timedelta(days=2), 9), at(MONDAY - timedelta(days=2), 10))
        db.session.commit()
        shown = events.occurrences(db.session, actor("rep1"), at(MONDAY, 0), at(MONDAY, 23), tz=TZ)
        assert [o.title for o in shown] == ["出差北京", "夜间发货"]
        with pytest.raises(NeedsConfirmation) as warned:
            try_add("rep1", at(MONDAY, 1), at(MONDAY, 3))
        assert "出差北京" in str(warned.value) and "夜间发货" in str(warned.value)
