"""外勤签到 in the panel: a manager's view of a day's check-ins of the team (the phone's list of
the same rule, rules/checkins.of_day), filtered by day, salesperson and department. No map: no map
library that works without the internet can be served from here, so each row gives the
coordinates and the customer's address."""
from __future__ import annotations

import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

from adapters import spreadsheet
from flask import current_app, request, send_file
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from admin_views import params
from admin_views.base import PermissionView, allowed
from admin_views.context import audit_context, current_actor, local_today
from admin_views.filters import department_options
from admin_views.menu import CUSTOMERS, fa
from admin_views.transaction import commit_bookkeeping
from models import db
from rules import audit, checkins, exporting

EXPORT = "customer.export"


class CheckInListView(PermissionView):
    permission = "customer.view"

    def _chosen(self) -> tuple[Any, int | None, int | None, list[Any]]:
        """The day (today by default), salesperson and department asked for, and those rows."""
        day = params.date_param(request.args.get("day"), name=gettext("日期")) or local_today()
        user_id = params.id_or_none(request.args.get("user_id"))
        department_id = params.id_or_none(request.args.get("department_id"))
        rows = db.session.scalars(checkins.of_day(current_actor(), day, current_app.config["TIMEZONE"],
                                                  user_id=user_id, department_id=department_id)).all()
        return day, user_id, department_id, list(rows)

    @expose("/")
    def index(self) -> Any:
        day, user_id, department_id, rows = self._chosen()
        return self.render("admin/checkins/index.html", rows=rows, day=day, user_id=user_id,
                           department_id=department_id, staff=checkins.team(db.session, current_actor()),
                           departments=department_options(), checkins=checkins,
                           can_export=allowed(EXPORT))

    @expose("/export")
    def export(self) -> Any:
        """导出Excel of exactly the rows the page shows (a day of a team: small, so at once)."""
        self.require(EXPORT)
        day, _user_id, _department_id, rows = self._chosen()
        columns = checkins.export_columns()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "checkins.xlsx"
            spreadsheet.write_table(path, gettext("外勤签到"), *exporting.table(
                columns, checkins.export_rows(rows, current_app.config["TIMEZONE"])),
                formats=exporting.number_formats(columns))
            data = path.read_bytes()
        audit.record(db.session, ctx=audit_context(), action="export", entity="CheckIn",
                     details={"rows": len(rows), "day": day.isoformat()})
        commit_bookkeeping()
        return send_file(BytesIO(data), as_attachment=True, download_name=f"{gettext('外勤签到')}-{day.isoformat()}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def views() -> list[BaseView]:
    return [CheckInListView(name=_l("外勤签到"), category=CUSTOMERS, endpoint="checkin",
                            **fa("fa-map-marker"))]
