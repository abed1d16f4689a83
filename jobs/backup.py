"""The daily backup of the embedded database (rules/backup.py over adapters/backup_files.py)."""
from __future__ import annotations

from pathlib import Path

from flask import current_app

from adapters.backup_files import BackupFiles
from jobs.queue import job_app_context
from models import db
from rules import backup, clock, periodic


def backup_database() -> str:
    """Take a backup of the SQLite database and keep the BACKUP_KEEP newest. On PostgreSQL
    nothing is copied here: the server is backed up with pg_dump (README)."""
    with job_app_context():
        now = clock.now()
        database = backup.database_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
        if database is None:
            result = "PostgreSQL: back up with pg_dump on the database server"
        else:
            folder = Path(current_app.config["BACKUP_DIR"])
            tz = current_app.config["TIMEZONE"]
            taken, removed = backup.take_and_prune(database, BackupFiles(folder), now=now, tz=tz,
                                                   keep=int(current_app.config["BACKUP_KEEP"]))
            result = f"{taken.name} ({taken.size} bytes), removed {len(removed)}"
        periodic.record_run(db.session, "backup_database", now=now, result=result)
        db.session.commit()
        return result
