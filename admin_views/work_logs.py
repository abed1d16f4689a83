"""工作日志: write a daily / weekly / monthly log (the period's CRM figures shown and saved with
it), the list with search by person, period and keyword, a log's page with its read receipts and
comments (点评) and 未提交 (who in one's scope has no daily log for a day); the administrators'
setting of who must submit is admin_views/work_log_settings.py. Every rule lives in rules/work_logs.py."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.form import SecureForm
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import HiddenField, SelectMultipleField, TextAreaField

from admin_views import params
from admin_views.base import SIGNED_IN, PermissionView
from admin_views.context import current_actor, now
from admin_views.forms import CommentForm
from admin_views.menu import OFFICE, fa
from admin_views.transaction import transaction
from models import User, db
from models.work_log import WorkLog, WorkLogPeriod
from rules import scope, work_logs
from rules.errors import OutOfScope
from rules.work_logs import Draft

PER_PAGE = 20


class WorkLogForm(SecureForm):
    content = TextAreaField(_l("工作内容"), render_kw={"rows": 6, "placeholder": _l("今天（本期）做了什么：拜访、电话、报价、成交……")})
    plan = TextAreaField(_l("下期计划"), render_kw={"rows": 4, "placeholder": _l("明天（下期）打算做什么")})
    problems = TextAreaField(_l("问题与困难"), render_kw={"rows": 3, "placeholder": _l("需要领导或同事帮忙的地方，可不填")})
    recipients = SelectMultipleField(_l("同时发送给"), choices=[], coerce=int, validate_choice=False,
                                     render_kw={"size": 6})
    version = HiddenField()


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def _period(value: Any) -> WorkLogPeriod | None:
    try:
        return WorkLogPeriod(str(value or ""))
    except ValueError:
        return None


def _colleagues() -> list[tuple[int, str]]:
    """Anyone active may be sent a log (the internal address book is everyone's)."""
    rows = db.session.execute(select(User.id, User.display_name)
                              .where(User.active.is_(True), User.id != current_actor().user_id)
                              .order_by(User.display_name))
    return [(r.id, r.display_name) for r in rows]


def _names(user_ids: list[int]) -> str:
    if not user_ids:
        return ""
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all())
    return "、".join(names[i] for i in user_ids if i in names)


def _draft(form: WorkLogForm) -> Draft:
    return Draft(params.clean_text(form.content.data), params.clean_text(form.plan.data),
                 params.clean_text(form.problems.data), tuple(form.recipients.data or ()))


