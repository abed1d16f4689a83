"""Orders at scale: 1,000,000 orders with 3 lines each over the customers of a bench database,
then the per-state lists and 订单综合查询 (state + date range + salesperson) timed against the
bare SQL doing the same work.

    # copy the customers database first (never write to a shared one), then add the orders
    .venv/bin/python bench/bench_orders.py copy --from /tmp/bench/kechi-1m.db --to /tmp/bench/kechi-orders.db
    .venv/bin/python bench/bench_orders.py generate --url sqlite:////tmp/bench/kechi-orders.db --orders 1000000
    .venv/bin/python bench/bench_orders.py run --url sqlite:////tmp/bench/kechi-orders.db --repeat 30

`generate` needs a database made by bench/generate.py (customers owned by sales01..sales20);
it adds 60 products and N orders (order date over the past year, salesperson = the customer's
owner, states mostly 已完成, a few percent in each other state), 3 lines each, and their
payments-free money columns, bulk-loaded with the order indexes dropped and rebuilt.

`run` logs in through the real login form as sales01 (业务员, scope 本人) and gm (总经理, scope 全部)
and GETs the real pages with Flask's test client:
  state lists     /admin/order_pending/ /admin/order_picking/ ... /admin/order_returned/
  订单综合查询    /admin/order/?flt0_0=<state>&flt1_7=<from> to <to>&flt2_6=<salesperson>
The bare SQL is the page's own work written by hand on a raw DB-API connection: the capped count
(LIMIT 10001; none for a salesperson, whose lists page without a total) and the data query (same scope filter, same ORDER BY order_date DESC, id DESC,
LIMIT 20, customer and salesperson names joined). Figures: median and p95 (nearest rank) over
--repeat runs after 2 warm-ups; ratio = page ÷ bare. The page must list the same order numbers
as the bare SQL, or the script stops.
"""
from __future__ import annotations

import argparse
import math
import random
import re
import sqlite3
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    BENCH_PASSWORD, GM_USERNAME, SALES_USERNAME, libpq_url, make_app, normalise_url, sqlite_path,
)

STATES = [("completed", 0.70), ("shipped", 0.08), ("picking", 0.05), ("pending_review", 0.05),
          ("cancelled", 0.07), ("returned", 0.05)]
STATE_LISTS = {"pending_review": "/admin/order_pending/", "picking": "/admin/order_picking/",
               "shipped": "/admin/order_shipped/", "completed": "/admin/order_completed/",
               "cancelled": "/admin/order_cancelled/", "returned": "/admin/order_returned/"}
TODAY = date(2026, 11, 23)
COUNT_CAP = 10_000  # the pager's count stops here ("10000+")


# --- copy and generate ----------------------------------------------------------------------------

