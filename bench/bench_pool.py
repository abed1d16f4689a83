"""客户池 benchmarks: the nightly recycle job, and claims by concurrent HTTP clients against a
real server process. Each figure is printed with the raw SQL doing the same work.

    .venv/bin/python bench/bench_pool.py recycle --url URL [--due 0.10] [--repeat 3] [--levels pool|each]
    .venv/bin/python bench/bench_pool.py claims  --url URL [--clients 16] [--pool 10000] [--duration 60]

Both run on a database made by bench/generate.py and CHANGE it (see below): on SQLite pass
--copy-to PATH to work on a consistent copy (sqlite3 backup API) instead of the file itself.

recycle
  Prepares the data with a few set-based UPDATEs: the default pool gets recycle rules
  (领用后未联系 30 days, 间隔未联系 90 days, 未成交 365 days, deals exempt); every owned customer
  was claimed 150-300 days ago and followed up 1-45 days ago, except a pseudo-random --due share
  of all customers (default 10%, drawn from the owned, live customers without a deal): half of
  those were last followed up before their claim (rule a), half 120 days ago (rule b).
  --levels pool (default) sets the days on the pool only, the usual setting; --levels each also
  gives every value level the same days (level_days), which must select the same customers. The
  script refuses to time anything unless the app's preview counts exactly what the bare SQL counts.
  Then, --repeat times, alternately:
    bare    one hand-written UPDATE customers SET owner_id = NULL, ... WHERE <the same selection>,
            committed (and, as a second reference, the same UPDATE preceded by the INSERT ... SELECT
            of the ownership events, i.e. all the rows the job writes);
    recycle rules.recycle.recycle_due(session, now=...) + periodic.record_run + commit: exactly
            what jobs/recycle.py runs every night.
  After each timed run the moved customers are restored from a snapshot table (and the run's
  events and notifications deleted); PostgreSQL then gets VACUUM ANALYZE and a CHECKPOINT and
  SQLite a WAL checkpoint, so every timed run starts from the same state. Reports the medians,
  the ratio recycle ÷ bare UPDATE (target: within 3×, under 10 s), and the dry run (preview,
  what 客户池设置 → 预览 shows) against one hand-written counting query.

claims
  Prepares a pool of exactly --pool unowned live customers in the default pool (pool_reason
  'new'; the other unowned customers are handed to the generated salespeople), sets the pool's
  limits to 0 (no daily limit, no ownership limit, no cooldown) and creates --clients
  salespeople claim01.. (业务员, password bench-123) with rules.org.create_user. Starts a real
  server process (bench/pool_server.py: waitress, or gunicorn with --server gunicorn) on a free
  loopback port; each client thread logs in through the login form, then loops until
  --duration is up or the pool is empty: GET /admin/pool/ (reads the flash of its previous claim,
  the CSRF token and the row ids), POST /admin/pool/action/ action=claim rowid=<one of the ids,
  at random>. Reports claims/s, conflicts (已被他人领用), errors, p50/p95 of the claim POST, and
  checks in the database that owned customers == successful claims and that there is exactly
  one 'claim' OwnershipEvent per claimed customer. Then hands the customers back to the pool
  and, as the raw reference, has --clients threads (one DB-API connection each) issue the
  app's conditional UPDATE ... WHERE id = ? AND owner_id IS NULL (+ commit) over the whole pool.
"""
from __future__ import annotations

import argparse
import http.client
import math
import os
import queue
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_PASSWORD, ROOT, libpq_url, make_app, normalise_url, sqlite_path  # noqa: E402
from generate import NOW as GENERATED_NOW  # noqa: E402

NOW = GENERATED_NOW.replace(tzinfo=timezone.utc)  # the generated data's "now" (10:00 in Shanghai)
RULE_DAYS = {"no_contact_days": 30, "idle_days": 90, "no_deal_days": 365}
SNAPSHOT = "bench_recycle_snapshot"
CLAIMER_PREFIX = "claim"
SALES_DEPARTMENTS = ("销售一部", "销售二部", "销售三部", "销售四部")


# --- small helpers -------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def dialect_of(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def copy_sqlite(url: str, dest: str) -> str:
    """A consistent copy of a (possibly WAL-mode, possibly in use) SQLite database."""
    import sqlite3

    src_path = sqlite_path(url)
    dest_path = Path(dest).resolve()
    if dest_path == Path(src_path).resolve():
        raise SystemExit("--copy-to must differ from the source database")
    for p in (dest_path, Path(f"{dest_path}-wal"), Path(f"{dest_path}-shm")):
        p.unlink(missing_ok=True)
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)
    dst = sqlite3.connect(str(dest_path))
    src.backup(dst, pages=65536)
    dst.close()
    src.close()
    print(f"copied {src_path} to {dest_path} in {time.perf_counter() - started:.0f} s", flush=True)
    return f"sqlite:///{dest_path}"


def typed_text(sql: str, params: dict):
    """text() whose datetime parameters go through the app's own UTCDateTime type, so they are
    stored and compared exactly as the ORM stores and compares them (SQLite keeps strings)."""
    from sqlalchemy import bindparam, text

    from models.base import UTCDateTime

    binds = [bindparam(k, v, type_=UTCDateTime) if isinstance(v, datetime) else bindparam(k, v)
             for k, v in params.items() if re.search(rf":{k}\b", sql)]
    return text(sql).bindparams(*binds)


