"""回款计划 (payment plans): the instalments (期次) a customer is to pay on a contract or on an
order. Each row is one instalment; `received` counts approved receipts and 抹零 booked
against it (rules/payment_plans.py recomputes it and the status after every receipt)."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.contract import Contract
from models.customer import Customer
from models.org import User
from models.product import MONEY
from models.sales import Order


class PlanStatus(enum.StrEnum):
    PENDING = "pending"  # 待回款
    PARTIAL = "partial"  # 部分回款
    PAID = "paid"        # 已回款
    OVERDUE = "overdue"  # 逾期: past due_on and not paid (the daily job)
    VOID = "void"        # 已作废


class PaymentPlan(TimestampMixin, db.Model):
    __tablename__ = "payment_plans"
    __audited__ = True
    __audit_ignored__ = frozenset({"received"})

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    # Exactly one of contract_id / order_id (rules/payment_plans.py).
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    # The contract's or order's owner, kept with it on 转移, so overdue lists and ageing by
    # owner read one table.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    period: Mapped[int] = mapped_column(Integer, nullable=False)  # 期次, 1-based
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    received: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    remind_days: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    status: Mapped[PlanStatus] = mapped_column(String(16), nullable=False, default=PlanStatus.PENDING)
    note: Mapped[str | None] = mapped_column(String(255))
    custom: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contract: Mapped[Contract | None] = relationship()
    order: Mapped[Order | None] = relationship()
    customer: Mapped[Customer] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])

    __table_args__ = (
        UniqueConstraint("contract_id", "period", name="uq_payment_plans_contract_period"),
        UniqueConstraint("order_id", "period", name="uq_payment_plans_order_period"),
        Index("ix_payment_plans_status_due", "status", "due_on"),
        Index("ix_payment_plans_owner_status_due", "owner_id", "status", "due_on"),
        # 回款计划's list pages by due date (its default order) for a whole firm
        Index("ix_payment_plans_due_on", "due_on", "id"),
        # 应收账龄 over the open instalments from this index alone (migration 1df543520140).
        Index("ix_payment_plans_ageing", "status", "due_on", "owner_id", "customer_id", "amount", "received"),
    )

    def __repr__(self) -> str:
        return format_repr(self, "id", "contract_id", "order_id", "period", "status")


class PlanAction(enum.StrEnum):
    SET = "set"          # 制定: the instalment was added by a plan
    CHANGE = "change"    # 调整: due date, amount, reminder or note changed by a new plan
    REMOVE = "remove"    # 删除: taken out of the plan (voided, since receipts refer to it)
    RECEIVE = "receive"  # 回款: a receipt moved its status (部分回款/已回款, or back)
    OVERDUE = "overdue"  # 逾期: the daily job
    VOID = "void"        # 作废: its contract or order was voided
    ASSIGN = "assign"    # 转移: followed its contract's or order's new owner


class PaymentPlanEvent(db.Model):
    """回款计划流转: every change of an instalment, with the statuses before and after."""

    __tablename__ = "payment_plan_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id"), nullable=False, index=True)
    action: Mapped[PlanAction] = mapped_column(String(16), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    actor: Mapped[User | None] = relationship()
