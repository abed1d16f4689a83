"""The SLA watch job at scale: 200k open tickets (and 50k done ones) of 60 agents in 6 service
groups, ~1% due within the warning window and ~1% past a due, none told yet. Times one run of the
job's work (rules.sla_watch.watch + commit: warnings marked and grouped per assignee, breaches
marked, escalated to leaders, a timeline line each) against the bare set-based SQL doing the same
marks and lines (two UPDATEs and one INSERT … SELECT, no notifications), restoring the marks
between runs.

    .venv/bin/python bench/bench_sla.py --url sqlite:////tmp/kechi-sla-bench.db
    .venv/bin/python bench/bench_sla.py --url postgresql://…/kechi_sla_bench

The database is created from scratch (tables dropped first): never point it at a shared one.
Figures: median and max over --repeat runs after one warm-up; the ratio of medians.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import analyze, make_app, normalise_url  # noqa: E402

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
TZ = "Asia/Shanghai"


def generate(open_rows: int, done_rows: int, agents: int, teams: int) -> None:
    from sqlalchemy import insert, select

    from models import Customer, CustomerKind, Role, ServiceTeam, ServiceTeamMember, StatusCategory, Ticket, TicketStatus, db
    from rules import org, setup

    db.drop_all()
    db.create_all()
    setup.ensure_defaults(db.session)
    roles = {r.name: r for r in db.session.scalars(select(Role))}
    dept = org.ensure_department_path(db.session, ["客服部"])
    staff = [org.create_user(db.session, username=f"kf{i}", password="bench-123", display_name=f"客服{i}",
                             role=roles["客服主管" if i < teams else "客服"], department=dept) for i in range(agents)]
    groups = []
    for t in range(teams):
        group = ServiceTeam(name=f"服务{t + 1}组", leader_id=staff[t].id, assign_mode="round_robin")
        group.members = [ServiceTeamMember(user_id=u.id) for u in staff[teams + t::teams]]
        groups.append(group)
    db.session.add_all(groups)
    db.session.add_all(Customer(name=f"客户{i}", kind=CustomerKind.COMPANY, owner_id=staff[i % agents].id)
                       for i in range(1000))
    db.session.commit()
    statuses = {s.category: s.id for s in db.session.scalars(select(TicketStatus))}
    customers = list(db.session.scalars(select(Customer.id)))
    team_of = {m.user_id: g.id for g in groups for m in g.members}
    agent_ids = list(team_of)
    rng = random.Random(22)
    batch = []
    for i in range(1, open_rows + done_rows + 1):
        assignee = rng.choice(agent_ids)
        created = NOW - timedelta(minutes=rng.randint(0, 20 * 24 * 60))
        done = i > open_rows
        roll = rng.random()
        category = (StatusCategory.CLOSED if done else StatusCategory.PAUSED if roll < 0.15 else StatusCategory.OPEN)
        responded = created + timedelta(minutes=30) if rng.random() < 0.9 or done else None
        first_due = created + timedelta(hours=2)
        if done:
            due = created + timedelta(days=2)
        elif category == StatusCategory.PAUSED:
            due = None
        elif roll < 0.16:
            due = NOW + timedelta(minutes=rng.randint(1, 110))   # ~1%: 即将超时
        elif roll < 0.17:
            due = NOW - timedelta(minutes=rng.randint(1, 600))   # ~1%: 已超时
        else:
            due = NOW + timedelta(hours=rng.randint(3, 24 * 20))
        if not done and responded is None:
            first_due = NOW + timedelta(days=3)  # the unanswered ones are not all breached
        batch.append({"id": i, "version": 1, "number": f"GD{i:08d}", "customer_id": rng.choice(customers),
                      "channel": "phone", "priority": "normal", "subject": f"工单{i}", "created_by_id": assignee,
                      "assignee_id": assignee, "team_id": team_of[assignee], "status_id": statuses[category.value],
                      "status_category": category.value, "first_response_due_at": first_due,
                      "first_responded_at": responded, "resolution_due_at": due,
                      "resolved_at": created + timedelta(days=1) if done else None,
                      "sla_paused_at": NOW - timedelta(hours=1) if due is None and not done else None,
                      "sla_remaining_seconds": 3600 if due is None and not done else None,
                      "reopened_count": 0, "custom": {}, "created_at": created, "updated_at": created})
        if len(batch) >= 20_000:
            db.session.execute(insert(Ticket), batch)
            batch = []
    if batch:
        db.session.execute(insert(Ticket), batch)
    db.session.commit()
    analyze(db.engine)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--open", type=int, default=200_000)
    parser.add_argument("--done", type=int, default=50_000)
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--teams", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="time the tickets already in the database")
    args = parser.parse_args()
    app = make_app(normalise_url(args.url))
    with app.app_context():
        from sqlalchemy import delete, event, func, insert, literal, null, select, update

        from models import EntryKind, Notification, NotificationKind, ServiceTeam, Ticket, TicketEntry, db
        from models.service import ACTIVE_CATEGORIES
        from rules import clock, sla_watch
        from rules.sla import SlaState, state_clause

        clock.pin(NOW)
        started = time.perf_counter()
        if not args.reuse:
            generate(args.open, args.done, args.agents, args.teams)
        total = db.session.scalar(select(func.count(Ticket.id)).where(Ticket.status_category.in_(ACTIVE_CATEGORIES)))
        print(f"{total:,} open tickets ready in {time.perf_counter() - started:.1f} s on {db.engine.dialect.name}")

        def reset() -> None:
            db.session.execute(update(Ticket).where((Ticket.sla_warned_at.is_not(None)) | (Ticket.sla_escalated_at.is_not(None)))
                               .values(sla_warned_at=None, sla_escalated_at=None))
            db.session.execute(delete(TicketEntry).where(TicketEntry.kind == EntryKind.SLA.value))
            db.session.execute(delete(Notification).where(Notification.kind == NotificationKind.SLA.value))
            db.session.commit()

        def job() -> sla_watch.Watched:
            done = sla_watch.watch(db.session, NOW, TZ)
            db.session.commit()
            return done

        def bare() -> None:
            """The same marks and timeline lines, set-based, with nothing told to anyone."""
            soon = state_clause(SlaState.SOON, NOW)
            late = Ticket.status_category.in_(ACTIVE_CATEGORIES) & state_clause(SlaState.BREACHED, NOW)
            db.session.execute(update(Ticket).where(soon, Ticket.sla_warned_at.is_(None), Ticket.assignee_id.is_not(None))
                               .values(sla_warned_at=NOW).execution_options(synchronize_session=False))
            db.session.execute(insert(TicketEntry).from_select(
                ["ticket_id", "kind", "author_id", "body", "at"],
                select(Ticket.id, literal(EntryKind.SLA.value), null(), literal(sla_watch.ESCALATED), literal(NOW))
                .where(late, Ticket.sla_escalated_at.is_(None))))
            db.session.execute(update(Ticket).where(late, Ticket.sla_escalated_at.is_(None))
                               .values(sla_escalated_at=NOW).execution_options(synchronize_session=False))
            db.session.commit()

        def timed(fn) -> list[float]:
            reset()
            fn()
            out = []
            for _ in range(args.repeat):
                reset()
                t0 = time.perf_counter()
                fn()
                out.append(time.perf_counter() - t0)
            return out

        reset()
        done = job()
        leaders = db.session.scalar(select(func.count(ServiceTeam.id)))
        notes = db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == NotificationKind.SLA.value))
        print(f"one run: {done.warned:,} warned, {done.escalated:,} escalated, {notes} notifications "
              f"(grouped per assignee / {leaders} leaders)")
        second = job()
        assert (second.warned, second.escalated) == (0, 0), second
        reset()
        statements: list[tuple] = []
        listener = lambda conn, cursor, sql, params, *rest: statements.append((sql, params))  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        job()
        event.remove(db.engine, "before_cursor_execute", listener)

        def replay() -> None:
            """The job's own statements, run raw on the DB-API connection (no ORM, no Python)."""
            connection = db.session.connection()
            for sql, params in statements:
                result = connection.exec_driver_sql(sql, params)
                if result.returns_rows:  # SQLite runs a SELECT while its rows are fetched
                    result.fetchall()
            db.session.commit()

        ours, theirs, raw = timed(job), timed(bare), timed(replay)
        print(f"  watch job (rules.sla_watch)   : median {statistics.median(ours):6.2f} s  max {max(ours):6.2f} s")
        print(f"  bare set-based SQL            : median {statistics.median(theirs):6.2f} s  max {max(theirs):6.2f} s")
        print(f"  its statements, raw DB-API    : median {statistics.median(raw):6.2f} s  max {max(raw):6.2f} s "
              f"({len(statements)} statements)")
        print(f"  ratio to bare SQL {statistics.median(ours) / statistics.median(theirs):.2f}x, "
              f"to its statements raw {statistics.median(ours) / statistics.median(raw):.2f}x")
        t0 = time.perf_counter()
        job()
        print(f"  a second run (nothing new)    : {time.perf_counter() - t0:6.2f} s")


if __name__ == "__main__":
    main()
