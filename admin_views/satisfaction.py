"""满意度回访: the ticket page's 回访 box (status, send or resend the SMS link, enter a score after
a call), the 满意度回访 list, and the public one-question page /s/<token> the customer opens from
the SMS without signing in. The decisions are rules/satisfaction.py."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask_admin import expose
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from admin_views import links
from admin_views.base import PermissionView, ScopedModelView, allowed
from admin_views.context import audit_context, current_actor, now
from admin_views.formatters import fmt_datetime
from admin_views.forms import CsrfForm
from admin_views.menu import SERVICE, fa
from admin_views.navigation import back_url
from admin_views.transaction import commit_or_explain, transaction
from models import db
from models.care import SatisfactionSurvey, SurveyChannel
from models.service import Ticket
from rules import care_settings, satisfaction
from rules.audit import INFO_KEY
from rules.errors import RuleViolation
from rules.links import ListKind, RecordLink


def _link(token: str) -> str:
    """The page's address: the configured one (what the jobs use too), else this site's."""
    base = care_settings.load(db.session)["link_base"]
    if base:
        return care_settings.survey_link(base, token)
    return url_for("survey_public.show", token=token, _external=True)


def ticket_url(admin: Any, ticket_id: int) -> str:
    """The ticket's page (the tickets view's own), or the 回访 list where there is none."""
    return links.record_url(admin, RecordLink(ListKind.TICKET, ticket_id)) or url_for("satisfaction_survey.index_view")


def _back(admin: Any, ticket_id: int) -> str:
    return back_url(request.form.get("url"), ticket_url(admin, ticket_id)).split("#")[0] + "#kechi-visit"


class TicketVisitView(PermissionView):
    """The 回访 box's buttons (POST only); the box itself is on the ticket page."""

    permission = satisfaction.PERMISSION

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self) -> Any:
        return redirect(url_for("satisfaction_survey.index_view"))

    @expose("/<int:ticket_id>/send/", methods=["POST"])
    def send_view(self, ticket_id: int) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        commit_or_explain(
            lambda: satisfaction.send_link(db.session, ticket_id, actor=current_actor(), now=now(), link=_link),
            lambda s: gettext("评价短信已排队发送，链接 %(d)s 前有效", d=fmt_datetime(s.expires_at)))
        return redirect(_back(self.admin, ticket_id))

    @expose("/<int:ticket_id>/score/", methods=["POST"])
    def score_view(self, ticket_id: int) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        commit_or_explain(
            lambda: satisfaction.record_by_agent(db.session, ticket_id, score=request.form.get("score"),
                                                 comment=request.form.get("comment"), actor=current_actor(), now=now()),
            lambda s: gettext("已记录满意度 %(s)d 分", s=s.score))
        return redirect(_back(self.admin, ticket_id))


def visit_box(ticket: Ticket) -> dict[str, Any]:
    """The ticket page's 回访 box (a template global), for a ticket the reader already sees."""
    survey = satisfaction.for_ticket(db.session, ticket.id)
    moment = now()
    state = satisfaction.state_of(survey, moment) if survey is not None else None
    done = ticket.status_category in satisfaction.DONE_CATEGORIES
    return {"survey": survey, "state": state, "labels": satisfaction.STATE_LABELS, "css": satisfaction.STATE_CSS,
            "scores": satisfaction.SCORE_LABELS, "done": done, "channel_agent": SurveyChannel.AGENT,
            "answered": satisfaction.SurveyState.ANSWERED,
            "can_handle": done and allowed(satisfaction.PERMISSION) and state is not satisfaction.SurveyState.ANSWERED}


# --- 满意度回访 list ---------------------------------------------------------------------------------

def _score(view: Any, context: Any, model: SatisfactionSurvey, name: str) -> Any:
    if model.score is None:
        return ""
    return Markup('<span class="text-warning text-nowrap" title="{}">{}</span> {}').format(
        satisfaction.SCORE_LABELS[model.score], "★" * model.score + "☆" * (5 - model.score), model.score)


def _state(view: Any, context: Any, model: SatisfactionSurvey, name: str) -> Any:
    state = satisfaction.state_of(model, now())
    return Markup('<span class="badge badge-{}">{}</span>').format(satisfaction.STATE_CSS[state],
                                                                   satisfaction.STATE_LABELS[state])


def _ticket_link(view: Any, context: Any, model: SatisfactionSurvey, name: str) -> Any:
    return Markup('<a href="{}">{}</a>').format(ticket_url(view.admin, model.ticket_id), model.ticket.number)


CHANNEL_LABELS = {SurveyChannel.AGENT.value: _l("客服录入"), SurveyChannel.SMS.value: _l("短信评价")}


