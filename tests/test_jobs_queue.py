"""Jobs: the embedded runner, a real rq worker on a real Redis, the periodic schedule, /healthz."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import REDIS_URL, build_app, need_service, worker_env
from jobs import maintenance
from jobs.queue import EmbeddedRunner, enqueue
from jobs.schedule import EmbeddedScheduler
from models import PeriodicRun, db

ROOT = Path(__file__).resolve().parent.parent


def heartbeat_runs(app) -> int:
    with app.app_context():
        db.session.expire_all()
        row = db.session.get(PeriodicRun, "heartbeat")
        return row.runs if row else 0


def test_embedded_mode_runs_a_job_in_process(app):
    with app.app_context():
        enqueue(maintenance.heartbeat)
    assert heartbeat_runs(app) == 1


def test_embedded_mode_runs_jobs_in_a_background_thread(app):
    app.config["EMBEDDED_JOBS_SYNC"] = False
    runner = EmbeddedRunner(app)
    runner.enqueue(maintenance.heartbeat)
    runner.pool.shutdown(wait=True)
    assert heartbeat_runs(app) == 1


def test_the_embedded_scheduler_fires_periodic_jobs_by_itself(app, clock):
    scheduler = EmbeddedScheduler(app, schedule=[(maintenance.heartbeat, "* * * * * *")], tick_seconds=0.2)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while heartbeat_runs(app) < 2 and time.monotonic() < deadline:
            clock.advance(seconds=1)  # the scheduler decides what is due by the (pinned) clock
            time.sleep(0.2)
    finally:
        scheduler.stop()
        scheduler.join(timeout=5)
    assert heartbeat_runs(app) >= 2


@pytest.fixture
def redis_url() -> str:
    url = need_service(REDIS_URL, "Redis")
    from redis import Redis

    Redis.from_url(url).flushdb()
    return url


def test_a_real_rq_worker_process_runs_the_job_against_the_database(tmp_path, redis_url):
    """enqueue in the web app → `rq worker` in another process (building its own app from the
    environment, as in production) → the database changed."""
    app = build_app("sqlite", tmp_path, REDIS_URL=redis_url, EMBEDDED_JOBS_SYNC=False)
    with app.app_context():
        job_id = enqueue(maintenance.heartbeat)
        assert not job_id.startswith(("inline", "embedded"))
    assert heartbeat_runs(app) == 0
    result = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, "kechi"],
                            cwd=ROOT, env=worker_env(app, tmp_path, redis_url), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert heartbeat_runs(app) == 1


def test_healthz_reports_database_and_queue(app, tmp_path, redis_url):
    body = app.test_client().get("/healthz").get_json()
    assert body["status"] == "ok" and body["database"]["status"] == "ok"
    assert body["queue"]["mode"] == "embedded"
    with_redis = build_app("sqlite", tmp_path / "r", REDIS_URL=redis_url)
    assert with_redis.test_client().get("/healthz").get_json()["queue"] == {"mode": "redis", "status": "ok",
                                                                             "queued": 0}
    down = build_app("sqlite", tmp_path / "d", REDIS_URL="redis://127.0.0.1:1/0")
    response = down.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["queue"]["status"] == "error"


def test_enqueue_with_redis_down_raises_a_clear_error(tmp_path):
    from jobs.queue import QueueUnavailable

    down = build_app("sqlite", tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    with down.app_context(), pytest.raises(QueueUnavailable):
        enqueue(maintenance.heartbeat)


def test_the_production_cron_config_registers_the_schedule(redis_url):
    from redis import Redis
    from rq import cron

    import jobs.cron_config  # noqa: F401  (registers on import, as `rq cron jobs/cron_config.py` does)

    scheduler = cron.create_cron(Redis.from_url(redis_url))
    names = sorted(job.func.__name__ for job in scheduler.get_jobs())
    assert names == ["backup_database", "birthday_greetings", "dispatch_pending", "expire_quotes",
                     "extract_pending",  # 文档中心 (issue 20)
                     "heartbeat",
                     "holiday_greetings", "mark_overdue_plans",
                     "purge_expired_files", "purge_old_login_logs", "recover_abandoned_jobs", "recycle_customers",
                     "recycle_leads", "refresh_summaries",
                     "remind_due_tasks",  # 待办 (issue 21)
                     "remind_expiring_contracts",
                     "remind_missing_work_logs",  # 工作日志 (issue 21)
                     "remind_upcoming_events",  # 日程 (issue 21)
                     "run_sfa", "send_birthday_care",  # 生日关怀 (issue 22)
                     "send_due_reminders",
                     "send_plan_reminders",
                     "send_satisfaction_surveys",  # 满意度回访 (issue 22)
                     "warn_due_recycles",
                     "watch_sla"]  # 客户服务 SLA (issue 22)
    timeouts = {job.func.__name__: job.job_options.get("job_timeout") for job in scheduler.get_jobs()}
    assert timeouts["holiday_greetings"] == 6 * 3600 and timeouts["heartbeat"] is None
