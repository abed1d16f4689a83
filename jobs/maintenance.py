"""Housekeeping jobs."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete

from jobs.queue import job_app_context
from models import LoginLog, db
from rules import clock, periodic


def heartbeat() -> None:
    """Proves the periodic schedule fires; /healthz reports its last run."""
    with job_app_context():
        periodic.record_run(db.session, "heartbeat", now=clock.now(), result="ok")
        db.session.commit()


def purge_old_login_logs() -> int:
    with job_app_context():
        now = clock.now()
        keep = timedelta(days=current_app.config["LOGIN_LOG_RETENTION_DAYS"])
        removed = db.session.execute(delete(LoginLog).where(LoginLog.at < now - keep)).rowcount
        periodic.record_run(db.session, "purge_old_login_logs", now=now, result=f"removed {removed}")
        db.session.commit()
        return removed
