"""服务报表: tickets by type/channel/priority/status over time, SLA compliance, first-response
and resolution times (median, p90), 客户服务次数排名, satisfaction by agent, and repair parts and
revenue by product. Every figure counts only tickets the actor sees (scope.ticket_clause) created
in the chosen local days; the department/person choice narrows by the ticket's 处理人 (assignee).

Times are wall-clock hours (created → first reply, created → resolved), not working hours: the
SLA compliance report is the one that judges against the working-hours targets, through the due
columns rules/sla.py keeps. Median and p90 interpolate linearly between the two nearest tickets
(PostgreSQL's percentile_cont, which computes them there; SQLite has no percentile, so there
the per-ticket durations are fetched as one number each and interpolated the same way)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from models.dictionary import DictItem
from models.org import User
from models.product import Product
from models.repair import RepairState, TicketPart, TicketRepair
from models.service import ServiceTeam, StatusCategory, Ticket, TicketChannel, TicketPriority
from rules import reports, scope
from rules.actor import Actor
from rules.links import Days, DrillFilter, ListKind, ListLink
from rules.reports import Column, Filters, Table

F = DrillFilter
ZERO = Decimal("0.00")

CHANNEL_LABELS = {TicketChannel.PHONE: _l("电话"), TicketChannel.WECHAT: _l("微信"), TicketChannel.EMAIL: _l("邮件"),
                  TicketChannel.VISIT: _l("上门"), TicketChannel.WEB: _l("网页")}
PRIORITY_LABELS = {TicketPriority.LOW: _l("低"), TicketPriority.NORMAL: _l("普通"), TicketPriority.HIGH: _l("高"),
                   TicketPriority.URGENT: _l("紧急")}
CATEGORY_LABELS = {StatusCategory.OPEN: _l("处理中"), StatusCategory.PAUSED: _l("暂停"),
                   StatusCategory.RESOLVED: _l("已解决"), StatusCategory.CLOSED: _l("已关闭")}
VOLUME_BY = {"type": _l("按类型"), "channel": _l("按渠道"), "priority": _l("按优先级"), "category": _l("按状态")}
PEOPLE_BY = {"team": _l("按服务组"), "assignee": _l("按处理人")}
SLA_BY = {**PEOPLE_BY, "type": _l("按类型")}
GROUP_LABELS = {"team": _l("服务组"), "assignee": _l("处理人"), "type": _l("工单类型")}
UNSET = _l("未设置")
UNASSIGNED = _l("未分派")


# --- the rows every report counts ------------------------------------------------------------

def ticket_where(actor: Actor, filters: Filters) -> ColumnElement[bool]:
    """Tickets the actor sees, created in the range, of the chosen department/person (处理人)."""
    clauses = [scope.ticket_clause(actor), Ticket.created_at >= filters.utc_start, Ticket.created_at < filters.utc_end]
    if filters.salesperson_id or filters.department_id:
        clauses.append(reports.people_clause(Ticket.assignee_id, actor, filters))
    return and_(*clauses)


def _created(filters: Filters) -> dict[DrillFilter, Any]:
    drill: dict[DrillFilter, Any] = {F.CREATED_ON: Days(filters.start, filters.end)}
    if filters.salesperson_id:
        drill[F.ASSIGNEE] = filters.salesperson_id
    return drill


def _link(filters: Filters, **narrow: Any) -> ListLink:
    return ListLink.of(ListKind.TICKET, {**_created(filters), **narrow})


def _group_column(by: str) -> Any:
    return {"type": Ticket.type_id, "channel": Ticket.channel, "priority": Ticket.priority,
            "category": Ticket.status_category, "team": Ticket.team_id, "assignee": Ticket.assignee_id}[by]


_GROUP_FILTER = {"type": F.TICKET_TYPE, "channel": F.TICKET_CHANNEL, "priority": F.TICKET_PRIORITY,
                 "category": F.TICKET_CATEGORY, "team": F.TEAM, "assignee": F.ASSIGNEE}


def _labels(session: Session, by: str, keys: list[Any]) -> dict[Any, str]:
    """Display names of group keys, in the reader's language."""
    if by == "type":
        names = reports._names(session, DictItem, keys, "name")
    elif by == "team":
        names = reports._names(session, ServiceTeam, keys, "name")
    elif by == "assignee":
        names = reports._names(session, User, keys, "display_name")
    else:
        table = {"channel": CHANNEL_LABELS, "priority": PRIORITY_LABELS, "category": CATEGORY_LABELS}[by]
        names = {k: str(table.get(k, k)) for k in keys if k is not None}
    fallback = UNASSIGNED if by in ("team", "assignee") else UNSET
    return {k: names.get(k, str(fallback)) if k is not None else str(fallback) for k in keys}


