"""The report summaries (models/report.py): rebuilt set-based by a periodic job, read by the
reports once built. Small databases never build them: their raw GROUP BYs are already fast,
and raw figures are always up to the minute."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo
from typing import Any

from sqlalchemy import Date, cast, delete, func, insert, select
from sqlalchemy.orm import Session

from models.customer import Customer, FollowUp
from models.report import FollowUpDay, ProductDay, SalesDay
from models.sales import Order, OrderLine, OrderStatus
from rules import followups, receivables, settings

MARK = "report_summary_at"
# Below this many orders + follow-ups, reports aggregate the raw rows.
THRESHOLD = 200_000


def built_at(session: Session) -> datetime | None:
    raw = settings.get(session, MARK)
    return datetime.fromisoformat(raw) if raw else None


def _day(session: Session, expr: Any) -> Any:
    """A text YYYY-MM-DD as the dialect's date (SQLite stores dates as that text)."""
    return cast(expr, Date) if session.get_bind().dialect.name == "postgresql" else expr


def refresh(session: Session, *, now: datetime, tz: str, threshold: int = THRESHOLD) -> bool:
    """Rebuild every summary in the caller's transaction (flush only). Returns False, and
    drops the summaries, when the database is small enough for raw aggregation."""
    from rules import rfm
    from rules.reports import Filters, _returned_amount_of_line, bucket, default_filters

    size = (session.scalar(select(func.count(Order.id))) or 0) + (session.scalar(select(func.count(FollowUp.id))) or 0)
    for model in (SalesDay, ProductDay, FollowUpDay):
        session.execute(delete(model))
    if size < threshold:
        settings.put(session, MARK, None)
        rfm.drop_summary(session)
        return False
    session.execute(insert(SalesDay).from_select(
        ["day", "salesperson_id", "state", "orders", "amount", "receivable", "received", "refunded", "outstanding",
         "refundable"],
        select(Order.order_date, Order.salesperson_id, Order.state, func.count(Order.id),
               func.sum(receivables.kept_amount_sql()), func.sum(receivables.receivable_sql()),
               func.sum(Order.received), func.sum(Order.refunded), func.sum(receivables.outstanding_sql()),
               func.sum(receivables.refundable_sql()))
        .where(Order.state != OrderStatus.PENDING_REVIEW, receivables.own_order_sql())
        .group_by(Order.order_date, Order.salesperson_id, Order.state)))
    session.execute(insert(ProductDay).from_select(
        ["day", "salesperson_id", "product_id", "quantity", "amount", "returned_quantity", "returned_amount"],
        select(Order.order_date, Order.salesperson_id, OrderLine.product_id, func.sum(OrderLine.quantity),
               func.sum(OrderLine.amount), func.sum(OrderLine.returned_quantity), func.sum(_returned_amount_of_line()))
        .join(Order, OrderLine.order_id == Order.id)
        .where(Order.state.not_in((OrderStatus.PENDING_REVIEW, OrderStatus.CANCELLED)))
        .group_by(Order.order_date, Order.salesperson_id, OrderLine.product_id)))
    local = Filters(start=now.date(), end=now.date(), tz=tz)
    day = bucket(session, FollowUp.happened_at, "day", local)
    session.execute(insert(FollowUpDay).from_select(
        ["day", "user_id", "count"],
        select(_day(session, day), FollowUp.user_id, func.count(FollowUp.id))
        .where(FollowUp.customer_id.in_(select(Customer.id).where(Customer.deleted_at.is_(None))), followups.COUNTED)
        .group_by(day, FollowUp.user_id)))
    today = now.astimezone(ZoneInfo(tz)).date()
    rfm.rebuild_summary(session, default_filters(today, tz), today, now)
    settings.put(session, MARK, now.isoformat())
    session.flush()
    return True

