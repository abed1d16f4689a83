"""The pipeline lists' drill-down parameters (rules/links.QUERY_PARAMETERS) read from the request.

The 销售机会 list (endpoint "opportunity") and the 线索 list (endpoint "lead") add these to the
scoped query of their list, count and export, one line each:

    query = query.filter(*pipeline_drill.opportunity_clauses(db.session))   # or lead_clauses()

so a figure of a pipeline report (rules/pipeline_reports.py) opens exactly the rows it counted.
A value no link could carry (owner_id=abc, outcome=maybe, close_month=2026-13) is a friendly 400,
never a silently wider list."""
from __future__ import annotations

import re
from typing import Any

from flask import current_app, request
from flask_babel import gettext
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from admin_views import params
from models.lead import LeadStatus
from models.opportunity import Outcome
from rules.links import Days
from rules.pipeline_drill import LeadDrill, OpportunityDrill, lead_where, opportunity_where

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _id(name: str) -> int | None:
    raw = params.clean_text(request.args.get(name))
    if not raw:
        return None
    number = params.id_or_none(raw)
    if number is None:
        raise params.BadParameter(gettext("参数“%(name)s”无法识别", name=name))
    return number


def _ids(name: str) -> tuple[int, ...]:
    found = []
    for raw in request.args.getlist(name):
        number = params.id_or_none(raw)
        if number is None:
            raise params.BadParameter(gettext("参数“%(name)s”无法识别", name=name))
        found.append(number)
    return tuple(found)


def _days(name: str) -> Days | None:
    first = params.date_param(request.args.get(f"{name}_from"), name=f"{name}_from")
    last = params.date_param(request.args.get(f"{name}_to"), name=f"{name}_to")
    return Days(first, last) if first or last else None  # type: ignore[arg-type]


def _choice(name: str, allowed: Any) -> str | None:
    raw = params.clean_text(request.args.get(name))
    if not raw:
        return None
    if raw not in {a.value for a in allowed}:
        raise params.BadParameter(gettext("参数“%(name)s”无法识别", name=name))
    return raw


def opportunity_drill() -> OpportunityDrill:
    month = params.clean_text(request.args.get("close_month")) or None
    if month is not None and not _MONTH.match(month):
        raise params.BadParameter(gettext("参数“%(name)s”无法识别", name="close_month"))
    outcome = _choice("outcome", Outcome)
    return OpportunityDrill(
        owner_id=_id("owner_id"), department_ids=_ids("department_id"), source_id=_id("source_id"),
        group_id=_id("group_id"), stage_id=_id("stage_id"), reached_stage_id=_id("reached_stage_id"),
        outcome=Outcome(outcome) if outcome else None, close_month=month, closed=_days("closed"),
        created=_days("created"), loss_reason_id=_id("loss_reason_id"))


def lead_drill() -> LeadDrill:
    return LeadDrill(owner_id=_id("owner_id"), department_ids=_ids("department_id"), source_id=_id("source_id"),
                     status=_choice("status", LeadStatus), created=_days("created"))


def opportunity_clauses(session: Session) -> list[ColumnElement[bool]]:
    """The request's drill-down conditions on opportunities (none without parameters)."""
    return opportunity_where(session, opportunity_drill(), current_app.config["TIMEZONE"])


def lead_clauses() -> list[ColumnElement[bool]]:
    """The request's drill-down conditions on leads (none without parameters)."""
    return lead_where(lead_drill(), current_app.config["TIMEZONE"])
