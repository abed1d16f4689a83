"""Add contracts, their instalments (回款计划) and receipts (回款) to a database bench/generate.py
made: by default 1,000,000 contracts, about 3,300,000 instalments and about 3,000,000 receipts;
`--scale 0.1` makes a tenth of each for a run of a few minutes.

    .venv/bin/python bench/generate_finance.py --url sqlite:////tmp/bench/kechi-1m.db
    .venv/bin/python bench/generate_finance.py --url postgresql+psycopg://kechi@127.0.0.1:5433/kechi_bench --scale 0.1

The mix a sales team of the bench's size would have after two years:
- contracts on the customers' owners (5% on the 主管 of the department), signed over the last two
  years: 3% 草稿, 2% 审批中, 5% 已作废, and of the executed ones the older the more often 已完成
  (on average 20% of all; 70% 执行中); amounts ¥5,000 … ¥1,000,000;
- every executed or voided contract has 2–4 instalments (equal parts, due every 30–90 days from the
  signing date); 已完成 contracts are paid in full; of the instalments of a contract 执行中 that are
  due, 75% are paid, 10% partly paid and 15% overdue, and 10% of those not yet due were paid early;
- a receipt per paid instalment (one in five in two parts), by bank transfer mostly; 2% of the
  receipts settle a small rest as 抹零; 4% of the receipts of contracts 执行中 still wait for
  approval; credited (业绩归属) to the contract's owner. Contract and instalment `received`/
  `written_off`/`status` agree with the approved receipts.

Rows are bulk-loaded as bench/generate_pipeline.py does (SQLite: executemany with the secondary
indexes dropped and rebuilt; PostgreSQL: COPY with the indexes and foreign keys dropped, then
rebuilt and re-validated). A database made by an older bench/generate.py (no contract columns on
orders and payments yet, both empty) is brought up to the models first. Refuses a database that
already has contracts. Everything is derived from --seed.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from datetime import datetime, time as clock_time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bulk  # noqa: E402
import generate as base  # noqa: E402
from common import libpq_url, make_app, normalise_url, sqlite_path  # noqa: E402

NOW, TODAY, LOCAL_OFFSET = base.NOW, base.TODAY, base.LOCAL_OFFSET
FIRST_SIGNED = TODAY - timedelta(days=730)
CHUNK = 20_000

CONTRACT_COLS = ("id", "number", "revision", "title", "customer_id", "owner_id", "department_id", "status",
                 "signed_on", "start_on", "end_on", "tax_rate", "gross", "total", "amount_ex_tax", "tax",
                 "received", "written_off", "our_signatory_id", "custom", "submitted_at", "approved_at",
                 "completed_at", "voided_at", "void_reason", "created_by_id", "created_at", "updated_at")
PLAN_COLS = ("id", "contract_id", "customer_id", "owner_id", "period", "due_on", "amount", "received", "status",
             "custom", "created_by_id", "voided_at", "created_at", "updated_at")
PAYMENT_COLS = ("contract_id", "plan_id", "customer_id", "owner_id", "kind", "amount", "paid_on", "method",
                "write_off", "custom", "status", "recorded_by_id", "approved_by_id", "approved_at", "created_at",
                "updated_at")
COLUMNS = {"contracts": CONTRACT_COLS, "payment_plans": PLAN_COLS, "payments": PAYMENT_COLS}
TABLES = tuple(COLUMNS)

TOPICS = ("年度框架采购", "设备采购", "办公自动化项目", "仓储系统扩容", "二期工程配套", "生产线改造", "门店装修",
          "员工福利采购", "信息化建设", "售后服务续约", "原材料年度供货", "安防系统改造", "技术服务")
METHODS = ("transfer",) * 12 + ("wechat", "wechat", "alipay", "alipay", "cash", "other")
VOID_REASONS = ("客户取消采购", "金额有误，重新签订", "合同条款变更")

CTX: dict = {}


# --- the parent: reference rows and schema ----------------------------------------------------------
def bring_up_to_models(app) -> None:
    """An older bench database has `orders` and `payments` without the contract columns: add
    orders.contract_id, and recreate `payments` (empty in such a database) from the model; its
    roles get the permissions that arrived since."""
    from sqlalchemy import func, inspect, select, text

    from models import db
    from models.sales import Order, Payment

    with app.app_context():
        db.create_all()  # the contract, plan, invoice and approval tables
        found = inspect(db.engine)
        if "contract_id" not in {c["name"] for c in found.get_columns("orders")}:
            with db.engine.begin() as con:
                con.execute(text("ALTER TABLE orders ADD COLUMN contract_id INTEGER REFERENCES contracts (id)"))
                con.execute(text("CREATE INDEX ix_orders_contract_id ON orders (contract_id)"))
        if "contract_id" not in {c["name"] for c in found.get_columns("payments")}:
            if db.session.scalar(select(func.count(Payment.id))):
                raise SystemExit("payments has rows but no contract columns: run the migrations first (flask db upgrade)")
            db.session.remove()
            Payment.__table__.drop(db.engine)
            Payment.__table__.create(db.engine)
        assert Order.__table__ is not None
        # the roles get the permissions that arrived since (合同, 回款, 开票), as an upgrade does
        from rules import setup

        setup.ensure_default_roles(db.session)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def prepare(app) -> dict:
    from sqlalchemy import func, select

    from models import Customer, Role, User, db
    from models.contract import Contract

    with app.app_context():
        if db.session.scalar(select(func.count(Contract.id))):
            raise SystemExit("the database has contracts already: start from bench/generate.py's output")
        staff = db.session.execute(select(User.id, User.department_id, Role.name).join(Role, User.role_id == Role.id)
                                   .where(User.active.is_(True)).order_by(User.id)).all()
        reps = [(uid, dept) for uid, dept, role in staff if role == "业务员"]
        chiefs = {dept: uid for uid, dept, role in staff if role == "主管"}
        finance = [uid for uid, _d, role in staff if role in ("财务", "经理", "总经理")]
        if not reps:
            raise SystemExit("no 业务员 in the database: make it with bench/generate.py first")
        owned = db.session.execute(select(Customer.id, Customer.owner_id).where(
            Customer.owner_id.is_not(None), Customer.deleted_at.is_(None)).order_by(Customer.id)).all()
        result = {"reps": reps, "chiefs": chiefs, "rep_dept": {**dict(reps), **{u: d for d, u in chiefs.items()}},
                  "approvers": finance or [reps[0][0]],
                  "customer_ids": [c for c, _o in owned], "customer_owners": [o for _c, o in owned]}
        db.session.remove()
        db.engine.dispose()
    if not result["customer_ids"]:
        raise SystemExit("no owned customers to sign contracts with")
    return result


def check_columns() -> dict[str, list[tuple[str, object]]]:
    from models import db

    extras = {}
    for table_name, cols in COLUMNS.items():
        table = db.metadata.tables[table_name]
        unknown = set(cols) - set(table.c.keys())
        if unknown:
            raise SystemExit(f"{table_name}: loader out of date (columns {sorted(unknown)} are gone)")
        extras[table_name] = bulk.default_tails(table, cols)
    return extras


# --- the workers: one chunk of contracts with their instalments and receipts ---------------------
def _worker_init(ctx: dict) -> None:
    CTX.update(ctx)


def _formatters():
    """(a day, a moment (day, hour)) as the loader writes them: SQLite's text as SQLAlchemy stores
    it (a few thousand distinct days, so formatted once each), PostgreSQL's values."""
    if CTX["dialect"] == "sqlite":
        days: dict = {}

        def day(d):
            if d is None:
                return None
            text = days.get(d)
            if text is None:
                text = days[d] = d.isoformat()
            return text

        def moment(d, hour):
            return None if d is None else f"{day(d + timedelta(days=hour // 24))} {hour % 24:02d}:00:00.000000"
        return day, moment
    return (lambda d: d), (lambda d, hour: None if d is None else
                           datetime.combine(d + timedelta(days=hour // 24), clock_time(hour % 24)))


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def contract_chunk(task: tuple[int, int, int]) -> dict:
    chunk_no, first, count = task
    c = CTX
    n, scale_plans = c["contracts"], c["plans_per_contract"]
    rng = random.Random(f"{c['seed']}:finance:{chunk_no}")
    rand, randrange, choice = rng.random, rng.randrange, rng.choice
    dd, stamp = _formatters()
    customer_ids, customer_owners = c["customer_ids"], c["customer_owners"]
    chiefs, rep_dept, approvers = c["chiefs"], c["rep_dept"], c["approvers"]
    tails = {t: tuple(v for _n, v in c["extras"].get(t, [])) for t in TABLES}
    span = (TODAY - FIRST_SIGNED).days
    contracts, plans, payments = [], [], []
    plan_id = 1 + (first - 1) * scale_plans  # ids reserved per contract: stable whatever the chunking
    for j in range(first, first + count):
        cid = j
        signed = FIRST_SIGNED + timedelta(days=(j - 1) * span // n)
        age_share = (TODAY - signed).days / span
        k = randrange(len(customer_ids))
        customer, owner = customer_ids[k], customer_owners[k]
        dept = rep_dept.get(owner)
        if dept in chiefs and rand() < 0.05:
            owner = chiefs[dept]
        roll = rand()
        status = ("draft" if roll < 0.03 else "approving" if roll < 0.05 else "void" if roll < 0.10
                  else "completed" if rand() < 0.45 * age_share + 0.02 else "active")
        cents = int(round(10 ** (3.7 + 2.3 * rand()), -2)) * 100
        hour = randrange(1, 10)
        created = stamp(signed, hour)
        submitted = stamp(signed, hour + 1) if status != "draft" else None
        executed = status in ("active", "completed", "void")
        approved = stamp(signed, hour + randrange(2, 48)) if executed else None
        voided_on = signed + timedelta(days=randrange(3, 30)) if status == "void" else None
        voided = stamp(voided_on, 9)
        received = written_off = 0
        if executed:
            parts = choice((2, 3, 3, 4, 4, 4)) if scale_plans >= 4 else 1
            gap = choice((30, 30, 60, 90))
            base_part = cents // parts
            for period in range(1, parts + 1):
                amount = base_part if period < parts else cents - base_part * (parts - 1)
                due = signed + timedelta(days=gap * period)
                pid = plan_id + period - 1
                if status == "completed":
                    paid_share = 1.0
                elif status == "void":
                    paid_share = 0.0
                elif due <= TODAY:
                    r = rand()
                    paid_share = 1.0 if r < 0.75 else 0.3 + 0.5 * rand() if r < 0.85 else 0.0
                else:
                    paid_share = 1.0 if rand() < 0.10 else 0.0
                got = int(amount * paid_share)
                off = 0
                if paid_share == 1.0 and rand() < 0.02:
                    off = min(randrange(1, 10000), got // 10)  # ≤ ¥100 抹零
                    got -= off
                plan_received = 0
                if got:
                    pieces = [got] if rand() < 0.8 else [got // 2, got - got // 2]
                    for piece_no, piece in enumerate(pieces):
                        paid = min(due + timedelta(days=randrange(-20, 15)), TODAY)
                        paid = max(paid, signed)
                        pending = status == "active" and rand() < 0.04
                        rest = off if piece_no == len(pieces) - 1 else 0
                        at = randrange(1, 10)
                        payments.append((cid, pid, customer, owner, "receipt", _cents(piece), dd(paid),
                                         choice(METHODS), _cents(rest), "{}", "pending" if pending else "approved",
                                         owner, None if pending else choice(approvers),
                                         None if pending else stamp(paid, at + 2), stamp(paid, at), stamp(paid, at))
                                        + tails["payments"])
                        if not pending:
                            plan_received += piece + rest
                            received += piece
                            written_off += rest
                if status == "void":
                    plan_status = "void"
                elif plan_received >= amount:
                    plan_status = "paid"
                elif due < TODAY:
                    plan_status = "overdue"
                elif plan_received:
                    plan_status = "partial"
                else:
                    plan_status = "pending"
                plans.append((pid, cid, customer, owner, period, dd(due), _cents(amount), _cents(plan_received),
                              plan_status, "{}", owner, voided, created, created) + tails["payment_plans"])
        plan_id += scale_plans
        tax = cents - int(round(cents / 1.13))
        completed_at = stamp(min(signed + timedelta(days=randrange(60, 400)), TODAY), 9) if status == "completed" \
            else None
        end_on = signed + timedelta(days=choice((180, 365, 365, 730)))
        contracts.append((cid, f"HT{signed:%Y%m%d}{cid:07d}", 1, f"{signed.year}年{choice(TOPICS)}", customer, owner,
                          rep_dept.get(owner), status, dd(signed), dd(signed), dd(end_on), "0.1300", _cents(cents),
                          _cents(cents), _cents(cents - tax), _cents(tax), _cents(received), _cents(written_off),
                          owner, "{}", submitted, approved, completed_at, voided,
                          choice(VOID_REASONS) if voided else None, owner, created, approved or created)
                         + tails["contracts"])
    return {"contracts": contracts, "payment_plans": plans, "payments": payments}


def chunks_in_order(n: int, workers: int):
    tasks = [(k, 1 + k * CHUNK, min(CHUNK, n - k * CHUNK)) for k in range(math.ceil(n / CHUNK))]
    yield from bulk.chunks_in_order(contract_chunk, tasks, workers, _worker_init, CTX)


def all_columns() -> dict[str, tuple[str, ...]]:
    return {t: cols + tuple(name for name, _v in CTX["extras"].get(t, [])) for t, cols in COLUMNS.items()}


def load_sqlite(url: str, workers: int, timer: base.Timer) -> dict[str, int]:
    con = bulk.sqlite_bulk_connection(sqlite_path(url))
    indexes = bulk.sqlite_drop_indexes(con, TABLES)
    inserts = {t: f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
               for t, cols in all_columns().items()}
    timer.lap(f"dropped {len(indexes)} indexes")
    loaded = dict.fromkeys(TABLES, 0)
    try:
        con.execute("BEGIN")
        for chunk in chunks_in_order(CTX["contracts"], workers):
            for table in TABLES:
                con.executemany(inserts[table], chunk[table])
                loaded[table] += len(chunk[table])
            if loaded["contracts"] % 200_000 == 0 or loaded["contracts"] == CTX["contracts"]:
                con.execute("COMMIT")
                timer.lap(f"{loaded['contracts']:,} contracts, {loaded['payment_plans']:,} instalments, "
                          f"{loaded['payments']:,} receipts")
                con.execute("BEGIN")
        con.execute("COMMIT")
    finally:  # a failed load still leaves the tables with their indexes
        if con.in_transaction:
            con.execute("ROLLBACK")
        for _name, sql in indexes:
            con.execute(sql)
    timer.lap(f"recreated {len(indexes)} indexes")
    for table in TABLES:
        con.execute(f"ANALYZE {table}")
    timer.lap("ANALYZE")
    con.close()
    return loaded


def load_postgresql(url: str, workers: int, timer: base.Timer) -> dict[str, int]:
    import psycopg

    con = psycopg.connect(libpq_url(url), autocommit=False)
    cur = con.cursor()
    cur.execute("SET synchronous_commit = off")
    cur.execute("SET maintenance_work_mem = '1GB'")
    indexes, fkeys = bulk.pg_drop_indexes_and_keys(cur, TABLES)
    con.commit()
    timer.lap(f"dropped {len(indexes)} indexes and {len(fkeys)} foreign keys")
    copies = {t: f"COPY {t} ({', '.join(cols)}) FROM STDIN" for t, cols in all_columns().items()}
    loaded = dict.fromkeys(TABLES, 0)
    for chunk in chunks_in_order(CTX["contracts"], workers):
        for table in TABLES:
            with cur.copy(copies[table]) as copy:
                for row in chunk[table]:
                    copy.write_row(row)
            loaded[table] += len(chunk[table])
        if loaded["contracts"] % 200_000 == 0 or loaded["contracts"] == CTX["contracts"]:
            con.commit()
            timer.lap(f"{loaded['contracts']:,} contracts, {loaded['payment_plans']:,} instalments, "
                      f"{loaded['payments']:,} receipts")
    con.commit()
    bulk.pg_restore_indexes_and_keys(con, indexes, fkeys, timer.lap)
    for table in TABLES:  # explicit ids were given: move the sequences on
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT greatest(max(id), 1) FROM {table}))")
    con.commit()
    con.autocommit = True
    cur.execute(f"VACUUM ANALYZE {', '.join(TABLES)}")  # index-only scans need the visibility map
    timer.lap("VACUUM ANALYZE")
    con.close()
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of a database bench/generate.py made")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1.0 = 1,000,000 contracts (≈3.3M instalments, ≈3M receipts); 0.1 = a tenth")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes generating rows (default: min(2, cores))")
    args = parser.parse_args()
    url = normalise_url(args.url)
    if url.startswith("sqlite:///") and not Path(sqlite_path(url)).exists():
        raise SystemExit(f"{url}: no such database; make it with bench/generate.py")
    contracts = max(1, int(1_000_000 * args.scale))
    timer = base.Timer()
    print(f"Adding {contracts:,} contracts with their instalments and receipts to {url} "
          f"(seed {args.seed}, {args.workers} workers)")
    app = make_app(url)
    bring_up_to_models(app)
    ref = prepare(app)
    with app.app_context():
        extras = check_columns()
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    CTX.update(ref, dialect=dialect, seed=args.seed, contracts=contracts, plans_per_contract=4, extras=extras)
    timer.lap(f"schema checked, {len(ref['customer_ids']):,} owned customers read")
    loaded = (load_sqlite if dialect == "sqlite" else load_postgresql)(url, args.workers, timer)
    print(f"Done in {time.perf_counter() - timer.start:.0f} s: {loaded['contracts']:,} contracts, "
          f"{loaded['payment_plans']:,} instalments, {loaded['payments']:,} receipts.")


if __name__ == "__main__":
    main()
