"""自定义字段 in the panel: the administrator's editor, and a mixin that adds the fields to a
model view's form, list columns, filters, details and export at once, without a restart.

Flask-Admin builds forms, list columns and filters when a view is constructed; the mixin
rebuilds the parts that depend on definitions whenever their version changes, under a lock,
and builds the form class per request."""
from __future__ import annotations

import threading
from typing import Any

from flask import g
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual, FilterLike
from flask_admin.helpers import get_form_data, is_form_submitted
from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, cast
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField, fields
from wtforms.validators import ValidationError

from admin_views.base import SecureModelView
from admin_views.formatters import choice_label
from admin_views.links import drill
from admin_views.menu import SETTINGS, fa
from models import CustomField, db
from rules import custom_fields
from rules.links import CustomFieldFilter

PREFIX = "cf_"


def _form_field(field: CustomField) -> fields.Field:
    label = field.label + (" *" if field.required else "")
    kind = field.field_type
    if kind == "textarea":
        return TextAreaField(label)
    if kind == "boolean":
        return BooleanField(label)
    if kind == "choice":
        return SelectField(label, choices=[("", "—")] + [(o, o) for o in field.options], validate_choice=False)
    if kind == "multi_choice":
        return SelectMultipleField(label, choices=[(o, o) for o in field.options], validate_choice=False)
    if kind == "date":
        return StringField(label, render_kw={"type": "date"})
    if kind == "number":
        return StringField(label, render_kw={"inputmode": "decimal"})
    return StringField(label)


def _to_form(field: CustomField, value: Any) -> Any:
    if field.field_type == "multi_choice":
        return list(value or [])
    if field.field_type == "boolean":
        return bool(value)
    return "" if value is None else str(value)


class _JsonFilter(BaseSQLAFilter):
    def __init__(self, model: Any, field: CustomField, name: Any, options: Any = None) -> None:
        self.field = field
        super().__init__(getattr(model, "custom")[field.key].as_string(), name, options)


class CustomTextFilter(_JsonFilter, FilterLike):
    pass


class CustomEqualFilter(_JsonFilter, FilterEqual):
    pass


class CustomNumberFilter(BaseSQLAFilter):
    def __init__(self, model: Any, field: CustomField, name: Any, greater: bool) -> None:
        self.greater = greater
        super().__init__(cast(getattr(model, "custom")[field.key].as_string(), Float), name)

    def operation(self) -> Any:
        return _l("大于等于") if self.greater else _l("小于等于")

    def validate(self, value: Any) -> bool:
        try:
            float(value)
        except (TypeError, ValueError):
            return False
        return True

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        column = self.get_column(alias)
        return query.filter(column >= float(value) if self.greater else column <= float(value))


class CustomContainsChoiceFilter(_JsonFilter):
    def operation(self) -> Any:
        return _l("包含")

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(custom_fields.holds_option(self.get_column(alias), value))


def filters_for(model: Any, field: CustomField) -> list[BaseSQLAFilter]:
    """The list filters of one field; a choice or yes/no field's is the one a report's bar of
    that field opens (rules/reports.py, CustomFieldFilter)."""
    found = _filters_for(model, field)
    if field.field_type in custom_fields.STATISTICS_TYPES:
        drill(CustomFieldFilter(field.key), found[0])
    return found


def _filters_for(model: Any, field: CustomField) -> list[BaseSQLAFilter]:
    kind, label = field.field_type, field.label
    if kind in ("text", "textarea"):
        return [CustomTextFilter(model, field, label)]
    if kind == "number":
        return [CustomNumberFilter(model, field, label, True), CustomNumberFilter(model, field, label, False)]
    if kind == "choice":
        return [CustomEqualFilter(model, field, label, options=[(o, o) for o in field.options])]
    if kind == "multi_choice":
        return [CustomContainsChoiceFilter(model, field, label, options=[(o, o) for o in field.options])]
    if kind == "boolean":
        return [CustomBooleanFilter(model, field, label)]
    if kind == "date":
        return [CustomEqualFilter(model, field, label)]
    return []


class CustomBooleanFilter(BaseSQLAFilter):
    def __init__(self, model: Any, field: CustomField, name: Any) -> None:
        super().__init__(getattr(model, "custom")[field.key].as_boolean(), name,
                         options=[("1", _l("是")), ("0", _l("否"))])

    def operation(self) -> Any:
        return _l("等于")

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        column = self.get_column(alias)
        return query.filter(column.is_(True)) if value == "1" else query.filter(column.isnot(True))


