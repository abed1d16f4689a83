"""SLA 策略 (客户服务, service.manage): first-response and resolution targets in working minutes
per priority, optionally per ticket type and customer value level. Rules: rules/sla_policies.py."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from wtforms import SelectField
from wtforms.validators import NumberRange

from admin_views.base import SecureModelView
from admin_views.context import now
from admin_views.formatters import choice_label
from admin_views.menu import SERVICE, fa
from models import DictItem, DictKind, db
from models.sla import SlaPolicy
from rules import sla_panel, sla_policies


def _items(kind: DictKind):
    return lambda: db.session.scalars(select(DictItem).where(DictItem.kind == kind.value, DictItem.active.is_(True))
                                      .order_by(DictItem.sort_order, DictItem.id))


def _duration(view: Any, context: Any, model: SlaPolicy, name: str) -> str:
    return str(sla_panel.duration((getattr(model, name) or 0) * 60))


class SlaPolicyView(SecureModelView):
    """SLA 策略: the most specific active policy that fits a ticket gives its due times."""

    permission_view = permission_create = permission_edit = permission_delete = "service.manage"
    column_list = ["priority", "ticket_type", "value_level", "first_response_minutes", "resolution_minutes", "active"]
    column_sortable_list: tuple[str, ...] = ()  # a handful of rows, always in priority order (get_query)
    column_labels = {"priority": _l("优先级"), "ticket_type": _l("工单类型"), "value_level": _l("客户价值"),
                     "first_response_minutes": _l("首次响应时限"), "resolution_minutes": _l("解决时限"),
                     "active": _l("启用")}
    column_formatters = {"priority": choice_label(sla_policies.PRIORITY_LABELS),
                         "ticket_type": lambda v, c, m, n: m.ticket_type.name if m.ticket_type else str(_l("全部")),
                         "value_level": lambda v, c, m, n: m.value_level.name if m.value_level else str(_l("全部")),
                         "first_response_minutes": _duration, "resolution_minutes": _duration}
    column_descriptions = {"first_response_minutes": _l("工作时间（见工作日历）")}
    form_columns = ["priority", "ticket_type", "value_level", "first_response_minutes", "resolution_minutes", "active"]
    form_overrides = {"priority": SelectField}
    form_args = {
        "priority": {"label": _l("优先级"), "choices": list(sla_policies.PRIORITY_LABELS.items())},
        "ticket_type": {"label": _l("工单类型"), "query_factory": _items(DictKind.TICKET_TYPE), "allow_blank": True,
                        "blank_text": _l("全部类型"), "description": _l("留空适用于所有类型；指定类型的策略优先")},
        "value_level": {"label": _l("客户价值"), "query_factory": _items(DictKind.VALUE_LEVEL), "allow_blank": True,
                        "blank_text": _l("全部客户"), "description": _l("留空适用于所有客户；同时指定类型和客户价值的策略最优先")},
        "first_response_minutes": {"label": _l("首次响应时限（工作分钟）"), "default": 120,
                                   "validators": [NumberRange(min=1, message=_l("请填写大于 0 的分钟数"))]},
        "resolution_minutes": {"label": _l("解决时限（工作分钟）"), "default": 960,
                               "description": _l("按工作日历计时；暂停类状态（如等待客户）期间不计时"),
                               "validators": [NumberRange(min=1, message=_l("请填写大于 0 的分钟数"))]},
        "active": {"label": _l("启用"), "default": True},
    }
    list_template = "admin/service/sla_policy_list.html"

    def get_query(self) -> Any:
        """紧急 first, then 高, 普通, 低; the general policy of a priority before its narrower ones."""
        rank = case({p: i for i, p in enumerate(sla_policies.PRIORITY_ORDER)}, value=SlaPolicy.priority, else_=9)
        return super().get_query().order_by(rank, SlaPolicy.type_id.is_not(None), SlaPolicy.value_level_id.is_not(None),
                                            SlaPolicy.id)

    def apply_rules(self, form: Any, model: SlaPolicy, is_created: bool) -> None:
        sla_policies.check(db.session, model)


def views() -> list[Any]:
    return [SlaPolicyView(SlaPolicy, name=_l("SLA 策略"), category=SERVICE, endpoint="sla_policy",
                          url="/admin/sla_policy", **fa("fa-clock-o"))]


def init_app(app: Flask) -> None:
    """The ticket page's SLA panel (templates/admin/service/_sla_panel.html) asks for its figures."""
    app.jinja_env.globals["kechi_sla_panel"] = lambda ticket: sla_panel.panel(
        db.session, ticket, now(), app.config["TIMEZONE"])
