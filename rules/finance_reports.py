"""Finance reports (issue 19): 应收账龄, 回款统计, 回款计划与实际, 逾期回款, 开票与回款, 合同金额.

Each is `(session, actor, filters, ...) -> reports.Table`: a GROUP BY or two over the rows the
actor may see (rules/scope: contract_clause, payment_plan_clause, payment_clause, invoice_clause,
order_clause), narrowed by the page's department / salesperson choice on the record's owner.
The WHERE of every figure is built by rules/finance_drill.py from the same drill filters its link
carries (`cell_drill`: column → ListLink), so the 合同 / 回款计划 / 回款 / 开票 list a figure opens
shows as many rows as the figure counts. Only grouped rows reach Python.

Ageing (账龄) is as of `today`, in days past the date the money fell due: an instalment from its
due_on, a contract without live instalments from its signed_on, an order without a contract
(and without instalments) from the local day it was approved (审核).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, String, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from models.contract import Contract, ContractLine
from models.customer import Customer
from models.invoice import Invoice, InvoiceStatus
from models.org import Department, User
from models.payment_plan import PaymentPlan, PlanStatus
from models.product import Product
from models.sales import Order, Payment, PaymentKind, PaymentStatus
from rules import receivables, scope
from rules.actor import Actor
from rules.finance_drill import (
    OPEN_PLAN_STATES, RECEIVABLE_CONTRACT_STATES, contract_outstanding, contract_where, drill_of, invoice_where,
    payment_plan_where, payment_where, plan_outstanding, staff_of,
)
from rules.links import Days, DrillFilter, ListKind, ListLink
from rules.pipeline_drill import month_days
from rules.reports import UNSET, ZERO, Column, Filters, Table, _money, _names, _sum, _totals, bucket, bucket_labels

F = DrillFilter

BY_AGEING = {"customer": _l("按客户"), "owner": _l("按负责人"), "department": _l("按部门")}
BY_RECEIPTS = {"month": _l("按月份"), "owner": _l("按负责人"), "method": _l("按回款方式")}
BY_INVOICES = {"month": _l("按月份"), "owner": _l("按负责人")}
BY_CONTRACTS = {"month": _l("按签订月份"), "owner": _l("按负责人"), "product": _l("按产品")}

# 账龄 buckets: (key, label, first and last days past due; None = open end).
AGE_BUCKETS: tuple[tuple[str, Any, int | None, int | None], ...] = (
    ("not_due", _l("未到期"), None, -1),
    ("d0_30", _l("0–30天"), 0, 30),
    ("d31_60", _l("31–60天"), 31, 60),
    ("d61_90", _l("61–90天"), 61, 90),
    ("d90", _l("90天以上"), 91, None),
)
AGE_KINDS: dict[str, Any] = {"plan": _l("回款计划期次"), "contract": _l("合同（无回款计划）"),
                             "order": _l("订单（无合同）")}
APPROVED = (PaymentStatus.APPROVED.value,)
LIVE_PLAN_STATES = (*OPEN_PLAN_STATES, PlanStatus.PAID.value)


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    return part * 100 / whole if whole else None


def choice(filters: Filters) -> dict[DrillFilter, Any]:
    """The page's salesperson / department choice as drill filters on the record's owner."""
    chosen: dict[DrillFilter, Any] = {}
    if filters.salesperson_id:
        chosen[F.OWNER] = filters.salesperson_id
    if filters.department_id:
        chosen[F.OWNER_DEPARTMENT_TREE] = filters.department_id
    return chosen


def _link(kind: ListKind, chosen: dict[DrillFilter, Any], narrow: dict[DrillFilter, Any] | None = None,
          **more: Any) -> ListLink:
    return ListLink.of(kind, {**chosen, **(narrow or {}), **{F(k): v for k, v in more.items()}})


def _range(filters: Filters) -> Days:
    return Days(filters.start, filters.end)


def _month_in_range(month: str, filters: Filters) -> Days:
    """A month's days within the page's range (its first and last month may be cut)."""
    days = month_days(month)
    return Days(max(days.first, filters.start), min(days.last, filters.end))


_NARROW = {"customer": F.CUSTOMER, "owner": F.OWNER, "department": F.OWNER_DEPARTMENT_ONLY,
           "method": F.METHOD, "product": F.PRODUCT}


def _narrow(by: str, key: Any, filters: Filters) -> dict[DrillFilter, Any] | None:
    """The drill filter naming one grouped row; None where none can (未设置)."""
    if key is None:
        return None
    if by == "month":
        return {}
    return {_NARROW[by]: key}


def _row_names(session: Session, by: str, keys: Any) -> dict[Any, str]:
    if by == "customer":
        return _names(session, Customer, keys, "name")
    if by == "department":
        return _names(session, Department, keys, "name")
    if by == "product":
        return _names(session, Product, keys, "name")
    if by == "method":
        from rules.payments import METHODS  # the receipts module owns the labels of its methods

        return {k: str(METHODS.get(k, k)) for k in keys if k is not None}
    return _names(session, User, keys, "display_name")


def _label(by: str) -> Any:
    return {"customer": _l("客户"), "owner": _l("负责人"), "department": _l("部门"), "month": _l("月份"),
            "method": _l("回款方式"), "product": _l("产品")}[by]


# --- 应收账龄 ----------------------------------------------------------------------------------------

def age_days(today: date, key: str) -> Days:
    """The due (or signing) days of an age bucket as of `today`."""
    for name, _label_text, least, most in AGE_BUCKETS:
        if name == key:
            return Days(today - timedelta(days=most) if most is not None else None,
                        today - timedelta(days=least) if least is not None else None)
    raise KeyError(key)


def _age_case(column: Any, edge: Any) -> Any:
    """The bucket of `column` (the day the money fell due, or the instant); `edge(n)` is the
    value of the first moment n days before today, in the column's own type."""
    return case((column >= edge(-1), literal("not_due")), (column >= edge(30), literal("d0_30")),
                (column >= edge(60), literal("d31_60")), (column >= edge(90), literal("d61_90")),
                else_=literal("d90"))


