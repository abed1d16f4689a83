"""工作请示 / 申请: a general request, a leave, a business trip or an expense claim, each approved
through the approval mechanism (rules/approvals.py, one ApprovalDocType per kind)."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, version_column
from models.dictionary import DictItem
from models.org import Department, User
from models.product import MONEY


class RequestKind(enum.StrEnum):
    GENERAL = "general"  # 工作请示
    LEAVE = "leave"      # 请假
    TRIP = "trip"        # 出差
    EXPENSE = "expense"  # 报销


class RequestState(enum.StrEnum):
    DRAFT = "draft"          # 草稿
    PENDING = "pending"      # 审批中
    APPROVED = "approved"    # 已通过
    REJECTED = "rejected"    # 已驳回 (the submitter may change it and submit again)
    WITHDRAWN = "withdrawn"  # 已撤回 (likewise)


class DayHalf(enum.StrEnum):
    """Leave and trips start and end on half days: 上午 (09:00-12:00) or 下午 (13:00-18:00)."""

    AM = "am"
    PM = "pm"


class OfficeRequest(TimestampMixin, db.Model):
    __tablename__ = "office_requests"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    kind: Mapped[RequestKind] = mapped_column(String(16), nullable=False)
    status: Mapped[RequestState] = mapped_column(String(16), nullable=False, default=RequestState.DRAFT)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    content: Mapped[str | None] = mapped_column(Text)
    leave_type_id: Mapped[int | None] = mapped_column(ForeignKey("dict_items.id"))
    # Leave and trips: local days and halves as typed; the UTC instants for range queries.
    start_day: Mapped[date | None] = mapped_column(Date)
    start_half: Mapped[str | None] = mapped_column(String(2))
    end_day: Mapped[date | None] = mapped_column(Date)
    end_half: Mapped[str | None] = mapped_column(String(2))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    days: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    destination: Mapped[str | None] = mapped_column(String(200))
    # Expense: [{"date": "2026-11-20", "category": "交通", "amount": "35.00", "note": ""}]; amount = their sum.
    lines: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    submitter: Mapped[User] = relationship(foreign_keys=[submitter_id])
    department: Mapped[Department | None] = relationship()
    leave_type: Mapped[DictItem | None] = relationship()

    __table_args__ = (
        Index("ix_office_requests_submitter", "submitter_id", "id"),
        # The overlap check: a person's leave by start.
        Index("ix_office_requests_submitter_kind_start", "submitter_id", "kind", "starts_at"),
    )

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def __repr__(self) -> str:
        return format_repr(self, "id", "number", "kind", "status")
