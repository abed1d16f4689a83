"""Retention of import/export files: old files go, the jobs say 文件已过期清理, running jobs and
recent files stay; the clean-up runs from the schedule in embedded mode and in an rq worker."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from conftest import FIXED_NOW, REDIS_URL, build_app, need_service, worker_env
from jobs import file_retention
from jobs.queue import enqueue
from jobs.schedule import SCHEDULE, EmbeddedScheduler
from models import PeriodicRun, db
from models.job import JobRecord
from rules import clock as process_clock
from test_import_products import HEADER, ROWS, book, clerk, latest_job, start, upload  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
OLD = 20  # days; FILE_RETENTION_DAYS is 14


def age(app, job_id: int, days: int) -> None:
    """Make a job and its files look `days` old."""
    with app.app_context():
        job = db.session.get(JobRecord, job_id)
        when = process_clock.now() - timedelta(days=days)
        db.session.execute(update(JobRecord).where(JobRecord.id == job_id).values(
            created_at=when, finished_at=when if job.finished_at else None,
            heartbeat_at=when if job.heartbeat_at else None))
        db.session.commit()
        for name in (job.file_path, job.result_path):
            if name:
                touch_old(Path(app.config["UPLOAD_DIR"]) / name, days)


def touch_old(path: Path, days: int) -> None:
    stamp = (process_clock.now() - timedelta(days=days)).timestamp()
    os.utime(path, (stamp, stamp))


def files(app, job_id: int) -> list[Path]:
    with app.app_context():
        job = db.session.get(JobRecord, job_id)
        return [Path(app.config["UPLOAD_DIR"]) / n for n in (job.file_path, job.result_path) if n]


def an_imported_job(app, client) -> int:
    upload(client, book([HEADER, *ROWS]))
    job = latest_job(app)
    start(client, job.id)
    assert latest_job(app).status == "done"
    return job.id


@pytest.fixture
def jobs_of_every_age(app, client, clerk):
    """An old finished import, a recent one, an old job still running and stray files."""
    client.login("zhaoli")
    old, recent = an_imported_job(app, client), an_imported_job(app, client)
    upload(client, book([HEADER, ROWS[0]]))
    running = latest_job(app).id
    with app.app_context():
        db.session.execute(update(JobRecord).where(JobRecord.id == running).values(status="running"))
        db.session.commit()
    age(app, old, OLD)
    age(app, running, OLD)
    root = Path(app.config["UPLOAD_DIR"])
    stray_old, stray_new = root / "exports" / "stray-old.ids", root / "exports" / "stray-new.ids"
    other = root / "attachments" / "contract.pdf"  # not a folder of the import/export pipeline
    for path in (stray_old, stray_new, other):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    touch_old(stray_old, OLD)
    touch_old(other, OLD)
    assert all(p.exists() for p in files(app, old)) and len(files(app, old)) == 2
    return {"old": old, "recent": recent, "running": running, "stray_old": stray_old, "stray_new": stray_new,
            "other": other}


def test_retention_deletes_old_files_only_and_the_page_says_expired(app, client, jobs_of_every_age):
    j = jobs_of_every_age
    with app.app_context():
        enqueue(file_retention.purge_expired_files)  # the embedded runner, as the scheduler does
    assert not any(p.exists() for p in files(app, j["old"]))
    assert all(p.exists() for p in files(app, j["recent"]))
    assert all(p.exists() for p in files(app, j["running"]))  # a running job keeps its upload
    assert not j["stray_old"].exists() and j["stray_new"].exists() and j["other"].exists()
    with app.app_context():
        expired = {job.id: job.files_expired_at for job in db.session.scalars(select(JobRecord))}
        assert expired[j["old"]] is not None
        assert expired[j["recent"]] is None and expired[j["running"]] is None
        assert db.session.get(PeriodicRun, "purge_expired_files").runs == 1

    page = client.get(f"/admin/excel/{j['old']}/").get_data(as_text=True)
    assert "文件已过期清理" in page and "文件保留 14 天" in page
    assert f"/admin/excel/{j['old']}/result.xlsx" not in page
    assert 'id="job-result" class="btn btn-success d-none"' in page
    status = client.get(f"/admin/excel/{j['old']}/status.json").get_json()
    assert status["expired"] is True and status["result_url"] is None and status["imported"] == 2
    response = client.get(f"/admin/excel/{j['old']}/result.xlsx", follow_redirects=True)  # an old bookmark
    assert response.status_code == 200 and "文件已过期清理（保留 14 天）" in response.get_data(as_text=True)
    recent = client.get(f"/admin/excel/{j['recent']}/").get_data(as_text=True)
    assert "文件已过期清理" not in recent and f"/admin/excel/{j['recent']}/result.xlsx" in recent
    listing = client.get("/admin/excel/").get_data(as_text=True)
    assert listing.count("（文件已过期清理）") == 1

    with app.app_context():  # running again changes nothing
        assert file_retention.purge_expired_files() == 0


def test_an_expired_draft_or_failed_job_asks_for_a_new_upload(app, client, clerk):
    client.login("zhaoli")
    upload(client, book([HEADER, ROWS[0]]))
    draft = latest_job(app).id
    age(app, draft, OLD)
    with app.app_context():
        file_retention.purge_expired_files()
    response = client.get(f"/admin/excel/{draft}/mapping/", follow_redirects=True)
    assert "文件已过期清理，请重新上传" in response.get_data(as_text=True)
    with app.app_context():
        db.session.execute(update(JobRecord).where(JobRecord.id == draft).values(status="failed"))
        db.session.commit()
    token = client.token(f"/admin/excel/{draft}/")
    response = client.post(f"/admin/excel/{draft}/resume/", data={"csrf_token": token}, follow_redirects=True)
    assert "文件已过期清理，无法继续" in response.get_data(as_text=True)
    assert latest_job(app).status == "failed"


def test_retention_off_keeps_everything(app, client, jobs_of_every_age):
    app.config["FILE_RETENTION_DAYS"] = 0
    with app.app_context():
        assert file_retention.purge_expired_files() == 0
    assert all(p.exists() for p in files(app, jobs_of_every_age["old"]))


def test_the_clean_up_is_on_the_schedule_and_the_embedded_scheduler_fires_it(app, jobs_of_every_age, clock):
    assert (file_retention.purge_expired_files, "40 3 * * *") in SCHEDULE
    scheduler = EmbeddedScheduler(app, schedule=[(file_retention.purge_expired_files, "* * * * * *")],
                                  tick_seconds=0.2)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while any(p.exists() for p in files(app, jobs_of_every_age["old"])) and time.monotonic() < deadline:
            clock.advance(seconds=1)  # the scheduler decides what is due by the (pinned) clock
            time.sleep(0.2)
    finally:
        scheduler.stop()
        scheduler.join(timeout=5)
    assert not any(p.exists() for p in files(app, jobs_of_every_age["old"]))


def test_a_real_rq_worker_runs_the_clean_up(tmp_path):
    redis_url = need_service(REDIS_URL, "Redis")
    from redis import Redis

    Redis.from_url(redis_url).flushdb()
    app = build_app("sqlite", tmp_path, REDIS_URL=redis_url, EMBEDDED_JOBS_SYNC=False,
                    UPLOAD_DIR=str(tmp_path / "shared"))
    old = Path(app.config["UPLOAD_DIR"]) / "results" / "old.xlsx"
    old.parent.mkdir(parents=True)
    old.write_text("x")
    touch_old(old, OLD)
    with app.app_context():
        from rules import org
        from models import Role

        role = db.session.scalar(select(Role).where(Role.name == "内勤"))
        user = org.create_user(db.session, username="zhaoli", password="secret-123", display_name="赵丽", role=role)
        db.session.add(JobRecord(kind="import_product", status="done", user_id=user.id, result_path="results/old.xlsx",
                                 created_at=FIXED_NOW - timedelta(days=OLD),
                                 finished_at=FIXED_NOW - timedelta(days=OLD)))
        db.session.commit()
        assert not enqueue(file_retention.purge_expired_files).startswith(("inline", "embedded"))
    env = worker_env(app, tmp_path, redis_url, KECHI_UPLOAD_DIR=app.config["UPLOAD_DIR"])
    result = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, "kechi"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not old.exists()
    with app.app_context():
        assert db.session.scalar(select(JobRecord.files_expired_at)) is not None
