"""报价单 (quotes): numbered, with product lines, validity and terms; a revision is a new row
with the same number and the next `revision`, the old one kept and marked superseded."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.customer import Contact, Customer
from models.opportunity import Opportunity
from models.org import Department, User
from models.product import MONEY, PriceLevel, Product


class QuoteStatus(enum.StrEnum):
    DRAFT = "draft"          # 草稿
    SENT = "sent"            # 已发送
    ACCEPTED = "accepted"    # 已接受
    REJECTED = "rejected"    # 已拒绝
    EXPIRED = "expired"      # 已过期 (the daily job, past valid_until)


class Quote(TimestampMixin, db.Model):
    """报价单. Money as orders keep it: amounts include tax, `amount_ex_tax` + `tax` = `total`
    (价税分离). `order_id` is set once, by 转订单."""

    __tablename__ = "quotes"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[QuoteStatus] = mapped_column(String(16), nullable=False, default=QuoteStatus.DRAFT)
    quote_date: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date | None] = mapped_column(Date)
    price_level_id: Mapped[int | None] = mapped_column(ForeignKey("price_levels.id"))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), nullable=False, default=Decimal("0"))
    gross: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    discount: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    amount_ex_tax: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    terms: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    custom: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last opened by the customer through a share link

    customer: Mapped[Customer] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    department: Mapped[Department | None] = relationship()
    price_level: Mapped[PriceLevel | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    lines: Mapped[list[QuoteLine]] = relationship(back_populates="quote", cascade="all, delete-orphan",
                                                  order_by="QuoteLine.id")

    __table_args__ = (
        UniqueConstraint("number", "revision", name="uq_quotes_number_revision"),
        Index("ix_quotes_owner_date", "owner_id", "quote_date", "id"),
        Index("ix_quotes_status_valid", "status", "valid_until"),
    )

    def __str__(self) -> str:
        return self.number if self.revision == 1 else f"{self.number}-V{self.revision}"

    def __repr__(self) -> str:
        return format_repr(self, "id", "number", "revision", "status")


class QuoteLine(db.Model):
    __tablename__ = "quote_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), nullable=False, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    unit_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    discount_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), nullable=False, default=Decimal("1"))
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    notes: Mapped[str | None] = mapped_column(String(255))

    quote: Mapped[Quote] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class QuoteEvent(db.Model):
    """报价流转: created, sent, accepted, rejected, expired, revised, converted to an order."""

    __tablename__ = "quote_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    actor: Mapped[User | None] = relationship()


class QuoteShare(db.Model):
    """报价单分享链接: an H5 page of the quote for the customer, by an unguessable token, until it
    expires or is revoked; each opening is recorded on the link and on the quote."""

    __tablename__ = "quote_shares"
    __audited__ = True  # made and revoked by people; the openings are counted by Core UPDATEs, not logged
    __audit_masked__ = frozenset({"token"})  # the log is no way in

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), nullable=False, index=True)
    token: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("print_templates.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    views: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
