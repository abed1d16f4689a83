"""The SLA watch, every 5 minutes: 即将超时 to assignees, 已超时 escalated to team leaders."""
from __future__ import annotations

from flask import current_app

from jobs.queue import job_app_context
from models import db
from rules import clock, periodic, sla_watch


def watch_sla() -> dict[str, int]:
    """Each ticket is warned once and escalated once (guarded marks); a second run adds nothing."""
    with job_app_context():
        now = clock.now()
        done = sla_watch.watch(db.session, now, current_app.config["TIMEZONE"])
        periodic.record_run(db.session, "watch_sla", now=now, result=f"warned {done.warned}, escalated {done.escalated}")
        db.session.commit()
        return {"warned": done.warned, "escalated": done.escalated}
