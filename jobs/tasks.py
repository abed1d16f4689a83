"""待办 reminders: overdue tasks and those due within each user's 提醒天数, grouped per user."""
from __future__ import annotations

from flask import current_app

from jobs.queue import job_app_context
from models import db
from rules import clock, periodic, task_reminders


def remind_due_tasks() -> int:
    """Once per user and local day (dedupe keys); running it twice adds nothing."""
    with job_app_context():
        now = clock.now()
        added = task_reminders.remind_due(db.session, now, current_app.config["TIMEZONE"])
        periodic.record_run(db.session, "remind_due_tasks", now=now, result=f"notifications {added}")
        db.session.commit()
        return added
