"""Builds the admin panel inside the app factory (a module-level Admin breaks a second app).

Every view module offers its pages the same way: `views() -> list[BaseView]`, each view naming its
menu category (admin_views/menu.py) and icon, and optionally `init_app(app)` for what else it
hangs on the app (template globals, context processors, a webhook blueprint). MODULES lists the
modules in menu order; a new domain adds its module here."""
from __future__ import annotations

from types import ModuleType

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin_views import (
    address_books, announcements, approval_flows, approvals, auth, backup, contacts, contracts, csp, custom_fields,
    customers, dictionaries, excel, finance_reports, followups, lead_conversion, lead_forms, lead_pool, leads,
    notifications, opportunities, opportunity_board, orders, org, params, payment_plans, pipeline_reports, pool,
    pool_settings, products, quotes, recycle_bin, reports, settings, sharing, stage_groups, system,
)
from admin_views import receipts  # 回款 (issue 19)
from admin_views import invoices  # 开票 (issue 19)
from admin_views import documents  # 文档中心 (issue 20)
from admin_views import print_templates  # 打印模板 (issue 20, templates)
from admin_views import printing  # 打印/PDF (issue 20)
from admin_views import quote_shares  # 报价单分享链接 (issue 20)
from admin_views import attachment_settings, attachments  # 附件 (issue 20)
from admin_views import calendar  # 日程 (issue 21)
from admin_views import tasks  # 待办 (issue 21)
from admin_views import work_log_settings, work_logs  # 工作日志 (issue 21)
from admin_views import office_requests  # 工作请示 / 申请 (issue 21)
from admin_views import notification_settings  # 提醒设置 (issue 21, reminders)
from admin_views import repairs, service_reports  # 维修, 服务报表 (issue 22, repair)
from admin_views import care, satisfaction  # 客户关怀, 满意度回访 (issue 22)
from admin_views import service_teams, sla_policies, working_calendar  # 客户服务 SLA (issue 22)
from admin_views import knowledge  # 知识库 (issue 22)
from admin_views import service_console, ticket_settings, tickets  # 客服控制台, 工单 (issue 22, tickets)
from admin_views import mobile  # 手机版 /m/ (issue 23)
from admin_views import checkins  # 外勤签到 (issue 23, checkin)
from admin_views.context import current_actor
from admin_views.formatters import fmt_date, fmt_datetime, fmt_discount, fmt_mobile, fmt_money, fmt_phone
from admin_views.forms import CsrfForm
from admin_views.menu import fa
from admin_views.messaging import mail_accounts, message_templates, opt_out, outbox, replies, send, sfa
from admin_views.messaging import settings as messaging_settings
from admin_views.workbench import WorkbenchIndexView
from models import db
from rules import notifications as notification_rules

MODULES: tuple[ModuleType, ...] = (
    # 客户管理
    customers, leads, lead_conversion, contacts, followups, sharing, recycle_bin, excel,
    checkins,  # 外勤签到 (issue 23, checkin)
    attachments,  # 附件 (issue 20)
    # 客户池
    pool, lead_pool,
    # 销售管理, 产品管理, 统计报表
    opportunities, opportunity_board, orders, receipts, quotes, quote_shares, contracts, payment_plans,
    service_console, tickets, knowledge, care, satisfaction,  # 客户服务: 控制台, 工单, 知识库, 关怀, 回访 (issue 22)
    ticket_settings, sla_policies, working_calendar, service_teams,  # 客户服务: 工单状态, SLA, 工作日历, 服务组
    products, reports,
    pipeline_reports,
    invoices,  # 开票 (issue 19)
    finance_reports,  # issue 19: 应收账龄, 回款统计 … (fin-reports)
    repairs, service_reports,  # 维修, 服务报表 (issue 22, repair)
    # 综合办公
    calendar, tasks, work_logs, office_requests,  # 日程, 待办, 工作日志, 工作请示 (issue 21)
    announcements, notifications, address_books, approvals,  # approvals: 我的审批
    documents,  # 文档中心 (issue 20)
    notification_settings,  # 提醒设置 (issue 21, reminders)
    # 系统设置
    settings, pool_settings, stage_groups, approval_flows, custom_fields, dictionaries, org, system, backup,
    lead_forms,
    print_templates,  # 打印模板 (issue 20, templates)
    printing,  # issue 20: 打印预览, PDF, 批量打印 (no menu entry)
    attachment_settings,  # 附件设置 (issue 20)
    work_log_settings,  # 工作日志设置 (issue 21)
    # 短信邮件
    send, outbox, replies, message_templates, sfa, opt_out, mail_accounts, messaging_settings,
    # 手机版 (no menu entries: pages under /m/)
    mobile,
)


def init_admin(app: Flask) -> Admin:
    params.install_converters(app)  # before any route: <int:…> rules are bound to it when added
    auth.init_app(app)
    admin = Admin(
        app,
        name=_l("客池CRM"),
        theme=Bootstrap4Theme(base_template="admin/kechi_master.html", swatch=app.config["ADMIN_SWATCH"],
                              fluid=True),
        index_view=WorkbenchIndexView(name=_l("工作台"), **fa("fa-home")),
        csp_nonce_generator=csp.csp_nonce,  # Flask-Admin's inline scripts carry the header's nonce
    )
    for module in MODULES:
        admin.add_views(*module.views())
    for module in MODULES:
        if hasattr(module, "init_app"):
            module.init_app(app)
    _init_globals(app)
    return admin


def _init_globals(app: Flask) -> None:
    """What every page's frame uses: the bell, the language menu, the CSRF token, the formats."""
    @app.context_processor
    def kechi_globals() -> dict:
        def bell() -> dict:
            if not current_user.is_authenticated:
                return {"count": 0, "items": []}
            actor = current_actor()
            return {"count": notification_rules.unread_count(db.session, actor),
                    "items": notification_rules.latest_unread(db.session, actor)}

        return {"kechi_bell": bell, "languages": app.config["LANGUAGES"],
                "kechi_csrf_token": lambda: CsrfForm().csrf_token.current_token}

    app.jinja_env.filters.update(date=fmt_date, datetime=fmt_datetime, money=fmt_money, phone=fmt_phone,
                                 mobile=fmt_mobile, discount=fmt_discount,
                                 notification_title=notification_rules.title_of)
