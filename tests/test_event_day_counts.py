"""团队月视图's daily counts come from event_days, kept by the write rules: after a mixed history
of one-offs, all-day and multi-day events, series with occurrences taken out, moves, edits that
drop or add participants and deletions, the counts equal those counted from the events
themselves, and an upgrade fills the table from the events already there."""
from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import MIGRATIONS_DIR
from conftest import FIXED_NOW, app_at_revision
from models import Event, EventDay, User, db
from rules import events, recurrence
from rules.events import EventInput
from test_rules_events import MONDAY, SH, TZ, actor, at

REPS = ("rep1", "rep2", "rep3", "rep4")


@pytest.fixture
def staff(make_user):
    ids = {"mgr": make_user("mgr", role="主管", display_name="王主管")}
    for i, name in enumerate(REPS):
        ids[name] = make_user(name, display_name=f"业务员{i + 1}")
    return ids


def table_rows() -> Counter:
    return Counter({(u, d): n for u, d, n in db.session.execute(select(EventDay.user_id, EventDay.day,
                                                                             EventDay.count)) if n})


def history(staff: dict[str, int], seed: int) -> None:
    """A few weeks of a team's calendar, written and rewritten through the rules as people do."""
    rng = random.Random(seed)
    live: list[int] = []
    others = lambda owner: [staff[u] for u in rng.sample(REPS, rng.randint(0, 2)) if u != owner]  # noqa: E731

    def create(owner: str, **data) -> Event:
        event = events.create(db.session, EventInput(title="日程", participant_ids=others(owner), **data),
                              actor=actor(owner), now=FIXED_NOW, tz=TZ, confirmed=True)
        db.session.commit()
        live.append(event.id)
        return event

    for _ in range(40):
        owner = rng.choice(REPS)
        day = MONDAY + timedelta(days=rng.randint(-40, 40))
        kind = rng.random()
        if kind < 0.45:  # timed, some late at night or just after midnight (the UTC day before)
            hour = rng.choice([0, 7, 9, 14, 22, 23])
            start = at(day, hour, rng.choice([0, 30]))
            create(owner, starts_at=start, ends_at=start + timedelta(minutes=rng.choice([30, 60, 90])))
        elif kind < 0.6:  # all day, one day or several
            create(owner, all_day=True, first_day=day, last_day=day + timedelta(days=rng.choice([0, 0, 2, 5])))
        elif kind < 0.7:  # timed across several days
            create(owner, starts_at=at(day, 20), ends_at=at(day + timedelta(days=rng.randint(1, 3)), 10))
        else:  # series: weekly, daily until a date, on each month's last day, all-day weekly
            rule = rng.choice(["FREQ=WEEKLY;COUNT=12", "FREQ=DAILY;UNTIL=20261231T000000Z",
                               "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=6", "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=15"])
            if rng.random() < 0.3:
                create(owner, all_day=True, first_day=day, last_day=day, rrule=rule)
            else:
                start = at(day, rng.choice([0, 9, 23]))
                create(owner, starts_at=start, ends_at=start + timedelta(hours=1), rrule=rule)
    for event_id in rng.sample(live, 25):
        event = db.session.get(Event, event_id)
        owner = actor(db.session.get(User, event.owner_id).username)
        what = rng.random()
        if event.rrule is not None and what < 0.4:  # one occurrence taken out
            keys = [k for _s, _e, k in recurrence.occurrences(starts_at=event.starts_at, ends_at=event.ends_at,
                                                              rule=event.rrule, exdates=event.exdates, tz=TZ)]
            events.delete(db.session, event.id, actor=owner, now=FIXED_NOW, tz=TZ, expected_version=None,
                          occurrence=rng.choice(keys))
        elif event.rrule is None and not event.all_day and what < 0.4:  # dragged
            shift = timedelta(hours=rng.choice([-30, -5, 3, 26, 24 * 7]))
            events.move(db.session, event.id, starts_at=event.starts_at + shift, ends_at=event.ends_at + shift,
                        all_day=rng.random() < 0.2, actor=owner, now=FIXED_NOW, tz=TZ,
                        expected_version=event.version, confirmed=True)
        elif what < 0.75:  # edited: moved by days, participants dropped or added
            shift = timedelta(days=rng.randint(-3, 3))
            kept = [p.user_id for p in event.participants if p.user_id != event.owner_id and rng.random() < 0.5]
            added = [staff[u] for u in rng.sample(REPS, 1) if staff[u] != event.owner_id]
            first = event.starts_at.astimezone(SH).date() + shift
            last = (event.ends_at.astimezone(SH) - timedelta(days=1)).date() + shift
            data = (dict(all_day=True, first_day=first, last_day=max(first, last)) if event.all_day else
                    dict(starts_at=event.starts_at + shift, ends_at=event.ends_at + shift))
            events.update_event(db.session, event.id, EventInput(title="改过", rrule=event.rrule,
                                                                 participant_ids=kept + added, **data),
                                actor=owner, now=FIXED_NOW, tz=TZ, expected_version=event.version, confirmed=True)
        else:
            events.delete(db.session, event.id, actor=owner, now=FIXED_NOW, tz=TZ, expected_version=None)
        db.session.commit()


