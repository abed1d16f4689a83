"""Orders, their lines and state history, payments (回款/退款) and customer points (积分)."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.customer import Customer
from models.org import User
from models.product import MONEY, PriceLevel, Product, Warehouse

if TYPE_CHECKING:  # models/contract.py and models/payment_plan.py import this module
    from models.contract import Contract
    from models.payment_plan import PaymentPlan


class OrderStatus(enum.StrEnum):
    PENDING_REVIEW = "pending_review"  # 等待审核
    PICKING = "picking"                # 正在配货
    SHIPPED = "shipped"                # 已发货
    COMPLETED = "completed"            # 已完成
    CANCELLED = "cancelled"            # 已取消
    RETURNED = "returned"              # 退货


class Order(TimestampMixin, db.Model):
    """订单. `state` changes only through rules/orders.py (a conditional UPDATE + OrderEvent).
    Money columns are computed by rules/orders.py from the lines: amounts include tax,
    `amount_ex_tax` + `tax` = `total` (税款分离)."""

    __tablename__ = "orders"
    __audited__ = True
    __audit_ignored__ = frozenset({"received", "refunded"})

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    salesperson_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=OrderStatus.PENDING_REVIEW)
    order_date: Mapped[date] = mapped_column(Date, nullable=False)
    price_level_id: Mapped[int | None] = mapped_column(ForeignKey("price_levels.id"))
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    # 收货信息
    consignee: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    province: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(32))
    district: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str | None] = mapped_column(Text)
    # 金额 (tax included unless named ex_tax)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), nullable=False, default=Decimal("0"))
    gross: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))  # before discounts
    discount: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    amount_ex_tax: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    cost: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    margin: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))  # 毛利 = ex tax - cost
    returned_amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    received: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    refunded: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    # 物流与各环节时间
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_no: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 审核 = start of 配货
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # cancelled or returned
    close_reason: Mapped[str | None] = mapped_column(String(255))
    points_awarded: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # An order produced from a contract: its money is the contract's (rules/receivables.py).
    # use_alter: contracts → opportunities → orders → contracts is a cycle of foreign keys.
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id", use_alter=True), index=True)

    customer: Mapped[Customer] = relationship()
    salesperson: Mapped[User] = relationship(foreign_keys=[salesperson_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    price_level: Mapped[PriceLevel | None] = relationship()
    warehouse: Mapped[Warehouse | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", cascade="all, delete-orphan",
                                                  order_by="OrderLine.id")
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", order_by="OrderEvent.id")

    __table_args__ = (
        # The per-state lists and 订单综合查询: state + date, salesperson + date, newest first.
        Index("ix_orders_state_date", "state", "order_date", "id"),
        Index("ix_orders_salesperson_date", "salesperson_id", "order_date", "id"),
        Index("ix_orders_date", "order_date", "id"),
        Index("ix_orders_consignee", "consignee"),
        Index("ix_orders_phone", "phone"),
    )

    def __str__(self) -> str:
        return self.number

    def __repr__(self) -> str:
        return format_repr(self, "id", "number", "state")


class OrderLine(db.Model):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), nullable=False, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False, index=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    unit_price: Mapped[Decimal | None] = mapped_column(MONEY)
    # 折扣 as a rate: 1 = none, 0.9 = 九折
    discount_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), nullable=False, default=Decimal("1"))
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    unit_cost: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    returned_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    warranty_until: Mapped[date | None] = mapped_column(Date)  # 保修截止: set at ship from Product.warranty_months

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


class OrderEvent(db.Model):
    """订单流转: every move of an order's state (who, when, from, to, note)."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class OrderReturn(db.Model):
    """退货明细: one row per line of one return (a partial return leaves the order in its state;
    the rows of one return share its event). The order line keeps the running total."""

    __tablename__ = "order_returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), nullable=False, index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("order_events.id"), nullable=False, index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)

    event: Mapped[OrderEvent] = relationship()
    line: Mapped[OrderLine] = relationship()


class PaymentKind(enum.StrEnum):
    RECEIPT = "receipt"  # 回款
    REFUND = "refund"    # 退款


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"      # 待审核 (审批中 when the approval flow runs)
    APPROVED = "approved"    # 已确认: counts in received/refunded
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # 已撤回 by whoever registered it, before the first decision


class Payment(TimestampMixin, db.Model):
    __tablename__ = "payments"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    # Against an order, a contract, or one instalment (plan_id, with its contract or order set too).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("payment_plans.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    # 业绩归属: the salesperson credited with the money, fixed when it is registered.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default=PaymentKind.RECEIPT)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    method: Mapped[str | None] = mapped_column(String(16))
    # 抹零: a small difference the customer will not pay, settled with this receipt (not cash).
    write_off: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    note: Mapped[str | None] = mapped_column(String(255))
    custom: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PaymentStatus.APPROVED)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order | None] = relationship()
    contract: Mapped[Contract | None] = relationship("Contract")
    plan: Mapped[PaymentPlan | None] = relationship("PaymentPlan")
    customer: Mapped[Customer] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    __table_args__ = (
        Index("ix_payments_status", "status", "paid_on"),
        Index("ix_payments_owner_paid", "owner_id", "paid_on"),
        # 回款统计 and 业绩 sum the approved receipts of a period from this index alone (migration 1df543520140).
        Index("ix_payments_paid_sums", "status", "paid_on", "kind", "owner_id", "method", "contract_id", "amount",
              "write_off"),
    )

    def __repr__(self) -> str:
        return format_repr(self, "id", "order_id", "kind", "amount", "status")


class PointsEntry(db.Model):
    """积分记录: points earned from completed orders, taken back by returns, redeemed."""

    __tablename__ = "points_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    change: Mapped[int] = mapped_column(Integer, nullable=False)
    balance: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)  # order / return / redeem / adjust
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    customer: Mapped[Customer] = relationship()
    order: Mapped[Order | None] = relationship()
    actor: Mapped[User | None] = relationship()