def _order_age(today: date, tz: str) -> Any:
    """An order ages from the local day of its 审核 (approved_at, an instant): compared with the
    UTC instants of local midnights; an order approved before that was recorded, from its date."""
    zone = ZoneInfo(tz)

    def instant(n: int) -> datetime:
        return datetime.combine(today - timedelta(days=n), time.min, tzinfo=zone).astimezone(timezone.utc)

    return case((Order.approved_at.is_(None), _age_case(Order.order_date, lambda n: today - timedelta(days=n))),
                else_=_age_case(Order.approved_at, instant))


def _live_plan_on_order() -> ColumnElement[bool]:
    """Orders with an instalment that is not void. An IN list, not a correlated EXISTS: almost
    every instalment belongs to a contract, so the statistics of (order_id, period) make SQLite
    scan every instalment once per order for the EXISTS; the list is read once from that index."""
    return Order.id.in_(select(PaymentPlan.order_id).where(PaymentPlan.order_id.is_not(None),
                                                           PaymentPlan.status != PlanStatus.VOID))


def ageing_items(session: Session, actor: Actor, filters: Filters, today: date) -> Any:
    """Every sum still owed that the actor sees, one row each: (kind, customer_id, owner_id,
    bucket, due) — instalments, contracts without instalments, orders without a contract."""
    chosen = choice(filters)
    by_date = (lambda n: today - timedelta(days=n))
    plans = (select(literal("plan", String(8)).label("kind"), PaymentPlan.customer_id.label("customer_id"),
                    PaymentPlan.owner_id.label("owner_id"), _age_case(PaymentPlan.due_on, by_date).label("bucket"),
                    plan_outstanding().label("due"))
             .where(scope.payment_plan_clause(actor),
                    *payment_plan_where(drill_of({**chosen, F.OUTSTANDING: "1"}))))
    contracts = (select(literal("contract", String(8)), Contract.customer_id, Contract.owner_id,
                        _age_case(Contract.signed_on, by_date), contract_outstanding())
                 .where(scope.contract_clause(actor),
                        *contract_where(drill_of({**chosen, F.OUTSTANDING: "1", F.WITHOUT_PLAN: "1"}))))
    people = []
    if filters.salesperson_id:
        people.append(Order.salesperson_id == filters.salesperson_id)
    if filters.department_id:
        people.append(Order.salesperson_id.in_(staff_of(filters.department_id, tree=True)))
    orders = (select(literal("order", String(8)), Order.customer_id, Order.salesperson_id,
                     _order_age(today, filters.tz), receivables.outstanding_sql())
              .where(scope.order_clause(actor), Order.contract_id.is_(None),
                     Order.state.in_(receivables.RECEIVABLE_STATES), receivables.outstanding_sql() > 0,
                     ~_live_plan_on_order(), *people))
    return union_all(plans, contracts, orders).subquery("items")