def copy_database(source: str, target: str) -> None:
    """SQLite's online backup API: a consistent copy, the source untouched."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    started = time.perf_counter()
    src.backup(dst, pages=65536)
    dst.close()
    src.close()
    print(f"copied {source} → {target} in {time.perf_counter() - started:.0f} s")


ORDER_COLUMNS = ("id", "number", "customer_id", "salesperson_id", "created_by_id", "state", "order_date",
                 "price_level_id", "warehouse_id", "consignee", "phone", "province", "city", "tax_rate", "gross",
                 "discount", "total", "amount_ex_tax", "tax", "cost", "margin", "returned_amount", "received",
                 "refunded", "carrier", "tracking_no", "submitted_at", "approved_at", "shipped_at", "completed_at",
                 "closed_at", "points_awarded", "created_at", "updated_at")
LINE_COLUMNS = ("id", "order_id", "product_id", "quantity", "unit_price", "discount_rate", "amount", "unit_cost",
                "returned_quantity")


class Loader:
    """Raw DB-API access for the bulk load: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.pg = url.startswith("postgresql")
        if self.pg:
            import psycopg

            self.conn = psycopg.connect(libpq_url(url))
        else:
            sqlite3.register_adapter(Decimal, str)
            sqlite3.register_adapter(datetime, lambda v: v.strftime("%Y-%m-%d %H:%M:%S.%f"))
            sqlite3.register_adapter(date, lambda v: v.isoformat())
            self.conn = sqlite3.connect(sqlite_path(url))
            for pragma in ("journal_mode=WAL", "synchronous=OFF", "cache_size=-800000"):
                self.conn.execute(f"PRAGMA {pragma}")

    def execute(self, sql: str, args: tuple = ()) -> Any:
        cursor = self.conn.cursor()
        cursor.execute(sql.replace("?", "%s") if self.pg else sql, args)
        return cursor

    def load(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if self.pg:
            with self.conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def generate(url: str, n: int, seed: int) -> None:
    from sqlalchemy.schema import CreateIndex

    from models import Order, OrderLine, db

    app = make_app(url)
    with app.app_context():
        db.create_all()  # order tables if the customers database predates them
        indexes = [index for table in (Order.__table__, OrderLine.__table__) for index in table.indexes]
        index_ddl = [(index.name, str(CreateIndex(index).compile(dialect=db.engine.dialect))) for index in indexes]
    db_ = Loader(url)
    if db_.execute("SELECT count(*) FROM orders").fetchone()[0]:
        sys.exit("the database already has orders")
    rng = random.Random(seed)
    started = time.perf_counter()
    db_.execute("INSERT INTO price_levels (id, name, sort_order, active) VALUES (1, '零售价', 0, ?)", (True,))
    db_.execute("INSERT INTO warehouses (id, name, region, active) VALUES (1, '总仓', '华东', ?)", (True,))
    now = datetime(2026, 11, 23, 2, 0)
    products = []
    for i in range(1, 61):
        price = Decimal(rng.randint(500, 80000)) / 100
        cost = (price * Decimal("0.45")).quantize(Decimal("0.01"))
        db_.execute("INSERT INTO products (id, code, name, mnemonic, spec, unit, cost, points, safety_stock, active, "
                    "custom, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, '{}', ?, ?)",
                    (i, f"P{i:04d}", f"产品{i:02d}", f"cp{i:02d}", "1箱", "箱", cost, 1, True, now, now))
        db_.execute("INSERT INTO product_prices (product_id, level_id, price) VALUES (?, 1, ?)", (i, price))
        products.append((i, price, cost))
    owners = db_.execute("SELECT id, owner_id, name, province, city, mobile FROM customers "
                         "WHERE owner_id IS NOT NULL AND deleted_at IS NULL").fetchall()
    print(f"{len(owners)} owned customers")
    for name, _ddl in index_ddl:
        db_.execute(f'DROP INDEX IF EXISTS "{name}"')
    db_.conn.commit()
    cumulative, total = [], 0.0
    for state, weight in STATES:
        total += weight
        cumulative.append((total, state))
    rate = Decimal("0.13")
    order_rows: list[tuple] = []
    line_rows: list[tuple] = []
    line_id = 0
    day_zero = TODAY - timedelta(days=365)

    def flush() -> None:
        db_.load("orders", ORDER_COLUMNS, order_rows)
        db_.load("order_lines", LINE_COLUMNS, line_rows)
        order_rows.clear()
        line_rows.clear()

    for order_id in range(1, n + 1):
        customer_id, owner_id, name, province, city, mobile = owners[rng.randrange(len(owners))]
        day = day_zero + timedelta(days=int(365 * (order_id / n)))  # ids grow with dates, as in real life
        roll = rng.random()
        state = next(s for limit, s in cumulative if roll <= limit)
        gross = amount_total = cost_total = Decimal(0)
        for product_id, price, cost in rng.sample(products, 3):
            line_id += 1
            qty = rng.randint(1, 20)
            disc = Decimal("1") if rng.random() < 0.7 else Decimal("0.95")
            amount = (Decimal(qty) * price * disc).quantize(Decimal("0.01"))
            gross += (Decimal(qty) * price).quantize(Decimal("0.01"))
            amount_total += amount
            cost_total += Decimal(qty) * cost
            line_rows.append((line_id, order_id, product_id, qty, price, disc, amount, cost, 0))
        ex_tax = (amount_total / (1 + rate)).quantize(Decimal("0.01"))
        stamp = datetime.combine(day, datetime.min.time()).replace(hour=3)
        shipped = stamp if state in ("shipped", "completed", "returned") else None
        order_rows.append((
            order_id, f"DD{day:%Y%m%d}{order_id:07d}", customer_id, owner_id, owner_id, state, day, 1, 1,
            name[:64], mobile, province, city, rate, gross, gross - amount_total, amount_total, ex_tax,
            amount_total - ex_tax, cost_total, ex_tax - cost_total, 0, 0, 0,
            "顺丰速运" if shipped else None, f"SF{order_id:010d}" if shipped else None, stamp,
            stamp if state not in ("pending_review", "cancelled") else None, shipped,
            stamp if state == "completed" else None, stamp if state in ("cancelled", "returned") else None, 0,
            stamp, stamp))
        if len(order_rows) >= 20_000:
            flush()
            if order_id % 200_000 == 0:
                print(f"  {order_id} orders, {time.perf_counter() - started:.0f} s")
    flush()
    db_.conn.commit()
    print(f"loaded {n} orders and {line_id} lines in {time.perf_counter() - started:.0f} s")
    for name, ddl in index_ddl:
        db_.execute(ddl)
        db_.conn.commit()
        print(f"  index {name}: {time.perf_counter() - started:.0f} s")
    if db_.pg:
        db_.execute("SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))")
        db_.execute("SELECT setval(pg_get_serial_sequence('order_lines', 'id'), (SELECT max(id) FROM order_lines))")
        db_.execute("SELECT setval(pg_get_serial_sequence('products', 'id'), 60)")
        db_.conn.commit()
        db_.conn.autocommit = True
        db_.execute("VACUUM ANALYZE orders")
        db_.execute("VACUUM ANALYZE order_lines")
    else:
        db_.execute("ANALYZE")
        db_.conn.commit()
    db_.conn.close()
    print(f"done in {time.perf_counter() - started:.0f} s")


# --- run ----------------------------------------------------------------------------------------

def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def login(client, username: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"username": username, "password": BENCH_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"login failed for {username}"


def page_numbers(html: str) -> list[str]:
    start = html.find("model-list")
    table = html[start:html.find("</table>", start)]
    return re.findall(r">(DD\d{15})</a>", table)


def bare_sql(conn, *, scope_user: int | None, state: str, salesperson: int | None = None,
             days: tuple[date, date] | None = None) -> tuple[int, list[str]]:
    where, args = ["o.state = ?"], [state]
    if scope_user is not None:  # 本人: sold by me, or of a customer I own or that is shared with me
        where.append("(o.salesperson_id = ? OR EXISTS (SELECT 1 FROM customers c2 WHERE c2.id = o.customer_id "
                     "AND c2.deleted_at IS NULL AND (c2.owner_id = ? OR c2.id IN "
                     "(SELECT s.customer_id FROM customer_shares s WHERE s.user_id = ? AND s.revoked_at IS NULL "
                     "AND (s.until IS NULL OR s.until >= ?)))))")
        args += [scope_user, scope_user, scope_user, date.today()]
    if salesperson is not None:
        where.append("o.salesperson_id = ?")
        args.append(salesperson)
    if days is not None:
        where.append("o.order_date >= ? AND o.order_date <= ?")
        args += [days[0], days[1]]
    clause = " AND ".join(where)
    count = None
    if scope_user is None:  # a salesperson's lists page without a total (OrderView.simple_list_pager)
        count = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM orders o WHERE {clause} LIMIT {COUNT_CAP + 1}) AS t",
                             args).fetchone()[0]
    rows = conn.execute(
        "SELECT o.number, o.order_date, c.name, o.consignee, o.phone, o.province, o.city, o.total, o.received, "
        "o.refunded, o.returned_amount, u.display_name, o.state FROM orders o "
        "JOIN customers c ON c.id = o.customer_id JOIN users u ON u.id = o.salesperson_id "
        f"WHERE {clause} ORDER BY o.order_date DESC, o.id DESC LIMIT 20", args).fetchall()
    return count, [r[0] for r in rows]