class WorkLogView(PermissionView):
    """Everyone writes their own logs and reads those of people in their scope and those sent
    to them (rules/scope.work_log_clause); outside that → 404."""

    permission = SIGNED_IN

    def record_url(self, log_id: int) -> str:
        """Where a link to one log leads (admin_views/links.record_url)."""
        return url_for(f"{self.endpoint}.detail", log_id=log_id)

    # --- the list ---------------------------------------------------------------------------

    @expose("/")
    def index(self) -> Any:
        actor = current_actor()
        box = request.args.get("box", "all")
        box = box if box in work_logs.BOXES else "all"
        query = work_logs.Query(
            box=box, author_id=params.id_or_none(request.args.get("author")),
            period=_period(request.args.get("period")),
            start=params.date_param(request.args.get("start"), name=gettext("开始日期")),
            end=params.date_param(request.args.get("end"), name=gettext("结束日期")),
            keyword=params.clean_text(request.args.get("q"))[:100] or None,
            unread=request.args.get("unread") == "1")
        number = max(params.page_number(request.args.get("page")), 1)
        rows, more = work_logs.search(db.session, actor, query, page=number, per_page=PER_PAGE)
        args = {k: v for k, v in request.args.items() if k != "page" and v}
        return self.render("admin/work_logs/list.html", rows=rows, more=more, page=number, query=query, args=args,
                           people=work_logs.people_filter(db.session, actor), periods=work_logs.PERIOD_LABELS,
                           period_label=work_logs.period_label, to_read=work_logs.to_read(db.session, actor),
                           filtered=any(k in args for k in ("author", "period", "start", "end", "q", "unread")))

    # --- writing ----------------------------------------------------------------------------

    @expose("/new", methods=("GET", "POST"))
    def create(self) -> Any:
        actor = current_actor()
        period = _period(request.values.get("period")) or WorkLogPeriod.DAILY
        day = params.date_param(request.values.get("day"), name=gettext("日期")) or actor.today
        start, end = work_logs.bounds(period, day)
        found = work_logs.existing(db.session, actor.user_id, period, start)
        if found is not None:
            flash(gettext("这一期的日志已经提交过，可以在这里修改。"), "info")
            return redirect(url_for(".edit", log_id=found.id))
        form = WorkLogForm(request.form)
        form.recipients.choices = _colleagues()
        if request.method == "POST" and form.validate():
            with transaction(gettext("日志已提交。")) as outcome:
                log = work_logs.submit(db.session, actor, period=period, day=day, draft=_draft(form), now=now(),
                                       tz=_tz())
            if outcome.ok:
                return redirect(url_for(".detail", log_id=log.id))
        author = db.session.get(User, actor.user_id)
        return self.render("admin/work_logs/form.html", form=form, log=None, period=period, day=day, start=start,
                           end=end, periods=work_logs.PERIOD_LABELS,
                           figures=work_logs.figure_rows(work_logs.figures(db.session, author, start, end, tz=_tz())),
                           defaults=_names(work_logs.default_recipients(db.session, actor.user_id)))

    @expose("/<int:log_id>/edit", methods=("GET", "POST"))
    def edit(self, log_id: int) -> Any:
        actor = current_actor()
        log = self._own(log_id)
        form = WorkLogForm(request.form, obj=None if request.method == "POST" else log)
        form.recipients.choices = _colleagues()
        defaults = work_logs.default_recipients(db.session, actor.user_id)
        if request.method == "GET":
            form.recipients.data = [r.user_id for r in log.recipients if r.user_id not in defaults]
            form.version.data = log.version
        if request.method == "POST" and form.validate():
            with transaction(gettext("日志已保存。")) as outcome:
                work_logs.edit(db.session, actor, log, draft=_draft(form), version=form.version.data, now=now(),
                               tz=_tz())
            if outcome.ok:
                return redirect(url_for(".detail", log_id=log.id))
            log = self._own(log_id)
        return self.render("admin/work_logs/form.html", form=form, log=log, period=WorkLogPeriod(log.period),
                           day=log.period_start, start=log.period_start, end=log.period_end,
                           periods=work_logs.PERIOD_LABELS, figures=work_logs.figure_rows(log.figures),
                           defaults=_names(defaults))

    def _own(self, log_id: int) -> WorkLog:
        """One's own log; another's (even one the actor may read) is not editable here: 404."""
        actor = current_actor()
        try:
            log = scope.get_in_scope(db.session, WorkLog, log_id, actor)
        except OutOfScope:
            return self._not_found()
        if log.author_id != actor.user_id:
            return self._not_found()
        return log

    def _not_found(self) -> Any:
        abort(404)

    # --- reading and commenting -------------------------------------------------------------

    @expose("/<int:log_id>/")
    def detail(self, log_id: int) -> Any:
        actor = current_actor()
        with transaction():  # opening is reading: the reader's receipt (OutOfScope → 404)
            log = work_logs.open_log(db.session, actor, log_id, now=now())
        return self._detail(log, CommentForm())

    @expose("/<int:log_id>/comment", methods=("POST",))
    def comment(self, log_id: int) -> Any:
        actor = current_actor()
        form = CommentForm(request.form)
        if not form.validate():
            log = self._readable(log_id)
            for errors in form.errors.values():
                for error in errors:
                    flash(str(error), "error")
            return self._detail(log, form)
        with transaction(gettext("点评已发表，作者会收到提醒。")) as outcome:
            work_logs.comment(db.session, actor, log_id, form.content.data, now=now())
        if outcome.ok:
            return redirect(url_for(".detail", log_id=log_id) + "#comments")
        return self._detail(self._readable(log_id), form)

    def _readable(self, log_id: int) -> WorkLog:
        try:
            return scope.get_in_scope(db.session, WorkLog, log_id, current_actor())
        except OutOfScope:
            return self._not_found()

    def _detail(self, log: WorkLog, form: CommentForm) -> Any:
        actor = current_actor()
        return self.render("admin/work_logs/detail.html", log=log, form=form, title=work_logs.period_name(log),
                           figures=work_logs.figure_rows(log.figures), receipts=work_logs.receipts(db.session, log),
                           mine=log.author_id == actor.user_id)

    # --- 未提交 ------------------------------------------------------------------------------

    @expose("/missing")
    def missing(self) -> Any:
        actor = current_actor()
        day = params.date_param(request.args.get("day"), name=gettext("日期")) or work_logs.last_workday(actor.today)
        roles = work_logs.must_submit_roles(db.session)
        rows = work_logs.not_submitted(db.session, actor, day) if roles else []
        return self.render("admin/work_logs/missing.html", rows=rows, day=day, roles_set=bool(roles),
                           can_manage=actor.can("settings.manage"), to_read=work_logs.to_read(db.session, actor))


def views() -> list[Any]:
    return [
        WorkLogView(name=_l("工作日志"), category=OFFICE, endpoint="work_log", url="/admin/work_log",
                    **fa("fa-book")),
    ]
