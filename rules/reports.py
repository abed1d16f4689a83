"""统计报表: every figure is one GROUP BY in SQL over the rows the actor may see.

Each report is a function `(session, actor, filters, ...) -> Table`. The WHERE clause of each
starts from rules/scope.py (customer_clause, owner_clause, order_clause, follow_up_clause) and
adds the page's date range and department/salesperson choice, so a 主管's chart counts only
their department and a 业务员's only their own. Only the grouped rows (a few dozen) reach
Python; the raw rows never do.

Timestamps are stored in UTC; a report's days, weeks and months are the firm's local calendar,
so datetime columns are shifted by the zone's offset inside SQL before they are bucketed.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Numeric, and_, case, func, literal, literal_column, or_, select, type_coerce
from sqlalchemy.orm import Session

from models.contract import Contract
from models.customer import Customer, FollowUp, OwnershipEvent, OwnershipReason
from models.dictionary import DictItem, DictKind
from models.org import Department, User
from models.system import CustomField
from models.product import Product, ProductCategory
from models.report import FollowUpDay, ProductDay, SalesDay
from models.sales import Order, OrderLine, OrderStatus, Payment
from rules import custom_fields, followups, receivables, report_summary, scope
from rules.actor import Actor
from rules.links import CustomFieldFilter, Days, DrillFilter, ListKind, ListLink

F = DrillFilter

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MONEY_SUM = Numeric(18, 2)


# --- what every report takes and gives -------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """The page's choices: a local date range (both days included) and, within the actor's
    scope, one department (with its sub-departments) or one salesperson."""

    start: date
    end: date
    tz: str = "Asia/Shanghai"
    department_id: int | None = None
    salesperson_id: int | None = None

    @property
    def utc_start(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=ZoneInfo(self.tz)).astimezone(timezone.utc)

    @property
    def utc_end(self) -> datetime:
        """The first instant after the range."""
        return datetime.combine(self.end + timedelta(days=1), time.min,
                                tzinfo=ZoneInfo(self.tz)).astimezone(timezone.utc)

    @property
    def offset_minutes(self) -> int:
        moment = datetime.combine(self.start, time(12), tzinfo=ZoneInfo(self.tz))
        return int(moment.utcoffset().total_seconds() // 60)


def default_filters(today: date, tz: str) -> Filters:
    """1 January of this year → today."""
    return Filters(start=date(today.year, 1, 1), end=today, tz=tz)


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    kind: str = "text"  # text | int | money | percent


@dataclass
class Table:
    """A report's numbers: the rows under the chart, the column charted as categories (`label`)
    and the columns charted as series. A row may carry `drill`: the list (a ListLink) that
    shows the records behind it, or `series_drill`: one per charted column."""

    columns: list[Column]
    rows: list[dict[str, Any]]
    label: str
    series: list[str]
    totals: dict[str, Any] | None = None
    note: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def series_columns(self) -> list[Column]:
        return [c for c in self.columns if c.key in self.series]


def _money(value: Any) -> Decimal:
    return Decimal(value if value is not None else 0).quantize(CENT)


def _sum(expr: Any) -> Any:
    return type_coerce(func.coalesce(func.sum(expr), 0), MONEY_SUM)


def _totals(rows: list[dict[str, Any]], columns: list[Column], label: str) -> dict[str, Any]:
    total: dict[str, Any] = {label: _l("合计")}
    for col in columns:
        if col.kind == "int":
            total[col.key] = sum(int(r.get(col.key) or 0) for r in rows)
        elif col.kind == "money":
            total[col.key] = sum((r.get(col.key) or ZERO for r in rows), ZERO)
    return total


# --- scope helpers ---------------------------------------------------------------------------

def people_clause(column: Any, actor: Actor, filters: Filters) -> ColumnElement[bool]:
    """`column` (an owner / salesperson / writer id) inside the actor's scope and the chosen
    department subtree or salesperson."""
    clauses = [scope.owner_clause(column, actor)]
    clauses.extend(_choice_clauses(column, filters))
    return and_(*clauses)


def _choice_clauses(column: Any, filters: Filters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.salesperson_id:
        clauses.append(column == filters.salesperson_id)
    if filters.department_id:
        subtree = (select(Department.path).where(Department.id == filters.department_id)).scalar_subquery()
        members = (select(User.id).join(Department, User.department_id == Department.id)
                   .where(Department.path.startswith(subtree)))
        clauses.append(column.in_(members))
    return clauses


def customer_where(actor: Actor, filters: Filters, *, created: bool = True) -> ColumnElement[bool]:
    """Customers the actor sees (rules/scope.customer_clause), owned by the chosen department or
    salesperson, created within the range (local days)."""
    clauses = [scope.customer_clause(actor), *_choice_clauses(Customer.owner_id, filters)]
    if created:
        clauses += [Customer.created_at >= filters.utc_start, Customer.created_at < filters.utc_end]
    return and_(*clauses)


def created_by_where(actor: Actor, filters: Filters) -> list[ColumnElement[bool]]:
    """新增客户 of salespeople: customers created within the range by someone in the actor's
    scope (and the chosen department or salesperson), wherever they are now: in the pool, with
    another owner; only the recycle bin's are left out. A recycle or a transfer never changes
    who created a customer, so the figure of a past month stays what it was."""
    return [Customer.deleted_at.is_(None), Customer.created_by_id.is_not(None),
            people_clause(Customer.created_by_id, actor, filters),
            Customer.created_at >= filters.utc_start, Customer.created_at < filters.utc_end]


def order_where(actor: Actor, filters: Filters) -> ColumnElement[bool]:
    """Orders the actor sees (rules/scope.order_clause) dated within the range, sold by the
    chosen department or salesperson; orders still 等待审核 never count."""
    return and_(scope.order_clause(actor), *_choice_clauses(Order.salesperson_id, filters),
                Order.order_date >= filters.start, Order.order_date <= filters.end,
                Order.state != OrderStatus.PENDING_REVIEW)


def contract_where(actor: Actor, filters: Filters) -> ColumnElement[bool]:
    """Contracts the actor sees (rules/scope.contract_clause) signed within the range, owned by
    the chosen department or salesperson: executed ones, and voided ones still holding money."""
    return and_(scope.contract_clause(actor), *_choice_clauses(Contract.owner_id, filters),
                Contract.signed_on >= filters.start, Contract.signed_on <= filters.end,
                receivables.contract_counted_sql())


def contract_receipts_where(actor: Actor, filters: Filters) -> ColumnElement[bool]:
    """Approved receipts and refunds booked on executed contracts (a voided contract's money is
    to be refunded, as a cancelled order's), paid within the range, credited (业绩归属) to someone
    in the actor's scope and the chosen department or salesperson: a salesperson sees all the
    money credited to them, also on a contract now owned by a colleague."""
    _cash, booked = receivables.contract_receipts_sql()
    executed = (select(Contract.id).where(Contract.id == Payment.contract_id,
                                          Contract.status.in_(receivables.CONTRACT_RECEIVABLE_STATES),
                                          Contract.deleted_at.is_(None)).exists())
    return and_(booked, Payment.owner_id.is_not(None), people_clause(Payment.owner_id, actor, filters),
                Payment.paid_on >= filters.start, Payment.paid_on <= filters.end, executed)


# The order states each report counts, as the order list's 状态范围 filter takes them.
REVIEWED_STATES = tuple(s.value for s in OrderStatus if s != OrderStatus.PENDING_REVIEW)
SOLD_STATES = tuple(s for s in REVIEWED_STATES if s != OrderStatus.CANCELLED)


def people_drill(filters: Filters) -> dict[DrillFilter, Any]:
    """The page's salesperson / department choice as list filters on the list's owner (a
    customer's or an order's 业务员, a follow-up's writer), so a drill-down list narrows exactly
    as the chart did."""
    drill: dict[DrillFilter, Any] = {}
    if filters.salesperson_id:
        drill[F.OWNER] = filters.salesperson_id
    if filters.department_id:
        drill[F.OWNER_DEPARTMENT_TREE] = filters.department_id
    return drill


def follow_up_where(actor: Actor, filters: Filters) -> ColumnElement[bool]:
    return and_(scope.follow_up_clause(actor), followups.COUNTED, *_choice_clauses(FollowUp.user_id, filters),
                FollowUp.happened_at >= filters.utc_start, FollowUp.happened_at < filters.utc_end)


def people_in_scope(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """The salesperson drop-down: staff inside the actor's scope."""
    stmt = (select(User.id, User.display_name).where(scope.owner_clause(User.id, actor))
            .order_by(User.active.desc(), User.display_name))
    return [(row.id, row.display_name) for row in session.execute(stmt)]


def departments_in_scope(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """The department drop-down: every department for a company-wide scope, otherwise those
    where someone in scope works; indented by depth."""
    stmt = select(Department.id, Department.name, Department.path)
    if actor.data_scope.value != "all":
        stmt = stmt.where(Department.id.in_(select(User.department_id).where(scope.owner_clause(User.id, actor))))
    rows = session.execute(stmt.order_by(Department.path)).all()
    return [(r.id, "\u3000" * max(r.path.strip("/").count("/"), 0) + r.name) for r in rows]


# --- local-calendar buckets in SQL -----------------------------------------------------------

GRAINS = ("day", "week", "month", "year")
_SQLITE_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
_PG_FORMATS = {"day": "YYYY-MM-DD", "month": "YYYY-MM", "year": "YYYY"}


def bucket(session: Session, column: Any, grain: str, filters: Filters, *, is_date: bool = False) -> Any:
    """The local day / week (its Monday) / month / year of `column` as text, e.g. 2026-03."""
    dialect = session.get_bind().dialect.name
    minutes = 0 if is_date else filters.offset_minutes
    if dialect == "postgresql":
        shifted = column if is_date else column + func.make_interval(0, 0, 0, 0, 0, minutes)
        if grain == "week":
            return func.to_char(func.date_trunc("week", shifted), "YYYY-MM-DD")
        return func.to_char(shifted, _PG_FORMATS[grain])
    modifier = f"{minutes:+d} minutes"
    if grain == "week":
        return func.date(column, modifier, "weekday 0", "-6 days")
    return func.strftime(_SQLITE_FORMATS[grain], column, modifier)


def bucket_labels(filters: Filters, grain: str) -> list[str]:
    """Every bucket of the range, so quiet months show as zero instead of vanishing."""
    labels: list[str] = []
    day = filters.start
    if grain == "week":
        day -= timedelta(days=day.weekday())
    while day <= filters.end and len(labels) < 5000:
        if grain == "day":
            labels.append(day.isoformat())
            day += timedelta(days=1)
        elif grain == "week":
            labels.append(day.isoformat())
            day += timedelta(days=7)
        elif grain == "month":
            labels.append(f"{day.year:04d}-{day.month:02d}")
            day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        else:
            labels.append(f"{day.year:04d}")
            day = date(day.year + 1, 1, 1)
    return labels


# --- 客户数量报表 / 新增客户走势 / 销售漏斗 -------------------------------------------------------

DIMENSIONS: dict[str, Any] = {
    "province": _l("省份"), "city": _l("城市"), "department": _l("部门"), "category": _l("客户分类"),
    "salesperson": _l("业务员"), "source": _l("客户来源"), "industry": _l("所属行业"),
    "value_level": _l("价值等级"), "stage": _l("跟进程度"), "year": _l("创建年份"),
    "mobile_province": _l("客户手机归属地（省份）"),
}
_DICT_COLUMNS = {"category": Customer.category_id, "source": Customer.source_id, "industry": Customer.industry_id,
                 "value_level": Customer.value_level_id, "stage": Customer.stage_id}
_DICT_FILTERS = {"category": F.CATEGORY, "source": F.SOURCE, "industry": F.INDUSTRY, "value_level": F.VALUE_LEVEL,
                 "stage": F.STAGE}
UNSET = _l("未设置")


# PostgreSQL binds at most 65,535 parameters in one statement; a report may name more rows.
NAME_CHUNK = 10_000


def _names(session: Session, model: Any, ids: Iterable[Any], attr: str) -> dict[Any, str]:
    wanted = list(dict.fromkeys(i for i in ids if i is not None))
    names: dict[Any, str] = {}
    for start in range(0, len(wanted), NAME_CHUNK):
        chunk = wanted[start:start + NAME_CHUNK]
        names.update(session.execute(select(model.id, getattr(model, attr)).where(model.id.in_(chunk))).all())
    return names


def customer_counts(session: Session, actor: Actor, filters: Filters, *, by: str = "province",
                    province: str | None = None, created: bool = False) -> Table:
    """客户数量报表: the customers that exist now (in the actor's scope, not in the recycle bin)
    counted by one dimension, or by a custom field's values (`by` = cf_<key>); only those
    created within the range when `created` is asked for."""
    field = statistics_field(session, by)
    if field is not None:
        return _custom_counts(session, actor, filters, field, created=created)
    if by not in DIMENSIONS:
        by = "province"
    where = customer_where(actor, filters, created=created)
    if by == "city":
        key = Customer.city
        where = and_(where, Customer.province == province) if province else where
    elif by == "province":
        key = Customer.province
    elif by == "mobile_province":
        key = Customer.mobile_province
    elif by == "department":
        key = Customer.department_id
    elif by == "salesperson":
        key = Customer.owner_id
    elif by == "year":
        key = bucket(session, Customer.created_at, "year", filters)
    else:
        key = _DICT_COLUMNS[by]
    count = func.count()
    if by != "year" and session.get_bind().dialect.name == "sqlite":
        # "+column" is the column's value, but SQLite then cannot walk the column's own index for
        # the GROUP BY (fetching every customer row: 1.5 s at 1M) and reads the covering report
        # index instead (0.4 s). PostgreSQL plans this well as it is.
        key = literal_column(f"+customers.{key.expression.name}")
    stmt = select(key.label("key"), count.label("count")).where(where).group_by(key)
    stmt = stmt.order_by(key) if by == "year" else stmt.order_by(count.desc(), key)
    found = session.execute(stmt).all()
    keys = [r.key for r in found]
    if by == "department":
        names = _names(session, Department, keys, "name")
    elif by == "salesperson":
        names = _names(session, User, keys, "display_name")
    elif by in _DICT_COLUMNS:
        names = _names(session, DictItem, keys, "name")
    else:
        names = {k: k for k in keys if k is not None}
    total = sum(r.count for r in found) or 1
    rows = []
    for r in found:
        row = {"name": names.get(r.key) or (str(UNSET) if r.key is None else str(r.key)),
               "count": int(r.count), "share": Decimal(r.count * 100) / total, "drill": None}
        if r.key is not None:
            row["drill"] = _customer_drill(by, r.key, province, filters, created=created)
        rows.append(row)
    if by == "year" and len(rows) > 1:
        for before, after in zip(rows, rows[1:]):
            after["growth"] = (Decimal(after["count"] - before["count"]) * 100 / before["count"]
                               if before["count"] else None)
    columns = [Column("name", DIMENSIONS[by]), Column("count", _l("客户数"), "int"),
               Column("share", _l("占比"), "percent")]
    if by == "year":
        columns.append(Column("growth", _l("比上年增长"), "percent"))
    table = Table(columns, rows, "name", ["count"])
    table.totals = _totals(rows, columns, "name")
    return table


CUSTOM_PREFIX = "cf_"


def dimensions(session: Session) -> dict[str, Any]:
    """客户数量报表's dimensions: the fixed ones, then each custom field marked 统计."""
    return {**DIMENSIONS, **{CUSTOM_PREFIX + d.key: d.label for d in custom_fields.statistics_fields(session)}}


def statistics_field(session: Session, by: str) -> CustomField | None:
    if not by.startswith(CUSTOM_PREFIX):
        return None
    return next((d for d in custom_fields.statistics_fields(session) if CUSTOM_PREFIX + d.key == by), None)


def _custom_value_clauses(field: CustomField) -> list[tuple[str, Any, ColumnElement[bool]]]:
    """(row label, list filter value, condition) per value of a choice or yes/no field. A
    multi-choice customer counts under each option it holds, as the list's 包含 filter finds it."""
    value = Customer.custom[field.key]
    if field.field_type == "boolean":
        yes = value.as_boolean().is_(True)
        return [(str(_l("是")), "1", yes), (str(_l("否")), "0", or_(value.as_boolean().is_not(True),
                                                                  value.as_boolean().is_(None)))]
    if field.field_type == "multi_choice":
        return [(o, o, custom_fields.holds_option(value.as_string(), o)) for o in field.options]
    return [(o, o, value.as_string() == o) for o in field.options]


def _custom_counts(session: Session, actor: Actor, filters: Filters, field: CustomField, *,
                   created: bool) -> Table:
    """客户数量报表 by a custom field: one pass over the customers, a sum per value."""
    clauses = _custom_value_clauses(field)
    sums = [func.coalesce(func.sum(case((cond, 1), else_=0)), 0) for _label, _value, cond in clauses]
    unset = func.coalesce(func.sum(case((or_(*[cond for _label, _value, cond in clauses]), 0), else_=1)), 0)
    found = session.execute(select(func.count(), unset, *sums).where(
        customer_where(actor, filters, created=created))).one()
    total, missing, counts = int(found[0]), int(found[1]), [int(n) for n in found[2:]]
    base: dict[Any, Any] = {**({F.CREATED_ON: Days(filters.start, filters.end)} if created else {}),
                            **people_drill(filters)}
    rows = [{"name": label, "count": n, "share": Decimal(n * 100) / (total or 1),
             "drill": ListLink.of(ListKind.CUSTOMER, {**base, CustomFieldFilter(field.key): value}) if n else None}
            for (label, value, _c), n in zip(clauses, counts)]
    if missing and field.field_type != "boolean":
        rows.append({"name": str(UNSET), "count": missing, "share": Decimal(missing * 100) / (total or 1),
                     "drill": None})
    columns = [Column("name", field.label), Column("count", _l("客户数"), "int"), Column("share", _l("占比"), "percent")]
    table = Table(columns, rows, "name", ["count"])
    table.totals = {"name": _l("客户总数"), "count": total}
    if field.field_type == "multi_choice":
        table.note = _l("多选字段：一个客户选了几项就计入几项，各项之和可能大于客户总数。")
    return table


def _customer_drill(by: str, key: Any, province: str | None, filters: Filters, *,
                    created: bool = True) -> ListLink | None:
    """The customer list narrowed to the customers behind one bar."""
    base: dict[DrillFilter, Any] = {**({F.CREATED_ON: Days(filters.start, filters.end)} if created else {}),
                                    **people_drill(filters)}
    if by == "province":
        narrow = {F.PROVINCE: key}
    elif by == "mobile_province":
        narrow = {F.MOBILE_PROVINCE: key}
    elif by == "city":
        narrow = {F.CITY: key, **({F.PROVINCE: province} if province else {})}
    elif by == "salesperson":
        if filters.salesperson_id and filters.salesperson_id != key:
            return None
        narrow = {F.OWNER: key}
    elif by in _DICT_FILTERS:
        narrow = {_DICT_FILTERS[by]: key}
    elif by == "department":  # the department that owned the customer, as grouped
        narrow = {F.DEPARTMENT: key}
    elif by == "reached":  # 销售漏斗: the ids of a stage and the later ones
        narrow = {F.STAGE_REACHED: tuple(key)}
    elif by == "year":
        year = int(key)
        first, last = date(year, 1, 1), date(year, 12, 31)
        narrow = {F.CREATED_ON: Days(max(filters.start, first), min(filters.end, last)) if created else Days(first, last)}
    else:
        return None
    return ListLink.of(ListKind.CUSTOMER, base | narrow)


def new_customers(session: Session, actor: Actor, filters: Filters, *, grain: str = "month") -> Table:
    """新增客户走势: customers created per local day / week / month / year."""
    grain = grain if grain in GRAINS else "month"
    key = bucket(session, Customer.created_at, grain, filters)
    stmt = (select(key.label("key"), func.count().label("count"))
            .where(customer_where(actor, filters)).group_by(key))
    counts = {r.key: int(r.count) for r in session.execute(stmt)}
    rows = []
    for label in bucket_labels(filters, grain):
        rows.append({"period": label, "count": counts.get(label, 0),
                     "drill": ListLink.of(ListKind.CUSTOMER, {F.CREATED_ON: _bucket_range(label, grain, filters),
                                                              **people_drill(filters)})})
    columns = [Column("period", _l("时间")), Column("count", _l("新增客户"), "int")]
    table = Table(columns, rows, "period", ["count"])
    table.totals = _totals(rows, columns, "period")
    return table


def funnel(session: Session, actor: Actor, filters: Filters) -> Table:
    """销售漏斗: customers by 跟进程度 in the dictionary's order. Only the stages marked as funnel
    steps are ordered: a customer at a later step has passed the earlier ones, so each step
    counts those at it or beyond, and conversion runs from step to step. Stages beside the
    funnel (搁置, 流失) are counted apart and take part in no step or rate."""
    stages = session.execute(select(DictItem.id, DictItem.name, DictItem.funnel_step)
                             .where(DictItem.kind == DictKind.STAGE)
                             .order_by(DictItem.sort_order, DictItem.id)).all()
    steps = [s for s in stages if s.funnel_step]
    stmt = (select(Customer.stage_id, func.count()).where(customer_where(actor, filters))
            .group_by(Customer.stage_id))
    at = dict(session.execute(stmt).all())
    rows: list[dict[str, Any]] = []
    reached = sum(at.get(s.id, 0) for s in steps)
    previous = None
    for pos, stage in enumerate(steps):
        here = at.get(stage.id, 0)
        later = tuple(s.id for s in steps[pos:])  # reached = at this step or a later one
        rows.append({"name": stage.name, "at": here, "reached": reached,
                     "conversion": (Decimal(reached * 100) / previous) if previous else None,
                     "drill": _customer_drill("reached", later, None, filters)})
        previous = reached
        reached -= here
    apart = [{"name": s.name, "at": at.get(s.id, 0), "drill": _customer_drill("stage", s.id, None, filters)}
             for s in stages if not s.funnel_step]
    columns = [Column("name", _l("跟进程度")), Column("at", _l("处于该阶段"), "int"),
               Column("reached", _l("到达该阶段"), "int"), Column("conversion", _l("上一阶段转化率"), "percent")]
    table = Table(columns, rows, "name", ["reached"])
    table.extra["apart"] = apart
    table.note = _l("未设置跟进程度的客户 %(n)d 个不计入漏斗。", n=at.get(None, 0))
    return table


# --- 公司销售报表 / 产品销售报表 / 业务员业绩报表 -------------------------------------------------

def company_sales(session: Session, actor: Actor, filters: Filters) -> Table:
    """公司销售报表 by month: orders by order date (等待审核 excluded; one produced from a
    contract counts in its contract) plus executed contracts by signing date: 应收, 实收, 欠款,
    应退, 实退; 欠款 and 应退 are per order / per contract, as on their pages. The contract part is
    always aggregated from the contracts themselves (the summaries hold orders only)."""
    if report_summary.built_at(session):
        month = bucket(session, SalesDay.day, "month", filters, is_date=True)
        stmt = (select(month.label("month"), func.sum(SalesDay.orders).label("orders"),
                       _sum(SalesDay.receivable).label("receivable"), _sum(SalesDay.received).label("received"),
                       _sum(SalesDay.outstanding).label("outstanding"), _sum(SalesDay.refundable).label("refundable"),
                       _sum(SalesDay.refunded).label("refunded"))
                .where(_summary_where(SalesDay.day, SalesDay.salesperson_id, actor, filters)).group_by(month))
    else:
        # 应收/欠款/应退 as rules/receivables.py defines them for every page.
        month = bucket(session, Order.order_date, "month", filters, is_date=True)
        stmt = (select(month.label("month"), func.count(Order.id).label("orders"),
                       _sum(receivables.receivable_sql()).label("receivable"), _sum(Order.received).label("received"),
                       _sum(receivables.outstanding_sql()).label("outstanding"),
                       _sum(receivables.refundable_sql()).label("refundable"),
                       _sum(Order.refunded).label("refunded"))
                .where(order_where(actor, filters), receivables.own_order_sql()).group_by(month))
    found = {r.month: r for r in session.execute(stmt)}
    contracts = _contract_sales_by_month(session, actor, filters)
    keys = ("receivable", "received", "outstanding", "refundable", "refunded")
    rows = []
    for label in bucket_labels(filters, "month"):
        r, c = found.get(label), contracts.get(label)
        rows.append({"month": label, "orders": int(r.orders) if r else 0,
                     "contracts": int(c.contracts or 0) if c else 0,
                     **{k: (_money(getattr(r, k)) if r else ZERO) + (_money(getattr(c, k, 0)) if c else ZERO)
                        for k in keys},
                     "drill": _order_drill(filters, _bucket_range(label, "month", filters), REVIEWED_STATES)})
    columns = [Column("month", _l("月份")), Column("orders", _l("订单数"), "int"),
               Column("receivable", _l("应收"), "money"), Column("received", _l("实收"), "money"),
               Column("outstanding", _l("欠款"), "money"), Column("refundable", _l("应退"), "money"),
               Column("refunded", _l("实退"), "money"), Column("contracts", _l("合同数"), "int")]
    table = Table(columns, rows, "month", ["receivable", "received", "outstanding"])
    table.totals = _totals(rows, columns, "month")
    _summary_note(session, table)  # 应收/欠款's definition is in the page's 统计口径 block
    return table


def _contract_sales_by_month(session: Session, actor: Actor, filters: Filters) -> dict[str, Any]:
    """公司销售报表's contract part, by month of the signing date: 应收/实收/欠款/应退 as
    rules/receivables.py defines them (实收 net of refunds, so no 实退 of its own)."""
    month = bucket(session, Contract.signed_on, "month", filters, is_date=True)
    executed = case((Contract.status.in_(receivables.CONTRACT_RECEIVABLE_STATES), 1), else_=0)
    stmt = (select(month.label("month"), func.sum(executed).label("contracts"),
                   _sum(receivables.contract_receivable_sql()).label("receivable"),
                   _sum(Contract.received).label("received"),
                   _sum(receivables.contract_outstanding_sql()).label("outstanding"),
                   _sum(receivables.contract_refundable_sql()).label("refundable"))
            .where(contract_where(actor, filters)).group_by(month))
    return {r.month: r for r in session.execute(stmt)}


def _order_drill(filters: Filters, days: Days, states: tuple[str, ...],
                 narrow: dict[DrillFilter, Any] | None = None) -> ListLink:
    """The order list of those days and states (and product, category or salesperson), with
    the page's salesperson / department choice."""
    return ListLink.of(ListKind.ORDER, {**(narrow or {}), F.ORDER_DATE: days, F.STATE_IN: tuple(states),
                                        **people_drill(filters)})


def _summary_where(day: Any, person: Any, actor: Actor, filters: Filters) -> ColumnElement[bool]:
    """Summary rows of the range whose salesperson (or writer) is in the actor's scope."""
    return and_(day >= filters.start, day <= filters.end, people_clause(person, actor, filters))


def _summary_note(session: Session, table: Table) -> None:
    at = report_summary.built_at(session)
    if at:
        table.extra["summary_at"] = at
        table.note = _l("%(note)s 数据来自定时汇总，按业务员归属统计。", note=table.note or "")


def _sold_where(actor: Actor, filters: Filters) -> ColumnElement[bool]:
    """Orders that sold something: past review and not cancelled."""
    return and_(order_where(actor, filters), Order.state != OrderStatus.CANCELLED)


def _returned_amount_of_line() -> Any:
    """A line's share of its order's returned value, as rules/orders.return_order computes it."""
    part = func.round(OrderLine.amount * OrderLine.returned_quantity / OrderLine.quantity, 2)
    return case((OrderLine.returned_quantity == 0, literal(0)),
                (OrderLine.returned_quantity == OrderLine.quantity, OrderLine.amount), else_=part)


def product_sales(session: Session, actor: Actor, filters: Filters, *, by: str = "product") -> Table:
    """产品销售报表 by product or by category: quantity, amount, returned quantity and amount,
    ranked by net amount."""
    by = by if by in ("product", "category") else "product"
    key = Product.id if by == "product" else Product.category_id
    if report_summary.built_at(session):
        stmt = (select(key.label("key"), func.sum(ProductDay.quantity).label("quantity"),
                       _sum(ProductDay.amount).label("amount"),
                       func.sum(ProductDay.returned_quantity).label("returned_quantity"),
                       _sum(ProductDay.returned_amount).label("returned_amount"))
                .join(Product, ProductDay.product_id == Product.id)
                .where(_summary_where(ProductDay.day, ProductDay.salesperson_id, actor, filters)).group_by(key))
    else:
        stmt = (select(key.label("key"), func.sum(OrderLine.quantity).label("quantity"),
                       _sum(OrderLine.amount).label("amount"),
                       func.sum(OrderLine.returned_quantity).label("returned_quantity"),
                       _sum(_returned_amount_of_line()).label("returned_amount"))
                .join(Order, OrderLine.order_id == Order.id).join(Product, OrderLine.product_id == Product.id)
                .where(_sold_where(actor, filters)).group_by(key))
    found = session.execute(stmt).all()
    if by == "product":
        names = {r.id: f"{r.code} {r.name}" for r in session.execute(
            select(Product.id, Product.code, Product.name).where(Product.id.in_([f.key for f in found])))}
    else:
        names = _names(session, ProductCategory, [f.key for f in found], "name")
    rows = []
    for r in found:
        amount, returned = _money(r.amount), _money(r.returned_amount)
        rows.append({"name": names.get(r.key) or str(UNSET), "quantity": int(r.quantity or 0), "amount": amount,
                     "returned_quantity": int(r.returned_quantity or 0), "returned_amount": returned,
                     "net_quantity": int(r.quantity or 0) - int(r.returned_quantity or 0),
                     "net_amount": amount - returned,
                     "drill": None if r.key is None else _order_drill(
                         filters, Days(filters.start, filters.end), SOLD_STATES,
                         {F.PRODUCT if by == "product" else F.PRODUCT_CATEGORY: r.key})})
    rows.sort(key=lambda row: (-row["net_amount"], row["name"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    columns = [Column("rank", _l("排名"), "int"),
               Column("name", _l("产品") if by == "product" else _l("产品类别")),
               Column("quantity", _l("销售数量"), "int"), Column("amount", _l("销售金额"), "money"),
               Column("returned_quantity", _l("退货数量"), "int"), Column("returned_amount", _l("退货金额"), "money"),
               Column("net_quantity", _l("净销量"), "int"), Column("net_amount", _l("净销售额"), "money")]
    table = Table(columns, rows, "name", ["net_amount"])
    table.totals = _totals(rows, columns, "name")
    table.totals["rank"] = None
    table.note = _l("不含等待审核和已取消的订单。")
    _summary_note(session, table)
    return table


def salesperson_performance(session: Session, actor: Actor, filters: Filters) -> Table:
    """业务员业绩报表, the basis for commission: orders, sales net of returns, money received net of
    refunds, new customers and follow-ups of each salesperson in scope."""
    summary = report_summary.built_at(session) is not None
    if summary:
        sales_stmt = (select(SalesDay.salesperson_id.label("uid"), func.sum(SalesDay.orders).label("orders"),
                             _sum(SalesDay.amount).label("amount"),
                             _sum(SalesDay.received - SalesDay.refunded).label("received"))
                      .where(_summary_where(SalesDay.day, SalesDay.salesperson_id, actor, filters),
                             SalesDay.state != OrderStatus.CANCELLED)
                      .group_by(SalesDay.salesperson_id))
        follow_stmt = (select(FollowUpDay.user_id, func.sum(FollowUpDay.count))
                       .where(_summary_where(FollowUpDay.day, FollowUpDay.user_id, actor, filters))
                       .group_by(FollowUpDay.user_id))
    else:
        sales_stmt = (select(Order.salesperson_id.label("uid"), func.count(Order.id).label("orders"),
                             _sum(receivables.kept_amount_sql()).label("amount"),
                             _sum(Order.received - Order.refunded).label("received"))
                      .where(_sold_where(actor, filters), receivables.own_order_sql(),
                             people_clause(Order.salesperson_id, actor, filters))
                      .group_by(Order.salesperson_id))
        follow_stmt = (select(FollowUp.user_id, func.count(FollowUp.id))
                       .where(follow_up_where(actor, filters), people_clause(FollowUp.user_id, actor, filters))
                       .group_by(FollowUp.user_id))
    sales = {r.uid: r for r in session.execute(sales_stmt)}
    signed = {r.uid: r for r in session.execute(
        select(Contract.owner_id.label("uid"), func.count(Contract.id).label("contracts"),
               _sum(Contract.total).label("amount"))
        .where(contract_where(actor, filters), Contract.status.in_(receivables.CONTRACT_RECEIVABLE_STATES),
               people_clause(Contract.owner_id, actor, filters))
        .group_by(Contract.owner_id))}
    cash, _booked = receivables.contract_receipts_sql()
    collected = dict(session.execute(
        select(Payment.owner_id, _sum(cash)).where(contract_receipts_where(actor, filters))
        .group_by(Payment.owner_id)).all())
    new = dict(session.execute(
        select(Customer.created_by_id, func.count())
        .where(*created_by_where(actor, filters)).group_by(Customer.created_by_id)).all())
    follow = dict(session.execute(follow_stmt).all())
    ids = set(sales) | set(signed) | set(collected) | {k for k in new if k is not None} | set(follow)
    names = _names(session, User, ids, "display_name")
    rows = []
    for uid in ids:
        s, c = sales.get(uid), signed.get(uid)
        rows.append({"name": names.get(uid, str(uid)), "orders": int(s.orders) if s else 0,
                     "contracts": int(c.contracts) if c else 0,
                     "amount": (_money(s.amount) if s else ZERO) + (_money(c.amount) if c else ZERO),
                     "received": (_money(s.received) if s else ZERO) + _money(collected.get(uid)),
                     "new_customers": int(new.get(uid, 0)), "follow_ups": int(follow.get(uid, 0)),
                     "drill": _order_drill(filters, Days(filters.start, filters.end), SOLD_STATES, {F.OWNER: uid})
                     if s and s.orders else None})
    rows.sort(key=lambda row: (-row["amount"], -row["orders"], row["name"]))
    columns = [Column("name", _l("业务员")), Column("orders", _l("成交订单"), "int"),
               Column("amount", _l("销售额"), "money"), Column("received", _l("实收"), "money"),
               Column("new_customers", _l("新增客户"), "int"), Column("follow_ups", _l("跟进次数"), "int"),
               Column("contracts", _l("成交合同"), "int")]
    table = Table(columns, rows, "name", ["amount", "received"])
    table.totals = _totals(rows, columns, "name")
    table.note = _l("销售额 = 订单扣除退货后的金额 + 执行中和已完成的合同金额；实收扣除退款；"
                    "不含等待审核和已取消的订单，由合同生成的订单计入其合同。")
    _summary_note(session, table)
    return table


# --- 客户跟进报表 / 客户池报表 -------------------------------------------------------------------

def follow_ups(session: Session, actor: Actor, filters: Filters, *, by: str = "salesperson") -> Table:
    """客户跟进报表: follow-ups by salesperson, by department, or per day / month / year."""
    summary = report_summary.built_at(session) is not None
    if summary:
        writer, count = FollowUpDay.user_id, func.sum(FollowUpDay.count)
        where = _summary_where(FollowUpDay.day, FollowUpDay.user_id, actor, filters)
        when, is_date = FollowUpDay.day, True
    else:
        writer, count, where = FollowUp.user_id, func.count(FollowUp.id), follow_up_where(actor, filters)
        when, is_date = FollowUp.happened_at, False
    if by in ("day", "month", "year"):
        key = bucket(session, when, by, filters, is_date=is_date)
        counts = dict(session.execute(select(key, count).where(where).group_by(key)).all())
        rows = [{"name": label, "count": int(counts.get(label, 0)),
                 "drill": _follow_up_drill(filters, _bucket_range(label, by, filters))}
                for label in bucket_labels(filters, by)]
        label = _l("时间")
    elif by == "department":
        stmt = select(User.department_id, count).join(User, writer == User.id).where(where).group_by(User.department_id)
        counts = dict(session.execute(stmt).all())
        names = _names(session, Department, counts, "name")
        rows = [{"name": names.get(k) or str(UNSET), "count": int(v),
                 "drill": None if k is None else ListLink.of(ListKind.FOLLOW_UP, {
                     F.OWNER_DEPARTMENT_ONLY: k, F.HAPPENED_ON: Days(filters.start, filters.end),
                     **people_drill(filters)})}
                for k, v in counts.items()]
        rows.sort(key=lambda r: -r["count"])
        label = _l("部门")
    else:
        counts = dict(session.execute(select(writer, count).where(where).group_by(writer)).all())
        names = _names(session, User, counts, "display_name")
        rows = [{"name": names.get(k, str(k)), "count": int(v),
                 "drill": ListLink.of(ListKind.FOLLOW_UP, {F.OWNER: k,
                                                           F.HAPPENED_ON: Days(filters.start, filters.end)})}
                for k, v in counts.items()]
        rows.sort(key=lambda r: -r["count"])
        label = _l("业务员")
    columns = [Column("name", label), Column("count", _l("跟进次数"), "int")]
    table = Table(columns, rows, "name", ["count"])
    table.totals = _totals(rows, columns, "name")
    if summary:
        _summary_note(session, table)
    return table


def _bucket_range(label: str, grain: str, filters: Filters) -> Days:
    """The local days of one day / week / month / year bucket, within the range."""
    if grain == "day":
        first = last = date.fromisoformat(label)
    elif grain == "week":  # labelled by its Monday
        first = date.fromisoformat(label)
        last = first + timedelta(days=6)
    elif grain == "month":
        first = date.fromisoformat(label + "-01")
        last = date(first.year + (first.month == 12), first.month % 12 + 1, 1) - timedelta(days=1)
    else:
        first, last = date(int(label), 1, 1), date(int(label), 12, 31)
    return Days(max(first, filters.start), min(last, filters.end))


def _follow_up_drill(filters: Filters, days: Days) -> ListLink:
    """The follow-up list of those days, written by the chosen salesperson or department."""
    return ListLink.of(ListKind.FOLLOW_UP, {F.HAPPENED_ON: days, **people_drill(filters)})


def not_followed(session: Session, actor: Actor, filters: Filters, *, days: int, now: datetime) -> Table:
    """Owned customers in scope with no follow-up for `days` days (or never), per salesperson."""
    since = now - timedelta(days=days)
    stmt = (select(Customer.owner_id, func.count())
            .where(customer_where(actor, filters, created=False), Customer.owner_id.is_not(None),
                   or_(Customer.last_follow_up_at.is_(None), Customer.last_follow_up_at < since))
            .group_by(Customer.owner_id))
    counts = dict(session.execute(stmt).all())
    names = _names(session, User, counts, "display_name")
    rows = [{"name": names.get(k, str(k)), "count": int(v),
             "drill": ListLink.of(ListKind.CUSTOMER, {F.OWNER: k, F.LAST_FOLLOW_UP_BEFORE: since})}
            for k, v in counts.items()]
    rows.sort(key=lambda r: -r["count"])
    columns = [Column("name", _l("业务员")), Column("count", _l("超过 %(n)d 天未跟进", n=days), "int")]
    table = Table(columns, rows, "name", ["count"])
    table.totals = _totals(rows, columns, "name")
    return table


CLAIM_REASONS = (OwnershipReason.CLAIM, OwnershipReason.APPROVED)
LEAVE_REASONS = (OwnershipReason.RELEASE, OwnershipReason.RECYCLE, OwnershipReason.RECALL)


def pool_activity(session: Session, actor: Actor, filters: Filters) -> Table:
    """客户池报表 per salesperson in scope: claims (领用, approved requests), releases, recycles,
    recalls within the range, from the ownership log."""
    in_range = and_(OwnershipEvent.at >= filters.utc_start, OwnershipEvent.at < filters.utc_end)
    taken = and_(OwnershipEvent.reason.in_(CLAIM_REASONS), OwnershipEvent.from_user_id.is_(None),
                 people_clause(OwnershipEvent.to_user_id, actor, filters))
    left = and_(OwnershipEvent.reason.in_(LEAVE_REASONS), OwnershipEvent.to_user_id.is_(None),
                people_clause(OwnershipEvent.from_user_id, actor, filters))
    # One pass over the range of each counted reason (models/report.py's reason/time index).
    found = session.execute(
        select(OwnershipEvent.reason, OwnershipEvent.from_user_id, OwnershipEvent.to_user_id, func.count())
        .where(OwnershipEvent.reason.in_(CLAIM_REASONS + LEAVE_REASONS), in_range, or_(taken, left))
        .group_by(OwnershipEvent.reason, OwnershipEvent.from_user_id, OwnershipEvent.to_user_id))
    per: dict[int, dict[str, int]] = {}
    for reason, from_user, to_user, n in found:
        uid, key = (to_user, "claim") if reason in CLAIM_REASONS else (from_user, reason)
        counts = per.setdefault(uid, {})
        counts[key] = counts.get(key, 0) + int(n)
    names = _names(session, User, per, "display_name")
    rows = [{"name": names.get(uid, str(uid)), "claim": c.get("claim", 0), "release": c.get("release", 0),
             "recycle": c.get("recycle", 0), "recall": c.get("recall", 0), "drill": None,
             "series_drill": _pool_drill(uid, filters)}
            for uid, c in per.items()]
    rows.sort(key=lambda r: (-r["claim"], r["name"]))
    columns = [Column("name", _l("业务员")), Column("claim", _l("领用"), "int"), Column("release", _l("放弃"), "int"),
               Column("recycle", _l("被回收"), "int"), Column("recall", _l("被收回"), "int")]
    table = Table(columns, rows, "name", ["claim", "release", "recycle"])
    table.totals = _totals(rows, columns, "name")
    return table


def _pool_drill(uid: int, filters: Filters) -> dict[str, ListLink]:
    """Per column of 客户池报表, the 流转记录 list of exactly the moves it counted."""
    days = {F.HAPPENED_ON: Days(filters.start, filters.end)}
    return {"claim": ListLink.of(ListKind.OWNERSHIP_EVENT, {F.TO_USER: uid, F.REASON_IN: CLAIM_REASONS, **days}),
            **{reason: ListLink.of(ListKind.OWNERSHIP_EVENT, {F.FROM_USER: uid, F.REASON_IN: (reason,), **days})
               for reason in LEAVE_REASONS}}


def pool_size(session: Session, actor: Actor, filters: Filters) -> Table:
    """客户池 size at the end of each month of the range: today's size walked back through the
    monthly in- and outflows of the ownership log (two GROUP BYs, whatever the table size)."""
    now_size = session.scalar(select(func.count()).select_from(Customer).where(
        Customer.owner_id.is_(None), Customer.deleted_at.is_(None)))
    month = bucket(session, OwnershipEvent.at, "month", filters)
    since = filters.utc_start
    # a customer entered or imported with an owner never was in the pool: its row is no outflow
    taken = and_(OwnershipEvent.from_user_id.is_(None), OwnershipEvent.to_user_id.is_not(None),
                 OwnershipEvent.reason.not_in((OwnershipReason.CREATED, OwnershipReason.IMPORT)))
    flows = session.execute(
        select(month.label("month"),
               func.sum(case((OwnershipEvent.to_user_id.is_(None), 1), else_=0)).label("inflow"),
               func.sum(case((taken, 1), else_=0)).label("outflow"))
        .where(OwnershipEvent.at >= since, or_(OwnershipEvent.to_user_id.is_(None), taken))
        .group_by(month)).all()
    net = {r.month: int(r.inflow or 0) - int(r.outflow or 0) for r in flows}
    flow = {r.month: r for r in flows}
    labels = bucket_labels(filters, "month")
    later = sum(v for k, v in net.items() if k > labels[-1]) if labels else 0
    size = int(now_size or 0) - later
    rows: list[dict[str, Any]] = []
    for label in reversed(labels):
        r = flow.get(label)
        rows.append({"month": label, "size": size, "inflow": int(r.inflow or 0) if r else 0,
                     "outflow": int(r.outflow or 0) if r else 0, "drill": None})
        size -= net.get(label, 0)
    rows.reverse()
    columns = [Column("month", _l("月份")), Column("size", _l("月末池内客户"), "int"),
               Column("inflow", _l("进入客户池"), "int"), Column("outflow", _l("被领用/分配"), "int")]
    return Table(columns, rows, "month", ["size"])


# --- workbench -------------------------------------------------------------------------------

def month_sales(session: Session, actor: Actor, today: date, tz: str) -> tuple[Decimal, Decimal, list[Any]]:
    """This month's sales so far (orders net of returns, past review, not cancelled, and executed
    contracts by signing date, as 业绩 counts them) for the workbench,
    the same days of last month (1st to today's day: a month-to-date figure against a whole month
    would read -75 % early in every month), and this month's daily figures for its small chart."""
    first = today.replace(day=1)
    last_end = first - timedelta(days=1)
    last_first = last_end.replace(day=1)
    last_same_day = last_first.replace(day=min(today.day, last_end.day))  # 31 March → 28/29 February
    filters = Filters(start=last_first, end=today, tz=tz)
    if report_summary.built_at(session):
        where = and_(_summary_where(SalesDay.day, SalesDay.salesperson_id, actor, filters),
                     SalesDay.state != OrderStatus.CANCELLED)
        column, amount = SalesDay.day, _sum(SalesDay.amount)
    else:
        where = and_(_sold_where(actor, filters), receivables.own_order_sql())
        column, amount = Order.order_date, _sum(receivables.kept_amount_sql())
    day = bucket(session, column, "day", filters, is_date=True)
    daily = {label: _money(value) for label, value in session.execute(select(day, amount).where(where).group_by(day))}
    signed_day = bucket(session, Contract.signed_on, "day", filters, is_date=True)
    for label, value in session.execute(
            select(signed_day, _sum(Contract.total))
            .where(contract_where(actor, filters), Contract.status.in_(receivables.CONTRACT_RECEIVABLE_STATES))
            .group_by(signed_day)):
        daily[label] = daily.get(label, ZERO) + _money(value)
    this = sum((v for label, v in daily.items() if label >= first.isoformat()), ZERO)
    previous = sum((v for label, v in daily.items() if label <= last_same_day.isoformat()), ZERO)
    days = replace(filters, start=first)
    return this, previous, [(label[5:], daily.get(label, ZERO)) for label in bucket_labels(days, "day")]
