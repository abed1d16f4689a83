"""Building the duplicate-check keys of fields the entry policy starts checking."""
from __future__ import annotations

from jobs.queue import job_app_context
from models import db
from rules import duplicate_keys


def build_pending_keys() -> None:
    """Batch after batch, each its own transaction (the mark moves with it, so a rerun
    resumes), until the pending entry policy takes effect."""
    with job_app_context():
        while True:
            done = duplicate_keys.build_batch(db.session)
            db.session.commit()
            if done:
                return
