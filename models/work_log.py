"""工作日志: daily, weekly and monthly logs with the period's CRM figures, the people they are
sent to (with read receipts) and leaders' comments (点评)."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.org import User


class WorkLogPeriod(enum.StrEnum):
    DAILY = "daily"      # 日报
    WEEKLY = "weekly"    # 周报 (Monday to Sunday)
    MONTHLY = "monthly"  # 月报


class WorkLog(TimestampMixin, db.Model):
    """One log of one author for one period: `period_start`/`period_end` are local dates (the
    same day for a daily log). `figures` are the CRM numbers of the period as the reports
    counted them when the log was last saved (rules/work_logs.figures)."""

    __tablename__ = "work_logs"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    period: Mapped[str] = mapped_column(String(16), nullable=False, default=WorkLogPeriod.DAILY.value)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False, default="")
    plan: Mapped[str] = mapped_column(Text, nullable=False, default="")
    problems: Mapped[str] = mapped_column(Text, nullable=False, default="")
    figures: Mapped[dict | None] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}

    author: Mapped[User] = relationship()
    recipients: Mapped[list[WorkLogRecipient]] = relationship(back_populates="log", cascade="all, delete-orphan",
                                                              order_by="WorkLogRecipient.user_id")
    comments: Mapped[list[WorkLogComment]] = relationship(back_populates="log", cascade="all, delete-orphan",
                                                          order_by="WorkLogComment.id")

    __table_args__ = (
        # One log per author, kind of period and period: a second submit edits the first.
        Index("uq_work_logs_author_period", "author_id", "period", "period_start", unique=True),
        # The list (newest periods first) and the 未提交 check (who has a daily log for a day).
        Index("ix_work_logs_period_start", "period_start", "period"),
    )

    def __repr__(self) -> str:
        return format_repr(self, "id", "author_id", "period", "period_start")


class WorkLogRecipient(db.Model):
    """Someone a log is sent to; `read_at` is when they first opened it (the read receipt)."""

    __tablename__ = "work_log_recipients"

    log_id: Mapped[int] = mapped_column(ForeignKey("work_logs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    log: Mapped[WorkLog] = relationship(back_populates="recipients")
    user: Mapped[User] = relationship()

    # 待阅日志: the logs sent to me that I have not opened.
    __table_args__ = (Index("ix_work_log_recipients_user_read", "user_id", "read_at"),)


class WorkLogComment(db.Model):
    """点评: a comment by a leader (or a reply by the author). `read_at` is when the log's author
    saw it (comments on one's own logs count on the workbench until then)."""

    __tablename__ = "work_log_comments"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    log_id: Mapped[int] = mapped_column(ForeignKey("work_logs.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    log: Mapped[WorkLog] = relationship(back_populates="comments")
    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_work_log_comments_log_id", "log_id", "id"),)

    def __repr__(self) -> str:
        return format_repr(self, "id", "log_id", "user_id")