def run_sql(conn, sql: str, **params):
    return conn.execute(typed_text(sql, params))


def maintenance(engine, tables: tuple[str, ...]) -> None:
    """Between timed runs: no dead rows, fresh statistics, nothing left to flush."""
    from sqlalchemy import text

    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM ANALYZE {', '.join(tables)}"))
            conn.execute(text("CHECKPOINT"))
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


class StatementLog:
    """Times every statement sent to the database while `on` is set (to show where a run goes)."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.on = False
        self.rows: list[tuple[float, str]] = []
        self._started: dict[int, float] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, params, context, executemany) -> None:
        if self.on:
            self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, params, context, executemany) -> None:
        if self.on and id(cursor) in self._started:
            elapsed = time.perf_counter() - self._started.pop(id(cursor))
            words = " ".join(statement.split())
            self.rows.append((elapsed, words))

    def start(self) -> None:
        self.rows, self.on = [], True

    def stop(self) -> list[tuple[float, str]]:
        self.on = False
        return self.rows


def describe_statement(words: str) -> str:
    """'UPDATE customers', 'INSERT INTO ownership_events', 'SELECT count(...) FROM customers' ..."""
    m = re.match(r"(UPDATE \w+|INSERT INTO \w+|DELETE FROM \w+|SELECT .*? FROM \w+)", words)
    head = m.group(1) if m else words[:40]
    if head.startswith("SELECT") and len(head) > 60:
        head = head[:30] + " ... " + head[head.rfind(" FROM "):]
    return head


# === recycle ======================================================================================
def rule_cutoffs() -> dict[str, datetime]:
    return {"nc_before": NOW - timedelta(days=RULE_DAYS["no_contact_days"]),
            "idle_before": NOW - timedelta(days=RULE_DAYS["idle_days"]),
            "deal_before": NOW - timedelta(days=RULE_DAYS["no_deal_days"])}


# The selection of rules/recycle.py for one pool whose members are every user, written by hand:
# live owned customers, not protected, no deal (deals are exempt), and any of the three rules.
# Customers with an order on its way are exempt; business (last_activity_at) restarts the clocks.
CANDIDATE = ("owner_id IS NOT NULL AND deleted_at IS NULL AND claimed_at IS NOT NULL "
             "AND (protected_until IS NULL OR protected_until < :now) AND has_deal = false "
             "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = customers.id "
             "AND o.state IN ('pending_review', 'picking', 'shipped'))")
RULE_A = ("(claimed_at < :nc_before AND (last_follow_up_at IS NULL OR last_follow_up_at < claimed_at) "
          "AND (last_activity_at IS NULL OR last_activity_at < claimed_at))")
RULE_B = ("(claimed_at < :idle_before AND (last_follow_up_at IS NULL OR last_follow_up_at < :idle_before) "
          "AND (last_activity_at IS NULL OR last_activity_at < :idle_before))")
RULE_C = "(claimed_at < :deal_before AND (last_activity_at IS NULL OR last_activity_at < :deal_before))"
DUE_WHERE = f"{CANDIDATE} AND ({RULE_A} OR {RULE_B} OR {RULE_C})"
BARE_UPDATE = ("UPDATE customers SET owner_id = NULL, department_id = NULL, pool_id = :pool_id, "
               "pool_reason = 'recycled', pool_entered_at = :now, claimed_at = NULL, protected_until = NULL, "
               f"updated_at = :now WHERE {DUE_WHERE}")
BARE_EVENTS = ("INSERT INTO ownership_events (customer_id, from_user_id, to_user_id, actor_id, reason, note, at) "
               f"SELECT id, owner_id, NULL, NULL, 'recycle', 'bench', :now FROM customers WHERE {DUE_WHERE}")
BARE_PREVIEW = (f"SELECT sum(CASE WHEN {RULE_A} THEN 1 ELSE 0 END), "
                f"sum(CASE WHEN NOT {RULE_A} AND {RULE_B} THEN 1 ELSE 0 END), "
                f"sum(CASE WHEN NOT {RULE_A} AND NOT {RULE_B} AND {RULE_C} THEN 1 ELSE 0 END) "
                f"FROM customers WHERE {DUE_WHERE}")


def due_params(pool_id: int) -> dict:
    return {"now": NOW, "pool_id": pool_id, **rule_cutoffs()}


def restore_recycled(engine) -> None:
    """Put the moved customers back as they were and delete what the run wrote (its events and
    notifications carry the bench's fixed `now`, which nothing else has)."""
    from sqlalchemy import inspect

    with engine.begin() as conn:
        if not inspect(conn).has_table(SNAPSHOT):
            return
        run_sql(conn, f"UPDATE customers SET owner_id = s.owner_id, department_id = s.department_id, "
                      f"pool_id = s.pool_id, pool_reason = s.pool_reason, pool_entered_at = s.pool_entered_at, "
                      f"claimed_at = s.claimed_at, protected_until = s.protected_until, updated_at = s.updated_at "
                      f"FROM {SNAPSHOT} AS s WHERE customers.id = s.id AND customers.owner_id IS NULL")
        run_sql(conn, "DELETE FROM ownership_events WHERE reason = 'recycle' AND at = :now", now=NOW)
        run_sql(conn, "DELETE FROM notifications WHERE dedupe_key = :key", key=f"recycle:{NOW.isoformat()}")


def prepare_recycle(app, due_share: float, levels: str) -> tuple[int, int, int]:
    """Returns (pool id, customers, customers due). levels='pool': the days are set on the pool
    only (the usual setting); levels='each': every value level is also given the same days in
    the pool's 按价值等级的回收天数 (level_days), which selects the same customers."""
    from sqlalchemy import func, select, text

    from models import Customer, PoolMember, db
    from rules import dictionaries, settings
    from rules import pool as pool_rules

    started = time.perf_counter()
    with app.app_context():
        session = db.session
        if not settings.get(session, "pool_enabled"):
            raise SystemExit("客户池 is switched off in this database (pool_enabled)")
        if session.scalar(select(func.count(PoolMember.id))):
            raise SystemExit("this database has pool members; the bench expects every user in the default pool")
        pool = pool_rules.default_pool(session)
        pool.recycle_enabled, pool.exempt_deals, pool.warn_days, pool.level_days = True, True, 7, {}
        if levels == "each":
            pool.level_days = {str(item.id): dict(RULE_DAYS) for item in
                               dictionaries.items(session, "value_level", include_inactive=True)}
        for name, days in RULE_DAYS.items():
            setattr(pool, name, days)
        session.commit()
        pool_id = pool.id
        total = session.scalar(select(func.count(Customer.id)))
        session.remove()
        engine = db.engine
        with engine.begin() as conn:
            eligible = run_sql(conn, "SELECT count(*) FROM customers WHERE owner_id IS NOT NULL AND "
                                     "deleted_at IS NULL AND has_deal = false").scalar()
            per_10k = min(10_000, round(10_000 * due_share * total / max(eligible, 1)))
            d = {f"c{k}": NOW - timedelta(days=v) for k, v in enumerate((150, 200, 250, 300))}
            d.update({f"f{k}": NOW - timedelta(days=v, hours=3) for k, v in enumerate((1, 8, 20, 45))})
            # Everyone: claimed 150-300 days ago, followed up 1-45 days ago, unprotected: nothing due.
            run_sql(conn, "UPDATE customers SET "
                          "claimed_at = CASE id % 4 WHEN 0 THEN :c0 WHEN 1 THEN :c1 WHEN 2 THEN :c2 ELSE :c3 END, "
                          "last_follow_up_at = CASE (id / 4) % 4 WHEN 0 THEN :f0 WHEN 1 THEN :f1 WHEN 2 THEN :f2 "
                          "ELSE :f3 END, protected_until = NULL WHERE owner_id IS NOT NULL", **d)
            # The due share: a pseudo-random pick (multiplicative hash of the id) of the owned, live
            # customers without a deal; even ids are "never followed up since the claim" (rule a),
            # odd ids "last followed up 120 days ago" (rule b).
            pick = "owner_id IS NOT NULL AND deleted_at IS NULL AND has_deal = false AND (id * 2654435761) % 10000 < :t"
            run_sql(conn, f"UPDATE customers SET last_follow_up_at = :before WHERE {pick} AND id % 2 = 0",
                    t=per_10k, before=NOW - timedelta(days=400))
            run_sql(conn, f"UPDATE customers SET last_follow_up_at = :idle WHERE {pick} AND id % 2 = 1",
                    t=per_10k, idle=NOW - timedelta(days=120))
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
        maintenance(engine, ("customers",))
        with engine.connect() as conn:
            due = run_sql(conn, f"SELECT count(*) FROM customers WHERE {DUE_WHERE}", **due_params(pool_id)).scalar()
    where = "on the pool only" if levels == "pool" else "on the pool and on each value level"
    print(f"prepared in {time.perf_counter() - started:.0f} s: {total:,} customers, {due:,} due "
          f"({100 * due / total:.1f}%), rules {RULE_DAYS} {where}, deals exempt", flush=True)
    return pool_id, total, due


def take_snapshot(engine, pool_id: int) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {SNAPSHOT}")
        run_sql(conn, f"CREATE TABLE {SNAPSHOT} AS SELECT id, owner_id, department_id, pool_id, pool_reason, "
                      f"pool_entered_at, claimed_at, protected_until, updated_at FROM customers WHERE {DUE_WHERE}",
                **due_params(pool_id))
        conn.exec_driver_sql(f"CREATE UNIQUE INDEX {SNAPSHOT}_id ON {SNAPSHOT} (id)")


def drop_snapshot(engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {SNAPSHOT}")


def time_recycle(app, log: StatementLog) -> tuple[float, dict[str, int], list]:
    from models import db
    from rules import periodic, recycle

    with app.app_context():
        log.start()
        started = time.perf_counter()
        run = recycle.recycle_due(db.session, now=NOW)
        periodic.record_run(db.session, "recycle_customers", now=NOW,
                            result=", ".join(f"{k} {v}" for k, v in run.moved.items()))
        db.session.commit()
        elapsed = time.perf_counter() - started
        statements = log.stop()
        db.session.remove()
    return elapsed, dict(run.moved), statements


def time_bare(engine, pool_id: int, with_events: bool) -> tuple[float, int]:
    with engine.connect() as conn:
        started = time.perf_counter()
        if with_events:
            run_sql(conn, BARE_EVENTS, **due_params(pool_id))
        moved = run_sql(conn, BARE_UPDATE, **due_params(pool_id)).rowcount
        conn.commit()
        elapsed = time.perf_counter() - started
    return elapsed, moved


def check_restored(engine, pool_id: int, due: int) -> None:
    with engine.connect() as conn:
        now_due = run_sql(conn, f"SELECT count(*) FROM customers WHERE {DUE_WHERE}", **due_params(pool_id)).scalar()
        events = run_sql(conn, "SELECT count(*) FROM ownership_events WHERE reason = 'recycle' AND at = :now",
                         now=NOW).scalar()
    if now_due != due or events:
        raise SystemExit(f"restore failed: {now_due:,} due (expected {due:,}), {events} events left")


def cmd_recycle(args) -> None:
    url = normalise_url(args.url)
    if args.copy_to:
        if dialect_of(url) != "sqlite":
            raise SystemExit("--copy-to is for SQLite")
        url = copy_sqlite(url, args.copy_to)
    dialect = dialect_of(url)
    app = make_app(url)
    with app.app_context():
        from models import db
        engine = db.engine
    restore_recycled(engine)  # a run interrupted earlier leaves its snapshot behind: undo it first
    pool_id, total, due = prepare_recycle(app, args.due, args.levels)
    take_snapshot(engine, pool_id)
    log = StatementLog(engine)

    # The dry run first (it also warms the cache for everything after it).
    from models import db
    from rules import recycle

    preview_s, bare_preview_s = [], []
    with app.app_context():
        for _ in range(args.preview_repeat + 1):
            started = time.perf_counter()
            moved_preview = recycle.preview(db.session, now=NOW)
            preview_s.append(time.perf_counter() - started)
            db.session.rollback()
        db.session.remove()
    with engine.connect() as conn:
        for _ in range(args.preview_repeat + 1):
            started = time.perf_counter()
            row = run_sql(conn, BARE_PREVIEW, **due_params(pool_id)).one()
            bare_preview_s.append(time.perf_counter() - started)
            conn.rollback()
    preview_s, bare_preview_s = preview_s[1:], bare_preview_s[1:]  # the first of each warms up
    bare_counts = dict(zip(("no_contact", "idle", "no_deal"), (int(v or 0) for v in row)))
    if moved_preview != bare_counts or sum(bare_counts.values()) != due:
        drop_snapshot(engine)
        hint = ""
        if args.levels == "pool":
            hint = ("\n  With days set on the pool only, rules/recycle.py (_older_than) applies them to customers "
                    "WITHOUT a value level only;\n  customers with any value level are never selected. "
                    "Use --levels each to measure a configuration it selects correctly.")
        raise SystemExit(f"the app's preview {moved_preview} differs from the bare count {bare_counts} "
                         f"(due {due:,}): not the same selection, nothing timed.{hint}")

    results: dict[str, list[float]] = {"bare": [], "bare+events": [], "recycle": []}
    moved_counts: dict[str, int] = {}
    breakdown: list = []
    for i in range(args.repeat):
        for kind in ("bare", "bare+events", "recycle"):
            maintenance(engine, ("customers", "ownership_events", "notifications"))
            if kind == "recycle":
                elapsed, moved, statements = time_recycle(app, log)
                total_moved = sum(moved.values())
                if moved != bare_counts:
                    raise SystemExit(f"recycle moved {moved}, expected {bare_counts}")
                breakdown.append(statements)
            else:
                elapsed, total_moved = time_bare(engine, pool_id, with_events=(kind == "bare+events"))
            if total_moved != due:
                raise SystemExit(f"{kind} moved {total_moved:,}, expected {due:,}")
            moved_counts[kind] = total_moved
            results[kind].append(elapsed)
            print(f"  run {i + 1}/{args.repeat} {kind:<12} {elapsed:7.2f} s   moved {total_moved:,}", flush=True)
            restore_recycled(engine)
            check_restored(engine, pool_id, due)
    drop_snapshot(engine)
    maintenance(engine, ("customers", "ownership_events", "notifications"))

    med = {k: statistics.median(v) for k, v in results.items()}
    label = "PostgreSQL" if dialect == "postgresql" else "SQLite"
    ratio = med["recycle"] / med["bare"]
    print()
    print(f"recycle on {label}: {total:,} customers, {due:,} due "
          f"({', '.join(f'{k} {v:,}' for k, v in bare_counts.items())}); median of {args.repeat}")
    print(f"  {'recycle_due + commit (the nightly job)':<44} {med['recycle']:8.2f} s   moved {due:,}")
    print(f"  {'bare UPDATE (one statement) + commit':<44} {med['bare']:8.2f} s   ratio {ratio:5.2f}×")
    print(f"  {'bare INSERT events + UPDATE + commit':<44} {med['bare+events']:8.2f} s   "
          f"ratio {med['recycle'] / med['bare+events']:5.2f}×")
    pm, bpm = statistics.median(preview_s), statistics.median(bare_preview_s)
    print(f"  {'preview (dry run: 3 counts)':<44} {pm:8.2f} s   bare one-scan count {bpm:6.2f} s   "
          f"ratio {pm / bpm:5.2f}×")
    print(f"  all runs (s): " + "; ".join(f"{k} " + ", ".join(f"{v:.2f}" for v in vs) for k, vs in results.items()))
    verdict = "OK" if ratio <= 3 and med["recycle"] < 10 else "MISSES"
    print(f"  target (within 3× of the bare UPDATE, under 10 s): {verdict}")
    median_run = sorted(range(len(breakdown)), key=lambda j: results["recycle"][j])[len(breakdown) // 2]
    print("  where the median recycle run went (statements over 5 ms):")
    statements = breakdown[median_run]
    for elapsed, words in statements:
        if elapsed >= 0.005:
            print(f"    {elapsed:8.3f} s  {describe_statement(words)}")
    rest = results["recycle"][median_run] - sum(e for e, _w in statements)
    print(f"    {rest:8.3f} s  commit, Python and the {sum(1 for e, _w in statements if e < 0.005)} "
          f"statements under 5 ms ({len(statements)} statements in all)")


# === claims =======================================================================================
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_claims(app, pool_size: int, clients: int, seed: int) -> dict:
    """Exactly `pool_size` unowned live customers in the default pool, no claim limits, and
    `clients` salespeople with the bench password. Returns ids and the event id to count from."""
    from sqlalchemy import func, select

    from models import Customer, OwnershipEvent, PoolMember, Role, User, db
    from rules import org, settings
    from rules import pool as pool_rules

    started = time.perf_counter()
    with app.app_context():
        session = db.session
        if not settings.get(session, "pool_enabled"):
            raise SystemExit("客户池 is switched off in this database (pool_enabled)")
        if session.scalar(select(func.count(PoolMember.id))):
            raise SystemExit("this database has pool members; the bench expects every user in the default pool")
        pool = pool_rules.default_pool(session)
        pool.max_claims_per_day = pool.max_owned = pool.cooldown_days = 0
        pool.role_limits = {}
        role = session.scalar(select(Role).where(Role.name == "业务员"))
        if role is None:
            raise SystemExit("no 业务员 role: was the database made by bench/generate.py?")
        departments = [org.ensure_department_path(session, ["销售部", d]) for d in SALES_DEPARTMENTS]
        claimers = []
        for k in range(1, clients + 1):
            username = f"{CLAIMER_PREFIX}{k:02d}"
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                user = org.create_user(session, username=username, password=BENCH_PASSWORD,
                                       display_name=f"领用压测{k:02d}", role=role,
                                       department=departments[(k - 1) % len(departments)])
            claimers.append((user.id, user.department_id, username))
        claimer_ids = [c[0] for c in claimers]
        others = list(session.execute(select(User.id, User.department_id).where(
            User.role_id == role.id, User.id.not_in(claimer_ids), User.active.is_(True)).order_by(User.id)))
        if not others:
            raise SystemExit("no other 业务员 to hand the rest of the pool to")
        pool_id = pool.id
        session.commit()
        session.remove()
        engine = db.engine
        live = [r[0] for r in db.session.execute(select(Customer.id).where(Customer.deleted_at.is_(None)))]
        db.session.remove()
        if len(live) < pool_size:
            raise SystemExit(f"only {len(live):,} live customers")
        chosen = sorted(random.Random(seed).sample(live, pool_size))
        owner_case = " ".join(f"WHEN {k} THEN {uid}" for k, (uid, _d) in enumerate(others))
        dept_case = " ".join(f"WHEN {k} THEN {dep if dep is not None else 'NULL'}" for k, (_u, dep) in enumerate(others))
        n = len(others)
        marks = ", ".join(str(i) for i in claimer_ids)
        with engine.begin() as conn:
            # Everything unowned now (and anything the claimers hold from an earlier run) goes to
            # the generated salespeople, round robin by id ...
            run_sql(conn, f"UPDATE customers SET owner_id = CASE id % {n} {owner_case} END, "
                          f"department_id = CASE id % {n} {dept_case} END, claimed_at = :now, pool_reason = NULL "
                          f"WHERE deleted_at IS NULL AND (owner_id IS NULL OR owner_id IN ({marks}))", now=NOW)
            # ... then exactly the chosen customers enter the pool, newest first in the list.
            rows = [{"id": cid, "entered": NOW - timedelta(minutes=k)} for k, cid in enumerate(chosen)]
            conn.execute(typed_text("UPDATE customers SET owner_id = NULL, department_id = NULL, pool_id = :pool, "
                                    "pool_reason = 'new', pool_entered_at = :entered, claimed_at = NULL, "
                                    "protected_until = NULL WHERE id = :id",
                                    {"pool": pool_id, "entered": NOW, "id": 0}), rows)
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        maintenance(engine, ("customers", "ownership_events", "claim_quotas"))
        with engine.connect() as conn:
            in_pool = run_sql(conn, "SELECT count(*) FROM customers WHERE owner_id IS NULL AND deleted_at IS NULL "
                                    "AND pool_id = :pool AND (protected_until IS NULL OR protected_until < :now)",
                              pool=pool_id, now=NOW).scalar()
            marker = conn.execute(select(func.coalesce(func.max(OwnershipEvent.id), 0))).scalar()
    if in_pool != pool_size:
        raise SystemExit(f"the pool holds {in_pool:,} customers, expected {pool_size:,}")
    print(f"prepared in {time.perf_counter() - started:.0f} s: {pool_size:,} customers in the pool, "
          f"{clients} salespeople {claimers[0][2]}..{claimers[-1][2]}, limits off", flush=True)
    return {"pool_id": pool_id, "chosen": chosen, "claimers": claimers, "marker": marker, "engine": engine}


class Browser:
    """One person's browser: a keep-alive connection, cookies, forms with their CSRF token."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        return self.conn

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        headers = {"Connection": "keep-alive", "Accept-Language": "zh-CN"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # a kept-alive connection the server closed: once more on a new one
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            expired = "max-age=0" in header.lower() or "expires=thu, 01 jan 1970" in header.lower()
            if expired or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, response.getheader("Location", ""), text

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


CSRF_RE = [re.compile(r'name="csrf_token"[^>]*value="([^"]+)"'), re.compile(r'value="([^"]+)"[^>]*name="csrf_token"')]
ACTION_CSRF_RE = re.compile(r'<form id="action_form".*?name="csrf_token" type="hidden" value="([^"]+)"', re.S)
ROWID_RE = re.compile(r'name="rowid"[^>]*value="(\d+)"')
ALERT_RE = re.compile(r'<div class="alert alert-(\w+)[^"]*">(.*?)</div>', re.S)


def csrf_of(html: str) -> str | None:
    m = ACTION_CSRF_RE.search(html)
    if m:
        return m.group(1)
    for pattern in CSRF_RE:
        m = pattern.search(html)
        if m:
            return m.group(1)
    return None


def flashes(html: str) -> list[tuple[str, str]]:
    return [(kind, " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).replace("×", " ").split()))
            for kind, body in ALERT_RE.findall(html)]


@dataclass
class ClientStats:
    succeeded: int = 0
    conflicts: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    claim_ms: list[float] = field(default_factory=list)
    list_ms: list[float] = field(default_factory=list)
    pool_empty: bool = False

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what[:200])


def run_client(k: int, port: int, username: str, start: threading.Barrier, deadline_box: list,
               stats: ClientStats, seed: int, spread: bool) -> None:
    rng = random.Random(f"{seed}:{k}")
    browser = Browser("127.0.0.1", port)
    status, _loc, html = browser.request("GET", "/login")
    token = csrf_of(html)
    status, location, _ = browser.request("POST", "/login", {"username": username, "password": BENCH_PASSWORD,
                                                             "csrf_token": token or ""})
    if status != 302 or "login" in location:
        stats.error(f"login as {username} failed ({status} → {location})")
        start.wait()
        return
    start.wait()
    deadline = deadline_box[0]
    list_url = f"/admin/pool/?page={k}" if spread else "/admin/pool/"
    pending = False
    while True:
        try:
            t0 = time.perf_counter()
            status, _loc, html = browser.request("GET", list_url)
            stats.list_ms.append(1000 * (time.perf_counter() - t0))
        except Exception as exc:  # noqa: BLE001 - counted and reported
            stats.error(f"GET {list_url}: {exc!r}")
            pending = False
            browser.close()
            if time.perf_counter() >= deadline:
                break
            continue
        if pending:  # the flash of the previous claim is on the page the redirect leads to
            pending = False
            shown = flashes(html)
            if any("已领用" in text for _kind, text in shown):
                stats.succeeded += 1
            elif any("已被他人领用" in text for _kind, text in shown):
                stats.conflicts += 1
            else:
                stats.error(f"claim outcome not shown: {shown or status}")
        if status != 200:
            stats.error(f"GET {list_url} → {status}")
            if time.perf_counter() >= deadline:
                break
            continue
        if time.perf_counter() >= deadline:
            break
        ids = ROWID_RE.findall(html)
        if not ids and spread and list_url != "/admin/pool/":
            list_url = "/admin/pool/"  # past the last page: claim from the first
            continue
        if not ids:
            stats.pool_empty = True
            break
        token = csrf_of(html)
        form = {"csrf_token": token or "", "action": "claim", "rowid": rng.choice(ids), "url": list_url}
        try:
            t0 = time.perf_counter()
            status, location, _ = browser.request("POST", "/admin/pool/action/", form)
            stats.claim_ms.append(1000 * (time.perf_counter() - t0))
        except Exception as exc:  # noqa: BLE001
            stats.error(f"POST claim: {exc!r}")
            browser.close()
            continue
        if status == 302:
            pending = True
        else:
            stats.error(f"POST claim → {status}")
    browser.close()


def start_server(url: str, args, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [sys.executable, str(Path(__file__).resolve().parent / "pool_server.py"), "--url", url,
               "--port", str(port), "--server", args.server, "--threads", str(args.threads),
               "--workers", str(args.workers)]
    log = log_path.open("w")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}); see {log_path}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                conn.close()
                # gunicorn: make sure every worker has booted (each answers /login once)
                time.sleep(2 if args.server == "gunicorn" else 0)
                return process, port
        except OSError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"the server did not answer within 90 s; see {log_path}")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def verify_claims(engine, prep: dict, succeeded: int) -> list[tuple[str, bool, str]]:
    claimer_ids = [c[0] for c in prep["claimers"]]
    marks = ", ".join(str(i) for i in claimer_ids)
    chosen = set(prep["chosen"])
    with engine.connect() as conn:
        owned = dict(run_sql(conn, f"SELECT id, owner_id FROM customers WHERE owner_id IN ({marks})").all())
        events = run_sql(conn, "SELECT customer_id, to_user_id FROM ownership_events "
                               "WHERE id > :marker AND reason = 'claim'", marker=prep["marker"]).all()
    per_customer: dict[int, int] = {}
    for customer_id, _to in events:
        per_customer[customer_id] = per_customer.get(customer_id, 0) + 1
    twice = sum(1 for v in per_customer.values() if v > 1)
    mismatched = sum(1 for cid, to in events if owned.get(cid) != to)
    return [
        ("owned customers == successful claims", len(owned) == succeeded, f"{len(owned):,} vs {succeeded:,}"),
        ("claim events == successful claims", len(events) == succeeded, f"{len(events):,} vs {succeeded:,}"),
        ("no customer claimed twice", twice == 0, f"{twice} customers with 2+ claim events"),
        ("each owner matches its claim event", mismatched == 0, f"{mismatched} mismatches"),
        ("only pool customers were claimed", set(owned) <= chosen, f"{len(set(owned) - chosen)} outside the pool"),
    ]


def release_claimed(engine, prep: dict) -> None:
    """Hand the claimed customers back to the pool (as prepared) for the raw run."""
    marks = ", ".join(str(c[0]) for c in prep["claimers"])
    with engine.begin() as conn:
        run_sql(conn, f"UPDATE customers SET owner_id = NULL, department_id = NULL, claimed_at = NULL, "
                      f"pool_reason = 'new' WHERE owner_id IN ({marks})")
    maintenance(engine, ("customers",))


def raw_claims(url: str, prep: dict, threads: int, seed: int) -> dict:
    """The app's conditional UPDATE (the one rules.pool.claim checks by its row count), one per
    customer, each committed, from `threads` threads with one DB-API connection each."""
    ids = list(prep["chosen"])
    random.Random(f"{seed}:raw").shuffle(ids)
    work: queue.SimpleQueue = queue.SimpleQueue()
    for cid in ids:
        work.put(cid)
    dialect = dialect_of(url)
    claimers = prep["claimers"]
    now_value = NOW.replace(tzinfo=None)
    results = {"won": 0, "lost": 0, "errors": 0, "ms": [], "samples": []}
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    if dialect == "sqlite":
        import sqlite3

        stmt = ("UPDATE customers SET owner_id = ?, department_id = ?, claimed_at = ?, pool_reason = NULL, "
                "updated_at = ? WHERE id = ? AND owner_id IS NULL AND deleted_at IS NULL "
                "AND (protected_until IS NULL OR protected_until < ?)")
        stamp = now_value.strftime("%Y-%m-%d %H:%M:%S.%f")

        def connect():
            con = sqlite3.connect(sqlite_path(url), timeout=10, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000", "synchronous=NORMAL"):
                con.execute(f"PRAGMA {pragma}")
            return con

        def params(uid, dep, cid):
            return (uid, dep, stamp, stamp, cid, stamp)
    else:
        import psycopg

        stmt = ("UPDATE customers SET owner_id = %s, department_id = %s, claimed_at = %s, pool_reason = NULL, "
                "updated_at = %s WHERE id = %s AND owner_id IS NULL AND deleted_at IS NULL "
                "AND (protected_until IS NULL OR protected_until < %s)")

        def connect():
            return psycopg.connect(libpq_url(url))

        def params(uid, dep, cid):
            return (uid, dep, now_value, now_value, cid, now_value)

    def worker(k: int) -> None:
        uid, dep, _name = claimers[k % len(claimers)]
        con = connect()
        won = lost = errors = 0
        ms: list[float] = []
        samples: list[str] = []
        start.wait()
        while True:
            try:
                cid = work.get_nowait()
            except queue.Empty:
                break
            t0 = time.perf_counter()
            try:
                cur = con.execute(stmt, params(uid, dep, cid))
                count = cur.rowcount
                con.commit()
            except Exception as exc:  # noqa: BLE001 - counted and reported
                con.rollback()
                errors += 1
                if len(samples) < 3:
                    samples.append(repr(exc)[:200])
                continue
            ms.append(1000 * (time.perf_counter() - t0))
            won, lost = won + (count == 1), lost + (count != 1)
        con.close()
        with lock:
            results["won"] += won
            results["lost"] += lost
            results["errors"] += errors
            results["ms"].extend(ms)
            results["samples"].extend(samples)

    workers = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    start.wait()
    started = time.perf_counter()
    for t in workers:
        t.join()
    results["elapsed"] = time.perf_counter() - started
    return results


def cmd_claims(args) -> None:
    url = normalise_url(args.url)
    if args.copy_to:
        if dialect_of(url) != "sqlite":
            raise SystemExit("--copy-to is for SQLite")
        url = copy_sqlite(url, args.copy_to)
    dialect = dialect_of(url)
    app = make_app(url)
    prep = prepare_claims(app, args.pool, args.clients, args.seed)
    engine = prep["engine"]
    log_path = Path(args.server_log)
    process, port = start_server(url, args, log_path)
    server_desc = (f"waitress, 1 process × {args.threads} threads" if args.server == "waitress"
                   else f"gunicorn, {args.workers} workers × {args.threads} threads")
    print(f"server: {server_desc} on 127.0.0.1:{port} (log {log_path})", flush=True)
    stats = [ClientStats() for _ in range(args.clients)]
    start = threading.Barrier(args.clients + 1)
    deadline_box = [0.0]
    threads = [threading.Thread(target=run_client, args=(k, port, prep["claimers"][k][2], start, deadline_box,
                                                         stats[k], args.seed, args.spread), daemon=True)
               for k in range(args.clients)]
    try:
        for t in threads:
            t.start()
        # every client logs in first; the clock starts when the last one has
        while start.n_waiting < args.clients:
            time.sleep(0.05)
        deadline_box[0] = time.perf_counter() + args.duration
        started = time.perf_counter()
        start.wait()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        stop_server(process)

    succeeded = sum(s.succeeded for s in stats)
    conflicts = sum(s.conflicts for s in stats)
    errors = sum(s.errors for s in stats)
    claim_ms = [v for s in stats for v in s.claim_ms]
    list_ms = [v for s in stats for v in s.list_ms]
    samples = [e for s in stats for e in s.error_samples]
    checks = verify_claims(engine, prep, succeeded)

    release_claimed(engine, prep)
    raw = raw_claims(url, prep, args.clients, args.seed)
    with engine.connect() as conn:
        marks = ", ".join(str(c[0]) for c in prep["claimers"])
        raw_owned = run_sql(conn, f"SELECT count(*) FROM customers WHERE owner_id IN ({marks})").scalar()
    raw_rate = raw["won"] / raw["elapsed"] if raw["elapsed"] else float("nan")
    http_rate = succeeded / elapsed

    label = "PostgreSQL" if dialect == "postgresql" else "SQLite"
    print()
    print(f"claims on {label}: {server_desc}, {args.clients} HTTP clients, pool of {args.pool:,}, "
          f"{'each client on its own list page' if args.spread else 'everyone on the first list page'}")
    empty = any(s.pool_empty for s in stats)
    print(f"  HTTP  {succeeded:,} claims in {elapsed:.1f} s{' (pool emptied)' if empty else ''}: "
          f"{http_rate:.1f} claims/s; conflicts (已被他人领用) {conflicts:,}; errors {errors}")
    print(f"        claim POST p50 {pct(claim_ms, .5):.0f} ms, p95 {pct(claim_ms, .95):.0f} ms "
          f"({len(claim_ms):,} POSTs); list GET p50 {pct(list_ms, .5):.0f} ms, p95 {pct(list_ms, .95):.0f} ms "
          f"({len(list_ms):,} GETs)")
    for sample in samples[:5]:
        print(f"        error: {sample}")
    print(f"  raw   {raw['won']:,} conditional UPDATEs + commit by {args.clients} threads (one connection each) "
          f"in {raw['elapsed']:.2f} s: {raw_rate:,.0f} /s; p50 {pct(raw['ms'], .5):.1f} ms, "
          f"p95 {pct(raw['ms'], .95):.1f} ms; lost {raw['lost']}, errors {raw['errors']}")
    for sample in raw["samples"][:3]:
        print(f"        raw error: {sample}")
    print(f"  ratio raw ÷ HTTP throughput: {raw_rate / http_rate:.0f}× "
          f"(HTTP claim POST p50 ÷ raw UPDATE p50: {pct(claim_ms, .5) / pct(raw['ms'], .5):.0f}×)")
    ok = True
    for name, passed, detail in checks:
        ok &= passed
        print(f"  check {'✓' if passed else '✗'} {name} ({detail})")
    raw_ok = raw_owned == raw["won"] == len(prep["chosen"])
    print(f"  check {'✓' if raw_ok else '✗'} raw run: every pool customer owned once "
          f"({raw_owned:,} owned, {raw['won']:,} won of {len(prep['chosen']):,})")
    if not (ok and raw_ok):
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("recycle", help="the nightly recycle job against one bare UPDATE")
    rec.add_argument("--url", required=True, help="a database made by bench/generate.py")
    rec.add_argument("--copy-to", help="SQLite: work on a copy made at this path")
    rec.add_argument("--due", type=float, default=0.10, help="share of all customers that are due (default 0.10)")
    rec.add_argument("--repeat", type=int, default=3, help="timed runs of each (default 3; medians reported)")
    rec.add_argument("--preview-repeat", type=int, default=3)
    rec.add_argument("--levels", choices=("pool", "each"), default="pool",
                     help="recycle days on the pool only (default), or also on each value level (level_days)")
    rec.set_defaults(func=cmd_recycle)
    cl = sub.add_parser("claims", help="concurrent claims through a real server against raw UPDATEs")
    cl.add_argument("--url", required=True, help="a database made by bench/generate.py")
    cl.add_argument("--copy-to", help="SQLite: work on a copy made at this path")
    cl.add_argument("--clients", type=int, default=16)
    cl.add_argument("--pool", type=int, default=10_000, help="customers in the pool (default 10,000)")
    cl.add_argument("--duration", type=float, default=60, help="seconds of claiming (default 60)")
    cl.add_argument("--server", choices=("waitress", "gunicorn"), default="waitress")
    cl.add_argument("--threads", type=int, default=8, help="server threads (per worker for gunicorn)")
    cl.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    cl.add_argument("--spread", action="store_true",
                    help="client k lists page k of the pool instead of everyone listing the first page")
    cl.add_argument("--seed", type=int, default=20261123)
    cl.add_argument("--server-log", default=str(Path(os.environ.get("TMPDIR", "/tmp")) / "kechi-pool-server.log"))
    cl.set_defaults(func=cmd_claims)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
