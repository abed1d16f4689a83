"""工作日志 at scale: --users staff (a boss, managers, supervisors and salespeople in a department
tree) writing daily logs on most days of two years, weekly and monthly logs, each sent to the
author's superior and theirs, a third of them commented on. Timed against the same statement run
raw on the DB-API connection:

- the list's first page for a manager (本部门及下属部门), for a salesperson (本人), and a keyword search;
- 发给我的 (unread) for a supervisor;
- 未提交 for a day (the boss, company-wide), and the workbench's 待阅日志 counts.

    .venv/bin/python bench/bench_work_logs.py --url sqlite:////tmp/kechi-wl-bench.db
    .venv/bin/python bench/bench_work_logs.py --url postgresql://…/kechi_wl_bench

The database is created from scratch (tables dropped first): never point it at a shared one.
Figures: median and p95 (nearest rank) over --repeat runs after 3 warm-ups.
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
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def generate(users: int, days: int) -> dict[str, int]:
    """Staff, logs, recipients and comments; returns the ids of the people timed."""
    from sqlalchemy import insert, select

    from models import User, WorkLog, WorkLogComment, WorkLogRecipient, db
    from rules import org, setup, work_logs

    db.drop_all()
    db.create_all()
    roles = setup.ensure_defaults(db.session)
    rng = random.Random(21)
    boss = org.create_user(db.session, username="boss", password="bench-123", display_name="老板",
                           role=roles["总经理"], department=org.ensure_department_path(db.session, ["总经办"]))
    staff = [boss]
    managers = []
    for m in range(2):
        dept = org.ensure_department_path(db.session, ["销售部", f"区域{m}"])
        manager = org.create_user(db.session, username=f"m{m}", password="bench-123", display_name=f"经理{m}",
                                  role=roles["经理"], department=dept, superior=boss)
        managers.append(manager)
        staff.append(manager)
    supervisors = []
    for s in range(6):
        manager = managers[s % 2]
        dept = org.ensure_department_path(db.session, ["销售部", f"区域{s % 2}", f"小组{s}"])
        supervisor = org.create_user(db.session, username=f"s{s}", password="bench-123", display_name=f"主管{s}",
                                     role=roles["主管"], department=dept, superior=manager)
        supervisors.append(supervisor)
        staff.append(supervisor)
    n = 0
    while len(staff) < users:
        supervisor = supervisors[n % len(supervisors)]
        rep = org.create_user(db.session, username=f"r{n}", password="bench-123", display_name=f"业务员{n}",
                              role=roles["业务员"], department=supervisor.department, superior=supervisor)
        staff.append(rep)
        n += 1
    db.session.commit()
    work_logs.save_settings(db.session, role_ids=[roles["业务员"].id, roles["主管"].id], hour=18)
    db.session.commit()
    chain = {u.id: [x for x in (u.superior_id, u.superior.superior_id if u.superior else None) if x] for u in staff}

    words = ["拜访客户", "电话回访", "报价", "签合同", "催款", "展会", "招标", "样品", "培训", "例会"]
    logs, recipients, comments = [], [], []
    log_id = comment_id = 0

    def add(author: User, period: str, start: date, end: date) -> None:
        nonlocal log_id, comment_id
        log_id += 1
        at = datetime.combine(end, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=10)
        logs.append({"id": log_id, "author_id": author.id, "period": period, "period_start": start, "period_end": end,
                     "content": "、".join(rng.sample(words, 3)) + f"，客户{rng.randint(1, 5000)}",
                     "plan": "继续跟进", "problems": "", "figures": {"orders": rng.randint(0, 3)},
                     "submitted_at": at, "created_at": at, "updated_at": at, "version": 1})
        old = end < TODAY - timedelta(days=3)
        for uid in chain[author.id]:
            recipients.append({"log_id": log_id, "user_id": uid, "read_at": at + timedelta(hours=2) if old else None})
        if chain[author.id] and rng.random() < 0.33:
            comment_id += 1
            comments.append({"id": comment_id, "log_id": log_id, "user_id": chain[author.id][0], "content": "收到，继续",
                             "created_at": at + timedelta(hours=3), "read_at": at + timedelta(hours=5) if old else None})

    def flush() -> None:
        for model, rows in ((WorkLog, logs), (WorkLogRecipient, recipients), (WorkLogComment, comments)):
            if rows:
                db.session.execute(insert(model), rows)
                rows.clear()

    first = TODAY - timedelta(days=days)
    writers = [u for u in staff if u.id != boss.id]
    for offset in range(days):
        day = first + timedelta(days=offset)
        for author in writers:
            if day.weekday() < 5 and rng.random() < 0.9:
                add(author, "daily", day, day)
            if day.weekday() == 6:
                add(author, "weekly", day - timedelta(days=6), day)
            if (day + timedelta(days=1)).day == 1:
                add(author, "monthly", day.replace(day=1), day)
        if len(logs) >= 5000:
            flush()
    flush()
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    counts = {m.__tablename__: db.session.scalar(select(db.func.count()).select_from(m))
              for m in (WorkLog, WorkLogRecipient, WorkLogComment)}
    print("rows:", ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return {"boss": boss.id, "manager": managers[0].id, "supervisor": supervisors[0].id,
            "rep": writers[-1].id}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--days", type=int, default=1000)  # 50 users: about 40k logs
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    app = make_app(normalise_url(args.url))
    with app.app_context():
        from sqlalchemy import event

        from models import User, db
        from rules import work_logs
        from rules.actor import Actor

        started = time.perf_counter()
        ids = generate(args.users, args.days)
        print(f"generated in {time.perf_counter() - started:.1f} s on {db.engine.dialect.name}")
        who = {k: Actor.from_user(db.session.get(User, v), today=TODAY, has_shares=False) for k, v in ids.items()}

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

        def captured(fn) -> list[tuple]:
            statements: list[tuple] = []
            listener = lambda conn, cursor, sql, params, *rest: statements.append((sql, params))  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                fn()
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            db.session.rollback()
            return statements

        def raw(statements: list[tuple]):
            return lambda: [db.session.connection().exec_driver_sql(sql, params).fetchall() for sql, params in statements]

        cases = {
            "list, manager (dept tree)": lambda: work_logs.search(db.session, who["manager"], work_logs.Query(),
                                                                  page=1, per_page=20),
            "list, salesperson (self)": lambda: work_logs.search(db.session, who["rep"], work_logs.Query(),
                                                                 page=1, per_page=20),
            "list, boss, keyword 招标": lambda: work_logs.search(db.session, who["boss"],
                                                                 work_logs.Query(keyword="招标"), page=1, per_page=20),
            "list, manager, page 50": lambda: work_logs.search(db.session, who["manager"], work_logs.Query(),
                                                               page=50, per_page=20),
            "inbox unread, supervisor": lambda: work_logs.search(db.session, who["supervisor"],
                                                                 work_logs.Query(box="inbox", unread=True),
                                                                 page=1, per_page=20),
            "未提交, boss (all)": lambda: work_logs.not_submitted(db.session, who["boss"], TODAY - timedelta(days=1)),
            "未提交, manager": lambda: work_logs.not_submitted(db.session, who["manager"], TODAY - timedelta(days=1)),
            "待阅 counts, supervisor": lambda: work_logs.to_read(db.session, who["supervisor"]),
        }
        print(f"{'case':<28} {'median':>8} {'p95':>8}   {'raw median':>10} {'raw p95':>8}  statements")
        for label, fn in cases.items():
            statements = captured(fn)
            ours, bare = timed(fn), timed(raw(statements))
            print(f"{label:<28} {statistics.median(ours):8.2f} {p95(ours):8.2f}   "
                  f"{statistics.median(bare):10.2f} {p95(bare):8.2f}  {len(statements)}")


if __name__ == "__main__":
    main()
