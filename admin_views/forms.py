"""Form pieces shared by the views: the login form and the grouped permission checkboxes."""
from __future__ import annotations

from typing import Any

from flask_admin.form import SecureForm
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import DateField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from rules.permissions import PERMISSION_GROUPS


# Province → city → district inputs become cascading pickers in the browser
# (static/js/kechi-customer-form.js); the empty choice's text is translated here.
REGION_FIELD_ARGS: dict[str, dict[str, Any]] = {
    "province": {"render_kw": {"data-region": "province", "data-placeholder": _l("— 省份 —")}},
    "city": {"render_kw": {"data-region": "city", "data-placeholder": _l("— 城市 —")}},
    "district": {"render_kw": {"data-region": "district", "data-placeholder": _l("— 区县 —")}},
}


class LoginForm(SecureForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名")), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码"))])
    # Shown (and checked) only after a few failures: rules.auth.standing decides.
    captcha = StringField(_l("验证码"), validators=[Optional(), Length(max=16)])


class GroupedCheckboxWidget:
    """Permissions as checkboxes under their group headings (客户管理, 客户池, ...)."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        chosen = set(field.data or [])
        parts = ["<div class='kechi-permissions'>"]
        for group, perms in PERMISSION_GROUPS:
            parts.append(f"<fieldset class='mb-2'><legend class='h6 mb-1'>{escape(str(group))}</legend>")
            for code, text in perms:
                box_id = f"{field.id}-{code.replace('.', '-')}"
                checked = " checked" if code in chosen else ""
                parts.append(
                    "<div class='form-check form-check-inline'>"
                    f"<input class='form-check-input' type='checkbox' name='{escape(field.name)}' "
                    f"id='{escape(box_id)}' value='{escape(code)}'{checked}>"
                    f"<label class='form-check-label' for='{escape(box_id)}'>{escape(str(text))}</label></div>"
                )
            parts.append("</fieldset>")
        parts.append("</div>")
        # Markup is safe here: every group, code, label and name above passes through escape().
        return Markup("".join(parts))


class PermissionsField(SelectMultipleField):
    widget = GroupedCheckboxWidget()

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        choices = [(code, str(text)) for _g, perms in PERMISSION_GROUPS for code, text in perms]
        super().__init__(label, validators, choices=choices, **kwargs)

    def pre_validate(self, form: Any) -> None:
        # Choices are fixed codes; SelectMultipleField's check would compare lazy labels.
        known = {code for code, _ in self.choices}
        for value in self.data or []:
            if value not in known:
                raise ValidationError(_l("未知权限：%(p)s", p=value))


class CsrfForm(SecureForm):
    """A form with nothing but the CSRF token, for POST buttons such as logout."""


class FollowUpQuickForm(SecureForm):
    """添加联系记录 on the customer page."""

    kind = SelectField(_l("联系方式"), choices=[])
    contact_id = SelectField(_l("联系人"), choices=[], validate_choice=False)
    template_id = SelectField(_l("跟进模板"), choices=[], validate_choice=False)
    content = TextAreaField(_l("联系内容"), validators=[DataRequired(_l("请填写联系内容"))])
    next_contact_at = DateField(_l("下次联系日期"), validators=[Optional()])


class ShareForm(SecureForm):
    user_ids = SelectMultipleField(_l("共享给"), choices=[], validate_choice=False,
                                   validators=[DataRequired(_l("请选择共享给谁"))])
    mode = SelectField(_l("共享方式"), choices=[])
    until = DateField(_l("共享截止日期（可不填）"), validators=[Optional()])


class CommentForm(SecureForm):
    content = TextAreaField(_l("点评内容"), validators=[DataRequired(_l("请填写点评内容"))])
