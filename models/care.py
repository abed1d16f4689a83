"""客户关怀 and 回访: care records (a birthday call, a holiday greeting, an after-sale visit, or one
planned for a later day) and the satisfaction survey of a resolved ticket, answered by the
customer through a one-question page (/s/<token>) or entered by the agent after a call.
The decisions are rules/care.py and rules/satisfaction.py."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, format_repr, utcnow
from models.customer import Contact, Customer
from models.org import User
from models.service import Ticket


class CareKind(enum.StrEnum):
    BIRTHDAY = "birthday"      # 生日
    HOLIDAY = "holiday"        # 节日
    AFTER_SALE = "after_sale"  # 售后回访
    OTHER = "other"            # 其他


class CareChannel(enum.StrEnum):
    PHONE = "phone"    # 电话
    SMS = "sms"        # 短信
    VISIT = "visit"    # 上门
    WECHAT = "wechat"  # 微信


class CareRecord(db.Model):
    """One act of care, done (`at`, `by`) or planned for a day (`planned_for`, not yet done:
    it shows in 待关怀 until someone records it)."""

    __tablename__ = "care_records"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    kind: Mapped[CareKind] = mapped_column(String(12), nullable=False, default=CareKind.OTHER)
    channel: Mapped[CareChannel] = mapped_column(String(8), nullable=False, default=CareChannel.PHONE)
    content: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: sent by the schedule
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    planned_for: Mapped[date | None] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    by: Mapped[User | None] = relationship()
    ticket: Mapped[Ticket | None] = relationship()

    __table_args__ = (
        Index("ix_care_records_customer_id", "customer_id", "id"),
        Index("ix_care_records_planned", "done", "planned_for"),  # 待关怀
    )

    def __repr__(self) -> str:
        return format_repr(self, "id", "customer_id", "kind", "done")


class SurveyChannel(enum.StrEnum):
    AGENT = "agent"  # 客服录入 (after a call)
    SMS = "sms"      # 短信链接 (the customer answered the page)


class SatisfactionSurvey(db.Model):
    """满意度回访 of one ticket. Only a hash of the link's token is stored: whoever reads the
    database cannot answer for the customer. Answered once (`answered_at`, set by a guarded
    UPDATE); the link stops working at `expires_at`."""

    __tablename__ = "satisfaction_surveys"
    __audited__ = True
    __audit_ignored__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False, unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # the assignee at resolution
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[SurveyChannel | None] = mapped_column(String(8))  # how it was answered
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    sends: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    ticket: Mapped[Ticket] = relationship()
    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    agent: Mapped[User | None] = relationship(foreign_keys=[agent_id])
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])

    def __repr__(self) -> str:
        return format_repr(self, "id", "ticket_id", "score")


# The survey job looks for tickets resolved since a moment: an index of its own on the tickets
# table, declared here beside the only reader.
Index("ix_tickets_resolved_at", Ticket.__table__.c.resolved_at)
