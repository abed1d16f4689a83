"""线索: the lead list (leads owned within the user's scope; pool leads are on the lead pool page),
the lead's page with its follow-ups and history, the form, 跟进 and 标记无效. Decisions are in
rules/leads.py; this module turns requests into calls."""
from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.form import SecureForm
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, ValidationError

from admin_views import pipeline_drill
from admin_views.base import SEARCH_COUNT_CAP, ScopedModelView
from admin_views.context import current_actor, local_today, now
from admin_views.custom_fields import CustomFieldsMixin
from admin_views.customer_columns import dict_choices, dict_filter
from admin_views.customer_labels import FOLLOW_UP_KIND_LABELS, OWNERSHIP_REASONS
from admin_views.filters import IdEqual, LazyOptions, LocalDateBetween
from admin_views.formatters import PHONE_CELLS, day_with_time_on_hover
from admin_views.forms import REGION_FIELD_ARGS
from admin_views.lead_pool import LEAD_ACTION_PERMISSIONS, LeadPoolActionsMixin
from admin_views.menu import CUSTOMERS, fa
from admin_views.navigation import back_url
from admin_views.transaction import transaction
from models import DictKind, Lead, LeadEvent, LeadFollowUp, User, db
from rules import custom_fields, lead_search, leads
from rules.errors import EntryRefused, NeedsConfirmation

LABELS = {
    "name": _l("名称"), "company": _l("公司"), "contact_name": _l("联系人"), "position": _l("职务"),
    "mobile": _l("手机"), "phone": _l("电话"), "email": _l("邮箱"), "wechat": _l("微信"), "source": _l("来源"),
    "industry": _l("行业"), "province": _l("省份"), "city": _l("城市"), "district": _l("区县"),
    "address": _l("地址"), "notes": _l("备注"), "status": _l("状态"), "invalid_reason": _l("无效原因"),
    "owner": _l("负责人"), "department": _l("部门"), "last_follow_up_at": _l("最近跟进"),
    "next_contact_at": _l("下次联系"), "created_at": _l("创建时间"), "customer": _l("转化的客户"),
    "converted_at": _l("转化时间"),
}
EVENT_REASONS = {**{str(k): v for k, v in OWNERSHIP_REASONS.items()}, leads.STATUS_REASON: _l("状态变更")}
COMMON_SEARCH_COUNT_CAP = 200
CONVERT_ENDPOINT = "lead_conversion.convert"  # the 转化 page (admin_views/lead_conversion.py)


class LeadFollowUpForm(SecureForm):
    """跟进 on the lead's page."""

    kind = SelectField(_l("联系方式"), choices=[])
    content = TextAreaField(_l("联系内容"), validators=[DataRequired(_l("请填写联系内容"))])
    next_contact_at = DateField(_l("下次联系日期"), validators=[Optional()])


class InvalidForm(SecureForm):
    reason = StringField(_l("无效原因"), validators=[DataRequired(_l("请填写无效原因"))])


def status_badge(view: Any, context: Any, model: Lead, name: str) -> Markup:
    colours = {"new": "primary", "following": "info", "converted": "success", "invalid": "secondary"}
    return Markup(f'<span class="badge badge-{colours.get(model.status, "light")}">'
                  f'{escape(leads.status_label(model.status))}</span>')


def name_link(view: Any, context: Any, model: Lead, name: str) -> Markup:
    return Markup(f'<a href="{escape(url_for(".details_view", id=model.id))}">{escape(model.name)}</a>')


