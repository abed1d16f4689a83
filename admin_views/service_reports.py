"""服务报表 pages (统计报表 menu): 工单统计, SLA 达成率, 响应与解决时长, 客户服务次数排名, 满意度统计,
维修配件与收入. The figures come from rules/service_reports.py; these are report pages of
admin_views/reports.py (dates, department/处理人, chart, table, xlsx export, 统计口径) whose
figures open the ticket list behind them."""
from __future__ import annotations

from flask_admin import BaseView
from flask_babel import lazy_gettext as _l

from admin_views.context import current_actor, now
from admin_views.menu import REPORTS, fa
from admin_views.reports import ReportView
from models import db
from rules import reports, service_reports as sr


class ServiceReport(ReportView):
    # Service supervisors read these without the sales reports' permission, and report readers
    # without handling tickets; both see only the tickets their scope shows.
    permission = ("report.view", "service.view")
    empty_text = _l("所选期间内没有您能看到的工单。请放宽日期范围，或换一个部门/处理人再查询。")


class TicketVolumeReport(ServiceReport):
    title = _l("工单统计")
    definition = "service_volume"
    description = _l("所选期间内新建的工单按日/周/月统计，按类型、渠道、优先级或当前状态分组；点击数字查看这些工单。")
    chart_types = ("bar", "line")
    choices = [("by", _l("统计维度"), list(sr.VOLUME_BY.items()), "type"),
               ("grain", _l("按"), [("day", _l("日")), ("week", _l("周")), ("month", _l("月"))], "month")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        return sr.volume(db.session, current_actor(), filters, by=self.choice("by"), grain=self.choice("grain"))


class SlaComplianceReport(ServiceReport):
    title = _l("SLA达成率")
    definition = "service_sla"
    description = _l("所选期间内新建的工单：首次响应和解决是否在SLA时限（工作时间）内完成，按服务组、处理人或类型统计达成率。")
    chart_types = ("bar",)
    choices = [("by", _l("统计维度"), list(sr.SLA_BY.items()), "team")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        return sr.sla_compliance(db.session, current_actor(), filters, by=self.choice("by"), now=now())


class ResponseTimeReport(ServiceReport):
    title = _l("响应与解决时长")
    definition = "service_times"
    description = _l("从新建到首次回复、到解决的时长（自然小时）的中位数和P90，按服务组或处理人统计。")
    chart_types = ("bar",)
    choices = [("by", _l("统计维度"), list(sr.PEOPLE_BY.items()), "team")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        return sr.response_times(db.session, current_actor(), filters, by=self.choice("by"))


class TopCustomerReport(ServiceReport):
    title = _l("客户服务次数排名")
    definition = "service_customers"
    description = _l("所选期间内工单最多的 20 个客户；点击查看该客户的工单。")
    chart_types = ("bar", "pie")

    def compute(self, filters: reports.Filters) -> reports.Table:
        return sr.top_customers(db.session, current_actor(), filters)


class SatisfactionReport(ServiceReport):
    title = _l("满意度统计")
    definition = "service_satisfaction"
    description = _l("所选期间内新建、已回访评分的工单，按处理人统计评价数、平均分、满意率和差评数。")
    chart_types = ("bar",)

    def compute(self, filters: reports.Filters) -> reports.Table:
        return sr.satisfaction(db.session, current_actor(), filters)


class RepairPartsReport(ServiceReport):
    title = _l("维修配件与收入")
    definition = "service_repairs"
    description = _l("所选期间内新建的工单更换的配件（不含已退回仓库的）按产品统计数量和金额，以及已收费金额和保修免费数量。")
    chart_types = ("bar", "pie")

    def compute(self, filters: reports.Filters) -> reports.Table:
        return sr.repair_parts(db.session, current_actor(), filters)


def views() -> list[BaseView]:
    """The service reports, after the finance reports in the 统计报表 menu."""
    return [
        TicketVolumeReport(name=_l("工单统计"), category=REPORTS, endpoint="report_service_volume",
                           url="/admin/reports/service-volume", **fa("fa-ticket")),
        SlaComplianceReport(name=_l("SLA达成率"), category=REPORTS, endpoint="report_service_sla",
                            url="/admin/reports/service-sla", **fa("fa-clock-o")),
        ResponseTimeReport(name=_l("响应与解决时长"), category=REPORTS, endpoint="report_service_times",
                           url="/admin/reports/service-times", **fa("fa-hourglass-end")),
        TopCustomerReport(name=_l("客户服务次数排名"), category=REPORTS, endpoint="report_service_customers",
                          url="/admin/reports/service-customers", **fa("fa-list-ol")),
        SatisfactionReport(name=_l("满意度统计"), category=REPORTS, endpoint="report_service_satisfaction",
                           url="/admin/reports/service-satisfaction", **fa("fa-smile-o")),
        RepairPartsReport(name=_l("维修配件与收入"), category=REPORTS, endpoint="report_service_repairs",
                          url="/admin/reports/service-repairs", **fa("fa-wrench")),
    ]
