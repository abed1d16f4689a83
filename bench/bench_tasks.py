"""待办 lists at scale: 50 users × 2 years ≈ 500k tasks (most done long ago, a few overdue, the
recent ones open), timed for a salesperson's 我的待办 and a 经理's 下属的待办 (the page: 20 rows
plus the count, exactly the statements the list view runs, from rules/tasks.list_clause) against
the same SQL run raw on the DB-API connection; then the whole list page through the app.

    .venv/bin/python bench/bench_tasks.py --url sqlite:////tmp/kechi-task-bench.db
    .venv/bin/python bench/bench_tasks.py --url postgresql://…/kechi_task_bench

The database is created from scratch (tables dropped first): never point it at a shared one.
Figures: median and p95 (nearest rank) over --repeat runs after 3 warm-ups; ratios of medians.
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import make_app, normalise_url  # noqa: E402

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def generate(rows: int, users: int) -> tuple[int, int]:
    """A 经理 over five teams of salespeople and their tasks; returns (manager id, a rep's id)."""
    from sqlalchemy import insert

    from models import Role, Task, db
    from rules import org, setup

    db.drop_all()
    db.create_all()
    setup.ensure_defaults(db.session)
    roles = {r.name: r for r in db.session.scalars(db.select(Role))}
    manager = org.create_user(db.session, username="mgr", password="bench-123", display_name="经理",
                              role=roles["经理"], department=org.ensure_department_path(db.session, ["销售部"]))
    staff = [manager]
    for i in range(users - 1):
        dept = org.ensure_department_path(db.session, ["销售部", f"销售{i % 5 + 1}部"])
        staff.append(org.create_user(db.session, username=f"rep{i}", password="bench-123", display_name=f"业务员{i}",
                                     role=roles["业务员"], department=dept, superior=manager))
    db.session.commit()
    ids = [u.id for u in staff]
    rng = random.Random(21)
    span = 2 * 365 * 24 * 60
    batch = []
    for i in range(1, rows + 1):
        assignee = rng.choice(ids)
        created = NOW - timedelta(minutes=rng.randint(0, span))
        due = created + timedelta(days=rng.randint(0, 14)) if rng.random() < 0.85 else None
        age = (NOW - created).days
        roll = rng.random()
        if age > 21:
            status = "done" if roll < 0.95 else "cancelled" if roll < 0.98 else "todo"
        else:
            status = "todo" if roll < 0.5 else "doing" if roll < 0.7 else "done"
        batch.append({"id": i, "version": 1, "title": f"待办{i}", "assignee_id": assignee,
                      "assigner_id": assignee if rng.random() < 0.7 else manager.id, "due_at": due,
                      "priority": rng.choice(("low", "normal", "normal", "high", "urgent")), "status": status,
                      "completed_at": created + timedelta(days=1) if status == "done" else None,
                      "created_at": created, "updated_at": created})
        if len(batch) >= 20_000:
            db.session.execute(insert(Task), batch)
            batch = []
    if batch:
        db.session.execute(insert(Task), batch)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return manager.id, staff[1].id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="time the tasks already in the database")
    args = parser.parse_args()
    url = normalise_url(args.url)
    app = make_app(url)
    with app.app_context():
        from sqlalchemy import event, func, select

        from admin_views.base import COUNT_CAP
        from models import Task, User, db
        from rules import clock, tasks
        from rules.actor import Actor

        clock.pin(NOW)
        started = time.perf_counter()
        if args.reuse:
            manager_id = db.session.scalar(select(User.id).where(User.username == "mgr"))
            rep_id = db.session.scalar(select(User.id).where(User.username == "rep0"))
            args.rows = db.session.scalar(select(func.count(Task.id)))
        else:
            manager_id, rep_id = generate(args.rows, args.users)
        print(f"generated {args.rows:,} tasks for {args.users} users in {time.perf_counter() - started:.1f} s "
              f"on {db.engine.dialect.name}")

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

        def report(label: str, values: list[float]) -> None:
            print(f"  {label:<34}: median {statistics.median(values):7.2f} ms  p95 {p95(values):7.2f} ms")

        cases = [("rep", rep_id, tasks.TaskList.MINE, "open"), ("rep", rep_id, tasks.TaskList.MINE, "all"),
                 ("mgr", manager_id, tasks.TaskList.ASSIGNED, "all"),
                 ("mgr", manager_id, tasks.TaskList.TEAM, "open"), ("mgr", manager_id, tasks.TaskList.TEAM, "overdue"),
                 ("mgr", manager_id, tasks.TaskList.TEAM, "all"), ("mgr", manager_id, tasks.TaskList.ASSIGNED, "open")]
        for who, user_id, which, show in cases:
            actor = Actor.from_user(db.session.get(User, user_id), today=TODAY, has_shares=False)
            where = tasks.list_clause(which, actor, show=show, now=NOW)
            order = (Task.id.desc(),) if tasks.newest_first(show) else (Task.due_at, Task.id)
            page = select(Task).where(where).order_by(*order).limit(20)
            # The list's count stops at COUNT_CAP + 1 (admin_views/base.CappedCountQuery).
            count = select(func.count()).select_from(select(Task.id).where(where).limit(COUNT_CAP + 1).subquery())

            def orm() -> None:
                list(db.session.scalars(page))
                db.session.scalar(count)

            statements: list[tuple] = []
            listener = lambda conn, cursor, sql, params, *rest: statements.append((sql, params))  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            orm()
            event.remove(db.engine, "before_cursor_execute", listener)

            def raw() -> None:
                connection = db.session.connection()
                for sql, params in statements:
                    connection.exec_driver_sql(sql, params).fetchall()

            total = db.session.scalar(select(func.count(Task.id)).where(where))
            print(f"{who} {which}/{show} ({total:,} rows):")
            ours, theirs = timed(orm), timed(raw)
            report("page + count (ORM)", ours)
            report("same SQL, raw DB-API", theirs)
            print(f"  ratio {statistics.median(ours) / statistics.median(theirs):.2f}x")

        # The whole page as a user gets it: login cookie, template, 20 rows, the count.
        client = app.test_client()
        for who, user_id, endpoint in (("rep", rep_id, "/admin/task/"), ("mgr", manager_id, "/admin/task_team/"),
                                       ("mgr", manager_id, "/admin/task_team/?show=all"),
                                       ("mgr", manager_id, "/admin/task_given/?show=all")):
            user = db.session.get(User, user_id)
            with client.session_transaction() as session:
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
            first = client.get(endpoint)
            body = first.get_data(as_text=True)
            assert first.status_code == 200 and "model-list" in body, body[body.find("<title>"):][:80]

            def page_view() -> None:
                client.get(endpoint)

            values = timed(page_view)
            print(f"{who} page {endpoint}:")
            report("GET through the app", values)


if __name__ == "__main__":
    main()
