"""客户关怀 and 回访 at scale: 待关怀 (upcoming birthdays of the customers one sees) over
--customers customers (30 % with a birthday, one in 50 owned by the salesperson timed), for a
salesperson and for a 客服 who sees everyone; and the satisfaction job's scan for tickets just
resolved over --tickets resolved tickets (the last hour's 200 without a survey), timed without
sending (no link address), the job against its bare SQL.

    .venv/bin/python bench/bench_care.py --url sqlite:////tmp/kechi-care-bench.db
    .venv/bin/python bench/bench_care.py --url postgresql://…/kechi_care_bench

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
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def generate(customers: int, tickets: int) -> tuple[int, int]:
    from sqlalchemy import insert, select

    from models import Customer, Role, TicketStatus, db
    from models.service import Ticket
    from rules import org, setup

    db.drop_all()
    db.create_all()
    setup.ensure_defaults(db.session)
    roles = {r.name: r for r in db.session.scalars(select(Role))}
    agent = org.create_user(db.session, username="kefu", password="bench-123", display_name="客服",
                            role=roles["客服"], department=None)
    rep = org.create_user(db.session, username="rep", password="bench-123", display_name="业务员",
                          role=roles["业务员"], department=org.ensure_department_path(db.session, ["销售部"]))
    db.session.commit()
    rng = random.Random(22)
    for start in range(0, customers, 20_000):
        db.session.execute(insert(Customer), [
            {"name": f"客户{i}", "kind": "company", "owner_id": rep.id if i % 50 == 0 else None, "mnemonic": "kh",
             "birthday": date(1960 + rng.randrange(40), rng.randrange(1, 13), rng.randrange(1, 29))
             if rng.random() < 0.3 else None, "created_at": NOW, "updated_at": NOW, "version": 1}
            for i in range(start, min(customers, start + 20_000))])
    resolved = db.session.scalar(select(TicketStatus.id).where(TicketStatus.category == "resolved"))
    for start in range(0, tickets, 20_000):
        db.session.execute(insert(Ticket), [
            {"number": f"GD{i:09d}", "customer_id": 1 + i % customers, "subject": "漏水", "created_by_id": agent.id,
             "assignee_id": agent.id, "status_id": resolved, "status_category": "resolved", "channel": "phone",
             "priority": "normal", "custom": {}, "reopened_count": 0, "version": 1,
             "resolved_at": NOW - (timedelta(minutes=rng.randint(0, 59)) if i >= tickets - 200
                                   else timedelta(days=rng.randint(4, 700))),
             "created_at": NOW - timedelta(days=800), "updated_at": NOW}
            for i in range(start, min(tickets, start + 20_000))])
    db.session.commit()
    return agent.id, rep.id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    app = make_app(normalise_url(args.url))
    with app.app_context():
        from models import User, db
        from rules import care, clock, satisfaction
        from rules.actor import Actor

        clock.pin(NOW)
        started = time.perf_counter()
        agent_id, rep_id = generate(args.customers, args.tickets)
        print(f"generated {args.customers:,} customers and {args.tickets:,} resolved tickets in "
              f"{time.perf_counter() - started:.1f} s on {db.engine.dialect.name}")

        def timed(fn) -> list[float]:
            for _ in range(3):
                fn()
                db.session.rollback()
            out = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t0) * 1000)
                db.session.rollback()
            return out

        def bare(sql: str) -> list[float]:
            from sqlalchemy import text

            return timed(lambda: db.session.execute(text(sql)).all())

        for who, user_id in (("业务员 (self)", rep_id), ("客服 (all)", agent_id)):
            actor = Actor.from_user(db.session.get(User, user_id))
            found = len(care.upcoming(db.session, actor=actor, today=TODAY, days=7))
            t = timed(lambda a=actor: care.upcoming(db.session, actor=a, today=TODAY, days=7))
            print(f"待关怀 7 days, {who}: {found} rows, median {statistics.median(t):.1f} ms, p95 {p95(t):.1f} ms")

        def scan() -> None:
            satisfaction.survey_due(db.session, now=NOW, link=None)

        t = timed(scan)
        where = "status_category IN ('resolved', 'closed') AND resolved_at >= '%s'" % (
            (NOW - satisfaction.LOOK_BACK).strftime("%Y-%m-%d %H:%M:%S"))
        raw = bare("SELECT id FROM tickets WHERE " + where + " AND NOT EXISTS (SELECT 1 FROM satisfaction_surveys s "
                   "WHERE s.ticket_id = tickets.id) ORDER BY resolved_at, id LIMIT 500")
        print(f"survey job (200 fresh of {args.tickets:,}, surveys made and rolled back): median "
              f"{statistics.median(t):.1f} ms, p95 {p95(t):.1f} ms; bare scan median {statistics.median(raw):.1f} ms")
        print("surveys made per run:", len(satisfaction.survey_due(db.session, now=NOW, link=None)))
        db.session.rollback()


if __name__ == "__main__":
    main()
