"""提醒中心 and the pop-up poll at scale: N notifications (default 5,000,000) spread over --users
users (50, or 500), ten per cent unread, every kind, two years of history; then timed:

- the poll as a page asks it when nothing is new (the common case: one statement),
- the poll when something is new (count + the new ones to pop up: two statements),
- the same two through the whole HTTP request (login cookie, Flask-Admin, JSON),
- the 提醒中心 list page (newest first), filtered by one kind, and by 未读,
- the poll's bare SQL on the DB-API connection (the floor).

    .venv/bin/python bench/bench_notifications.py --url sqlite:////tmp/kechi-notes.db --rows 5000000
    .venv/bin/python bench/bench_notifications.py --url "$(bash bench/pg_server.sh start)" --rows 5000000
    add --users 500 for the 500-user spread; --reuse to time an existing database again

The database is created from scratch (tables dropped first) unless --reuse: never point it at a
shared one. Rows are generated inside the database (a recursive CTE / generate_series), so the
load is minutes, not an hour. Figures: median and p95 (nearest rank) over --repeat runs after
3 warm-ups. Statement counts are printed next to each.
"""
from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_PASSWORD, make_app, normalise_url  # noqa: E402

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
SPAN_SECONDS = 2 * 365 * 24 * 3600  # two years of history


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def generate(rows: int, users: int) -> list[int]:
    """Staff and notifications; returns the user ids (the first can log in)."""
    from sqlalchemy import insert, select, text

    from models import NotificationKind, Role, User, db
    from rules import notification_settings, org, setup

    db.drop_all()
    db.create_all()
    setup.ensure_defaults(db.session)
    role = db.session.scalar(select(Role).where(Role.name == "业务员"))
    first = org.create_user(db.session, username="note01", password=BENCH_PASSWORD, display_name="员工01", role=role)
    db.session.execute(insert(User), [
        {"username": f"note{i:03d}", "display_name": f"员工{i:03d}", "password_hash": first.password_hash,
         "role_id": role.id, "report_path": "/", "active": True, "locale": "zh_CN", "session_version": 1,
         "created_at": NOW, "updated_at": NOW} for i in range(2, users + 1)])
    db.session.commit()
    ids = list(db.session.scalars(select(User.id).where(User.username.like("note%")).order_by(User.id)))
    # Half the staff chose a few kinds to pop up (a settings row, as the poll reads it).
    for user_id in ids[::2]:
        notification_settings.save(db.session, user_id, popup_kinds=["task", "event", "approval", "announcement"],
                                   sms_kinds=[], days_ahead=2, quiet_start="22:00", quiet_end="07:30", now=NOW)
    db.session.commit()
    kinds = [k.value for k in NotificationKind]
    case = "CASE i % {n} {whens} END".format(n=len(kinds), whens=" ".join(
        f"WHEN {pos} THEN '{kind}'" for pos, kind in enumerate(kinds)))
    user_of = "(SELECT id FROM bench_users WHERE pos = i % {u})".format(u=len(ids))
    end = NOW.replace(tzinfo=None)
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TEMPORARY TABLE bench_users (pos INTEGER PRIMARY KEY, id INTEGER)"))
        conn.execute(text("INSERT INTO bench_users (pos, id) VALUES (:pos, :id)"),
                     [{"pos": pos, "id": uid} for pos, uid in enumerate(ids)])
        step = SPAN_SECONDS / rows
        if db.engine.dialect.name == "sqlite":
            created = f"strftime('%Y-%m-%d %H:%M:%f', {int(end.timestamp())} - CAST(({rows} - i) * {step} AS INTEGER), 'unixepoch')"
            conn.execute(text(
                f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rows}) "
                "INSERT INTO notifications (id, user_id, kind, title, link, created_at, read_at) "
                f"SELECT i, {user_of}, {case}, '提醒 ' || i, 'list:due_customer', {created}, "
                f"CASE WHEN i % 10 = 0 THEN NULL ELSE {created} END FROM s"))
        else:
            created = f"(timestamp '{end.isoformat(sep=' ')}' - ({rows} - i) * interval '{step} seconds')"
            conn.execute(text(
                "INSERT INTO notifications (id, user_id, kind, title, link, created_at, read_at) "
                f"SELECT i, {user_of}, {case}, '提醒 ' || i, 'list:due_customer', {created}, "
                f"CASE WHEN i % 10 = 0 THEN NULL ELSE {created} END FROM generate_series(1, {rows}) AS g(i)"))
            conn.execute(text("SELECT setval(pg_get_serial_sequence('notifications', 'id'), :n)"), {"n": rows})
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE notifications")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return ids