def _order(by: str, keys: list[Any]) -> list[Any]:
    """Enumerations in their own order; other keys as found (by count)."""
    enum_order = {"channel": list(TicketChannel), "priority": list(TicketPriority), "category": list(StatusCategory)}
    if by in enum_order:
        rank = {v.value: n for n, v in enumerate(enum_order[by])}
        return sorted(keys, key=lambda k: rank.get(k, 99))
    return keys


# --- 工单统计: counts per period and dimension -----------------------------------------------------

def volume(session: Session, actor: Actor, filters: Filters, *, by: str = "type", grain: str = "month") -> Table:
    """Tickets created per local day/week/month, one series per type (channel, priority, status)."""
    by = by if by in VOLUME_BY else "type"
    grain = grain if grain in ("day", "week", "month") else "month"
    column = _group_column(by)
    period = reports.bucket(session, Ticket.created_at, grain, filters)
    counts: dict[tuple[str, Any], int] = {}
    totals: dict[Any, int] = defaultdict(int)
    for p, key, n in session.execute(select(period, column, func.count()).where(ticket_where(actor, filters))
                                     .group_by(period, column)):
        counts[(p, key)] = int(n)
        totals[key] += int(n)
    keys = _order(by, sorted(totals, key=lambda k: -totals[k]))
    names = _labels(session, by, keys)
    series = [f"k{n}" for n in range(len(keys))]
    columns = [Column("period", _l("时间"))] + [Column(s, names[k], "int") for s, k in zip(series, keys)] + [
        Column("total", _l("合计"), "int")]
    rows = []
    for label in reports.bucket_labels(filters, grain):
        days = reports._bucket_range(label, grain, filters)
        row: dict[str, Any] = {"period": label}
        row["series_drill"] = {}
        for s, k in zip(series, keys):
            row[s] = counts.get((label, k), 0)
            if k is not None:
                row["series_drill"][s] = _link(filters, **{F.CREATED_ON: days, _GROUP_FILTER[by]: k})
        row["total"] = sum(row[s] for s in series)
        row["drill"] = _link(filters, **{F.CREATED_ON: days})
        rows.append(row)
    table = Table(columns, rows, "period", series or ["total"])
    table.totals = reports._totals(rows, columns, "period")
    return table


# --- SLA 达成率 ---------------------------------------------------------------------------------

def _met_breached(done: Any, due: Any, now: datetime) -> tuple[Any, Any]:
    """达成: done by the due instant; 超时: done after it, or not done and the due instant passed.
    A ticket without a due instant (no SLA policy, or paused) counts in neither."""
    met = and_(due.is_not(None), done.is_not(None), done <= due)
    breached = and_(due.is_not(None), or_(done > due, and_(done.is_(None), due < now)))
    return met, breached


def _count(clause: Any) -> Any:
    return func.coalesce(func.sum(case((clause, 1), else_=0)), 0)


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1")) if whole else None


