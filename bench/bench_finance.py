"""Contracts and receivables at scale: the contract list and its quick search, 应收账龄 and 回款统计,
each page timed against the bare SQL doing the same work.

    .venv/bin/python bench/generate.py --url sqlite:////tmp/bench/kechi-1m.db --customers 1000000
    .venv/bin/python bench/generate_finance.py --url sqlite:////tmp/bench/kechi-1m.db
    .venv/bin/python bench/bench_finance.py --url sqlite:////tmp/bench/kechi-1m.db --repeat 20 [--explain]

Logs in through the real login form as a 业务员 (sales01, scope 本人), a 主管 (lead1, 本部门) and the
总经理 (gm, 全部) and GETs, with Flask's test client:
  合同列表   the contract list (endpoint "contract"), first page, newest signed first
  合同搜索   the same with ?search= a 2-character brand from the customer of the 业务员's newest contract
  合同编号   the same with ?search= the full number of the 业务员's newest contract
  账龄客户   应收账龄 (endpoint "report_ageing"), by customer (the page's default), as of today
  账龄负责人 the same ?by=owner
  回款统计   回款统计 (endpoint "report_receipts"), by month (the default), 1 January → today
The list and its searches are timed for the three (target p95 ≤ 200 ms), the reports for the 主管
and the 总经理 (target p95 ≤ 500 ms). A page the branch does not have yet is skipped with a note,
so the script runs on any merge; the report rules (rules.finance_reports.ageing / receipts) are
also timed on their own, without the page around them ("rule").

The bare SQL is each page's main work written by hand on a raw DB-API connection (the same
scope: the user's own rows, the department's staff written out, or everyone; the generated
contracts belong to their customer's owner, so "owner in scope" is the whole of the scope):
  contract list    count (capped as the page caps it) + first 20 live contracts in scope, newest
                   signed first, with customer and owner names
  contract search  the same with the term anywhere in number, title or customer name
  ageing           what is still owed, per key (customer with its name, or owner) and age bucket:
                   open instalments by due date, executed contracts without a live instalment by
                   signing date, orders without a contract (none in the generated data)
  receipts         approved receipts and refunds paid this year by month and kind: count, Σ amount,
                   Σ 抹零
  公司销售          公司销售报表 (rules/reports.company_sales, this year): orders without a contract by
                   month of their date, executed (or voided, holding money) contracts by month of
                   signing, with 应收/实收/欠款/应退 sums
  业绩              业务员业绩 (rules/reports.salesperson_performance, this year): per person the
                   orders without a contract, the executed contracts signed, the approved receipts on
                   executed contracts paid this year, new customers and follow-ups
The clock is pinned at the generators' 2026-11-23. Figures: median and p95 (nearest rank) over
--repeat runs after one warm-up; ratio = page ÷ bare; "CPU" is this process's CPU time (SQLite and
the test client run in it). --explain prints the bare statements' plans; --bare-only skips the pages.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import Bare as PipelineBare  # noqa: E402
from bench_pipeline import Case, page_url  # noqa: E402
from bench_reports import login, p95  # noqa: E402
from common import GM_USERNAME, SALES_USERNAME, make_app, normalise_url  # noqa: E402

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 23)
LEAD_USERNAME = "lead1"
USERS = (("业务员", SALES_USERNAME), ("主管", LEAD_USERNAME), ("总经理", GM_USERNAME))
PAGE_SIZE = 20
LIST_LIMIT, REPORT_LIMIT = 200, 500
OPEN_PLAN_STATES = ("pending", "partial", "overdue")
EXECUTED = ("active", "completed")


@dataclass
class FinCase(Case):
    query: str = ""
    rule: str | None = None   # rules.finance_reports function timed on its own
    by: str | None = None
    who: tuple[str, ...] = ("业务员", "主管", "总经理")
    limit: int = LIST_LIMIT


CASES = [
    FinCase("合同列表", ("contract", ""), "contracts"),
    FinCase("合同搜索", ("contract", ""), "contracts", "brand"),
    FinCase("合同编号", ("contract", ""), "contracts", "number"),
    FinCase("账龄客户", ("report_ageing", ""), "ageing", rule="ageing", by="customer", who=("主管", "总经理"),
            limit=REPORT_LIMIT),
    FinCase("账龄负责人", ("report_ageing", ""), "ageing", query="by=owner", rule="ageing", by="owner",
            who=("主管", "总经理"), limit=REPORT_LIMIT),
    FinCase("回款统计", ("report_receipts", ""), "receipts", rule="receipts", by="month", who=("主管", "总经理"),
            limit=REPORT_LIMIT),
    FinCase("公司销售", ("report_sales", ""), "company_sales", who=("主管", "总经理"), limit=REPORT_LIMIT),
    FinCase("业绩", ("report_salespeople", ""), "performance", who=("主管", "总经理"), limit=REPORT_LIMIT),
]


@dataclass
class Result:
    who: str
    case: FinCase
    page_ms: list[float] = field(default_factory=list)
    rule_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    page_cpu: list[float] = field(default_factory=list)
    bare_cpu: list[float] = field(default_factory=list)
    note: str = ""
    rows: int = 0


class Bare(PipelineBare):
    """bench_pipeline's raw connection, statements of the finance pages."""

    def __init__(self, engine, scopes: dict[str, list[int] | None], cap: tuple[int | None, int | None]):
        super().__init__(engine, scopes, 0, [])
        self.caps = cap

    def _age(self, column: str) -> str:
        edge = {n: (TODAY - timedelta(days=n)).isoformat() for n in (-1, 30, 60, 90)}
        return (f"CASE WHEN {column} >= '{edge[-1]}' THEN 'not_due' WHEN {column} >= '{edge[30]}' THEN 'd0_30' "
                f"WHEN {column} >= '{edge[60]}' THEN 'd31_60' WHEN {column} >= '{edge[90]}' THEN 'd61_90' "
                "ELSE 'd90' END")

    def statements(self, kind: str, who: str, term: str | None, by: str | None = None) -> list[tuple[str, dict]]:
        if kind == "contracts":
            where = f"k.deleted_at IS NULL AND {self._owner('k.owner_id', who)}"
            params: dict = {}
            joins = ""
            if term:
                params["like"] = f"%{term}%"
                joins = " JOIN customers cu ON cu.id = k.customer_id"
                where += " AND (k.number LIKE :like OR k.title LIKE :like OR cu.name LIKE :like)"
            cap = self.caps[1] if term else self.caps[0]
            inner = f"SELECT k.* FROM contracts k{joins} WHERE {where}"
            count = (f"SELECT count(*) FROM (SELECT 1 FROM contracts k{joins} WHERE {where} LIMIT {cap + 1}) AS capped"
                     if cap else f"SELECT count(*) FROM contracts k{joins} WHERE {where}")
            return [(count, params),
                    (f"SELECT k.*, c.name, u.display_name FROM ({inner} ORDER BY k.signed_on DESC, k.id DESC "
                     f"LIMIT {PAGE_SIZE}) AS k JOIN customers c ON c.id = k.customer_id "
                     "JOIN users u ON u.id = k.owner_id ORDER BY k.signed_on DESC, k.id DESC", params)]
        if kind == "ageing":
            key = "customer_id" if by == "customer" else "owner_id"
            plans = (f"SELECT p.customer_id, p.owner_id, {self._age('p.due_on')} AS bucket, "
                     "p.amount - p.received AS due FROM payment_plans p "
                     f"WHERE p.status IN {OPEN_PLAN_STATES} AND {self._owner('p.owner_id', who)}")
            contracts = (f"SELECT k.customer_id, k.owner_id, {self._age('k.signed_on')}, "
                         "k.total - k.received - k.written_off FROM contracts k "
                         f"WHERE k.deleted_at IS NULL AND k.status IN {EXECUTED} AND {self._owner('k.owner_id', who)} "
                         "AND k.total - k.received - k.written_off > 0 AND NOT EXISTS (SELECT 1 FROM payment_plans p "
                         "WHERE p.contract_id = k.id AND p.status <> 'void')")
            orders = (f"SELECT o.customer_id, o.salesperson_id, {self._age('o.order_date')}, "
                      "o.total - o.returned_amount - o.received + o.refunded FROM orders o "
                      "WHERE o.contract_id IS NULL AND o.state IN ('picking', 'shipped', 'completed', 'returned') "
                      f"AND {self._owner('o.salesperson_id', who)} "
                      "AND o.total - o.returned_amount - o.received + o.refunded > 0")
            grouped = (f"SELECT t.{key} AS key, t.bucket, count(*) AS n, sum(t.due) AS due "
                       f"FROM ({plans} UNION ALL {contracts} UNION ALL {orders}) AS t GROUP BY t.{key}, t.bucket")
            if by == "customer":
                return [(f"SELECT g.key, c.name, g.bucket, g.n, g.due FROM ({grouped}) AS g "
                         "LEFT JOIN customers c ON c.id = g.key", {})]
            return [(f"SELECT g.key, u.display_name, g.bucket, g.n, g.due FROM ({grouped}) AS g "
                     "LEFT JOIN users u ON u.id = g.key", {})]
        year = (f"'{TODAY.year}-01-01'", f"'{TODAY}'")
        if kind == "company_sales":
            month = "strftime('%Y-%m', {})" if self.dialect == "sqlite" else "to_char({}, 'YYYY-MM')"
            due = "CASE WHEN k.status IN ('active', 'completed') THEN k.total ELSE 0 END"
            return [(f"SELECT {month.format('o.order_date')}, count(*), sum(o.total - o.returned_amount), "
                     "sum(o.received), sum(o.refunded) FROM orders o WHERE o.contract_id IS NULL "
                     f"AND o.state <> 'pending_review' AND o.order_date BETWEEN {year[0]} AND {year[1]} "
                     f"AND {self._owner('o.salesperson_id', who)} GROUP BY 1", {}),
                    (f"SELECT {month.format('k.signed_on')}, sum(CASE WHEN k.status IN ('active', 'completed') "
                     f"THEN 1 ELSE 0 END), sum({due}), sum(k.received), "
                     f"sum(CASE WHEN {due} - k.received - k.written_off > 0 THEN {due} - k.received - k.written_off "
                     "ELSE 0 END), sum(CASE WHEN k.status = 'void' THEN k.received ELSE 0 END) FROM contracts k "
                     f"WHERE k.deleted_at IS NULL AND k.signed_on BETWEEN {year[0]} AND {year[1]} "
                     "AND (k.status IN ('active', 'completed') OR (k.status = 'void' AND k.received <> 0)) "
                     f"AND {self._owner('k.owner_id', who)} GROUP BY 1", {})]
        if kind == "performance":
            since = {"start": "2025-12-31 16:00:00"}  # 1 January, Asia/Shanghai
            return [(f"SELECT o.salesperson_id, count(*), sum(o.total - o.returned_amount), sum(o.received - o.refunded) "
                     "FROM orders o WHERE o.contract_id IS NULL AND o.state NOT IN ('pending_review', 'cancelled') "
                     f"AND o.order_date BETWEEN {year[0]} AND {year[1]} AND {self._owner('o.salesperson_id', who)} "
                     "GROUP BY 1", {}),
                    ("SELECT k.owner_id, count(*), sum(k.total) FROM contracts k WHERE k.deleted_at IS NULL "
                     f"AND k.status IN ('active', 'completed') AND k.signed_on BETWEEN {year[0]} AND {year[1]} "
                     f"AND {self._owner('k.owner_id', who)} GROUP BY 1", {}),
                    ("SELECT p.owner_id, sum(CASE WHEN p.kind = 'refund' THEN -p.amount ELSE p.amount END) FROM payments p "
                     "WHERE p.contract_id IS NOT NULL AND p.status = 'approved' "
                     f"AND p.paid_on BETWEEN {year[0]} AND {year[1]} AND {self._owner('p.owner_id', who)} "
                     "AND EXISTS (SELECT 1 FROM contracts k WHERE k.id = p.contract_id AND k.deleted_at IS NULL "
                     "AND k.status IN ('active', 'completed')) GROUP BY 1", {}),
                    ("SELECT c.created_by_id, count(*) FROM customers c WHERE c.deleted_at IS NULL "
                     f"AND c.created_at >= :start AND {self._owner('c.created_by_id', who)} GROUP BY 1", since),
                    ("SELECT f.user_id, count(*) FROM follow_ups f WHERE f.happened_at >= :start "
                     f"AND f.kind <> 'message' AND {self._owner('f.user_id', who)} GROUP BY 1", since)]
        if kind == "receipts":
            month = "strftime('%Y-%m', p.paid_on)" if self.dialect == "sqlite" else "to_char(p.paid_on, 'YYYY-MM')"
            return [(f"SELECT {month}, p.kind, count(*), sum(p.amount), sum(p.write_off) FROM payments p "
                     f"WHERE p.status = 'approved' AND p.paid_on >= '{TODAY.year}-01-01' AND p.paid_on <= '{TODAY}' "
                     f"AND {self._owner('p.owner_id', who)} GROUP BY 1, 2", {})]
        raise ValueError(kind)