class SatisfactionSurveyView(ScopedModelView):
    """满意度回访: every survey of the tickets one sees, newest first; read-only (answers come
    from the ticket page or the customer's link)."""

    permission_view = ("service.view", "care.manage")
    can_view_details = False
    column_list = ("ticket", "customer", "agent", "state", "score", "comment", "channel", "sent_at", "answered_at")
    column_labels = {"ticket": _l("工单"), "customer": _l("客户"), "agent": _l("处理人"), "state": _l("状态"),
                     "score": _l("评分"), "comment": _l("客户评价"), "channel": _l("评价方式"),
                     "sent_at": _l("发送时间"), "answered_at": _l("评价时间"), "ticket.number": _l("工单号"),
                     "customer.name": _l("客户名称")}
    column_formatters = {"ticket": _ticket_link, "state": _state, "score": _score,
                         "channel": lambda v, c, m, n: CHANNEL_LABELS.get(m.channel or "", "")}
    column_default_sort = ("id", True)
    column_sortable_list = ("score", "sent_at", "answered_at")
    list_template = "admin/care/survey_list.html"
    simple_list_pager = True

    column_searchable_list = ["ticket.number", "customer.name"]

    def get_query(self) -> Any:
        return self._narrow(super().get_query().options(
            joinedload(SatisfactionSurvey.ticket), joinedload(SatisfactionSurvey.customer),
            joinedload(SatisfactionSurvey.agent)))

    def get_count_query(self) -> Any:
        return self._narrow(super().get_count_query())

    def _narrow(self, query: Any) -> Any:
        wanted = request.args.get("state")
        if wanted in satisfaction.SurveyState.__members__.values():
            query = query.filter(satisfaction.state_clause(satisfaction.SurveyState(wanted), now()))
        score = request.args.get("score")
        if score in {"1", "2", "3", "4", "5"}:
            query = query.filter(SatisfactionSurvey.score == int(score))
        return query

    def render(self, template: str, **kwargs: Any) -> Any:
        kwargs.update(survey_states=satisfaction.STATE_LABELS, chosen_state=request.args.get("state", ""),
                      chosen_score=request.args.get("score", ""))
        return super().render(template, **kwargs)


# --- the public page --------------------------------------------------------------------------------

bp = Blueprint("survey_public", __name__)


def _private(response: Any) -> Any:
    """The link is the customer's alone: no cache keeps it, no search engine lists it, and the
    token stays out of other sites' logs."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _lang() -> str:
    return "en" if str(get_locale() or "").startswith("en") else "zh-CN"


def _page(name: str, status: int = 200, **context: Any) -> Any:
    html = render_template(f"care/{name}.html", lang=_lang(), scores=satisfaction.SCORE_LABELS,
                           company=_company(), **context)
    return _private(current_app.make_response((html, status)))


def _company() -> str:
    from rules import messaging

    return messaging.load_settings(db.session).get("company_name") or ""


@bp.route("/s/<token>", methods=["GET", "POST"])
def show(token: str) -> Any:
    moment = now()
    opened = satisfaction.open_link(db.session, token, now=moment)
    if opened is None:
        return _page("survey_gone", 404)
    if opened.state is satisfaction.Opened.ANSWERED:
        return _page("survey_done", already=True)
    if opened.state is satisfaction.Opened.EXPIRED:
        return _page("survey_expired", 410)
    if request.method == "GET":
        return _page("survey_public", survey=opened.survey, values={}, error=None)
    if not CsrfForm(request.form).validate():
        return _page("survey_public", 400, survey=opened.survey, values=request.form,
                     error=gettext("页面已过期，请重新提交"))
    try:  # checked before the transaction, so a refusal is said on this page, not flashed
        satisfaction.parse_score(request.form.get("score"))
        satisfaction.check_comment(request.form.get("comment"))
    except RuleViolation as exc:
        return _page("survey_public", 422, survey=opened.survey, values=request.form, error=str(exc))
    db.session.info[INFO_KEY] = audit_context()  # the answer's audit rows name the visitor's address
    result = None
    with transaction() as outcome:
        result = satisfaction.answer(db.session, token, score=request.form.get("score"),
                                     comment=request.form.get("comment"), now=moment)
    if not outcome.ok:
        return _page("survey_public", 422, survey=opened.survey, values=request.form,
                     error=gettext("提交未成功，请稍后再试"))
    if result is None:
        return _page("survey_gone", 404)
    if result.state is satisfaction.Opened.EXPIRED:
        return _page("survey_expired", 410)
    return _page("survey_done", already=not result.took)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(visit_box, "kechi_ticket_visit")


def views() -> list:
    return [TicketVisitView(name=_l("工单回访"), category=SERVICE, endpoint="care_visit"),
            SatisfactionSurveyView(SatisfactionSurvey, name=_l("满意度回访"), category=SERVICE,
                                   endpoint="satisfaction_survey", **fa("fa-smile-o"))]