def run(url: str, repeat: int, explain: bool) -> None:
    from sqlalchemy import event, select

    from models import User, db

    app = make_app(url)
    statements = {"n": 0, "sql": 0.0, "t": 0.0}

    def before(*_a, **_k) -> None:
        statements["n"] += 1
        statements["t"] = time.perf_counter()

    def after(*_a, **_k) -> None:
        statements["sql"] += time.perf_counter() - statements["t"]

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        ids = dict(db.session.execute(select(User.username, User.id)).all())
    raw = Loader(url)
    clients = {}
    for username in (SALES_USERNAME, GM_USERNAME):
        client = app.test_client()
        login(client, username)
        clients[username] = client
    sales_id, other_sales = ids[SALES_USERNAME], ids.get("sales02", ids[SALES_USERNAME])
    window = (TODAY - timedelta(days=90), TODAY)
    span = f"{window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d}"
    cases = []
    for who, scope_user in ((SALES_USERNAME, sales_id), (GM_USERNAME, None)):
        for state, path in STATE_LISTS.items():
            cases.append((who, f"{state} list", path, dict(scope_user=scope_user, state=state)))
        person = sales_id if who == SALES_USERNAME else other_sales
        cases.append((who, "search shipped+90d+salesperson",
                      f"/admin/order/?flt0_0=shipped&flt1_7={span}&flt2_6={person}",
                      dict(scope_user=scope_user, state="shipped", salesperson=person, days=window)))
        cases.append((who, "search completed+90d+salesperson",
                      f"/admin/order/?flt0_0=completed&flt1_7={span}&flt2_6={person}",
                      dict(scope_user=scope_user, state="completed", salesperson=person, days=window)))
    print(f"{'user':8} {'case':34} {'page med':>9} {'page p95':>9} {'its SQL':>8} {'bare med':>9} {'bare p95':>9} "
          f"{'ratio med':>9} {'ratio p95':>9} {'SQL/bare':>8} {'stmts':>5} {'rows':>6}")
    for who, label, path, bare_args in cases:
        client = clients[who]
        page_ms, bare_ms, sql_ms = [], [], []
        for attempt in range(repeat + 2):
            statements["n"], statements["sql"] = 0, 0.0
            t0 = time.perf_counter()
            response = client.get(path)
            t1 = time.perf_counter()
            assert response.status_code == 200, (path, response.status_code)
            count, numbers = bare_sql(raw, **bare_args)
            t2 = time.perf_counter()
            if attempt < 2:
                shown = page_numbers(response.get_data(as_text=True))
                if shown != numbers:
                    sys.exit(f"{who} {label}: page shows {len(shown)} {shown} but the bare SQL {len(numbers)} {numbers}")
                continue
            page_ms.append((t1 - t0) * 1000)
            sql_ms.append(statements["sql"] * 1000)
            bare_ms.append((t2 - t1) * 1000)
        pm, pp, bm, bp = statistics.median(page_ms), p95(page_ms), statistics.median(bare_ms), p95(bare_ms)
        sm = statistics.median(sql_ms)
        print(f"{who:8} {label:34} {pm:9.1f} {pp:9.1f} {sm:8.1f} {bm:9.1f} {bp:9.1f} {pm / bm:9.1f} {pp / bp:9.1f} "
              f"{sm / bm:8.1f} {statements['n']:5d} {count if count is not None else '-':>6}")
        if explain:
            count_, _rows = bare_sql(raw, **bare_args)
            plan = "EXPLAIN (ANALYZE, BUFFERS) " if raw.pg else "EXPLAIN QUERY PLAN "
            where, args = ["o.state = ?"], [bare_args["state"]]
            if bare_args.get("salesperson"):
                where.append("o.salesperson_id = ?")
                args.append(bare_args["salesperson"])
            for row in raw.execute(plan + "SELECT o.id FROM orders o WHERE " + " AND ".join(where)
                                   + " ORDER BY o.order_date DESC, o.id DESC LIMIT 20", tuple(args)).fetchall():
                print("   ", row[-1] if not raw.pg else row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("copy")
    c.add_argument("--from", dest="source", required=True)
    c.add_argument("--to", dest="target", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--url", required=True)
    g.add_argument("--orders", type=int, default=1_000_000)
    g.add_argument("--seed", type=int, default=20261130)
    r = sub.add_parser("run")
    r.add_argument("--url", required=True)
    r.add_argument("--repeat", type=int, default=30)
    r.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    if args.command == "copy":
        copy_database(args.source, args.target)
    elif args.command == "generate":
        generate(normalise_url(args.url), args.orders, args.seed)
    else:
        run(normalise_url(args.url), args.repeat, args.explain)


if __name__ == "__main__":
    main()
