"""The sales pipeline at scale: lead list and quick search, the board (看板), the forecast and the
funnel, each page timed against the bare SQL doing the same work.

    .venv/bin/python bench/generate.py --url sqlite:////tmp/bench/kechi-1m.db --customers 1000000
    .venv/bin/python bench/generate_pipeline.py --url sqlite:////tmp/bench/kechi-1m.db
    .venv/bin/python bench/bench_pipeline.py --url sqlite:////tmp/bench/kechi-1m.db --repeat 20 [--explain]

Logs in through the real login form as a 业务员 (sales01, scope 本人), a 主管 (lead1, 本部门) and the
总经理 (gm, 全部) and GETs, with Flask's test client:
  线索列表   the lead list (endpoint "lead"), first page, newest first
  线索搜索   the same with ?search= a 2-character brand from the 业务员's newest company lead
  线索电话   the same with ?search= the first 7 digits of that lead's mobile (the lead search
             matches numbers from their start)
  看板       the board (endpoint "opportunity_board"), default filters
  预测       销售预测 (endpoint "report_forecast"), default filters: this month and the 5 after it
  漏斗       销售机会漏斗 (endpoint "report_pipeline_funnel"), default filters: this year, first stage group
A page the branch does not have yet is skipped with a note, so the script runs on any merge.

The bare SQL is each page's main work written by hand on a raw DB-API connection (the same scope:
the user's own rows, the department's staff written out, or everyone):
  lead list     count (capped as the page caps it) + first 20 owned live leads, newest first, with
                owner and source names
  lead search   the same with the term anywhere in name, company or contact (LIKE '%…%'), or the
                digits at the start of mobile or phone (LIKE '…%')
  board         count, Σ amount and Σ amount × probability per stage of the open opportunities of
                the default stage group, plus the first 50 cards of each column
  forecast      Σ amount × probability / 100 by month of expected close, open opportunities, from
                this month on for the page's default months (rules.pipeline_reports.FORECAST_MONTHS)
  funnel        opportunities created this year by stage and outcome, with their amounts
The clock is pinned at the generators' 2026-11-23. Figures: median and p95 (nearest rank) over
--repeat runs after one warm-up; ratio = page ÷ bare; "CPU" is this process's CPU time (SQLite and
the test client run in it; on PostgreSQL the server's share is not in it), the better figure on
a machine shared with other work. --explain prints the bare statements' plans
(EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL); --bare-only skips the
pages (e.g. on a branch without them).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_reports import login, p95  # noqa: E402
from common import GM_USERNAME, SALES_USERNAME, make_app, normalise_url  # noqa: E402

try:  # the forecast page's default range (this month and the 5 after it)
    from rules.pipeline_reports import FORECAST_MONTHS  # noqa: E402
except ImportError:  # a build without the page
    FORECAST_MONTHS = 6

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 23)
LEAD_USERNAME = "lead1"
USERS = (("业务员", SALES_USERNAME), ("主管", LEAD_USERNAME), ("总经理", GM_USERNAME))
PAGE_SIZE = 20
CARDS = 50
DEFAULT_GROUP = "标准销售流程"  # the stage group everyone's board shows (rules.opportunities seeds it)


@dataclass
class Case:
    label: str
    endpoint: tuple[str, ...]  # endpoint name first, then words one of its URL rules must contain
    bare: str                  # which bare SQL
    term_kind: str | None = None


CASES = [
    Case("线索列表", ("lead", ""), "leads"),
    Case("线索搜索", ("lead", ""), "leads", "brand"),
    Case("线索电话", ("lead", ""), "leads", "phone"),
    Case("看板", ("opportunity_board", ""), "board"),
    Case("预测", ("report_forecast", ""), "forecast"),
    Case("漏斗", ("report_pipeline_funnel", ""), "funnel"),
]


@dataclass
class Result:
    who: str
    case: Case
    page_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    # CPU time of this process (SQLite and the test client run in it): on a machine shared with
    # other work the wall time above mostly measures waiting for a core.
    page_cpu: list[float] = field(default_factory=list)
    bare_cpu: list[float] = field(default_factory=list)
    note: str = ""
    rows: int = 0


def page_url(app, case: Case) -> str | None:
    """The page's URL on this build of the app, or None when the branch does not have it: the
    shortest GET rule without arguments of the endpoint (or of an endpoint named after it, as
    "report_funnel" is for "report") whose path or endpoint contains the wanted word, leaving
    out exports and drill-downs."""
    name, word = case.endpoint
    found = []
    for rule in app.url_map.iter_rules():
        view, _dot, method = rule.endpoint.partition(".")
        if not view.startswith(name) or "GET" not in (rule.methods or ()) or rule.arguments:
            continue
        if any(part in rule.rule or part in method for part in ("export", "xlsx", "drill", "ajax")):
            continue
        if word and word not in rule.rule and word not in rule.endpoint:
            continue
        if not word and (view != name or method not in ("index", "index_view")):
            continue
        found.append(rule.rule)
    return min(found, key=lambda r: (len(r), r)) if found else None


# --- the bare SQL --------------------------------------------------------------------------------
class Bare:
    def __init__(self, engine, scopes: dict[str, list[int] | None], group_id: int, stages: list[tuple[int, int]]):
        self.dialect = engine.dialect.name
        self.raw = engine.raw_connection()
        self.scopes = scopes  # who → staff ids in scope (None = everyone)
        self.group_id = group_id
        self.stages = stages
        self.caps: tuple[int | None, int | None] = (None, None)  # the lead list's count caps (list, search)

    def _owner(self, column: str, who: str) -> str:
        staff = self.scopes[who]
        if staff is None:
            return "1 = 1"
        return f"{column} = {staff[0]}" if len(staff) == 1 else f"{column} IN ({', '.join(map(str, staff))})"

    def _opp_rows(self, who: str, where: str, columns: str, tail: str = "") -> str:
        """Rows of the opportunities the user sees (opportunity_clause: owner in scope, or a
        collaborator) matching `where`, as the disjoint parts a fast page reads: the owned part
        and the collaborating-but-not-owned part, each on its own index, joined by UNION ALL (an
        OR makes SQLite fetch every row of the scope through the table)."""
        live = f"o.deleted_at IS NULL AND {where}"
        if self.scopes[who] is None:
            return f"SELECT {columns} FROM opportunities o WHERE {live} {tail}"
        me = self.scopes[who + ":self"][0]
        owned = self._owner("o.owner_id", who)
        return (f"SELECT * FROM (SELECT {columns} FROM opportunities o WHERE {live} AND {owned} {tail}) AS owned "
                f"UNION ALL SELECT * FROM (SELECT {columns} FROM opportunities o JOIN opportunity_collaborators c "
                f"ON c.opportunity_id = o.id WHERE c.user_id = {me} AND NOT ({owned}) AND {live} {tail}) AS helped")

    def statements(self, kind: str, who: str, term: str | None) -> list[tuple[str, dict]]:
        if kind == "leads":
            where = f"l.deleted_at IS NULL AND l.owner_id IS NOT NULL AND {self._owner('l.owner_id', who)}"
            params: dict = {}
            if term and term.isdigit():  # the page matches numbers starting with the digits
                params["like"] = f"{term}%"
                where += " AND (l.mobile LIKE :like OR l.phone LIKE :like)"
            elif term:
                params["like"] = f"%{term}%"
                where += " AND (l.name LIKE :like OR l.company LIKE :like OR l.contact_name LIKE :like)"
            cap = self.caps[1] if term else self.caps[0]
            count = (f"SELECT count(*) FROM (SELECT 1 FROM leads l WHERE {where} LIMIT {cap + 1}) AS capped" if cap
                     else f"SELECT count(*) FROM leads l WHERE {where}")
            return [(count, params),
                    (f"SELECT l.*, u.display_name, src.name FROM (SELECT * FROM leads l WHERE {where} "
                     f"ORDER BY l.created_at DESC, l.id DESC LIMIT {PAGE_SIZE}) AS l "
                     "LEFT JOIN users u ON u.id = l.owner_id LEFT JOIN dict_items src ON src.id = l.source_id "
                     "ORDER BY l.created_at DESC, l.id DESC", params)]
        if kind == "board":
            rows = self._opp_rows(who, f"o.outcome = 'open' AND o.group_id = {self.group_id}", "o.stage_id, o.amount")
            per_stage = f"SELECT t.stage_id, count(*) AS n, sum(t.amount) AS amount FROM ({rows}) AS t GROUP BY t.stage_id"
            sums = (f"SELECT m.stage_id, m.n, m.amount, m.amount * s.probability / 100 FROM ({per_stage}) AS m "
                    "JOIN opportunity_stages s ON s.id = m.stage_id")
            cards = []
            for stage, _p in self.stages:
                first = self._opp_rows(who, f"o.outcome = 'open' AND o.stage_id = {stage}", "o.*",
                                       f"ORDER BY o.id DESC LIMIT {CARDS}")
                cards.append((f"SELECT o.id, o.number, o.title, o.amount, o.expected_close_on, c.name, u.display_name "
                              f"FROM ({first}) AS o JOIN customers c ON c.id = o.customer_id "
                              f"JOIN users u ON u.id = o.owner_id ORDER BY o.id DESC LIMIT {CARDS}", {}))
            return [(sums, {})] + cards
        if kind == "forecast":
            month = ("strftime('%Y-%m', t.expected_close_on)" if self.dialect == "sqlite"
                     else "to_char(t.expected_close_on, 'YYYY-MM')")
            end = TODAY.year * 12 + TODAY.month - 1 + FORECAST_MONTHS  # the first month after the range
            rows = self._opp_rows(who, f"o.outcome = 'open' AND o.expected_close_on >= '{TODAY:%Y-%m}-01' "
                                       f"AND o.expected_close_on < '{end // 12}-{end % 12 + 1:02d}-01'",
                                  "o.stage_id, o.amount, o.expected_close_on")
            # sums per month and stage first, weighted by the five stages' probabilities after
            # sums per day and stage first (the index's order), then months weighted by the stages
            per_day = ("SELECT t.expected_close_on, t.stage_id, count(*) AS n, sum(t.amount) AS amount "
                       f"FROM ({rows}) AS t GROUP BY 1, 2")
            return [(f"SELECT {month}, sum(t.n), sum(t.amount), sum(t.amount * s.probability) / 100 FROM ({per_day}) "
                     "AS t JOIN opportunity_stages s ON s.id = t.stage_id GROUP BY 1", {})]
        if kind == "funnel":
            start = "2025-12-31 16:00:00"  # 1 January, Asia/Shanghai
            rows = self._opp_rows(who, f"o.created_at >= '{start}'", "o.stage_id, o.outcome, o.amount")
            return [(f"SELECT t.stage_id, t.outcome, count(*), sum(t.amount) FROM ({rows}) AS t "
                     "GROUP BY t.stage_id, t.outcome", {})]
        raise ValueError(kind)

    def _paramstyle(self, sql: str) -> str:
        return re.sub(r":(\w+)", r"%(\1)s", sql) if self.dialect == "postgresql" else sql

    def run(self, stmts) -> int:
        cursor = self.raw.cursor()
        rows = 0
        for sql, params in stmts:
            cursor.execute(self._paramstyle(sql), params)
            rows += len(cursor.fetchall())
        cursor.close()
        self.raw.rollback()  # end the read transaction, as a request does
        return rows

    def explain(self, stmts) -> str:
        out = []
        cursor = self.raw.cursor()
        for sql, params in stmts:
            if self.dialect == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + self._paramstyle(sql), params)
                lines = [r[0] for r in cursor.fetchall()]
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
                lines = [r[3] for r in cursor.fetchall()]
            out.append(f"-- {sql[:110]}…\n" + "\n".join(lines))
        cursor.close()
        self.raw.rollback()
        return "\n".join(out)


def lead_count_caps(app) -> tuple[int | None, int | None]:
    """The lead list may stop counting at a cap ("10000+", searches "1000+") as the customer list
    does: the bare SQL then does the same, smaller, work."""
    try:
        from admin_views import base
    except ImportError:
        return None, None
    for admin in app.extensions.get("admin", []):
        for view in admin._views:
            if getattr(view, "endpoint", None) == "lead" and getattr(view, "capped_count", False):
                return getattr(base, "COUNT_CAP", None), getattr(base, "SEARCH_COUNT_CAP", None)
    return None, None


def pick_terms(engine, sales_id: int) -> dict[str, str]:
    """From the 业务员's newest company lead: its brand (2 characters after the city) and the first
    7 digits of its mobile (rules/lead_search matches a number from its start: 1380013)."""
    from sqlalchemy import text

    from rules import regions

    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT name, city, mobile FROM leads WHERE owner_id = :uid AND company IS NOT NULL AND mobile IS NOT NULL "
            "AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 200"), {"uid": sales_id}).all()
    for name, city, mobile in rows:
        short = regions.short(city or "")
        if short and name.startswith(short) and len(name) > len(short) + 2:
            return {"brand": name[len(short):len(short) + 2], "phone": mobile[:7]}
    raise SystemExit("no company lead to take search terms from: run bench/generate_pipeline.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", help="run only cases whose label contains one of these (comma-separated: 线索,看板,预测...)")
    parser.add_argument("--who", help="run only for 业务员, 主管 or 总经理")
    parser.add_argument("--explain", action="store_true", help="print the bare statements' plans")
    parser.add_argument("--bare-only", action="store_true", help="time only the bare SQL")
    args = parser.parse_args()

    from sqlalchemy import func, select, text

    from models import Lead, Opportunity, Stage, StageGroup, User, db
    from rules import scope as scope_rules
    from rules.actor import Actor

    app = make_app(normalise_url(args.url), CLOCK=NOW.isoformat())
    with app.app_context():
        engine = db.engine
        counts = {"leads": db.session.scalar(select(func.count(Lead.id))),
                  "opportunities": db.session.scalar(select(func.count(Opportunity.id)))}
        if not counts["leads"] or not counts["opportunities"]:
            raise SystemExit("no pipeline data: run bench/generate_pipeline.py first")
        group_id = db.session.scalar(select(StageGroup.id).where(StageGroup.name == DEFAULT_GROUP))
        stages = [(s.id, s.probability) for s in db.session.scalars(
            select(Stage).where(Stage.group_id == group_id).order_by(Stage.sort_order))]
        scopes: dict[str, list[int] | None] = {}
        ids: dict[str, int] = {}
        for who, username in USERS:
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                raise SystemExit(f"no user {username}: make the database with bench/generate.py")
            ids[who] = user.id
            actor = Actor.from_user(user, today=TODAY, has_shares=False)
            staff = scope_rules.owner_clause(User.id, actor)
            everyone = actor.data_scope.value == "all"
            scopes[who] = None if everyone else sorted(db.session.scalars(select(User.id).where(staff)))
            scopes[who + ":self"] = [user.id]
        version = db.session.scalar(text("SELECT sqlite_version()" if engine.dialect.name == "sqlite"
                                         else "SHOW server_version"))
        db.session.remove()
    terms = pick_terms(engine, ids["业务员"])
    bare = Bare(engine, scopes, group_id, stages)
    bare.caps = lead_count_caps(app)
    print(f"# {engine.dialect.name} {version}: {counts['leads']:,} leads, {counts['opportunities']:,} opportunities; "
          f"{args.repeat} runs after 1 warm-up; search terms {terms['brand']!r}, {terms['phone']!r}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)

    results: list[Result] = []
    plans: list[str] = []
    for who, username in USERS:
        if args.who and args.who != who:
            continue
        client = None if args.bare_only else login(app, username)
        for case in CASES:
            if args.only and not any(word in case.label for word in args.only.split(",")):
                continue
            term = terms[case.term_kind] if case.term_kind else None
            result = Result(who, case)
            path = page_url(app, case)
            if client is not None and path is None:
                result.note = f"page not on this build (endpoint {case.endpoint[0]!r})"
            elif client is not None:
                url = path + (f"?search={term}" if term else "")
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
            stmts = bare.statements(case.bare, who, term)
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
    if not r.page_ms:
        return f"  {r.who:<4} {r.case.label:<5} page —  {bare}  {r.note}"
    return (f"  {r.who:<4} {r.case.label:<5} page {statistics.median(r.page_ms):7.1f}/{p95(r.page_ms):7.1f} ms "
            f"(cpu {statistics.median(r.page_cpu):6.1f})  {bare}  "
            f"ratio {statistics.median(r.page_ms) / statistics.median(r.bare_ms):5.1f}×")


def table(results: list[Result]) -> str:
    lines = ["| 用户 | 场景 | 页面 中位数 ms | 页面 p95 ms | 页面 CPU ms | 裸SQL 中位数 ms | 裸SQL p95 ms | 裸SQL CPU ms "
             "| 比值 中位数 | 比值 p95 | 备注 |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
    for r in results:
        bm, bp, bc = statistics.median(r.bare_ms), p95(r.bare_ms), statistics.median(r.bare_cpu)
        limit = 500 if r.case.bare in ("forecast", "funnel") else 200
        if r.page_ms:
            pm, pp, pc = statistics.median(r.page_ms), p95(r.page_ms), statistics.median(r.page_cpu)
            page = f"{pm:.1f} | {_mark(pp, limit)} | {pc:.1f} | {bm:.1f} | {bp:.1f} | {bc:.1f} | {pm / bm:.1f}× | {pp / bp:.1f}×"
        else:
            page = f"— | — | — | {bm:.1f} | {_mark(bp, limit)} | {bc:.1f} | — | —"
        lines.append(f"| {r.who} | {r.case.label} | {page} | {r.note} |")
    return "\n".join(lines)


def _mark(value: float, limit: float) -> str:
    return f"**{value:.1f}**" if value > limit else f"{value:.1f}"


if __name__ == "__main__":
    main()
