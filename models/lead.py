"""线索 (leads): a prospect before any customer exists, with its own pool (Pool.kind = lead),
follow-ups and history, until it is converted (转化) into a customer or marked invalid."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.customer import Customer, FollowUpKind, RecycleRule
from models.dictionary import DictItem
from models.org import Department, User


class LeadStatus(enum.StrEnum):
    NEW = "new"              # 新线索
    FOLLOWING = "following"  # 跟进中 (the first follow-up moves it here)
    CONVERTED = "converted"  # 已转化 (final)
    INVALID = "invalid"      # 无效 (with a reason)


# States a lead can still be worked in: claimed, followed up, converted, recycled.
OPEN_LEAD_STATES = (LeadStatus.NEW, LeadStatus.FOLLOWING)


class Lead(TimestampMixin, db.Model):
    """线索. Owner NULL = waiting in the lead pool `pool_id`. Owner, status and pool change only
    through rules/ (a guarded UPDATE plus a LeadEvent)."""

    __tablename__ = "leads"
    __audited__ = True
    __audit_ignored__ = frozenset({"last_follow_up_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    name: Mapped[str] = mapped_column(String(128), nullable=False)  # 线索名称: the company or the person
    company: Mapped[str | None] = mapped_column(String(128))
    contact_name: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(128))
    wechat: Mapped[str | None] = mapped_column(String(64))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("dict_items.id"), index=True)
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("dict_items.id"))
    province: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(32))
    district: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str | None] = mapped_column(Text)
    custom: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    status: Mapped[LeadStatus] = mapped_column(String(16), nullable=False, default=LeadStatus.NEW)
    invalid_reason: Mapped[str | None] = mapped_column(String(255))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("pools.id"))
    pool_reason: Mapped[str | None] = mapped_column(String(16))  # PoolReason
    pool_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_contact_at: Mapped[date | None] = mapped_column(Date)
    # 转化: once, to this customer (an opportunity made with it names the lead as its source).
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    converted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    department: Mapped[Department | None] = relationship()
    source: Mapped[DictItem | None] = relationship(foreign_keys=[source_id])
    industry: Mapped[DictItem | None] = relationship(foreign_keys=[industry_id])
    customer: Mapped[Customer | None] = relationship(foreign_keys=[customer_id])
    converted_by: Mapped[User | None] = relationship(foreign_keys=[converted_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    __table_args__ = (
        # 我的线索 / everyone's, newest first; the lead pool: unowned open leads of a pool.
        Index("ix_leads_owner_created", "owner_id", "created_at", "id"),
        Index("ix_leads_created", "created_at", "id"),
        Index("ix_leads_pool", "pool_id", "pool_entered_at", sqlite_where=text("owner_id IS NULL"),
              postgresql_where=text("owner_id IS NULL")),
        Index("ix_leads_status_created", "status", "created_at"),
        # 线索转化率: leads created in a range by source and status, covering (migration fd7a141155e4).
        Index("ix_leads_created_source", "created_at", "source_id", "status", "owner_id", "department_id", "deleted_at"),
        # A salesperson's live leads, counted from the index alone.
        Index("ix_leads_live_owner", "owner_id", "created_at", "id", sqlite_where=text("deleted_at IS NULL"),
              postgresql_where=text("deleted_at IS NULL")),
    )

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "name", "owner_id", "status")


class LeadEvent(db.Model):
    """线索流转: every change of a lead's owner (the pool moves, with OwnershipReason keys) and of
    its status (reason "status", with from/to status), with who did it and when."""

    __tablename__ = "lead_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), nullable=False, index=True)
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    recycle_rule: Mapped[RecycleRule | None] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)

    lead: Mapped[Lead] = relationship()
    from_user: Mapped[User | None] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class LeadFollowUp(db.Model):
    """线索跟进. Conversion copies them onto the customer's follow-ups (the lead keeps its own)."""

    __tablename__ = "lead_follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default=FollowUpKind.PHONE)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    next_contact_at: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    lead: Mapped[Lead] = relationship()
    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_lead_follow_ups_lead_happened", "lead_id", "happened_at"),)


class LeadKey(db.Model):
    """Normalised values (name, phones, email) the 撞单 checks compare, as CustomerKey does for
    customers: one indexed look-up per value across leads and customers."""

    __tablename__ = "lead_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True)
    field: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[str] = mapped_column(String(128), nullable=False)

    __table_args__ = (Index("ix_lead_keys_lookup", "field", "value"),)