class CustomFieldsMixin:
    """For a ModelView over a model with a `custom` JSON column. Subclasses set
    `custom_entity` and keep their own column_list/filters/export list as the base."""

    custom_entity = "customer"
    # Inline lists on the form whose rows have custom fields of their own: attribute → entity
    # (the customer form's contacts). Their rows save through `store_inline_custom_fields`.
    custom_inline: dict[str, str] = {}
    _cf_version: Any = None
    _cf_lock = threading.Lock()

    def _custom_definitions(self) -> list[CustomField]:
        return request_definitions(self.custom_entity)

    def sync_custom_fields(self) -> list[CustomField]:
        """Rebuild list columns, filters and export columns if definitions changed."""
        version = custom_fields.version(request_definitions(self.custom_entity, include_inactive=True))
        defs = self._custom_definitions()
        if version == self._cf_version:
            return defs
        with self._cf_lock:
            cls = type(self)
            base = cls.__dict__.get("_cf_base")
            if base is None:
                base = cls._cf_base = {
                    "column_list": list(self.column_list), "column_labels": dict(self.column_labels),
                    "column_filters": list(self.column_filters or []),
                    "column_export_list": list(self.column_export_list or []),
                    "column_formatters": dict(self.column_formatters),
                    "column_formatters_export": dict(self.column_formatters_export or {}),
                }
            formatters = {PREFIX + d.key: self._formatter(d) for d in defs}
            self.column_list = base["column_list"] + [PREFIX + d.key for d in defs if d.show_in_list]
            self.column_labels = {**base["column_labels"], **{PREFIX + d.key: d.label for d in defs}}
            self.column_filters = base["column_filters"] + [
                f for d in defs if d.searchable for f in filters_for(self.model, d)]
            self.column_export_list = base["column_export_list"] + [PREFIX + d.key for d in defs if d.importable]
            self.column_formatters = {**base["column_formatters"], **formatters}
            self.column_formatters_export = {**base["column_formatters_export"], **formatters}
            self._list_columns = self.get_list_columns()
            self._export_columns = self.get_export_columns()
            self._refresh_filters_cache()
            self._cf_version = version
        return defs

    @staticmethod
    def _formatter(field: CustomField) -> Any:
        return lambda view, context, model, name: custom_fields.display(field, (model.custom or {}).get(field.key))

    def _form_class_with(self, base_cls: Any, defs: list[CustomField]) -> Any:
        attrs = {PREFIX + d.key: _form_field(d) for d in defs}
        for name, entity in self.custom_inline.items():
            inline_defs = request_definitions(entity)
            unbound = getattr(base_cls, name, None)
            if inline_defs and unbound is not None:
                # Flask-Admin builds an inline list's row form once, with the view: the list is
                # built again around a row form that has today's fields.
                row_form, session, model, prop, inline_view = unbound.args
                extended = type(row_form.__name__, (row_form,), {PREFIX + d.key: _form_field(d) for d in inline_defs})
                attrs[name] = unbound.field_class(extended, session, model, prop, inline_view, **unbound.kwargs)
        if not attrs:
            return base_cls
        return type(base_cls.__name__, (base_cls,), attrs)

    def create_form(self, obj: Any = None) -> Any:
        defs = self._custom_definitions()
        return self._form_class_with(self._create_form_class, defs)(get_form_data(), obj=obj)

    def edit_form(self, obj: Any = None) -> Any:
        defs = self._custom_definitions()
        form = self._form_class_with(self._edit_form_class, defs)(get_form_data(), obj=obj)
        if obj is not None and not is_form_submitted():
            for d in defs:
                form[PREFIX + d.key].data = _to_form(d, (obj.custom or {}).get(d.key))
            for name, entity in self.custom_inline.items():
                inline_defs = request_definitions(entity)
                for entry in (form[name].entries if name in form else []):
                    row = entry.object_data
                    for d in inline_defs:
                        if row is not None and PREFIX + d.key in entry.form:
                            entry.form[PREFIX + d.key].data = _to_form(d, (row.custom or {}).get(d.key))
        return form

    def apply_custom_fields(self, form: Any, model: Any) -> None:
        """Validate the custom values with rules/custom_fields and store them on the model;
        wrong ones are marked on their fields and refuse the save with every reason."""
        store_custom_fields(form, model, self._custom_definitions())

    @expose("/")
    def index_view(self) -> Any:
        self.sync_custom_fields()
        return super().index_view()

    @expose("/export/<export_type>/")
    def export(self, export_type: str) -> Any:
        self.sync_custom_fields()
        return super().export(export_type)


def store_custom_fields(form: Any, model: Any, defs: list[CustomField]) -> None:
    """The form's custom values, checked by rules/custom_fields, into `model.custom`; wrong ones
    are marked on their fields and refuse the save (ValidationError) with every reason."""
    defs = [d for d in defs if PREFIX + d.key in form]
    if not defs:
        return
    raw = {d.key: form[PREFIX + d.key].data for d in defs}
    clean, errors = custom_fields.validate(defs, raw)
    if errors:
        for key, message in errors.items():
            form[PREFIX + key].errors = list(form[PREFIX + key].errors or []) + [message]
        raise ValidationError("；".join(errors.values()))
    kept = {k: v for k, v in (model.custom or {}).items() if k not in {d.key for d in defs}}
    model.custom = {**kept, **clean}  # a new dict, so the change is seen and audited