def login(app):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    answer = client.post("/login", data={"username": "note01", "password": BENCH_PASSWORD, "csrf_token": token})
    if answer.status_code != 302:
        raise SystemExit("login failed: was the database made by this script?")
    return client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--reuse", action="store_true", help="time the database a previous run made")
    args = parser.parse_args()
    app = make_app(normalise_url(args.url))
    with app.app_context():
        from sqlalchemy import event, func, select

        from models import Notification, User, db
        from rules import clock, notifications

        clock.pin(NOW)
        started = time.perf_counter()
        if args.reuse:
            ids = list(db.session.scalars(select(User.id).where(User.username.like("note%")).order_by(User.id)))
        else:
            ids = generate(args.rows, args.users)
        total = db.session.scalar(select(func.count(Notification.id)))
        print(f"{'reused' if args.reuse else 'generated'} {total:,} notifications over {len(ids)} users in "
              f"{time.perf_counter() - started:.1f} s on {db.engine.dialect.name}")
        me = ids[0]  # has a settings row: four kinds pop up
        newest = notifications.newest_id(db.session, me)
        some_back = db.session.scalar(select(Notification.id).where(Notification.user_id == me)
                                      .order_by(Notification.id.desc()).offset(30).limit(1))
        mine = db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == me))
        print(f"user {me}: {mine:,} notifications; polls after {newest} (nothing new) and after {some_back} (30 new)")

        statements: list[tuple] = []

        def listen(conn, cursor, sql, params, *rest) -> None:
            statements.append((sql, params))

        def count_statements(fn) -> int:
            statements.clear()
            event.listen(db.engine, "before_cursor_execute", listen)
            try:
                fn()
            finally:
                event.remove(db.engine, "before_cursor_execute", listen)
            db.session.rollback()
            return len(statements)

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

        idle = lambda: notifications.poll(db.session, user_id=me, after=newest, now=NOW)  # noqa: E731
        news = lambda: notifications.poll(db.session, user_id=me, after=some_back, now=NOW)  # noqa: E731
        assert idle() is None and len(news().popups) == 5
        n_idle, n_news = count_statements(idle), count_statements(news)
        sql, params = statements[-1]
        explain = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
        print("the new-items statement's plan:")
        for line in db.session.connection().exec_driver_sql(explain + sql, params):
            print("   ", line[-1] if db.engine.dialect.name == "sqlite" else line[0])
        db.session.rollback()
        raw = lambda: db.session.connection().exec_driver_sql(sql, params).fetchall()  # noqa: E731

        client = login(app)
        http_idle = lambda: client.get(f"/admin/notification/poll?after={newest}")  # noqa: E731
        http_news = lambda: client.get(f"/admin/notification/poll?after={some_back}")  # noqa: E731
        assert http_idle().status_code == 204 and http_news().status_code == 200
        lists = {"提醒中心 list (newest first)": "/admin/notification/",
                 "提醒中心 list, kind 待办": "/admin/notification/?flt0_0=task",
                 "提醒中心 list, 未读": "/admin/notification/?flt0_1=unread"}
        for url in lists.values():
            page = client.get(url)
            assert page.status_code == 200 and "提醒 " in page.get_data(as_text=True), url
        results = [
            (f"poll, nothing new ({n_idle} stmt)", timed(idle)),
            (f"poll, 30 new ({n_news} stmt)", timed(news)),
            ("its items SQL, raw DB-API", timed(raw)),
            ("HTTP poll, nothing new (204)", timed(http_idle)),
            ("HTTP poll, 30 new (JSON)", timed(http_news)),
            *((f"HTTP {label}", timed(lambda url=url: client.get(url))) for label, url in lists.items()),
        ]
        for label, values in results:
            print(f"{label:<36}: median {statistics.median(values):7.2f} ms  p95 {p95(values):7.2f} ms")


if __name__ == "__main__":
    main()
