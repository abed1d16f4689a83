"""The periodic clean-up of import and export files (rules/file_retention.py decides)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import current_app

from jobs.queue import job_app_context
from models import db
from rules import clock, file_retention, periodic


def purge_expired_files() -> int:
    """Delete uploads, rejected-row files and exports older than FILE_RETENTION_DAYS (0 keeps
    them forever). Jobs are marked and committed first, then their files go, so a page never
    links to a deleted file."""
    with job_app_context():
        now = clock.now()
        days = int(current_app.config.get("FILE_RETENTION_DAYS") or 0)
        if days <= 0:
            periodic.record_run(db.session, "purge_expired_files", now=now, result="retention off")
            db.session.commit()
            return 0
        cutoff = now - timedelta(days=days)
        root = Path(current_app.config["UPLOAD_DIR"])
        names = file_retention.expire_jobs(db.session, cutoff=cutoff, now=now)
        db.session.commit()
        removed = file_retention.delete_files(root, names)
        removed += file_retention.sweep(root, cutoff=cutoff, keep=file_retention.referenced(db.session))
        periodic.record_run(db.session, "purge_expired_files", now=now,
                            result=f"expired {len(names)} files of jobs, removed {removed}")
        db.session.commit()
        return removed
