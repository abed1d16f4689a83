"""阶段组 (settings.manage): the administrator's ordered stages of a sale, per department or for
everyone, each with its win probability and the fields it requires. Rules: rules/stage_groups.py."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from admin_views import params
from admin_views.base import PermissionView
from admin_views.filters import department_options
from admin_views.forms import CsrfForm
from admin_views.menu import SETTINGS, fa
from admin_views.transaction import transaction
from models import db
from models.opportunity import StageGroup
from rules import stage_groups
from rules.stage_groups import StageInput

BLANK_STAGES = 3


class StageGroupView(PermissionView):
    permission = "settings.manage"

    @expose("/")
    def index(self) -> Any:
        groups = list(db.session.scalars(select(StageGroup).options(selectinload(StageGroup.stages))
                                         .order_by(StageGroup.sort_order, StageGroup.id)))
        return self.render("admin/stage_groups/list.html", groups=groups, counts=stage_groups.stage_counts(db.session),
                           required_labels=stage_groups.REQUIRED_FIELDS)

    @expose("/edit/", methods=("GET", "POST"))
    def edit(self) -> Any:
        ident = params.id_or_none(request.args.get("id"))
        group = db.session.get(StageGroup, ident) if ident else StageGroup()
        if group is None:
            abort(404)
        if request.method == "POST":
            typed = self._typed()
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
            else:
                with transaction(gettext("阶段组已保存")) as outcome:
                    stage_groups.save(db.session, group, **typed)
                if outcome.ok:
                    return redirect(url_for(".index"))
                group = db.session.get(StageGroup, ident) if ident else StageGroup()
        else:
            typed = {"name": group.name or "", "department_id": group.department_id,
                     "active": group.active if group.id else True, "sort_order": group.sort_order or 0,
                     "stages": [StageInput(s.id, s.name, s.probability, list(s.required_fields or []))
                                for s in (group.stages if group.id else [])]}
            if not group.id:
                typed["stages"] = [StageInput(None, n, p, list(f)) for n, p, f in stage_groups.DEFAULT_STAGES]
        rows = list(typed["stages"]) + [StageInput(None, "", "", []) for _ in range(BLANK_STAGES)]
        return self.render("admin/stage_groups/edit.html", group=group, typed=typed, rows=rows,
                           departments=department_options(), required_labels=stage_groups.REQUIRED_FIELDS)

    @expose("/delete/", methods=("POST",))
    def delete(self) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        group = db.session.get(StageGroup, params.int_id(request.args.get("id")))
        if group is None:
            abort(404)
        with transaction(gettext("阶段组已删除")):
            stage_groups.delete_group(db.session, group)
        return redirect(url_for(".index"))

    def _typed(self) -> dict[str, Any]:
        form = request.form
        count = params.positive_int(form.get("stage_rows"), name="stage_rows", default=0, maximum=100)
        stages = [StageInput(params.id_or_none(form.get(f"stage-{i}-id")), form.get(f"stage-{i}-name", ""),
                             form.get(f"stage-{i}-probability", ""), form.getlist(f"stage-{i}-required"))
                  for i in range(count)]
        return {"name": form.get("name", ""), "department_id": params.id_or_none(form.get("department_id")),
                "active": bool(form.get("active")), "sort_order": form.get("sort_order") or 0,
                "stages": [s for s in stages if s.id or (s.name or "").strip()]}


def views() -> list[Any]:
    return [StageGroupView(name=_l("阶段组"), category=SETTINGS, endpoint="stage_groups", **fa("fa-tasks"))]
