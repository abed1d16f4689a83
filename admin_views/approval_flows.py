"""审批流程 (settings.manage): per document type, the ordered steps of its approval, its
threshold, whether it is on; and the 审批短信通知 switch. Rules: rules/approval_flows.py."""
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
from admin_views.forms import CsrfForm
from admin_views.menu import SETTINGS, fa
from admin_views.transaction import transaction
from models import Role, User, db
from models.approval import ApprovalDocType, ApprovalFlow, StepKind
from rules import approval_flows, approval_notices, approvals, approvers, settings
from rules.approval_flows import StepInput

BLANK_STEPS = 2


class ApprovalFlowView(PermissionView):
    permission = "settings.manage"

    @expose("/")
    def index(self) -> Any:
        flows = {f.doc_type: f for f in db.session.scalars(select(ApprovalFlow)
                                                           .options(selectinload(ApprovalFlow.steps)))}
        return self.render("admin/approvals/flows.html", flows=flows, doc_types=list(ApprovalDocType),
                           doc_label=approvals.doc_type_label, kind_labels=approvals.KIND_LABELS,
                           mode_labels=approvals.MODE_LABELS, below=approvals.BELOW_THRESHOLD,
                           sms=approval_notices.sms_enabled(db.session), names=_names())

    @expose("/edit/", methods=("GET", "POST"))
    def edit(self) -> Any:
        doc_type = request.args.get("doc_type", "")
        if doc_type not in {d.value for d in ApprovalDocType}:
            abort(404)
        flow = approvals.flow_for(db.session, doc_type)
        if request.method == "POST":
            typed = _typed_flow()
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
            else:
                with transaction(gettext("审批流程已保存")) as outcome:
                    approval_flows.save(db.session, doc_type, **typed)
                if outcome.ok:
                    return redirect(url_for(".index"))
        elif flow is not None:
            typed = {"name": flow.name, "enabled": flow.enabled,
                     "threshold": "" if flow.threshold is None else f"{flow.threshold.normalize():f}",
                     "steps": [StepInput(s.name, s.kind, s.levels, s.role_id, list(s.user_ids or []), s.mode,
                                         s.allow_self) for s in flow.steps]}
        else:
            typed = {"name": str(approvals.doc_type_label(doc_type)) + gettext("审批"), "enabled": False,
                     "threshold": "", "steps": []}
        rows = list(typed["steps"]) + [StepInput("", "") for _ in range(BLANK_STEPS)]
        users = db.session.execute(select(User.id, User.display_name).where(approvers.eligible())
                                   .order_by(User.display_name)).all()
        roles = db.session.execute(select(Role.id, Role.name).order_by(Role.id)).all()
        return self.render("admin/approvals/flow_edit.html", doc_type=doc_type, doc_label=approvals.doc_type_label,
                           typed=typed, rows=rows, users=users, roles=roles, kinds=approvals.KIND_LABELS,
                           modes=approvals.MODE_LABELS, below=doc_type in approvals.BELOW_THRESHOLD,
                           superior=StepKind.SUPERIOR.value)

    @expose("/sms/", methods=("POST",))
    def sms(self) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        on = bool(request.form.get("approval_sms"))
        with transaction(gettext("已开启审批短信通知") if on else gettext("已关闭审批短信通知")):
            settings.put(db.session, approval_notices.SMS_SETTING, on)
        return redirect(url_for(".index"))


def _names() -> dict[str, dict[int, str]]:
    """Role and user names for the steps' summary on the flow list."""
    return {"roles": dict(db.session.execute(select(Role.id, Role.name)).all()),
            "users": dict(db.session.execute(select(User.id, User.display_name)).all())}


def _typed_flow() -> dict[str, Any]:
    form = request.form
    count = params.positive_int(form.get("step_rows"), name="step_rows", default=0, maximum=approval_flows.MAX_STEPS
                                + BLANK_STEPS)
    steps = [StepInput(name=form.get(f"step-{i}-name", ""), kind=form.get(f"step-{i}-kind", ""),
                       levels=form.get(f"step-{i}-levels") or 1,
                       role_id=params.id_or_none(form.get(f"step-{i}-role_id")),
                       user_ids=params.ids_list(form.getlist(f"step-{i}-user_ids")),
                       mode=form.get(f"step-{i}-mode") or "any", allow_self=bool(form.get(f"step-{i}-allow_self")))
             for i in range(count) if not form.get(f"step-{i}-remove")]
    return {"name": form.get("name", ""), "enabled": bool(form.get("enabled")), "threshold": form.get("threshold", ""),
            "steps": [s for s in steps if (s.name or "").strip() or s.kind]}


def views() -> list[Any]:
    return [ApprovalFlowView(name=_l("审批流程"), category=SETTINGS, endpoint="approval_flow", **fa("fa-sitemap"))]