def list_caps(app) -> tuple[int | None, int | None]:
    """The contract list may stop counting at a cap ("10000+", searches "1000+"): the bare SQL
    then does the same, smaller, work."""
    try:
        from admin_views import base
    except ImportError:
        return None, None
    for admin in app.extensions.get("admin", []):
        for view in admin._views:
            if getattr(view, "endpoint", None) == "contract" and getattr(view, "capped_count", False):
                return getattr(base, "COUNT_CAP", None), getattr(base, "SEARCH_COUNT_CAP", None)
    return None, None


def pick_terms(engine, sales_id: int) -> dict[str, str]:
    """From the 业务员's newest contract: its customer's brand (2 characters after the city) and
    its number."""
    from sqlalchemy import text

    from rules import regions

    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT k.number, c.name, c.city FROM contracts k JOIN customers c ON c.id = k.customer_id "
            "WHERE k.owner_id = :uid AND k.deleted_at IS NULL ORDER BY k.signed_on DESC, k.id DESC LIMIT 200"),
            {"uid": sales_id}).all()
    for number, name, city in rows:
        short = regions.short(city or "")
        if short and name.startswith(short) and len(name) > len(short) + 2:
            return {"brand": name[len(short):len(short) + 2], "number": number}
    raise SystemExit("no contract to take search terms from: run bench/generate_finance.py")


