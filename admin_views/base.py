"""Base model views: permission checks, CSRF, audit context and data scope in one place."""
from __future__ import annotations

from typing import Any

import json

from flask import Response, abort, current_app, flash, g, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.tools import get_query_for_ids
from flask_admin.form import SecureForm
from flask_babel import lazy_gettext as _l
from flask_babel import gettext, ngettext
from flask_login import current_user
from sqlalchemy import desc, func, literal_column, select
from sqlalchemy.orm import Query
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField
from wtforms.validators import ValidationError

from admin_views.context import current_actor
from admin_views import params
from admin_views.formatters import DEFAULT_FORMATTERS
from admin_views.transaction import transaction
from models import db
from rules import scope, versions
from rules.errors import OutOfScope, RuleViolation

class VersionField(HiddenField):
    """The row version the edit form was opened with (rules/versions.py). Read by the save's
    check, never written to the record: the version only moves through version_id_col."""

    def populate_obj(self, obj: Any, name: str) -> None:
        pass


class SignedIn:
    """The access of pages for every signed-in user, whatever their role (the workbench, one's
    own inbox and address books, the announcements addressed to them). A named marker, so that
    "open to everyone" is a decision written down, while a forgotten declaration stays closed."""

    def __repr__(self) -> str:
        return "SIGNED_IN"


SIGNED_IN = SignedIn()

# Who may open a page or use an action: one permission, any one of several, every signed-in
# user, or None: nobody (the default, so a view that declares nothing is closed, not open).
Access = str | tuple[str, ...] | SignedIn | None


def allowed(access: Access) -> bool:
    """Whether the signed-in user passes `access`."""
    if access is None or not current_user.is_authenticated:
        return False
    if isinstance(access, SignedIn):
        return True
    return current_actor().can_any((access,) if isinstance(access, str) else access)


class AccessMixin:
    """The one access check of every page: denied unless the view declares who may open it
    (`permission`). Anonymous users go to the login page, others get 403."""

    permission: Access = None

    def access(self) -> Access:
        return self.permission

    def is_accessible(self) -> bool:
        return allowed(self.access())

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    def require(self, access: Access) -> None:
        """A step of the page that needs more than opening it (importing, exporting): 403."""
        if not allowed(access):
            abort(403)


class PermissionView(AccessMixin, BaseView):
    """A page (not a model list) open to those `permission` admits."""


