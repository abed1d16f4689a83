"""我的审批 (endpoint "approval": 待我审批 / 我已审批 / 我发起的, one request's page, the decisions,
the pop-up's poll). The panel every document page includes (templates/admin/approvals/_panel.html)
reads `approval_panel(doc_type, doc_id)`. Rules: rules/approvals.py; the flows' settings page is
admin_views/approval_flows.py."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from admin_views import links, params
from admin_views.base import SIGNED_IN, PermissionView
from admin_views.context import current_actor, now
from admin_views.forms import CsrfForm
from admin_views.menu import OFFICE, fa
from admin_views.navigation import back_url
from admin_views.transaction import transaction
from models import User, db
from models.approval import ApprovalEvent, ApprovalRequest, ApprovalStatus, ApprovalTask
from rules import approvals, approvers, scope
from rules.errors import OutOfScope, RuleViolation

PAGE_SIZE = 50
TABS = {"waiting": _l("待我审批"), "decided": _l("我已审批"), "mine": _l("我发起的")}


def document_url(admin: Any, doc_type: str, doc_id: int) -> str | None:
    """Where the request's document opens: its hooks' link (a URL or a rules.links link)."""
    try:
        hooks = approvals.hooks_for(doc_type)
    except RuleViolation:
        return None
    doc = hooks.load(db.session, doc_id)
    if doc is None:
        return None
    target = hooks.link(doc)
    if isinstance(target, str):
        return target
    return links.url(admin, target)


@dataclass
class StepView:
    index: int
    name: str
    kind: Any
    mode: Any
    state: str  # done / current / future / ended
    tasks: list[ApprovalTask]


def panel(doc_type: str, doc_id: int | None) -> dict[str, Any]:
    """What the panel shows for one document and the current user."""
    found = approvals.latest(db.session, doc_type, doc_id) if doc_id else None
    if found is None:
        return {"request": None}
    return request_context(found)


def request_context(found: ApprovalRequest) -> dict[str, Any]:
    actor = current_actor()
    tasks = list(db.session.scalars(select(ApprovalTask).options(selectinload(ApprovalTask.approver))
                                    .where(ApprovalTask.request_id == found.id).order_by(ApprovalTask.id)))
    pending = found.status == ApprovalStatus.PENDING
    steps = []
    for index, step in enumerate(found.steps or []):
        if not pending:
            state = "done" if found.status == ApprovalStatus.APPROVED or index < found.step_index else "ended"
        else:
            state = "done" if index < found.step_index else ("current" if index == found.step_index else "future")
        steps.append(StepView(index, step["name"], approvals.KIND_LABELS.get(step["kind"], step["kind"]),
                              approvals.MODE_LABELS.get(step["mode"], step["mode"]), state,
                              [t for t in tasks if t.step_index == index]))
    events = list(db.session.scalars(select(ApprovalEvent).options(selectinload(ApprovalEvent.actor),
                                                                   selectinload(ApprovalEvent.to_user))
                                     .where(ApprovalEvent.request_id == found.id).order_by(ApprovalEvent.id)))
    mine = approvals.my_waiting_task(db.session, found, actor) if pending else None
    colleagues = []
    if mine is not None:
        colleagues = db.session.execute(select(User.id, User.display_name).where(
            approvers.eligible(), User.id != actor.user_id).order_by(User.display_name)).all()
    return {"request": found, "steps": steps, "events": events, "my_task": mine,
            "can_withdraw": pending and approvals.may_withdraw(db.session, found, actor),
            "colleagues": colleagues, "next": request.full_path.rstrip("?"),
            "status_label": approvals.STATUS_LABELS.get(found.status, found.status),
            "task_labels": approvals.TASK_LABELS, "action_labels": approvals.ACTION_LABELS,
            "doc_label": approvals.doc_type_label(found.doc_type), "auto": approvals.AUTO_APPROVED}


class ApprovalView(PermissionView):
    """我的审批: whatever the role, one's own approvals; a request page opens within
    rules/scope.approval_request_clause (submitter, approver, or a manager of either)."""

    permission = SIGNED_IN

    def record_url(self, request_id: int) -> str:
        return url_for("approval.detail", request_id=request_id)

    @expose("/")
    def index(self) -> Any:
        tab = request.args.get("tab", "waiting")
        if tab not in TABS:
            tab = "waiting"
        page = params.page_number(request.args.get("page"))
        actor = current_actor()
        stmt = {"waiting": approvals.waiting_for, "decided": approvals.decided_by,
                "mine": approvals.submitted_by}[tab](db.session, actor)
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        rows = list(db.session.scalars(stmt.options(selectinload(ApprovalRequest.submitter))
                                       .limit(PAGE_SIZE).offset(page * PAGE_SIZE)))
        return self.render("admin/approvals/index.html", tab=tab, tabs=TABS, rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)),
                           waiting=approvals.waiting_count(db.session, actor) if tab != "waiting" else total,
                           status_labels=approvals.STATUS_LABELS, doc_label=approvals.doc_type_label)

    @expose("/<int:request_id>/")
    def detail(self, request_id: int) -> Any:
        found = request_in_scope(request_id)
        return self.render("admin/approvals/detail.html", approval=request_context(found),
                           document_url=document_url(self.admin, found.doc_type, found.doc_id))

    @expose("/<int:request_id>/<any(approve,reject,withdraw,transfer):move>/", methods=("POST",))
    def decide(self, request_id: int, move: str) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        request_in_scope(request_id)
        form, actor, at = request.form, current_actor(), now()
        messages = {"approve": gettext("已同意"), "reject": gettext("已驳回"), "withdraw": gettext("已撤回"),
                    "transfer": gettext("已转交")}
        with transaction(messages[move]):
            if move == "approve":
                approvals.approve(db.session, request_id, actor=actor, now=at, comment=form.get("comment"))
            elif move == "reject":
                approvals.reject(db.session, request_id, actor=actor, now=at, reason=form.get("reason", ""))
            elif move == "withdraw":
                approvals.withdraw(db.session, request_id, actor=actor, now=at)
            else:
                approvals.transfer(db.session, request_id, actor=actor, now=at, note=form.get("note"),
                                   to_user_id=params.id_or_none(form.get("to_user_id")) or 0)
        return redirect(back_url(form.get("next"), url_for(".detail", request_id=request_id)))

    @expose("/batch_approve/", methods=("POST",))
    def batch_approve(self) -> Any:
        """批量同意 the ticked requests of 待我审批: all or none (a refusal names its request)."""
        if not CsrfForm(request.form).validate():
            abort(400)
        ids = params.ids_list(request.form.getlist("request_id"))
        if not ids:
            flash(gettext("请先勾选要同意的审批"), "error")
            return redirect(url_for(".index"))
        actor, at = current_actor(), now()
        with transaction() as outcome:
            for request_id in ids:
                approvals.approve(db.session, request_id, actor=actor, now=at)
            outcome.done(ngettext("已同意 %(num)d 项审批", "已同意 %(num)d 项审批", len(ids)))
        return redirect(url_for(".index"))

    @expose("/poll/")
    def poll(self) -> Any:
        """The pop-up's question, asked every minute: how many wait for me, and the newest."""
        actor = current_actor()
        newest = db.session.execute(
            approvals.waiting_for(db.session, actor).with_only_columns(ApprovalTask.id, ApprovalRequest.id,
                                                                       ApprovalRequest.title)
            .order_by(None).order_by(ApprovalTask.id.desc()).limit(1)).first()
        latest = None
        if newest is not None:
            latest = {"id": newest[0], "title": newest[2], "url": url_for(".detail", request_id=newest[1])}
        return jsonify(count=approvals.waiting_count(db.session, actor), latest=latest,
                       text=gettext("您有新的待审批"), open=gettext("去审批"), close=gettext("关闭"))


def request_in_scope(request_id: int) -> ApprovalRequest:
    try:
        return scope.get_in_scope(db.session, ApprovalRequest, request_id, current_actor())
    except OutOfScope:
        abort(404)


def init_app(app: Flask) -> None:
    @app.context_processor
    def approval_globals() -> dict[str, Any]:
        def approval_panel(doc_type: str, doc_id: int | None) -> dict[str, Any]:
            return panel(str(doc_type), doc_id) if current_user.is_authenticated else {"request": None}

        return {"approval_panel": approval_panel}


def views() -> list[Any]:
    return [ApprovalView(name=_l("我的审批"), category=OFFICE, endpoint="approval", **fa("fa-check-square-o"))]
