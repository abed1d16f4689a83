"""Office: notifications (the bell). Announcements, work logs and tasks come later."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, format_repr, utcnow
from models.org import User


class Notification(db.Model):
    """A message to one user, shown under the bell until read."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)  # as written, in the default language
    # The message and its values, translated for whoever reads it (rules.notifications.title_of);
    # None for titles that are not a message of the catalogue.
    title_key: Mapped[str | None] = mapped_column(String(200))
    title_params: Mapped[dict | None] = mapped_column(JSON)
    body: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set for reminders a job may raise more than once (e.g. "due:2026-11-23"): one per user.
    dedupe_key: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at", "created_at"),
        Index("uq_notifications_user_dedupe", "user_id", "dedupe_key", unique=True),
    )

    def __repr__(self) -> str:
        return format_repr(self, "id", "user_id", "title")
