"""A salesperson's week on the calendar: the calendar (served from this machine) shows their
events and a customer's 下次联系, a drag moves a visit to another day and time, a new event that
clashes with a colleague's asks first; the manager's team view shows both of them."""
from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, log_in, screenshot
from models import Customer, Event, User, db
from rules import events
from rules.actor import Actor
from rules.events import EventInput

pytestmark = pytest.mark.browser

SH = ZoneInfo("Asia/Shanghai")
TODAY = FIXED_NOW.astimezone(SH).date()  # Monday 2026-11-23
SHOTS = Path("/work/shots/calendar")


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH).astimezone(timezone.utc)


def add(app, username: str, title: str, start: datetime, end: datetime, **extra) -> int:
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == username))
        event = events.create(db.session, EventInput(title=title, starts_at=start, ends_at=end, **extra),
                              actor=Actor.from_user(user), now=FIXED_NOW, tz="Asia/Shanghai", confirmed=True)
        db.session.commit()
        return event.id


def shot(page, name: str) -> None:
    path = screenshot(page, name)
    if SHOTS.parent.is_dir():  # the engineers' machine keeps a copy to look at
        SHOTS.mkdir(exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


def test_a_week_on_the_calendar(app, page, make_user, make_customer):
    from playwright.sync_api import expect

    make_user("sup", role="主管", display_name="王主管")
    rep = make_user("chenxm", display_name="陈晓明")
    make_user("lina", display_name="李娜")
    customer = make_customer("西湖龙井茶庄", rep)
    with app.app_context():
        db.session.get(Customer, customer).next_contact_at = TODAY + timedelta(days=2)
        db.session.commit()
    visit = add(app, "chenxm", "拜访西湖龙井茶庄", at(TODAY, 14), at(TODAY, 15))
    add(app, "chenxm", "周例会", at(TODAY, 9), at(TODAY, 10), rrule="FREQ=WEEKLY;COUNT=8")
    add(app, "lina", "客户来访", at(TODAY + timedelta(days=3), 10), at(TODAY + timedelta(days=3), 12))

    log_in(page, "chenxm")
    today = page.locator('[data-widget="today_events"]')  # the workbench: what is left of today
    expect(today).to_contain_text("拜访西湖龙井茶庄")
    expect(today).not_to_contain_text("周例会")  # 09:00–10:00, over at 10:00
    today.screenshot(path=str(screenshot(page, "69-workbench").with_name("69-workbench-today.png")))
    page.goto(page.base + "/admin/event/")
    visit_block = page.locator(".fc-event", has_text="拜访西湖龙井茶庄")
    expect(visit_block).to_have_count(1)
    expect(page.locator(".fc-event", has_text="下次联系：西湖龙井茶庄")).to_have_count(1)
    expect(page.locator(".fc-event", has_text="周例会")).to_have_count(1)
    expect(page.locator(".fc-toolbar-title")).to_contain_text("2026")
    shot(page, "70-calendar-week")

    # drag the visit to Tuesday 16:00
    tuesday = (TODAY + timedelta(days=1)).isoformat()
    column = page.locator(f'td.fc-timegrid-col[data-date="{tuesday}"]').bounding_box()
    slot = page.locator('td.fc-timegrid-slot-lane[data-time="16:00:00"]').bounding_box()
    box = visit_block.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 6)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + box["width"] / 2 + (column["x"] + column["width"] / 2 - box["x"] - box["width"] / 2)
                        * step / 10, box["y"] + 6 + (slot["y"] + 4 - box["y"] - 6) * step / 10)
        page.wait_for_timeout(30)
    page.mouse.up()
    expect(page.locator(".kechi-cal-message")).to_contain_text("日程已移到 2026-11-24 16:00")
    with app.app_context():
        assert db.session.get(Event, visit).starts_at == at(TODAY + timedelta(days=1), 16)
    shot(page, "71-calendar-dragged")
    visit_block.click()  # its page
    expect(page.locator(".card-title")).to_contain_text("拜访西湖龙井茶庄")
    expect(page.locator("dl")).to_contain_text("2026-11-24 16:00")
    shot(page, "77-event-page")
    page.go_back()

    page.click(".fc-dayGridMonth-button")
    expect(page.locator(".fc-event", has_text="周例会")).to_have_count(2)  # Mondays of November's last rows
    shot(page, "72-calendar-month")

    # a new event that clashes with a colleague's asks first
    page.goto(page.base + f"/admin/event/new?date={(TODAY + timedelta(days=3)).isoformat()}&time=11:00")
    page.fill("#ev-title", "陪同李娜见客户")
    page.select_option("#ev-participants", label="李娜")
    page.click(".kechi-event-form button[type=submit]")
    expect(page.locator(".alert-danger, .alert-error").first).to_contain_text("李娜 在 2026-11-26 10:00–12:00 已有日程“客户来访”")
    expect(page.locator("#ev-title")).to_have_value("陪同李娜见客户")
    shot(page, "73-calendar-conflict")
    page.check("input[name=confirm]")
    page.click(".kechi-event-form button[type=submit]")
    expect(page.locator(".fc-event", has_text="陪同李娜见客户")).to_have_count(1)

    log_in(page, "sup")
    page.goto(page.base + "/admin/event/?team=1")
    expect(page.locator(".fc-event", has_text="陈晓明：拜访西湖龙井茶庄")).to_have_count(1)
    expect(page.locator(".fc-event", has_text="李娜")).to_have_count(2)  # her visitor, and the joint one
    shot(page, "74-calendar-team")
    page.click(".fc-dayGridMonth-button")  # a team's month: each person's count per day
    expect(page.locator(".fc-event", has_text="陈晓明：1 项日程")).not_to_have_count(0)
    shot(page, "76-calendar-team-month")
    page.locator(".fc-event", has_text="李娜：2 项日程").click()
    expect(page.locator(".fc-event", has_text="陪同李娜见客户")).to_have_count(1)  # her day, every event
    expect(page.locator(".fc-event", has_text="客户来访")).to_have_count(1)
    shot(page, "75-calendar-team-day")
    assert all(url.startswith(page.base) or url.startswith("about:") or url.startswith("data:")
               for url in page.requested)
