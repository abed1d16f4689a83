"""The workbench's 最新公告 widget at scale: N announcements (drafts, expired ones, pinned ones,
whole-company ones and ones addressed to 1–3 of 60 departments), timed for a reader deep in the
department tree against the same statement run raw on the DB-API connection, and against the bare
SQL that reads the 5 newest published rows with no audience filter at all (the floor for "the 5
newest, pinned first").

    .venv/bin/python bench/bench_announcements.py --url sqlite:////tmp/kechi-ann-bench.db --rows 100000
    .venv/bin/python bench/bench_announcements.py --url postgresql://…/kechi_ann_bench --rows 100000

The database is created from scratch (tables dropped first): never point it at a shared one.
Figures: median and p95 (nearest rank) over --repeat runs after 3 warm-ups; ratios of medians.
The query plan is printed so the index use can be checked.
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


def generate(rows: int) -> int:
    """Departments, staff and announcements; returns the reader's user id."""
    from sqlalchemy import insert

    from models import Announcement, Role, announcement_departments, db
    from rules import org, setup

    db.drop_all()
    db.create_all()
    setup.ensure_defaults(db.session)
    rng = random.Random(7)
    departments = []
    for top in range(6):  # 6 divisions × 3 departments × 3 teams = 60 leaves and branches
        a = org.ensure_department_path(db.session, [f"事业部{top}"])
        departments.append(a)
        for mid in range(3):
            b = org.ensure_department_path(db.session, [f"事业部{top}", f"部门{top}-{mid}"])
            departments.append(b)
            for leaf in range(2):
                departments.append(org.ensure_department_path(
                    db.session, [f"事业部{top}", f"部门{top}-{mid}", f"小组{top}-{mid}-{leaf}"]))
    role = db.session.scalar(db.select(Role).where(Role.name == "业务员"))
    author = org.create_user(db.session, username="author", password="bench-123", display_name="作者",
                             role=role, department=departments[0])
    reader = org.create_user(db.session, username="reader", password="bench-123", display_name="读者",
                             role=role, department=departments[-1])
    db.session.commit()
    batch, links = [], []
    for i in range(1, rows + 1):
        published = None if rng.random() < 0.05 else NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 1000))
        expires = TODAY - timedelta(days=rng.randint(1, 300)) if rng.random() < 0.10 else None
        whole = rng.random() < 0.10
        batch.append({"id": i, "title": f"公告{i}", "body": "内容", "author_id": author.id, "published_at": published,
                      "expires_on": expires, "pinned": rng.random() < 0.002, "whole_company": whole,
                      "created_at": NOW, "updated_at": NOW})
        if not whole:
            for dept in rng.sample(departments, rng.randint(1, 3)):
                links.append({"announcement_id": i, "department_id": dept.id})
        if len(batch) >= 10_000:
            db.session.execute(insert(Announcement), batch)
            db.session.execute(insert(announcement_departments), links)
            batch, links = [], []
    if batch:
        db.session.execute(insert(Announcement), batch)
        db.session.execute(insert(announcement_departments), links)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return reader.id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    url = normalise_url(args.url)
    app = make_app(url)
    with app.app_context():
        from sqlalchemy import event, text

        from models import User, db
        from rules import announcements
        from rules.actor import Actor

        started = time.perf_counter()
        reader_id = generate(args.rows)
        print(f"generated {args.rows:,} announcements in {time.perf_counter() - started:.1f} s on {db.engine.dialect.name}")
        actor = Actor.from_user(db.session.get(User, reader_id), today=TODAY, has_shares=False)

        statements: list[tuple] = []
        listener = lambda conn, cursor, sql, params, *rest: statements.append((sql, params))  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        rows = announcements.feed(db.session, actor, limit=5)
        event.remove(db.engine, "before_cursor_execute", listener)
        assert len(statements) == 1, statements
        sql, params = statements[0]
        explain = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
        print("widget query plan:")
        for line in db.session.connection().exec_driver_sql(explain + sql, params):
            print("   ", line[-1] if db.engine.dialect.name == "sqlite" else line[0])
        print("widget rows:", [(r.title, r.pinned) for r in rows])

        bare = text("SELECT id, title, pinned, published_at FROM announcements WHERE published_at IS NOT NULL "
                    "ORDER BY pinned DESC, published_at DESC, id DESC LIMIT 5")

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

        widget = timed(lambda: announcements.feed(db.session, actor, limit=5))
        same = timed(lambda: db.session.connection().exec_driver_sql(sql, params).fetchall())
        floor = timed(lambda: list(db.session.execute(bare)))
        for label, values in (("widget feed (ORM)", widget), ("its SQL, raw DB-API", same),
                              ("bare SQL, no audience", floor)):
            print(f"{label:<22}: median {statistics.median(values):.2f} ms  p95 {p95(values):.2f} ms")
        print(f"ratio widget ÷ its raw SQL (median) {statistics.median(widget) / statistics.median(same):.1f}x; "
              f"÷ no-audience floor {statistics.median(widget) / statistics.median(floor):.1f}x")


if __name__ == "__main__":
    main()
