"""SLA arithmetic in working hours (the firm's week Mon–Fri 09:00–12:00 and 13:30–18:00 in
Asia/Shanghai, China's 2026 National Day holiday and its 调休 Saturday), a ticket's clock paused
and resumed, policy matching, and a calendar with no working hours refused."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW
from models import (
    Customer, DictItem, DictKind, Holiday, HolidayKind, HolidaySource, SlaPolicy, StatusCategory, Ticket,
    TicketStatus, db,
)
from rules import sla, sla_policies, working_calendar
from rules.errors import CalendarRefused
from rules.working_calendar import Calendar, add_working, working_seconds_between

SH = ZoneInfo("Asia/Shanghai")
WEEK = working_calendar.DEFAULT_WEEK
# 2026 国庆: Oct 1–7 off (the 1st, 2nd, 5th–7th are weekdays), Saturday Oct 10 worked (调休).
NATIONAL_DAY = {**{date(2026, 10, d): HolidayKind.OFF for d in (1, 2, 5, 6, 7)},
                date(2026, 10, 10): HolidayKind.WORKDAY}
CAL = Calendar(week=WEEK, holidays=NATIONAL_DAY)


def at(text: str) -> datetime:
    """A Shanghai wall-clock time as the UTC instant the database keeps."""
    return datetime.fromisoformat(text).replace(tzinfo=SH).astimezone(ZoneInfo("UTC"))


# (what it shows, start, working minutes, due) — FIXED_NOW is Monday 2026-11-23 10:00 in Shanghai.
TABLE = [
    ("an hour inside the morning", "2026-11-23 10:00", 60, "2026-11-23 11:00"),
    ("a morning's end is the due, not the afternoon's start", "2026-11-23 09:00", 180, "2026-11-23 12:00"),
    ("the lunch break does not count", "2026-11-23 11:30", 60, "2026-11-23 14:00"),
    ("across a weekend", "2026-11-27 17:00", 120, "2026-11-30 10:00"),
    ("a start in the evening counts from the next morning", "2026-11-23 20:00", 30, "2026-11-24 09:30"),
    ("a start on a Sunday counts from Monday", "2026-11-22 15:00", 90, "2026-11-23 10:30"),
    ("a start in the lunch break counts from 13:30", "2026-11-23 12:10", 30, "2026-11-23 14:00"),
    ("across the National Day holiday", "2026-09-30 17:00", 120, "2026-10-08 10:00"),
    ("the 调休 Saturday is worked", "2026-10-09 17:00", 120, "2026-10-10 10:00"),
    ("a working day is 7.5 hours", "2026-11-23 09:00", 450, "2026-11-23 18:00"),
    ("two working days", "2026-11-23 09:00", 900, "2026-11-24 18:00"),
]


def test_working_time_table():
    for what, start, minutes, due in TABLE:
        assert add_working(CAL, at(start), minutes * 60) == at(due), what
        # and back: the working time between the start and the due is what was asked for
        assert working_seconds_between(CAL, at(start), at(due)) == minutes * 60, what
    assert working_seconds_between(CAL, at("2026-11-27 17:00"), at("2026-11-30 10:00")) == 2 * 3600
    assert working_seconds_between(CAL, at("2026-11-24 10:00"), at("2026-11-23 10:00")) == 0


def test_a_week_without_working_hours_is_refused():
    with pytest.raises(CalendarRefused, match="工作时间不能全部为空"):
        working_calendar.check_week({d: () for d in range(7)})
    with pytest.raises(CalendarRefused, match="结束须晚于开始"):
        working_calendar.check_week({0: ((600, 540),)})
    with pytest.raises(CalendarRefused, match="工作时间不能全部为空"):
        add_working(Calendar(week={}), at("2026-11-23 10:00"), 60)


def test_official_days_imported_and_the_administrators_kept(app):
    with app.app_context():
        working_calendar.set_day(db.session, date(2026, 10, 1), HolidayKind.OFF, "公司庆典")  # the admin's own
        done = working_calendar.import_official(db.session, 2026)
        assert done.known and done.added > 20
        days = {h.day: h for h in working_calendar.days_of_year(db.session, 2026)}
        assert days[date(2026, 10, 1)].name == "公司庆典" and days[date(2026, 10, 1)].source == HolidaySource.ADMIN
        assert (days[date(2026, 10, 5)].kind, days[date(2026, 10, 5)].name) == (HolidayKind.OFF, "国庆节")
        assert days[date(2026, 10, 10)].kind == HolidayKind.WORKDAY
        assert date(2026, 10, 3) not in days  # an ordinary Saturday is the working week's business
        again = working_calendar.import_official(db.session, 2026)
        assert len(working_calendar.days_of_year(db.session, 2026)) == len(days) and again.added == done.added
        # a year the package does not know: nothing seeded, the page asks for the days by hand
        assert working_calendar.import_official(db.session, 2099) == working_calendar.Imported(2099, 0, False)


def _ticket(session, customer_id, user_id, *, priority="normal", type_id=None) -> Ticket:
    status = session.scalar(select(TicketStatus).where(TicketStatus.is_initial.is_(True)))
    ticket = Ticket(number=f"T{priority}{type_id}", customer_id=customer_id, created_by_id=user_id,
                    status_id=status.id, status_category=StatusCategory.OPEN, subject="净水器漏水",
                    priority=priority, type_id=type_id, created_at=FIXED_NOW)
    session.add(ticket)
    return ticket


def test_policy_matching_most_specific_wins(app, make_user, make_customer):
    user = make_user("kf")
    customer = make_customer("杭州瑞和科技有限公司", user)
    with app.app_context():
        complaint = db.session.scalar(select(DictItem).where(DictItem.kind == DictKind.TICKET_TYPE, DictItem.name == "投诉"))
        repair = db.session.scalar(select(DictItem).where(DictItem.kind == DictKind.TICKET_TYPE, DictItem.name == "维修"))
        vip, plain = db.session.scalars(select(DictItem).where(DictItem.kind == DictKind.VALUE_LEVEL)
                                        .order_by(DictItem.sort_order).limit(2)).all()
        db.session.get(Customer, customer).value_level_id = vip.id
        rows = {"priority": SlaPolicy(priority="high", first_response_minutes=60, resolution_minutes=600),
                "level": SlaPolicy(priority="high", value_level_id=vip.id, first_response_minutes=50, resolution_minutes=500),
                "type": SlaPolicy(priority="high", type_id=complaint.id, first_response_minutes=40, resolution_minutes=400),
                "both": SlaPolicy(priority="high", type_id=complaint.id, value_level_id=vip.id,
                                  first_response_minutes=30, resolution_minutes=300),
                "other level": SlaPolicy(priority="high", type_id=repair.id, value_level_id=plain.id,
                                         first_response_minutes=20, resolution_minutes=200)}
        db.session.add_all(rows.values())
        db.session.flush()

        def picked(type_id, level_id, priority="high"):
            return sla_policies.match(db.session, priority=priority, type_id=type_id, value_level_id=level_id)
        assert picked(complaint.id, vip.id) is rows["both"]
        assert picked(complaint.id, plain.id) is rows["type"]
        assert picked(repair.id, vip.id) is rows["level"]
        assert picked(repair.id, None) is rows["priority"]
        assert picked(complaint.id, vip.id, priority="low") is None  # no policy: no due
        rows["both"].active = False
        assert picked(complaint.id, vip.id) is rows["type"]
        twin = SlaPolicy(priority="high", type_id=complaint.id, first_response_minutes=10, resolution_minutes=100, active=True)
        with pytest.raises(sla_policies.SlaPolicyRefused, match="已有相同"):
            sla_policies.check(db.session, twin)

        ticket = _ticket(db.session, customer, user, priority="high", type_id=complaint.id)
        sla.on_created(db.session, ticket, FIXED_NOW)  # Monday 10:00: 40 and 400 working minutes
        assert ticket.first_response_due_at == at("2026-11-23 10:40")
        assert ticket.resolution_due_at == at("2026-11-24 09:10")  # 2 h + 4.5 h on Monday, 40 min on Tuesday
        ticket.priority = "low"
        sla.on_priority_change(db.session, ticket, FIXED_NOW + timedelta(hours=1))
        assert ticket.first_response_due_at is None and ticket.resolution_due_at is None
        db.session.rollback()


def test_pause_and_resume_keep_the_working_time_left(app, make_user, make_customer):
    user = make_user("kf")
    customer = make_customer("上海某某", user)
    with app.app_context():
        db.session.add(SlaPolicy(priority="normal", first_response_minutes=120, resolution_minutes=480))
        ticket = _ticket(db.session, customer, user)
        sla.on_created(db.session, ticket, FIXED_NOW)  # Monday 10:00 + 8 working hours
        assert ticket.resolution_due_at == at("2026-11-24 10:30")
        ticket.first_responded_at = at("2026-11-23 11:00")  # a reply first, then 等待客户
        paused = at("2026-11-23 14:00")  # 2.5 h worked: 5.5 h left
        ticket.status_category = StatusCategory.PAUSED
        sla.on_category_change(db.session, ticket, StatusCategory.OPEN, StatusCategory.PAUSED, paused)
        assert (ticket.resolution_due_at, ticket.sla_paused_at, ticket.sla_remaining_seconds) == (None, paused, 5.5 * 3600)
        assert sla.state(ticket, at("2026-11-25 08:00")) is sla.SlaState.PAUSED  # a day and a half later: not late
        ticket.status_category = StatusCategory.OPEN
        sla.on_category_change(db.session, ticket, StatusCategory.PAUSED, StatusCategory.OPEN, at("2026-11-25 09:00"))
        assert ticket.resolution_due_at == at("2026-11-25 16:00")  # Wednesday: 3 h before lunch, 2.5 h after
        assert ticket.sla_paused_at is None and ticket.sla_remaining_seconds is None
        # resolved, then reopened a week later: a fresh 8 working hours from the reopening
        ticket.status_category = StatusCategory.RESOLVED
        sla.on_category_change(db.session, ticket, StatusCategory.OPEN, StatusCategory.RESOLVED, at("2026-11-25 15:00"))
        assert ticket.resolution_due_at == at("2026-11-25 16:00")
        ticket.status_category = StatusCategory.OPEN
        sla.on_category_change(db.session, ticket, StatusCategory.RESOLVED, StatusCategory.OPEN, at("2026-12-02 09:00"))
        assert ticket.resolution_due_at == at("2026-12-03 09:30")
        db.session.rollback()
