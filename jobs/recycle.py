"""The nightly recycle run and the "soon to be recycled" warnings."""
from __future__ import annotations

from flask import current_app

from jobs.queue import job_app_context
from models import db
from rules import clock, periodic, recycle
from rules.pool_subject import CUSTOMERS, LEADS, PoolSubject
from rules.clock import local_date


def recycle_customers(dry_run: bool = False) -> dict[str, int]:
    """Move every due customer back to its pool (set-based; a second run moves nothing)."""
    return _recycle("recycle_customers", CUSTOMERS, dry_run)


def recycle_leads(dry_run: bool = False) -> dict[str, int]:
    """Move every owned lead its lead pool's rules call cold back to that pool (the same rules
    as customers; converted and invalid leads never move)."""
    return _recycle("recycle_leads", LEADS, dry_run)


def _recycle(name: str, subject: PoolSubject, dry_run: bool) -> dict[str, int]:
    with job_app_context():
        now = clock.now()
        run = recycle.recycle_due(db.session, now=now, dry_run=dry_run, subject=subject)
        if dry_run:
            db.session.rollback()
        else:
            periodic.record_run(db.session, name, now=now, result=", ".join(f"{k} {v}" for k, v in run.moved.items()))
            db.session.commit()
        return run.moved


def warn_due_recycles() -> int:
    """Tell each owner how many of their customers will be recycled within the warning days."""
    with job_app_context():
        now = clock.now()
        owners = recycle.warn_owners(db.session, now=now, today=local_date(now, current_app.config["TIMEZONE"]))
        periodic.record_run(db.session, "warn_due_recycles", now=now, result=f"owners {owners}")
        db.session.commit()
        return owners
