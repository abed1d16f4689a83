"""审批 on the phone: what waits for me (rules/approvals.waiting_for — every registered document
type: contracts, receipts, discounts, requests…), one request with its steps so far, and the
decision through rules/approvals.approve / reject, as the admin's 我的审批 (whose request scope
and step view this page shares)."""
from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from admin_views.approvals import document_url, request_context, request_in_scope
from admin_views.base import SIGNED_IN
from admin_views.context import current_actor, now
from admin_views.forms import CsrfForm
from admin_views.mobile.base import MobileView
from admin_views.transaction import transaction
from models import db
from models.approval import ApprovalRequest
from rules import approvals

PAGE_SIZE = 50


class ApprovalsView(MobileView):
    permission = SIGNED_IN  # as the admin's 我的审批: one's own approvals, whatever the role
    mobile_url = "/approvals"
    tab = "m_approvals.index"

    @expose("/")
    def index(self) -> Any:
        actor = current_actor()
        rows = list(db.session.scalars(approvals.waiting_for(db.session, actor)
                                       .options(selectinload(ApprovalRequest.submitter)).limit(PAGE_SIZE)))
        return self.render("mobile/approvals.html", title=_l("审批"), rows=rows,
                           total=approvals.waiting_count(db.session, actor) if len(rows) == PAGE_SIZE else len(rows),
                           doc_label=approvals.doc_type_label)

    @expose("/<int:request_id>/")
    def detail(self, request_id: int, comment: str = "") -> Any:
        """`comment`: a refused decision's 审批意见 as typed, shown again."""
        found = request_in_scope(request_id)
        return self.render("mobile/approval_detail.html", title=approvals.doc_type_label(found.doc_type),
                           back=url_for(".index"), approval=request_context(found),
                           document_url=document_url(self.admin, found.doc_type, found.doc_id), csrf=CsrfForm(),
                           comment=comment)

    @expose("/<int:request_id>/decide", methods=("POST",))
    def decide(self, request_id: int) -> Any:
        """同意 or 驳回 (a reason is needed); one decided meanwhile by someone else says so."""
        if not CsrfForm(request.form).validate():
            abort(400)
        request_in_scope(request_id)
        form, actor, at = request.form, current_actor(), now()
        move = form.get("decision")
        if move not in ("approve", "reject"):
            abort(400)
        with transaction(gettext("已同意") if move == "approve" else gettext("已驳回")) as outcome:
            if move == "approve":
                approvals.approve(db.session, request_id, actor=actor, now=at, comment=form.get("comment"))
            else:
                approvals.reject(db.session, request_id, actor=actor, now=at, reason=form.get("comment", ""))
        if outcome.ok:
            return redirect(url_for(".index"))
        return self.detail(request_id, comment=form.get("comment", ""))


def views() -> list[BaseView]:
    return [ApprovalsView(_l("审批"), endpoint="m_approvals")]
