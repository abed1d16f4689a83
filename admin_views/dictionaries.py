"""数据字典 and 跟进模板: the lists people pick from when they enter customers and follow-ups."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from admin_views.base import SecureModelView
from admin_views.customer_labels import FOLLOW_UP_KIND_LABELS
from admin_views.formatters import choice_label
from admin_views.menu import SETTINGS, fa
from models import DictItem, DictKind, FollowUpTemplate, db
from models.dictionary import CUSTOMER_DICT_KINDS
from rules.dictionaries import LABELS as DICT_LABELS
from rules.errors import RuleViolation

DICT_KIND_LABELS = {k.value: v for k, v in DICT_LABELS.items()}


class SettingsModelView(SecureModelView):
    permission_view = permission_create = permission_edit = permission_delete = "settings.manage"


class DictItemView(SettingsModelView):
    column_list = ["kind", "name", "sort_order", "active", "funnel_step"]
    column_labels = {"kind": _l("字典"), "name": _l("名称"), "sort_order": _l("排序"), "active": _l("启用"),
                     "funnel_step": _l("漏斗阶段")}
    column_default_sort = [("kind", False), ("sort_order", False)]
    column_formatters = {"kind": choice_label(DICT_KIND_LABELS)}
    column_filters = ["kind"]
    column_searchable_list = ["name"]
    form_columns = ["kind", "name", "sort_order", "active", "funnel_step"]
    form_overrides = {"kind": SelectField}
    form_args = {"kind": {"choices": list(DICT_KIND_LABELS.items()), "label": _l("字典")},
                 "funnel_step": {"label": _l("漏斗阶段"),
                                 "description": _l("仅用于跟进程度：销售漏斗中的一步。搁置、流失等不是步骤的请取消勾选，报表会单独列出")}}

    def check_delete(self, model: Any) -> None:
        from sqlalchemy import select

        from models import Customer, Opportunity, OpportunityParty

        if model.kind in CUSTOMER_DICT_KINDS:
            column, refusal = getattr(Customer, f"{model.kind}_id"), _l("还有客户使用“%(n)s”，请改为停用", n=model.name)
        elif model.kind == DictKind.EVENT_TYPE:
            from models import Event

            column, refusal = Event.event_type_id, _l("还有日程使用“%(n)s”，请改为停用", n=model.name)
        elif model.kind == DictKind.LEAVE_TYPE:
            from models import OfficeRequest

            column, refusal = OfficeRequest.leave_type_id, _l("还有请假申请使用“%(n)s”，请改为停用", n=model.name)
        elif model.kind == DictKind.TICKET_TYPE:
            from models import Ticket

            column, refusal = Ticket.type_id, _l("还有工单使用“%(n)s”，请改为停用", n=model.name)
        else:
            column = {DictKind.LOSS_REASON: Opportunity.loss_reason_id, DictKind.PROJECT_ROLE: OpportunityParty.role_id}[
                DictKind(model.kind)]
            refusal = _l("还有销售机会使用“%(n)s”，请改为停用", n=model.name)
        if db.session.scalar(select(column).where(column == model.id).limit(1)) is not None:
            raise RuleViolation(refusal)


class FollowUpTemplateView(SettingsModelView):
    column_list = ["name", "kind", "content", "active"]
    column_labels = {"name": _l("模板名称"), "kind": _l("联系方式"), "content": _l("内容"), "active": _l("启用")}
    column_formatters = {"kind": choice_label(FOLLOW_UP_KIND_LABELS),
                         "content": lambda v, c, m, n: (m.content or "")[:60]}
    form_columns = ["name", "kind", "content", "active"]
    form_overrides = {"kind": SelectField}
    form_args = {"kind": {"choices": [("", "—")] + list(FOLLOW_UP_KIND_LABELS.items()), "label": _l("联系方式")}}


def views() -> list[Any]:
    return [
        DictItemView(DictItem, name=_l("数据字典"), category=SETTINGS, endpoint="dict_item", **fa("fa-list")),
        FollowUpTemplateView(FollowUpTemplate, name=_l("跟进模板"), category=SETTINGS, endpoint="follow_up_template",
                             **fa("fa-file-text-o")),
    ]