def rule_call(case: FinCase, actor):
    """The report rule on its own, or None when the branch does not have it."""
    try:
        from rules import finance_reports
        from rules.reports import default_filters
    except ImportError:
        return None
    function = getattr(finance_reports, case.rule or "", None)
    if function is None:
        return None
    filters = default_filters(TODAY, "Asia/Shanghai")
    if case.rule == "ageing":
        return lambda session: function(session, actor, filters, today=TODAY, by=case.by)
    return lambda session: function(session, actor, filters, by=case.by)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", help="run only cases whose label contains one of these (comma-separated)")
    parser.add_argument("--who", help="run only for 业务员, 主管 or 总经理")
    parser.add_argument("--explain", action="store_true", help="print the bare statements' plans")
    parser.add_argument("--bare-only", action="store_true", help="time only the bare SQL")
    args = parser.parse_args()

    from sqlalchemy import func, select, text

    from models import User, db
    from models.contract import Contract
    from models.payment_plan import PaymentPlan
    from models.sales import Payment
    from rules import scope as scope_rules
    from rules.actor import Actor

    app = make_app(normalise_url(args.url), CLOCK=NOW.isoformat())
    with app.app_context():
        engine = db.engine
        counts = {"contracts": db.session.scalar(select(func.count(Contract.id))),
                  "instalments": db.session.scalar(select(func.count(PaymentPlan.id))),
                  "receipts": db.session.scalar(select(func.count(Payment.id)))}
        if not counts["contracts"]:
            raise SystemExit("no contracts: run bench/generate_finance.py first")
        scopes: dict[str, list[int] | None] = {}
        actors: dict[str, Actor] = {}
        ids: dict[str, int] = {}
        for who, username in USERS:
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                raise SystemExit(f"no user {username}: make the database with bench/generate.py")
            ids[who] = user.id
            actors[who] = Actor.from_user(user, today=TODAY, has_shares=False)
            everyone = actors[who].data_scope.value == "all"
            scopes[who] = None if everyone else sorted(db.session.scalars(
                select(User.id).where(scope_rules.owner_clause(User.id, actors[who]))))
            scopes[who + ":self"] = [user.id]
        version = db.session.scalar(text("SELECT sqlite_version()" if engine.dialect.name == "sqlite"
                                         else "SHOW server_version"))
        db.session.remove()
    terms = pick_terms(engine, ids["业务员"])
    bare = Bare(engine, scopes, list_caps(app))
    print(f"# {engine.dialect.name} {version}: {counts['contracts']:,} contracts, {counts['instalments']:,} "
          f"instalments, {counts['receipts']:,} receipts; {args.repeat} runs after 1 warm-up; search terms "
          f"{terms['brand']!r}, {terms['number']!r}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores",
          flush=True)

    results: list[Result] = []
    plans: list[str] = []
    for who, username in USERS:
        if args.who and args.who != who:
            continue
        client = None if args.bare_only else login(app, username)
        for case in CASES:
            if who not in case.who or (args.only and not any(w in case.label for w in args.only.split(","))):
                continue
            term = terms[case.term_kind] if case.term_kind else None
            result = Result(who, case)
            path = page_url(app, case)
            if client is not None and path is None:
                result.note = f"page not on this build (endpoint {case.endpoint[0]!r})"
            elif client is not None:
                query = "&".join(q for q in (f"search={term}" if term else "", case.query) if q)
                url = path + (f"?{query}" if query else "")
                for attempt in range(args.repeat + 1):
                    t0, c0 = time.perf_counter(), time.process_time()
                    response = client.get(url)
                    response.get_data()
                    elapsed, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
                    if response.status_code != 200:
                        result.note = f"{url}: HTTP {response.status_code}"
                        break
                    if attempt:
                        result.page_ms.append(elapsed)
                        result.page_cpu.append(cpu)
                call = None if args.bare_only else rule_call(case, actors[who])
                if call is not None:
                    with app.app_context():
                        for attempt in range(min(args.repeat, 2) + 1):  # beside the page: 2 runs will do
                            t0 = time.perf_counter()
                            try:
                                call(db.session)
                            except Exception as error:  # noqa: BLE001 — a failing report is a finding, not the end
                                result.note = (result.note + f"; rule failed: {error}")[:160]
                                db.session.rollback()
                                break
                            if attempt:
                                result.rule_ms.append((time.perf_counter() - t0) * 1000)
                            db.session.rollback()
                        db.session.remove()
            stmts = bare.statements(case.bare, who, term, case.by)
            for attempt in range(args.repeat + 1):
                t0, c0 = time.perf_counter(), time.process_time()
                result.rows = bare.run(stmts)
                elapsed, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
                if attempt:
                    result.bare_ms.append(elapsed)
                    result.bare_cpu.append(cpu)
            if args.explain:
                plans.append(f"## {who} {case.label} {term or ''}\n{bare.explain(stmts)}")
            results.append(result)
            print(line(result), flush=True)
    print(f"# load average at the end: {os.getloadavg()[0]:.2f} (other work on the machine skews the figures)")
    print()
    print(table(results))
    if plans:
        print()
        print("\n\n".join(plans))


