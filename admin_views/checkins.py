"""外勤签到 in the panel: a manager's view of a day's check-ins of the team (the phone's list of
the same rule, rules/checkins.of_day), filtered by day, salesperson and department. No map: no map
library that works without the internet can be served from here, so each row gives the
coordinates and the customer's address."""
from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from admin_views import params
from admin_views.base import PermissionView
from admin_views.context import current_actor, local_today
from admin_views.filters import department_options
from admin_views.menu import CUSTOMERS, fa
from models import db
from rules import checkins


class CheckInListView(PermissionView):
    permission = "customer.view"

    @expose("/")
    def index(self) -> Any:
        actor = current_actor()
        day = params.date_param(request.args.get("day"), name=gettext("日期")) or local_today()
        user_id = params.id_or_none(request.args.get("user_id"))
        department_id = params.id_or_none(request.args.get("department_id"))
        rows = db.session.scalars(checkins.of_day(actor, day, current_app.config["TIMEZONE"], user_id=user_id,
                                                  department_id=department_id)).all()
        return self.render("admin/checkins/index.html", rows=rows, day=day, user_id=user_id,
                           department_id=department_id, staff=checkins.team(db.session, actor),
                           departments=department_options(), checkins=checkins)


def views() -> list[BaseView]:
    return [CheckInListView(name=_l("外勤签到"), category=CUSTOMERS, endpoint="checkin",
                            **fa("fa-map-marker"))]
