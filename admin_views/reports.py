"""统计报表 pages: a date range and department/salesperson choice within scope, a chart the
user switches between bar, line and pie, the table of numbers under it, its Excel export, and
a click on a bar or slice that opens the scoped list behind it (customers, orders, follow-ups or
流转记录, narrowed exactly as the chart counted; nothing where a list could not match).

The numbers come from rules/reports.py and rules/rfm.py (SQL GROUP BYs built on
rules/scope.py); this module only reads the request, draws the chart options with pyecharts
and renders."""
from __future__ import annotations

import json
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app, flash, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from pyecharts import options as opts
from pyecharts.charts import Bar, Funnel, Line, Pie
from pyecharts.globals import CurrentConfig

from adapters import spreadsheet
from admin_views import links, params
from admin_views.base import PermissionView
from admin_views.context import current_actor, now
from admin_views.formatters import fmt_date, fmt_money
from admin_views.forms import CsrfForm
from admin_views.menu import REPORTS, fa
from admin_views.org import DATA_SCOPE_LABELS
from admin_views.transaction import transaction
from models import db
from models.dictionary import DictKind
from rules import dictionaries, regions, report_definitions, reports, rfm
from rules.clock import local_date
from rules.exporting import MONEY_FORMAT, ExportColumn, number_formats
from rules.exporting import table as export_table

# ECharts is served by this app (the Makefile copies it from the pinned npm package); no
# chart may point a browser at pyecharts' CDN.
ECHARTS_URL = "/static/vendor/echarts/"
CurrentConfig.ONLINE_HOST = ECHARTS_URL

CHART_NAMES = {"bar": _l("柱状图"), "line": _l("折线图"), "pie": _l("饼图"), "funnel": _l("漏斗图")}


# --- request → filters -----------------------------------------------------------------------

def _today() -> date:
    return local_date(now(), current_app.config["TIMEZONE"])


def _int(raw: Any) -> int | None:
    """A department/salesperson/category id; anything else means "not chosen"."""
    return params.id_or_none(raw)


def _date(arg: str, name: str, default: date, problems: list[str]) -> date:
    """The date in ?arg=, or the default with the reason added to `problems`."""
    try:
        return params.date_param(request.args.get(arg), name=name) or default
    except params.BadParameter as exc:
        problems.append(str(exc.description))
        return default


def dated_request() -> bool:
    """Whether the page was asked to count only what was created within the dates (reports
    whose date range is optional)."""
    return request.args.get("dated") == "1"


def filters_from_request(default: reports.Filters | None = None) -> tuple[reports.Filters, list[str]]:
    """The page's filters; bad input keeps the default and says why."""
    default = default or reports.default_filters(_today(), current_app.config["TIMEZONE"])
    problems: list[str] = []
    start = _date("start", gettext("开始日期"), default.start, problems)
    end = _date("end", gettext("结束日期"), default.end, problems)
    if end < start:
        problems.append(gettext("结束日期早于开始日期，已对调"))
        start, end = end, start
    return reports.Filters(start=start, end=end, tz=default.tz, department_id=_int(request.args.get("department")),
                           salesperson_id=_int(request.args.get("salesperson"))), problems


# --- charts ------------------------------------------------------------------------------------

def _number(value: Any) -> float | int:
    if isinstance(value, Decimal):
        return float(value)
    return value if isinstance(value, (int, float)) else 0


