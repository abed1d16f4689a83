"""客户关怀 under 客户服务: 关怀记录 (list + form; a planned care waits in 待关怀), 待关怀 (upcoming
birthdays of the customers one sees and planned care), and 关怀与回访设置. The decisions are
rules/care.py and rules/care_settings.py; the satisfaction pages are admin_views/satisfaction.py."""
from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectField

from admin_views.base import PermissionView, ScopedModelView, allowed
from admin_views.context import current_actor, local_today, now
from admin_views.filters import LocalDateBetween
from admin_views.formatters import choice_label, fmt_date, fmt_datetime
from admin_views.forms import CsrfForm
from admin_views.loaders import ScopedAjaxModelLoader
from admin_views.menu import SERVICE, fa
from admin_views.transaction import commit_or_explain, transaction
from models import Contact, Customer, MessageTemplate, db
from models.care import CareKind, CareRecord
from models.messaging import Channel
from rules import care, care_settings

CARE = care.PERMISSION


def _nowrap(text: Any) -> Markup:
    return Markup('<span class="text-nowrap">{}</span>').format(text)


class CareRecordView(ScopedModelView):
    """关怀记录: every care of the customers one sees, newest first; a record with a planned day
    and not done is a plan (it shows in 待关怀 until completed)."""

    permission_view = CARE
    permission_create = CARE
    permission_edit = CARE
    permission_delete = CARE
    column_list = ["at", "planned_for", "customer", "contact", "kind", "channel", "content", "by", "done"]
    column_labels = {"at": _l("关怀时间"), "planned_for": _l("计划日期"), "customer": _l("客户"), "contact": _l("联系人"),
                     "kind": _l("关怀类型"), "channel": _l("方式"), "content": _l("关怀内容"), "by": _l("关怀人"),
                     "done": _l("已完成"), "ticket": _l("相关工单"), "customer.name": _l("客户名称")}
    column_formatters = {"kind": choice_label(care.KIND_LABELS),
                         "channel": lambda v, c, m, n: _nowrap(care.CHANNEL_LABELS.get(m.channel, "")),
                         "at": lambda v, c, m, n: _nowrap(fmt_datetime(m.at) if m.at else ""),
                         "planned_for": lambda v, c, m, n: _nowrap(fmt_date(m.planned_for) if m.planned_for else ""),
                         "content": lambda v, c, m, n: (m.content or "")[:80],
                         "by": lambda v, c, m, n: m.by.display_name if m.by else (gettext("系统") if m.done else "")}
    column_default_sort = [("id", True)]
    column_sortable_list = ["at", "planned_for"]
    column_searchable_list = ["content", "customer.name"]
    column_filters = [LocalDateBetween(CareRecord.at, _l("关怀时间"))]
    list_template = "admin/care/record_list.html"
    form_columns = ["customer", "contact", "kind", "channel", "content", "planned_for", "done"]
    form_overrides = {"kind": SelectField, "channel": SelectField}
    form_args = {
        "kind": {"choices": list(care.KIND_LABELS.items()), "label": _l("关怀类型")},
        "channel": {"choices": list(care.CHANNEL_LABELS.items()), "label": _l("方式")},
        "content": {"label": _l("关怀内容"), "description": _l("做了什么、客户怎么说；计划中的关怀可只写要做什么")},
        "planned_for": {"label": _l("计划日期"), "description": _l("留空表示现在已完成；填写日期则进入“待关怀”")},
        "done": {"label": _l("已完成")},
    }
    form_ajax_refs = {
        "customer": ScopedAjaxModelLoader("customer", db, Customer, fields=["name", "code", "mnemonic"], page_size=10,
                                          placeholder=_l("输入客户名称、编号或助记码搜索"), minimum_input_length=1),
        "contact": ScopedAjaxModelLoader("contact", db, Contact, fields=["name", "mobile"], page_size=10,
                                         placeholder=_l("输入联系人姓名或手机搜索"), minimum_input_length=1),
    }

    def get_query(self) -> Any:
        query = super().get_query().options(joinedload(CareRecord.customer), joinedload(CareRecord.contact),
                                            joinedload(CareRecord.by))
        return self._of_customer(query)

    def get_count_query(self) -> Any:
        return self._of_customer(super().get_count_query())

    def _of_customer(self, query: Any) -> Any:
        """?customer_id=: the care of one customer (the customer page's link)."""
        raw = request.args.get("customer_id", "")
        return query.filter(CareRecord.customer_id == int(raw)) if raw.isdigit() and len(raw) < 10 else query

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        if request.method == "GET":  # 记录关怀 from 待关怀 or the customer page: the customer chosen
            raw = request.args.get("customer_id", "")
            kind = request.args.get("kind", "")
            if raw.isdigit() and len(raw) < 10:
                customer = db.session.scalar(select(Customer).where(
                    Customer.id == int(raw), self._customer_scope()))
                if customer is not None:
                    form.customer.data = customer
            if kind in care.KIND_LABELS:
                form.kind.data = kind
        return form

    def _customer_scope(self) -> Any:
        from rules import scope

        return scope.clause_for(Customer, current_actor())

    def apply_rules(self, form: Any, model: CareRecord, is_created: bool) -> None:
        care.check(db.session, model, actor=current_actor(), now=now())