ROW_LIMIT = 200  # the page lists the customers (owners, departments) owing most; the totals are everyone's


def ageing(session: Session, actor: Actor, filters: Filters, *, today: date, by: str = "customer",
           limit: int = ROW_LIMIT) -> Table:
    """应收账龄 as of `today`: what is still owed, per customer / owner / department, in the buckets
    未到期, 0–30, 31–60, 61–90 and over 90 days past due; how many instalments, contracts and
    orders it is made of. Two GROUP BYs over the three kinds of debt: one row per key (the
    `limit` owing most), and the totals per bucket and kind over everything."""
    by = by if by in BY_AGEING else "customer"
    items = ageing_items(session, actor, filters, today)
    if by == "department":
        key, source = User.department_id, items.outerjoin(User, User.id == items.c.owner_id)
    else:
        key, source = (items.c.customer_id if by == "customer" else items.c.owner_id), items
    total = _sum(items.c.due)
    per_bucket = [_sum(case((items.c.bucket == name, items.c.due), else_=0)).label(name) for name, *_r in AGE_BUCKETS]
    per_kind = [func.sum(case((items.c.kind == kind, 1), else_=0)).label(f"{kind}_count") for kind in AGE_KINDS]
    found = session.execute(
        select(key.label("key"), *per_bucket, *per_kind, total.label("total")).select_from(source)
        .group_by(key).order_by(total.desc(), key).limit(limit)).all()
    spread = session.execute(
        select(items.c.kind, items.c.bucket, func.count().label("n"), total.label("due"))
        .group_by(items.c.kind, items.c.bucket)).all()

    chosen = choice(filters)
    names = _row_names(session, by, [r.key for r in found])
    rows = []
    for r in found:
        row = {"name": names.get(r.key) or str(UNSET), **{name: _money(getattr(r, name)) for name, *_r in AGE_BUCKETS},
               **{f"{kind}_count": int(getattr(r, f"{kind}_count") or 0) for kind in AGE_KINDS},
               "total": _money(r.total), "drill": None}
        row["past_due"] = row["total"] - row["not_due"]
        narrow = _narrow(by, r.key, filters)
        if narrow is not None:
            plans = _link(ListKind.PAYMENT_PLAN, chosen, narrow, outstanding="1")
            row["cell_drill"] = {"plan_count": plans,
                                 "contract_count": _link(ListKind.CONTRACT, chosen, narrow, outstanding="1",
                                                         without_plan="1")}
            row["drill"] = plans
        rows.append(row)
    rows.sort(key=lambda r: (-r["total"], r["name"]))
    columns = [Column("name", _label(by)),
               *[Column(name, label, "money") for name, label, _a, _b in AGE_BUCKETS],
               Column("past_due", _l("已到期合计"), "money"), Column("total", _l("应收余额"), "money"),
               Column("plan_count", _l("期次数"), "int"), Column("contract_count", _l("合同数"), "int"),
               Column("order_count", _l("订单数"), "int")]
    table = Table(columns, rows, "name", ["total"])

    buckets = {name: {"bucket": str(label), "key": name, **{k: ZERO for k in AGE_KINDS},
                      **{f"{k}_count": 0 for k in AGE_KINDS}} for name, label, _a, _b in AGE_BUCKETS}
    totals: dict[str, Any] = {"name": _l("合计"), **{name: ZERO for name, *_r in AGE_BUCKETS},
                              **{f"{k}_count": 0 for k in AGE_KINDS}}
    for r in spread:
        buckets[r.bucket][r.kind] += _money(r.due)
        buckets[r.bucket][f"{r.kind}_count"] += int(r.n)
        totals[r.bucket] += _money(r.due)
        totals[f"{r.kind}_count"] += int(r.n)
    totals["total"] = sum((totals[name] for name, *_r in AGE_BUCKETS), ZERO)
    totals["past_due"] = totals["total"] - totals["not_due"]
    table.totals = totals
    chart_rows = []
    for name, b in buckets.items():
        days = age_days(today, name)
        plans = _link(ListKind.PAYMENT_PLAN, chosen, outstanding="1", due_on=days)
        contracts = _link(ListKind.CONTRACT, chosen, outstanding="1", without_plan="1", signed_on=days)
        b["series_drill"] = {"plan": plans, "contract": contracts}
        b["cell_drill"] = {"plan_count": plans, "contract_count": contracts}
        b["drill"] = None
        chart_rows.append(b)
    table.extra.update(chart_rows=chart_rows, chart_label="bucket", buckets=chart_rows,
                       chart_columns=[Column(k, label, "money") for k, label in AGE_KINDS.items()])
    table.note = _l("账龄截至今天：回款计划的期次从到期日起算，没有回款计划的合同从签订日起算，没有合同的订单从审核日起算。")
    if len(found) == limit:
        table.note = _l("只列出应收余额最多的 %(n)d 个；合计为全部。", n=limit) + " " + str(table.note)
    return table


