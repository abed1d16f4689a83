"""手机版 (/m/) at scale: server time of the search and the 360 page against the bare SQL, and
the bytes and requests a phone spends on the five main pages.

    .venv/bin/python bench/mobile_pages.py --url sqlite:////tmp/bench/kechi-1m.db [--repeat 30] [--no-browser]

Server time (Flask's test client, logged in through the real form as the 业务员 sales01, scope
本人, and the 总经理 gm, scope 全部, on a database made by bench/generate.py):
  客户列表       /m/customers/                 my customers, last follow-up first (a page of 20 + 1)
  中文常见/中文长词/拼音首字母/电话片段  /m/customers/?q=…  (terms picked as bench_customers.py does)
  360           /m/customers/<id>/            the first customer of that list
The bare SQL is the page's work by hand on a raw DB-API connection: the search's scope + search
filter + ORDER BY + LIMIT 21 with the owner's name (bench_customers.Bare builds the WHERE); for
360: the customer in scope with owner/stage/level names, its contacts, 10 follow-ups with their
writers, open opportunities with their stage, 5 orders. Median and p95 (nearest rank) over
--repeat runs after 2 warm-ups; ratio = page ÷ bare. The page must list the same ids in the same
order as the bare SQL, or the script stops.

Transfer (unless --no-browser): the app served by waitress on loopback, Chromium as a phone
(390×844, touch, as tests/conftest.py's phone_page), signed in as sales01. For each of 今日,
客户 search, 360, 商机 and 审批 (a page this build lacks is listed as missing): the first load in
a fresh browser (empty cache, no service worker) and a repeat load (the service worker installed,
the page opened again), counted at the server: requests and bytes sent (headers + body,
uncompressed: waitress does not gzip; behind nginx with gzip the HTML shrinks about 5×).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_customers import Bare, login, p95, pick_terms, time_now  # noqa: E402
from common import BENCH_PASSWORD, GM_USERNAME, SALES_USERNAME, make_app, normalise_url  # noqa: E402

MOBILE_PAGE = 20
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]
# The five main pages: label, endpoint, url_for arguments ("{customer}" / "{term}" filled in).
MAIN_PAGES = (
    ("今日", "m_home.index", {}),
    ("客户搜索", "m_customers.index", {"q": "{term}"}),
    ("360", "m_customers.detail", {"customer_id": "{customer}"}),
    ("商机", "m_opportunities.index", {}),
    ("审批", "m_approvals.index", {}),
)


@dataclass
class Result:
    user: str
    label: str
    term: str
    page_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    statements: int = 0
    rows: int = 0


class BareMobile(Bare):
    """The mobile pages' queries by hand (the WHERE of the admin list's bench, bench_customers)."""

    def search(self, user_id: int | None, term: str | None) -> list[tuple[str, dict]]:
        branches, params = self._branches(user_id, term)
        nulls = " NULLS LAST" if self.dialect == "postgresql" else ""
        order = f"ORDER BY last_follow_up_at DESC{nulls}, id DESC LIMIT {MOBILE_PAGE + 1}"
        parts = [f"SELECT * FROM (SELECT c.* FROM customers c WHERE {w} {order}) AS b{i}"
                 for i, w in enumerate(branches)]
        page = parts[0] if len(parts) == 1 else f"SELECT * FROM ({' UNION ALL '.join(parts)}) AS u {order}"
        data = (f"SELECT p.id, p.name, p.mobile, p.phone, p.last_follow_up_at, u.display_name FROM ({page}) AS p "
                f"LEFT JOIN users u ON u.id = p.owner_id ORDER BY p.last_follow_up_at DESC{nulls}, p.id DESC")
        return [(self._paramstyle(data), params)]

    def page_360(self, user_id: int | None, customer_id: int) -> list[tuple[str, dict]]:
        mine = "AND c.owner_id = :uid " if user_id is not None else ""
        params = {"cid": customer_id, "uid": user_id}
        stmts = [
            "SELECT c.*, u.display_name, stg.name, val.name FROM customers c LEFT JOIN users u ON u.id = c.owner_id "
            "LEFT JOIN dict_items stg ON stg.id = c.stage_id LEFT JOIN dict_items val ON val.id = c.value_level_id "
            f"WHERE c.id = :cid AND c.deleted_at IS NULL {mine}",
            "SELECT * FROM contacts WHERE customer_id = :cid ORDER BY is_primary DESC, id",
            "SELECT f.*, u.display_name FROM follow_ups f JOIN users u ON u.id = f.user_id WHERE f.customer_id = :cid "
            "ORDER BY f.happened_at DESC, f.id DESC LIMIT 10",
            "SELECT o.*, s.name FROM opportunities o JOIN opportunity_stages s ON s.id = o.stage_id "
            f"WHERE o.customer_id = :cid AND o.outcome = 'open' {mine.replace('c.owner_id', 'o.owner_id')}"
            "ORDER BY o.id DESC LIMIT 10",
            "SELECT * FROM orders WHERE customer_id = :cid "
            f"{mine.replace('c.owner_id', 'salesperson_id')}ORDER BY order_date DESC, id DESC LIMIT 5",
        ]
        return [(self._paramstyle(s), params) for s in stmts]

    def run_all(self, stmts) -> list[int]:
        cursor = self.raw.cursor()
        first: list[int] = []
        for n, (sql, params) in enumerate(stmts):
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if n == 0:
                first = [row[0] for row in rows]
        cursor.close()
        self.raw.rollback()
        return first


def shown_ids(html: str) -> list[int]:
    seen: dict[int, None] = {}
    for i in re.findall(r'href="/m/customers/(\d+)/"', html):
        seen.setdefault(int(i), None)
    return list(seen)


def time_server(app, engine, users: dict[str, int], terms: dict[str, str], repeat: int, warmup: int) -> list[Result]:
    from sqlalchemy import event

    counter = {"n": 0}
    event.listen(engine, "before_cursor_execute", lambda *a: counter.__setitem__("n", counter["n"] + 1))
    with app.app_context():
        from rules.clock import local_date

        today = local_date(time_now(), app.config["TIMEZONE"]).isoformat()
    bare = BareMobile(engine, today, None)
    results = []
    for user in (SALES_USERNAME, GM_USERNAME):
        client = login(app, user)
        uid = users[user] if user == SALES_USERNAME else None
        first_page = client.get("/m/customers/").get_data(as_text=True)
        customer = shown_ids(first_page)[0]
        # The floor: a page of the same frame with no query of its own (login, session, template).
        cases = [("离线页(基线)", "", "/m/offline", [])]
        cases += [("客户列表", "", "/m/customers/", bare.search(uid, None))]
        cases += [(label, term, f"/m/customers/?q={term}", bare.search(uid, term)) for label, term in terms.items()]
        cases.append(("360", str(customer), f"/m/customers/{customer}/", bare.page_360(uid, customer)))
        for label, term, url, stmts in cases:
            result = Result(user, label, term)
            for i in range(warmup + repeat):
                counter["n"] = 0
                t0 = time.perf_counter()
                response = client.get(url)
                html = response.get_data(as_text=True)
                elapsed = time.perf_counter() - t0
                if response.status_code != 200:
                    raise SystemExit(f"{url} as {user}: HTTP {response.status_code}")
                if i >= warmup:
                    result.page_ms.append(elapsed * 1000)
                    result.statements = max(result.statements, counter["n"])
            for i in range(warmup + repeat):
                t0 = time.perf_counter()
                ids = bare.run_all(stmts)
                if i >= warmup:
                    result.bare_ms.append((time.perf_counter() - t0) * 1000)
            if not stmts:
                pass
            elif label != "360":
                shown = shown_ids(html)
                if shown != ids[:MOBILE_PAGE]:
                    raise SystemExit(f"{url} as {user}: the page lists {shown[:5]}… the bare SQL {ids[:5]}…")
                if term and not ids:
                    raise SystemExit(f"search term {term!r} matches nothing; pick another")
                result.rows = len(shown)
            elif ids != [customer]:
                raise SystemExit(f"{url} as {user}: the bare SQL does not find customer {customer}")
            results.append(result)
            print(f"  {user:<8} {label:<6} {term:<8} page {statistics.median(result.page_ms):6.1f}/"
                  f"{p95(result.page_ms):6.1f} ms  bare {statistics.median(result.bare_ms):6.1f}/"
                  f"{p95(result.bare_ms):6.1f} ms  {result.statements} statements", flush=True)
    return results


# --- transfer, measured at the server while Chromium loads the pages ------------------------------
class Meter:
    """WSGI middleware: requests and bytes (status line, headers, body) the server sent."""

    def __init__(self, wsgi) -> None:
        self.wsgi, self.lock = wsgi, threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests, self.bytes, self.paths = 0, 0, []

    def __call__(self, environ, start_response):
        sizes = {"head": 0}

        def counting_start(status, headers, exc_info=None):
            sizes["head"] = len(status) + 11 + sum(len(k) + len(v) + 4 for k, v in headers) + 2
            return start_response(status, headers, exc_info)

        body = self.wsgi(environ, counting_start)
        try:
            size = 0
            for chunk in body:
                size += len(chunk)
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()
            with self.lock:
                self.requests += 1
                self.bytes += sizes["head"] + size
                self.paths.append(environ.get("PATH_INFO", ""))


def serve(app):
    from waitress import create_server

    meter = Meter(app.wsgi_app)
    app.wsgi_app = meter
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, meter, f"http://127.0.0.1:{server.effective_port}"


def measure_transfer(app, terms: dict[str, str], customer: int) -> list[tuple[str, str, object, object]]:
    from flask import url_for
    from playwright.sync_api import sync_playwright

    server, meter, base = serve(app)
    addresses: dict[str, str | None] = {}
    with app.test_request_context():
        for label, endpoint, args in MAIN_PAGES:
            if endpoint not in app.view_functions:
                addresses[label] = None
                continue
            values = {k: v.format(customer=customer, term=terms["拼音首字母"]) for k, v in args.items()}
            addresses[label] = url_for(endpoint, **values)
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for label, address in addresses.items():
            if address is None:
                rows.append((label, "—", None, None))
                continue
            context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                          is_mobile=True, has_touch=True, locale="zh-CN")
            page = context.new_page()
            page.goto(base + "/login?next=/m/offline")
            page.fill("#username", SALES_USERNAME)
            page.fill("#password", BENCH_PASSWORD)
            with page.expect_navigation():
                page.click("button[type=submit]")
            figures = []
            for visit in ("first", "repeat"):
                if visit == "repeat":  # the worker installed by the first visit now serves the static files
                    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
                    page.goto("about:blank")
                meter.reset()
                page.goto(base + address, wait_until="networkidle")
                time.sleep(0.3)  # the worker's own fetches (install) end after networkidle
                figures.append((meter.requests, meter.bytes, list(meter.paths)))
            rows.append((label, address, figures[0], figures[1]))
            context.close()
        browser.close()
    server.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--no-browser", action="store_true", help="server time only")
    args = parser.parse_args()

    from sqlalchemy import func, select, text

    from models import Customer, User, db

    app = make_app(normalise_url(args.url))
    with app.app_context():
        engine = db.engine
        users = {u.username: u.id for u in db.session.scalars(
            select(User).where(User.username.in_([SALES_USERNAME, GM_USERNAME])))}
        total = db.session.scalar(select(func.count(Customer.id)))
        version = db.session.scalar(text("SELECT sqlite_version()" if engine.dialect.name == "sqlite"
                                         else "SHOW server_version"))
        db.session.remove()
    if set(users) != {SALES_USERNAME, GM_USERNAME}:
        raise SystemExit("the bench users are missing: make the database with bench/generate.py")
    terms = pick_terms(engine, users[SALES_USERNAME])
    print(f"# {engine.dialect.name} {version}: {total:,} customers; {args.repeat} runs after {args.warmup} "
          f"warm-ups; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    results = time_server(app, engine, users, terms, args.repeat, args.warmup)
    print(f"# load average at the end: {os.getloadavg()[0]:.2f}")
    print()
    print("| 用户 | 页面 | 搜索词 | 行数 | 页面 中位数 ms | 页面 p95 ms | 裸SQL 中位数 ms | 裸SQL p95 ms | 比值 中位数 "
          "| 比值 p95 | 语句数 |")
    print("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    who = {SALES_USERNAME: "业务员", GM_USERNAME: "总经理"}
    for r in results:
        pm, pp, bm, bp = (statistics.median(r.page_ms), p95(r.page_ms), statistics.median(r.bare_ms), p95(r.bare_ms))
        flag = "**" if pp > 200 else ""
        ratios = f"{pm / bm:.1f}× | {pp / bp:.1f}×" if bm > 0.001 else "— | —"
        print(f"| {who[r.user]} | {r.label} | {r.term or '—'} | {r.rows or '—'} | {pm:.1f} | {flag}{pp:.1f}{flag} | "
              f"{bm:.1f} | {bp:.1f} | {ratios} | {r.statements} |")
    if args.no_browser:
        return
    with app.app_context():
        client = login(app, SALES_USERNAME)
        customer = shown_ids(client.get("/m/customers/").get_data(as_text=True))[0]
    print()
    print("| 页面 | 地址 | 首次 请求数 | 首次 KB | 再次 请求数 | 再次 KB | 再次请求的地址 |")
    print("|---|---|--:|--:|--:|--:|---|")
    for label, address, first, repeat in measure_transfer(app, terms, customer):
        if first is None:
            print(f"| {label} | (本分支尚无此页) | — | — | — | — | — |")
            continue
        flag = "**" if repeat[1] > 150 * 1024 else ""
        print(f"| {label} | `{address}` | {first[0]} | {first[1] / 1024:.1f} | {repeat[0]} | "
              f"{flag}{repeat[1] / 1024:.1f}{flag} | {', '.join(sorted(set(repeat[2])))} |")


if __name__ == "__main__":
    main()