def sla_compliance(session: Session, actor: Actor, filters: Filters, *, by: str = "team",
                   now: datetime) -> Table:
    """首次响应 and 解决 met/breached shares per team (处理人, 类型)."""
    by = by if by in SLA_BY else "team"
    column = _group_column(by)
    fr_met, fr_breached = _met_breached(Ticket.first_responded_at, Ticket.first_response_due_at, now)
    rs_met, rs_breached = _met_breached(Ticket.resolved_at, Ticket.resolution_due_at, now)
    stmt = (select(column.label("key"), func.count().label("tickets"), _count(fr_met).label("fr_met"),
                   _count(fr_breached).label("fr_breached"), _count(rs_met).label("rs_met"),
                   _count(rs_breached).label("rs_breached"))
            .where(ticket_where(actor, filters)).group_by(column).order_by(func.count().desc()))
    found = list(session.execute(stmt))
    names = _labels(session, by, [r.key for r in found])
    rows = []
    for r in found:
        row = {"name": names[r.key], "tickets": int(r.tickets), "fr_met": int(r.fr_met),
               "fr_breached": int(r.fr_breached), "rs_met": int(r.rs_met), "rs_breached": int(r.rs_breached)}
        row["fr_rate"] = _share(row["fr_met"], row["fr_met"] + row["fr_breached"])
        row["rs_rate"] = _share(row["rs_met"], row["rs_met"] + row["rs_breached"])
        narrow = {_GROUP_FILTER[by]: r.key} if r.key is not None else {}
        row["drill"] = _link(filters, **narrow)
        rows.append(row)
    columns = [Column("name", GROUP_LABELS[by]), Column("tickets", _l("工单数"), "int"),
               Column("fr_met", _l("首次响应达成"), "int"), Column("fr_breached", _l("首次响应超时"), "int"),
               Column("fr_rate", _l("首次响应达成率"), "percent"), Column("rs_met", _l("解决达成"), "int"),
               Column("rs_breached", _l("解决超时"), "int"), Column("rs_rate", _l("解决达成率"), "percent")]
    table = Table(columns, rows, "name", ["fr_rate", "rs_rate"])
    totals = reports._totals(rows, columns, "name")
    totals["fr_rate"] = _share(totals["fr_met"], totals["fr_met"] + totals["fr_breached"])
    totals["rs_rate"] = _share(totals["rs_met"], totals["rs_met"] + totals["rs_breached"])
    table.totals = totals
    return table


# --- 响应与解决时长 -------------------------------------------------------------------------------

def _hours(session: Session, later: Any, earlier: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600
    return (func.julianday(later) - func.julianday(earlier)) * 24


def median_p90(values: list[float]) -> tuple[Decimal | None, Decimal | None]:
    """Median and 90th percentile with linear interpolation (percentile_cont), to 0.1 hour."""
    if not values:
        return None, None
    ordered = sorted(values)
    def at(q: float) -> Decimal:
        pos = q * (len(ordered) - 1)
        low = int(pos)
        high = min(low + 1, len(ordered) - 1)
        value = ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
        return Decimal(str(round(value, 1)))
    return at(0.5), at(0.9)


Figures = tuple[int, int, Decimal | None, Decimal | None, int, Decimal | None, Decimal | None]


def _one_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(round(float(value), 1)))


