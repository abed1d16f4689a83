"""开票 (invoices): 发票抬头 kept per customer, and invoice requests that are approved, issued
with the tax office's number, or voided; 红冲 is a negative invoice pointing at the one it
reverses."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.contract import Contract
from models.customer import Customer
from models.org import User
from models.product import MONEY
from models.sales import Order


class TitleKind(enum.StrEnum):
    COMPANY = "company"    # 企业
    PERSONAL = "personal"  # 个人


class InvoiceTitle(TimestampMixin, db.Model):
    """发票抬头: several per customer, one default."""

    __tablename__ = "invoice_titles"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    kind: Mapped[TitleKind] = mapped_column(String(16), nullable=False, default=TitleKind.COMPANY)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    tax_no: Mapped[str | None] = mapped_column(String(32))  # 纳税人识别号
    bank: Mapped[str | None] = mapped_column(String(100))   # 开户行
    account: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()

    def __str__(self) -> str:
        return self.name


class InvoiceType(enum.StrEnum):
    SPECIAL = "special"        # 增值税专用发票
    NORMAL = "normal"          # 增值税普通发票
    ELECTRONIC = "electronic"  # 电子发票


class InvoiceStatus(enum.StrEnum):
    REQUESTED = "requested"  # 申请 (draft, or back after a rejection)
    APPROVING = "approving"  # 审批中
    APPROVED = "approved"    # 待开票: approved, waiting for the tax office's number
    ISSUED = "issued"        # 已开票
    VOID = "void"            # 已作废


class InvoiceAction(enum.StrEnum):
    CREATE = "create"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    ISSUE = "issue"
    SEND = "send"        # 寄出 (快递单号)
    VOID = "void"
    REVERSE = "reverse"  # 红冲


class Invoice(TimestampMixin, db.Model):
    """A request to invoice (开票申请) and, once issued, the invoice. Against a contract, an order
    or the customer alone; `amount` includes tax and is negative for a 红冲."""

    __tablename__ = "invoices"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)  # 申请编号
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    title_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_titles.id"))
    # The 抬头 as it was when the invoice was requested: later edits of the title leave it alone.
    title_kind: Mapped[TitleKind] = mapped_column(String(16), nullable=False, default=TitleKind.COMPANY)
    title_name: Mapped[str] = mapped_column(String(200), nullable=False)
    tax_no: Mapped[str | None] = mapped_column(String(32))
    bank: Mapped[str | None] = mapped_column(String(100))
    account: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    invoice_type: Mapped[InvoiceType] = mapped_column(String(16), nullable=False, default=InvoiceType.NORMAL)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), nullable=False, default=Decimal("0"))
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    amount_ex_tax: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    status: Mapped[InvoiceStatus] = mapped_column(String(16), nullable=False, default=InvoiceStatus.REQUESTED)
    invoice_no: Mapped[str | None] = mapped_column(String(64))  # 发票号码, once issued
    issued_on: Mapped[date | None] = mapped_column(Date)
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_no: Mapped[str | None] = mapped_column(String(64))  # 快递单号
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), unique=True)  # 红冲 of
    notes: Mapped[str | None] = mapped_column(Text)
    custom: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(255))

    customer: Mapped[Customer] = relationship()
    contract: Mapped[Contract | None] = relationship()
    order: Mapped[Order | None] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    title: Mapped[InvoiceTitle | None] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])

    __table_args__ = (
        Index("ix_invoices_owner_created", "owner_id", "created_at", "id"),
        Index("ix_invoices_status_issued", "status", "issued_on"),
    )

    def __repr__(self) -> str:
        return format_repr(self, "id", "number", "status", "amount")


class InvoiceEvent(db.Model):
    __tablename__ = "invoice_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), nullable=False, index=True)
    action: Mapped[InvoiceAction] = mapped_column(String(16), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    actor: Mapped[User | None] = relationship()
