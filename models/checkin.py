"""外勤签到: a salesperson's check-in at a customer, with the browser's position and its accuracy.
Each check-in also writes a 拜访 follow-up (follow_up_id), so the customer's timeline, the
follow-up reports and the recycle clock see the visit as any other; this row keeps what only a
check-in has (the coordinates, how sure the phone was, the address the customer had that day).
The decisions are rules/checkins.py."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, format_repr, utcnow
from models.customer import Contact, Customer, FollowUp
from models.org import User


class CheckIn(db.Model):
    __tablename__ = "check_ins"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    accuracy: Mapped[int | None] = mapped_column(Integer)  # metres, as the phone reported it
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    # The customer's address at that moment: an address edited later must not move old visits.
    address: Mapped[str | None] = mapped_column(String(255))
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_ups.id"))

    user: Mapped[User] = relationship()
    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    follow_up: Mapped[FollowUp | None] = relationship()

    __table_args__ = (
        # A team's check-ins on a day: the staff in scope, each one's day by time.
        Index("ix_check_ins_user_checked", "user_id", "checked_at"),
        Index("ix_check_ins_customer", "customer_id", "checked_at"),
    )

    def __repr__(self) -> str:
        return format_repr(self, "id", "user_id", "customer_id", "checked_at")
