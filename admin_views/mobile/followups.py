"""写跟进 and 下次联系 on the phone: the same rule as the admin's (rules/followups.record), a
photo from the camera as an attachment of the follow-up (rules/attachments, its size and type
limits), and the position when the salesperson allows it."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import HiddenField

from admin_views import params
from admin_views.context import current_actor, local_today, now
from admin_views.customer_labels import FOLLOW_UP_KIND_LABELS
from admin_views.forms import CsrfForm, FollowUpQuickForm
from admin_views.mobile.base import MobileView, photo_context
from admin_views.transaction import transaction
from models import Contact, Customer, FollowUp, db
from models.attachment import AttachmentEntity
from rules import attachments, followups, scope
from rules.errors import OutOfScope



class MobileFollowUpForm(FollowUpQuickForm):
    """The customer page's quick form, with the position the page's script reads."""

    latitude = HiddenField()
    longitude = HiddenField()
    accuracy = HiddenField()


def _customer(customer_id: int) -> Customer:
    """A customer the actor may add follow-ups to (owned in scope, or shared to collaborate)."""
    actor = current_actor()
    try:
        return scope.get_in_scope(db.session, Customer, customer_id, actor, scope.customer_contribute_clause(actor))
    except OutOfScope:
        abort(404)


def _form(customer: Customer, formdata: Any = None) -> MobileFollowUpForm:
    form = MobileFollowUpForm(formdata)
    form.kind.choices = list(FOLLOW_UP_KIND_LABELS.items())
    form.contact_id.choices = [("", "—")] + [
        (str(c.id), c.name) for c in db.session.scalars(select(Contact).where(Contact.customer_id == customer.id)
                                                        .order_by(Contact.is_primary.desc(), Contact.id))]
    return form


class FollowUpsView(MobileView):
    permission = "customer.view"  # as the admin's 联系记录 entry (admin_views/followups.py)
    mobile_url = "/followups"
    tab = "m_customers.index"

    @expose("/")
    def index(self) -> Any:
        """A follow-up is written for a customer: the customer is found first."""
        return redirect(url_for("m_customers.index"))

    @expose("/new/<int:customer_id>/", methods=("GET", "POST"))
    def new(self, customer_id: int) -> Any:
        customer = _customer(customer_id)
        try:
            posted = request.method == "POST"
            form = _form(customer, request.form if posted else None)
            photo = request.files.get("photo") if posted else None
        except RequestEntityTooLarge:
            flash(gettext("照片太大，没有上传；请重新填写并选择较小的照片"), "error")
            return self._page(customer, _form(customer), status=413)
        if not posted:
            form.kind.data = form.kind.data or "visit"
            return self._page(customer, form)
        if not form.validate():
            for errors in form.errors.values():
                for error in errors:
                    flash(str(error), "error")
            return self._page(customer, form, photo_lost=bool(photo and photo.filename))
        actor, at = current_actor(), now()
        place = followups.location(form.latitude.data, form.longitude.data, form.accuracy.data)
        contact_id = next((int(v) for v, _ in form.contact_id.choices if v and v == form.contact_id.data), None)
        with transaction() as outcome:
            record = followups.record(db.session, FollowUp(
                customer_id=customer.id, contact_id=contact_id, kind=form.kind.data, content=form.content.data,
                next_contact_at=form.next_contact_at.data,
                latitude=place.latitude if place else None, longitude=place.longitude if place else None,
                location_accuracy=place.accuracy if place else None), actor=actor, now=at, today=local_today())
            if photo and photo.filename:
                attachments.upload(db.session, entity=AttachmentEntity.FOLLOW_UP, record_id=record.id,
                                   files=[(photo.stream, photo.filename)], actor=actor, now=at,
                                   root=current_app.config["FILES_DIR"])
            outcome.done(gettext("已添加联系记录") if place else gettext("已添加联系记录（未记录位置）"))
        if outcome.ok:
            return redirect(url_for("m_customers.detail", customer_id=customer.id))
        return self._page(customer, form, photo_lost=bool(photo and photo.filename))

    def _page(self, customer: Customer, form: MobileFollowUpForm, *, photo_lost: bool = False,
              status: int = 200) -> Any:
        if photo_lost:
            flash(gettext("照片没有保存，请重新选择照片"), "warning")
        return self.render("mobile/followup_new.html", title=_l("写跟进"),
                           back=url_for("m_customers.detail", customer_id=customer.id),
                           customer=customer, form=form, today=local_today(), **photo_context()), status

    @expose("/next-contact/<int:customer_id>/", methods=("POST",))
    def next_contact(self, customer_id: int) -> Any:
        """下次联系 from the 360 page: a past or malformed date is refused with the reason."""
        customer = _customer(customer_id)
        back = url_for("m_customers.detail", customer_id=customer.id)
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return redirect(back)
        try:
            day = params.date_param(request.form.get("date"), name=gettext("下次联系日期"))
        except params.BadParameter as exc:
            flash(str(exc.description), "error")
            return redirect(back)
        with transaction(gettext("下次联系日期已设为 %(d)s", d=day.isoformat() if day else "")):
            followups.set_next_contact(db.session, customer, day, now=now(), today=local_today())
        return redirect(back)


def views() -> list[BaseView]:
    return [FollowUpsView(_l("写跟进"), endpoint="m_followups")]