class LeadView(LeadPoolActionsMixin, CustomFieldsMixin, ScopedModelView):
    permission_view = "lead.view"
    permission_create = "lead.create"
    permission_edit = "lead.edit"
    permission_delete = "lead.edit"
    custom_entity = "lead"
    # 放弃, 指派 and 收回 from the list are the lead pool's moves (admin_views/lead_pool.py).
    action_permissions = LEAD_ACTION_PERMISSIONS

    can_view_details = True
    # Counting a million leads on each page view is what this avoids: the pager says "10000+".
    capped_count = True
    list_template = "admin/leads/list.html"
    details_template = "admin/leads/details.html"
    create_template = "admin/leads/create.html"
    edit_template = "admin/leads/edit.html"
    extra_js = ["/static/js/kechi-customer-form.js"]

    column_list = ["name", "contact_name", "mobile", "source", "status", "owner", "last_follow_up_at", "created_at"]
    column_labels = LABELS
    # Only what an index of leads orders: newest first (ix_leads_created, ix_leads_owner_created).
    column_sortable_list = ["created_at"]
    column_default_sort = [("created_at", True), ("id", True)]
    column_searchable_list = ["name", "mobile"]  # the box itself goes through rules/lead_search.py
    column_formatters = {"name": name_link, "status": status_badge, "last_follow_up_at": day_with_time_on_hover,
                         "created_at": day_with_time_on_hover, **PHONE_CELLS}
    column_filters = [
        FilterEqual(Lead.status, _l("状态"), options=[(k, v) for k, v in leads.STATUS_LABELS.items()]),
        dict_filter(Lead.source_id, DictKind.SOURCE),
        IdEqual(Lead.owner_id, _l("负责人"), options=LazyOptions(lambda: [
            (str(u.id), u.display_name) for u in db.session.scalars(
                select(User).where(User.active.is_(True)).order_by(User.display_name))])),
        LocalDateBetween(Lead.created_at, _l("创建时间")),
    ]
    form_columns = ["name", "company", "contact_name", "position", "mobile", "phone", "email", "wechat", "source",
                    "industry", "province", "city", "district", "address", "next_contact_at", "notes",
                    "confirm_duplicates"]
    form_args = {
        "name": {"label": _l("线索名称"), "description": _l("公司名称或个人姓名")},
        "source": {"query_factory": dict_choices(DictKind.SOURCE), "label": _l("来源"), "blank_text": "—"},
        "industry": {"query_factory": dict_choices(DictKind.INDUSTRY), "label": _l("行业"), "blank_text": "—"},
        **REGION_FIELD_ARGS,
    }
    form_extra_fields = {"confirm_duplicates": BooleanField(_l("重名提示已知晓，仍然保存"))}

    def search_placeholder(self) -> str:
        return gettext("名称、联系人或电话")

    def get_query(self) -> Any:
        # A pipeline report's figure opens the leads it counted (admin_views/pipeline_drill.py).
        return super().get_query().options(joinedload(Lead.owner), joinedload(Lead.source)).filter(
            *pipeline_drill.lead_clauses())

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(*pipeline_drill.lead_clauses())

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str) -> Any:
        found = lead_search.find(db.session, search)
        if found is not None:
            query = query.filter(found.where)
            if count_query is not None:
                count_query = count_query.filter(found.count_where)
            # A common term's page is found at once, but counting its hits far reads them all.
            g.kechi_count_cap = COMMON_SEARCH_COUNT_CAP if found.common else SEARCH_COUNT_CAP
        return query, count_query, joins, count_joins

    # --- saving -------------------------------------------------------------------------------
    def apply_rules(self, form: Any, model: Lead, is_created: bool) -> None:
        actor = current_actor()
        with db.session.no_autoflush:
            self.apply_custom_fields(form, model)
        confirmed = bool(form.confirm_duplicates.data)
        try:
            if is_created:
                leads.enter(db.session, model, actor=actor, now=now(), confirmed=confirmed)
            else:
                leads.update_lead(db.session, model, actor=actor, now=now(), confirmed=confirmed)
        except NeedsConfirmation as exc:
            raise ValidationError(gettext("请确认：%(m)s。如确需保存，请勾选“重名提示已知晓，仍然保存”后再次提交。",
                                          m=str(exc))) from exc
        except EntryRefused as exc:
            raise ValidationError(str(exc)) from exc

    def remove(self, record: Lead) -> None:
        leads.to_bin(db.session, record.id, actor=current_actor(), now=now())

    # --- the lead's page ----------------------------------------------------------------------
    @expose("/details/")
    def details_view(self) -> Any:
        lead = self.get_one(request.args.get("id"))
        return self.render(self.details_template, **self._page_context(lead))

    def _page_context(self, lead: Lead) -> dict[str, Any]:
        actor = current_actor()
        follow_ups = list(db.session.scalars(
            select(LeadFollowUp).where(LeadFollowUp.lead_id == lead.id).options(joinedload(LeadFollowUp.user))
            .order_by(LeadFollowUp.happened_at.desc(), LeadFollowUp.id.desc()).limit(100)))
        history = list(db.session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == lead.id)
            .options(joinedload(LeadEvent.from_user), joinedload(LeadEvent.to_user), joinedload(LeadEvent.actor))
            .order_by(LeadEvent.at.desc(), LeadEvent.id.desc()).limit(100)))
        custom = [(d.label, custom_fields.display(d, (lead.custom or {}).get(d.key)))
                  for d in self.sync_custom_fields()]
        is_open = lead.status in (leads.LeadStatus.NEW, leads.LeadStatus.FOLLOWING)
        can_work = is_open and actor.can("lead.edit")
        return {
            "model": lead, "labels": LABELS, "custom": custom, "follow_ups": follow_ups, "history": history,
            "follow_up_kinds": FOLLOW_UP_KIND_LABELS, "event_reasons": EVENT_REASONS,
            "status_label": leads.status_label, "can_work": can_work,
            "can_edit": self.can_edit and lead.status != leads.LeadStatus.CONVERTED,
            "follow_up_form": self._follow_up_form(), "invalid_form": InvalidForm(),
            "convert_url": url_for(CONVERT_ENDPOINT, id=lead.id) if is_open and actor.can("lead.convert") else None,
            "return_url": back_url(request.values.get("url"), self.get_url(".index_view")),
            "today": local_today(),
        }

    @staticmethod
    def _follow_up_form(formdata: Any = None) -> LeadFollowUpForm:
        form = LeadFollowUpForm(formdata)
        form.kind.choices = list(FOLLOW_UP_KIND_LABELS.items())
        return form

    @expose("/follow-up/", methods=["POST"])
    def add_follow_up(self) -> Any:
        lead = self.get_one(request.args.get("id"))
        self.require("lead.edit")
        form = self._follow_up_form(request.form)
        back = url_for(".details_view", id=lead.id, _anchor="tab-follow-ups")
        if not _valid(form):
            return redirect(back)
        with transaction(gettext("已添加跟进记录")):
            leads.add_follow_up(db.session, lead.id, actor=current_actor(), kind=form.kind.data,
                                content=form.content.data, now=now(), next_contact_at=form.next_contact_at.data)
        return redirect(back)

    @expose("/invalid/", methods=["POST"])
    def mark_invalid(self) -> Any:
        lead = self.get_one(request.args.get("id"))
        self.require("lead.edit")
        form = InvalidForm(request.form)
        back = url_for(".details_view", id=lead.id)
        if not _valid(form):
            return redirect(back)
        with transaction(gettext("已将线索标记为无效")):
            leads.mark_invalid(db.session, lead.id, actor=current_actor(), reason=form.reason.data, now=now())
        return redirect(back)


def _valid(form: SecureForm) -> bool:
    """Validate a small form of the page; what is wrong is flashed."""
    if form.validate():
        return True
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")
    return False


def views() -> list[Any]:
    return [LeadView(Lead, name=_l("线索"), category=CUSTOMERS, endpoint="lead", **fa("fa-lightbulb-o"))]
