"""The demo company's week on the calendar (日程): visits and calls of the salespeople on their own
customers, the team's weekly meeting, an all-day training, the month-end review on the last day of
each month; all around the demo's day, made through rules/events like any user's."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Customer, User
from models.dictionary import DictKind
from rules import dictionaries, events
from rules.actor import Actor
from rules.events import EventInput

TZ = "Asia/Shanghai"
VISITS = ["拜访{c}，介绍新品", "到{c}现场看样", "{c}续约洽谈", "陪同{c}采购经理参观工厂"]
CALLS = ["电话回访{c}", "与{c}确认交货时间", "{c}报价跟进电话"]


def seed_calendar(session: Session, users: dict[str, User], *, now: datetime) -> None:
    zone = ZoneInfo(TZ)
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    types = {item.name: item.id for item in dictionaries.items(session, DictKind.EVENT_TYPE)}
    rng = random.Random(21)

    def add(user: User, title: str, day, start: time | None, hours: float = 1.0, **extra) -> None:
        if start is None:
            data = EventInput(title=title, all_day=True, first_day=day, last_day=day, **extra)
        else:
            begins = datetime.combine(day, start, zone)
            data = EventInput(title=title, starts_at=begins, ends_at=begins + timedelta(hours=hours), **extra)
        events.create(session, data, actor=Actor.from_user(user), now=now, tz=TZ, confirmed=True)

    team = [users[u] for u in ("chenxm", "liufang") if u in users]
    if "lizg" in users:
        add(users["lizg"], "销售一部周例会", monday, time(9, 0), 1, event_type_id=types.get("会议"),
            place="三楼会议室", participant_ids=[u.id for u in team], rrule="FREQ=WEEKLY;COUNT=12", remind_minutes=15)
    if "wangjl" in users:
        month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        add(users["wangjl"], "月度销售总结", month_end, time(16, 0), 1.5, event_type_id=types.get("会议"),
            participant_ids=[users[u].id for u in ("lizg", "zhaozg") if u in users],
            rrule="FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=6", remind_minutes=60)
    for username in ("chenxm", "liufang", "sunwei"):
        user = users.get(username)
        if user is None:
            continue
        customers = list(session.scalars(select(Customer).where(Customer.owner_id == user.id,
                                                                 Customer.deleted_at.is_(None))
                                         .order_by(Customer.id).limit(8)))
        for offset in range(-2, 5):
            day = today + timedelta(days=offset)
            if day.weekday() >= 5 or not customers:
                continue
            customer = rng.choice(customers)
            add(user, rng.choice(VISITS).format(c=customer.name), day, time(rng.choice([10, 14, 15]), 0), 1.5,
                event_type_id=types.get("拜访"), customer_id=customer.id, place=customer.address or None,
                remind_minutes=30)
            customer = rng.choice(customers)
            add(user, rng.choice(CALLS).format(c=customer.name), day, time(rng.choice([11, 16, 17]), 30), 0.5,
                event_type_id=types.get("电话"), customer_id=customer.id)
    if "sunwei" in users:
        add(users["sunwei"], "产品知识培训（外出）", today + timedelta(days=3), None, event_type_id=types.get("其他"),
            place="杭州培训中心")
