"""邮件配置: SMTP accounts used in turn; one whose daily quota is used up is skipped."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField
from wtforms.validators import ValidationError

from admin_views.context import local_today
from admin_views.menu import MESSAGING, fa
from admin_views.messaging.common import ManageModelView
from models.messaging import MailAccount


def _quota(view: Any, context: Any, model: MailAccount, name: str) -> str:
    used = model.used_today if model.used_day == local_today() else 0
    return f"{used} / {model.daily_quota}"


class MailAccountView(ManageModelView):
    """邮件配置: SMTP accounts used in turn; one whose daily quota is used up is skipped."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("还没有邮件账户。点“创建”填写 SMTP 服务器、发件地址和每日额度；可以添加多个，额度用完自动换下一个。")
    column_list = ["name", "from_address", "host", "port", "security", "quota", "success_count", "failure_count",
                   "sort_order", "active"]
    column_labels = {"name": _l("名称"), "from_address": _l("发件地址"), "from_name": _l("发件人名称"),
                     "host": _l("SMTP 服务器"), "port": _l("端口"), "security": _l("加密"), "username": _l("用户名"),
                     "password": _l("密码/授权码"), "daily_quota": _l("每日额度"), "quota": _l("今日已用/额度"),
                     "success_count": _l("成功"), "failure_count": _l("失败"), "sort_order": _l("使用顺序"),
                     "active": _l("启用")}
    column_formatters = {"quota": _quota}
    form_columns = ["name", "from_address", "from_name", "host", "port", "security", "username", "password",
                    "daily_quota", "sort_order", "active"]
    form_overrides = {"security": SelectField, "password": PasswordField}
    form_args = {"security": {"choices": [("ssl", "SSL"), ("starttls", "STARTTLS"), ("none", _l("不加密"))],
                              "label": _l("加密")},
                 "password": {"description": _l("留空则保持原密码")}}
    form_widget_args = {"password": {"autocomplete": "new-password"}}

    def on_model_change(self, form: Any, model: MailAccount, is_created: bool) -> None:
        if not is_created and not form.password.data:
            # an empty password field keeps the stored one
            from sqlalchemy import inspect

            history = inspect(model).attrs.password.history
            if history.deleted:
                model.password = history.deleted[0]
        if not model.daily_quota or model.daily_quota < 1:
            raise ValidationError(gettext("每日额度至少为 1"))


def views() -> list[Any]:
    return [MailAccountView(MailAccount, name=_l("邮件配置"), category=MESSAGING, endpoint="mail_account",
                            **fa("fa-at"))]
