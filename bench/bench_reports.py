"""Reports (统计报表) and the workbench at scale, timed against the bare aggregate SQL.

    # a copy of the 1M-customer database (never write to a shared one), then orders and follow-ups
    .venv/bin/python bench/bench_orders.py copy --from /tmp/bench/kechi-1m.db --to /tmp/kechi-reports/r.db
    .venv/bin/python bench/bench_reports.py prepare --url sqlite:////tmp/kechi-reports/r.db \
        --orders 1000000 --follow-ups 5000000
    .venv/bin/python bench/bench_reports.py run --url sqlite:////tmp/kechi-reports/r.db --repeat 20

`prepare` creates the report index and tables if the database predates them, adds N orders with bench/bench_orders.py's generator (SQLite; skipped when the database
already has orders; on PostgreSQL orders are made by one INSERT … SELECT over generate_series),
tops the follow-ups up to the wanted total with one INSERT … SELECT (owner of the customer as
writer, times spread over two years), fills an empty 流转记录 (a "created" event per customer and
--moves claims/releases/recycles over two years), runs ANALYZE and rebuilds the report summaries (timed: the
periodic job does the same every ten minutes). `refresh` only rebuilds the summaries.

`run` logs in through the real login form as gm (总经理, scope 全部) and lead1 (主管 of a department,
scope 本部门) and GETs every report page with its default range (1 January → today, the clock
pinned to the generator's 2026-11-23) and the workbench, with Flask's test client. The bare SQL
is each report's main aggregate written by hand (same WHERE on dates, states and the scope's
owners, same GROUP BY) on a raw DB-API connection. Figures: median and p95 (nearest rank) over
--repeat runs after one warm-up; ratio = page ÷ bare.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_PASSWORD, GM_USERNAME, make_app, normalise_url, sqlite_path  # noqa: E402

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
LEAD_USERNAME = "lead1"
START_UTC, END_UTC = "2025-12-31 16:00:00", "2026-11-23 16:00:00"  # local 2026-01-01 … 2026-11-23
START_DAY, END_DAY = "2026-01-01", "2026-11-23"


# --- prepare ------------------------------------------------------------------------------------

def prepare(url: str, orders: int, follow_ups: int, moves: int = 400_000) -> None:
    from sqlalchemy import text

    from models import db

    app = make_app(url)
    with app.app_context():
        db.create_all()
        engine = db.engine
        dialect = engine.dialect.name
        with engine.connect() as conn:
            have_orders = conn.scalar(text("SELECT count(*) FROM orders"))
    started = time.perf_counter()
    if not have_orders and orders:
        if dialect == "sqlite":
            import bench_orders

            bench_orders.generate(url, orders, 7)
        else:
            _pg_orders(app, orders)
        print(f"orders: {time.perf_counter() - started:.0f} s")
    with app.app_context():
        with db.engine.begin() as conn:
            have = conn.scalar(text("SELECT count(*) FROM follow_ups"))
            missing = max(follow_ups - have, 0)
            maxc = conn.scalar(text("SELECT max(id) FROM customers"))
            if missing:
                if dialect == "sqlite":
                    conn.exec_driver_sql("PRAGMA synchronous=OFF")
                    series = ("WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n) ")
                    source = "seq"
                    when = ("datetime('2026-11-23 02:00:00', '-' || (i % 700) || ' days', "
                            "'-' || (i % 600) || ' minutes')")
                else:
                    series = ""
                    source = "generate_series(1::bigint, :n) AS seq(i)"
                    when = ("TIMESTAMP '2026-11-23 02:00:00' - make_interval(days => (i % 700)::int) "
                            "- make_interval(mins => (i % 600)::int)")
                # a customer in the pool has no owner to write its follow-ups: ask for a few more
                owned = conn.scalar(text("SELECT count(*) FROM customers WHERE owner_id IS NOT NULL")) / maxc
                n = int(missing / max(owned, 0.01)) + 1000
                conn.execute(text(
                    series + "INSERT INTO follow_ups (customer_id, user_id, kind, content, happened_at, created_at, "
                    "updated_at) SELECT c.id, c.owner_id, 'phone', '电话回访，客户有意向', " + when + ", " + when
                    + ", " + when + f" FROM {source} JOIN customers c ON c.id = ((i * 104729) % :maxc) + 1 "
                    "WHERE c.owner_id IS NOT NULL LIMIT :missing"), {"n": n, "maxc": maxc, "missing": missing})
            print(f"follow-ups: {have} → {conn.scalar(text('SELECT count(*) FROM follow_ups'))}, "
                  f"{time.perf_counter() - started:.0f} s")
        _ownership_log(db.engine, dialect, moves)
        from models.customer import Customer

        for index in Customer.__table__.indexes:  # the report index, on databases made before it
            if index.name in ("ix_customers_report", "ix_customers_live_owner"):
                t0 = time.perf_counter()
                index.create(db.engine, checkfirst=True)
                print(f"{index.name}: {time.perf_counter() - t0:.0f} s")
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        refresh_summaries(app)
    print(f"prepared in {time.perf_counter() - started:.0f} s")


def _ownership_log(engine, dialect: str, moves: int) -> None:
    """流转记录 as a live install has it: one "created" event per customer (to its owner, or
    none for the pool) at its creation, and `moves` claims, releases and recycles by the owners
    spread over two years. Skipped when the log already has the "created" events."""
    from sqlalchemy import text

    started = time.perf_counter()
    with engine.begin() as conn:
        if conn.scalar(text("SELECT count(*) FROM ownership_events WHERE reason = 'created'")):
            return
        conn.execute(text("INSERT INTO ownership_events (customer_id, from_user_id, to_user_id, actor_id, reason, at) "
                          "SELECT id, NULL, owner_id, owner_id, 'created', created_at FROM customers"))
        maxc = conn.scalar(text("SELECT max(id) FROM customers"))
        if dialect == "sqlite":
            series = "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n) "
            source = "seq"
            when = "datetime('2026-11-23 02:00:00', '-' || (i % 700) || ' days', '-' || (i % 600) || ' minutes')"
        else:
            series = ""
            source = "generate_series(1::bigint, :n) AS seq(i)"
            when = ("TIMESTAMP '2026-11-23 02:00:00' - make_interval(days => (i % 700)::int) "
                    "- make_interval(mins => (i % 600)::int)")
        reason = "CASE i % 3 WHEN 0 THEN 'claim' WHEN 1 THEN 'release' ELSE 'recycle' END"
        conn.execute(text(
            series + "INSERT INTO ownership_events (customer_id, from_user_id, to_user_id, actor_id, reason, at) "
            f"SELECT c.id, CASE WHEN i % 3 = 0 THEN NULL ELSE c.owner_id END, "
            f"CASE WHEN i % 3 = 0 THEN c.owner_id ELSE NULL END, c.owner_id, {reason}, {when} "
            f"FROM {source} JOIN customers c ON c.id = ((i * 7919) % :maxc) + 1 WHERE c.owner_id IS NOT NULL"),
            {"n": moves, "maxc": maxc})
        total = conn.scalar(text("SELECT count(*) FROM ownership_events"))
    print(f"ownership log: {total:,} events, {time.perf_counter() - started:.0f} s")


def refresh_summaries(app) -> None:
    """What the periodic job does; timed, since it runs every ten minutes in production."""
    from models import db
    from rules import report_summary

    with app.app_context():
        db.create_all()  # a summary table newer than the bench database
        t0 = time.perf_counter()
        report_summary.refresh(db.session, now=NOW, tz=app.config["TIMEZONE"])
        db.session.commit()
        print(f"report summaries rebuilt in {time.perf_counter() - t0:.1f} s")


def _pg_orders(app, n: int) -> None:
    """Orders on PostgreSQL: one INSERT … SELECT, the state mix and dates of bench_orders.py."""
    from sqlalchemy import text

    from models import db

    with app.app_context(), db.engine.begin() as conn:
        if not conn.scalar(text("SELECT count(*) FROM products")):
            conn.execute(text("INSERT INTO products (code, name, mnemonic, unit, cost, points, safety_stock, active, "
                              "custom, created_at, updated_at) SELECT 'P' || lpad(i::text, 4, '0'), '产品' || i, "
                              "'cp' || i, '箱', 10, 1, 0, true, '{}', now(), now() FROM generate_series(1, 60) i"))
        maxc = conn.scalar(text("SELECT max(id) FROM customers"))
        conn.execute(text(
            "INSERT INTO orders (number, customer_id, salesperson_id, state, order_date, tax_rate, gross, discount, "
            "total, amount_ex_tax, tax, cost, margin, returned_amount, received, refunded, points_awarded, "
            "created_at, updated_at) "
            "SELECT 'DD' || i, c.id, c.owner_id, "
            "CASE WHEN i % 100 < 70 THEN 'completed' WHEN i % 100 < 78 THEN 'shipped' WHEN i % 100 < 83 "
            "THEN 'picking' WHEN i % 100 < 88 THEN 'pending_review' WHEN i % 100 < 95 THEN 'cancelled' "
            "ELSE 'returned' END, DATE '2025-11-23' + (365 * i / :n)::int, 0.13, a, 0, a, a, 0, 0, 0, "
            "CASE WHEN i % 100 >= 95 THEN a ELSE 0 END, CASE WHEN i % 100 < 70 THEN a ELSE 0 END, 0, 0, now(), now() "
            "FROM (SELECT i, ((i * 7919) % :maxc) + 1 AS cid, ((i * 37) % 4900 + 100)::numeric AS a "
            "FROM generate_series(1::bigint, :n) i) s JOIN customers c ON c.id = s.cid WHERE c.owner_id IS NOT NULL"),
            {"n": n, "maxc": maxc})
        conn.execute(text(
            "INSERT INTO order_lines (order_id, product_id, quantity, unit_price, discount_rate, amount, unit_cost, "
            "returned_quantity) SELECT o.id, (SELECT min(id) FROM products) + o.id % 60, 2, o.total / 2, 1, o.total, "
            "5, CASE WHEN o.state = 'returned' THEN 2 ELSE 0 END FROM orders o"))


# --- run ----------------------------------------------------------------------------------------

def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def login(app, username: str):
    import re

    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"username": username, "password": BENCH_PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"login as {username} failed")
    return client


PAGES = [
    ("公司销售报表", "/admin/reports/sales/", "sales"),
    ("产品销售报表", "/admin/reports/products/", "products"),
    ("业务员业绩报表", "/admin/reports/salespeople/", "salespeople"),
    ("客户销售报表(RFM)", "/admin/reports/customer-sales/", "rfm"),
    ("客户数量(省份)", "/admin/reports/customers/", "province"),
    ("客户数量(跟进程度)", "/admin/reports/customers/?by=stage", "stage"),
    ("新增客户走势(月)", "/admin/reports/new-customers/", "new"),
    ("客户跟进(业务员)", "/admin/reports/follow-ups/", "follow"),
    ("客户跟进(超过30天未跟进)", "/admin/reports/follow-ups/?by=idle&days=30", "idle"),
    ("客户池报表", "/admin/reports/pool/", "pool"),
    ("销售漏斗", "/admin/reports/funnel/", "funnel"),
    ("工作台", "/admin/", None),
]


def bare_sql(kind: str, dialect: str, lead_dept: int | None) -> str:
    """Each report's main aggregate by hand: same dates, states, scope owners and GROUP BY."""
    owners = f"(SELECT id FROM users WHERE department_id = {lead_dept})" if lead_dept else None
    live = "deleted_at IS NULL"
    month = "strftime('%Y-%m', order_date)" if dialect == "sqlite" else "to_char(order_date, 'YYYY-MM')"
    created = f"created_at >= '{START_UTC}' AND created_at < '{END_UTC}'"
    sold = f"o.order_date BETWEEN '{START_DAY}' AND '{END_DAY}' AND o.state NOT IN ('pending_review', 'cancelled')"
    o_scope = f" AND o.salesperson_id IN {owners}" if owners else ""
    c_scope = f" AND owner_id IN {owners}" if owners else ""
    f_scope = f" AND user_id IN {owners}" if owners else ""
    if kind == "sales":
        return (f"SELECT {month}, count(*), sum(CASE WHEN state = 'cancelled' THEN 0 ELSE total - returned_amount END), "
                "sum(received), sum(refunded) FROM orders o WHERE order_date BETWEEN "
                f"'{START_DAY}' AND '{END_DAY}' AND state != 'pending_review'{o_scope} GROUP BY 1")
    if kind == "products":
        return ("SELECT l.product_id, sum(l.quantity), sum(l.amount), sum(l.returned_quantity) FROM order_lines l "
                f"JOIN orders o ON o.id = l.order_id WHERE {sold}{o_scope} GROUP BY l.product_id")
    if kind == "salespeople":
        return (f"SELECT o.salesperson_id, count(*), sum(o.total - o.returned_amount), sum(o.received - o.refunded) "
                f"FROM orders o WHERE {sold}{o_scope} GROUP BY o.salesperson_id")
    if kind == "rfm":
        return (f"SELECT o.customer_id, count(*), sum(o.total - o.returned_amount), max(o.order_date) FROM orders o "
                f"WHERE {sold}{o_scope} GROUP BY o.customer_id ORDER BY 3 DESC LIMIT 100")
    if kind in ("province", "stage", "funnel"):
        column = "province" if kind == "province" else "stage_id"
        return f"SELECT {column}, count(*) FROM customers WHERE {live} AND {created}{c_scope} GROUP BY {column}"
    if kind == "new":
        bucket = ("strftime('%Y-%m', created_at, '+480 minutes')" if dialect == "sqlite"
                  else "to_char(created_at + interval '8 hours', 'YYYY-MM')")
        return f"SELECT {bucket}, count(*) FROM customers WHERE {live} AND {created}{c_scope} GROUP BY 1"
    if kind == "follow":
        return (f"SELECT user_id, count(*) FROM follow_ups WHERE happened_at >= '{START_UTC}' AND happened_at < "
                f"'{END_UTC}'{f_scope} GROUP BY user_id")
    if kind == "idle":
        return (f"SELECT owner_id, count(*) FROM customers WHERE {live} AND owner_id IS NOT NULL{c_scope} AND "
                "(last_follow_up_at IS NULL OR last_follow_up_at < '2026-10-24 02:00:00') GROUP BY owner_id")
    if kind == "pool":
        taken = f" AND to_user_id IN {owners}" if owners else ""
        left = f" AND from_user_id IN {owners}" if owners else ""
        return (f"SELECT reason, from_user_id, to_user_id, count(*) FROM ownership_events WHERE reason IN "
                f"('claim', 'approved', 'release', 'recycle', 'recall') AND at >= '{START_UTC}' AND at < '{END_UTC}' "
                f"AND ((reason IN ('claim', 'approved') AND from_user_id IS NULL{taken}) OR "
                f"(reason IN ('release', 'recycle', 'recall') AND to_user_id IS NULL{left})) "
                "GROUP BY reason, from_user_id, to_user_id")
    raise ValueError(kind)


