"""服务报表 at scale: --rows tickets over two years (default 1M) for 2,000 customers, with first
replies, resolutions, SLA due instants, satisfaction scores and repair parts, then each service
report for a year's range, timed for a 总经理 (全部) and a 业务员 (本人: their customers' tickets),
against the same SQL statements run raw on the DB-API connection.

    .venv/bin/python bench/bench_service_reports.py --url sqlite:////tmp/kechi-service-bench.db
    .venv/bin/python bench/bench_service_reports.py --url postgresql://…/kechi_bench

The database is created from scratch (tables dropped first): never point it at a shared one.
Figures: median and p95 (nearest rank) over --repeat runs after one warm-up; ratio of medians.
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

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def generate(rows: int) -> tuple[int, int]:
    """Returns (总经理 id, a 业务员's id)."""
    from sqlalchemy import insert, select

    from models import Customer, CustomerKind, DictItem, DictKind, Role, Ticket, db
    from models.product import Product, Warehouse
    from models.repair import TicketPart, TicketRepair
    from models.service import ServiceTeam
    from rules import org, setup, ticket_statuses

    db.drop_all()
    db.create_all()
    setup.ensure_defaults(db.session)
    roles = {r.name: r for r in db.session.scalars(select(Role))}
    gm = org.create_user(db.session, username="gm", password="bench-123", display_name="总经理", role=roles["总经理"],
                         department=org.ensure_department_path(db.session, ["总经办"]))
    reps = [org.create_user(db.session, username=f"rep{i}", password="bench-123", display_name=f"业务员{i}",
                            role=roles["业务员"], department=org.ensure_department_path(db.session, ["销售部"]))
            for i in range(20)]
    agents = [org.create_user(db.session, username=f"kf{i}", password="bench-123", display_name=f"客服{i}",
                              role=roles["客服"], department=org.ensure_department_path(db.session, ["客服部"]))
              for i in range(30)]
    teams = [ServiceTeam(name=f"服务{i}组") for i in range(5)]
    wh, part = Warehouse(name="总仓"), Product(code="P1", name="滤芯")
    db.session.add_all([*teams, wh, part])
    db.session.flush()
    db.session.execute(insert(Customer), [{"id": i, "name": f"客户{i}", "kind": CustomerKind.COMPANY,
                                           "owner_id": reps[i % 20].id, "custom": {}} for i in range(1, 2001)])
    types = list(db.session.scalars(select(DictItem.id).where(DictItem.kind == DictKind.TICKET_TYPE)))
    status = ticket_statuses.initial(db.session).id
    db.session.commit()
    rng = random.Random(22)
    span = 2 * 365 * 24 * 60
    tickets, repairs, parts = [], [], []

    def flush() -> None:
        for model, batch in ((Ticket, tickets), (TicketRepair, repairs), (TicketPart, parts)):
            if batch:
                db.session.execute(insert(model), batch)
                batch.clear()

    for i in range(1, rows + 1):
        created = NOW - timedelta(minutes=rng.randint(0, span))
        agent = rng.choice(agents).id if rng.random() < 0.9 else None
        replied = created + rng.uniform(0.1, 30) * H if rng.random() < 0.95 else None
        resolved = created + rng.uniform(1, 200) * H if (NOW - created).days > 10 or rng.random() < 0.5 else None
        done = resolved is not None and resolved < NOW
        tickets.append({"id": i, "version": 1, "number": f"GD{i:08d}", "customer_id": rng.randint(1, 2000),
                        "channel": rng.choice(("phone", "wechat", "email", "visit", "web")), "type_id": rng.choice(types),
                        "priority": rng.choice(("low", "normal", "normal", "high", "urgent")), "subject": f"工单{i}",
                        "team_id": rng.choice(teams).id, "assignee_id": agent, "created_by_id": gm.id,
                        "status_id": status, "status_category": "closed" if done else "open",
                        "first_response_due_at": created + 4 * H, "first_responded_at": replied,
                        "resolution_due_at": created + 48 * H, "resolved_at": resolved if done else None,
                        "satisfaction_score": rng.randint(1, 5) if done and rng.random() < 0.4 else None,
                        "reopened_count": 0, "custom": {}, "created_at": created, "updated_at": created})
        if rng.random() < 0.1:
            billed = rng.random() < 0.5
            repairs.append({"id": i, "version": 1, "ticket_id": i, "state": "billed" if billed else "open",
                            "labour_hours": 1, "labour_charge": 80, "parts_charge": 45, "total": 125,
                            "warranty": not billed, "created_at": created, "updated_at": created})
            parts.append({"ticket_id": i, "product_id": part.id, "warehouse_id": wh.id, "quantity": 1,
                          "unit_price": 45, "amount": 45, "returned": False, "at": created})
        if len(tickets) >= 20_000:
            flush()
    flush()
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return gm.id, reps[0].id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="time the tickets already in the database")
    args = parser.parse_args()
    app = make_app(normalise_url(args.url))
    with app.app_context():
        from sqlalchemy import event, func, select

        from models import Ticket, User, db
        from rules import clock
        from rules import service_reports as sr
        from rules.actor import Actor
        from rules.reports import Filters

        clock.pin(NOW)
        started = time.perf_counter()
        if args.reuse:
            gm_id = db.session.scalar(select(User.id).where(User.username == "gm"))
            rep_id = db.session.scalar(select(User.id).where(User.username == "rep0"))
            args.rows = db.session.scalar(select(func.count(Ticket.id)))
        else:
            gm_id, rep_id = generate(args.rows)
        print(f"{args.rows:,} tickets on {db.engine.dialect.name} ({time.perf_counter() - started:.0f} s to load)")
        filters = Filters(start=date(2025, 11, 24), end=date(2026, 11, 23))
        reports = [("工单统计 by type/month", lambda a: sr.volume(db.session, a, filters)),
                   ("SLA达成率 by team", lambda a: sr.sla_compliance(db.session, a, filters, now=NOW)),
                   ("响应与解决时长 by assignee", lambda a: sr.response_times(db.session, a, filters, by="assignee")),
                   ("客户服务次数排名", lambda a: sr.top_customers(db.session, a, filters)),
                   ("满意度统计", lambda a: sr.satisfaction(db.session, a, filters)),
                   ("维修配件与收入", lambda a: sr.repair_parts(db.session, a, filters))]

        def timed(fn) -> list[float]:
            fn()
            out = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t0) * 1000)
                db.session.rollback()
            return out

        for who, user_id in (("总经理", gm_id), ("业务员", rep_id)):
            actor = Actor.from_user(db.session.get(User, user_id), today=NOW.date(), has_shares=False)
            for label, build in reports:
                statements: list[tuple] = []
                listener = lambda conn, cursor, sql, params, *rest: statements.append((sql, params))  # noqa: E731
                event.listen(db.engine, "before_cursor_execute", listener)
                build(actor)
                event.remove(db.engine, "before_cursor_execute", listener)

                def raw() -> None:
                    connection = db.session.connection()
                    for sql, params in statements:
                        connection.exec_driver_sql(sql, params).fetchall()

                ours, theirs = timed(lambda: build(actor)), timed(raw)
                print(f"{who} {label:<26}: median {statistics.median(ours):8.1f} ms  p95 {p95(ours):8.1f} ms"
                      f"  | raw SQL {statistics.median(theirs):8.1f} ms  ratio "
                      f"{statistics.median(ours) / statistics.median(theirs):.2f}x")


if __name__ == "__main__":
    main()
