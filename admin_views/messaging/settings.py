"""短信设置: provider, signature, quiet hours, rates, birthday greetings, callback secret."""
from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin_views import params
from admin_views.base import PermissionView
from admin_views.forms import CsrfForm
from admin_views.menu import MESSAGING, fa
from admin_views.transaction import transaction
from models import db
from models.messaging import MessageTemplate
from rules import messaging
from rules.errors import RuleViolation


class MessagingSettingsView(PermissionView):
    """短信设置: provider, signature, quiet hours, rates, birthday greetings, callback secret."""

    permission = "message.manage"

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        config = messaging.load_settings(db.session)
        if request.method == "POST":
            f = request.form
            values = dict(config)
            provider = {k: f.get(f"provider_{k}", "").strip() for k in (
                "kind", "url", "method", "format", "params", "secret", "sign_field", "sign_method", "success_field",
                "success_value", "id_field", "query_url", "query_params")}
            if not provider["secret"]:
                provider["secret"] = (config.get("provider") or {}).get("secret", "")
            values.update(
                company_name=f.get("company_name", "").strip(), signature=f.get("signature", "").strip(),
                birthday_enabled=bool(f.get("birthday_enabled")), birthday_contacts=bool(f.get("birthday_contacts")),
                messages_count_as_contact=bool(f.get("messages_count_as_contact")),
                birthday_template_id=int(f["birthday_template_id"]) if f.get("birthday_template_id", "").isdigit()
                else None,
                callback_secret=f.get("callback_secret", "").strip() or config["callback_secret"], provider=provider)
            with transaction(gettext("短信邮件设置已保存")) as outcome:
                for key in ("quiet_start", "quiet_end", "per_minute", "per_day", "birthday_hour"):
                    number = params.setting_number(f.get(key))
                    if number is None:
                        raise RuleViolation(_l("请填写整数"))
                    values[key] = number
                if not CsrfForm(f).validate():
                    raise RuleViolation(_l("页面已过期，请重新提交"))
                if provider["kind"] == "http" and not provider["url"].startswith(("http://", "https://")):
                    raise RuleViolation(_l("短信网关地址须以 http:// 或 https:// 开头"))
                messaging.save_settings(db.session, values)
            if outcome.ok:
                return redirect(url_for(".index"))
            config = values
        templates = list(db.session.scalars(select(MessageTemplate).where(MessageTemplate.active.is_(True))
                                            .order_by(MessageTemplate.name)))
        return self.render("admin/messaging/settings.html", cfg=config, provider=config.get("provider") or {},
                           templates=templates, callback_url=url_for("messaging_callback.callback", _external=True))


def views() -> list[Any]:
    return [MessagingSettingsView(name=_l("短信设置"), category=MESSAGING, endpoint="messaging_settings",
                                  url="/admin/messaging_settings", **fa("fa-cog"))]