def chart_options(table: reports.Table, types: tuple[str, ...]) -> dict[str, Any]:
    """ECharts options for each chart type, drawn with pyecharts."""
    rows = table.extra.get("chart_rows", table.rows)
    label = table.extra.get("chart_label", table.label)
    series = table.extra.get("chart_columns") or table.series_columns()
    labels = [str(r.get(label)) for r in rows]
    init = opts.InitOpts(width="100%", height="380px")
    result: dict[str, Any] = {}
    if not rows or not series:
        return result
    for kind in types:
        if kind in ("bar", "line"):
            chart = (Bar if kind == "bar" else Line)(init_opts=init)
            chart.add_xaxis(labels)
            for col in series:
                chart.add_yaxis(str(col.label), [_number(r.get(col.key)) for r in rows],
                                label_opts=opts.LabelOpts(is_show=len(rows) <= 12 and len(series) == 1))
            chart.set_global_opts(tooltip_opts=opts.TooltipOpts(trigger="axis"),
                                  xaxis_opts=opts.AxisOpts(axislabel_opts=opts.LabelOpts(rotate=30 if len(rows) > 8 else 0)),
                                  datazoom_opts=[opts.DataZoomOpts(range_start=0, range_end=100)] if len(rows) > 24 else None,
                                  legend_opts=opts.LegendOpts(is_show=len(series) > 1))
        elif kind == "pie":
            col = series[0]
            chart = Pie(init_opts=init)
            chart.add(str(col.label), [(l, _number(r.get(col.key))) for l, r in zip(labels, rows)],
                      radius=["30%", "65%"])
            chart.set_global_opts(legend_opts=opts.LegendOpts(type_="scroll", orient="vertical", pos_left="0"),
                                  tooltip_opts=opts.TooltipOpts(trigger="item", formatter="{b}: {c} ({d}%)"))
        else:
            col = series[0]
            chart = Funnel(init_opts=init)
            chart.add(str(col.label), [(l, _number(r.get(col.key))) for l, r in zip(labels, rows)], sort_="none",
                      label_opts=opts.LabelOpts(position="inside"))
            chart.set_global_opts(tooltip_opts=opts.TooltipOpts(trigger="item"))
        # The quoted dump: plain dump_options() strips the quotes around pyecharts' JsCode marker,
        # so a product named "--x_x--0_0--" would break the JSON (we use no JsCode).
        result[kind] = json.loads(chart.dump_options_with_quotes())
        if kind == "funnel":  # widths relative to the largest step (ECharts' default max is 100)
            result[kind]["series"][0]["max"] = max((_number(r.get(series[0].key)) for r in rows), default=0) or 1
    return result


def mini_line(labels: list[str], values: list[Any]) -> dict[str, Any]:
    """A small line chart without axes' clutter, for a workbench widget."""
    chart = Line(init_opts=opts.InitOpts(width="100%", height="80px"))
    chart.add_xaxis(labels)
    chart.add_yaxis("", [_number(v) for v in values], is_symbol_show=False,
                    label_opts=opts.LabelOpts(is_show=False), areastyle_opts=opts.AreaStyleOpts(opacity=0.2))
    chart.set_global_opts(xaxis_opts=opts.AxisOpts(is_show=False), yaxis_opts=opts.AxisOpts(is_show=False),
                          legend_opts=opts.LegendOpts(is_show=False), tooltip_opts=opts.TooltipOpts(trigger="axis"))
    options = json.loads(chart.dump_options_with_quotes())
    options["grid"] = {"left": 2, "right": 2, "top": 4, "bottom": 4}
    return options


# --- the pages ---------------------------------------------------------------------------------

def _cell(value: Any, kind: str) -> str:
    if value is None or value == "":
        return "—" if kind in ("percent", "money", "int") else ""
    if kind == "money":
        return fmt_money(value)
    if kind == "percent":
        return f"{Decimal(value):.1f}%"
    if kind == "date":
        return fmt_date(value)
    if kind == "number":
        return f"{value:,.1f}"
    return str(value)


def _export_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "percent":
        return float(round(Decimal(value), 1))
    if kind == "money":
        return Decimal(value)
    return value if isinstance(value, (int, float, date)) else str(value)


