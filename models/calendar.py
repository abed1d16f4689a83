"""日程 (calendar): events, one-off or repeating (an RFC 5545 RRULE), and who takes part.

Every person an event is on (its owner included) has an EventParticipant row carrying a copy
of the event's time span: a calendar for a team is then one indexed range read over
(user_id, starts_at) instead of an OR over owners and participants (rules/events.py keeps the
copies in step; nothing else writes them)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, version_column
from models.org import User


class Event(TimestampMixin, db.Model):
    __tablename__ = "events"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)  # the first occurrence
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    all_day: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    place: Mapped[str | None] = mapped_column(String(200))
    event_type_id: Mapped[int | None] = mapped_column(ForeignKey("dict_items.id"))  # 拜访/会议/电话/其他
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    # RFC 5545 RRULE without DTSTART, read in the firm's local time (rules/recurrence.py).
    rrule: Mapped[str | None] = mapped_column(String(500))
    # Local starts ("2026-11-25T09:00:00") of occurrences taken out of the series.
    exdates: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # The end of the last occurrence (= ends_at for a one-off): the range queries' upper bound.
    series_ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    remind_minutes: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = version_column()
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    participants: Mapped[list[EventParticipant]] = relationship(back_populates="event",
                                                                cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}
    # The reminder job's look-ups: one-offs about to start, series not over yet.
    __table_args__ = (Index("ix_events_starts_at", "starts_at"), Index("ix_events_series_ends_at", "series_ends_at"))

    def __str__(self) -> str:
        return self.title

    def __repr__(self) -> str:
        return format_repr(self, "id", "title", "starts_at")


class EventParticipant(db.Model):
    """The event on one person's calendar (the owner's own row included)."""

    __tablename__ = "event_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    notified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Copies of the event's span (see the module's docstring); `long_span`: a series or an event
    # longer than rules.events.SHORT_SPAN, found through series_ends_at instead of starts_at.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    series_ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    long_span: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    event: Mapped[Event] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_event_participants_event_user"),
        Index("ix_event_participants_user_short", "user_id", "long_span", "starts_at"),
        Index("ix_event_participants_user_long", "user_id", "long_span", "series_ends_at"),
    )

    def __repr__(self) -> str:
        return format_repr(self, "event_id", "user_id")


class EventDay(db.Model):
    """How many events start on one local day (the firm's TIMEZONE) of one person's calendar:
    the team month view reads these instead of tens of thousands of participant rows. Kept by
    the write rules of rules/events.py (nothing else writes it); a series counts on the day of
    each of its occurrences, an all-day or multi-day event on the day it starts."""

    __tablename__ = "event_days"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    def __repr__(self) -> str:
        return format_repr(self, "user_id", "day", "count")
