"""销售自动化方案 (SFA: a plan of SMS to the customer or reminders to the salesperson every N
days) and 执行中的方案 (which customers follow which plan: start, pause, resume, stop)."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectField
from wtforms.validators import ValidationError

from admin_views import params
from admin_views.base import ScopedModelView
from admin_views.context import current_actor, local_today
from admin_views.formatters import choice_label
from admin_views.forms import CsrfForm
from admin_views.menu import MESSAGING, fa
from admin_views.messaging.common import ManageModelView, customer_link, ids_from
from admin_views.transaction import transaction
from models import Customer, db
from models.messaging import Channel, MessageTemplate, SfaEnrollment, SfaPlan
from rules import scope, sfa
from rules.errors import RuleViolation


class SfaPlanView(ManageModelView):
    """销售自动化方案."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("还没有方案。点“创建”设置间隔天数，以及给客户发短信还是提醒业务员。")
    column_list = ["name", "action", "interval_days", "template", "remind_text", "active"]
    column_labels = {"name": _l("方案名称"), "action": _l("动作"), "interval_days": _l("间隔天数"),
                     "template": _l("短信模板"), "remind_text": _l("提醒内容"), "active": _l("启用")}
    column_formatters = {"action": choice_label(sfa.ACTIONS)}
    form_columns = ["name", "action", "interval_days", "template", "remind_text", "active"]
    form_overrides = {"action": SelectField}
    form_args = {"action": {"choices": list(sfa.ACTIONS.items()), "label": _l("动作")},
                 "template": {"query_factory": lambda: db.session.scalars(
                     select(MessageTemplate).where(MessageTemplate.active.is_(True),
                                                   MessageTemplate.channel == Channel.SMS)
                     .order_by(MessageTemplate.name)), "label": _l("短信模板")}}

    def on_model_change(self, form: Any, model: SfaPlan, is_created: bool) -> None:
        try:
            sfa.check_plan(model)
        except RuleViolation as exc:
            raise ValidationError(str(exc)) from exc


class SfaEnrollmentView(ScopedModelView):
    """执行中的方案 of customers in scope (rules/scope.sfa_enrollment_clause): pause, resume, stop;
    start for a batch."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("还没有客户在执行方案。在客户列表勾选客户后选择“启动自动化方案”。")
    permission_view = "message.send"
    column_list = ["customer", "plan", "next_run_on", "runs", "paused", "started_by", "created_at"]
    column_labels = {"customer": _l("客户"), "plan": _l("方案"), "next_run_on": _l("下次执行"), "runs": _l("已执行次数"),
                     "paused": _l("已暂停"), "started_by": _l("启动人"), "created_at": _l("启动时间")}
    column_formatters = {"customer": customer_link}
    column_default_sort = ("next_run_on", False)
    action_permissions = {"pause": "message.send", "resume": "message.send", "stop": "message.send"}

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(SfaEnrollment.customer), joinedload(SfaEnrollment.plan))

    @action("pause", _l("暂停"))
    def action_pause(self, ids: list[str]) -> None:
        with transaction() as outcome:
            n = sfa.set_paused(db.session, self.scoped_batch(ids), paused=True, today=local_today())
            outcome.done(gettext("已暂停 %(n)d 项", n=n))

    @action("resume", _l("恢复"))
    def action_resume(self, ids: list[str]) -> None:
        with transaction() as outcome:
            n = sfa.set_paused(db.session, self.scoped_batch(ids), paused=False, today=local_today())
            outcome.done(gettext("已恢复 %(n)d 项", n=n))

    @action("stop", _l("停止"), _l("停止后这些客户不再执行该方案，确定吗？"))
    def action_stop(self, ids: list[str]) -> None:
        records = self.scoped_batch(ids)
        with transaction(gettext("已停止 %(n)d 项", n=len(records))):
            for record in records:
                db.session.delete(record)

    @expose("/start/", methods=["GET", "POST"])
    def start_view(self) -> Any:
        """Start a plan for the customers chosen in the list (?ids=1,2,3)."""
        actor = current_actor()
        wanted = ids_from(request.values.get("ids"))
        visible = scope.ids_in_scope(db.session, Customer, wanted, actor)
        if not wanted or len(visible) != len(wanted):
            abort(404)
        # A customer shared with the user is visible but not his to automate: left out, and said so.
        ok = scope.ids_in_scope(db.session, Customer, visible, actor, scope.customer_edit_clause(actor))
        skipped = list(db.session.scalars(select(Customer.name).where(Customer.id.in_(set(visible) - set(ok)))
                                          .order_by(Customer.id)))
        records = list(db.session.scalars(select(Customer).where(Customer.id.in_(ok)).order_by(Customer.id)))
        plans = list(db.session.scalars(select(SfaPlan).where(SfaPlan.active.is_(True)).order_by(SfaPlan.name)))
        start_on = request.form.get("start_on") or local_today().isoformat()
        if request.method == "POST":
            plan_id = params.id_or_none(request.form.get("plan_id"))
            plan = db.session.get(SfaPlan, plan_id) if plan_id else None
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
            elif plan is None:
                flash(gettext("请选择方案"), "error")
            else:
                try:
                    first_day = params.date_param(start_on, name=gettext("开始日期")) or local_today()
                except params.BadParameter as exc:
                    flash(str(exc.description), "error")
                else:
                    with transaction() as outcome:
                        n = sfa.enroll(db.session, plan, records, actor=actor, today=local_today(), start_on=first_day)
                        outcome.done(gettext("已为 %(n)d 位客户启动“%(p)s”", n=n, p=plan.name))
                    if outcome.ok:
                        return redirect(url_for(".index_view"))
        return self.render("admin/messaging/sfa_start.html", records=records, skipped=skipped, plans=plans,
                           start_on=start_on,
                           ids=",".join(str(i) for i in ok), chosen=request.form.get("plan_id", ""))


def views() -> list[Any]:
    return [
        SfaPlanView(SfaPlan, name=_l("销售自动化方案"), category=MESSAGING, endpoint="sfa_plan", **fa("fa-magic")),
        SfaEnrollmentView(SfaEnrollment, name=_l("执行中的方案"), category=MESSAGING, endpoint="sfa_enrollment",
                          **fa("fa-play-circle")),
    ]
