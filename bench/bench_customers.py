"""Time the customer list page and quick search against the bare SQL doing the same work.

    .venv/bin/python bench/bench_customers.py --url sqlite:////tmp/bench/kechi-1m.db [--repeat 30]

Logs in through the real login form (CSRF token and all) as a 业务员 (sales01, scope 本人) and as
the 总经理 (gm, scope 全部) on a database made by bench/generate.py, then GETs the real pages with
Flask's test client:
  list          /admin/customer/                 page 1, default sort: last follow-up, newest first
  中文常见       /admin/customer/?search=科技      a common 2-character Chinese term
  中文长词       /admin/customer/?search=<4 chars> a rarer, longer Chinese term
  拼音首字母     /admin/customer/?search=<4 letters> pinyin initials
  电话片段       /admin/customer/?search=<4 digits>  the last digits of a mobile number
The bare SQL is the page's own work written by hand: its count query and its data query (same
scope filter, same search filter, same ORDER BY, LIMIT 20, the owner and dictionary names joined),
run on a raw DB-API connection. Each figure is the median and p95 (nearest rank) over --repeat
runs after 2 warm-ups; "ratio" is page ÷ bare. The page must show the same rows in the same order
as the bare SQL, or the script stops.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_PASSWORD, GM_USERNAME, SALES_USERNAME, make_app, normalise_url  # noqa: E402

PAGE_SIZE = 20
LIST_URL = "/admin/customer/"


@dataclass
class Case:
    user: str
    label: str
    term: str | None


@dataclass
class Result:
    case: Case
    page_ms: list[float] = field(default_factory=list)
    page_sql_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    statements: int = 0
    matches: int = 0


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    if not match:
        raise SystemExit("login page has no CSRF token")
    return match.group(1)


def login(app, username: str):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": BENCH_PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"login as {username} failed ({response.status_code}); was the database made by "
                         "bench/generate.py?")
    return client


def page_ids(html: str) -> list[int]:
    ids = re.findall(r'name="rowid"[^>]*value="(\d+)"', html)
    if not ids:
        ids = re.findall(r"/admin/customer/details/\?id=(\d+)", html)
    seen: dict[int, None] = {}
    for i in ids:
        seen.setdefault(int(i), None)
    return list(seen)


# --- the bare SQL --------------------------------------------------------------------------------
class Bare:
    """The list page's count and data queries, by hand, on a raw DB-API connection."""

    def __init__(self, engine, today: str, count_cap: int | None) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.today = today
        self.count_cap = count_cap
        self.search_cap = search_count_cap()
        self.raw = engine.raw_connection()

    def has_shares(self, user_id: int) -> bool:
        cursor = self.raw.cursor()
        cursor.execute(self._paramstyle("SELECT 1 FROM customer_shares WHERE user_id = :uid AND revoked_at IS NULL "
                                        "AND (until IS NULL OR until >= :today) LIMIT 1"),
                       {"uid": user_id, "today": self.today})
        found = cursor.fetchone() is not None
        cursor.close()
        self.raw.rollback()
        return found

    def _branches(self, user_id: int | None, term: str | None, counting: bool = False) -> tuple[list[str], dict]:
        """The WHERE clause of each disjoint part of what the user sees: one part, or for a
        salesperson with shares the owned part and the shared-but-not-owned part (a UNION ALL
        keeps each part on its own index; an OR would sort every owned row)."""
        from rules import search

        live = "c.deleted_at IS NULL"
        params: dict = {}
        if user_id is not None and self.has_shares(user_id):  # 本人: own, or shared with me by a running share
            branches = [f"{live} AND c.owner_id = :uid",
                        f"{live} AND (c.owner_id IS NULL OR c.owner_id != :uid) AND c.id IN (SELECT s.customer_id "
                        "FROM customer_shares s WHERE s.user_id = :uid AND s.revoked_at IS NULL "
                        "AND (s.until IS NULL OR s.until >= :today))"]
            params.update(uid=user_id, today=self.today)
        elif user_id is not None:  # 本人, nothing shared with me
            branches = [f"{live} AND c.owner_id = :uid"]
            params.update(uid=user_id)
        else:
            branches = [live]
        if term:
            needle = search.normalised(term)
            params["like"] = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            tokens = sorted(search.query_tokens(needle))
            # One token that is the whole term: the index is exact, no substring re-check.
            like = "" if tokens and search.index_is_exact(needle) else "q.body LIKE :like ESCAPE '\\'"
            if not tokens:
                cond = f"c.id IN (SELECT q.customer_id FROM customer_search q WHERE {like})"
            elif self.dialect == "postgresql":
                cond = ("c.id IN (SELECT q.customer_id FROM customer_search q WHERE "
                        + (like + " AND " if like else "") + "q.token_array @> CAST(:tokens AS text[]))")
                params["tokens"] = tokens
            else:
                params["fts"] = " ".join('"' + t.replace('"', '""') + '"' for t in tokens)
                hits = "SELECT rowid FROM customer_fts WHERE customer_fts MATCH :fts"
                if like:
                    hits = f"SELECT q.customer_id FROM customer_search q WHERE {like} AND q.customer_id IN ({hits})"
                cond = f"c.id IN ({hits})"
                if not counting and self._fts_hits(params["fts"]) >= search.COMMON_HITS:
                    cond = f"+{cond}"  # a common term: hide the key so the sort index drives
            branches = [f"{b} AND {cond}" for b in branches]
        return branches, params

    def _fts_hits(self, fts: str) -> int:
        from rules import search

        cursor = self.raw.cursor()
        cursor.execute("SELECT count(*) FROM (SELECT rowid FROM customer_fts WHERE customer_fts MATCH ? LIMIT ?)",
                       (fts, search.COMMON_HITS))
        found = cursor.fetchone()[0]
        cursor.close()
        self.raw.rollback()
        return found

    def statements(self, user_id: int | None, term: str | None) -> list[tuple[str, dict]]:
        branches, params = self._branches(user_id, term)
        counted, _ = self._branches(user_id, term, counting=True)
        if self.count_cap:  # the page stops counting at the cap and shows "10000+" (searches "1000+")
            cap = min(self.count_cap, self.search_cap or self.count_cap) if term else self.count_cap
            count = "SELECT " + " + ".join(
                f"(SELECT count(*) FROM (SELECT 1 FROM customers c WHERE {w} LIMIT {cap + 1}) AS t{i})"
                for i, w in enumerate(counted))
        else:
            count = "SELECT " + " + ".join(f"(SELECT count(*) FROM customers c WHERE {w})" for w in counted)
        # Newest follow-up first, never-followed-up last (SQLite puts NULLs last in DESC by itself).
        nulls = " NULLS LAST" if self.dialect == "postgresql" else ""
        order = f"ORDER BY last_follow_up_at DESC{nulls}, id DESC LIMIT {PAGE_SIZE}"
        parts = [f"SELECT * FROM (SELECT c.* FROM customers c WHERE {w} {order}) AS b{i}"
                 for i, w in enumerate(branches)]
        page = parts[0] if len(parts) == 1 else f"SELECT * FROM ({' UNION ALL '.join(parts)}) AS u {order}"
        data = (f"SELECT p.*, u.display_name, cat.name, val.name, stg.name FROM ({page}) AS p "
                f"LEFT JOIN users u ON u.id = p.owner_id "
                f"LEFT JOIN dict_items cat ON cat.id = p.category_id "
                f"LEFT JOIN dict_items val ON val.id = p.value_level_id "
                f"LEFT JOIN dict_items stg ON stg.id = p.stage_id "
                f"ORDER BY p.last_follow_up_at DESC{nulls}, p.id DESC")
        return [(self._paramstyle(count), params), (self._paramstyle(data), params)]

    def _paramstyle(self, sql: str) -> str:
        if self.dialect == "postgresql":
            return re.sub(r":(\w+)", r"%(\1)s", sql)
        return sql

    def run(self, stmts) -> tuple[int, list[int]]:
        cursor = self.raw.cursor()
        cursor.execute(*stmts[0])
        count = cursor.fetchone()[0]
        cursor.execute(*stmts[1])
        ids = [row[0] for row in cursor.fetchall()]
        cursor.close()
        self.raw.rollback()  # end the read transaction, as a request does
        return count, ids

    def explain(self, stmts) -> str:
        out = []
        cursor = self.raw.cursor()
        for name, (sql, params) in zip(("count", "data"), stmts):
            if self.dialect == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                lines = [r[0] for r in cursor.fetchall()]
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
                lines = [f"{'  ' * 0}{r[3]}" for r in cursor.fetchall()]
            out.append(f"-- {name}\n" + "\n".join(lines))
        cursor.close()
        self.raw.rollback()
        return "\n".join(out)