# --- 回款统计 ----------------------------------------------------------------------------------------

def _payment_key(session: Session, by: str, filters: Filters) -> Any:
    if by == "month":
        return bucket(session, Payment.paid_on, "month", filters, is_date=True)
    return Payment.owner_id if by == "owner" else Payment.method


def _payment_rows(session: Session, actor: Actor, filters: Filters, by: str) -> Any:
    """Approved receipts and refunds paid within the range, per key and kind."""
    key = _payment_key(session, by, filters)
    where = [scope.payment_clause(actor),
             *payment_where(drill_of({**choice(filters), F.STATUS_IN: APPROVED, F.PAID_ON: _range(filters)}))]
    return session.execute(
        select(key.label("key"), Payment.kind, func.count().label("n"), _sum(Payment.amount).label("amount"),
               _sum(Payment.write_off).label("write_off"))
        .where(*where).group_by(key, Payment.kind)).all()


def _keys(by: str, filters: Filters, found: Any) -> list[Any]:
    """Rows in display order: every month of the range, or the keys found."""
    if by == "month":
        return bucket_labels(filters, "month")
    return list(dict.fromkeys(r.key for r in found))


def _period(by: str, key: Any, filters: Filters) -> Days:
    return _month_in_range(key, filters) if by == "month" else _range(filters)


def receipts(session: Session, actor: Actor, filters: Filters, *, by: str = "month") -> Table:
    """回款统计: approved receipts (回款), their 抹零, refunds (退款) and the net, paid within the
    range, per month / owner (业绩归属) / method."""
    by = by if by in BY_RECEIPTS else "month"
    found = _payment_rows(session, actor, filters, by)
    chosen = choice(filters)
    per: dict[Any, dict[str, Any]] = {k: {} for k in _keys(by, filters, found)}
    for r in found:
        row = per.setdefault(r.key, {})
        kind = "receipt" if r.kind == PaymentKind.RECEIPT else "refund"
        row[f"{kind}_count"] = int(r.n)
        row[f"{kind}_amount"] = _money(r.amount)
        if kind == "receipt":
            row["write_off"] = _money(r.write_off)
    names = {k: k for k in per} if by == "month" else _row_names(session, by, per)
    rows = []
    for k, got in per.items():
        row = {"name": names.get(k) or str(UNSET), "receipt_count": 0, "receipt_amount": ZERO, "write_off": ZERO,
               "refund_count": 0, "refund_amount": ZERO, **got, "drill": None}
        row["net"] = row["receipt_amount"] - row["refund_amount"]
        narrow = _narrow(by, k, filters)
        if narrow is not None:
            paid = _period(by, k, filters)
            got_in = _link(ListKind.PAYMENT, chosen, narrow, status_in=APPROVED, payment_kind=PaymentKind.RECEIPT.value,
                           paid_on=paid)
            out = _link(ListKind.PAYMENT, chosen, narrow, status_in=APPROVED, payment_kind=PaymentKind.REFUND.value,
                        paid_on=paid)
            row["cell_drill"] = {"receipt_count": got_in, "receipt_amount": got_in, "write_off": got_in,
                                 "refund_count": out, "refund_amount": out}
            row["series_drill"] = {"receipt_amount": got_in, "refund_amount": out}
            row["drill"] = got_in
        rows.append(row)
    if by != "month":
        rows.sort(key=lambda r: (-r["net"], r["name"]))
    columns = [Column("name", _label(by)), Column("receipt_count", _l("回款笔数"), "int"),
               Column("receipt_amount", _l("回款金额"), "money"), Column("write_off", _l("抹零"), "money"),
               Column("refund_count", _l("退款笔数"), "int"), Column("refund_amount", _l("退款金额"), "money"),
               Column("net", _l("净回款"), "money")]
    table = Table(columns, rows, "name", ["receipt_amount", "refund_amount"])
    table.totals = _totals(rows, columns, "name")
    return table


