"""转化 page: the lead, the customer and primary contact it becomes (pre-filled, correctable) and
the 同时创建销售机会 option. The decision is rules/lead_conversion.convert; a refusal keeps the
form as typed, success lands on the new customer's page."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, request, url_for
from flask_admin import expose
from flask_admin.form import SecureForm
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from admin_views.base import PermissionView
from admin_views.context import current_actor, now
from admin_views.menu import CUSTOMERS, fa
from admin_views.navigation import back_url
from admin_views.transaction import transaction
from models import db
from models.customer import CustomerKind
from models.lead import Lead
from rules import lead_conversion, scope
from rules.errors import NeedsConfirmation, OutOfScope


LEAD_PAGE = "lead.details_view"  # the lead's own page (lead-core), where 转化 is offered


class ConversionForm(SecureForm):
    name = StringField(_l("客户名称"), validators=[DataRequired(_l("请填写客户名称")), Length(max=128)])
    kind = SelectField(_l("客户类型"), choices=[(CustomerKind.COMPANY.value, _l("企业")),
                                                (CustomerKind.PERSON.value, _l("个人"))])
    phone = StringField(_l("电话"), validators=[Length(max=32)])
    mobile = StringField(_l("手机"), validators=[Length(max=32)])
    email = StringField(_l("邮箱"), validators=[Length(max=128)])
    address = StringField(_l("地址"), validators=[Length(max=255)])
    notes = TextAreaField(_l("备注"))
    contact_name = StringField(_l("联系人姓名"), validators=[Length(max=64)])
    contact_position = StringField(_l("职务"), validators=[Length(max=64)])
    contact_mobile = StringField(_l("联系人手机"), validators=[Length(max=32)])
    contact_phone = StringField(_l("联系人电话"), validators=[Length(max=32)])
    contact_email = StringField(_l("联系人邮箱"), validators=[Length(max=128)])
    with_opportunity = BooleanField(_l("同时创建销售机会"))
    opportunity_title = StringField(_l("销售机会名称"), validators=[Length(max=128)])
    opportunity_amount = StringField(_l("预计金额（元）"))
    opportunity_close = DateField(_l("预计成交日期"), validators=[Optional()])
    confirm_duplicates = BooleanField(_l("重复提示已知晓，仍然转化"))


def _prefilled(lead: Lead) -> dict[str, Any]:
    customer, contact = lead_conversion.customer_values(lead), lead_conversion.contact_values(lead)
    return {**{k: customer[k] for k in ("name", "kind", "phone", "mobile", "email", "address", "notes")},
            **{f"contact_{k}": contact[k] for k in ("name", "position", "mobile", "phone", "email")},
            "opportunity_title": customer["name"]}


class LeadConversionView(PermissionView):
    """转化 one lead (in the actor's scope; 404 otherwise)."""

    permission = "lead.convert"

    def is_visible(self) -> bool:
        return False  # opened from a lead, never from the menu

    @expose("/")
    def index(self) -> Any:
        abort(404)

    @expose("/<int:id>/", methods=["GET", "POST"])
    def convert(self, id: int) -> Any:  # noqa: A002 - `id` as the lead page links it (url_for(..., id=))
        lead_id = id
        actor = current_actor()
        try:
            lead = scope.get_in_scope(db.session, Lead, lead_id, actor)
        except OutOfScope:
            abort(404)
        form = ConversionForm(request.form) if request.method == "POST" else ConversionForm(data=_prefilled(lead))
        home = (url_for(LEAD_PAGE, id=lead.id) if LEAD_PAGE in current_app.view_functions
                else url_for("admin.index"))
        back = back_url(request.values.get("back"), home)
        needs_confirmation = False
        if request.method == "POST" and form.validate():
            form_values = form.data
            with transaction() as outcome:
                try:
                    done = lead_conversion.convert(
                        db.session, lead.id, actor=actor, now=now(), tz=current_app.config["TIMEZONE"],
                        confirmed=bool(form.confirm_duplicates.data),
                        customer={k: form_values[k] for k in ("name", "kind", "phone", "mobile", "email",
                                                             "address", "notes")},
                        contact={k: form_values[f"contact_{k}"] for k in ("name", "position", "mobile", "phone",
                                                                        "email")},
                        opportunity={"title": form.opportunity_title.data, "amount": form.opportunity_amount.data,
                                     "expected_close_on": form.opportunity_close.data}
                        if form.with_opportunity.data else None)
                except NeedsConfirmation:
                    needs_confirmation = True
                    raise
                outcome.done(gettext("线索已转化为客户“%(n)s”", n=done.customer.name)
                             + (gettext("，并创建了销售机会“%(t)s”", t=done.opportunity.title)
                                if done.opportunity else ""))
            if outcome.ok:
                return redirect(url_for("customer.details_view", id=done.customer.id))
            lead = db.session.get(Lead, lead_id)
        return self.render("admin/leads/convert.html", lead=lead, form=form, back=back,
                           needs_confirmation=needs_confirmation)


def views() -> list:
    return [LeadConversionView(name=_l("线索转化"), category=CUSTOMERS, endpoint="lead_conversion",
                               url="/admin/lead-conversion", **fa("fa-exchange"))]
