"""工作日志设置 (系统设置): which roles must submit a daily log, and from what hour those who have
not are reminded (rules/work_logs.py)."""
from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_admin import expose
from flask_admin.form import SecureForm
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectMultipleField, StringField

from admin_views.base import PermissionView
from admin_views.menu import SETTINGS, fa
from admin_views.transaction import transaction
from models import Role, db
from rules import work_logs


class SettingsForm(SecureForm):
    roles = SelectMultipleField(_l("必须提交日报的角色"), choices=[], coerce=int, validate_choice=False)
    hour = StringField(_l("提醒时间（整点）"))


class WorkLogSettingsView(PermissionView):
    """工作日志设置: which roles must submit a daily log, and from what hour they are reminded."""

    permission = "settings.manage"

    @expose("/", methods=("GET", "POST"))
    def index(self) -> Any:
        form = SettingsForm(request.form)
        form.roles.choices = [(r.id, r.name) for r in db.session.scalars(select(Role).order_by(Role.id))]
        if request.method == "GET":
            form.roles.data = work_logs.must_submit_roles(db.session)
            form.hour.data = str(work_logs.remind_hour(db.session))
        elif form.validate():
            with transaction(gettext("工作日志设置已保存。")) as outcome:
                work_logs.save_settings(db.session, role_ids=list(form.roles.data or []), hour=form.hour.data)
            if outcome.ok:
                return redirect(url_for(".index"))
        return self.render("admin/work_logs/settings.html", form=form)


def views() -> list[Any]:
    return [WorkLogSettingsView(name=_l("工作日志设置"), category=SETTINGS, endpoint="work_log_settings",
                                url="/admin/work_log_settings", **fa("fa-book"))]