# --- 回款计划与实际 ------------------------------------------------------------------------------------

def plan_vs_actual(session: Session, actor: Actor, filters: Filters) -> Table:
    """回款计划与实际 by month: instalments falling due in the month (not void) with what has been
    received on them, against the cash actually received in the month (approved receipts less
    refunds, whatever they were booked against)."""
    chosen = choice(filters)
    month = bucket(session, PaymentPlan.due_on, "month", filters, is_date=True)
    planned = session.execute(
        select(month.label("key"), func.count().label("n"), _sum(PaymentPlan.amount).label("amount"),
               _sum(PaymentPlan.received).label("received"))
        .where(scope.payment_plan_clause(actor),
               *payment_plan_where(drill_of({**chosen, F.STATUS_IN: LIVE_PLAN_STATES, F.DUE_ON: _range(filters)})))
        .group_by(month)).all()
    cash = _payment_rows(session, actor, filters, "month")
    per = {m: {"plan_count": 0, "plan_amount": ZERO, "plan_received": ZERO, "payment_count": 0, "actual": ZERO}
           for m in bucket_labels(filters, "month")}
    for r in planned:
        if r.key in per:
            per[r.key].update(plan_count=int(r.n), plan_amount=_money(r.amount), plan_received=_money(r.received))
    for r in cash:
        if r.key in per:
            sign = 1 if r.kind == PaymentKind.RECEIPT else -1
            per[r.key]["payment_count"] += int(r.n)
            per[r.key]["actual"] += sign * _money(r.amount)
    rows = []
    for m, got in per.items():
        days = _month_in_range(m, filters)
        plans = _link(ListKind.PAYMENT_PLAN, chosen, status_in=LIVE_PLAN_STATES, due_on=days)
        paid = _link(ListKind.PAYMENT, chosen, status_in=APPROVED, paid_on=days)
        rows.append({"name": m, **got, "rate": _percent(got["plan_received"], got["plan_amount"]),
                     "unpaid": got["plan_amount"] - got["plan_received"], "drill": plans,
                     "cell_drill": {"plan_count": plans, "plan_amount": plans, "plan_received": plans,
                                    "payment_count": paid, "actual": paid},
                     "series_drill": {"plan_amount": plans, "plan_received": plans, "actual": paid}})
    columns = [Column("name", _l("月份")), Column("plan_count", _l("计划期次数"), "int"),
               Column("plan_amount", _l("计划回款"), "money"), Column("plan_received", _l("其中已回"), "money"),
               Column("unpaid", _l("计划未回"), "money"), Column("rate", _l("完成率"), "percent"),
               Column("payment_count", _l("回款/退款笔数"), "int"), Column("actual", _l("当月实收"), "money")]
    table = Table(columns, rows, "name", ["plan_amount", "plan_received", "actual"])
    table.totals = _totals(rows, columns, "name")
    table.totals["rate"] = _percent(table.totals["plan_received"], table.totals["plan_amount"])
    return table


# --- 逾期回款 ----------------------------------------------------------------------------------------

