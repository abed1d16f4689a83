"""The customer list's columns: formatters, filters and the sort key the merged list uses,
and the contacts sub-form of the customer form."""
from __future__ import annotations

from typing import Any

from flask import g, url_for
from flask_admin.model.form import InlineFormAdmin
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select

from admin_views.context import current_actor, now
from admin_views.custom_fields import store_inline_custom_fields
from admin_views.customer_labels import CONTACT_LABELS
from admin_views.filters import IdEqual, LazyOptions
from models import Contact, Customer, DictKind, Pool, db
from rules import activity, dictionaries, recycle, scope
from rules import pool as pool_rules


def dict_choices(kind: DictKind):
    return lambda: dictionaries.items(db.session, kind)


def _dict_options(kind: DictKind) -> list[tuple[str, str]]:
    """All dictionaries are read once per request and shared by the six filters."""
    if "kechi_dict_options" not in g:
        options: dict[str, list[tuple[str, str]]] = {}
        for item in dictionaries.all_items(db.session):
            options.setdefault(item.kind, []).append((str(item.id), item.name))
        g.kechi_dict_options = options
    return g.kechi_dict_options.get(kind.value, [])


def stages_reached() -> list[tuple[str, str]]:
    """跟进程度 到达 X: X and every later stage, as 销售漏斗 counts."""
    stages = _dict_options(DictKind.STAGE)
    return [(",".join(i for i, _n in stages[pos:]), name) for pos, (_id, name) in enumerate(stages)]


def dict_filter(column: Any, kind: DictKind) -> IdEqual:
    return IdEqual(column, dictionaries.LABELS[kind], options=LazyOptions(lambda: _dict_options(kind)))


def editable_ids(ids: list[int]) -> set[int]:
    """Of the customers on this page, those the actor may change (shares are read-only)."""
    if not ids:
        return set()
    clause = scope.customer_edit_clause(current_actor())
    return set(db.session.scalars(select(Customer.id).where(clause, Customer.id.in_(ids))))


def name_with_marks(view: Any, context: Any, model: Customer, name: str) -> Markup:
    link = url_for(".details_view", id=model.id)
    html = f"<a href='{escape(link)}'>{escape(model.name)}</a>"
    # Translated outside the f-strings: Babel's extractor does not look inside them.
    if model.protected_until and model.protected_until > now():
        protected = escape(gettext("受保护"))
        html += f" <i class='fa fa-shield text-success' title='{protected}'></i>"
    if model.owner_id != current_actor().user_id and model.id in g.get("kechi_shared_ids", set()):
        title, mark = escape(gettext("他人共享给我的")), escape(gettext("共享"))
        html += f" <span class='badge badge-info' title='{title}'>{mark}</span>"
    # Markup is safe here: the name, the link and the translated titles above pass through escape().
    return Markup(html)


def _pool_of_owner(owner_id: int) -> Pool | None:
    """The owner's pool (whose recycle rules apply). The first call on a list page looks up
    every owner on the page at once (rules.pool.home_pools)."""
    cache = g.setdefault("kechi_owner_pools", {})
    if owner_id not in cache:
        wanted = {owner_id, *g.get("kechi_page_owner_ids", ())} - set(cache)
        cache.update(pool_rules.home_pool_rows(db.session, wanted))
    return cache[owner_id]


def _busy(customer_id: int) -> bool:
    """Business in progress exempts from recycling (rules.activity): the first call on a list
    page asks once for every row of the page."""
    if "kechi_busy_ids" not in g:
        g.kechi_busy_ids = activity.busy_ids(db.session, {customer_id, *g.get("kechi_page_ids", ())})
    return customer_id in g.kechi_busy_ids


def recycle_in(view: Any, context: Any, model: Customer, name: str) -> Markup | str:
    """还剩N天 · rule: when the owner's pool would take the customer back, and why."""
    if model.owner_id is None:
        return ""
    due = recycle.deadline(model, _pool_of_owner(model.owner_id), busy=_busy(model.id))
    if due is None:
        return ""
    left = due.days_left(now())
    css = "badge-danger" if left <= 7 else "badge-light border"
    label = escape(gettext("还剩 %(n)d 天", n=left))
    rule = escape(str(recycle.RULE_LABELS[due.rule]))
    # Markup is safe here: css is one of two constants, the labels pass through escape().
    return Markup(f"<span class='badge {css}' title='{rule}'>{label}</span> <small class='text-muted'>{rule}</small>")


def sort_key(field: str, descending: bool) -> Any:
    """Python's order for one list column, as the database sorts it: empty values last when
    newest-first (both databases here), first otherwise on SQLite and last on PostgreSQL."""
    empty_last = descending or db.engine.dialect.name == "postgresql"

    def key(row: Customer) -> tuple[bool, Any]:
        value = getattr(row, field)
        if value is None:
            return (not descending) == empty_last, 0
        return (not descending) != empty_last, value

    return key


def region(view: Any, context: Any, model: Customer, name: str) -> str:
    return " ".join(p for p in (model.province, model.city if model.city != model.province else None) if p)


class ContactInline(InlineFormAdmin):
    """Contacts on the customer form, with the administrator's contact custom fields (the same
    rules as the contact form: required, formats)."""

    form_columns = ["id", "name", "is_primary", "position", "mobile", "phone", "email", "qq", "wechat", "birthday"]
    column_labels = CONTACT_LABELS
    form_label = _l("联系人")

    def on_model_change(self, form: Any, model: Contact, is_created: bool) -> None:
        # Flask-Admin passes the row's field (a FormField); its form holds the values.
        store_inline_custom_fields(getattr(form, "form", form), model, "contact")

