"""日程 reminders: each participant hears of each occurrence once, N minutes before it starts."""
from __future__ import annotations

from flask import current_app

from jobs.queue import job_app_context
from models import db
from rules import clock, events, periodic


def remind_upcoming_events() -> int:
    with job_app_context():
        now = clock.now()
        added = events.remind_upcoming(db.session, now, tz=current_app.config["TIMEZONE"])
        periodic.record_run(db.session, "remind_upcoming_events", now=now, result=f"reminders {added}")
        db.session.commit()
        return added
