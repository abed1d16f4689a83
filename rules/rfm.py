"""客户销售报表 and its RFM segmentation, computed in SQL.

Per live customer, over the company's sold orders of the range (past review, not cancelled):
R = days since the last order, F = number of orders, M = sales net of returns. Each is "high"
when it beats the company's average over the customers who bought in the range (R: more recent
than average), and the three highs/lows name one of eight segments (重要价值客户 ... 一般挽留客户).
The averages are the company's, not the viewer's: a customer is in the same segment whoever
looks, so a category set from a segment means the same thing for every salesperson. The actor's
scope (and the page's department/salesperson choice, by owner) decides which customers are
listed and counted.

On a large database the summary job keeps these figures for this year so far
(models/report.CustomerSales); the page reads them when its range is exactly that one."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Float, MetaData, and_, case, cast, delete, func, insert, literal, select, text, union, update
from sqlalchemy.sql.ddl import CreateTableAs, DropTable
from sqlalchemy.orm import Session

from models.customer import Customer, OwnershipEvent
from models.dictionary import DictItem, DictKind
from models.org import DataScope
from models.report import CustomerSales
from models.sales import Order, OrderStatus
from rules import receivables, scope, settings
from rules.actor import Actor
from rules.reports import Column, Filters, Table, _money, _sum, customer_where, people_clause

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


# Settings key of the summary's range and the company averages it was segmented with.
SUMMARY_KEY = "report_customer_sales"


def _days_since(session: Session, column: Any, today: date) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return cast(literal(today, Date) - column, Float)
    return func.julianday(literal(today.isoformat())) - func.julianday(column)


def _grouped(filters: Filters) -> Any:
    """One row per live customer who bought in the range: (customer_id, orders, amount,
    last_day, owner_id)."""
    return (select(Order.customer_id.label("customer_id"), func.count(Order.id).label("orders"),
                   _sum(receivables.kept_amount_sql()).label("amount"),
                   func.max(Order.order_date).label("last_day"), Customer.owner_id.label("owner_id"))
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.order_date >= filters.start, Order.order_date <= filters.end,
                   Order.state.not_in((OrderStatus.PENDING_REVIEW, OrderStatus.CANCELLED)),
                   Customer.deleted_at.is_(None))
            .group_by(Order.customer_id, Customer.owner_id))


def _averages(session: Session, table: Any, today: date) -> tuple[float, float, float]:
    row = session.execute(select(func.avg(_days_since(session, table.c.last_day, today)),
                                 func.avg(table.c.orders), func.avg(table.c.amount))).one()
    return float(row[0] or 0), float(row[1] or 0), float(row[2] or 0)


def _segment_expr(session: Session, table: Any, averages: tuple, today: date) -> Any:
    recency = _days_since(session, table.c.last_day, today)
    r_high, f_high, m_high = (recency <= averages[0]), (table.c.orders > averages[1]), (table.c.amount > averages[2])
    whens = [(and_(r_high if r else ~r_high, f_high if f else ~f_high, m_high if m else ~m_high), literal(key))
             for (r, f, m), key in _BY_FLAGS.items()]
    return case(*whens, else_=literal("general_retain"))


def rebuild_summary(session: Session, filters: Filters, today: date, now: datetime) -> None:
    """The summary job's part: this year's figures per customer, segmented against the company's
    averages, in the caller's transaction. The mark remembers the last ownership event and the
    time, so that counts can tell which customers moved or were binned since."""
    table = CustomerSales.__table__
    session.execute(delete(CustomerSales))
    last_event = session.scalar(select(func.max(OwnershipEvent.id))) or 0
    grouped = _grouped(filters).subquery()
    session.execute(insert(CustomerSales).from_select(
        ["customer_id", "orders", "amount", "last_day", "owner_id", "segment"],
        select(grouped.c.customer_id, grouped.c.orders, grouped.c.amount, grouped.c.last_day, grouped.c.owner_id,
               literal("general_retain"))))
    averages = _averages(session, table, today)
    session.execute(update(CustomerSales).values(segment=_segment_expr(session, table, averages, today)))
    # Fresh statistics, or SQLite ranks a department's customers by walking the whole table.
    session.execute(text(f"ANALYZE {CustomerSales.__tablename__}"))
    settings.put(session, SUMMARY_KEY, {"start": filters.start.isoformat(), "end": filters.end.isoformat(),
                                         "today": today.isoformat(), "averages": list(averages),
                                         "event": last_event, "at": now.isoformat()})


def drop_summary(session: Session) -> None:
    session.execute(delete(CustomerSales))
    settings.put(session, SUMMARY_KEY, None)


@dataclass
class Figures:
    table: Any                            # customer_id, orders, amount, last_day (and owner_id)
    segment: Any                          # each row's segment, an SQL expression
    averages: tuple[float, float, float]  # the company's R (days), F, M
    mark: dict[str, Any] | None = None    # the summary's mark; None for a temporary table


@contextmanager
def figures(session: Session, filters: Filters, today: date) -> Iterator[Figures]:
    """The per-customer figures of the range: the summary when it covers exactly the range,
    else the orders grouped once into a temporary table that is dropped on the way out."""
    mark = settings.get(session, SUMMARY_KEY)
    if mark and (mark["start"], mark["end"], mark["today"]) == (filters.start.isoformat(), filters.end.isoformat(),
                                                                 today.isoformat()):
        table = CustomerSales.__table__
        yield Figures(table, table.c.segment, tuple(mark["averages"]), mark)
        return
    created = CreateTableAs(_grouped(filters), f"kechi_rfm_{uuid4().hex[:12]}", temporary=True, metadata=MetaData())
    session.execute(created)
    table = created.table
    try:
        averages = _averages(session, table, today)
        yield Figures(table, _segment_expr(session, table, averages, today), averages)
    finally:
        session.execute(DropTable(table))


def _everyone(actor: Actor, filters: Filters) -> bool:
    """Whether the actor sees every live customer with no narrowing choice."""
    return actor.data_scope is DataScope.ALL and not filters.department_id and not filters.salesperson_id


def _add(counts: dict[str, int], rows: Any) -> None:
    for key, n in rows:
        counts[key] = counts.get(key, 0) + int(n)


def segment_counts(session: Session, actor: Actor, filters: Filters, fig: Figures) -> dict[str, int]:
    """Customers per segment among those the actor sees (and the page's department/salesperson).
    A temporary table is joined to the customers. The summary is counted by its owner column
    (an index), which is exact for every customer not moved or binned since the rebuild; those
    few are looked up among the customers as they are now, so the counts always follow the
    scope of this moment."""
    seg = fig.segment.label("segment")
    counts: dict[str, int] = {}
    if fig.mark is None:
        stmt = select(seg, func.count()).select_from(fig.table)
        if not _everyone(actor, filters):
            stmt = stmt.join(Customer, Customer.id == fig.table.c.customer_id).where(
                customer_where(actor, filters, created=False))
        _add(counts, session.execute(stmt.group_by(seg)))
        return counts
    t = fig.table
    since = datetime.fromisoformat(fig.mark["at"])
    moved = union(select(OwnershipEvent.customer_id).where(OwnershipEvent.id > fig.mark["event"]),
                  select(Customer.id).where(Customer.deleted_at >= since))
    _add(counts, session.execute(select(seg, func.count()).where(
        people_clause(t.c.owner_id, actor, filters), t.c.customer_id.not_in(moved)).group_by(seg)))
    now_visible = customer_where(actor, filters, created=False)
    _add(counts, session.execute(select(seg, func.count()).join(Customer, Customer.id == t.c.customer_id)
                                 .where(t.c.customer_id.in_(moved), now_visible).group_by(seg)))
    branches = scope.customer_branches(actor)
    if len(branches) > 1:  # shared with the actor, not owned within scope
        _add(counts, session.execute(select(seg, func.count()).join(Customer, Customer.id == t.c.customer_id)
                                     .where(branches[1], now_visible, t.c.customer_id.not_in(moved)).group_by(seg)))
    return counts


def customer_sales(session: Session, actor: Actor, filters: Filters, *, today: date, segment: str | None = None,
                   sort: str = "amount") -> Table:
    """Customers ranked by purchase amount (or count), each with its RFM segment; the chart
    counts customers per segment. The table shows the first TOP customers."""
    visible = customer_where(actor, filters, created=False)
    with figures(session, filters, today) as found_figures:
        fig, segment_of, averages = found_figures.table, found_figures.segment, found_figures.averages
        seg = segment_of.label("segment")
        counts = segment_counts(session, actor, filters, found_figures)
        order = ((fig.c.orders.desc(), fig.c.amount.desc()) if sort == "count"
                 else (fig.c.amount.desc(), fig.c.orders.desc()))
        stmt = (select(fig.c.customer_id, fig.c.orders, fig.c.amount, fig.c.last_day, seg, Customer.name)
                .join(Customer, Customer.id == fig.c.customer_id).where(visible)
                .order_by(*order, fig.c.customer_id).limit(TOP))
        if segment in SEGMENTS:
            stmt = stmt.where(segment_of == segment)
        found = session.execute(stmt).all()
    rows = []
    for rank, r in enumerate(found, 1):
        last = r.last_day if isinstance(r.last_day, date) else date.fromisoformat(str(r.last_day))
        rows.append({"rank": rank, "name": r.name, "customer_id": r.customer_id, "count": int(r.orders),
                     "amount": _money(r.amount), "last": last, "recency": (today - last).days,
                     "segment": str(SEGMENTS[r.segment]), "drill": None})
    columns = [Column("rank", _l("排名"), "int"), Column("name", _l("客户名称")),
               Column("count", _l("购买次数"), "int"), Column("amount", _l("购买金额"), "money"),
               Column("last", _l("最近购买"), "date"), Column("recency", _l("距今天数"), "int"),
               Column("segment", _l("RFM 分群"))]
    table = Table(columns, rows, "name", ["amount"])
    table.extra = {
        "segments": [{"key": k, "name": str(v), "count": int(counts.get(k, 0))} for k, v in SEGMENTS.items()],
        "averages": {"r": round(averages[0], 1), "f": round(averages[1], 2), "m": _money(Decimal(str(averages[2])))},
    }
    table.note = _l("与全公司平均比较：R（最近一次购买距今天数）不高于平均、F（购买次数）和 M（购买金额）"
                    "高于平均为“高”；表格列出前 %(n)d 名。", n=TOP)
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
    with figures(session, filters, today) as fig:
        members = select(fig.table.c.customer_id).where(fig.segment == segment)
        result = session.execute(update(Customer).where(Customer.id.in_(members), scope.customer_edit_clause(actor),
                                                        customer_where(actor, filters, created=False))
                                 # a new row version: an edit form opened before this batch is refused
                                 # (rules/versions.py), not saved over the new category
                                 .values(category_id=category_id, version=Customer.version + 1)
                                 .execution_options(synchronize_session=False))
    session.flush()
    return int(result.rowcount or 0)

