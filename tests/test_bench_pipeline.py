"""bench/generate_pipeline.py at a small N on both databases: on top of what bench/generate.py
made, the leads and opportunities are all there, in the mix the bench claims, with every foreign
key pointing at a row, and the app can go on adding rows (its id sequences moved past them)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from conftest import PG_URL, need_service
from models import db

ROOT = Path(__file__).resolve().parent.parent
PIPELINE_TABLES = ("leads", "lead_events", "lead_follow_ups", "lead_keys", "opportunities", "opportunity_lines",
                   "opportunity_events", "opportunity_collaborators", "opportunity_parties")


def _run(script: str, *args: str, tmp_path: Path) -> str:
    env = dict(os.environ, KECHI_INSTANCE_DIR=str(tmp_path / "instance"))
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True,
                          env=env, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(params=["sqlite", "postgresql"])
def bench_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bench.db'}"
        return
    base = make_url(need_service(PG_URL, "PostgreSQL"))
    name = f"{base.database}_bench"
    server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with server.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server.dispose()


def test_pipeline_generator_fills_a_small_database(bench_url, tmp_path):
    _run("generate.py", "--url", bench_url, "--customers", "400", "--workers", "1", tmp_path=tmp_path)
    out = _run("generate_pipeline.py", "--url", bench_url, "--leads", "600", "--opportunities", "500",
               "--workers", "1", tmp_path=tmp_path)
    assert "Done in" in out
    engine = create_engine(bench_url, poolclass=NullPool)
    with engine.connect() as conn:
        def count(sql: str) -> int:
            return conn.scalar(text(sql))

        assert count("SELECT count(*) FROM leads") == 600
        assert count("SELECT count(*) FROM opportunities") == 500
        for table in PIPELINE_TABLES[1:]:
            assert count(f"SELECT count(*) FROM {table}") > 0, table
        # the mix: 40% of leads in the lead pool, every status among the owned ones
        pooled = count("SELECT count(*) FROM leads l JOIN pools p ON p.id = l.pool_id "
                       "WHERE l.owner_id IS NULL AND p.kind = 'lead'")
        assert 180 <= pooled <= 300
        statuses = {r[0] for r in conn.execute(text("SELECT DISTINCT status FROM leads WHERE owner_id IS NOT NULL"))}
        assert statuses == {"new", "following", "converted", "invalid"}
        assert count("SELECT count(*) FROM leads WHERE status = 'converted' AND customer_id IS NULL") == 0
        # every lead carries its quick-search rows (rules/lead_search.py), as the app writes them
        assert count("SELECT count(DISTINCT lead_id) FROM lead_keys WHERE field = 'gram'") == 600
        assert count("SELECT count(*) FROM leads l WHERE coalesce(l.mobile, l.phone) IS NOT NULL AND NOT EXISTS "
                     "(SELECT 1 FROM lead_keys k WHERE k.lead_id = l.id AND k.field = 'digits')") == 0
        # 60% open across the stages of the default group, 25% won, 15% lost (with a reason)
        outcomes = dict(conn.execute(text("SELECT outcome, count(*) FROM opportunities GROUP BY outcome")).all())
        assert 240 <= outcomes["open"] <= 360 and 80 <= outcomes["won"] <= 170 and 40 <= outcomes["lost"] <= 110
        assert count("SELECT count(*) FROM opportunities WHERE outcome = 'lost' AND loss_reason_id IS NULL") == 0
        open_stages = count("SELECT count(DISTINCT o.stage_id) FROM opportunities o JOIN stage_groups g "
                            "ON g.id = o.group_id WHERE o.outcome = 'open' AND g.name = '标准销售流程'")
        assert open_stages == 5
        # an opportunity with lines is worth their sum
        mismatched = count("SELECT count(*) FROM opportunities o JOIN (SELECT opportunity_id, sum(amount) AS total "
                           "FROM opportunity_lines GROUP BY opportunity_id) l ON l.opportunity_id = o.id "
                           "WHERE abs(o.amount - l.total) > 0.05")
        assert mismatched == 0
        # every foreign key of the new rows points at a row
        for table_name in PIPELINE_TABLES:
            table = db.metadata.tables[table_name]
            for fk in table.foreign_keys:
                orphans = count(f"SELECT count(*) FROM {table_name} t WHERE t.{fk.parent.name} IS NOT NULL AND NOT "
                                f"EXISTS (SELECT 1 FROM {fk.column.table.name} r WHERE r.{fk.column.name} = "
                                f"t.{fk.parent.name})")
                assert orphans == 0, f"{table_name}.{fk.parent.name}"
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            indexes = count("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                            "AND tbl_name IN ('leads', 'opportunities')")
        else:  # the foreign keys dropped for COPY are back (and were validated when re-added)
            keys = count("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text "
                         "IN ('leads', 'opportunities')")
            assert keys == len(db.metadata.tables["leads"].foreign_keys) + len(
                db.metadata.tables["opportunities"].foreign_keys)
            indexes = count("SELECT count(*) FROM pg_indexes WHERE tablename IN ('leads', 'opportunities') "
                            "AND indexname LIKE 'ix_%'")
        assert indexes == len(db.metadata.tables["leads"].indexes) + len(db.metadata.tables["opportunities"].indexes)
    # the app adds the next rows after the generated ones
    with engine.begin() as conn:
        from models import Lead

        lead_id = conn.execute(Lead.__table__.insert().values(name="新线索", status="new", custom={}, version=1,
                                                              created_at=func.now(), updated_at=func.now())
                               .returning(Lead.id)).scalar()
        assert lead_id == 601
        assert conn.scalar(select(func.count()).select_from(Lead.__table__)) == 601
    engine.dispose()
