"""联系人: every contact of the customers the user may see, with their custom fields."""
from __future__ import annotations

from typing import Any

from flask import Response, flash, g, redirect, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy.orm import joinedload
from wtforms import SelectField
from wtforms.validators import NumberRange, Optional, ValidationError

from admin_views.base import ScopedModelView
from admin_views.custom_fields import CustomFieldsMixin
from admin_views.context import local_today
from admin_views.customer_labels import BIRTHDAY_CALENDAR_LABELS, CONTACT_LABELS, GENDER_LABELS
from admin_views.formatters import PHONE_CELLS
from admin_views.followups import ContributableCustomerLoader
from admin_views.menu import CUSTOMERS, fa
from admin_views.transaction import transaction
from models import BirthdayCalendar, Contact, Customer, db
from rules import contact_identity, customers, id_numbers, qr
from rules.errors import RuleViolation


def _customer_link(view: Any, context: Any, model: Contact, name: str) -> Markup:
    from flask import url_for

    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(url_for('customer.details_view', id=model.customer_id))}'>"
                  f"{escape(model.customer.name)}</a>")


def _masked_id_number(view: Any, context: Any, model: Contact, name: str) -> str:
    # Personal data: a list shows the region and the last four only; the customer's page shows
    # the whole number to those who may edit the contact.
    return id_numbers.mask(model.id_number)


def _id_number_for_reader(view: Any, context: Any, model: Contact, name: str) -> str:
    return model.id_number or "" if view.can_edit else id_numbers.mask(model.id_number)


class ContactView(CustomFieldsMixin, ScopedModelView):
    custom_entity = "contact"
    list_template = "admin/contacts/list.html"
    capped_count = True  # "10000+": a million contacts are not counted on each page view
    permission_view = "customer.view"
    permission_create = permission_edit = permission_delete = "customer.edit"
    permission_export = "customer.export"
    export_entity = "contact"
    column_list = ["name", "customer", "is_primary", "position", "mobile", "phone", "email", "id_number"]
    # The contact's page: its card, 手机归属地 and 名片二维码 (a vCard to scan into a phone).
    can_view_details = True
    details_template = "admin/contacts/details.html"
    column_details_list = ["name", "customer", "is_primary", "position", "gender", "mobile", "phone", "email", "qq",
                           "wechat", "birthday", "id_number", "notes"]
    column_labels = {**CONTACT_LABELS, "customer": _l("客户"), "customer.name": _l("客户名称")}
    column_export_list = ["name", "customer", "is_primary", "position", "mobile", "phone", "email", "qq", "wechat",
                          "birthday"]
    column_searchable_list = ["name", "mobile", "phone", "customer.name"]
    column_formatters = {"customer": _customer_link, "id_number": _masked_id_number, **PHONE_CELLS}
    column_formatters_detail = {"customer": _customer_link, "id_number": _id_number_for_reader, **PHONE_CELLS}
    column_formatters_export = {}
    column_filters: list[Any] = []
    column_default_sort = ("id", True)
    form_columns = ["customer", "name", "position", "id_number", "gender", "mobile", "phone", "email", "qq", "wechat",
                    "birthday", "lunar_birth_month", "lunar_birth_day", "lunar_birth_leap", "birthday_calendar",
                    "notes"]
    form_overrides = {"gender": SelectField, "birthday_calendar": SelectField}
    form_args = {
        "gender": {"choices": [("", "—")] + list(GENDER_LABELS.items()),
                   "description": _l("留空则按身份证号填写")},
        # Tidied before the column's length check: "110105 19491231 002X" as typed is 18 characters.
        "id_number": {"description": _l("18位；填写后校验，生日和性别为空时按身份证填写；15位旧号码自动升级为18位"),
                      "filters": [lambda value: id_numbers.tidy(value) or None]},
        "birthday": {"description": _l("留空则按身份证号填写")},
        "birthday_calendar": {"choices": list(BIRTHDAY_CALENDAR_LABELS.items()),
                              "default": BirthdayCalendar.SOLAR.value},
        "lunar_birth_month": {"validators": [Optional(), NumberRange(1, 12, message=_l("农历月份应为 1 到 12"))],
                              "description": _l("1–12（正月为 1，腊月为 12）")},
        "lunar_birth_day": {"validators": [Optional(),
                                           NumberRange(1, 30, message=_l("农历日期应为 1 到 30（农历每月最多三十天）"))],
                            "description": _l("1–30；三十日在小月按二十九日祝福")},
        "lunar_birth_leap": {"description": _l("闰月生日在没有该闰月的年份按平月的同一天祝福")},
    }
    form_ajax_refs = {"customer": ContributableCustomerLoader("customer", db, Customer, fields=["name", "code"],
                                                              page_size=10, minimum_input_length=1,
                                                              placeholder=_l("输入客户名称或编号搜索"))}

    action_permissions = {"send_message": "message.send", "opt_out": "message.send", "set_primary": "customer.edit"}

    @action("set_primary", _l("设为首要联系人"))
    def action_set_primary(self, ids: list[str]) -> None:
        chosen = self.scoped_batch(ids)
        with transaction() as outcome:
            n = customers.make_primary(db.session, chosen)
            outcome.done(gettext("已将 %(n)d 位联系人设为首要联系人", n=n))

    # 短信中心 (admin_views/messaging/) re-checks the ids against the scope on its own pages.
    @action("send_message", _l("发短信/发邮件"))
    def action_send_message(self, ids: list[str]) -> Any:
        return redirect(url_for("message_send.index", contact_ids=",".join(ids)))

    @action("opt_out", _l("拒收设置"))
    def action_opt_out(self, ids: list[str]) -> Any:
        return redirect(url_for("message_send.optout_view", contact_ids=",".join(ids)))

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Contact.customer))

    # Both load the contact through the scoped get_one: a contact the reader may not see is 404.
    @expose("/<int:contact_id>/card.png")
    def card_qr_view(self, contact_id: int) -> Response:
        contact = self.get_one(contact_id)
        return Response(qr.png(qr.contact_vcard(contact)), mimetype=qr.PNG_TYPE,
                        headers={"Cache-Control": "private, no-store"})

    @expose("/<int:contact_id>/card.vcf")
    def card_vcf_view(self, contact_id: int) -> Response:
        contact = self.get_one(contact_id)
        return Response(qr.contact_vcard(contact), content_type=qr.VCARD_TYPE, headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f"attachment; filename=contact-{contact.id}.vcf"})

    def apply_rules(self, form: Any, model: Contact, is_created: bool) -> None:
        self.apply_custom_fields(form, model)
        if not (model.name or "").strip():
            raise ValidationError(str(_l("请填写联系人姓名")))
        if model.customer is None:
            raise ValidationError(str(_l("请选择客户")))
        model.gender = model.gender or None
        try:
            customers.validate_contact(db.session, model)
            g.kechi_contact_warnings = contact_identity.apply(model, today=local_today())
        except RuleViolation as exc:
            raise ValidationError(str(exc)) from exc
        db.session.flush()
        customer = db.session.get(Customer, model.customer_id)
        try:
            customers.arrange_primary(db.session, customer)
            customers.reindex(db.session, customer)
        except RuleViolation as exc:
            raise ValidationError(str(exc)) from exc

    def after_model_change(self, form: Any, model: Contact, is_created: bool) -> None:
        for warning in g.pop("kechi_contact_warnings", []):
            flash(warning, "warning")


def views() -> list[Any]:
    return [ContactView(Contact, name=_l("联系人"), category=CUSTOMERS, endpoint="contact", **fa("fa-id-card-o"))]
