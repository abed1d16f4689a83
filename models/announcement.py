"""Announcements (公告): company news on the workbench and the 公告 page, for the whole company
or for chosen departments (each with its sub-departments)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr
from models.org import Department, User

announcement_departments = Table(
    "announcement_departments",
    db.metadata,
    Column("announcement_id", ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Announcement(TimestampMixin, db.Model):
    """`published_at` is None for a draft. `expires_on` is the last local day it shows.
    `body` is plain text (shown with its line breaks) or HTML already cleaned by nh3."""

    __tablename__ = "announcements"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_on: Mapped[date | None] = mapped_column(Date)
    pinned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    whole_company: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    author: Mapped[User] = relationship()
    # The backref lets the ORM drop a deleted department's links on SQLite too, where the
    # foreign key's ON DELETE CASCADE is not enforced.
    departments: Mapped[list[Department]] = relationship(secondary=announcement_departments,
                                                         order_by=Department.path, backref="announcements")

    # The feed (workbench widget, 公告 page) reads pinned first, newest first: walking this
    # index backwards gives that order and stops after the first page of visible rows.
    __table_args__ = (Index("ix_announcements_feed", "pinned", "published_at"),)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def __str__(self) -> str:
        return self.title

    def __repr__(self) -> str:
        return format_repr(self, "id", "title", "published_at")
