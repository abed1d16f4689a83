"""Customers (客户管理). The foundation's view: scoped list, form, details, export, delete."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from admin_views.base import ScopedModelView
from admin_views.filters import LocalDateBetween
from admin_views.formatters import choice_label
from admin_views.loaders import ScopedAjaxModelLoader
from models import Customer, CustomerKind, db
from rules import customers
from admin_views.context import current_actor

KIND_LABELS = {CustomerKind.COMPANY.value: _l("企业"), CustomerKind.PERSON.value: _l("个人")}


class CustomerView(ScopedModelView):
    permission_view = "customer.view"
    permission_create = "customer.create"
    permission_edit = "customer.edit"
    permission_delete = "customer.delete"
    permission_export = "customer.export"

    can_view_details = True
    list_template = "admin/customers/list.html"
    column_list = ["name", "kind", "phone", "owner", "department", "parent", "created_at"]
    column_labels = {"name": _l("客户名称"), "kind": _l("类型"), "phone": _l("电话"), "owner": _l("业务员"),
                     "department": _l("部门"), "parent": _l("上级客户"), "created_at": _l("创建时间"),
                     "updated_at": _l("更新时间")}
    column_details_list = ["name", "kind", "phone", "owner", "department", "parent", "created_at", "updated_at"]
    column_export_list = ["name", "kind", "phone", "owner", "department", "parent", "created_at"]
    column_searchable_list = ["name", "phone"]
    column_filters = ["kind", LocalDateBetween(Customer.created_at, _l("创建时间"))]
    column_default_sort = ("id", True)
    column_formatters = {"kind": choice_label(KIND_LABELS)}
    column_formatters_export = {"kind": choice_label(KIND_LABELS)}
    column_formatters_detail = column_formatters
    column_choices = {"kind": list(KIND_LABELS.items())}
    form_columns = ["name", "kind", "phone", "parent"]
    form_overrides = {"kind": SelectField}
    form_args = {"kind": {"choices": list(KIND_LABELS.items()), "label": _l("类型")}}
    form_ajax_refs = {
        "parent": ScopedAjaxModelLoader("parent", db, Customer, fields=["name"], page_size=10,
                                        placeholder=_l("输入客户名称搜索"), minimum_input_length=1),
    }

    def get_query(self) -> Any:
        # Eager-load what the list shows, so a page costs a fixed number of queries.
        from sqlalchemy.orm import joinedload

        return super().get_query().options(joinedload(Customer.owner), joinedload(Customer.department),
                                           joinedload(Customer.parent))

    def apply_rules(self, form: Any, model: Customer, is_created: bool) -> None:
        if is_created:
            customers.take_new(model, actor=current_actor())
        customers.check_parent(model)
