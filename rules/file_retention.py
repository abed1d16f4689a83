"""文件保留期限: uploads, rejected-row files and exports under UPLOAD_DIR are kept for
FILE_RETENTION_DAYS after their job ended, then deleted.

A job's record stays (counts, who, when) and is marked `files_expired_at`, so its page says
文件已过期清理 instead of offering a link to nothing. A queued or running job is never marked,
and the mark is a conditional UPDATE, so a job resumed at that moment keeps its files. Files
that no live job refers to (templates left by a crash, files of deleted jobs) go after the
same number of days, judged by their modification time. Only the folders the import/export
pipeline writes are swept; anything else under UPLOAD_DIR is left alone.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from models.job import JobRecord, JobStatus

MANAGED_DIRS = ("uploads", "results", "exports", "templates")
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def _expirable(cutoff: datetime) -> tuple:
    ended = func.coalesce(JobRecord.finished_at, JobRecord.heartbeat_at, JobRecord.created_at)
    return (JobRecord.files_expired_at.is_(None), JobRecord.status.not_in(ACTIVE), ended < cutoff,
            or_(JobRecord.file_path.is_not(None), JobRecord.result_path.is_not(None)))


def expire_jobs(session: Session, *, cutoff: datetime, now: datetime) -> list[str]:
    """Mark the jobs that ended before `cutoff`; the stored names of their files (to delete
    once the marks are committed). Flushes only."""
    where = _expirable(cutoff)
    names: list[str] = []
    for job_id, file_path, result_path in session.execute(
            select(JobRecord.id, JobRecord.file_path, JobRecord.result_path).where(*where)).all():
        marked = session.execute(update(JobRecord).where(JobRecord.id == job_id, *where)
                                 .values(files_expired_at=now)
                                 .execution_options(synchronize_session=False)).rowcount
        if marked == 1:
            names += [n for n in (file_path, result_path) if n]
    return names


def referenced(session: Session) -> set[str]:
    """Stored names of the files that jobs not yet expired still need."""
    rows = session.execute(select(JobRecord.file_path, JobRecord.result_path)
                           .where(JobRecord.files_expired_at.is_(None))).all()
    return {n for row in rows for n in row if n}


def _inside(root: Path, name: str) -> Path | None:
    path = (root / name).resolve()
    return path if path.is_relative_to(root.resolve()) else None


def delete_files(root: Path, names: list[str]) -> int:
    removed = 0
    for name in names:
        path = _inside(root, name)
        if path is not None and path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def sweep(root: Path, *, cutoff: datetime, keep: set[str]) -> int:
    """Delete files older than `cutoff` in the pipeline's folders that no live job needs."""
    removed = 0
    limit = cutoff.timestamp()
    for folder in MANAGED_DIRS:
        directory = root / folder
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            name = f"{folder}/{path.name}"
            if path.is_file() and name not in keep and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                removed += 1
    return removed
