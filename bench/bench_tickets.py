"""工单 at scale (issue 22): builds its own database — 30 agents in three service groups, a 客服主管,
20,000 customers with their quick-search rows, N tickets over two years (default 200,000; most
resolved or closed long ago, the recent ones open or paused with due times around now, a few late)
and 5 timeline entries per ticket — then times, against the same SQL run raw on the DB-API
connection:

- 我的工单 by SLA state for an agent (the page of 20 newest and the capped count, with
  rules/sla.state_clause, as the list view runs them), and the workbench's 我的工单 counts;
- the search box as the 客服主管 (scope 全部): a number prefix, a customer name (quick-search
  index), a phone fragment, a subject word, and a word no ticket has (the subject's substring
  test then reads every ticket: the worst case);
- the ticket list pages through the app (login cookie, template, 20 rows, count).

    .venv/bin/python bench/bench_tickets.py --url sqlite:////tmp/kechi-ticket-bench.db
    .venv/bin/python bench/bench_tickets.py --url postgresql://…/kechi_ticket_bench --tickets 2000000

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
SUBJECTS = ["净水器漏水", "紫砂壶壶盖有裂纹", "发货延迟", "发票开错抬头", "煮茶壶不加热", "滤芯更换咨询",
            "品茗杯釉面有黑点", "茶叶受潮结块", "快递破损", "安装师傅迟到", "退款进度查询", "礼盒定制"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
WORDS = ["华星", "远大", "青禾", "鼎盛", "宏图", "金智", "新锐", "恒通", "瑞丰", "嘉禾"]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def generate(tickets: int, customers: int, entries_per: int) -> dict[str, int]:
    from sqlalchemy import insert, select

    from models import Customer, Role, User, db
    from models.customer import CustomerSearch
    from models.service import ServiceTeam, ServiceTeamMember, Ticket, TicketEntry, TicketSearch, TicketStatus
    from rules import org, search, setup

    db.drop_all()
    db.create_all()
    setup.ensure_defaults(db.session)
    roles = {r.name: r for r in db.session.scalars(select(Role))}
    dept = org.ensure_department_path(db.session, ["客服部"])
    boss = org.create_user(db.session, username="kfzg", password="bench-123", display_name="客服主管",
                           role=roles["客服主管"], department=dept)
    agents = [org.create_user(db.session, username=f"kf{i:02d}", password="bench-123", display_name=f"客服{i}",
                              role=roles["客服"], department=dept) for i in range(30)]
    teams = [ServiceTeam(name=f"售后{i + 1}组", leader_id=boss.id) for i in range(3)]
    db.session.add_all(teams)
    db.session.flush()
    for i, agent in enumerate(agents):
        db.session.add(ServiceTeamMember(team_id=teams[i % 3].id, user_id=agent.id))
    db.session.commit()
    statuses = {s.name: s for s in db.session.scalars(select(TicketStatus))}
    rng = random.Random(22)
    rows, searches = [], []
    for cid in range(1, customers + 1):
        name = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{cid}号商贸有限公司"
        mobile = f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
        rows.append({"id": cid, "name": name, "kind": "company", "mobile": mobile, "owner_id": None,
                     "mnemonic": "", "custom": {}, "created_at": NOW, "updated_at": NOW})
        values = [search.normalised(v) for v in (name, mobile)]
        searches.append(search.index_row(cid, values))
    for start in range(0, customers, 10_000):
        db.session.execute(insert(Customer), rows[start:start + 10_000])
        db.session.execute(insert(CustomerSearch), searches[start:start + 10_000])
    db.session.commit()
    ids = [a.id for a in agents]
    span = 2 * 365 * 24 * 60
    batch, entry_batch, search_batch = [], [], []
    entry_id = 0
    for i in range(1, tickets + 1):
        created = NOW - timedelta(minutes=int(span * (1 - i / tickets)) + rng.randint(0, 30))
        age = (NOW - created).days
        roll = rng.random()
        if age > 30:
            name = "已关闭" if roll < 0.9 else "已解决" if roll < 0.98 else "处理中"
        else:
            name = "新建" if roll < 0.2 else "处理中" if roll < 0.6 else "等待客户" if roll < 0.7 else "已解决"
        status = statuses[name]
        done = status.category in ("resolved", "closed")
        first_due = created + timedelta(hours=rng.choice((2, 4, 8)))
        resolution_due = created + timedelta(hours=rng.choice((24, 48, 72, 120)))
        answered = created + timedelta(hours=rng.random() * 6) if done or rng.random() < 0.7 else None
        resolved = created + timedelta(hours=rng.random() * 100) if done else None
        batch.append({
            "id": i, "version": 1, "number": f"GD{created:%Y%m%d}{i:07d}", "customer_id": rng.randint(1, customers),
            "channel": rng.choice(("phone", "phone", "wechat", "email", "visit", "web")), "type_id": None,
            "priority": rng.choice(("low", "normal", "normal", "high", "urgent")),
            "subject": f"{rng.choice(SUBJECTS)}（{rng.choice(SURNAMES)}先生）", "description": None,
            "team_id": teams[i % 3].id, "assignee_id": rng.choice(ids) if rng.random() < 0.95 else None,
            "created_by_id": boss.id, "status_id": status.id, "status_category": status.category,
            "first_response_due_at": first_due, "first_responded_at": answered,
            "resolution_due_at": None if status.category == "paused" else resolution_due,
            "resolved_at": resolved, "closed_at": resolved if name == "已关闭" else None,
            "sla_remaining_seconds": 3600 if status.category == "paused" else None,
            "reopened_count": 0, "custom": {}, "created_at": created, "updated_at": created})
        search_batch.append({"ticket_id": i, "tokens": " ".join(sorted(search.tokens_of([batch[-1]["subject"]])))})
        for k in range(entries_per):
            entry_id += 1
            entry_batch.append({"id": entry_id, "ticket_id": i, "kind": "reply" if k % 2 else "note",
                                "author_id": batch[-1]["assignee_id"], "body": "已联系客户，正在处理。",
                                "at": created + timedelta(hours=k)})
        if len(batch) >= 10_000:
            db.session.execute(insert(Ticket), batch)
            db.session.execute(insert(TicketEntry), entry_batch)
            db.session.execute(insert(TicketSearch), search_batch)
            db.session.commit()
            batch, entry_batch, search_batch = [], [], []
    if batch:
        db.session.execute(insert(Ticket), batch)
        db.session.execute(insert(TicketEntry), entry_batch)
        db.session.execute(insert(TicketSearch), search_batch)
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    busiest = db.session.execute(select(Ticket.assignee_id).where(Ticket.status_category.in_(("open", "paused")),
                                                                 Ticket.assignee_id.is_not(None))
                                 .group_by(Ticket.assignee_id).order_by(db.func.count().desc()).limit(1)).scalar()
    return {"boss": boss.id, "agent": busiest or ids[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--entries", type=int, default=5, help="timeline entries per ticket")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="time the tickets already in the database")
    args = parser.parse_args()
    url = normalise_url(args.url)
    app = make_app(url)
    with app.app_context():
        from sqlalchemy import event, func, select

        from admin_views.base import COUNT_CAP, SEARCH_COUNT_CAP
        from models import User, db
        from models.service import Ticket
        from rules import clock, scope, sla, tickets
        from rules.actor import Actor

        clock.pin(NOW)
        started = time.perf_counter()
        if args.reuse:
            who = {"boss": db.session.scalar(select(User.id).where(User.username == "kfzg")),
                   "agent": db.session.execute(select(Ticket.assignee_id).where(
                       Ticket.status_category.in_(("open", "paused")), Ticket.assignee_id.is_not(None))
                       .group_by(Ticket.assignee_id)
                       .order_by(func.count().desc()).limit(1)).scalar()}
            args.tickets = db.session.scalar(select(func.count(Ticket.id)))
        else:
            who = generate(args.tickets, args.customers, args.entries)
        print(f"{args.tickets:,} tickets ({args.entries} timeline entries each) over {args.customers:,} customers "
              f"in {time.perf_counter() - started:.1f} s on {db.engine.dialect.name}")

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

        def against_raw(label: str, where, cap: int) -> None:
            page = select(Ticket).where(where).order_by(Ticket.id.desc()).limit(20)
            count = select(func.count()).select_from(select(Ticket.id).where(where).limit(cap + 1).subquery())

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

            print(f"{label}:")
            ours, theirs = timed(orm), timed(raw)
            report("page + count (ORM)", ours)
            report("same SQL, raw DB-API", theirs)
            print(f"  ratio {statistics.median(ours) / statistics.median(theirs):.2f}x")

        agent = Actor.from_user(db.session.get(User, who["agent"]), today=TODAY, has_shares=False)
        boss = Actor.from_user(db.session.get(User, who["boss"]), today=TODAY, has_shares=False)
        mine = (Ticket.assignee_id == agent.user_id) & scope.clause_for(Ticket, agent)
        active = Ticket.status_category.in_(tickets.ACTIVE_CATEGORIES)
        for state in sla.SlaState:
            # As the workbench's figures open it: my not-done tickets in that state (已达成: all of mine).
            where = mine & sla.state_clause(state, NOW)
            against_raw(f"我的工单 SLA={state.value}", where if state is sla.SlaState.MET else where & active, COUNT_CAP)
        values = timed(lambda: tickets.my_sla_counts(db.session, agent, NOW))
        print("workbench 我的工单 (four counts):")
        report("rules.tickets.my_sla_counts", values)
        number = db.session.scalar(select(Ticket.number).order_by(Ticket.id.desc()).limit(1))[:10]
        for label, term in (("number prefix", number), ("customer name", "华星鼎盛"), ("phone fragment", "1391234"),
                            ("subject word", "紫砂壶"), ("word found nowhere", "蓝牙音箱")):
            where = scope.clause_for(Ticket, boss) & tickets.search_clause(db.session, term)
            against_raw(f"search {label} '{term}'", where, SEARCH_COUNT_CAP)

        client = app.test_client()
        for user_id, endpoint in ((who["agent"], "/admin/ticket_mine/?flt0_0=soon"),
                                  (who["agent"], "/admin/ticket_mine/"),
                                  (who["boss"], "/admin/ticket/?search=紫砂壶"),
                                  (who["boss"], "/admin/ticket/?search=华星鼎盛")):
            user = db.session.get(User, user_id)
            with client.session_transaction() as session:
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
            first = client.get(endpoint)
            body = first.get_data(as_text=True)
            assert first.status_code == 200 and "model-list" in body, body[body.find("<title>"):][:80]
            values = timed(lambda: client.get(endpoint))
            print(f"page {endpoint}:")
            report("GET through the app", values)


if __name__ == "__main__":
    main()
