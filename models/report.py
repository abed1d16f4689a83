"""Report summaries (统计报表): per-day totals that rules/report_summary.py rebuilds by a job, for
databases where aggregating the raw orders, order lines and follow-ups on each page view is too
slow; and the covering index the customer-count reports read instead of the customer table."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import db
from models.customer import Customer, OwnershipEvent

SUM = Numeric(18, 2)


class SalesDay(db.Model):
    """Orders of one salesperson on one order date in one state, and their money (per order
    欠款/应退 summed, as the order page computes them). Orders awaiting review are left out."""

    __tablename__ = "report_sales_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salesperson_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[Decimal] = mapped_column(SUM, nullable=False)       # total − returned
    receivable: Mapped[Decimal] = mapped_column(SUM, nullable=False)   # 0 when cancelled
    received: Mapped[Decimal] = mapped_column(SUM, nullable=False)
    refunded: Mapped[Decimal] = mapped_column(SUM, nullable=False)
    outstanding: Mapped[Decimal] = mapped_column(SUM, nullable=False)
    refundable: Mapped[Decimal] = mapped_column(SUM, nullable=False)


class ProductDay(db.Model):
    """Order lines of sold orders (past review, not cancelled) per day, salesperson and product."""

    __tablename__ = "report_product_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salesperson_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[Decimal] = mapped_column(SUM, nullable=False)
    returned_quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    returned_amount: Mapped[Decimal] = mapped_column(SUM, nullable=False)


class FollowUpDay(db.Model):
    """Follow-ups on live customers per local day and writer."""

    __tablename__ = "report_follow_up_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)


class CustomerSales(db.Model):
    """客户销售报表's per-customer figures for this year so far (1 January → the day of the
    rebuild), company-wide: sold orders (past review, not cancelled), their amount net of
    returns, the last order date and the RFM segment against the company's averages. The page
    reads it when its range is exactly that one; any other range aggregates the orders."""

    __tablename__ = "report_customer_sales"

    # No foreign key: a derived table must never stand in the way of purging a customer.
    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    orders: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[Decimal] = mapped_column(SUM, nullable=False)
    last_day: Mapped[date] = mapped_column(Date, nullable=False)
    segment: Mapped[str] = mapped_column(String(24), nullable=False)
    owner_id: Mapped[int | None] = mapped_column(Integer)


# The ranking reads the first customers by amount (or by count) from an index, never sorting all.
# customer_id descending: read backwards, the index gives the ranking's own order (ties by id).
Index("ix_report_customer_sales_amount", CustomerSales.amount, CustomerSales.orders, CustomerSales.customer_id.desc())
Index("ix_report_customer_sales_orders", CustomerSales.orders, CustomerSales.amount, CustomerSales.customer_id.desc())
Index("ix_report_customer_sales_owner", CustomerSales.owner_id, CustomerSales.segment)


# 客户数量报表, 新增客户走势 and the funnel group live customers created in a date range by one of
# these columns: read from this index alone, never from the wide customer rows.
# deleted_at is in both partial indexes below although it is always NULL there: SQLite reads a
# partial index alone only when the columns of its WHERE are in it; otherwise it fetches every
# customer row to re-check deleted_at (超过30天未跟进 at 1M customers: 1,246 → ~60 ms p95).
REPORT_COLUMNS = ("created_at", "owner_id", "province", "city", "department_id", "category_id", "source_id",
                  "industry_id", "value_level_id", "stage_id")
Index("ix_customers_report", *(Customer.__table__.c[name] for name in (*REPORT_COLUMNS, "deleted_at")),
      sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL"))
# 超过 N 天未跟进 per salesperson, live customers per owner (the list's count, the workbench):
# read from this index alone.
Index("ix_customers_live_owner", Customer.__table__.c.owner_id, Customer.__table__.c.last_follow_up_at,
      Customer.__table__.c.deleted_at,
      sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL"))
# 客户池报表 counts claims, releases, recycles and recalls of a date range per salesperson: one
# range per reason, read from this index alone (the log also holds a "created" row per customer).
Index("ix_ownership_events_reason_at", OwnershipEvent.__table__.c.reason, OwnershipEvent.__table__.c.at,
      OwnershipEvent.__table__.c.from_user_id, OwnershipEvent.__table__.c.to_user_id)

