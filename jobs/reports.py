"""Report summaries (统计报表): rebuilt every few minutes on large databases."""
from __future__ import annotations

from flask import current_app

from jobs.queue import job_app_context
from models import db
from rules import clock, periodic, report_summary


def refresh_summaries() -> bool:
    with job_app_context():
        now = clock.now()
        built = report_summary.refresh(db.session, now=now, tz=current_app.config["TIMEZONE"])
        periodic.record_run(db.session, "refresh_report_summaries", now=now,
                            result="built" if built else "raw (small database)")
        db.session.commit()
        return built


refresh_summaries.job_timeout = 900  # a full rebuild over millions of rows takes a minute or two