class SecureModelView(AccessMixin, ModelView):
    """A model view that requires login and checks the role's permission for each operation.

    Subclasses name the permissions (`Access`); `None` means "nobody": a list nobody declared
    access to stays closed, a create/edit/delete/export nobody declared is not offered.
    `action_permissions` narrows an action further than the list itself.
    """

    form_base_class = SecureForm
    permission_view: Access = None
    permission_create: Access = None
    permission_edit: Access = None
    permission_delete: Access = None
    permission_export: Access = None
    action_permissions: dict[str, Access] = {}

    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    # The entity of rules/exporting.py this list exports as xlsx (导出Excel, admin_views/excel.py).
    export_entity: str | None = None
    column_type_formatters = DEFAULT_FORMATTERS
    column_type_formatters_detail = DEFAULT_FORMATTERS

    def __init__(self, model: type, *args: Any, **kwargs: Any) -> None:
        super().__init__(model, db, *args, **kwargs)

    def access(self) -> Access:
        return self.permission_view

    # Flask-Admin reads these per request, so they can follow the user's role.
    def _allowed(self, permission: Access) -> bool:
        return allowed(permission)

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self._allowed(self.permission_create)

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self._allowed(self.permission_edit)

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self._allowed(self.permission_delete)

    @property
    def can_export(self) -> bool:  # type: ignore[override]
        """Whether the list offers 导出Excel (model/layout.html's export_options)."""
        return self.export_entity is not None and self._allowed(self.permission_export)

    @expose("/export/<export_type>/")
    def export(self, export_type: str) -> Any:
        """Flask-Admin's CSV export, kept only as an address: it leads to 导出Excel of the same
        list, search and filters."""
        if not self.can_export:
            abort(403)
        return redirect(self.export_url())

    def export_url(self) -> str:
        """导出Excel of this list with the request's search, filters and sort."""
        if self.endpoint == self.export_entity:
            base = url_for("excel.export", entity=self.export_entity)
        else:
            base = url_for("excel.export_from", entity=self.export_entity, source=self.endpoint)
        query = request.query_string.decode()
        return base + ("?" + query if query else "")

    def is_action_allowed(self, name: str) -> bool:
        if name in self.action_permissions and not self._allowed(self.action_permissions[name]):
            return False
        return super().is_action_allowed(name)

    def get_one(self, id: Any) -> Any:
        # An id no record can have (past the database's integers, not a number) is "not found",
        # before it reaches SQL.
        return super().get_one(str(params.int_id(id)))

    def _get_list_extra_args(self) -> Any:
        """Flask-Admin's paging/sort/search from the query string, through params: a page or
        size no link of ours produces shows the first page / default size, a NUL byte (which
        PostgreSQL refuses) is dropped from the search."""
        args = super()._get_list_extra_args()
        args.page = params.page_number(request.args.get("page"))
        if args.page_size not in self.page_size_options:
            args.page_size = 0
        if args.search is not None:
            args.search = params.clean_text(args.search) or None
        return args

    def _get_list_filter_args(self) -> Any:
        filters = super()._get_list_filter_args()
        if filters is None:
            return None
        kept = [f for f in filters if params.sane_filter_value(f[2])]
        if len(kept) != len(filters):
            flash(gettext("筛选条件中有无法识别的值，已忽略"), "error")
        return kept

    @expose("/ajax/lookup/")
    def ajax_lookup(self) -> Any:
        """Flask-Admin's look-up with offset/limit clamped (a negative OFFSET or a limit of
        "abc" is a database error otherwise)."""
        loader = self._form_ajax_refs.get(request.args.get("name") or "")
        if not loader:
            abort(404)
        offset, limit = params.ajax_window(request.args.get("offset"), request.args.get("limit"))
        data = [loader.format(m) for m in loader.get_list(params.clean_text(request.args.get("query")), offset, limit)]
        return Response(json.dumps(data), mimetype="application/json")

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, RuleViolation):
            flash(str(exc), "error")
            return True
        if isinstance(exc, StaleDataError):
            # Someone saved the record between this save's version check and its commit: the
            # same refusal as a stale form (the form is shown again with what was typed).
            db.session.rollback()
            saving = g.pop("kechi_saving", None)
            refusal = (versions.stale(db.session, *saving, tz=current_app.config["TIMEZONE"]) if saving
                       else versions.ChangedMeanwhile(versions.GENERIC))
            flash(str(refusal), "error")
            return True
        return super().handle_view_exception(exc)

    def scaffold_form(self) -> Any:
        form_class = super().scaffold_form()
        if versions.is_versioned(self.model):
            form_class.version = VersionField()  # the edit form carries the row version
        return form_class

    def on_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        try:
            if not is_created and versions.is_versioned(type(model)):
                g.kechi_saving = (type(model), model.id)
                if "version" in form:
                    versions.check_current(db.session, model, form.version.data,
                                           tz=current_app.config["TIMEZONE"])
            self.apply_rules(form, model, is_created)
        except RuleViolation as exc:
            raise ValidationError(str(exc)) from exc

    def apply_rules(self, form: Any, model: Any, is_created: bool) -> None:
        """Subclasses call into rules/ here; a RuleViolation keeps the form and shows why."""

    def on_model_delete(self, model: Any) -> None:
        try:
            self.check_delete(model)
        except RuleViolation as exc:
            raise ValidationError(str(exc)) from exc

    def check_delete(self, model: Any) -> None:
        """Subclasses refuse deletes that rules forbid."""


class CappedCountQuery(Query):
    """A count that stops at COUNT_CAP: paging a million rows needs "10000+", not the exact
    number, and an exact count would read every matching row on each page view."""

    def scalar(self) -> Any:
        rows = self.with_entities(literal_column("1")).order_by(None).limit(count_cap() + 1).subquery()
        return self.session.execute(select(func.count()).select_from(rows)).scalar()


COUNT_CAP = 10_000
# Search results stop counting sooner: "1000+" hits says as much to a person as "10000+",
# and counting a common term's hits costs far more than showing a page of them.
SEARCH_COUNT_CAP = 1_000


