"""The finance lists' drill-down parameters (rules/links.QUERY_PARAMETERS) read from the request.

The 合同 (endpoint "contract"), 回款计划 ("payment_plan"), 回款 ("payment") and 开票 ("invoice")
lists add these to the scoped query of their list, count and export, one line each:

    query = query.filter(*finance_drill.clauses(ListKind.CONTRACT))

so a figure of a finance report (rules/finance_reports.py) opens exactly the rows it counted.
Parameters: owner_id, owner_department (exactly), owner_department_tree (and below), customer_id,
status (repeated), outstanding=1, without_plan=1, due_from/due_to, signed_from/signed_to,
end_from/end_to, paid_from/paid_to, issued_from/issued_to, method, kind (receipt/refund),
product_id. A value no link could carry (owner_id=abc, due_from=2026-02-30) is a friendly 400,
never a silently wider list."""
from __future__ import annotations

from flask import request
from flask_babel import gettext
from sqlalchemy import ColumnElement

from admin_views import params
from admin_views.pipeline_drill import _days, _id
from rules.finance_drill import WHERE, FinanceDrill
from rules.links import ListKind


def _flag(name: str) -> bool:
    raw = params.clean_text(request.args.get(name))
    if raw in ("", None):
        return False
    if raw != "1":
        raise params.BadParameter(gettext("参数“%(name)s”无法识别", name=name))
    return True


def _word(name: str) -> str | None:
    """A state, method or kind key: short ASCII words only."""
    raw = params.clean_text(request.args.get(name)) or None
    if raw is not None and not (raw.isascii() and raw.replace("_", "").isalnum() and len(raw) <= 16):
        raise params.BadParameter(gettext("参数“%(name)s”无法识别", name=name))
    return raw


def _words(name: str) -> tuple[str, ...]:
    found = []
    for raw in request.args.getlist(name):
        if not (raw.isascii() and raw.replace("_", "").isalnum() and len(raw) <= 16):
            raise params.BadParameter(gettext("参数“%(name)s”无法识别", name=name))
        found.append(raw)
    return tuple(found)


def finance_drill() -> FinanceDrill:
    return FinanceDrill(
        owner_id=_id("owner_id"), owner_department_id=_id("owner_department"),
        owner_department_tree=_id("owner_department_tree"), customer_id=_id("customer_id"),
        status_in=_words("status"), outstanding=_flag("outstanding"), without_plan=_flag("without_plan"),
        due=_days("due"), signed=_days("signed"), end=_days("end"), paid=_days("paid"), issued=_days("issued"),
        method=_word("method"), kind=_word("kind"), product_id=_id("product_id"))


def clauses(kind: ListKind) -> list[ColumnElement[bool]]:
    """The request's drill-down conditions on list `kind` (none without parameters)."""
    return WHERE[kind](finance_drill())


class FinanceDrillMixin:
    """For a finance list view (put it first among the bases, set `drill_kind`): its list, count
    and export take the request's drill-down parameters on top of their own scoped query."""

    drill_kind: ListKind

    def get_query(self):  # type: ignore[no-untyped-def]
        return super().get_query().filter(*clauses(self.drill_kind))  # type: ignore[misc]

    def get_count_query(self):  # type: ignore[no-untyped-def]
        return super().get_count_query().filter(*clauses(self.drill_kind))  # type: ignore[misc]
