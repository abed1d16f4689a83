"""Long jobs (imports, exports): one row each, so the page shows progress in either running
mode and the user can leave and come back; and the rows an import did not take, with why."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, format_repr, utcnow
from models.org import User


class JobStatus(enum.StrEnum):
    """Where a job is (JobRecord.status)."""

    READING = "reading"  # an uploaded sheet being read by its preview job (adapters/sheet_guard.py)
    DRAFT = "draft"  # an uploaded sheet whose columns are not yet confirmed
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # stopped with an error; an import may be resumed


class RowOutcome(enum.StrEnum):
    """What an import did with a row of the file (JobRowIssue keeps every one but the plainly imported)."""

    IMPORTED = "imported"
    IMPORTED_WITH_WARNINGS = "imported_warned"  # imported; bad optional cells left empty, listed
    UPDATED = "updated"
    SKIPPED = "skipped"  # a duplicate, left alone
    REJECTED = "rejected"  # refused, with the reason


class JobRecord(db.Model):
    """One import or export: who started it, its file, options, progress counters and result.
    `done` counts the file rows whose batch is committed; a rerun starts there."""

    __tablename__ = "job_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # import_customers, export_contacts, ...
    status: Mapped[JobStatus] = mapped_column(String(16), nullable=False, default=JobStatus.DRAFT)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    files_expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 文件已过期清理 (FILE_RETENTION_DAYS)
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_path: Mapped[str | None] = mapped_column(String(500))
    result_path: Mapped[str | None] = mapped_column(String(500))
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    imported: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    warned: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")  # 导入（有警告）
    updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    queue_id: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_job_records_user_created", "user_id", "created_at"),)

    def __repr__(self) -> str:
        return format_repr(self, "id", "kind", "status", "done", "total")


class JobRowIssue(db.Model):
    """A file row an import rejected, skipped or imported with warnings: its original values and
    the reason (for warnings: each bad cell's original value and why it was left empty)."""

    __tablename__ = "job_row_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job_records.id", ondelete="CASCADE"), nullable=False)
    row_no: Mapped[int] = mapped_column(Integer, nullable=False)
    outcome: Mapped[RowOutcome] = mapped_column(String(16), nullable=False)  # rejected / skipped / imported_warned
    values: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    reason: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (UniqueConstraint("job_id", "row_no", name="uq_job_row_issues_job_row"),)
