"""外勤签到 on the phone: check in at a customer with the browser's position (or, when the browser
gives none, save the visit as a 拜访 follow-up only), and the day's check-ins: one's own, and a
manager's team's. Every decision is rules/checkins.py."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from admin_views import params
from admin_views.context import current_actor, local_today, now
from admin_views.forms import CsrfForm
from admin_views.mobile.base import URL_PREFIX, MobileView, photo_context
from admin_views.transaction import transaction
from models import Contact, db
from rules import checkins
from rules.errors import OutOfScope

VISIT_ONLY = "visit_only"


def _customer(customer_id: int) -> Any:
    try:
        return checkins.customer_for(db.session, current_actor(), customer_id)
    except OutOfScope:
        abort(404)


def _photo() -> Any:
    upload = request.files.get("photo")
    return (upload.stream, upload.filename) if upload is not None and upload.filename else None


class CheckInView(MobileView):
    """Its list is its own address, /m/checkins/; the form sits beside the customer's page, at
    /m/customers/<id>/check-in, so the blueprint's routes hang from /m."""

    permission = "customer.view"
    mobile_url = "/checkins"
    tab = "m_customers.index"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Flask-Admin wants a page exposed at "/"; the default view only names the menu entry,
        # which a mobile page never has.
        self._default_view = "index"
        super().__init__(*args, **kwargs)

    def create_blueprint(self, admin: Any) -> Any:
        blueprint = super().create_blueprint(admin)
        blueprint.url_prefix = URL_PREFIX  # routes are added when the blueprint is registered
        return blueprint

    @expose("/customers/<int:customer_id>/check-in", methods=("GET", "POST"))
    def new(self, customer_id: int) -> Any:
        customer = _customer(customer_id)
        typed: dict[str, Any] = {}
        no_location = False
        try:
            posted = request.method == "POST" and request.form is not None
        except RequestEntityTooLarge:  # past even an attachment's limit: the body was never read
            flash(gettext("照片太大，没有上传；请重新填写并选择较小的照片"), "error")
            posted = False
        if posted:
            typed = {key: request.form.get(key, "") for key in ("latitude", "longitude", "accuracy", "note",
                                                                 "contact_id")}
            visit_only = request.form.get("action") == VISIT_ONLY
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
            else:
                saved = self._save(customer, typed, visit_only=visit_only)
                if saved:
                    return redirect(url_for("m_customers.detail", customer_id=customer.id))
            no_location = not visit_only and not (typed["latitude"] and typed["longitude"])
        contacts = db.session.scalars(select(Contact).where(Contact.customer_id == customer.id)
                                      .order_by(Contact.is_primary.desc(), Contact.id)).all()
        return self.render("mobile/checkin_new.html", title=_l("外勤签到"), customer=customer,
                           address=checkins.address_of(customer), contacts=contacts, typed=typed,
                           no_location=no_location, visit_only=VISIT_ONLY, poor_limit=checkins.POOR_ACCURACY,
                           back=url_for("m_customers.detail", customer_id=customer.id), **photo_context())

    def _save(self, customer: Any, typed: dict[str, Any], *, visit_only: bool) -> bool:
        actor, moment = current_actor(), now()
        common = {"note": typed["note"], "contact_id": typed["contact_id"] or None, "photo": _photo(), "now": moment,
                  "today": local_today(), "root": current_app.config["FILES_DIR"]}
        if visit_only:
            with transaction(gettext("拜访记录已保存（未签到）")) as outcome:
                checkins.visit_without_location(db.session, actor, customer, **common)
            return outcome.ok
        with transaction() as outcome:
            made = checkins.check_in(db.session, actor, customer, latitude=typed["latitude"],
                                     longitude=typed["longitude"], accuracy=typed["accuracy"], **common)
            outcome.done(gettext("签到成功：%(c)s（%(a)s）", c=customer.name, a=checkins.accuracy_text(made.accuracy)))
        return outcome.ok

    @expose("/checkins/")
    def index(self) -> Any:
        actor = current_actor()
        day = params.date_param(request.args.get("day"), name=gettext("日期")) or local_today()
        tz = current_app.config["TIMEZONE"]
        mine = db.session.scalars(checkins.of_day(actor, day, tz, user_id=actor.user_id)).all()
        team, staff, chosen = None, [], None
        if checkins.sees_team(actor):
            staff = checkins.team(db.session, actor)
            chosen = params.id_or_none(request.args.get("user_id"))
            team = db.session.scalars(checkins.of_day(actor, day, tz, user_id=chosen)).all()
        return self.render("mobile/checkins.html", title=_l("外勤签到"), day=day, mine=mine, team=team, staff=staff,
                           chosen=chosen, checkins=checkins, mobile_tab="m_me.index")


def views() -> list[BaseView]:
    return [CheckInView(_l("外勤签到"), endpoint="m_checkins")]
