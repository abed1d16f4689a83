"""Typed links (rules/links.py) into URLs: the one place that knows how a list's named filters
become Flask-Admin's `flt<pos>_<index>=value` arguments and where a stored notification link
leads.

A list view names its drill-down filters where it declares them:

    column_filters = [..., drill(DrillFilter.PROVINCE, FilterEqual(Customer.province, _l("省份"))), ...]

and `list_url` finds that very filter object (by identity) among the view's filters to learn its
argument, so neither a filter's position, its column name nor its class decides anything here.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_admin.model.filters import BaseFilter

from admin_views.navigation import back_url
from rules import links
from rules.links import CustomFieldFilter, Days, DrillFilter, FilterValue, Link, ListKind, ListLink, RecordLink

FilterT = TypeVar("FilterT", bound=BaseFilter)


def drill(name: DrillFilter | CustomFieldFilter, flt: FilterT) -> FilterT:
    """Declare `flt` as the list's filter for `name` (returned as is, for column_filters)."""
    flt.drill_name = name if isinstance(name, CustomFieldFilter) else DrillFilter(name)  # type: ignore[attr-defined]
    return flt


def declared(filters: Iterable[Any] | None) -> dict[DrillFilter | CustomFieldFilter, BaseFilter]:
    """The drill filters among a view's column_filters, by name."""
    found: dict[DrillFilter | CustomFieldFilter, BaseFilter] = {}
    for flt in filters or ():
        name = getattr(flt, "drill_name", None)
        if name is not None:
            if name in found:
                raise ValueError(f"two filters of one list are declared as {name}")
            found[name] = flt
    return found


def find_view(admin: Any, kind: ListKind) -> Any:
    """The registered view that shows list `kind` (its endpoint is the kind's value)."""
    for view in admin._views:
        if getattr(view, "endpoint", None) == kind.value:
            return view
    return None


def _url_value(value: FilterValue) -> str:
    """A value as the filter's text box holds it."""
    if isinstance(value, Days):
        return f"{value.first.isoformat()} to {value.last.isoformat()}"
    if isinstance(value, datetime):  # an instant, shown in the firm's time zone
        return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _index_url(view: Any) -> str:
    return url_for(f"{view.endpoint}.index_view" if hasattr(view, "index_view") else f"{view.endpoint}.index")


def list_url(admin: Any, link: ListLink | None) -> str | None:
    """The list of `link` with its filters, for the current user; None when the user may not
    open that list or it lacks one of the filters (no link beats one that shows other rows).
    The list applies its own data scope."""
    if link is None:
        return None
    view = find_view(admin, link.kind)
    if view is None or not view.is_accessible():  # no link to a 403
        return None
    if not link.filters:
        return _index_url(view)
    if link.kind in links.PARAMETER_LISTS:  # plain ?owner_id=… parameters (rules/links.QUERY_PARAMETERS)
        return _index_url(view) + "?" + urlencode(links.query_parameters(link))
    sync = getattr(view, "sync_custom_fields", None)
    if sync is not None:  # a custom field's filter exists once the list has today's definitions
        sync()
    named = declared(getattr(view, "column_filters", None))
    # Flask-Admin's own table of argument → (index, filter), the one it decodes list URLs with;
    # the declared filter is found in it by identity.
    argument = {id(flt): arg for arg, (_index, flt) in (getattr(view, "_filter_args", None) or {}).items()}
    params = []
    for pos, (name, value) in enumerate(link.filters):
        flt = named.get(name)
        arg = argument.get(id(flt)) if flt is not None else None
        if arg is None:
            return None
        params.append((f"flt{pos}_{arg}", _url_value(value)))
    return _index_url(view) + "?" + urlencode(params)


def record_url(admin: Any, link: RecordLink) -> str | None:
    """The page of one record: the view's own `record_url(id)` if it has one, else its details
    page. The page checks the reader's scope itself (404 outside it)."""
    view = find_view(admin, link.kind)
    if view is None:
        return None
    own = getattr(view, "record_url", None)
    if own is not None:
        return own(link.id)
    return url_for(f"{view.endpoint}.details_view", id=link.id)


def url(admin: Any, link: Link | None) -> str | None:
    """Where a link leads: a filtered list as `list_url` builds it; a whole list or a record
    page as it is (the page itself answers 403 or 404 to a reader who may not see it)."""
    if link is None:
        return None
    if isinstance(link, RecordLink):
        return record_url(admin, link)
    if link.filters:
        return list_url(admin, link)
    view = find_view(admin, link.kind)
    return _index_url(view) if view is not None else None


def stored_url(admin: Any, text: str | None) -> str | None:
    """Where a notification's stored link leads: a link `rules.links.dump` wrote, or a local
    URL written before links were values (the migration converts the known ones; a process of
    the previous release may still write them during an upgrade). None for anything else."""
    link = links.load(text)
    if link is not None:
        return url(admin, link)
    return back_url(text, "") or None
