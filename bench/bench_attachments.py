"""附件 at scale: N attachment rows (metadata only; no bytes are written) on the customers of 20
salespeople in 4 departments, timed against the bare SQL doing the same work:

  记录附件   rules.attachments.for_record on one customer the reader sees (live files, newest first)
  全部附件   the scoped list of every attachment the reader may see (scope.attachment_clause), newest
             first, first 50: what the document centre's 客户附件 tab shows
as a 业务员 (sales01, scope 本人), a 主管 (lead1, 本部门) and the 总经理 (gm, 全部). The bare SQL is the
same answer written by hand: the record's rows by (entity, record_id); for the list, attachments of
customers whose owner is in the reader's scope, joined and ordered by upload time.

    .venv/bin/python bench/bench_attachments.py --url sqlite:////tmp/kechi-att-bench.db --rows 1000000
    URL=$(bash bench/pg_server.sh start)
    .venv/bin/python bench/bench_attachments.py --url "$URL" --rows 1000000

The database is created from scratch (tables dropped first): never point it at a shared one. Use
--keep to time an existing bench database again without regenerating it. Figures: median and p95
(nearest rank) over --repeat runs after 3 warm-ups, in ms; ratio = median ÷ bare median.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_reports import p95  # noqa: E402
from common import make_app, normalise_url  # noqa: E402

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
CUSTOMERS_PER_ATTACHMENT = 5
CHUNK = 20_000
PAGE = 50


def generate(rows: int) -> None:
    """Staff, rows ÷ 5 customers and `rows` attachments (a few deleted), bulk-inserted."""
    from sqlalchemy import insert

    from models import Customer, Role, db
    from models.attachment import Attachment
    from rules import org, setup

    db.drop_all()
    db.create_all()
    setup.ensure_defaults(db.session)
    roles = {role.name: role for role in db.session.scalars(db.select(Role))}
    org.create_user(db.session, username="gm", password="bench-123", display_name="总经理",
                         role=roles["系统管理员"], department=org.ensure_department_path(db.session, ["总经办"]))
    sales = []
    for team in range(4):
        department = org.ensure_department_path(db.session, ["销售部", f"销售{team + 1}部"])
        lead = org.create_user(db.session, username=f"lead{team + 1}", password="bench-123",
                               display_name=f"主管{team + 1}", role=roles["主管"], department=department)
        for n in range(5):
            number = team * 5 + n + 1
            sales.append(org.create_user(db.session, username=f"sales{number:02d}", password="bench-123",
                                         display_name=f"业务员{number:02d}", role=roles["业务员"],
                                         department=department, superior=lead))
    db.session.commit()
    rng = random.Random(20)
    customers = max(1, rows // CUSTOMERS_PER_ATTACHMENT)
    started = time.perf_counter()
    for start in range(0, customers, CHUNK):
        batch = []
        for i in range(start, min(customers, start + CHUNK)):
            owner = sales[i % len(sales)]
            batch.append({"name": f"客户{i:07d}有限公司", "kind": "company", "owner_id": owner.id,
                          "department_id": owner.department_id, "mnemonic": f"kh{i}", "custom": {},
                          "created_at": NOW - timedelta(days=i % 900), "updated_at": NOW})
        db.session.execute(insert(Customer), batch)
        db.session.commit()
    print(f"{customers:,} customers in {time.perf_counter() - started:.0f} s", flush=True)
    uploader = {s.id: s.id for s in sales}
    kinds = [("pdf", "application/pdf", "合同扫描件.pdf"), ("image", "image/jpeg", "现场照片.jpg"),
             ("word", "application/msword", "报价说明.doc"), ("excel", "application/vnd.ms-excel", "清单.xls")]
    started = time.perf_counter()
    for start in range(0, rows, CHUNK):
        batch = []
        for i in range(start, min(rows, start + CHUNK)):
            customer_id = rng.randrange(customers) + 1
            owner_id = sales[(customer_id - 1) % len(sales)].id
            kind, mime, name = kinds[i % len(kinds)]
            uploaded = NOW - timedelta(minutes=rows - i)
            batch.append({"entity": "customer", "record_id": customer_id, "file_name": name,
                          "storage_key": f"2026/11/{i:032x}", "size": 100_000 + i % 900_000, "mime": mime,
                          "file_kind": kind, "sha256": f"{i:064x}", "thumb_key": None, "note": None,
                          "uploaded_by_id": uploader[owner_id], "uploaded_at": uploaded,
                          "deleted_at": uploaded if i % 50 == 0 else None,
                          "deleted_by_id": owner_id if i % 50 == 0 else None})
        db.session.execute(insert(Attachment), batch)
        db.session.commit()
    print(f"{rows:,} attachments in {time.perf_counter() - started:.0f} s", flush=True)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")


def timed(fn, repeat: int) -> list[float]:
    for _ in range(3):
        fn()
    laps = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        laps.append((time.perf_counter() - started) * 1000)
    return laps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="time the existing bench database")
    args = parser.parse_args()
    url = normalise_url(args.url)
    app = make_app(url)
    with app.app_context():
        from sqlalchemy import select, text

        from models import Customer, User, db
        from models.attachment import Attachment
        from rules import attachments, clock, scope
        from rules.actor import Actor

        clock.pin(NOW)
        if not args.keep:
            generate(args.rows)
        total = db.session.scalar(select(db.func.count()).select_from(Attachment))
        print(f"{db.engine.dialect.name}: {total:,} attachments")
        rng = random.Random(7)
        print("| 用户 | 场景 | median | p95 | bare median | bare p95 | ratio |")
        print("|---|---|--:|--:|--:|--:|--:|")
        for username in ("sales01", "lead1", "gm"):
            user = db.session.scalar(select(User).where(User.username == username))
            actor = Actor.from_user(user, today=TODAY, has_shares=False)
            staff = [user.id] if username == "sales01" else (
                list(db.session.scalars(select(User.id).where(User.department_id == user.department_id)))
                if username.startswith("lead") else None)
            seen = select(Customer.id).where(scope.customer_clause(actor)).limit(5000)
            ids = list(db.session.scalars(seen))
            picks = [rng.choice(ids) for _ in range(args.repeat + 3)]

            def record_rule() -> None:
                attachments.for_record(db.session, "customer", picks[rng.randrange(len(picks))], actor)
                db.session.rollback()

            raw = db.engine.raw_connection()  # its own connection: the session's goes back to the pool
            placeholder = "?" if db.engine.dialect.name == "sqlite" else "%s"

            def record_bare() -> None:
                cursor = raw.cursor()
                cursor.execute("SELECT a.*, u.display_name FROM attachments a JOIN users u ON u.id = a.uploaded_by_id "
                               f"WHERE a.entity = 'customer' AND a.record_id = {placeholder} AND a.deleted_at IS NULL "
                               "ORDER BY a.uploaded_at DESC, a.id DESC", (picks[rng.randrange(len(picks))],))
                cursor.fetchall()
                raw.rollback()

            def list_rule() -> None:
                list(db.session.scalars(select(Attachment).where(Attachment.deleted_at.is_(None),
                                                                 scope.attachment_clause(actor))
                                        .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc()).limit(PAGE)))
                db.session.rollback()

            owners = "" if staff is None else f" AND c.owner_id IN ({', '.join(str(i) for i in staff)})"

            def list_bare() -> None:
                cursor = raw.cursor()
                cursor.execute("SELECT a.* FROM attachments a JOIN customers c ON c.id = a.record_id "
                               f"WHERE a.entity = 'customer' AND a.deleted_at IS NULL AND c.deleted_at IS NULL{owners} "
                               f"ORDER BY a.uploaded_at DESC, a.id DESC LIMIT {PAGE}")
                cursor.fetchall()
                raw.rollback()

            for label, rule, bare in (("记录附件", record_rule, record_bare), ("全部附件", list_rule, list_bare)):
                laps, bare_laps = timed(rule, args.repeat), timed(bare, args.repeat)
                print(f"| {username} | {label} | {statistics.median(laps):.1f} | {p95(laps):.1f} | "
                      f"{statistics.median(bare_laps):.1f} | {p95(bare_laps):.1f} | "
                      f"{statistics.median(laps) / max(statistics.median(bare_laps), 0.01):.1f}× |", flush=True)
            raw.close()
        db.session.execute(text("SELECT 1"))


if __name__ == "__main__":
    main()
