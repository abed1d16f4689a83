"""提醒设置 (endpoint "notification_settings"): each user's own choices of which reminders pop up
and which are also texted, how many days ahead reminders start (提醒信息弹屏天数) and their
do-not-disturb hours. Rules: rules/notification_settings.py."""
from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from admin_views.base import SIGNED_IN, PermissionView
from admin_views.context import current_actor, now
from admin_views.forms import CsrfForm
from admin_views.menu import OFFICE, fa
from admin_views.transaction import transaction
from models import User, db
from rules import notification_settings as rules


def _time(value: Any) -> str:
    return value.strftime("%H:%M") if value is not None else ""


class NotificationSettingsView(PermissionView):
    permission = SIGNED_IN  # everyone's own settings; nobody edits another's

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        user_id = current_actor().user_id
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
                return redirect(url_for(".index"))
            typed = {"popup_kinds": request.form.getlist("popup"), "sms_kinds": request.form.getlist("sms"),
                     "days_ahead": request.form.get("days_ahead", ""),
                     "quiet_start": request.form.get("quiet_start", ""),
                     "quiet_end": request.form.get("quiet_end", "")}
            with transaction(gettext("提醒设置已保存")) as outcome:
                rules.save(db.session, user_id, now=now(), **typed)
            if outcome.ok:
                return redirect(url_for(".index"))
            return self._page({**typed, "popup_kinds": set(typed["popup_kinds"]), "sms_kinds": set(typed["sms_kinds"])})
        choices = rules.settings_for(db.session, user_id)
        return self._page({"popup_kinds": choices.popup_kinds, "sms_kinds": choices.sms_kinds,
                           "days_ahead": choices.days_ahead, "quiet_start": _time(choices.quiet_start),
                           "quiet_end": _time(choices.quiet_end)})

    def _page(self, form: dict[str, Any]) -> Any:
        mobile = db.session.get(User, current_actor().user_id).mobile
        return self.render("admin/notifications/settings.html", form=form, kinds=rules.KIND_LABELS,
                           mobile=mobile, max_days=rules.MAX_DAYS_AHEAD, tz=current_app.config["TIMEZONE"])


def views() -> list[Any]:
    return [NotificationSettingsView(name=_l("提醒设置"), category=OFFICE, endpoint="notification_settings",
                                     **fa("fa-sliders"))]
