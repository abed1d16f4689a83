"""The demo company has a week on its calendar: visits and calls on each salesperson's own
customers, the weekly meeting they are invited to, the month-end review on the last day."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from conftest import seeded_demo
from models import User, db
from rules import events, recurrence
from rules.actor import Actor
from rules.clock import local_date


def test_demo_week_on_the_calendar(app, tmp_path, clock):
    seeded_demo(app, tmp_path)
    with app.test_request_context():
        today = local_date(clock.now, "Asia/Shanghai")
        monday = today - timedelta(days=today.weekday())
        start, end = recurrence.day_span(monday, monday + timedelta(days=6), "Asia/Shanghai")
        chen = Actor.from_user(db.session.scalar(select(User).where(User.username == "chenxm")))
        week = events.occurrences(db.session, chen, start, end, tz="Asia/Shanghai")
        titles = [o.title for o in week if o.kind == "event"]
        assert "销售一部周例会" in titles
        assert sum(t.startswith(("拜访", "到", "陪同")) or "续约" in t for t in titles) >= 3
        boss = Actor.from_user(db.session.scalar(select(User).where(User.username == "wangjl")))
        team = [u.id for u in events.team(db.session, boss)]
        seen = events.occurrences(db.session, boss, start, start + timedelta(days=40), tz="Asia/Shanghai",
                                  user_ids=team)
        reviews = [o.starts_at.astimezone(ZoneInfo("Asia/Shanghai")) for o in seen if o.title == "月度销售总结"]
        assert reviews and all((r + timedelta(days=1)).day == 1 for r in reviews)  # the last day of each month
        assert {o.title for o in seen} >= {"销售一部周例会", "产品知识培训（外出）"}
