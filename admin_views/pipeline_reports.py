"""Pipeline report pages (统计报表 menu): 销售预测, 销售机会漏斗, 赢单率与周期, 输单原因, 线索转化率.

The numbers come from rules/pipeline_reports.py; these pages are the report pages of
admin_views/reports.py (filters, pyecharts chart, table, xlsx export, 统计口径) with a link on
every figure to the 销售机会 or 线索 list behind it."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_admin import BaseView
from flask_babel import lazy_gettext as _l

from admin_views import links
from admin_views.context import current_actor
from admin_views.menu import REPORTS, fa
from admin_views.reports import ReportView, _int, _today, filters_from_request
from models import db
from rules import pipeline_reports, reports

TEMPLATE = "admin/pipeline_reports/report.html"


class PipelineReport(ReportView):
    template = TEMPLATE

    def extra_context(self, table: reports.Table) -> dict[str, Any]:
        return {"outcomes": [{**o, "url": links.list_url(self.admin, o["drill"])}
                             for o in table.extra.get("outcomes", [])],
                "months": [{**m, "open_url": links.list_url(self.admin, m["drill"]) if m["count"] else None,
                            "won_url": links.list_url(self.admin, m["series_drill"]["won_amount"]) if m["won_count"]
                            else None} for m in table.extra.get("months", [])] if table.rows else []}


class ForecastReport(PipelineReport):
    title = _l("销售预测")
    definition = "pipeline_forecast"
    description = _l("进行中的销售机会按预计成交月份汇总金额和预测金额（金额 × 阶段赢率）；默认本月起 6 个月。点击数字查看对应的销售机会。")
    empty_text = _l("所选月份没有预计成交的进行中销售机会。请在销售机会中填写预计成交日期和金额，或放宽月份范围。")
    chart_types = ("bar", "line")
    choices = [("by", _l("统计维度"), list(pipeline_reports.BY_OWNER.items()), "owner")]

    def _build(self) -> tuple[reports.Filters, list[str], reports.Table]:
        default = pipeline_reports.default_forecast_filters(_today(), current_app.config["TIMEZONE"])
        filters, problems = filters_from_request(default)
        filters = pipeline_reports.with_month_range(filters)
        return filters, problems, self.compute(filters)

    def compute(self, filters: reports.Filters) -> reports.Table:
        return pipeline_reports.forecast(db.session, current_actor(), pipeline_reports.with_month_range(filters),
                                         by=self.choice("by"))


class PipelineFunnelReport(PipelineReport):
    title = _l("销售机会漏斗")
    definition = "pipeline_funnel"
    description = _l("所选期间内新建的销售机会在一个阶段组中走到了哪一步：各阶段的进行中数量和金额、到达数与阶段间转化率。")
    empty_text = _l("所选期间内没有新建的销售机会。请放宽日期范围或换一个阶段组；还没有阶段组时，请先在系统设置中设置阶段组。")
    chart_types = ("funnel", "bar")

    def current_choices(self) -> list[tuple[str, Any, list[tuple[str, Any]], str]]:
        groups = pipeline_reports.stage_groups(db.session)
        if not groups:
            return [("group", _l("阶段组"), [("", _l("（尚无阶段组）"))], "")]
        return [("group", _l("阶段组"), [(str(g), n) for g, n in groups], str(groups[0][0]))]

    def compute(self, filters: reports.Filters) -> reports.Table:
        table = pipeline_reports.funnel(db.session, current_actor(), filters, group_id=_int(self.choice("group")))
        if not any(o["count"] for o in table.extra.get("outcomes", [])):
            # nothing created in the range: the empty state says what to do
            table.rows, table.note, table.extra["outcomes"] = [], None, []
        return table


class WinRateReport(PipelineReport):
    title = _l("赢单率与周期")
    definition = "pipeline_win_rate"
    description = _l("所选期间内赢单或输单的销售机会：赢单率 = 赢单数 ÷（赢单数 + 输单数），周期 = 从新建到赢单/输单的天数。")
    empty_text = _l("所选期间内没有赢单或输单的销售机会。请放宽日期范围，或换一个部门/业务员再查询。")
    chart_types = ("bar", "line")
    choices = [("by", _l("统计维度"), list(pipeline_reports.BY_WIN.items()), "owner")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        return pipeline_reports.win_rates(db.session, current_actor(), filters, by=self.choice("by"))


class LossReasonReport(PipelineReport):
    title = _l("输单原因")
    definition = "pipeline_loss_reasons"
    description = _l("所选期间内输单的销售机会按输单原因统计数量和金额。")
    empty_text = _l("所选期间内没有输单的销售机会。请放宽日期范围，或换一个部门/业务员再查询。")
    chart_types = ("pie", "bar")

    def compute(self, filters: reports.Filters) -> reports.Table:
        return pipeline_reports.loss_reasons(db.session, current_actor(), filters)


class LeadConversionReport(PipelineReport):
    title = _l("线索转化率")
    definition = "lead_conversion"
    description = _l("所选期间内新增的线索按来源统计：已转化、无效的数量和转化率。")
    empty_text = _l("所选期间内没有新增线索。请放宽日期范围；线索池中尚未领用的线索不在此统计。")
    chart_types = ("bar", "pie")

    def compute(self, filters: reports.Filters) -> reports.Table:
        return pipeline_reports.lead_conversion(db.session, current_actor(), filters)


def views() -> list[BaseView]:
    """The pipeline report pages, after the other reports in the 统计报表 menu."""
    return [
        ForecastReport(name=_l("销售预测"), category=REPORTS, endpoint="report_forecast",
                       url="/admin/reports/forecast", **fa("fa-calendar-check-o")),
        PipelineFunnelReport(name=_l("销售机会漏斗"), category=REPORTS, endpoint="report_pipeline_funnel",
                             url="/admin/reports/pipeline-funnel", **fa("fa-sort-amount-desc")),
        WinRateReport(name=_l("赢单率与周期"), category=REPORTS, endpoint="report_win_rate",
                      url="/admin/reports/win-rate", **fa("fa-percent")),
        LossReasonReport(name=_l("输单原因"), category=REPORTS, endpoint="report_loss_reasons",
                         url="/admin/reports/loss-reasons", **fa("fa-thumbs-o-down")),
        LeadConversionReport(name=_l("线索转化率"), category=REPORTS, endpoint="report_lead_conversion",
                             url="/admin/reports/lead-conversion", **fa("fa-exchange")),
    ]
