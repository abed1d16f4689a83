"""Pipeline reports (issue 18): 销售预测, 销售漏斗, 赢单率与周期, 输单原因, 线索转化率.

Each is `(session, actor, filters, ...) -> reports.Table`, a few GROUP BYs over the rows the
actor may see (rules/scope.opportunity_clause / lead_clause), narrowed by the page's
department / salesperson choice on the record's own owner and department columns. Every figure
carries the link to the list behind it (`cell_drill`: column → ListLink), built from the same
conditions the figure was counted with (rules/pipeline_drill.py), so the list shows as many rows
as the figure says.

Money is summed in SQL; 加权金额 (the forecast) is Σ amount × the stage's win % / 100, rounded to
the cent once per figure.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from models.dictionary import DictItem
from models.lead import Lead, LeadStatus
from models.opportunity import Opportunity, OpportunityEvent, Outcome, Stage, StageGroup
from models.org import Department, User
from rules import scope
from rules.actor import Actor
from rules.links import Days, DrillFilter, ListKind, ListLink
from rules.pipeline_drill import (
    WORKED, LeadDrill, OpportunityDrill, backward_moves, department_tree, group_stages, lead_where, month_days,
    opportunity_where,
)
from rules.reports import CENT, UNSET, ZERO, Column, Filters, Table, _money, _names, _sum, _totals, bucket, bucket_labels

F = DrillFilter

FORECAST_MONTHS = 6
BY_OWNER = {"owner": _l("按负责人"), "department": _l("按部门")}
BY_WIN = {"owner": _l("按负责人"), "source": _l("按来源")}


def default_forecast_filters(today: date, tz: str) -> Filters:
    """This month and the five after it."""
    first = today.replace(day=1)
    month = first
    for _ in range(FORECAST_MONTHS):
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return Filters(start=first, end=month - timedelta(days=1), tz=tz)


def _choice(session: Session, filters: Filters) -> dict[DrillFilter, Any]:
    """The page's salesperson / department choice as drill filters: the record's owner, or its
    department and those below it."""
    chosen: dict[DrillFilter, Any] = {}
    if filters.salesperson_id:
        chosen[F.OWNER] = filters.salesperson_id
    if filters.department_id:
        chosen[F.DEPARTMENT_IN] = department_tree(session, filters.department_id) or (filters.department_id,)
    return chosen


def opportunity_drill(filters: dict[DrillFilter, Any]) -> OpportunityDrill:
    """The drill filters of an opportunity link as the conditions rules/pipeline_drill builds."""
    return OpportunityDrill(
        owner_id=filters.get(F.OWNER), department_ids=tuple(filters.get(F.DEPARTMENT_IN, ())),
        source_id=filters.get(F.SOURCE), group_id=filters.get(F.STAGE_GROUP), stage_id=filters.get(F.PIPELINE_STAGE),
        reached_stage_id=filters.get(F.PIPELINE_STAGE_REACHED),
        outcome=Outcome(filters[F.OUTCOME]) if F.OUTCOME in filters else None,
        close_month=filters.get(F.CLOSE_MONTH), closed=filters.get(F.CLOSED_ON), created=filters.get(F.CREATED_ON),
        loss_reason_id=filters.get(F.LOSS_REASON))


def lead_drill(filters: dict[DrillFilter, Any]) -> LeadDrill:
    return LeadDrill(owner_id=filters.get(F.OWNER), department_ids=tuple(filters.get(F.DEPARTMENT_IN, ())),
                     source_id=filters.get(F.SOURCE), status=filters.get(F.LEAD_STATUS),
                     created=filters.get(F.CREATED_ON))


def link_where(session: Session, actor: Actor, link: ListLink, tz: str) -> list[ColumnElement[bool]]:
    """What the list a link opens shows to `actor`: its scope and the link's conditions."""
    named = dict(link.filters)
    if link.kind is ListKind.LEAD:
        return [scope.lead_clause(actor), *lead_where(lead_drill(named), tz)]
    return [scope.opportunity_clause(actor), *opportunity_where(session, opportunity_drill(named), tz)]