class UpcomingCareView(PermissionView):
    """待关怀: the birthdays of the next days among the customers and contacts one sees, and the
    planned care due by then; each with 记录关怀 (or 完成 for a plan)."""

    permission = CARE

    @expose("/")
    def index(self) -> Any:
        today = local_today()
        rows = care.upcoming(db.session, actor=current_actor(), today=today)
        return self.render("admin/care/upcoming.html", rows=rows, today=today,
                           days=care_settings.load(db.session)["upcoming_days"], kinds=care.KIND_LABELS,
                           birthday=CareKind.BIRTHDAY.value)

    @expose("/<int:record_id>/done/", methods=["POST"])
    def done_view(self, record_id: int) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        commit_or_explain(lambda: care.complete(db.session, record_id, content=request.form.get("content"),
                                                actor=current_actor(), now=now()),
                          lambda _r: gettext("已记录本次关怀"))
        return redirect(url_for(".index"))


class CareSettingsView(PermissionView):
    """关怀与回访设置: the satisfaction link (days, automatic sending, the address it starts
    with) and the scheduled birthday care."""

    permission = CARE

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        values = care_settings.load(db.session)
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            with transaction(gettext("设置已保存")) as outcome:
                care_settings.save(db.session, request.form.to_dict())
            if outcome.ok:
                return redirect(url_for(".index"))
            values = {**values, **request.form.to_dict(),
                      "survey_auto": bool(request.form.get("survey_auto")),
                      "birthday_enabled": bool(request.form.get("birthday_enabled"))}
        templates = db.session.scalars(select(MessageTemplate).where(
            MessageTemplate.active.is_(True), MessageTemplate.channel == Channel.SMS.value).order_by(MessageTemplate.name))
        return self.render("admin/care/settings.html", values=values, templates=list(templates),
                           suggested_base=request.url_root)


def customer_care(customer: Customer) -> dict[str, Any] | None:
    """The customer page's 客户关怀 box (a template global): the last care of a customer the
    reader already sees, for those who keep care records; None hides the box."""
    if not allowed(CARE):
        return None
    rows = db.session.scalars(select(CareRecord).where(CareRecord.customer_id == customer.id)
                              .options(joinedload(CareRecord.by), joinedload(CareRecord.contact))
                              .order_by(CareRecord.done, CareRecord.id.desc()).limit(5))
    return {"rows": list(rows), "kinds": care.KIND_LABELS, "channels": care.CHANNEL_LABELS}


def init_app(app: Any) -> None:
    app.add_template_global(customer_care, "kechi_customer_care")


def views() -> list:
    return [CareRecordView(CareRecord, name=_l("关怀记录"), category=SERVICE, endpoint="care_record",
                           **fa("fa-heart-o")),
            UpcomingCareView(name=_l("待关怀"), category=SERVICE, endpoint="care_upcoming", **fa("fa-birthday-cake")),
            CareSettingsView(name=_l("关怀与回访设置"), category=SERVICE, endpoint="care_settings", **fa("fa-sliders"))]