def run(url: str, repeat: int, only: str | None) -> None:
    from sqlalchemy import text

    from models import db

    app = make_app(url, CLOCK=NOW)
    with app.app_context():
        dialect = db.engine.dialect.name
        lead_dept = db.session.scalar(text("SELECT department_id FROM users WHERE username = :u"), {"u": LEAD_USERNAME})
        counts = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}"))
                  for t in ("customers", "orders", "order_lines", "follow_ups", "ownership_events")}
    print(f"{dialect}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(f"{'who':<6} {'page':<26} {'median ms':>10} {'p95 ms':>8} {'bare med':>9} {'bare p95':>9} {'ratio':>6}")
    for who, username in (("总经理", GM_USERNAME), ("主管", LEAD_USERNAME)):
        client = login(app, username)
        for label, path, kind in PAGES:
            if only and only not in label and only not in path:
                continue
            page_ms, bare_ms = [], []
            for attempt in range(repeat + 1):
                t0 = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - t0) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code}")
                if attempt:
                    page_ms.append(elapsed)
            if kind:
                with app.app_context():
                    raw = db.engine.raw_connection()
                    sql = bare_sql(kind, dialect, lead_dept if who == "主管" else None)
                    for attempt in range(repeat + 1):
                        cursor = raw.cursor()
                        t0 = time.perf_counter()
                        cursor.execute(sql)
                        cursor.fetchall()
                        elapsed = (time.perf_counter() - t0) * 1000
                        cursor.close()
                        if attempt:
                            bare_ms.append(elapsed)
                    raw.close()
            med = statistics.median(page_ms)
            line = f"{who:<6} {label:<26} {med:>10.0f} {p95(page_ms):>8.0f}"
            if bare_ms:
                bmed = statistics.median(bare_ms)
                line += f" {bmed:>9.0f} {p95(bare_ms):>9.0f} {med / bmed if bmed else float('inf'):>6.1f}"
            print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--url", required=True)
    p.add_argument("--orders", type=int, default=1_000_000)
    p.add_argument("--follow-ups", type=int, default=5_000_000)
    p.add_argument("--moves", type=int, default=400_000, help="claims/releases/recycles in the ownership log")
    f = sub.add_parser("refresh")
    f.add_argument("--url", required=True)
    r = sub.add_parser("run")
    r.add_argument("--url", required=True)
    r.add_argument("--repeat", type=int, default=20)
    r.add_argument("--only")
    args = parser.parse_args()
    url = normalise_url(args.url)
    if args.command == "prepare":
        if url.startswith("sqlite"):
            assert Path(sqlite_path(url)).exists(), url
        prepare(url, args.orders, args.follow_ups, args.moves)
    elif args.command == "refresh":
        refresh_summaries(make_app(url))
    else:
        run(url, args.repeat, args.only)


if __name__ == "__main__":
    main()
