"""维修: the repair record of a ticket (labour, charge, warranty, billing) and the parts it used.

Parts leave stock when added and come back when removed or when the repair is cancelled, each
through rules/stock.change (a StockMovement) with a TicketEntry kind REPAIR on the timeline.
A billed repair points at the order that carries its charge (rules/repairs.py says why)."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.org import User
from models.product import MONEY, Product, Warehouse
from models.sales import Order


class RepairState(enum.StrEnum):
    OPEN = "open"            # 维修中: parts and labour may change
    BILLED = "billed"        # 已收费: the charge is an order of the customer (a receivable)
    CANCELLED = "cancelled"  # 已取消: every part went back to stock


class TicketRepair(TimestampMixin, db.Model):
    """One per ticket. `warranty` is decided from the warranty end of the ticket's order or
    contract line for its product (rules/repairs.warranty_of); under warranty the total is 0."""

    __tablename__ = "ticket_repairs"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False, unique=True)
    state: Mapped[RepairState] = mapped_column(String(12), nullable=False, default=RepairState.OPEN)
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # 维修人员
    solution: Mapped[str | None] = mapped_column(Text)  # 处理结果, printed on the repair sheet
    labour_hours: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False, default=Decimal("0"))
    labour_charge: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    parts_charge: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    warranty: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    warranty_until: Mapped[date | None] = mapped_column(Date)  # what the decision was read from
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)  # the charge, once billed
    billed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    engineer: Mapped[User | None] = relationship()
    order: Mapped[Order | None] = relationship()

    def __repr__(self) -> str:
        return format_repr(self, "id", "ticket_id", "state")


class TicketPart(db.Model):
    """A part replaced: taken out of `warehouse_id` when added; `returned` once it went back."""

    __tablename__ = "ticket_parts"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    returned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    product: Mapped[Product] = relationship()
    warehouse: Mapped[Warehouse] = relationship()
    by: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_ticket_parts_ticket_id", "ticket_id", "id"),
        # 配件用量 by product (the service report), newest first.
        Index("ix_ticket_parts_product_at", "product_id", "at"),
    )

    def __repr__(self) -> str:
        return format_repr(self, "id", "ticket_id", "product_id", "quantity")
