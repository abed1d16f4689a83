"""Shared by the bench scripts: put the project on sys.path and build the app on a URL."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# Nothing from a bench run lands in the project's instance/ folder.
os.environ.setdefault("KECHI_INSTANCE_DIR", str(Path(tempfile.gettempdir()) / "kechi-bench-instance"))

BENCH_PASSWORD = "bench-123"
SALES_USERNAME = "sales01"  # a 业务员 (data scope: 本人)
GM_USERNAME = "gm"          # the 总经理 (data scope: 全部)


def normalise_url(url: str) -> str:
    """Bare postgresql:// URLs mean psycopg 3 here, as in config.py."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL without its driver, for a raw psycopg connection."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def sqlite_path(url: str) -> str:
    assert url.startswith("sqlite:///"), url
    return url.removeprefix("sqlite:///")


def analyze(engine) -> None:
    """Fresh planner statistics after a bulk load (PostgreSQL's ANALYZE outside a transaction)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def make_app(url: str, **overrides):
    """The real application on `url`, configured like production (not TESTING)."""
    from app import create_app
    from config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = "bench-secret-key-not-for-production"
        TESTING = False
        REDIS_URL = None
        EMBEDDED_SCHEDULER = False
        SEED_DEMO_ON_FIRST_START = False
        FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION = True

    for key, value in overrides.items():
        setattr(BenchConfig, key, value)
    return create_app(BenchConfig)


def run_import_job(user_id: int, sheet: str, *, entity: str, options: dict) -> tuple[object, float]:
    """Store `sheet`, map it as the wizard would by its headers, and run the import job the page
    enqueues; the finished job and its seconds. Call inside the app's context."""
    import shutil
    import time

    from jobs import excel as excel_jobs
    from models import db
    from models.job import JobRecord
    from adapters import spreadsheet
    from rules import importing

    name = excel_jobs.new_file_name("uploads", ".xlsx")
    shutil.copy(sheet, excel_jobs.stored_path(name))
    preview = spreadsheet.read(sheet, filename=Path(sheet).name, max_rows=50)
    cols = importing.columns(db.session, entity)
    header_row = importing.find_header(preview.rows, cols)
    mapping = importing.auto_mapping(preview.rows[header_row], cols)
    job = JobRecord(kind=f"import_{entity}", status="queued", user_id=user_id, file_name=Path(sheet).name,
                    file_path=name, params={"sheet": preview.name, "header_row": header_row, "mapping": mapping,
                                            "headers": preview.rows[header_row], "options": options})
    db.session.add(job)
    db.session.commit()
    started = time.perf_counter()
    excel_jobs.run_import(job.id)
    seconds = time.perf_counter() - started
    db.session.expire_all()
    return db.session.get(JobRecord, job.id), seconds
