"""农历生日 (万年历): a lunar birthday's solar day over 2026–2030 (闰月 and the 30th of a short
month included), the birthday greeting and 待关怀 finding a lunar-birthday contact on that day,
and the 日程 calendar's day labels (lunar date, 休 / 班)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from jobs import messaging as messaging_jobs
from models import Contact, Customer, User, db
from models.messaging import MessageTemplate, Outbox
from rules import care, clock as process_clock, lunar, messaging
from rules.actor import Actor
from rules.lunar import LunarBirthday as B

# (lunar birthday, {lunar year: (solar day, note)}); 2025 has
# 闰六月, 2028 闰五月, 2026/2027/2029/2030 no leap month.
TABLE = [
    # 中秋 and 春节: the published dates
    (B(8, 15), {2026: ("2026-09-25", None), 2027: ("2027-09-15", None), 2028: ("2028-10-03", None),
                2029: ("2029-09-22", None), 2030: ("2030-09-12", None)}),
    (B(1, 1), {2026: ("2026-02-17", None), 2027: ("2027-02-06", None), 2028: ("2028-01-26", None),
               2029: ("2029-02-13", None), 2030: ("2030-02-03", None)}),
    (B(5, 10, leap=True), {2026: ("2026-06-24", "本年无闰五月，按五月"), 2027: ("2027-06-14", "本年无闰五月，按五月"),
                           2028: ("2028-07-02", None), 2029: ("2029-06-21", "本年无闰五月，按五月"),
                           2030: ("2030-06-10", "本年无闰五月，按五月")}),
    (B(6, 15, leap=True), {2025: ("2025-08-08", None), 2026: ("2026-07-28", "本年无闰六月，按六月")}),
    (B(10, 30), {2026: ("2026-12-08", None), 2027: ("2027-11-27", None), 2028: ("2028-12-15", None),
                 2029: ("2029-12-04", "本年农历十月无三十，按二十九日"),
                 2030: ("2030-11-24", "本年农历十月无三十，按二十九日")}),
    (B(12, 30), {2026: ("2027-02-05", "本年农历腊月无三十，按二十九日"), 2029: ("2030-02-02", None)}),
]


def test_lunar_birthday_to_solar_date_2026_to_2030():
    for birthday, years in TABLE:
        for year, (solar, note) in years.items():
            placed = lunar.solar_date(birthday, year)
            assert (placed.day.isoformat(), placed.note) == (solar, note), (str(birthday), year)
            # and the other way round: the greeting job finds this birthday on that solar day
            assert (birthday.month, birthday.day, birthday.leap) in lunar.keys_on(placed.day), (str(birthday), year)
    assert [str(b) for b, _ in TABLE] == ["八月十五", "正月初一", "闰五月初十", "闰六月十五", "十月三十", "腊月三十"]
    assert lunar.text(date(2026, 11, 12)) == "十月初四" and lunar.text(date(2025, 8, 8)) == "闰六月十五"
    assert lunar.next_birthday(B(6, 15, leap=True), date(2026, 11, 23)).day == date(2027, 7, 18)


def _at(year, month, day, hour):
    return datetime(year, month, day, hour, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc)


@pytest.mark.both_dbs
def test_the_birthday_greeting_and_upcoming_care_follow_the_lunar_birthday(app, make_user):
    uid = make_user("chenxm", display_name="陈晓明")
    with app.app_context():
        company = Customer(name="瑞和公司", kind="company", owner_id=uid)
        company.contacts = [
            # greeted by the lunar calendar: 十月十五 is 2026-11-23; the solar birthday is ignored
            Contact(name="农历十月十五", mobile="13900000001", birthday=date(1980, 1, 1), lunar_birth_month=10,
                    lunar_birth_day=15, birthday_calendar="lunar"),
            # a lunar birthday typed but the greeting follows the solar one (23 November)
            Contact(name="公历生日", mobile="13900000002", birthday=date(1985, 11, 23), lunar_birth_month=1,
                    lunar_birth_day=1),
            # solar 23 November, but greeted on 正月初一
            Contact(name="农历正月初一", mobile="13900000003", birthday=date(1990, 11, 23), lunar_birth_month=1,
                    lunar_birth_day=1, birthday_calendar="lunar"),
            Contact(name="闰六月十五", mobile="13900000004", lunar_birth_month=6, lunar_birth_day=15,
                    lunar_birth_leap=True, birthday_calendar="lunar"),
            Contact(name="十月三十", mobile="13900000005", lunar_birth_month=10, lunar_birth_day=30,
                    birthday_calendar="lunar"),
        ]
        db.session.add(company)
        template = MessageTemplate(channel="sms", name="生日", body="{称呼}，生日快乐！")
        db.session.add(template)
        db.session.flush()
        messaging.save_settings(db.session, {"birthday_enabled": True, "birthday_hour": 9,
                                             "birthday_template_id": template.id, "birthday_contacts": True})
        db.session.commit()

        def greeted(*moment) -> list[str]:
            process_clock.pin(_at(*moment, 10))
            before = db.session.scalar(select(Outbox.id).order_by(Outbox.id.desc()).limit(1)) or 0
            messaging_jobs.birthday_greetings()
            return sorted(db.session.scalars(select(Outbox.to_name).where(Outbox.id > before)))

        assert greeted(2026, 11, 23) == ["公历生日", "农历十月十五"]
        assert greeted(2027, 2, 6) == ["农历正月初一"]       # 春节 2027
        assert greeted(2027, 7, 18) == ["闰六月十五"]        # no 闰六月 in 2027: 六月十五
        assert greeted(2029, 12, 4) == ["十月三十"]          # 十月 of 2029 has 29 days
        assert greeted(2029, 12, 5) == []

        actor = Actor.from_user(db.session.get(User, uid))
        rows = care.upcoming(db.session, actor=actor, today=date(2026, 12, 3), days=7)
        assert [(r.day.isoformat(), r.contact.name) for r in rows] == [("2026-12-08", "十月三十")]


def test_the_calendar_labels_days_with_the_lunar_date_and_holidays(app, client, make_user):
    make_user("chenxm")
    client.login("chenxm")
    days = client.get("/admin/event/days?start=2026-09-28&end=2026-11-09").get_json()
    assert len(days) == 42
    assert days["2026-10-01"] == {"lunar": "廿一", "lunar_date": "八月廿一", "holiday": "国庆节", "kind": "off",
                                  "mark": "休"}
    assert days["2026-10-10"]["kind"] == "workday" and days["2026-10-10"]["mark"] == "班"  # 调休 Saturday
    assert days["2026-10-18"]["lunar"] == "重阳节" and days["2026-11-07"]["lunar"] == "立冬"
    assert days["2026-10-10"]["lunar"] == "九月" and days["2026-10-11"]["kind"] == ""  # 初一 names its month
    assert days["2026-10-02"]["holiday"] == "国庆节"
    assert client.get("/admin/event/days?start=2026-01-01&end=2026-12-31").status_code == 400
    page = client.get("/admin/event/").get_data(as_text=True)
    assert 'data-days-url="/admin/event/days"' in page
