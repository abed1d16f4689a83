"""服务设置 for service.manage: 工单状态 (the administrator's statuses, each in one category, exactly
one initial; a used status is deactivated, never deleted) and 工单设置 (number pattern, the days a
resolved or closed ticket may still be reopened)."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import SelectField

from admin_views.base import PermissionView, SecureModelView
from admin_views.context import now
from admin_views.forms import CsrfForm
from admin_views.menu import SERVICE, fa
from admin_views.transaction import commit_or_explain
from models import db
from models.service import TicketStatus
from rules import numbering, tickets
from rules.clock import local_date

MANAGE = "service.manage"


def _category(view: Any, context: Any, model: TicketStatus, name: str) -> Markup:
    css = tickets.CATEGORY_CSS.get(model.category, "light")
    # Markup is safe here: the class comes from CATEGORY_CSS, the label passes through escape().
    return Markup(f"<span class='badge badge-{css}'>{escape(str(tickets.CATEGORY_LABELS[model.category]))}</span>")


class TicketStatusView(SecureModelView):
    permission_view = permission_create = permission_edit = permission_delete = MANAGE
    list_template = "admin/tickets/statuses.html"
    column_list = ["name", "category", "sort_order", "active", "is_initial"]
    column_labels = {"name": _l("状态名称"), "category": _l("状态分类"), "sort_order": _l("排序"),
                     "active": _l("启用"), "is_initial": _l("初始状态")}
    column_default_sort = [("sort_order", False), ("id", False)]
    column_formatters = {"category": _category}
    form_columns = ["name", "category", "sort_order", "active", "is_initial"]
    form_overrides = {"category": SelectField}
    form_args = {
        "name": {"label": _l("状态名称")},
        "category": {"label": _l("状态分类"), "choices": list(tickets.CATEGORY_LABELS.items()),
                     "description": _l("处理中：SLA 计时；暂停：停止计时（如等待客户、等待配件）；已解决、已关闭：结束计时")},
        "sort_order": {"label": _l("排序"), "default": 100},
        "active": {"label": _l("启用"), "default": True},
        "is_initial": {"label": _l("初始状态"), "description": _l("新工单从这个状态开始；只能有一个，须属于“处理中”")},
    }

    def apply_rules(self, form: Any, model: TicketStatus, is_created: bool) -> None:
        with db.session.no_autoflush:
            tickets.save_status(db.session, model)

    def check_delete(self, model: TicketStatus) -> None:
        tickets.check_delete_status(db.session, model)


class TicketSettingsView(PermissionView):
    permission = MANAGE

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        values = {key: tickets.setting(db.session, key) for key in tickets.DEFAULTS}
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            values = {key: request.form.get(key, "") for key in tickets.DEFAULTS}
            if commit_or_explain(lambda: tickets.save_settings(db.session, request.form),
                                 lambda _r: gettext("工单设置已保存")):
                return redirect(url_for(".index"))
        try:
            preview = numbering.peek(db.session, tickets.NUMBER_SEQUENCE, values["ticket_number_pattern"],
                                     today=local_date(now(), current_app.config["TIMEZONE"]))
        except (KeyError, ValueError, IndexError):
            preview = ""
        return self.render("admin/tickets/settings.html", values=values, preview=preview)


def views() -> list[Any]:
    return [
        TicketStatusView(TicketStatus, name=_l("工单状态"), category=SERVICE, endpoint="ticket_status",
                         **fa("fa-flag")),
        TicketSettingsView(name=_l("工单设置"), category=SERVICE, endpoint="ticket_settings",
                           url="/admin/ticket_settings", **fa("fa-cog")),
    ]