def _opportunities(session: Session, actor: Actor, filters: Filters, chosen: dict[DrillFilter, Any],
                   **narrow: Any) -> list[ColumnElement[bool]]:
    return [scope.opportunity_clause(actor),
            *opportunity_where(session, opportunity_drill({**chosen, **narrow}), filters.tz)]


def _link(kind: ListKind, chosen: dict[DrillFilter, Any], **narrow: Any) -> ListLink:
    return ListLink.of(kind, {**chosen, **{F(k): v for k, v in narrow.items()}})


def _weighted(value: Any) -> Decimal:
    """Σ amount × win % (from SQL) as money: ÷ 100, rounded half up to the cent."""
    return (Decimal(value or 0) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _percent(part: int, whole: int) -> Decimal | None:
    return Decimal(part * 100) / whole if whole else None


def _people_names(session: Session, by: str, keys: Any) -> dict[Any, str]:
    if by == "department":
        return _names(session, Department, keys, "name")
    if by == "source":
        return _names(session, DictItem, keys, "name")
    return _names(session, User, keys, "display_name")


_NARROW = {"owner": "owner", "department": "department_in", "source": "source"}


def _key_narrow(by: str, key: Any) -> dict[str, Any] | None:
    """The drill filter of one grouped row; None where no list filter can name it (未设置)."""
    if key is None:
        return None
    return {_NARROW[by]: (key,) if by == "department" else key}


def _key_column(by: str) -> Any:
    return {"owner": Opportunity.owner_id, "department": Opportunity.department_id,
            "source": Opportunity.source_id}[by]


# --- 销售预测 ---------------------------------------------------------------------------------------

def forecast(session: Session, actor: Actor, filters: Filters, *, by: str = "owner") -> Table:
    """销售预测: open opportunities expected to close in each month of the range, Σ amount and
    Σ amount × the stage's win %, per owner or department; won ones closed in those months apart."""
    by = by if by in BY_OWNER else "owner"
    months = bucket_labels(filters, "month")
    span = Days(month_days(months[0]).first, month_days(months[-1]).last)
    chosen = _choice(session, filters)
    key = _key_column(by)
    month = bucket(session, Opportunity.expected_close_on, "month", filters, is_date=True)
    open_found = session.execute(
        select(key.label("key"), month.label("month"), func.count().label("n"), _sum(Opportunity.amount).label("amount"),
               func.coalesce(func.sum(Opportunity.amount * Stage.probability), 0).label("weighted"))
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(*_opportunities(session, actor, filters, chosen, **{F.OUTCOME: Outcome.OPEN}),
               Opportunity.expected_close_on >= span.first, Opportunity.expected_close_on <= span.last)
        .group_by(key, month)).all()
    closed = bucket(session, Opportunity.closed_at, "month", filters)
    won_found = session.execute(
        select(key.label("key"), closed.label("month"), func.count().label("n"), _sum(Opportunity.amount).label("amount"))
        .where(*_opportunities(session, actor, filters, chosen, **{F.OUTCOME: Outcome.WON, F.CLOSED_ON: span}))
        .group_by(key, closed)).all()

    per: dict[Any, dict[str, Any]] = {}
    by_month = {m: {"month": m, "count": 0, "amount": ZERO, "weighted": ZERO, "won_count": 0, "won_amount": ZERO}
                for m in months}
    for r in open_found:
        row = per.setdefault(r.key, {})
        amount, weighted = _money(r.amount), _weighted(r.weighted)
        row[f"amount_{r.month}"], row[f"weighted_{r.month}"] = amount, weighted
        row["count"] = row.get("count", 0) + int(r.n)
        row["amount"] = row.get("amount", ZERO) + amount
        row["weighted"] = row.get("weighted", ZERO) + weighted
        if r.month in by_month:
            m = by_month[r.month]
            m["count"] += int(r.n)
            m["amount"] += amount
            m["weighted"] += weighted
    for r in won_found:
        row = per.setdefault(r.key, {})
        row["won_count"] = row.get("won_count", 0) + int(r.n)
        row["won_amount"] = row.get("won_amount", ZERO) + _money(r.amount)
        if r.month in by_month:
            by_month[r.month]["won_count"] += int(r.n)
            by_month[r.month]["won_amount"] += _money(r.amount)

    names = _people_names(session, by, per)
    rows = []
    for k, row in per.items():
        narrow = _key_narrow(by, k)
        row = {"name": names.get(k) or str(UNSET), "count": 0, "amount": ZERO, "weighted": ZERO, "won_count": 0,
               "won_amount": ZERO, **row, "drill": None}
        if narrow is not None:
            opened = {m: _link(ListKind.OPPORTUNITY, chosen, **narrow, outcome=Outcome.OPEN.value, close_month=m)
                      for m in months}
            won = _link(ListKind.OPPORTUNITY, chosen, **narrow, outcome=Outcome.WON.value, closed_on=span)
            row["cell_drill"] = {**{f"amount_{m}": link for m, link in opened.items()},
                                 **{f"weighted_{m}": link for m, link in opened.items()},
                                 "won_count": won, "won_amount": won}
        rows.append(row)
    rows.sort(key=lambda r: (-r["weighted"], -r["amount"], r["name"]))
    month_columns = []
    for m in months:
        month_columns += [Column(f"amount_{m}", f"{m} {_l('金额')}", "money"),
                          Column(f"weighted_{m}", f"{m} {_l('预测金额')}", "money")]
    columns = [Column("name", _l("负责人") if by == "owner" else _l("部门")),
               *month_columns,
               Column("count", _l("进行中机会数"), "int"), Column("amount", _l("金额合计"), "money"),
               Column("weighted", _l("预测金额合计"), "money"),
               Column("won_count", _l("已赢单数"), "int"), Column("won_amount", _l("已赢单金额"), "money")]
    table = Table(columns, rows, "name", ["weighted"])
    table.totals = _totals(rows, columns, "name")
    chart_rows = []
    for m, row in by_month.items():
        opened = _link(ListKind.OPPORTUNITY, chosen, outcome=Outcome.OPEN.value, close_month=m)
        won = _link(ListKind.OPPORTUNITY, chosen, outcome=Outcome.WON.value, closed_on=month_days(m))
        chart_rows.append({**row, "drill": opened,
                           "series_drill": {"amount": opened, "weighted": opened, "won_amount": won}})
    table.extra.update(
        chart_rows=chart_rows, chart_label="month",
        chart_columns=[Column("amount", _l("金额"), "money"), Column("weighted", _l("预测金额"), "money"),
                       Column("won_amount", _l("已赢单金额"), "money")],
        months=chart_rows)
    table.note = _l("预测金额 = 金额 × 所处阶段的赢率；已赢单按赢单日期所在月份单列，不计入预测。")
    return table


# --- 销售漏斗 ---------------------------------------------------------------------------------------

def stage_groups(session: Session) -> list[tuple[int, str]]:
    """The group chooser: active stage groups in their order."""
    return [(g.id, g.name) for g in session.scalars(
        select(StageGroup).where(StageGroup.active.is_(True)).order_by(StageGroup.sort_order, StageGroup.id))]


def funnel(session: Session, actor: Actor, filters: Filters, *, group_id: int | None = None) -> Table:
    """销售漏斗 of one stage group over the opportunities created within the range: per stage how
    many are at it now (open) with their amount, how many reached it (furthest stage at or
    beyond it; won ones reached every stage, invalid ones none) and the conversion from the
    stage before; then 赢单, and the outcome totals apart."""
    groups = stage_groups(session)
    if group_id not in {g for g, _name in groups}:
        group_id = groups[0][0] if groups else None
    columns = [Column("name", _l("阶段")), Column("probability", _l("赢率"), "percent"),
               Column("open_count", _l("处于该阶段（进行中）"), "int"), Column("open_amount", _l("进行中金额"), "money"),
               Column("reached", _l("到达数"), "int"), Column("conversion", _l("转化率（较上一阶段）"), "percent")]
    table = Table(columns, [], "name", ["reached"])
    table.extra.update(group_id=group_id, groups=groups, outcomes=[])
    if group_id is None:
        return table
    stages = group_stages(session, group_id)
    positions = {s.id: i for i, s in enumerate(stages)}
    created = Days(filters.start, filters.end)
    chosen = _choice(session, filters)
    base = _opportunities(session, actor, filters, chosen, **{F.STAGE_GROUP: group_id, F.CREATED_ON: created})
    now = session.execute(
        select(Opportunity.stage_id, Opportunity.outcome, func.count().label("n"), _sum(Opportunity.amount).label("amount"))
        .where(*base).group_by(Opportunity.stage_id, Opportunity.outcome)).all()
    # The few backward moves through (from_stage_id, to_stage_id), grouped afterwards: grouped
    # directly, SQLite walks every event in opportunity order instead (0.45 s → 0.03 s at 200k);
    # the OFFSET keeps it from merging the two.
    moves = (select(OpportunityEvent.opportunity_id.label("oid"), OpportunityEvent.from_stage_id.label("from_id"))
             .where(backward_moves(positions)).offset(0).subquery())
    back = (select(moves.c.oid, func.max(case(positions, value=moves.c.from_id, else_=-1)).label("top"))
            .group_by(moves.c.oid).subquery())
    moved = session.execute(
        select(Opportunity.stage_id, back.c.top, func.count().label("n"))
        .join(back, back.c.oid == Opportunity.id)
        .where(*base, Opportunity.outcome.in_(WORKED)).group_by(Opportunity.stage_id, back.c.top)).all()

    furthest = [0] * len(stages)
    open_at = {s.id: (0, ZERO) for s in stages}
    outcomes = {o: [0, ZERO] for o in Outcome}
    for r in now:
        outcome = Outcome(r.outcome)
        outcomes[outcome][0] += int(r.n)
        outcomes[outcome][1] += _money(r.amount)
        if r.stage_id not in positions:
            continue
        if outcome in WORKED:
            furthest[positions[r.stage_id]] += int(r.n)
        if outcome is Outcome.OPEN:
            open_at[r.stage_id] = (int(r.n), _money(r.amount))
    for r in moved:
        here = positions.get(r.stage_id)
        if here is not None and r.top is not None and r.top > here:
            furthest[here] -= int(r.n)
            furthest[int(r.top)] += int(r.n)
    won = outcomes[Outcome.WON][0]
    reached, running = [], won
    for n in reversed(furthest):
        running += n
        reached.append(running)
    reached.reverse()

    rows: list[dict[str, Any]] = []
    for i, stage in enumerate(stages):
        n, amount = open_at[stage.id]
        at = _link(ListKind.OPPORTUNITY, chosen, stage_group=group_id, pipeline_stage=stage.id,
                   outcome=Outcome.OPEN.value, created_on=created)
        got = _link(ListKind.OPPORTUNITY, chosen, pipeline_stage_reached=stage.id, created_on=created)
        rows.append({"name": stage.name, "probability": Decimal(stage.probability), "open_count": n,
                     "open_amount": amount, "reached": reached[i],
                     "conversion": _percent(reached[i], reached[i - 1]) if i else None, "drill": got,
                     "cell_drill": {"open_count": at, "open_amount": at, "reached": got}})
    won_link = _link(ListKind.OPPORTUNITY, chosen, stage_group=group_id, outcome=Outcome.WON.value, created_on=created)
    rows.append({"name": str(_l("赢单")), "probability": Decimal(100), "open_count": None, "open_amount": None,
                 "reached": won, "conversion": _percent(won, reached[-1]) if stages else None, "drill": won_link,
                 "cell_drill": {"reached": won_link}})
    table.rows = rows
    labels = {Outcome.OPEN: _l("进行中"), Outcome.WON: _l("赢单"), Outcome.LOST: _l("输单"), Outcome.INVALID: _l("无效")}
    table.extra["outcomes"] = [
        {"name": str(labels[o]), "count": outcomes[o][0], "amount": outcomes[o][1],
         "drill": _link(ListKind.OPPORTUNITY, chosen, stage_group=group_id, outcome=o.value, created_on=created)}
        for o in Outcome]
    table.note = _l("到达数：最远到过该阶段或其后阶段的机会（赢单的计入每个阶段，无效的不计）；转化率 = 本阶段到达数 ÷ 上一阶段到达数。")
    return table


# --- 赢单率与周期 / 输单原因 ------------------------------------------------------------------------

def _days_between(session: Session, later: Any, earlier: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 86400
    return func.julianday(later) - func.julianday(earlier)


def win_rates(session: Session, actor: Actor, filters: Filters, *, by: str = "owner") -> Table:
    """赢单率与周期: opportunities won or lost (closed) within the range, per owner or source:
    win rate = won ÷ (won + lost), and the average days from creation to closing."""
    by = by if by in BY_WIN else "owner"
    chosen = _choice(session, filters)
    closed = Days(filters.start, filters.end)
    key = _key_column(by)
    days = _days_between(session, Opportunity.closed_at, Opportunity.created_at)
    found = session.execute(
        select(key.label("key"), Opportunity.outcome, func.count().label("n"), _sum(Opportunity.amount).label("amount"),
               func.sum(days).label("days"))
        .where(*_opportunities(session, actor, filters, chosen, **{F.CLOSED_ON: closed}),
               Opportunity.outcome.in_((Outcome.WON, Outcome.LOST)))
        .group_by(key, Opportunity.outcome)).all()
    per: dict[Any, dict[str, Any]] = {}
    for r in found:
        row = per.setdefault(r.key, {"won": 0, "lost": 0, "won_amount": ZERO, "won_days": 0.0, "all_days": 0.0})
        row[Outcome(r.outcome).value] += int(r.n)
        row["all_days"] += float(r.days or 0)
        if r.outcome == Outcome.WON:
            row["won_amount"] = _money(r.amount)
            row["won_days"] = float(r.days or 0)
    names = _people_names(session, by, per)
    rows = []
    for k, c in per.items():
        narrow = _key_narrow(by, k)
        closed_count = c["won"] + c["lost"]
        row = {"name": names.get(k) or str(UNSET), "won": c["won"], "lost": c["lost"], "closed": closed_count,
               "rate": _percent(c["won"], closed_count), "won_amount": c["won_amount"],
               "won_cycle": round(c["won_days"] / c["won"], 1) if c["won"] else None,
               "cycle": round(c["all_days"] / closed_count, 1) if closed_count else None, "drill": None}
        if narrow is not None:
            won = _link(ListKind.OPPORTUNITY, chosen, **narrow, outcome=Outcome.WON.value, closed_on=closed)
            lost = _link(ListKind.OPPORTUNITY, chosen, **narrow, outcome=Outcome.LOST.value, closed_on=closed)
            row["cell_drill"] = {"won": won, "won_amount": won, "lost": lost}
            row["series_drill"] = {"rate": won}
        rows.append(row)
    rows.sort(key=lambda r: (-r["won"], -r["closed"], r["name"]))
    columns = [Column("name", _l("负责人") if by == "owner" else _l("来源")), Column("won", _l("赢单数"), "int"),
               Column("lost", _l("输单数"), "int"), Column("closed", _l("已关闭（赢+输）"), "int"),
               Column("rate", _l("赢单率"), "percent"), Column("won_amount", _l("赢单金额"), "money"),
               Column("won_cycle", _l("平均赢单周期（天）"), "number"), Column("cycle", _l("平均关闭周期（天）"), "number")]
    table = Table(columns, rows, "name", ["rate"])
    table.totals = _totals(rows, columns, "name")
    total_won, total_closed = table.totals["won"], table.totals["closed"]
    table.totals["rate"] = _percent(total_won, total_closed)
    won_days = sum(per[k]["won_days"] for k in per)
    all_days = sum(per[k]["all_days"] for k in per)
    table.totals["won_cycle"] = round(won_days / total_won, 1) if total_won else None
    table.totals["cycle"] = round(all_days / total_closed, 1) if total_closed else None
    return table


def loss_reasons(session: Session, actor: Actor, filters: Filters) -> Table:
    """输单原因: opportunities lost within the range, count and amount per reason."""
    chosen = _choice(session, filters)
    closed = Days(filters.start, filters.end)
    found = session.execute(
        select(Opportunity.loss_reason_id.label("key"), func.count().label("n"), _sum(Opportunity.amount).label("amount"))
        .where(*_opportunities(session, actor, filters, chosen, **{F.OUTCOME: Outcome.LOST, F.CLOSED_ON: closed}))
        .group_by(Opportunity.loss_reason_id)).all()
    total = sum(int(r.n) for r in found)
    names = _names(session, DictItem, [r.key for r in found], "name")
    rows = []
    for r in found:
        link = (_link(ListKind.OPPORTUNITY, chosen, outcome=Outcome.LOST.value, loss_reason=r.key, closed_on=closed)
                if r.key is not None else None)
        rows.append({"name": names.get(r.key) or str(_l("未填写")), "count": int(r.n), "amount": _money(r.amount),
                     "share": _percent(int(r.n), total), "drill": link,
                     "cell_drill": {"count": link, "amount": link} if link else {}})
    rows.sort(key=lambda r: (-r["count"], -r["amount"], r["name"]))
    columns = [Column("name", _l("输单原因")), Column("count", _l("输单数"), "int"), Column("amount", _l("输单金额"), "money"),
               Column("share", _l("占比"), "percent")]
    table = Table(columns, rows, "name", ["count"])
    table.totals = _totals(rows, columns, "name")
    return table


# --- 线索转化率 -------------------------------------------------------------------------------------

def lead_conversion(session: Session, actor: Actor, filters: Filters) -> Table:
    """线索转化率 by source: leads created within the range, how many are converted or invalid
    now, and the conversion rate = converted ÷ created."""
    chosen = _choice(session, filters)
    created = Days(filters.start, filters.end)
    where = [scope.lead_clause(actor), *lead_where(lead_drill({**chosen, F.CREATED_ON: created}), filters.tz)]
    found = session.execute(select(Lead.source_id.label("key"), Lead.status, func.count().label("n"))
                            .where(*where).group_by(Lead.source_id, Lead.status)).all()
    per: dict[Any, dict[str, int]] = {}
    for r in found:
        counts = per.setdefault(r.key, {"created": 0})
        counts["created"] += int(r.n)
        counts[r.status] = counts.get(r.status, 0) + int(r.n)
    names = _names(session, DictItem, per, "name")
    rows = []
    for k, c in per.items():
        converted, invalid = c.get(LeadStatus.CONVERTED.value, 0), c.get(LeadStatus.INVALID.value, 0)
        row = {"name": names.get(k) or str(UNSET), "created": c["created"], "converted": converted,
               "invalid": invalid, "open": c["created"] - converted - invalid,
               "rate": _percent(converted, c["created"]), "drill": None}
        if k is not None:
            every = _link(ListKind.LEAD, chosen, source=k, created_on=created)
            row["drill"] = every
            row["cell_drill"] = {
                "created": every,
                "converted": _link(ListKind.LEAD, chosen, source=k, created_on=created, lead_status=LeadStatus.CONVERTED.value),
                "invalid": _link(ListKind.LEAD, chosen, source=k, created_on=created, lead_status=LeadStatus.INVALID.value)}
        rows.append(row)
    rows.sort(key=lambda r: (-r["created"], r["name"]))
    columns = [Column("name", _l("线索来源")), Column("created", _l("新增线索"), "int"),
               Column("converted", _l("已转化"), "int"), Column("invalid", _l("无效"), "int"),
               Column("open", _l("跟进中/未跟进"), "int"), Column("rate", _l("转化率"), "percent")]
    table = Table(columns, rows, "name", ["created", "converted"])
    table.totals = _totals(rows, columns, "name")
    table.totals["rate"] = _percent(table.totals["converted"], table.totals["created"])
    return table


def with_month_range(filters: Filters) -> Filters:
    """The forecast counts whole months: the range widened to the first and last day of its
    months."""
    months = bucket_labels(filters, "month")
    return replace(filters, start=month_days(months[0]).first, end=month_days(months[-1]).last)
