"""联系记录: mine / my team's / all in scope, with 点评 from supervisors."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectField
from wtforms.validators import ValidationError

from admin_views.base import ScopedModelView
from admin_views.context import current_actor, now
from admin_views.customer_labels import FOLLOW_UP_KIND_LABELS
from admin_views.filters import IdEqual, LazyOptions, LocalDateBetween, StaffInDepartment
from admin_views.formatters import choice_label, fmt_location
from admin_views.forms import CommentForm
from admin_views.links import drill
from admin_views.loaders import ScopedAjaxModelLoader
from admin_views.menu import CUSTOMERS, fa
from admin_views.transaction import transaction
from models import Customer, FollowUp, FollowUpTemplate, User, db
from rules import followups, scope
from rules.clock import local_date
from rules.errors import OutOfScope
from rules.links import DrillFilter as F

WHO = {"mine": _l("我的"), "team": _l("我下属的"), "all": _l("全部")}


def _content_cell(view: Any, context: Any, model: FollowUp, name: str) -> Markup | str:
    """内容, and below it where it was written when the phone gave the location."""
    text = (model.content or "")[:80]
    place = fmt_location(model)
    if not place:
        return text
    # Markup is safe here: both values pass through escape().
    return Markup(f"{escape(text)}<div class='small text-muted'>{escape(place)}</div>")


class ContributableCustomerLoader(ScopedAjaxModelLoader):
    """Only customers the user may add follow-ups to (owned in scope or shared to collaborate)."""

    def get_query(self) -> Any:
        return db.session.query(Customer).filter(scope.customer_contribute_clause(current_actor()))


class FollowUpView(ScopedModelView):
    permission_view = "customer.view"
    permission_create = "customer.view"
    permission_export = "customer.export"
    export_entity = "follow_up"
    can_view_details = True
    list_template = "admin/followups/list.html"
    details_template = "admin/followups/details.html"
    # Millions of follow-ups: "10000+" instead of reading every visible row on each page view.
    capped_count = True
    column_list = ["happened_at", "customer", "kind", "content", "user", "next_contact_at"]
    column_details_list = ["happened_at", "customer", "contact", "kind", "content", "user", "next_contact_at",
                           "template"]
    column_labels = {"happened_at": _l("联系时间"), "customer": _l("客户"), "contact": _l("联系人"), "kind": _l("方式"),
                     "content": _l("内容"), "user": _l("业务员"), "next_contact_at": _l("下次联系"),
                     "template": _l("跟进模板"), "customer.name": _l("客户名称")}
    column_default_sort = [("happened_at", True), ("id", True)]
    column_searchable_list = ["content", "customer.name"]
    column_formatters = {"kind": choice_label(FOLLOW_UP_KIND_LABELS), "content": _content_cell}
    column_filters = [
        drill(F.HAPPENED_ON, LocalDateBetween(FollowUp.happened_at, _l("联系时间"))),
        drill(F.OWNER, IdEqual(FollowUp.user_id, _l("业务员"), options=LazyOptions(lambda: [
            (str(u.id), u.display_name) for u in db.session.scalars(select(User).order_by(User.display_name))]))),
        drill(F.OWNER_DEPARTMENT_TREE, StaffInDepartment(FollowUp.user_id, _l("业务员部门"))),
        drill(F.OWNER_DEPARTMENT_ONLY, StaffInDepartment(FollowUp.user_id, _l("业务员部门"), subtree=False)),
    ]
    form_columns = ["customer", "kind", "content", "next_contact_at", "template"]
    form_overrides = {"kind": SelectField}
    form_args = {
        "kind": {"choices": list(FOLLOW_UP_KIND_LABELS.items()), "label": _l("联系方式")},
        "template": {"query_factory": lambda: db.session.scalars(
            select(FollowUpTemplate).where(FollowUpTemplate.active.is_(True)).order_by(FollowUpTemplate.name)),
                     "render_kw": {"data-confirm": _l("用模板内容替换已填写的内容吗？")}},
    }
    form_ajax_refs = {"customer": ContributableCustomerLoader("customer", db, Customer, fields=["name", "code"],
                                                              page_size=10, minimum_input_length=1,
                                                              placeholder=_l("输入客户名称或编号搜索"))}
    extra_js = ["/static/js/kechi-followup.js"]

    def get_query(self) -> Any:
        query = super().get_query().options(joinedload(FollowUp.customer), joinedload(FollowUp.user))
        return self._who(query)

    def get_count_query(self) -> Any:
        return self._who(super().get_count_query())

    def _who(self, query: Any) -> Any:
        """Messages stay on the customer's timeline only: this list is the follow-ups the
        reports count, so a drill-down lands on as many rows as its figure says."""
        query = query.filter(followups.COUNTED)
        actor = current_actor()
        who = request.args.get("who", "all")
        if who == "mine":
            return query.filter(FollowUp.user_id == actor.user_id)
        if who == "team":
            team = select(User.id).where(User.report_path.startswith(actor.report_path), User.id != actor.user_id)
            return query.filter(FollowUp.user_id.in_(team))
        return query

    def render(self, template: str, **kwargs: Any) -> Any:
        kwargs.setdefault("who_tabs", WHO)
        kwargs.setdefault("who", request.args.get("who", "all"))
        return super().render(template, **kwargs)

    def apply_rules(self, form: Any, model: FollowUp, is_created: bool) -> None:
        if not is_created:
            raise ValidationError(gettext("联系记录保存后不能修改，可以添加新的记录"))
        actor = current_actor()
        followups.record(db.session, model, actor=actor, now=now(),
                         today=local_date(now(), current_app.config["TIMEZONE"]))

    @expose("/details/")
    def details_view(self) -> Any:
        record = self.get_one(request.args.get("id"))
        return self.render(self.details_template, model=record, form=CommentForm(),
                           can_comment=current_actor().can("followup.comment"),
                           kinds=FOLLOW_UP_KIND_LABELS, location=fmt_location(record), return_url=url_for(".index_view"))

    @expose("/comment/", methods=["POST"])
    def comment_view(self) -> Any:
        actor = current_actor()
        if not actor.can("followup.comment"):
            abort(403)
        try:
            record = scope.get_in_scope(db.session, FollowUp, request.args.get("id"), actor)
        except OutOfScope:
            abort(404)
        form = CommentForm(request.form)
        if form.validate():
            with transaction(gettext("点评已发送，业务员会收到提醒")):
                followups.comment(db.session, record, actor=actor, content=form.content.data, now=now())
        else:
            flash(gettext("请填写点评内容"), "error")
        return redirect(url_for(".details_view", id=record.id))

    @expose("/templates.json")
    def templates_json(self) -> Any:
        rows = db.session.scalars(select(FollowUpTemplate).where(FollowUpTemplate.active.is_(True)))
        return jsonify({str(t.id): {"content": t.content, "kind": t.kind} for t in rows})


def views() -> list[Any]:
    return [FollowUpView(FollowUp, name=_l("联系记录"), category=CUSTOMERS, endpoint="follow_up", **fa("fa-phone"))]