def _time_figures(session: Session, column: Any, where: Any) -> tuple[dict[Any, Figures], Figures]:
    """Per group and overall: (tickets, responded, median, p90, resolved, median, p90). PostgreSQL
    computes the percentiles itself (percentile_cont); SQLite has none, so there the durations
    come back one number per ticket and the same interpolation runs here."""
    first = _hours(session, Ticket.first_responded_at, Ticket.created_at)
    solve = _hours(session, Ticket.resolved_at, Ticket.created_at)
    if session.get_bind().dialect.name == "postgresql":
        def pc(q: float, expr: Any) -> Any:
            return func.percentile_cont(q).within_group(expr)
        figures = (func.count(), func.count(first), pc(0.5, first), pc(0.9, first), func.count(solve),
                   pc(0.5, solve), pc(0.9, solve))

        def shaped(row: Any) -> Figures:
            return (int(row[0]), int(row[1]), _one_decimal(row[2]), _one_decimal(row[3]), int(row[4]),
                    _one_decimal(row[5]), _one_decimal(row[6]))
        groups = {row[0]: shaped(row[1:]) for row in session.execute(select(column, *figures).where(where)
                                                                      .group_by(column))}
        return groups, shaped(session.execute(select(*figures).where(where)).one())
    firsts: dict[Any, list[float]] = defaultdict(list)
    solves: dict[Any, list[float]] = defaultdict(list)
    counts: dict[Any, int] = defaultdict(int)
    for key, f, s in session.execute(select(column, first, solve).where(where)):
        counts[key] += 1
        if f is not None:
            firsts[key].append(float(f))
        if s is not None:
            solves[key].append(float(s))

    def shaped_lists(n: int, fs: list[float], ss: list[float]) -> Figures:
        return (n, len(fs), *median_p90(fs), len(ss), *median_p90(ss))
    groups = {key: shaped_lists(n, firsts[key], solves[key]) for key, n in counts.items()}
    return groups, shaped_lists(sum(counts.values()), [v for vs in firsts.values() for v in vs],
                                [v for vs in solves.values() for v in vs])


def response_times(session: Session, actor: Actor, filters: Filters, *, by: str = "team") -> Table:
    """首次响应 / 解决 hours (wall clock from creation), median and p90, per team or 处理人."""
    by = by if by in PEOPLE_BY else "team"
    groups, overall = _time_figures(session, _group_column(by), ticket_where(actor, filters))
    keys = sorted(groups, key=lambda k: -groups[k][0])
    names = _labels(session, by, keys)
    fields = ("tickets", "responded", "fr_median", "fr_p90", "resolved", "rs_median", "rs_p90")
    rows = []
    for key in keys:
        narrow = {_GROUP_FILTER[by]: key} if key is not None else {}
        rows.append({"name": names[key], **dict(zip(fields, groups[key])), "drill": _link(filters, **narrow)})
    columns = [Column("name", GROUP_LABELS[by]), Column("tickets", _l("工单数"), "int"),
               Column("responded", _l("已响应"), "int"), Column("fr_median", _l("首次响应中位数（小时）"), "number"),
               Column("fr_p90", _l("首次响应P90（小时）"), "number"), Column("resolved", _l("已解决"), "int"),
               Column("rs_median", _l("解决中位数（小时）"), "number"), Column("rs_p90", _l("解决P90（小时）"), "number")]
    table = Table(columns, rows, "name", ["fr_median", "rs_median"])
    table.totals = {"name": _l("合计"), **dict(zip(fields, overall))}
    return table


# --- 客户服务次数排名 ----------------------------------------------------------------------------

TOP = 20


def top_customers(session: Session, actor: Actor, filters: Filters, *, limit: int = TOP) -> Table:
    """The customers with the most tickets in the range (and how many were complaints/repairs)."""
    from models.customer import Customer
    open_count = _count(Ticket.status_category.in_((StatusCategory.OPEN.value, StatusCategory.PAUSED.value)))
    stmt = (select(Ticket.customer_id, func.count().label("tickets"), open_count.label("open"))
            .where(ticket_where(actor, filters)).group_by(Ticket.customer_id)
            .order_by(func.count().desc(), Ticket.customer_id).limit(limit))
    found = list(session.execute(stmt))
    names = reports._names(session, Customer, [r.customer_id for r in found], "name")
    rows = [{"rank": n + 1, "name": names.get(r.customer_id, ""), "tickets": int(r.tickets), "open": int(r.open),
             "drill": _link(filters, **{F.CUSTOMER: r.customer_id})} for n, r in enumerate(found)]
    columns = [Column("rank", _l("排名")), Column("name", _l("客户")), Column("tickets", _l("服务次数"), "int"),
               Column("open", _l("未结工单"), "int")]
    return Table(columns, rows, "name", ["tickets"])


# --- 满意度 --------------------------------------------------------------------------------------

