"""The 手机归属地 upgrade (migration 008ebd44912f) at scale: its backfill of customers.mobile_province
and mobile_city, timed on a database bench/generate.py made (the columns are emptied and the index
dropped first, as before the upgrade; then the migration's own `backfill` runs and the index is
built, in one transaction as in the upgrade).

    .venv/bin/python bench/mobile_region_backfill.py --url sqlite:////tmp/m1m/kechi-1m-copy.db

It rewrites the database's 归属地 columns: run it on a copy.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _migration():
    [path] = (ROOT / "migrations" / "versions").glob("008ebd44912f_*.py")
    spec = importlib.util.spec_from_file_location("mobile_region_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    args = parser.parse_args()
    engine = sa.create_engine(args.url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE customers SET mobile_province = NULL, mobile_city = NULL"))
        conn.execute(sa.text("DROP INDEX IF EXISTS ix_customers_mobile_province"))
        total = conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one()
    started = time.perf_counter()
    with engine.begin() as conn:
        filled = _migration().backfill(conn)
        backfilled = time.perf_counter() - started
        conn.execute(sa.text("CREATE INDEX ix_customers_mobile_province ON customers (mobile_province)"))
    print(f"{engine.dialect.name}: {total:,} customers, {filled:,} filled in {backfilled:.1f} s; "
          f"{time.perf_counter() - started:.1f} s with the index")


if __name__ == "__main__":
    main()
