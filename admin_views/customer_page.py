"""The customer's own page (客户360): details, timeline, shares, ownership history, the print
version, and a follow-up written from the page. A mixin of CustomerView (admin_views/customers.py),
so its URLs stay under /admin/customer/."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from admin_views.context import current_actor, local_today, now
from admin_views.customer_columns import editable_ids
from admin_views.customer_labels import (
    FOLLOW_UP_KIND_LABELS, GENDER_LABELS, KIND_LABELS, LABELS, OWNERSHIP_REASONS, SHARE_MODE_LABELS,
    TIMELINE_KIND_LABELS,
)
from admin_views.forms import CsrfForm, FollowUpQuickForm, ShareForm
from admin_views.navigation import back_url
from admin_views.transaction import transaction
from models import Contact, Customer, CustomerShare, FollowUp, FollowUpTemplate, OwnershipEvent, User, db
from rules import contact_identity, custom_fields, customers, followups, recycle, scope
from rules.errors import OutOfScope


class CustomerPageMixin:
    """Needs the view's get_one, render, can_edit and sync_custom_fields (CustomFieldsMixin)."""

    @expose("/details/")
    def details_view(self) -> Any:
        customer = self.get_one(request.args.get("id"))
        return self.render(self.details_template, **self._page_context(customer))

    @expose("/print/")
    def print_view(self) -> Any:
        customer = self.get_one(request.args.get("id"))
        return self.render("admin/customers/print.html", printed_at=now(), **self._page_context(customer))

    def _page_context(self, customer: Customer) -> dict[str, Any]:
        actor = current_actor()
        can_edit = bool(editable_ids([customer.id])) and self.can_edit
        can_contribute = scope.may_contribute(db.session, actor, customer.id)
        timeline = list(db.session.scalars(
            select(FollowUp).where(FollowUp.customer_id == customer.id)
            .options(joinedload(FollowUp.user), joinedload(FollowUp.contact), selectinload(FollowUp.comments))
            .order_by(FollowUp.happened_at.desc(), FollowUp.id.desc()).limit(100)))
        shares = list(db.session.scalars(
            select(CustomerShare).where(CustomerShare.customer_id == customer.id, CustomerShare.revoked_at.is_(None))
            .options(joinedload(CustomerShare.user)).order_by(CustomerShare.id)))
        history = list(db.session.scalars(
            select(OwnershipEvent).where(OwnershipEvent.customer_id == customer.id)
            .options(joinedload(OwnershipEvent.from_user), joinedload(OwnershipEvent.to_user),
                     joinedload(OwnershipEvent.actor)).order_by(OwnershipEvent.at.desc())))
        custom = [(d.label, custom_fields.display(d, (customer.custom or {}).get(d.key)))
                  for d in self.sync_custom_fields()]
        return {
            "model": customer, "labels": LABELS, "custom": custom, "kind_labels": KIND_LABELS, "gender_labels": GENDER_LABELS,
            "follow_up_kinds": TIMELINE_KIND_LABELS, "share_modes": SHARE_MODE_LABELS,
            "ownership_reasons": OWNERSHIP_REASONS, "timeline": timeline, "shares": shares, "history": history,
            "recycle_rules": recycle.RULE_LABELS,
            "can_edit": can_edit, "can_contribute": can_contribute,
            "can_share": can_edit and actor.can("customer.share"),
            "can_set_primary": can_contribute and actor.can("customer.edit"),
            "follow_up_form": self._follow_up_form(customer), "share_form": self._share_form(),
            "return_url": back_url(request.values.get("url"), self.get_url(".index_view")),
            "today": local_today(),
            # 身份证号 whole only to those who may edit the contact (personal data)
            "contact_identity": {c.id: contact_identity.describe(c, today=local_today(), whole_number=can_edit)
                                 for c in customer.contacts},
        }

    def _follow_up_form(self, customer: Customer, formdata: Any = None) -> FollowUpQuickForm:
        form = FollowUpQuickForm(formdata)
        form.kind.choices = list(FOLLOW_UP_KIND_LABELS.items())
        form.contact_id.choices = [("", "—")] + [(str(c.id), c.name) for c in customer.contacts]
        form.template_id.choices = [("", "—")] + [
            (str(t.id), t.name) for t in db.session.scalars(
                select(FollowUpTemplate).where(FollowUpTemplate.active.is_(True)).order_by(FollowUpTemplate.name))]
        return form

    def _share_form(self, formdata: Any = None) -> ShareForm:
        form = ShareForm(formdata)
        form.mode.choices = list(SHARE_MODE_LABELS.items())
        form.user_ids.choices = [(str(u.id), f"{u.display_name}（{u.department.name if u.department else ''}）")
                                 for u in db.session.scalars(select(User).where(User.active.is_(True))
                                                             .options(joinedload(User.department))
                                                             .order_by(User.display_name))]
        return form

    @expose("/primary-contact/", methods=["POST"])
    def set_primary_contact(self) -> Any:
        """设为首要联系人 on a contact row of the page: the contacts list's action, for one."""
        self.require("customer.edit")
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return redirect(self.get_url(".index_view"))
        actor = current_actor()
        with transaction() as outcome:  # a contact outside the user's scope answers 404
            contact = scope.get_in_scope(db.session, Contact, request.form.get("contact_id"), actor,
                                         scope.contact_write_clause(actor))
            customers.make_primary(db.session, [contact])
            outcome.done(gettext("已将“%(name)s”设为首要联系人", name=contact.name))
        return redirect(url_for(".details_view", id=contact.customer_id, _anchor="tab-contacts"))

    @expose("/follow-up/", methods=["POST"])
    def add_follow_up(self) -> Any:
        actor = current_actor()
        try:
            customer = scope.get_in_scope(db.session, Customer, request.args.get("id"), actor,
                                          scope.customer_contribute_clause(actor))
        except OutOfScope:
            abort(404)
        form = self._follow_up_form(customer, request.form)
        back = url_for(".details_view", id=customer.id, _anchor="tab-timeline")
        if not form.validate():
            for errors in form.errors.values():
                for error in errors:
                    flash(str(error), "error")
            return redirect(back)
        template = db.session.get(FollowUpTemplate, int(form.template_id.data)) if form.template_id.data else None
        contact = next((c for c in customer.contacts if str(c.id) == form.contact_id.data), None)
        with transaction(gettext("已添加联系记录")):
            followups.record(db.session, FollowUp(
                customer_id=customer.id, contact_id=contact.id if contact else None, kind=form.kind.data,
                content=form.content.data, next_contact_at=form.next_contact_at.data,
                template_id=template.id if template else None), actor=actor, now=now(), today=local_today())
        return redirect(back)