def store_inline_custom_fields(form: Any, model: Any, entity: str) -> None:
    """For an inline row (a contact on the customer form): as `store_custom_fields`. Rows are
    filled one by one, so nothing may be flushed in between (two rows can be primary for a moment)."""
    if any(name.startswith(PREFIX) for name in form._fields):
        store_custom_fields(form, model, request_definitions(entity))


def with_custom_fields(form_class: Any, entity: str) -> Any:
    """`form_class` with `entity`'s active custom fields added (cf_<key>), for a page's own form
    (an opportunity's or a quote's) that is not a model view's; a model view takes
    CustomFieldsMixin. Prefill with `prefill_custom_fields`, save with `store_custom_fields(form,
    model, request_definitions(entity))`."""
    defs = request_definitions(entity)
    if not defs:
        return form_class
    return type(form_class.__name__, (form_class,), {PREFIX + d.key: _form_field(d) for d in defs})


def prefill_custom_fields(form: Any, obj: Any, entity: str) -> None:
    """Show `obj`'s stored custom values in a form made by `with_custom_fields`."""
    for d in request_definitions(entity):
        if PREFIX + d.key in form:
            form[PREFIX + d.key].data = _to_form(d, (obj.custom or {}).get(d.key))


def request_definitions(entity: str, *, include_inactive: bool = False) -> list[CustomField]:
    """The active definitions (or all, for the views' rebuild check), read once per request in
    one statement: the list's rebuild check, the form class, its prefill, the save and every
    contact row ask. Never flushes (rows are being filled when it is asked)."""
    cache = g.setdefault("kechi_custom_definitions", {})
    if entity not in cache:
        with db.session.no_autoflush:
            cache[entity] = custom_fields.definitions(db.session, entity, include_inactive=True)
    return cache[entity] if include_inactive else [d for d in cache[entity] if d.active]


class CustomFieldView(SecureModelView):
    """The administrator's editor of custom fields."""

    permission_view = permission_create = permission_edit = permission_delete = "settings.manage"
    column_list = ["entity", "label", "key", "field_type", "required", "show_in_list", "searchable", "importable",
                   "statistics", "active", "sort_order"]
    column_labels = {"entity": _l("用于"), "label": _l("字段名称"), "key": _l("字段标识"), "field_type": _l("类型"),
                     "options": _l("选项（每行一个）"), "required": _l("必填"), "show_in_list": _l("列表显示"),
                     "searchable": _l("可筛选"), "importable": _l("导入/导出"), "statistics": _l("统计"), "active": _l("启用"),
                     "sort_order": _l("排序")}
    column_formatters = {"entity": choice_label(custom_fields.ENTITIES),
                         "field_type": choice_label(custom_fields.TYPES)}
    column_default_sort = [("entity", False), ("sort_order", False)]
    form_columns = ["entity", "label", "key", "field_type", "options", "required", "show_in_list", "searchable",
                    "importable", "statistics", "active", "sort_order"]
    form_overrides = {"entity": SelectField, "field_type": SelectField, "options": TextAreaField}
    form_args = {
        "entity": {"choices": list(custom_fields.ENTITIES.items()), "label": _l("用于")},
        "field_type": {"choices": list(custom_fields.TYPES.items()), "label": _l("类型")},
        "key": {"description": _l("英文标识，如 budget、wechat_group；保存后请勿修改")},
        "options": {"description": _l("单选、多选字段的可选项，每行一个")},
        "statistics": {"label": _l("统计"), "description": _l("单选、多选和是/否字段可作为“客户数量报表”的统计维度")},
    }
    list_template = "admin/custom_fields/list.html"

    def on_form_prefill(self, form: Any, id: Any) -> None:
        form.options.data = "\n".join(self.get_one(id).options or [])

    def create_form(self, obj: Any = None) -> Any:
        return self._with_text_options(super().create_form(obj))

    def edit_form(self, obj: Any = None) -> Any:
        return self._with_text_options(super().edit_form(obj))

    @staticmethod
    def _with_text_options(form: Any) -> Any:
        if isinstance(form.options.data, list):
            form.options.data = "\n".join(form.options.data)
        return form

    def apply_rules(self, form: Any, model: CustomField, is_created: bool) -> None:
        text = form.options.data or ""
        model.options = text.splitlines() if isinstance(text, str) else list(text)
        custom_fields.check_definition(db.session, model)


def views() -> list[Any]:
    return [CustomFieldView(CustomField, name=_l("自定义字段"), category=SETTINGS, endpoint="custom_field",
                            **fa("fa-plus-square-o"))]