# --- picking terms that exist in the data --------------------------------------------------------
def pick_terms(engine, sales_id: int) -> dict[str, str]:
    """From the salesperson's oldest company named "<2-character city><brand><industry>...":
    the brand and the start of the industry (4 characters, a rarer term), the same 4 pinyin
    initials, and the last 4 digits of its mobile number. Deterministic for a given database."""
    from sqlalchemy import text

    from rules import regions

    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.name, c.mnemonic, c.city, c.mobile FROM customers c WHERE c.owner_id = :uid "
            "AND c.kind = 'company' AND c.deleted_at IS NULL AND c.mobile IS NOT NULL ORDER BY c.id LIMIT 500"),
            {"uid": sales_id}).all()
    for name, mnemonic, city, mobile in rows:
        short = regions.short(city or "")
        if len(short) == 2 and name.startswith(short) and name[2] != "市" and len(mnemonic) >= 6:
            return {"中文常见": "科技", "中文长词": name[2:6], "拼音首字母": mnemonic[2:6], "电话片段": mobile[-4:]}
    raise SystemExit("no suitable customer to take search terms from; pass them with --rare/--initials/--phone")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--explain", action="store_true", help="print the bare queries' plans at the end")
    parser.add_argument("--only", default=None, help="run only cases whose label contains this text")
    for label, flag in (("中文常见", "common"), ("中文长词", "rare"), ("拼音首字母", "initials"), ("电话片段", "phone")):
        parser.add_argument(f"--{flag}", default=None, help=f"override the {label} term")
    args = parser.parse_args()

    from sqlalchemy import event, func, select, text

    from models import Customer, User, db
    from rules.clock import local_date
    from rules.search import normalised

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
    for label, flag in (("中文常见", "common"), ("中文长词", "rare"), ("拼音首字母", "initials"), ("电话片段", "phone")):
        if getattr(args, flag):
            terms[label] = getattr(args, flag)

    # Count every statement the app sends, and the time spent in them, per request.
    counter = {"n": 0, "sql": 0.0}

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["kechi_t0"] = time.perf_counter()
        counter["n"] += 1

    def after(conn, cursor, statement, parameters, context, executemany):
        counter["sql"] += time.perf_counter() - conn.info.pop("kechi_t0", time.perf_counter())

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)

    with app.app_context():
        today = local_date(time_now(), app.config["TIMEZONE"]).isoformat()
    count_cap = detect_count_cap()
    bare = Bare(engine, today, count_cap)
    clients = {u: login(app, u) for u in (SALES_USERNAME, GM_USERNAME)}
    cases = []
    for user in (SALES_USERNAME, GM_USERNAME):
        cases.append(Case(user, "列表", None))
        cases += [Case(user, label, term) for label, term in terms.items()]
    if args.only:
        cases = [c for c in cases if args.only in c.label or args.only in c.user]

    print(f"# {engine.dialect.name} {version}: {total:,} customers; {args.repeat} runs after {args.warmup} warm-ups; "
          f"count {'capped at ' + format(count_cap, ',') if count_cap else 'exact'}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    results, plans = [], []
    for case in cases:
        user_id = users[case.user] if case.user == SALES_USERNAME else None
        url = LIST_URL + (f"?search={case.term}" if case.term else "")
        client = clients[case.user]
        stmts = bare.statements(user_id, case.term)
        result = Result(case)
        for i in range(args.warmup + args.repeat):
            counter["n"], counter["sql"] = 0, 0.0
            t0 = time.perf_counter()
            response = client.get(url)
            html = response.get_data(as_text=True)
            elapsed = time.perf_counter() - t0
            if response.status_code != 200:
                raise SystemExit(f"{url} as {case.user}: HTTP {response.status_code}")
            if i >= args.warmup:
                result.page_ms.append(elapsed * 1000)
                result.page_sql_ms.append(counter["sql"] * 1000)
                result.statements = max(result.statements, counter["n"])
        for i in range(args.warmup + args.repeat):
            t0 = time.perf_counter()
            count, ids = bare.run(stmts)
            elapsed = time.perf_counter() - t0
            if i >= args.warmup:
                result.bare_ms.append(elapsed * 1000)
        result.matches = count
        shown = page_ids(html)
        if shown != ids:
            raise SystemExit(f"{url} as {case.user}: the page shows {shown[:5]}... but the bare SQL gives {ids[:5]}...")
        if case.term and count == 0:
            raise SystemExit(f"search term {case.term!r} matches nothing; pick another")
        results.append(result)
        print(f"  {case.user:<8} {case.label:<6} {normalised(case.term or ''):<8} matches {count:>9,}  page "
              f"{statistics.median(result.page_ms):7.1f}/{p95(result.page_ms):7.1f} ms  bare "
              f"{statistics.median(result.bare_ms):7.1f}/{p95(result.bare_ms):7.1f} ms  "
              f"{result.statements} statements", flush=True)
        if args.explain:
            plans.append(f"## {case.user} {case.label} {case.term or ''}\n{bare.explain(stmts)}")

    print(f"# load average at the end: {os.getloadavg()[0]:.2f} (other work on the machine skews the figures)")
    print()
    print(table(results, engine.dialect.name))
    if plans:
        print()
        print("\n\n".join(plans))


def detect_count_cap() -> int | None:
    """The list page may stop counting at a cap (admin_views.base.COUNT_CAP); the bare SQL
    must then do the same, smaller, work."""
    try:
        from admin_views import base
        from admin_views.customers import CustomerView
    except ImportError:
        return None
    return getattr(base, "COUNT_CAP", None) if getattr(CustomerView, "capped_count", False) else None


def search_count_cap() -> int | None:
    try:
        from admin_views import base
    except ImportError:
        return None
    return getattr(base, "SEARCH_COUNT_CAP", None)


def time_now():
    from models.base import utcnow

    return utcnow()


def table(results: list[Result], dialect: str) -> str:
    who = {SALES_USERNAME: "业务员", GM_USERNAME: "总经理"}
    lines = [
        "| 用户 | 场景 | 搜索词 | 命中 | 页面 中位数 ms | 页面 p95 ms | 页面内SQL 中位数 ms | 裸SQL 中位数 ms | 裸SQL p95 ms "
        "| 比值 中位数 | 比值 p95 | 语句数 |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        pm, pp = statistics.median(r.page_ms), p95(r.page_ms)
        bm, bp = statistics.median(r.bare_ms), p95(r.bare_ms)
        lines.append(
            f"| {who[r.case.user]} | {r.case.label} | {r.case.term or '—'} | {r.matches:,} | {pm:.1f} | "
            f"{_mark(pp, 200)} | {statistics.median(r.page_sql_ms):.1f} | {bm:.1f} | {bp:.1f} | {pm / bm:.1f}× | "
            f"{_mark(pp / bp, 3, '×')} | {r.statements} |")
    return "\n".join(lines)


def _mark(value: float, limit: float, unit: str = "") -> str:
    text = f"{value:.1f}{unit}"
    return f"**{text}**" if value > limit else text


if __name__ == "__main__":
    main()
