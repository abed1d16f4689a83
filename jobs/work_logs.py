"""工作日志: remind those who must submit a daily log and have not, from the set hour."""
from __future__ import annotations

from flask import current_app

from jobs.queue import job_app_context
from models import db
from rules import clock, periodic, work_logs


def remind_missing_work_logs() -> int:
    """Runs hourly; acts from the administrator's hour on, once per person and day."""
    with job_app_context():
        now = clock.now()
        reminded = work_logs.remind_not_submitted(db.session, now=now, tz=current_app.config["TIMEZONE"])
        periodic.record_run(db.session, "remind_missing_work_logs", now=now, result=f"reminded {reminded}")
        db.session.commit()
        return reminded
