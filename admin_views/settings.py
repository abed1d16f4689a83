"""系统设置 for customers: dictionaries, follow-up templates, the entry policy and the
customer code pattern."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField

from admin_views.base import SecureModelView
from admin_views.context import current_actor
from admin_views.customers import FOLLOW_UP_KIND_LABELS
from admin_views.formatters import choice_label
from admin_views.forms import CsrfForm
from models import DictKind, db
from rules import entry, numbering, protection, settings
from rules.dictionaries import LABELS as DICT_LABELS
from rules.errors import RuleViolation

DICT_KIND_LABELS = {k.value: v for k, v in DICT_LABELS.items()}
ENTRY_ACTIONS = {entry.ALLOW: _l("不检查"), entry.WARN: _l("重名提示"), entry.FORBID: _l("重名禁止")}


class SettingsModelView(SecureModelView):
    permission_view = permission_create = permission_edit = permission_delete = "settings.manage"


class DictItemView(SettingsModelView):
    column_list = ["kind", "name", "sort_order", "active"]
    column_labels = {"kind": _l("字典"), "name": _l("名称"), "sort_order": _l("排序"), "active": _l("启用")}
    column_default_sort = [("kind", False), ("sort_order", False)]
    column_formatters = {"kind": choice_label(DICT_KIND_LABELS)}
    column_filters = ["kind"]
    column_searchable_list = ["name"]
    form_columns = ["kind", "name", "sort_order", "active"]
    form_overrides = {"kind": SelectField}
    form_args = {"kind": {"choices": list(DICT_KIND_LABELS.items()), "label": _l("字典")}}

    def check_delete(self, model: Any) -> None:
        from sqlalchemy import select

        from models import Customer

        column = {k.value: getattr(Customer, f"{k.value}_id") for k in DictKind}[model.kind]
        if db.session.scalar(select(Customer.id).where(column == model.id).limit(1)) is not None:
            raise RuleViolation(_l("还有客户使用“%(n)s”，请改为停用", n=model.name))


class FollowUpTemplateView(SettingsModelView):
    column_list = ["name", "kind", "content", "active"]
    column_labels = {"name": _l("模板名称"), "kind": _l("联系方式"), "content": _l("内容"), "active": _l("启用")}
    column_formatters = {"kind": choice_label(FOLLOW_UP_KIND_LABELS),
                         "content": lambda v, c, m, n: (m.content or "")[:60]}
    form_columns = ["name", "kind", "content", "active"]
    form_overrides = {"kind": SelectField}
    form_args = {"kind": {"choices": [("", "—")] + list(FOLLOW_UP_KIND_LABELS.items()), "label": _l("联系方式")}}


class CustomerSettingsView(BaseView):
    """客户设置: the entry policy (录入策略) and the customer code pattern."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_actor().can("settings.manage")

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        return ("", 403)

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        policy = entry.load_policy(db.session)
        pattern = settings.get(db.session, "customer_code_pattern")
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
                return redirect(url_for(".index"))
            new_pattern = request.form.get("customer_code_pattern", "").strip()
            duplicates = {f: request.form.get(f"dup_{f}", entry.ALLOW) for f in entry.FIELDS}
            duplicates = {f: a if a in ENTRY_ACTIONS else entry.ALLOW for f, a in duplicates.items()}
            required = [f for f in entry.FIELDS if request.form.get(f"req_{f}")]
            try:
                numbering.validate_pattern(new_pattern)
            except RuleViolation as exc:
                flash(str(exc), "error")
                return self.render("admin/settings/customers.html", policy={
                    "duplicates": duplicates, "required": required,
                    "check_formats": bool(request.form.get("check_formats"))}, pattern=new_pattern,
                    fields=entry.FIELDS, actions=ENTRY_ACTIONS, preview=None,
                    protection_policy=_protection_from(request.form),
                    pool_enabled=bool(request.form.get("pool_enabled")))
            settings.put(db.session, "customer_code_pattern", new_pattern)
            settings.put(db.session, "protection_policy", _protection_from(request.form))
            settings.put(db.session, "pool_enabled", bool(request.form.get("pool_enabled")))
            settings.put(db.session, "entry_policy", {"duplicates": duplicates, "required": required,
                                                      "check_formats": bool(request.form.get("check_formats"))})
            db.session.commit()
            flash(gettext("客户设置已保存"), "success")
            return redirect(url_for(".index"))
        from admin_views.customers import _local_today

        preview = numbering.peek(db.session, "customer", pattern, today=_local_today())
        return self.render("admin/settings/customers.html", policy=policy, pattern=pattern, fields=entry.FIELDS,
                           actions=ENTRY_ACTIONS, preview=preview,
                           protection_policy=protection.load_policy(db.session),
                           pool_enabled=settings.get(db.session, "pool_enabled"))


def _protection_from(form: Any) -> dict[str, Any]:
    """The protection policy as submitted; numbers that do not parse keep their defaults."""
    policy = dict(protection.DEFAULT_POLICY)
    for key in ("max_protected", "days", "warn_days"):
        value = form.get(f"protect_{key}", "")
        if value.isdigit():
            policy[key] = int(value)
    policy["on_collision"] = "forbid" if form.get("protect_on_collision") == "forbid" else "warn"
    return policy
