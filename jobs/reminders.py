"""Daily reminders: customers whose next contact date has come (待回访)."""
from __future__ import annotations

from flask import current_app

from jobs.queue import job_app_context
from models import db
from rules import clock, followups, periodic
from rules.clock import local_date


def send_due_reminders() -> int:
    """One reminder per owner per day; running it twice adds nothing."""
    with job_app_context():
        now = clock.now()
        owners = followups.remind_all_due(db.session, today=local_date(now, current_app.config["TIMEZONE"]),
                                          now=now)
        periodic.record_run(db.session, "send_due_reminders", now=now, result=f"owners {owners}")
        db.session.commit()
        return owners
