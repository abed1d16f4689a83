"""合同 (contracts): numbered, from an opportunity or a quote (lines copied), signed, approved,
executed; an approved contract is locked, and changing it means 作废 and a new version (a new
row with the same number and the next `revision`, `previous_id` pointing back)."""
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
from models.quote import Quote


class ContractStatus(enum.StrEnum):
    DRAFT = "draft"          # 草稿 (also after a rejection or a withdrawal)
    APPROVING = "approving"  # 审批中: read-only
    ACTIVE = "active"        # 执行中: approved, locked
    COMPLETED = "completed"  # 已完成
    VOID = "void"            # 已作废


class ContractAction(enum.StrEnum):
    CREATE = "create"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    COMPLETE = "complete"
    VOID = "void"
    REVISE = "revise"    # a new version of a voided contract
    ORDER = "order"      # an order produced from the contract
    ASSIGN = "assign"


class Contract(TimestampMixin, db.Model):
    """合同. Money as orders and quotes keep it: amounts include tax, `amount_ex_tax` + `tax` =
    `total`. `received` / `invoiced` are recomputed from approved receipts and issued invoices
    (rules/contract_balances.py) after every change, never typed in."""

    __tablename__ = "contracts"
    __audited__ = True
    __audit_ignored__ = frozenset({"received", "written_off", "invoiced"})

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"), index=True)
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[ContractStatus] = mapped_column(String(16), nullable=False, default=ContractStatus.DRAFT)
    signed_on: Mapped[date] = mapped_column(Date, nullable=False)
    start_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    remind_days: Mapped[int] = mapped_column(Integer, nullable=False, default=30)  # 到期提醒 N days before end_on
    price_level_id: Mapped[int | None] = mapped_column(ForeignKey("price_levels.id"))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), nullable=False, default=Decimal("0"))
    gross: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    discount: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    amount_ex_tax: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    received: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))     # approved, net of refunds
    written_off: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))  # 抹零
    invoiced: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))     # issued, net of 红冲
    our_signatory_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # 我方签约人
    their_signatory: Mapped[str | None] = mapped_column(String(64))              # 客户签约人
    terms: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    custom: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(255))
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))  # the voided version this replaces
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a draft deleted to the recycle bin

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    quote: Mapped[Quote | None] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    department: Mapped[Department | None] = relationship()
    price_level: Mapped[PriceLevel | None] = relationship()
    our_signatory: Mapped[User | None] = relationship(foreign_keys=[our_signatory_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    lines: Mapped[list[ContractLine]] = relationship(back_populates="contract", cascade="all, delete-orphan",
                                                     order_by="ContractLine.id")

    __table_args__ = (
        UniqueConstraint("number", "revision", name="uq_contracts_number_revision"),
        Index("ix_contracts_owner_signed", "owner_id", "signed_on", "id"),
        Index("ix_contracts_status_end", "status", "end_on"),
        Index("ix_contracts_signed", "signed_on", "id"),
        # 公司销售报表, 业绩 and 应收账龄 read their sums from this index alone (migration 1df543520140).
        Index("ix_contracts_status_sums", "status", "deleted_at", "signed_on", "owner_id", "customer_id", "total",
              "received", "written_off"),
    )

    def __str__(self) -> str:
        return self.number if self.revision == 1 else f"{self.number}-V{self.revision}"

    def __repr__(self) -> str:
        return format_repr(self, "id", "number", "revision", "status")


class ContractLine(db.Model):
    __tablename__ = "contract_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), nullable=False, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False, index=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    unit_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    discount_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), nullable=False, default=Decimal("1"))
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    ordered_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # taken into orders so far
    warranty_until: Mapped[date | None] = mapped_column(Date)  # 保修截止 (rules/repairs.warranty_of reads it)
    notes: Mapped[str | None] = mapped_column(String(255))

    contract: Mapped[Contract] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class ContractEvent(db.Model):
    """合同流转: every ContractAction with the states before and after."""

    __tablename__ = "contract_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), nullable=False, index=True)
    action: Mapped[ContractAction] = mapped_column(String(16), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    actor: Mapped[User | None] = relationship()
