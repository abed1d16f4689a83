"""短信/邮件模板 (checked on save, with a live preview and an SMS counter) and 节日问候."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField, TextAreaField
from wtforms.validators import ValidationError

from admin_views.formatters import choice_label
from admin_views.menu import MESSAGING, fa
from admin_views.messaging.common import ManageModelView, short
from models import db
from models.messaging import HolidayGreeting, MessageTemplate
from rules import messaging
from rules.errors import RuleViolation


class MessageTemplateView(ManageModelView):
    """短信模板 / 邮件模板, checked on save; the form shows a live preview and an SMS counter."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("还没有模板。点“创建”写一条短信或邮件模板，可用 {称呼}、{业务员} 等占位符。")
    permission_view = "message.send"
    create_template = "admin/messaging/template_create.html"
    edit_template = "admin/messaging/template_edit.html"
    extra_js = ["/static/js/kechi-messaging.js"]
    column_list = ["channel", "name", "subject", "body", "active"]
    column_labels = {"channel": _l("类型"), "name": _l("模板名称"), "subject": _l("邮件主题"), "body": _l("内容"),
                     "active": _l("启用")}
    column_formatters = {"channel": choice_label(messaging.CHANNEL_LABELS), "body": short("body", 60)}
    column_filters = ["channel", "active"]
    column_searchable_list = ["name", "body"]
    form_columns = ["channel", "name", "subject", "body", "active"]
    form_overrides = {"channel": SelectField, "body": TextAreaField}
    form_args = {"channel": {"choices": list(messaging.CHANNEL_LABELS.items()), "label": _l("类型")},
                 "body": {"label": _l("内容"), "render_kw": {"rows": 8}},
                 "subject": {"label": _l("邮件主题"), "description": _l("仅邮件模板需要")}}

    def on_model_change(self, form: Any, model: MessageTemplate, is_created: bool) -> None:
        try:
            messaging.check_template(db.session, model)
        except RuleViolation as exc:
            raise ValidationError(str(exc)) from exc

    def render(self, template: str, **kwargs: Any) -> Any:
        kwargs.setdefault("placeholders", messaging.allowed_placeholders(db.session))
        return super().render(template, **kwargs)


class HolidayGreetingView(ManageModelView):
    """节日问候: the date each year (春节, 中秋 …), the template, the hour."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("还没有节日问候。点“创建”设置节日日期（如春节、中秋）、模板和发送时间。")
    column_list = ["name", "on_date", "send_hour", "template", "include_contacts", "active"]
    column_labels = {"name": _l("节日"), "on_date": _l("日期"), "send_hour": _l("发送时间（点）"),
                     "template": _l("模板"), "include_contacts": _l("同时发给联系人"), "active": _l("启用")}
    column_default_sort = ("on_date", False)
    column_formatters = {"send_hour": lambda v, c, m, n: f"{m.send_hour:02d}:00"}
    form_columns = ["name", "on_date", "send_hour", "template", "include_contacts", "active"]
    form_args = {"template": {"query_factory": lambda: db.session.scalars(
        select(MessageTemplate).where(MessageTemplate.active.is_(True)).order_by(MessageTemplate.name)),
        "label": _l("模板")}}

    def on_model_change(self, form: Any, model: HolidayGreeting, is_created: bool) -> None:
        if model.template is None:
            raise ValidationError(gettext("请选择模板"))
        if not 0 <= (model.send_hour or 0) <= 23:
            raise ValidationError(gettext("发送时间请填写 0 到 23 之间的整点"))


def views() -> list[Any]:
    return [
        MessageTemplateView(MessageTemplate, name=_l("短信/邮件模板"), category=MESSAGING, endpoint="message_template",
                            **fa("fa-file-text")),
        HolidayGreetingView(HolidayGreeting, name=_l("节日问候"), category=MESSAGING, endpoint="holiday_greeting",
                            **fa("fa-gift")),
    ]