def overdue_by_owner(session: Session, actor: Actor, filters: Filters, *, today: date) -> Table:
    """逾期回款 by owner as of `today`: instalments due before today and not fully received
    (whether or not the daily job has marked them 逾期), how much is still owed, on how many
    customers, and the oldest."""
    chosen = choice(filters)
    overdue = Days(None, today - timedelta(days=1))
    found = session.execute(
        select(PaymentPlan.owner_id.label("key"), func.count().label("n"), _sum(plan_outstanding()).label("due"),
               func.count(func.distinct(PaymentPlan.customer_id)).label("customers"),
               func.min(PaymentPlan.due_on).label("oldest"))
        .where(scope.payment_plan_clause(actor),
               *payment_plan_where(drill_of({**chosen, F.OUTSTANDING: "1", F.DUE_ON: overdue})))
        .group_by(PaymentPlan.owner_id)).all()
    names = _row_names(session, "owner", [r.key for r in found])
    rows = []
    for r in found:
        link = _link(ListKind.PAYMENT_PLAN, chosen, {F.OWNER: r.key}, outstanding="1", due_on=overdue)
        oldest = r.oldest if isinstance(r.oldest, date) else date.fromisoformat(str(r.oldest))
        rows.append({"name": names.get(r.key) or str(UNSET), "count": int(r.n), "due": _money(r.due),
                     "customers": int(r.customers), "oldest": oldest, "days": (today - oldest).days,
                     "drill": link, "cell_drill": {"count": link, "due": link}})
    rows.sort(key=lambda r: (-r["due"], r["name"]))
    columns = [Column("name", _l("负责人")), Column("count", _l("逾期期次"), "int"), Column("due", _l("逾期未回金额"), "money"),
               Column("customers", _l("涉及客户"), "int"), Column("oldest", _l("最早到期日"), "date"),
               Column("days", _l("最长逾期天数"), "int")]
    table = Table(columns, rows, "name", ["due"])
    table.totals = _totals(rows, columns, "name")
    table.totals["days"] = max((r["days"] for r in rows), default=None)
    table.totals["customers"] = None  # a customer may owe two owners: the column does not add up
    return table


# --- 开票与回款 ----------------------------------------------------------------------------------------

ISSUED = (InvoiceStatus.ISSUED.value,)


def invoices_vs_receipts(session: Session, actor: Actor, filters: Filters, *, by: str = "month") -> Table:
    """开票与回款: invoices issued within the range (红冲 negative) against approved receipts less
    refunds paid within it, per month or owner; 开票 − 回款 > 0 means invoiced ahead of cash."""
    by = by if by in BY_INVOICES else "month"
    chosen = choice(filters)
    key = bucket(session, Invoice.issued_on, "month", filters, is_date=True) if by == "month" else Invoice.owner_id
    issued = session.execute(
        select(key.label("key"), func.count().label("n"), _sum(Invoice.amount).label("amount"))
        .where(scope.invoice_clause(actor),
               *invoice_where(drill_of({**chosen, F.STATUS_IN: ISSUED, F.ISSUED_ON: _range(filters)})))
        .group_by(key)).all()
    cash = _payment_rows(session, actor, filters, by)
    per: dict[Any, dict[str, Any]] = {k: {} for k in _keys(by, filters, [*issued, *cash])}
    for r in issued:
        per.setdefault(r.key, {}).update(invoice_count=int(r.n), invoiced=_money(r.amount))
    for r in cash:
        row = per.setdefault(r.key, {})
        sign = 1 if r.kind == PaymentKind.RECEIPT else -1
        row["payment_count"] = row.get("payment_count", 0) + int(r.n)
        row["received"] = row.get("received", ZERO) + sign * _money(r.amount)
    names = {k: k for k in per} if by == "month" else _row_names(session, by, per)
    rows = []
    for k, got in per.items():
        row = {"name": names.get(k) or str(UNSET), "invoice_count": 0, "invoiced": ZERO, "payment_count": 0,
               "received": ZERO, **got, "drill": None}
        row["difference"] = row["invoiced"] - row["received"]
        narrow = _narrow(by, k, filters)
        if narrow is not None:
            days = _period(by, k, filters)
            invoices = _link(ListKind.INVOICE, chosen, narrow, status_in=ISSUED, issued_on=days)
            paid = _link(ListKind.PAYMENT, chosen, narrow, status_in=APPROVED, paid_on=days)
            row["cell_drill"] = {"invoice_count": invoices, "invoiced": invoices, "payment_count": paid, "received": paid}
            row["series_drill"] = {"invoiced": invoices, "received": paid}
            row["drill"] = invoices
        rows.append(row)
    if by != "month":
        rows.sort(key=lambda r: (-r["invoiced"], -r["received"], r["name"]))
    columns = [Column("name", _label(by)), Column("invoice_count", _l("开票张数"), "int"),
               Column("invoiced", _l("开票金额"), "money"), Column("payment_count", _l("回款/退款笔数"), "int"),
               Column("received", _l("实收金额"), "money"), Column("difference", _l("开票 − 实收"), "money")]
    table = Table(columns, rows, "name", ["invoiced", "received"])
    table.totals = _totals(rows, columns, "name")
    return table