def line(r: Result) -> str:
    bare = (f"bare {statistics.median(r.bare_ms):7.1f}/{p95(r.bare_ms):7.1f} ms (cpu {statistics.median(r.bare_cpu):6.1f}, "
            f"{r.rows} rows)")
    rule = f"rule {statistics.median(r.rule_ms):7.1f}/{p95(r.rule_ms):7.1f} ms  " if r.rule_ms else ""
    if not r.page_ms:
        return f"  {r.who:<4} {r.case.label:<6} page —  {rule}{bare}  {r.note}"
    return (f"  {r.who:<4} {r.case.label:<6} page {statistics.median(r.page_ms):7.1f}/{p95(r.page_ms):7.1f} ms "
            f"(cpu {statistics.median(r.page_cpu):6.1f})  {rule}{bare}  "
            f"ratio {statistics.median(r.page_ms) / statistics.median(r.bare_ms):5.1f}×")


def table(results: list[Result]) -> str:
    lines = ["| 用户 | 场景 | 页面 中位数 ms | 页面 p95 ms | 页面 CPU ms | 规则 中位数 ms | 裸SQL 中位数 ms | 裸SQL p95 ms "
             "| 比值 中位数 | 比值 p95 | 目标 p95 | 备注 |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
    for r in results:
        bm, bp = statistics.median(r.bare_ms), p95(r.bare_ms)
        rule = f"{statistics.median(r.rule_ms):.1f}" if r.rule_ms else "—"
        if r.page_ms:
            pm, pp, pc = statistics.median(r.page_ms), p95(r.page_ms), statistics.median(r.page_cpu)
            page = (f"{pm:.1f} | {_mark(pp, r.case.limit)} | {pc:.1f} | {rule} | {bm:.1f} | {bp:.1f} | "
                    f"{pm / bm:.1f}× | {pp / bp:.1f}×")
        else:
            page = f"— | — | — | {rule} | {bm:.1f} | {_mark(bp, r.case.limit)} | — | —"
        lines.append(f"| {r.who} | {r.case.label} | {page} | ≤ {r.case.limit} | {r.note} |")
    return "\n".join(lines)


def _mark(value: float, limit: float) -> str:
    return f"**{value:.1f}**" if value > limit else f"{value:.1f}"


if __name__ == "__main__":
    main()
