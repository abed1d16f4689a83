"""工作请示 / 申请 (endpoint "office_request"): 我的申请 and the requests one may see, a form per kind
(工作请示 / 请假 / 出差 / 报销), a request's page with its approval panel and attachments. Deciding
happens on 我的审批 (admin_views/approvals.py) or on the request's page through the same panel.
Rules: rules/office_requests.py."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from admin_views import params
from admin_views.base import SIGNED_IN, PermissionView
from admin_views.context import current_actor, now
from admin_views.forms import CsrfForm
from admin_views.menu import OFFICE, fa
from admin_views.transaction import transaction
from models import OfficeRequest, db
from models.dictionary import DictKind
from models.office_request import RequestKind
from rules import dictionaries, office_requests, scope
from rules.errors import OutOfScope
from rules.office_requests import ExpenseLine, RequestInput

PAGE_SIZE = 50
TABS = {"mine": _l("我的申请"), "all": _l("我能查看的申请")}
NEW_TITLES = {RequestKind.GENERAL.value: _l("新建工作请示"), RequestKind.LEAVE.value: _l("请假申请"),
              RequestKind.TRIP.value: _l("出差申请"), RequestKind.EXPENSE.value: _l("报销申请")}
KIND_ICONS = {RequestKind.GENERAL.value: "fa-file-text-o", RequestKind.LEAVE.value: "fa-bed",
              RequestKind.TRIP.value: "fa-plane", RequestKind.EXPENSE.value: "fa-jpy"}
BLANK_LINES = 3  # empty expense rows the form offers below the typed ones


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def _typed(form: Any) -> RequestInput:
    """The form as typed, for the rules and for showing it again after a refusal."""
    rows = zip(form.getlist("line_date"), form.getlist("line_category"), form.getlist("line_amount"),
               form.getlist("line_note"), strict=False)
    return RequestInput(title=form.get("title", ""), content=form.get("content", ""),
                        leave_type_id=form.get("leave_type_id", ""), start_day=form.get("start_day", ""),
                        start_half=form.get("start_half", "am"), end_day=form.get("end_day", ""),
                        end_half=form.get("end_half", "pm"), destination=form.get("destination", ""),
                        lines=[ExpenseLine(*row) for row in rows])


def _in_scope(request_id: int) -> OfficeRequest:
    try:
        return scope.get_in_scope(db.session, OfficeRequest, request_id, current_actor())
    except OutOfScope:
        abort(404)


class OfficeRequestView(PermissionView):
    """Everyone signed in writes their own requests; a request's page opens within
    rules/scope.office_request_clause (the submitter, a manager of theirs, its approvers)."""

    permission = SIGNED_IN

    def record_url(self, request_id: int) -> str:
        return url_for("office_request.detail", request_id=request_id)

    @expose("/")
    def index(self) -> Any:
        tab = request.args.get("tab", "mine")
        tab = tab if tab in TABS else "mine"
        kind, status = request.args.get("kind") or None, request.args.get("status") or None
        page = params.page_number(request.args.get("page"))
        stmt = office_requests.listed(current_actor(), mine=tab == "mine", kind=kind, status=status)
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        rows = list(db.session.scalars(stmt.options(selectinload(OfficeRequest.submitter),
                                                    selectinload(OfficeRequest.department),
                                                    selectinload(OfficeRequest.leave_type))
                                       .limit(PAGE_SIZE).offset(page * PAGE_SIZE)))
        return self.render("admin/office_requests/index.html", tab=tab, tabs=TABS, rows=rows, total=total,
                           page=page, pages=max(1, -(-total // PAGE_SIZE)), kind=kind, status=status,
                           **_labels())

    @expose("/new/<kind>/", methods=("GET", "POST"))
    def new(self, kind: str) -> Any:
        if kind not in office_requests.KIND_LABELS:
            abort(404)
        if request.method == "POST":
            return self._save(kind, None)
        return self._form(kind, RequestInput(), None)

    @expose("/<int:request_id>/edit/", methods=("GET", "POST"))
    def edit(self, request_id: int) -> Any:
        found = _in_scope(request_id)
        if not office_requests.may_edit(found, current_actor()):
            return redirect(url_for(".detail", request_id=request_id))
        if request.method == "POST":
            return self._save(found.kind, found)
        return self._form(found.kind, office_requests.as_input(found), found)

    def _save(self, kind: str, found: OfficeRequest | None) -> Any:
        """The form posted: saved (new or changed) and, with 提交审批, submitted, in one
        transaction; a refusal shows the form again as typed."""
        if not CsrfForm(request.form).validate():
            abort(400)
        typed = _typed(request.form)
        sending = request.form.get("action") == "submit"
        actor, at = current_actor(), now()
        saved = found
        with transaction(gettext("已提交审批") if sending else gettext("已保存草稿")) as outcome:
            if found is None:
                saved = office_requests.create(db.session, kind, typed, actor=actor, now=at, tz=_tz())
            else:
                office_requests.update_draft(db.session, found, typed, actor=actor, now=at, tz=_tz(),
                                             seen_version=request.form.get("version"))
            if sending:
                _submitted(office_requests.submit(db.session, saved.id, actor=actor, now=at), outcome)
        if outcome.ok:
            return redirect(url_for(".detail", request_id=saved.id))
        return self._form(kind, typed, _in_scope(found.id) if found is not None else None)

    @expose("/<int:request_id>/submit/", methods=("POST",))
    def submit(self, request_id: int) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        _in_scope(request_id)
        with transaction(gettext("已提交审批")) as outcome:
            _submitted(office_requests.submit(db.session, request_id, actor=current_actor(), now=now()), outcome)
        return redirect(url_for(".detail", request_id=request_id))

    @expose("/details/")
    def details_view(self) -> Any:
        """The address other modules build for a record's page (?id=), as for model views."""
        return redirect(url_for(".detail", request_id=params.int_id(request.args.get("id"))))

    @expose("/<int:request_id>/")
    def detail(self, request_id: int) -> Any:
        found = _in_scope(request_id)
        return self.render("admin/office_requests/detail.html", req=found,
                           doc_type=office_requests.doc_type(found.kind).value,
                           may_edit=office_requests.may_edit(found, current_actor()),
                           period=office_requests.period_text(found), days=office_requests.days_text(found.days),
                           **_labels())

    def _form(self, kind: str, typed: RequestInput, found: OfficeRequest | None) -> Any:
        lines = [line for line in typed.lines if not line.blank()] + [ExpenseLine() for _ in range(BLANK_LINES)]
        return self.render("admin/office_requests/form.html", kind=kind, typed=typed, found=found,
                           lines=lines, heading=NEW_TITLES[kind] if found is None else gettext("修改申请"),
                           leave_types=dictionaries.items(db.session, DictKind.LEAVE_TYPE), **_labels())


def _submitted(req: OfficeRequest, outcome: Any) -> None:
    """A kind whose flow is off is approved at once: say so rather than 已提交审批."""
    if req.status == "approved":
        outcome.done(gettext("该类申请无需审批，已直接通过"))


def _labels() -> dict[str, Any]:
    return {"kind_labels": office_requests.KIND_LABELS, "state_labels": office_requests.STATE_LABELS,
            "half_labels": office_requests.HALF_LABELS, "kind_icons": KIND_ICONS,
            "period_of": office_requests.period_text, "days_of": office_requests.days_text}


def views() -> list[Any]:
    return [OfficeRequestView(name=_l("工作请示"), category=OFFICE, endpoint="office_request",
                              **fa("fa-paper-plane-o"))]
