"""Excel import and export at scale, against the bare library calls doing the same work.

    # a 100,000-row sheet: 15 columns of Chinese text, 5% duplicates (half of an existing
    # customer, half within the file), 2% bad rows (no name, or a malformed mobile)
    .venv/bin/python bench/bench_excel.py sheet --url sqlite:////tmp/bench/kechi-1m-copy.db --rows 100000 \
        --out /tmp/bench/import-100k.xlsx
    # import it end to end (the job function the import page enqueues) vs. parsing it with calamine,
    # and vs. the bare driver writing the same rows into a second copy (the raw-SQL floor)
    .venv/bin/python bench/bench_excel.py import --url sqlite:////tmp/bench/kechi-1m-copy.db \
        --sheet /tmp/bench/import-100k.xlsx --floor-url sqlite:////tmp/bench/kechi-1m-copy2.db
    # export 100,000 customers (the export job) vs. a bare openpyxl write-only loop over the same rows
    .venv/bin/python bench/bench_excel.py export --url sqlite:////tmp/bench/kechi-1m-copy.db --rows 100000

    # everything an import wrote (customers above an id, their contacts, duplicate keys, search
    # rows and FTS answers, events, the job's counts and row issues), to compare two runs
    .venv/bin/python bench/bench_excel.py digest --url sqlite:////tmp/bench/kechi-1m-copy.db --after-id 1000000 \
        --out /tmp/bench/import-digest.txt

The import WRITES to the database: run it on a copy (sqlite3 SRC ".backup DST"), never on the
shared generated database. Each phase runs in its own process and reports its peak memory (max RSS).
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import GM_USERNAME, make_app, normalise_url, run_import_job  # noqa: E402

HEADER = ["客户名称", "客户类型", "联系人", "联系人职务", "手机", "电话", "邮箱", "QQ", "省份", "城市", "地址",
          "客户分类", "客户来源", "所属行业", "备注"]
CITIES = [("浙江", "杭州市", "西湖区文三路"), ("广东省", "深圳市", "南山区科技园"), ("北京", "北京市", "朝阳区建国路"),
          ("江苏省", "南京市", "鼓楼区中山路"), ("上海", "上海市", "浦东新区世纪大道"), ("四川省", "成都市", "武侯区天府大道")]
WORDS = "华信达通恒泰鑫源宏盛瑞祥博创新智联天安明德利丰隆兴海金嘉和益凯旭东方中正永昌远航汇鼎晟佳美康优云腾飞星辰"
TRADES = ["科技", "贸易", "机械", "建材", "电子", "物流", "食品", "医疗器械", "文化传媒", "环保"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_sheet(url: str, rows: int, out: str, seed: int = 7) -> None:
    from openpyxl import Workbook
    from sqlalchemy import create_engine, text

    rng = random.Random(seed)
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        existing = [r[0] for r in conn.execute(text(
            "SELECT name FROM customers WHERE deleted_at IS NULL ORDER BY id LIMIT 20000"))]
        dicts = {k: [r[0] for r in conn.execute(text("SELECT name FROM dict_items WHERE kind = :k"), {"k": k})]
                 for k in ("category", "source", "industry")}
    engine.dispose()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户资料")
    ws.append(["客户资料导入（基准测试）"])
    ws.append(HEADER)
    made: list[list] = []
    stamp = int(time.time()) % 100000
    for i in range(rows):
        roll = rng.random()
        if roll < 0.025 and existing:  # an existing customer again
            name = rng.choice(existing)
        elif roll < 0.05 and made:  # the same customer twice in the file
            ws.append(list(rng.choice(made)))
            continue
        else:
            name = (f"{rng.choice(CITIES)[1][:2]}{''.join(rng.sample(WORDS, 3))}{rng.choice(TRADES)}"
                    f"有限公司{stamp:05d}{i:06d}")
        province, city, street = rng.choice(CITIES)
        mobile: object = int(f"13{stamp % 10}{i:08d}")
        if rng.random() < 0.3:
            mobile = float(mobile)  # as Excel stores a number
        row = [name, "企业", rng.choice(SURNAMES) + rng.choice(WORDS) + rng.choice(WORDS), "采购经理", mobile,
               f"0571-8{rng.randint(1000000, 9999999)}", f"c{stamp}{i}@example.com", str(rng.randint(100000, 99999999)),
               province, city, f"{street}{rng.randint(1, 999)}号", rng.choice(dicts["category"]),
               rng.choice(dicts["source"]), rng.choice(dicts["industry"]), "从旧系统导出的客户资料，请核对联系人"]
        bad = rng.random()
        if bad < 0.01:
            row[0] = None  # no name
        elif bad < 0.02:
            row[4] = "138001"  # a malformed mobile
        made.append(row)
        ws.append(row)
    wb.save(out)
    print(json.dumps({"sheet": out, "rows": rows, "existing_pool": len(existing)}))


def bare_parse(sheet: str) -> None:
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    with CalamineWorkbook.from_path(sheet) as wb:
        rows = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
    seconds = time.perf_counter() - started
    print(json.dumps({"phase": "bare_parse", "rows": len(rows) - 2, "seconds": round(seconds, 2),
                      "peak_mb": round(peak_mb())}))


def run_import(url: str, sheet: str, batch: int) -> None:
    from sqlalchemy import func, select, text

    from models import Customer, User, db

    app = make_app(normalise_url(url), IMPORT_BATCH_SIZE=batch)
    with app.app_context():
        db.create_all()  # the job tables, if the database was generated before they existed
        if db.engine.dialect.name == "sqlite":  # what migration f3a5c7e9b1d2 sets, if generated before it
            db.session.execute(text("INSERT INTO customer_fts(customer_fts, rank) VALUES ('automerge', 16)"))
            db.session.commit()
        user = db.session.scalar(select(User).where(User.username == GM_USERNAME))
        before = db.session.scalar(select(func.count(Customer.id)))
        job, seconds = run_import_job(user.id, sheet, entity="customer", options={"on_duplicate": "skip"})
        after = db.session.scalar(select(func.count(Customer.id)))
        print(json.dumps({"phase": "import", "rows": job.total, "seconds": round(seconds, 2),
                          "rows_per_second": round(job.total / seconds), "imported": job.imported,
                          "skipped": job.skipped, "rejected": job.rejected, "customers_before": before,
                          "customers_after": after, "mapping": job.params["mapping"], "status": job.status, "error": job.error,
                          "peak_mb": round(peak_mb())}))


def _export_ids(rows: int) -> list[int]:
    from sqlalchemy import select

    from models import Customer, db

    return list(db.session.scalars(select(Customer.id).where(Customer.deleted_at.is_(None))
                                   .order_by(Customer.id.desc()).limit(rows)))


def run_export(url: str, rows: int) -> None:
    from sqlalchemy import select

    from jobs import excel as excel_jobs
    from models import User, db
    from models.job import JobRecord
    from rules import exporting

    app = make_app(normalise_url(url))
    with app.app_context():
        db.create_all()  # the job tables, if the database was generated before they existed
        user = db.session.scalar(select(User).where(User.username == GM_USERNAME))
        ids = _export_ids(rows)
        name = excel_jobs.new_file_name("exports", ".ids")
        excel_jobs.stored_path(name).write_text("\n".join(map(str, ids)))
        columns = [c.key for c in exporting.customer_columns(db.session)]
        job = JobRecord(kind="export_customer", status="queued", user_id=user.id, file_path=name,
                        params={"columns": columns})
        db.session.add(job)
        db.session.commit()
        started = time.perf_counter()
        excel_jobs.export_now(job.id)
        seconds = time.perf_counter() - started
        job = db.session.get(JobRecord, job.id)
        size = excel_jobs.stored_path(job.result_path).stat().st_size
        print(json.dumps({"phase": "export", "rows": job.done, "columns": len(columns),
                          "seconds": round(seconds, 2), "file_mb": round(size / 1048576, 1),
                          "peak_mb": round(peak_mb())}))


def bare_export(url: str, rows: int) -> None:
    """The same rows and columns (one SELECT with the same joins, values as plain tuples)
    written by a bare openpyxl write-only loop."""
    from openpyxl import Workbook
    from sqlalchemy import text

    from models import db

    app = make_app(normalise_url(url))
    with app.app_context():
        ids = _export_ids(rows)
        sql = text(
            "SELECT c.name, c.code, c.kind, p.name, p.position, p.mobile, c.mobile, c.phone, c.fax, c.email, c.qq, "
            "c.wechat, c.website, c.province, c.city, c.district, c.address, c.zip_code, d1.name, d2.name, d3.name, "
            "d4.name, d5.name, d6.name, c.legal_representative, c.registered_capital, c.gender, c.birthday, c.notes, "
            "u.display_name, dep.name, c.created_at, c.last_follow_up_at, c.next_contact_at, c.custom "
            "FROM customers c LEFT JOIN contacts p ON p.customer_id = c.id AND p.is_primary "
            "LEFT JOIN dict_items d1 ON d1.id = c.category_id LEFT JOIN dict_items d2 ON d2.id = c.source_id "
            "LEFT JOIN dict_items d3 ON d3.id = c.industry_id LEFT JOIN dict_items d4 ON d4.id = c.value_level_id "
            "LEFT JOIN dict_items d5 ON d5.id = c.stage_id LEFT JOIN dict_items d6 ON d6.id = c.credit_rating_id "
            "LEFT JOIN users u ON u.id = c.owner_id LEFT JOIN departments dep ON dep.id = c.department_id "
            "WHERE c.id >= :low ORDER BY c.id DESC")
        started = time.perf_counter()
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("客户")
        ws.append([f"c{i}" for i in range(35)])
        count = 0
        with db.engine.connect() as conn:
            for row in conn.execution_options(stream_results=True, yield_per=2000).execute(sql, {"low": min(ids)}):
                ws.append([str(v) if isinstance(v, (dict, list)) else v for v in row])
                count += 1
        out = Path("/tmp/bench/bare-export.xlsx")
        wb.save(str(out))
        seconds = time.perf_counter() - started
        print(json.dumps({"phase": "bare_export", "rows": count, "seconds": round(seconds, 2),
                          "peak_mb": round(peak_mb())}))


DIGEST_QUERIES = {
    "customers": "SELECT * FROM customers WHERE id > :after ORDER BY id",
    "contacts": "SELECT * FROM contacts WHERE customer_id > :after ORDER BY id",
    "keys": "SELECT customer_id, field, value FROM customer_keys WHERE customer_id > :after "
            "ORDER BY customer_id, field, value",
    "search": "SELECT customer_id, body, tokens FROM customer_search WHERE customer_id > :after ORDER BY customer_id",
    "events": "SELECT * FROM ownership_events WHERE customer_id > :after ORDER BY id",
    "jobs": "SELECT kind, status, total, done, imported, updated, skipped, rejected, error FROM job_records ORDER BY id",
    "issues": 'SELECT row_no, outcome, "values", reason FROM job_row_issues ORDER BY job_id, row_no',
    "sequences": "SELECT name, period, value FROM sequences ORDER BY name, period",
}


def digest(url: str, after_id: int, out: str) -> None:
    """Write every row an import wrote (timestamps as "T": they differ between runs) to `out`
    and print a count and hash per table; on SQLite also what the FTS index answers for tokens of
    the new rows. Two runs of the same sheet on copies of the same database must print the same."""
    import datetime
    import hashlib

    from sqlalchemy import create_engine, text

    def plain(value: object) -> object:
        if isinstance(value, datetime.datetime) or (
                isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[13] == ":"):
            return "T"
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
        if isinstance(value, bool):
            return int(value)
        return value if value is None or isinstance(value, (int, str)) else str(value)

    engine = create_engine(normalise_url(url))
    summary: dict[str, list] = {}
    with engine.connect() as conn, open(out, "w") as handle:
        for name, sql in DIGEST_QUERIES.items():
            hashed, count = hashlib.sha256(), 0
            for row in conn.execute(text(sql), {"after": after_id}):
                line = json.dumps([plain(v) for v in row], ensure_ascii=False, default=str)
                handle.write(f"{name}\t{line}\n")
                hashed.update(line.encode())
                count += 1
            summary[name] = [count, hashed.hexdigest()[:16]]
        if engine.dialect.name == "sqlite":
            tokens = sorted({t for (ts,) in conn.execute(text(
                "SELECT tokens FROM customer_search WHERE customer_id > :after ORDER BY customer_id LIMIT 400"),
                {"after": after_id}) for t in ts.split()[:3]})[:300]
            hashed, count = hashlib.sha256(), 0
            for token in tokens:
                ids = [r[0] for r in conn.execute(text(
                    "SELECT rowid FROM customer_fts WHERE customer_fts MATCH :q AND rowid > :after ORDER BY rowid"),
                    {"q": '"' + token + '"', "after": after_id})]
                hashed.update(f"{token}:{','.join(map(str, ids))}".encode())
                count += len(ids)
            summary["fts"] = [count, hashed.hexdigest()[:16]]
    engine.dispose()
    print(json.dumps(summary))


def raw_floor(source_url: str, url: str, after_id: int, file_rows: int, batch: int) -> None:
    """The same writes with the bare driver: read what an import wrote into `source_url` (customers
    above `after_id`, their contacts, duplicate keys, search rows and events) and insert it into
    `url`, a second copy of the database as it was before the import, in as many transactions as
    the import committed. Each transaction also runs the import's batch duplicate look-up for its
    rows' keys and moves a job mark, as the import does. No parsing, no checks, no ORM."""
    from common import libpq_url

    source_url, url = normalise_url(source_url), normalise_url(url)
    postgres = url.startswith("postgresql")
    if postgres:
        import psycopg

        def connect(u: str):
            return psycopg.connect(libpq_url(u))
        mark = "%s"
    else:
        import sqlite3

        def connect(u: str):
            return sqlite3.connect(u.removeprefix("sqlite:///"), isolation_level=None)
        mark = "?"

    def table(conn, sql: str) -> tuple[list[str], list[tuple]]:
        cur = conn.execute(sql, (after_id,))
        return [c[0] for c in cur.description], cur.fetchall()

    src = connect(source_url)
    json_columns: set[tuple[str, str]] = set()
    if postgres:
        json_columns = {tuple(r) for r in src.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type IN ('json', 'jsonb')")}

    def select_all(name: str, where: str) -> tuple[list[str], list[tuple]]:
        cols = [r[0] for r in (src.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            (name,)) if postgres else src.execute(f"SELECT name FROM pragma_table_info('{name}')"))]
        exprs = [f"{c}::text" if (name, c) in json_columns else c for c in cols if c != "id"]
        return cols, src.execute(f"SELECT {', '.join(exprs)} FROM {name} WHERE {where} ORDER BY id",
                                 (after_id,)).fetchall()

    customers = select_all("customers", f"id > {mark}")
    contacts = select_all("contacts", f"customer_id > {mark}")
    events = select_all("ownership_events", f"customer_id > {mark} AND reason = 'import'")
    _c, ids = table(src, f"SELECT id FROM customers WHERE id > {mark} ORDER BY id")
    _c, keys = table(src, f"SELECT customer_id, field, value FROM customer_keys WHERE customer_id > {mark}")
    _c, search = table(src, f"SELECT customer_id, body, tokens FROM customer_search WHERE customer_id > {mark}")
    src.close()

    def insert_sql(name: str, cols: list[str]) -> str:
        cols = [c for c in cols if c != "id"]
        marks = [f"{mark}::json" if (name, c) in json_columns else mark for c in cols]
        return f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join(marks)})"

    old_ids = [r[0] for r in ids]
    code_at = [c for c in customers[0] if c != "id"].index("code")
    cid_at = {name: [c for c in cols if c != "id"].index("customer_id")
              for name, (cols, _rows) in (("contacts", contacts), ("ownership_events", events))}
    by_customer: dict[str, dict[int, list]] = {"contacts": {}, "ownership_events": {}, "keys": {}, "search": {}}
    for name, (_cols, rows) in (("contacts", contacts), ("ownership_events", events)):
        for row in rows:
            by_customer[name].setdefault(row[cid_at[name]], []).append(row)
    for row in keys:
        by_customer["keys"].setdefault(row[0], []).append(row)
    for row in search:
        by_customer["search"].setdefault(row[0], []).append(row)

    dst = connect(url)
    if not postgres:
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000", "synchronous=NORMAL"):
            dst.execute("PRAGMA " + pragma)
        dst.execute("INSERT INTO customer_fts(customer_fts, rank) VALUES ('automerge', 16)")
    transactions = -(-file_rows // batch)
    size = -(-len(old_ids) // transactions)
    steps: dict[str, float] = {}

    def timed(step: str, started: float) -> None:
        steps[step] = steps.get(step, 0.0) + time.perf_counter() - started

    started = time.perf_counter()
    for begin in range(0, len(old_ids), size):
        chunk = customers[1][begin:begin + size]
        olds = old_ids[begin:begin + size]
        if postgres:  # psycopg opens the transaction itself
            dst.execute("SET LOCAL synchronous_commit TO OFF")
        else:
            dst.execute("BEGIN")
        t = time.perf_counter()
        wanted = [(f, v) for old in olds for _c, f, v in by_customer["keys"].get(old, [])]
        lookup = ("SELECT k.field, k.value, c.id, c.name, c.code, c.protected_until, c.owner_id "
                  "FROM customer_keys k JOIN customers c ON c.id = k.customer_id WHERE c.deleted_at IS NULL AND ")
        if postgres:
            dst.execute(lookup.replace("FROM customer_keys k", "FROM unnest(%s::text[], %s::text[]) AS w(field, value) "
                                       "JOIN customer_keys k ON k.field = w.field AND k.value = w.value")
                        + "TRUE ORDER BY c.id", ([f for f, _v in wanted], [v for _f, v in wanted])).fetchall()
        else:
            by_field: dict[str, list[str]] = {}
            for f, v in wanted:
                by_field.setdefault(f, []).append(v)
            where = " OR ".join(f"(k.field = ? AND k.value IN ({', '.join('?' * len(vs))}))" for vs in by_field.values())
            dst.execute(lookup + f"({where}) ORDER BY c.id",
                        [x for f, vs in by_field.items() for x in (f, *vs)]).fetchall()
        timed("look-up", t)
        t = time.perf_counter()
        cur = dst.cursor()
        cur.executemany(insert_sql("customers", customers[0]), chunk)
        codes = [r[code_at] for r in chunk]
        new_ids = dict(dst.execute(f"SELECT code, id FROM customers WHERE code IN ({', '.join([mark] * len(codes))})",
                                   codes).fetchall())
        mapping = {old: new_ids[row[code_at]] for old, row in zip(olds, chunk)}
        timed("customers", t)
        for name, cols in (("contacts", contacts[0]), ("ownership_events", events[0])):
            at = cid_at[name]
            rows = [(*r[:at], mapping[old], *r[at + 1:]) for old in olds for r in by_customer[name].get(old, [])]
            t = time.perf_counter()
            if rows:
                cur.executemany(insert_sql(name, cols), rows)
            timed(name, t)
        for name, cols in (("keys", ("customer_id", "field", "value")), ("search", ("customer_id", "body", "tokens"))):
            rows = [(mapping[old], *r[1:]) for old in olds for r in by_customer[name].get(old, [])]
            table_name = "customer_keys" if name == "keys" else "customer_search"
            t = time.perf_counter()
            if rows:
                cur.executemany(f"INSERT INTO {table_name} ({', '.join(cols)}) VALUES ({', '.join([mark] * 3)})", rows)
            timed(table_name, t)
        dst.execute(f"UPDATE sequences SET value = value + {mark} WHERE name = 'bench-floor'", (len(chunk),))
        t = time.perf_counter()
        dst.execute("COMMIT") if not postgres else dst.commit()
        timed("commit", t)
    seconds = time.perf_counter() - started
    dst.close()
    print(json.dumps({"phase": "raw_floor", "customers": len(old_ids), "transactions": transactions,
                      "seconds": round(seconds, 2), "steps": {k: round(v, 2) for k, v in steps.items()},
                      "peak_mb": round(peak_mb())}))


def phase(*args: str) -> dict:
    """Run one phase in a fresh process (its own peak memory) and return its JSON line."""
    result = subprocess.run([sys.executable, __file__, "_phase", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-4000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["sheet", "import", "export", "digest", "_phase"])
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--url")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", default="/tmp/bench/import-100k.xlsx")
    parser.add_argument("--sheet", default="/tmp/bench/import-100k.xlsx")
    parser.add_argument("--batch", type=int, default=None, help="rows per transaction (default: the app's "
                                                                 "IMPORT_BATCH_SIZE, config.py)")
    parser.add_argument("--after-id", type=int, default=1_000_000, help="digest: rows of customers above this id")
    parser.add_argument("--floor-url", help="import: a second copy of the database as it was before the import, "
                                             "into which the bare driver writes the same rows (the raw-SQL floor)")
    args = parser.parse_args()
    if args.command == "digest":
        digest(args.url, args.after_id, args.out)
        return
    if args.command == "_phase":
        name, *rest = args.rest
        {"bare_parse": lambda: bare_parse(rest[0]),
         "import": lambda: run_import(rest[0], rest[1], int(rest[2])),
         "export": lambda: run_export(rest[0], int(rest[1])),
         "bare_export": lambda: bare_export(rest[0], int(rest[1])),
         "raw_floor": lambda: raw_floor(rest[0], rest[1], int(rest[2]), int(rest[3]), int(rest[4]))}[name]()
        return
    if args.command == "sheet":
        make_sheet(args.url, args.rows, args.out)
        return
    if args.command == "import":
        if args.batch is None:
            from config import Config

            args.batch = Config.IMPORT_BATCH_SIZE
        bare = phase("bare_parse", args.sheet)
        full = phase("import", args.url, args.sheet, str(args.batch))
        print(json.dumps(bare, ensure_ascii=False))
        print(json.dumps(full, ensure_ascii=False))
        print(f"import: {full['rows_per_second']} rows/s end to end; {full['seconds'] / bare['seconds']:.1f}× "
              f"bare calamine parsing ({bare['seconds']} s); peak {full['peak_mb']} MB")
        if args.floor_url:
            floor = phase("raw_floor", args.url, args.floor_url, str(args.after_id), str(full["rows"]), str(args.batch))
            print(json.dumps(floor, ensure_ascii=False))
            print(f"raw floor: the same {floor['customers']} customers written by the bare driver in "
                  f"{floor['transactions']} transactions: {floor['seconds']} s "
                  f"(= {round(full['rows'] / floor['seconds'])} sheet rows/s at most); the import takes "
                  f"{full['seconds'] / floor['seconds']:.2f}× that, or {full['seconds'] / (bare['seconds'] + floor['seconds']):.2f}× "
                  "bare parsing plus bare writing")
        return
    bare = phase("bare_export", args.url, str(args.rows))
    full = phase("export", args.url, str(args.rows))
    print(json.dumps(bare, ensure_ascii=False))
    print(json.dumps(full, ensure_ascii=False))
    print(f"export: {full['rows']} rows in {full['seconds']} s; {full['seconds'] / bare['seconds']:.2f}× a bare "
          f"openpyxl write-only loop ({bare['seconds']} s); peak {full['peak_mb']} MB (bare {bare['peak_mb']} MB)")


if __name__ == "__main__":
    main()