def count_cap() -> int:
    return g.get("kechi_count_cap", COUNT_CAP)


class ScopedModelView(SecureModelView):
    """Adds the data scope of rules/scope.py to every path Flask-Admin offers:
    list, count, export and built-in batch actions (get_query), details/edit/delete/ajax-update
    (get_one) and custom actions (`scoped_batch`). Out of scope answers 404."""

    def scope_clause(self) -> Any:
        """What the list, count and export may show (rules/scope.py)."""
        return scope.clause_for(self.model, current_actor())

    def get_query(self) -> Any:
        return super().get_query().filter(self.scope_clause())

    capped_count = False

    def get_count_query(self) -> Any:
        if self.capped_count:
            query = CappedCountQuery([func.count(literal_column("*"))], session=db.session).select_from(self.model)
        else:
            query = super().get_count_query()
        return query.filter(self.scope_clause())

    def render(self, template: str, **kwargs: Any) -> Any:
        # The pager was already computed from the number; the tab shows "10000+".
        if self.capped_count and isinstance(kwargs.get("count"), int) and kwargs["count"] > count_cap():
            kwargs["count"] = f"{count_cap()}+"
        return super().render(template, **kwargs)

    def _order_by(self, query: Any, joins: Any, sort_joins: Any, sort_field: Any, sort_desc: bool) -> Any:
        """Empty values last in either direction, as people expect (PostgreSQL would put
        NULLs first when sorting newest-first). Only for columns that can be empty: a plain DESC
        on a NOT NULL column matches ordinary indexes, "DESC NULLS LAST" would not."""
        if sort_field is None or not sort_desc or db.engine.dialect.name != "postgresql" \
                or not getattr(getattr(sort_field, "expression", sort_field), "nullable", True):
            return super()._order_by(query, joins, sort_joins, sort_field, sort_desc)
        query, joins, alias = self._apply_path_joins(query, joins, sort_joins, inner_join=False)
        column = sort_field if alias is None else getattr(alias, sort_field.key)
        return query.order_by(desc(column).nulls_last()), joins

    WRITE_ENDPOINTS = ("edit_view", "delete_view", "ajax_update", "action_view")

    def write_clause(self) -> Any:
        """Records the actor may change (rules/scope.py); None: the same as those they may see."""
        return scope.write_clause_for(self.model, current_actor())

    def _clause_for_request(self) -> Any:
        if (request.endpoint or "").rsplit(".", 1)[-1] in self.WRITE_ENDPOINTS:
            return self.write_clause()
        return None

    def get_one(self, id: Any) -> Any:
        try:
            return scope.get_in_scope(db.session, self.model, id, current_actor(), self._clause_for_request())
        except OutOfScope:
            abort(404)

    def scoped_batch(self, ids: list[str], clause: Any = None) -> list[Any]:
        """Load every selected record, or refuse the whole batch if one is out of scope:
        a forged id must not leave the batch half-applied."""
        wanted = {str(i) for i in ids}
        clause = clause if clause is not None else self.write_clause()
        allowed = scope.ids_in_scope(db.session, self.model, list(wanted), current_actor(), clause)
        if len(allowed) != len(wanted):
            abort(404)
        return list(get_query_for_ids(self.get_query(), self.model, allowed).all())

    def remove(self, record: Any) -> None:
        """What deleting means for this model (customers and leads go to the recycle bin)."""
        db.session.delete(record)

    def delete_model(self, model: Any) -> bool:
        """删除 on a record's page or row: the rules' refusal, then `remove`, in one transaction."""
        with transaction() as outcome:
            self.on_model_delete(model)
            self.remove(model)
        if not outcome.ok:
            return False
        self.after_model_delete(model)
        return True

    @action("delete", _l("删除"), _l("确定要删除所选记录吗？此操作不可撤销。"))
    def action_delete(self, ids: tuple[str, ...]) -> None:
        records = self.scoped_batch(list(ids))
        with transaction(ngettext("已删除 %(num)d 条记录。", "已删除 %(num)d 条记录。", len(records))):
            for record in records:
                self.on_model_delete(record)
                self.remove(record)

