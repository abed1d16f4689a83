"""客户销售报表 and its RFM segmentation, computed in SQL.

Per customer (orders past review, not cancelled, within the range and the actor's scope):
R = days since the last order, F = number of orders, M = sales net of returns. Each is "high"
when it beats the average of the customers in the report (R: more recent than average), and the
three highs/lows name one of eight segments (重要价值客户 ... 一般挽留客户)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Float, MetaData, and_, case, cast, func, literal, select, update
from sqlalchemy.sql.ddl import CreateTableAs, DropTable
from sqlalchemy.orm import Session

from models.customer import Customer
from models.dictionary import DictItem, DictKind
from models.sales import Order, OrderStatus
from rules import report_summary, scope
from rules.actor import Actor
from rules.reports import Column, Filters, Table, _money, _sold_where, _sum, people_clause

# (R high, F high, M high) → segment
SEGMENTS: dict[str, Any] = {
    "important_value": _l("重要价值客户"),
    "important_develop": _l("重要发展客户"),
    "important_keep": _l("重要保持客户"),
    "important_retain": _l("重要挽留客户"),
    "general_value": _l("一般价值客户"),
    "general_develop": _l("一般发展客户"),
    "general_keep": _l("一般保持客户"),
    "general_retain": _l("一般挽留客户"),
}
_BY_FLAGS = {
    (True, True, True): "important_value", (True, False, True): "important_develop",
    (False, True, True): "important_keep", (False, False, True): "important_retain",
    (True, True, False): "general_value", (True, False, False): "general_develop",
    (False, True, False): "general_keep", (False, False, False): "general_retain",
}
TOP = 100


def _days_since(session: Session, column: Any, today: date) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return cast(literal(today, Date) - column, Float)
    return func.julianday(literal(today.isoformat())) - func.julianday(column)


def _where(session: Session, actor: Actor, filters: Filters) -> Any:
    """Sold orders of the range in scope. On a large database (summaries built) an order counts
    for its salesperson's scope, as the other sales reports then do, so the salesperson/date
    index answers it; otherwise rules/scope.order_clause as everywhere."""
    if report_summary.built_at(session):
        return and_(Order.order_date >= filters.start, Order.order_date <= filters.end,
                    Order.state.not_in((OrderStatus.PENDING_REVIEW, OrderStatus.CANCELLED)),
                    people_clause(Order.salesperson_id, actor, filters))
    return _sold_where(actor, filters)


@contextmanager
def per_customer(session: Session, actor: Actor, filters: Filters, today: date) -> Iterator[tuple[Any, tuple]]:
    """One row per customer who bought (customer_id, f, m, last, r in days), grouped once into a
    temporary table that the segment counts, the ranking and the batch action then read; and the
    averages of r, f and m over those customers. The table is dropped on the way out."""
    last = func.max(Order.order_date)
    grouped = (select(Order.customer_id.label("customer_id"), func.count(Order.id).label("f"),
                      _sum(Order.total - Order.returned_amount).label("m"), last.label("last"),
                      _days_since(session, last, today).label("r"))
               .where(_where(session, actor, filters)).group_by(Order.customer_id))
    created = CreateTableAs(grouped, f"kechi_rfm_{uuid4().hex[:12]}", temporary=True, metadata=MetaData())
    session.execute(created)
    sub = created.table
    try:
        row = session.execute(select(func.avg(sub.c.r), func.avg(sub.c.f), func.avg(sub.c.m))).one()
        yield sub, (float(row[0] or 0), float(row[1] or 0), float(row[2] or 0))
    finally:
        session.execute(DropTable(sub))


def _segment_expr(sub: Any, averages: tuple) -> Any:
    r_high, f_high, m_high = (sub.c.r <= averages[0]), (sub.c.f > averages[1]), (sub.c.m > averages[2])
    whens = [(and_(r_high if r else ~r_high, f_high if f else ~f_high, m_high if m else ~m_high), literal(key))
             for (r, f, m), key in _BY_FLAGS.items()]
    return case(*whens, else_=literal("general_retain"))


def customer_sales(session: Session, actor: Actor, filters: Filters, *, today: date, segment: str | None = None,
                   sort: str = "amount") -> Table:
    """Customers ranked by purchase amount (or count), each with its RFM segment; the chart
    counts customers per segment. The table shows the first TOP customers."""
    with per_customer(session, actor, filters, today) as (sub, averages):
        seg = _segment_expr(sub, averages).label("segment")
        counts = dict(session.execute(select(seg, func.count()).select_from(sub).group_by(seg)).all())
        order = (sub.c.f.desc(), sub.c.m.desc()) if sort == "count" else (sub.c.m.desc(), sub.c.f.desc())
        stmt = (select(sub.c.customer_id, sub.c.f, sub.c.m, sub.c.last, sub.c.r, seg, Customer.name)
                .join(Customer, Customer.id == sub.c.customer_id).order_by(*order, sub.c.customer_id).limit(TOP))
        if segment in SEGMENTS:
            stmt = stmt.where(_segment_expr(sub, averages) == segment)
        found = session.execute(stmt).all()
    rows = []
    for rank, r in enumerate(found, 1):
        rows.append({"rank": rank, "name": r.name, "customer_id": r.customer_id, "count": int(r.f),
                     "amount": _money(r.m), "last": r.last if isinstance(r.last, date) else date.fromisoformat(str(r.last)),
                     "recency": int(round(float(r.r))), "segment": str(SEGMENTS[r.segment]), "drill": None})
    columns = [Column("rank", _l("排名"), "int"), Column("name", _l("客户名称")),
               Column("count", _l("购买次数"), "int"), Column("amount", _l("购买金额"), "money"),
               Column("last", _l("最近购买"), "date"), Column("recency", _l("距今天数"), "int"),
               Column("segment", _l("RFM 分群"))]
    table = Table(columns, rows, "name", ["amount"])
    table.extra = {
        "segments": [{"key": k, "name": str(v), "count": int(counts.get(k, 0))} for k, v in SEGMENTS.items()],
        "averages": {"r": round(averages[0], 1), "f": round(averages[1], 2), "m": _money(Decimal(str(averages[2])))},
    }
    table.note = _l("R（最近一次购买距今天数）低于平均、F（购买次数）和 M（购买金额）高于平均为“高”；"
                    "表格列出前 %(n)d 名。", n=TOP)
    return table


def set_category(session: Session, actor: Actor, filters: Filters, *, today: date, segment: str,
                 category_id: int) -> int:
    """Batch action: every customer of a segment that the actor may edit gets the category.
    One UPDATE; returns how many changed."""
    if segment not in SEGMENTS:
        raise ValueError(segment)
    category = session.get(DictItem, category_id)
    if category is None or category.kind != DictKind.CATEGORY:
        raise ValueError(category_id)
    with per_customer(session, actor, filters, today) as (sub, averages):
        members = select(sub.c.customer_id).where(_segment_expr(sub, averages) == segment)
        result = session.execute(update(Customer).where(Customer.id.in_(members), scope.customer_edit_clause(actor))
                                 .values(category_id=category_id).execution_options(synchronize_session=False))
    session.flush()
    return int(result.rowcount or 0)