# --- 合同金额 ----------------------------------------------------------------------------------------

def contract_amounts(session: Session, actor: Actor, filters: Filters, *, by: str = "month") -> Table:
    """合同金额: contracts 执行中 or 已完成 signed within the range, per signing month or owner
    (count, 合同金额, 已收, 已开票, 未收), or per product (Σ the lines' amount and quantity, on how
    many contracts)."""
    by = by if by in BY_CONTRACTS else "month"
    chosen = choice(filters)
    signed = _range(filters)
    where = [scope.contract_clause(actor),
             *contract_where(drill_of({**chosen, F.STATUS_IN: RECEIVABLE_CONTRACT_STATES, F.SIGNED_ON: signed}))]
    if by == "product":
        return _contract_products(session, where, chosen, signed)
    key = bucket(session, Contract.signed_on, "month", filters, is_date=True) if by == "month" else Contract.owner_id
    found = session.execute(
        select(key.label("key"), func.count().label("n"), _sum(Contract.total).label("total"),
               _sum(Contract.received).label("received"), _sum(Contract.written_off).label("written_off"),
               _sum(Contract.invoiced).label("invoiced"))
        .where(*where).group_by(key)).all()
    per: dict[Any, dict[str, Any]] = {k: {} for k in _keys(by, filters, found)}
    for r in found:
        per.setdefault(r.key, {}).update(count=int(r.n), total=_money(r.total), received=_money(r.received),
                                         written_off=_money(r.written_off), invoiced=_money(r.invoiced))
    names = {k: k for k in per} if by == "month" else _row_names(session, by, per)
    rows = []
    for k, got in per.items():
        row = {"name": names.get(k) or str(UNSET), "count": 0, "total": ZERO, "received": ZERO, "written_off": ZERO,
               "invoiced": ZERO, **got, "drill": None}
        row["outstanding"] = row["total"] - row["received"] - row["written_off"]
        narrow = _narrow(by, k, filters)
        if narrow is not None:
            link = _link(ListKind.CONTRACT, chosen, narrow, status_in=RECEIVABLE_CONTRACT_STATES,
                         signed_on=_period(by, k, filters))
            row["cell_drill"] = {"count": link, "total": link}
            row["drill"] = link
        rows.append(row)
    if by != "month":
        rows.sort(key=lambda r: (-r["total"], r["name"]))
    columns = [Column("name", _label(by)), Column("count", _l("合同数"), "int"), Column("total", _l("合同金额"), "money"),
               Column("received", _l("已收"), "money"), Column("written_off", _l("抹零"), "money"),
               Column("outstanding", _l("未收"), "money"), Column("invoiced", _l("已开票"), "money")]
    table = Table(columns, rows, "name", ["total", "received"])
    table.totals = _totals(rows, columns, "name")
    return table


def _contract_products(session: Session, where: list[ColumnElement[bool]], chosen: dict[DrillFilter, Any],
                       signed: Days) -> Table:
    found = session.execute(
        select(ContractLine.product_id.label("key"), func.count(func.distinct(ContractLine.contract_id)).label("n"),
               func.coalesce(func.sum(ContractLine.quantity), 0).label("quantity"),
               _sum(ContractLine.amount).label("amount"))
        .join(Contract, Contract.id == ContractLine.contract_id).where(*where)
        .group_by(ContractLine.product_id)).all()
    names = _row_names(session, "product", [r.key for r in found])
    rows = []
    for r in found:
        link = _link(ListKind.CONTRACT, chosen, {F.PRODUCT: r.key}, status_in=RECEIVABLE_CONTRACT_STATES,
                     signed_on=signed)
        rows.append({"name": names.get(r.key) or str(UNSET), "count": int(r.n), "quantity": int(r.quantity),
                     "amount": _money(r.amount), "drill": link, "cell_drill": {"count": link, "amount": link}})
    rows.sort(key=lambda r: (-r["amount"], r["name"]))
    columns = [Column("name", _l("产品")), Column("count", _l("合同数"), "int"), Column("quantity", _l("数量"), "int"),
               Column("amount", _l("合同明细金额"), "money")]
    table = Table(columns, rows, "name", ["amount"])
    table.totals = _totals(rows, columns, "name")
    # a contract with two products counts under each, and units of different products do not
    # add up: neither column has a total
    table.totals["count"] = table.totals["quantity"] = None
    return table
