"""日程 at scale: 50 staff × two years of events (about 500k; 0.2% repeating series, a third with
colleagues invited). Timed against the same SQL run raw on the DB-API connection, and as the whole
feed request (/admin/event/feed) through the app:
- the month grid (42 days) of a manager's team, 50 and 10 staff: rules.events.day_loads, each
  person's count per day (a team's month is tens of thousands of events);
- the week of the same teams, every event: rules.events.occurrences;
- one salesperson's own month, every event.

    .venv/bin/python bench/bench_calendar.py --url sqlite:////tmp/kechi-cal-bench.db
    URL=$(bash bench/pg_server.sh start); .venv/bin/python bench/bench_calendar.py --url "$URL"

The database is created from scratch (tables dropped first): never point it at a shared one.
Figures: median and p95 (nearest rank) over --repeat runs after 3 warm-ups; ratios of medians.
The query plan of the range read is printed so the index use can be checked.
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import make_app, normalise_url  # noqa: E402

TZ = "Asia/Shanghai"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
FIRST = NOW - timedelta(days=640)  # two years of calendar, a few months of it still ahead
DAYS = 730


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def generate(users: int, per_user: int) -> tuple[int, int, list[int]]:
    """Staff in 5 departments under one 经理 (本部门及下属部门), and their events; returns the 经理's
    id, a 主管's id and every salesperson's id."""
    from sqlalchemy import insert

    from models import Event, EventParticipant, Role, db
    from rules import org, recurrence, setup
    from rules.events import SHORT_SPAN

    db.drop_all()
    db.create_all()
    roles = setup.ensure_defaults(db.session)
    rng = random.Random(21)
    manager = org.create_user(db.session, username="manager", password="bench-123", display_name="经理",
                              role=roles["经理"], department=org.ensure_department_path(db.session, ["销售部"]))
    staff, supervisor = [], None
    for i in range(users):
        dept = org.ensure_department_path(db.session, ["销售部", f"销售{i % 5 + 1}部"])
        role = roles["主管"] if i < 5 else db.session.scalar(db.select(Role).where(Role.name == "业务员"))
        user = org.create_user(db.session, username=f"rep{i}", password="bench-123", display_name=f"员工{i}",
                               role=role, department=dept, superior=manager)
        staff.append(user)
        if i == 0:
            supervisor = user
    db.session.commit()
    by_dept: dict[int, list[int]] = {}
    for u in staff:
        by_dept.setdefault(u.department_id, []).append(u.id)
    zone = ZoneInfo(TZ)
    events, people = [], []
    event_id = 0

    def flush() -> None:
        if events:
            db.session.execute(insert(Event), events)
            db.session.execute(insert(EventParticipant), people)
            events.clear()
            people.clear()

    for user in staff:
        for _ in range(per_user):
            event_id += 1
            day = FIRST + timedelta(days=rng.randrange(DAYS))
            local = day.astimezone(zone).replace(hour=rng.choice(range(8, 19)), minute=rng.choice((0, 30)),
                                                 second=0, microsecond=0)
            start = local.astimezone(timezone.utc)
            kind = rng.random()
            all_day = kind < 0.02
            rule = None
            if all_day:
                start, end = recurrence.day_span(local.date(), local.date() + timedelta(days=rng.choice((0, 0, 1, 2))),
                                                 TZ)
            else:
                end = start + timedelta(minutes=rng.choice((30, 60, 60, 90, 120, 180)))
            if 0.02 <= kind < 0.022:  # a series: about 20 per person over two years
                rule = rng.choice(("FREQ=WEEKLY;COUNT=20", "FREQ=DAILY;COUNT=30", "FREQ=WEEKLY;COUNT=52",
                                   "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=12"))
                rule = recurrence.normalize(rule, recurrence.local_start(start, TZ), TZ)
            series_end = recurrence.last_end(starts_at=start, ends_at=end, rule=rule, tz=TZ)
            long_span = rule is not None or series_end - start > SHORT_SPAN
            events.append({"id": event_id, "title": f"拜访客户{event_id}", "starts_at": start, "ends_at": end,
                           "all_day": all_day, "owner_id": user.id, "rrule": rule, "exdates": [],
                           "series_ends_at": series_end, "remind_minutes": 15 if rng.random() < 0.3 else None,
                           "version": 1, "created_at": NOW, "updated_at": NOW})
            invited = {user.id}
            if rng.random() < 0.3:
                invited.update(rng.sample(by_dept[user.department_id], rng.randint(1, 3)))
            for uid in invited:
                people.append({"event_id": event_id, "user_id": uid, "notified": True, "starts_at": start,
                               "series_ends_at": series_end, "long_span": long_span})
            if len(events) >= 10_000:
                flush()
    flush()
    # The rows went in bypassing the write rules: their daily counts are filled as the migration does.
    from rules.events import rebuild_day_counts
    rebuild_day_counts(db.session, TZ)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return manager.id, supervisor.id, [u.id for u in staff]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--per-user", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep the database of a previous run")
    args = parser.parse_args()
    url = normalise_url(args.url)
    app = make_app(url)
    with app.app_context():
        from sqlalchemy import event, func, select

        from models import Event, EventParticipant, User, db
        from rules import clock, events, recurrence
        from rules.actor import Actor

        started = time.perf_counter()
        if args.reuse:
            manager_id = db.session.scalar(select(User.id).where(User.username == "manager"))
            supervisor_id = db.session.scalar(select(User.id).where(User.username == "rep0"))
        else:
            manager_id, supervisor_id, _ = generate(args.users, args.per_user)
        counts = (db.session.scalar(select(func.count(Event.id))),
                  db.session.scalar(select(func.count(EventParticipant.id))))
        print(f"{counts[0]:,} events, {counts[1]:,} participant rows on {db.engine.dialect.name} "
              f"({time.perf_counter() - started:.0f} s)")
        clock.pin(NOW)
        local = NOW.astimezone(ZoneInfo(TZ)).date()
        month = local.replace(day=1)
        month_grid = month - timedelta(days=month.weekday())  # FullCalendar's 6-week month grid
        week = local - timedelta(days=local.weekday())
        year_ago = local.replace(year=local.year - 1, day=1)
        year_ago_grid = year_ago - timedelta(days=year_ago.weekday())

        def actor_of(user_id: int) -> Actor:
            return Actor.from_user(db.session.get(User, user_id), today=local, has_shares=False)

        rep_id = db.session.scalar(select(User.id).where(User.username == "rep7"))
        cases = []
        for who, user_id in (("经理, 50 staff", manager_id), ("主管, 10 staff", supervisor_id)):
            actor = actor_of(user_id)
            team = [u.id for u in events.team(db.session, actor)]
            for label, first, days, fn in (
                    ("month (daily counts)", month_grid, 42, events.day_loads),
                    ("month a year ago (daily counts)", year_ago_grid, 42, events.day_loads),
                    ("week (every event)", week, 7, events.occurrences)):
                cases.append((f"{who}, {label}", actor, team, first, days, fn))
        cases.append(("业务员, own month (every event)", actor_of(rep_id), [rep_id], month_grid, 42, events.occurrences))

        def timed(fn) -> list[float]:
            for _ in range(3):
                fn()
            out = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t0) * 1000)
                db.session.rollback()
            return out

        for name, actor, team, first, days, fn in cases:
            start, end = recurrence.day_span(first, first + timedelta(days=days - 1), TZ)

            def ours() -> list:
                return fn(db.session, actor, start, end, tz=TZ, user_ids=team)

            statements: list[tuple] = []
            listener = lambda conn, cursor, sql, params, *rest: statements.append((sql, params))  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            shown = ours()
            event.remove(db.engine, "before_cursor_execute", listener)
            db.session.rollback()

            def raw() -> None:
                conn = db.session.connection()
                for sql, params in statements:
                    conn.exec_driver_sql(sql, params).fetchall()

            rules_ms = timed(ours)
            raw_ms = timed(raw)
            client = app.test_client()
            with client.session_transaction() as sess:
                sess["_user_id"] = db.session.get(User, actor.user_id).get_id()
                sess["_fresh"] = True
            query = "&".join(f"user={u}" for u in team)
            feed_url = (f"/admin/event/feed?start={first.isoformat()}T00:00:00"
                        f"&end={(first + timedelta(days=days)).isoformat()}T00:00:00&{query}")
            assert client.get(feed_url).status_code == 200
            feed_ms = timed(lambda: client.get(feed_url).get_data())
            print(f"\n{name} from {first}: {len(shown):,} items, {len(statements)} statements")
            for label, values in (("rules", rules_ms), ("its SQL, raw DB-API", raw_ms),
                                  ("GET /admin/event/feed", feed_ms)):
                print(f"  {label:<22}: median {statistics.median(values):7.2f} ms  p95 {p95(values):7.2f} ms")
            print(f"  ratio rules ÷ raw SQL (median) {statistics.median(rules_ms) / statistics.median(raw_ms):.1f}x")
            if name.startswith("经理") and "counts" in name and "year" not in name:
                explain = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
                for sql, params in statements[-2:]:
                    print("  plan:")
                    for line in db.session.connection().exec_driver_sql(explain + sql, params):
                        print("     ", line[-1] if db.engine.dialect.name == "sqlite" else line[0])
                db.session.rollback()

if __name__ == "__main__":
    main()