def satisfaction(session: Session, actor: Actor, filters: Filters) -> Table:
    """Return-visit scores (1–5) per 处理人: how many rated, the average, the 4–5 share and the lows."""
    score = Ticket.satisfaction_score
    stmt = (select(Ticket.assignee_id, func.count(score).label("rated"), func.sum(score).label("points"),
                   _count(score >= 4).label("good"), _count(score <= 2).label("low"))
            .where(ticket_where(actor, filters), score.is_not(None))
            .group_by(Ticket.assignee_id))
    found = sorted(session.execute(stmt), key=lambda r: -int(r.points) / int(r.rated))
    names = _labels(session, "assignee", [r.assignee_id for r in found])

    def average(points: int, rated: int) -> Decimal | None:
        return (Decimal(points) / Decimal(rated)).quantize(Decimal("0.01")) if rated else None
    rows = []
    for r in found:
        rated = int(r.rated)
        narrow = {F.ASSIGNEE: r.assignee_id} if r.assignee_id is not None else {}
        rows.append({"name": names[r.assignee_id], "rated": rated, "average": average(int(r.points), rated),
                     "good": _share(int(r.good), rated), "low": int(r.low), "drill": _link(filters, **narrow)})
    columns = [Column("name", _l("处理人")), Column("rated", _l("评价数"), "int"),
               Column("average", _l("平均分"), "number"), Column("good", _l("满意率（4–5分）"), "percent"),
               Column("low", _l("差评（1–2分）"), "int")]
    table = Table(columns, rows, "name", ["average"])
    totals = reports._totals(rows, columns, "name")
    totals["average"] = average(sum(int(r.points) for r in found), totals["rated"])
    totals["good"] = _share(sum(int(r.good) for r in found), totals["rated"])
    table.totals = totals
    return table


# --- 维修配件与收入 -------------------------------------------------------------------------------

def repair_parts(session: Session, actor: Actor, filters: Filters) -> Table:
    """Parts used (not returned) on tickets of the range, per product: quantity, amount, the part
    billed (已收费 repairs) and the part given free under warranty. The labour billed is a row of
    its own (维修工时费)."""
    billed = and_(TicketRepair.state == RepairState.BILLED)
    free = and_(TicketRepair.warranty.is_(True))
    stmt = (select(TicketPart.product_id, func.sum(TicketPart.quantity).label("quantity"),
                   reports._sum(TicketPart.amount).label("amount"),
                   reports._sum(case((billed, TicketPart.amount), else_=0)).label("billed"),
                   func.coalesce(func.sum(case((free, TicketPart.quantity), else_=0)), 0).label("free"))
            .join(Ticket, Ticket.id == TicketPart.ticket_id)
            .outerjoin(TicketRepair, TicketRepair.ticket_id == TicketPart.ticket_id)
            .where(ticket_where(actor, filters), TicketPart.returned.is_(False))
            .group_by(TicketPart.product_id).order_by(func.sum(TicketPart.quantity).desc()))
    found = list(session.execute(stmt))
    names = reports._names(session, Product, [r.product_id for r in found], "name")
    rows = [{"name": names.get(r.product_id, ""), "quantity": int(r.quantity), "amount": reports._money(r.amount),
             "billed": reports._money(r.billed), "free": int(r.free)} for r in found]
    labour = session.execute(select(reports._sum(TicketRepair.labour_charge), func.count())
                             .join(Ticket, Ticket.id == TicketRepair.ticket_id)
                             .where(ticket_where(actor, filters), billed)).one()
    if labour[1]:
        rows.append({"name": str(_l("维修工时费")), "quantity": None, "amount": reports._money(labour[0]),
                     "billed": reports._money(labour[0]), "free": None})
    columns = [Column("name", _l("配件")), Column("quantity", _l("使用数量"), "int"),
               Column("amount", _l("金额"), "money"), Column("billed", _l("已收费金额"), "money"),
               Column("free", _l("保修免费数量"), "int")]
    table = Table(columns, rows, "name", ["billed"])
    table.totals = reports._totals(rows, columns, "name")
    return table