@pytest.mark.both_dbs
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_kept_daily_counts_equal_the_events_counted_after_any_history(app, staff, seed):
    with app.test_request_context():
        history(staff, seed)
        kept = table_rows()
        assert sum(kept.values()) > 50
        everyone = list(staff.values())
        # every month grid of the history (42 local days from a Monday), as the team view asks
        for first in (MONDAY - timedelta(days=49), MONDAY - timedelta(days=21), MONDAY + timedelta(days=14)):
            start, end = at(first, 0), at(first + timedelta(days=42), 0)
            shown = events.day_loads(db.session, actor("mgr"), start, end, tz=TZ, user_ids=everyone)
            counted = events._counted_day_loads(db.session, everyone, start, end, TZ)
            assert [(d.user_id, d.day, d.count) for d in shown] == [(d.user_id, d.day, d.count) for d in counted]
        # and the whole table is what counting every live event afresh gives
        events.rebuild_day_counts(db.session, TZ)
        assert table_rows() == kept


@pytest.mark.both_dbs
def test_a_range_cut_inside_a_day_counts_only_its_part(app, staff):
    with app.test_request_context():
        for hour in (9, 15):
            events.create(db.session, EventInput(title="拜访", starts_at=at(MONDAY, hour), ends_at=at(MONDAY, hour + 1)),
                          actor=actor("rep1"), now=FIXED_NOW, tz=TZ)
        db.session.commit()
        loads = events.day_loads(db.session, actor("mgr"), at(MONDAY, 12), at(MONDAY, 23), tz=TZ,
                                 user_ids=[staff["rep1"]])
        assert [(d.day, d.count) for d in loads] == [(MONDAY, 1)]


PREVIOUS = "cb4d005ff6d8"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrading_counts_the_events_already_on_the_calendars(tmp_path, kind):
    with app_at_revision(kind, tmp_path, PREVIOUS):
        with db.engine.begin() as conn:
            now = "2026-11-01 08:00:00"
            conn.execute(text("INSERT INTO roles (id, name, data_scope, permissions, created_at, updated_at) "
                              "VALUES (1, '业务员', 'self', '[]', :now, :now)"), {"now": now})
            for uid in (1, 2):
                conn.execute(text(
                    "INSERT INTO users (id, username, display_name, password_hash, role_id, report_path, active, "
                    "locale, session_version, created_at, updated_at) VALUES (:id, :u, :u, 'x', 1, :path, true, "
                    "'zh_CN', 1, :now, :now)"), {"id": uid, "u": f"rep{uid}", "path": f"/{uid}/", "now": now})
            # 2026-11-23 00:30 Shanghai is 16:30 UTC the day before; a weekly series of three with
            # its second occurrence taken out; a deleted event (its participant rows gone)
            rows = [(1, "早会", "2026-11-22 16:30:00", "2026-11-22 17:00:00", None, "[]", "2026-11-22 17:00:00", 0, None),
                    (2, "周会", "2026-11-23 01:00:00", "2026-11-23 02:00:00", "FREQ=WEEKLY;COUNT=3",
                     '["2026-11-30T09:00:00"]', "2026-12-07 02:00:00", 1, None),
                    (3, "取消的", "2026-11-23 06:00:00", "2026-11-23 07:00:00", None, "[]", "2026-11-23 07:00:00", 0,
                     "2026-11-20 00:00:00")]
            for eid, title, s, e, rule, ex, last, long_span, gone in rows:
                conn.execute(text(
                    "INSERT INTO events (id, title, starts_at, ends_at, all_day, owner_id, rrule, exdates, "
                    "series_ends_at, version, deleted_at, created_at, updated_at) VALUES (:id, :t, :s, :e, false, 1, "
                    ":rule, :ex, :last, 1, :gone, :now, :now)"),
                    {"id": eid, "t": title, "s": s, "e": e, "rule": rule, "ex": ex, "last": last, "gone": gone,
                     "now": now})
                if gone is None:
                    for uid in (1, 2) if eid == 2 else (1,):
                        conn.execute(text(
                            "INSERT INTO event_participants (event_id, user_id, notified, starts_at, series_ends_at, "
                            "long_span) VALUES (:eid, :uid, false, :s, :last, :long)"),
                            {"eid": eid, "uid": uid, "s": s, "last": last, "long": bool(long_span)})
        upgrade(directory=MIGRATIONS_DIR)
        got = sorted(db.session.execute(select(EventDay.user_id, EventDay.day, EventDay.count)).all())
        assert [tuple(r) for r in got] == [(1, date(2026, 11, 23), 2), (1, date(2026, 12, 7), 1),
                                           (2, date(2026, 11, 23), 1), (2, date(2026, 12, 7), 1)]
