"""报价单 that ran out of validity: the daily expiry run."""
from __future__ import annotations

from flask import current_app

from jobs.queue import job_app_context
from models import db
from rules import clock, periodic, quotes
from rules.clock import local_date


def expire_quotes() -> int:
    """Every sent quote past its 有效期 → 已过期 (set-based; a second run moves nothing)."""
    with job_app_context():
        now = clock.now()
        count = quotes.expire_due(db.session, now=now, today=local_date(now, current_app.config["TIMEZONE"]))
        periodic.record_run(db.session, "expire_quotes", now=now, result=f"expired {count}")
        db.session.commit()
        return count
