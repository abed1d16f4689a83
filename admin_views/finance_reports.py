"""Finance report pages (统计报表 menu): 应收账龄, 回款统计, 回款计划与实际, 逾期回款, 开票与回款, 合同金额.

The numbers come from rules/finance_reports.py; these pages are the report pages of
admin_views/reports.py (filters, pyecharts chart, table, xlsx export, 统计口径) with a link on
every figure to the 合同, 回款计划, 回款 or 开票 list behind it (admin_views/finance_drill.py
reads the link's parameters there)."""
from __future__ import annotations

from typing import Any

from flask import request
from flask_admin import BaseView
from flask_babel import lazy_gettext as _l

from admin_views import links
from admin_views.context import current_actor
from admin_views.menu import REPORTS, fa
from admin_views.reports import ReportView, _today
from models import db
from rules import finance_reports, reports

PERMISSION = "report.view"
EXPORT_ROWS = 10000


class FinanceReport(ReportView):
    permission = PERMISSION
    template = "admin/finance_reports/report.html"
    show_dates = True  # False: the figures are as of today, the page has no date range

    def extra_context(self, table: reports.Table) -> dict[str, Any]:
        return {} if self.show_dates else {"as_of": _today()}


class AgeingReport(FinanceReport):
    title = _l("应收账龄")
    definition = "finance_ageing"
    description = _l("截至今天尚未收回的应收款按逾期天数分段：未到期、0–30天、31–60天、61–90天、90天以上。点击数字查看对应的回款计划或合同。")
    empty_text = _l("您的数据范围内没有未收回的应收款。合同审批通过并登记回款计划后，未回的期次会出现在这里。")
    chart_types = ("bar",)
    show_dates = False
    choices = [("by", _l("统计维度"), list(finance_reports.BY_AGEING.items()), "customer")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        # the page lists the 200 owing most; the workbook takes more (openpyxl writes ~5k rows/s)
        limit = EXPORT_ROWS if request.endpoint == f"{self.endpoint}.export" else finance_reports.ROW_LIMIT
        return finance_reports.ageing(db.session, current_actor(), filters, today=_today(), by=self.choice("by"),
                                      limit=limit)

    def extra_context(self, table: reports.Table) -> dict[str, Any]:
        if not table.rows:
            return super().extra_context(table)
        return {**super().extra_context(table), "buckets": [{**b, "plan_url": links.list_url(self.admin, b["cell_drill"]["plan_count"])
                             if b["plan_count"] else None,
                             "contract_url": links.list_url(self.admin, b["cell_drill"]["contract_count"])
                             if b["contract_count"] else None} for b in table.extra["buckets"]]}


class ReceiptReport(FinanceReport):
    title = _l("回款统计")
    definition = "finance_receipts"
    description = _l("所选期间内已确认的回款、抹零和退款，按月份、负责人或回款方式汇总。点击数字查看这些回款。")
    empty_text = _l("所选期间内没有已确认的回款。请放宽日期范围；待审批的回款通过后才计入。")
    chart_types = ("bar", "line", "pie")
    choices = [("by", _l("统计维度"), list(finance_reports.BY_RECEIPTS.items()), "month")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        return finance_reports.receipts(db.session, current_actor(), filters, by=self.choice("by"))


class PlanActualReport(FinanceReport):
    title = _l("回款计划与实际")
    definition = "finance_plan_actual"
    description = _l("每月到期的回款计划金额、其中已回的金额和完成率，与当月实际收到的回款对比。")
    empty_text = _l("所选期间内没有到期的回款计划，也没有回款。请放宽日期范围，或先为执行中的合同登记回款计划。")
    chart_types = ("bar", "line")

    def compute(self, filters: reports.Filters) -> reports.Table:
        table = finance_reports.plan_vs_actual(db.session, current_actor(), filters)
        if not any(r["plan_count"] or r["payment_count"] for r in table.rows):
            table.rows, table.totals = [], None
        return table


class OverdueReport(FinanceReport):
    title = _l("逾期回款")
    definition = "finance_overdue"
    description = _l("截至今天已过到期日仍未回完的回款计划期次，按负责人统计。点击数字查看这些期次。")
    empty_text = _l("您的数据范围内没有逾期的回款计划。")
    chart_types = ("bar", "pie")
    show_dates = False

    def compute(self, filters: reports.Filters) -> reports.Table:
        return finance_reports.overdue_by_owner(db.session, current_actor(), filters, today=_today())


class InvoiceReceiptReport(FinanceReport):
    title = _l("开票与回款")
    definition = "finance_invoices"
    description = _l("所选期间内已开票金额（红冲为负）与已确认的回款对比，按月份或负责人。")
    empty_text = _l("所选期间内没有开票，也没有已确认的回款。请放宽日期范围。")
    chart_types = ("bar", "line")
    choices = [("by", _l("统计维度"), list(finance_reports.BY_INVOICES.items()), "month")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        table = finance_reports.invoices_vs_receipts(db.session, current_actor(), filters, by=self.choice("by"))
        if not any(r["invoice_count"] or r["payment_count"] for r in table.rows):
            table.rows, table.totals = [], None
        return table


class ContractAmountReport(FinanceReport):
    title = _l("合同金额统计")
    definition = "finance_contracts"
    description = _l("所选期间内签订的执行中、已完成合同的金额、已收、未收和已开票，按签订月份、负责人或产品。")
    empty_text = _l("所选期间内没有签订并审批通过的合同。请放宽日期范围。")
    chart_types = ("bar", "line", "pie")
    choices = [("by", _l("统计维度"), list(finance_reports.BY_CONTRACTS.items()), "month")]

    def compute(self, filters: reports.Filters) -> reports.Table:
        table = finance_reports.contract_amounts(db.session, current_actor(), filters, by=self.choice("by"))
        if not any(r["count"] for r in table.rows):
            table.rows, table.totals = [], None
        return table


def views() -> list[BaseView]:
    """The finance report pages, after the pipeline reports in the 统计报表 menu."""
    return [
        AgeingReport(name=_l("应收账龄"), category=REPORTS, endpoint="report_ageing",
                     url="/admin/reports/ageing", **fa("fa-hourglass-half")),
        ReceiptReport(name=_l("回款统计"), category=REPORTS, endpoint="report_receipts",
                      url="/admin/reports/receipts", **fa("fa-jpy")),
        PlanActualReport(name=_l("回款计划与实际"), category=REPORTS, endpoint="report_plan_actual",
                         url="/admin/reports/plan-actual", **fa("fa-tasks")),
        OverdueReport(name=_l("逾期回款"), category=REPORTS, endpoint="report_overdue",
                      url="/admin/reports/overdue", **fa("fa-exclamation-circle")),
        InvoiceReceiptReport(name=_l("开票与回款"), category=REPORTS, endpoint="report_invoices",
                             url="/admin/reports/invoices", **fa("fa-file-text-o")),
        ContractAmountReport(name=_l("合同金额统计"), category=REPORTS, endpoint="report_contracts",
                             url="/admin/reports/contracts", **fa("fa-file-o")),
    ]