class ReportView(PermissionView):
    """One report page; subclasses say which numbers and which choices."""

    permission = "report.view"

    chart_types: tuple[str, ...] = ("bar", "line", "pie")
    title: Any = ""
    description: Any = ""
    definition = ""  # the key of its 统计口径 (rules/report_definitions.py)
    dates_optional = False  # the range narrows only when 只统计期间内创建的 is ticked
    # (request arg, label, [(value, label)], default)
    choices: list[tuple[str, Any, list[tuple[str, Any]], str]] = []
    show_people = True
    template = "admin/reports/report.html"
    empty_text: Any = _l("所选日期和范围内没有数据。请放宽日期范围，或换一个部门/业务员再查询。")

    def choice(self, arg: str) -> str:
        for name, _label, options, default in self.current_choices():
            if name == arg:
                value = request.args.get(arg, default)
                return value if value in {o[0] for o in options} or not options else default
        return request.args.get(arg, "")

    def current_choices(self) -> list[tuple[str, Any, list[tuple[str, Any]], str]]:
        return self.choices

    def compute(self, filters: reports.Filters) -> reports.Table:
        raise NotImplementedError

    def _build(self) -> tuple[reports.Filters, list[str], reports.Table]:
        filters, problems = filters_from_request()
        return filters, problems, self.compute(filters)

    @expose("/")
    def index(self) -> Any:
        filters, problems, table = self._build()
        for problem in problems:
            flash(problem, "error")
        actor = current_actor()
        types = self.chart_types
        drill, series_drill = self.chart_drill(table)
        row_drill = drill if "chart_rows" not in table.extra else [None] * len(table.rows)
        chart = {"options": chart_options(table, types), "drill": drill, "series_drill": series_drill,
                 "initial": request.args.get("chart") if request.args.get("chart") in types else types[0]}
        args = {k: v for k, v in request.args.items() if k != "chart"}
        return self.render(
            self.template, report=self, table=table, filters=filters, chart=chart,
            chart_names=CHART_NAMES,
            people=reports.people_in_scope(db.session, actor) if self.show_people else [],
            departments=reports.departments_in_scope(db.session, actor) if self.show_people else [],
            choices=[(n, l, o, self.choice(n)) for n, l, o, _d in self.current_choices()],
            rows=[{c.key: _cell(r.get(c.key), c.kind) for c in table.columns} | {"_drill": d, "_raw": r}
                  | {"_cells": self.cell_links(r)} for r, d in zip(table.rows, row_drill)],
            totals={c.key: _cell(table.totals.get(c.key), c.kind) for c in table.columns} if table.totals else None,
            export_url=url_for(f"{self.endpoint}.export", **args), extra=self.extra_context(table),
            definition=report_definitions.lines(self.definition, scope_label=DATA_SCOPE_LABELS[actor.data_scope],
                                                summary_at=table.extra.get("summary_at"),
                                                tz=current_app.config["TIMEZONE"]),
            dated=dated_request() if self.dates_optional else True)

    def extra_context(self, table: reports.Table) -> dict[str, Any]:
        return {}

    def cell_links(self, row: dict[str, Any]) -> dict[str, str]:
        """The list behind each figure of a row that names one per column (`cell_drill`); none
        behind an empty figure."""
        found = {key: links.list_url(self.admin, link) for key, link in (row.get("cell_drill") or {}).items()
                 if row.get(key)}
        return {key: url for key, url in found.items() if url}

    def chart_drill(self, table: reports.Table) -> tuple[list[str | None], list[list[str | None]] | None]:
        """The list each bar or slice opens: one URL per chart row, or per series and row when
        the rows carry `series_drill` (a bar of 领用 and one of 放弃 open different lists).
        Figures read from the periodic summaries are a snapshot that a live list would not
        match, so they open nothing."""
        rows = table.extra.get("chart_rows", table.rows)
        if table.extra.get("summary_at"):
            return [None] * len(rows), None
        drill = [links.list_url(self.admin, r.get("drill")) for r in rows]
        if not any(r.get("series_drill") for r in rows):
            return drill, None
        series = table.extra.get("chart_columns") or table.series_columns()
        return drill, [[links.list_url(self.admin, (r.get("series_drill") or {}).get(c.key)) for r in rows]
                       for c in series]

    @expose("/export")
    def export(self) -> Any:
        _filters, _problems, table = self._build()
        columns = [ExportColumn(c.key, c.label, (lambda key, kind: lambda row: _export_value(row.get(key), kind))(
            c.key, c.kind), MONEY_FORMAT if c.kind == "money" else None) for c in table.columns]
        rows = list(table.rows) + ([table.totals] if table.totals else [])
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "report.xlsx"
            spreadsheet.write_table(path, str(self.title), *export_table(columns, rows),
                                    formats=number_formats(columns))
            data = path.read_bytes()
        from io import BytesIO

        name = f"{self.title}-{_today().isoformat()}.xlsx"
        return send_file(BytesIO(data), as_attachment=True, download_name=name,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class CustomerCountReport(ReportView):
    title = _l("客户数量报表")
    description = _l("按省份、分类、业务员或自定义字段统计现有客户的数量；点击柱子或扇区查看这些客户。")
    definition = "customer_counts"
    dates_optional = True

    def current_choices(self) -> list[tuple[str, Any, list[tuple[str, Any]], str]]:
        base = [("by", _l("统计维度"), list(reports.dimensions(db.session).items()), "province")]
        if request.args.get("by") == "city":
            base.append(("province", _l("省份"), [(p, p) for p in regions.tree()], "浙江省"))
        return base

    def compute(self, filters: reports.Filters) -> reports.Table:
        by = self.choice("by")
        return reports.customer_counts(db.session, current_actor(), filters, by=by,
                                       province=self.choice("province") if by == "city" else None,
                                       created=dated_request())


class NewCustomerReport(ReportView):
    title = _l("新增客户走势")
    definition = "new_customers"
    chart_types = ("line", "bar")
    choices = [("grain", _l("按"), [("day", _l("日")), ("week", _l("周")), ("month", _l("月")), ("year", _l("年"))],
                "month")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        return reports.new_customers(db.session, current_actor(), filters, grain=self.choice("grain"))


class FunnelReport(ReportView):
    """The funnel's steps in the chart and table; the stages beside it (搁置, 流失) apart."""

    title = _l("销售漏斗")
    definition = "funnel"
    description = _l("按跟进程度统计客户，越往后的阶段包含已经走过前面阶段的客户；搁置、流失等不在漏斗内的单独列出。")
    chart_types = ("funnel", "bar")

    def compute(self, filters: reports.Filters) -> reports.Table:
        return reports.funnel(db.session, current_actor(), filters)

    def extra_context(self, table: reports.Table) -> dict[str, Any]:
        return {"apart": [{**s, "url": links.list_url(self.admin, s["drill"])} for s in table.extra.get("apart", [])]}


class CompanySalesReport(ReportView):
    title = _l("公司销售报表")
    definition = "company_sales"
    chart_types = ("bar", "line")

    def compute(self, filters: reports.Filters) -> reports.Table:
        return reports.company_sales(db.session, current_actor(), filters)


class ProductSalesReport(ReportView):
    title = _l("产品销售报表")
    definition = "product_sales"
    choices = [("by", _l("统计维度"), [("product", _l("按产品")), ("category", _l("按产品类别"))], "product")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        return reports.product_sales(db.session, current_actor(), filters, by=self.choice("by"))


class SalespersonReport(ReportView):
    title = _l("业务员业绩报表")
    definition = "salespeople"
    description = _l("可作为提成计算的依据：销售额已扣除退货，实收已扣除退款。")

    def compute(self, filters: reports.Filters) -> reports.Table:
        return reports.salesperson_performance(db.session, current_actor(), filters)


class FollowUpReport(ReportView):
    title = _l("客户跟进报表")
    definition = "follow_ups"
    choices = [("by", _l("统计维度"), [("salesperson", _l("按业务员")), ("department", _l("按部门")),
                                   ("day", _l("按日")), ("month", _l("按月")), ("year", _l("按年")),
                                   ("idle", _l("超过 N 天未跟进"))], "salesperson"),
               ("days", _l("N（天）"), [], "30")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        by = self.choice("by")
        if by == "idle":
            days = min(_int(request.args.get("days")) or 30, 3650)  # ten years: a timedelta past that is an attack
            return reports.not_followed(db.session, current_actor(), filters, days=days, now=now())
        return reports.follow_ups(db.session, current_actor(), filters, by=by)


class PoolReport(ReportView):
    title = _l("客户池报表")
    definition = "pool"
    choices = [("view", _l("内容"), [("people", _l("领用/放弃/回收（按业务员）")), ("size", _l("客户池大小（按月）"))],
                "people")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        if self.choice("view") == "size":
            return reports.pool_size(db.session, current_actor(), filters)
        return reports.pool_activity(db.session, current_actor(), filters)


class CustomerSalesReport(ReportView):
    title = _l("客户销售报表")
    definition = "customer_sales"
    description = _l("客户按购买金额或次数排名，并按 RFM 模型分群；可把一个分群的客户批量设为某个客户分类。")
    chart_types = ("pie", "bar")
    choices = [("sort", _l("排名依据"), [("amount", _l("购买金额")), ("count", _l("购买次数"))], "amount"),
               ("segment", _l("RFM 分群"), [("", _l("全部"))] + [(k, v) for k, v in rfm.SEGMENTS.items()], "")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        table = rfm.customer_sales(db.session, current_actor(), filters, today=_today(),
                                   segment=self.choice("segment") or None, sort=self.choice("sort"))
        table.extra.update(chart_rows=table.extra["segments"], chart_label="name",
                           chart_columns=[reports.Column("count", _l("客户数"), "int")])
        return table

    def chart_drill(self, table: reports.Table) -> tuple[list[str | None], list[list[str | None]] | None]:
        """A segment's slice opens this page narrowed to that segment (same dates, people and
        sort), whose table lists its customers."""
        args = {k: v for k, v in request.args.items() if k != "segment"}
        return [url_for(f"{self.endpoint}.index", **args, segment=s["key"]) if s.get("count") else None
                for s in table.extra.get("chart_rows", [])], None

    def extra_context(self, table: reports.Table) -> dict[str, Any]:
        actor = current_actor()
        return {"rfm": table.extra, "categories": dictionaries.items(db.session, DictKind.CATEGORY),
                "can_set_category": actor.can("customer.edit"),
                "detail_url": lambda cid: url_for("customer.details_view", id=cid)}

    @expose("/set-category", methods=["POST"])
    def set_category(self) -> Any:
        back = url_for(f"{self.endpoint}.index", **{k: v for k, v in request.args.items()})
        self.require("customer.edit")
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return redirect(back)
        segment, category_id = request.form.get("segment", ""), _int(request.form.get("category"))
        if segment not in rfm.SEGMENTS or category_id is None:
            flash(gettext("请选择分群和客户分类"), "error")
            return redirect(back)
        filters, _problems = filters_from_request()
        try:
            with transaction() as outcome:
                changed = rfm.set_category(db.session, current_actor(), filters, today=_today(), segment=segment,
                                           category_id=category_id)
                outcome.done(gettext("已将 %(n)d 个“%(s)s”的客户设为所选分类", n=changed, s=rfm.SEGMENTS[segment]))
        except ValueError:  # not a category of the dictionary (the transaction has rolled back)
            flash(gettext("请选择分群和客户分类"), "error")
        return redirect(back)


def views() -> list[BaseView]:
    """The report pages in menu order."""
    return [
        CompanySalesReport(name=_l("公司销售报表"), category=REPORTS, endpoint="report_sales",
                           url="/admin/reports/sales", **fa("fa-line-chart")),
        ProductSalesReport(name=_l("产品销售报表"), category=REPORTS, endpoint="report_products",
                           url="/admin/reports/products", **fa("fa-cube")),
        SalespersonReport(name=_l("业务员业绩报表"), category=REPORTS, endpoint="report_salespeople",
                          url="/admin/reports/salespeople", **fa("fa-trophy")),
        CustomerSalesReport(name=_l("客户销售报表"), category=REPORTS, endpoint="report_customer_sales",
                            url="/admin/reports/customer-sales", **fa("fa-diamond")),
        CustomerCountReport(name=_l("客户数量报表"), category=REPORTS, endpoint="report_customers",
                            url="/admin/reports/customers", **fa("fa-pie-chart")),
        NewCustomerReport(name=_l("新增客户走势"), category=REPORTS, endpoint="report_new_customers",
                          url="/admin/reports/new-customers", **fa("fa-area-chart")),
        FollowUpReport(name=_l("客户跟进报表"), category=REPORTS, endpoint="report_follow_ups",
                       url="/admin/reports/follow-ups", **fa("fa-phone-square")),
        PoolReport(name=_l("客户池报表"), category=REPORTS, endpoint="report_pool",
                   url="/admin/reports/pool", **fa("fa-inbox")),
        FunnelReport(name=_l("销售漏斗"), category=REPORTS, endpoint="report_funnel",
                     url="/admin/reports/funnel", **fa("fa-filter")),
    ]
