"""合同 about to end: the daily 到期提醒 run."""
from __future__ import annotations

from flask import current_app

from jobs.queue import job_app_context
from models import db
from rules import clock, contracts, periodic
from rules.clock import local_date


def remind_expiring_contracts() -> int:
    """The owner of each contract in force whose reminder window began is told, once per end date."""
    with job_app_context():
        now = clock.now()
        count = contracts.remind_expiring(db.session, now=now, today=local_date(now, current_app.config["TIMEZONE"]))
        periodic.record_run(db.session, "remind_expiring_contracts", now=now, result=f"reminded {count}")
        db.session.commit()
        return count
