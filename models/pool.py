"""客户池 (公海): pools with their members, claim and recycle rules; claim requests; quotas."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow
from models.org import Department, User


class Pool(TimestampMixin, db.Model):
    """A shared pool. Its members (users, or departments with their sub-departments) claim
    from it, and their recycled customers fall back into it. Rules are the administrator's."""

    __tablename__ = "pools"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # What waits in it: customers (客户池) or leads (线索池, PoolKind.LEAD); the same rules serve both.
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="customer", server_default="customer")
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Fields pool members do not see until they claim (e.g. ["phone", "mobile"]).
    hidden_fields: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # 领用策略 (0 = no limit); role_limits: {"<role id>": {"max_owned": n, "max_claims_per_day": n}}
    max_owned: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    deals_count_as_owned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    max_claims_per_day: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cooldown_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    role_limits: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # 回收策略: (a) claimed, no follow-up within N days; (b) no follow-up for N days since the
    # later of claim and last follow-up; (c) no deal within N days of claim. None = off.
    recycle_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    no_contact_days: Mapped[int | None] = mapped_column(Integer)
    idle_days: Mapped[int | None] = mapped_column(Integer)
    no_deal_days: Mapped[int | None] = mapped_column(Integer)
    # {"<value level dict id>": {"no_contact_days": n, "idle_days": n, "no_deal_days": n}}
    level_days: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    exempt_deals: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    warn_days: Mapped[int] = mapped_column(Integer, nullable=False, default=7)

    members: Mapped[list[PoolMember]] = relationship(back_populates="pool", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "name")


class PoolKind(enum.StrEnum):
    CUSTOMER = "customer"  # 客户池
    LEAD = "lead"          # 线索池


class PoolMember(db.Model):
    __tablename__ = "pool_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    pool: Mapped[Pool] = relationship(back_populates="members")
    user: Mapped[User | None] = relationship()
    department: Mapped[Department | None] = relationship()


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ClaimRequest(db.Model):
    """申请: a salesperson asks for a pool customer or a colleague's; a manager decides (批示)."""

    __tablename__ = "claim_requests"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=RequestStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(255))

    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (Index("ix_claim_requests_status_created", "status", "created_at"),)


class ClaimQuota(db.Model):
    """Claims a user made on a day: the guarded counter behind the daily claim limit."""

    __tablename__ = "claim_quotas"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # Leads and customers are counted apart: each pool kind has its own daily limit.
    kind: Mapped[str] = mapped_column(String(16), primary_key=True, default="customer", server_default="customer")
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    claims: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
