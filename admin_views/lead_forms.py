"""留资表单: the administrator's forms (系统设置) and the public page /f/<key> they publish, where
visitors leave their details without signing in. The decisions are rules/lead_forms.py."""
from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Flask, abort, redirect, render_template, request, session, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange

from admin_views.auth import captcha_png
from admin_views.base import SecureModelView
from admin_views.context import audit_context, client_ip, current_actor, now
from admin_views.forms import CsrfForm
from admin_views.menu import SETTINGS, fa
from admin_views.transaction import commit_bookkeeping, transaction
from models import DictKind, db
from models.lead_form import LeadForm
from rules import dictionaries, lead_forms
from rules.audit import INFO_KEY

FIELD_CHOICES = [("", _l("不显示")), (lead_forms.SHOWN, _l("显示")), (lead_forms.REQUIRED, _l("必填"))]
CAPTCHA_SESSION_KEY = "lead_form_captcha"


def _public_url(form: LeadForm) -> str:
    return url_for("lead_form_public.show", key=form.key, _external=True)


def _address_cell(_view: Any, _context: Any, model: LeadForm, _name: str) -> Markup:
    url = _public_url(model)
    button = Markup(
        "<form method='post' action='{action}' class='d-inline' data-kechi-confirm='{ask}'>"
        "<input type='hidden' name='csrf_token' value='{token}'>"
        "<button class='btn btn-link btn-sm p-0 ml-2' type='submit'>{label}</button></form>").format(
        action=url_for(".regenerate", form_id=model.id), ask=gettext("重新生成后旧地址立即失效，确定吗？"),
        token=CsrfForm().csrf_token.current_token, label=gettext("重新生成地址"))
    return Markup("<a href='{u}' target='_blank' rel='noopener'>{u}</a>").format(u=url) + button


class LeadFormView(SecureModelView):
    """留资表单 settings: which fields the public page asks for, where its leads land."""

    permission_view = permission_create = permission_edit = "settings.manage"  # disabled, never deleted: its leads keep their source
    column_list = ["name", "enabled", "pool", "source", "max_posts_per_ip", "address"]
    column_labels = {"name": _l("表单名称"), "enabled": _l("启用"), "pool": _l("进入线索池"), "source": _l("线索来源"),
                     "title": _l("页面标题"), "intro": _l("页面说明"), "thank_you": _l("提交成功后显示的文字"),
                     "max_posts_per_ip": _l("每个 IP 每 10 分钟最多提交次数"), "address": _l("公开地址")}
    column_formatters = {"address": _address_cell}
    form_columns = ["name", "enabled", "title", "intro", "pool", "source",
                    *(f"field_{k}" for k in lead_forms.FIELDS), "thank_you", "max_posts_per_ip"]
    form_args = {
        "pool": {"label": _l("进入线索池"), "query_factory": lambda: lead_forms.lead_pools(db.session),
                 "allow_blank": False},
        "source": {"label": _l("线索来源"), "query_factory": lambda: dictionaries.items(db.session, DictKind.SOURCE),
                   "allow_blank": True, "blank_text": "—"},
        "thank_you": {"description": _l("留空则显示“提交成功，我们会尽快与您联系。”")},
    }
    form_overrides = {"max_posts_per_ip": IntegerField}
    form_extra_fields = {f"field_{k}": SelectField(label, choices=FIELD_CHOICES, validate_choice=False)
                         for k, label in lead_forms.FIELDS.items()}

    def _with_fields(self, form: Any, obj: LeadForm | None) -> Any:
        form.max_posts_per_ip.validators = [NumberRange(min=1, max=1000)]
        if request.method == "GET":
            chosen = obj.fields if obj is not None else lead_forms.DEFAULT_FIELDS
            for key in lead_forms.FIELDS:
                getattr(form, f"field_{key}").data = chosen.get(key, "")
            if obj is None:
                form.max_posts_per_ip.data = 5
        return form

    def create_form(self, obj: Any = None) -> Any:
        return self._with_fields(super().create_form(obj), None)

    def edit_form(self, obj: Any = None) -> Any:
        return self._with_fields(super().edit_form(obj), obj)

    def apply_rules(self, form: Any, model: LeadForm, is_created: bool) -> None:
        model.fields = {k: getattr(form, f"field_{k}").data for k in lead_forms.FIELDS
                        if getattr(form, f"field_{k}").data}
        model.pool_id = model.pool.id if model.pool is not None else None
        if is_created:
            model.created_by_id = current_actor().user_id
        lead_forms.validate(db.session, model)

    @expose("/<int:form_id>/regenerate/", methods=["POST"])
    def regenerate(self, form_id: int) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        record = db.session.get(LeadForm, form_id) or abort(404)
        with transaction(gettext("已生成新地址，旧地址已失效")):
            lead_forms.regenerate_key(db.session, record)
        return redirect(url_for(".index_view"))


# --- the public page ------------------------------------------------------------------------------

bp = Blueprint("lead_form_public", __name__)


def _captcha() -> str:
    """A fresh CAPTCHA for the page; its id in the visitor's session, its answer in the database."""
    challenge = lead_forms.new_captcha(db.session, now=now())
    commit_bookkeeping()
    session[CAPTCHA_SESSION_KEY] = challenge.id
    return "data:image/png;base64," + base64.b64encode(captcha_png(challenge.answer)).decode("ascii")


def _page(form: LeadForm, *, values: dict, errors: dict, status: int = 200) -> Any:
    return render_template("lead_forms/public.html", form=form, fields=lead_forms.fields_of(form), values=values,
                           errors=errors, captcha_image=_captcha(), honeypot=lead_forms.HONEYPOT), status


@bp.route("/f/<key>", methods=["GET", "POST"])
def show(key: str) -> Any:
    form = lead_forms.open_form(db.session, key)
    if form is None:
        abort(404)
    if request.method == "GET":
        return _page(form, values={}, errors={})
    if not CsrfForm(request.form).validate():
        return _page(form, values=request.form, errors={"_form": gettext("页面已过期，请重新提交")}, status=400)
    db.session.info[INFO_KEY] = audit_context()  # the lead's audit row names the visitor's address
    result = None
    with transaction() as outcome:
        result = lead_forms.submit(db.session, form, request.form.to_dict(), ip=client_ip(), now=now(),
                                   captcha_id=session.pop(CAPTCHA_SESSION_KEY, None))
    if not outcome.ok:  # a flood: refused, nothing written (the reason is flashed)
        return _page(form, values=request.form, errors={}, status=429)
    if not result.ok:
        return _page(form, values=request.form, errors=result.errors, status=422)
    return redirect(url_for(".thanks", key=key))


@bp.route("/f/<key>/thanks")
def thanks(key: str) -> Any:
    form = lead_forms.open_form(db.session, key)
    if form is None:
        abort(404)
    return render_template("lead_forms/thanks.html", form=form)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def views() -> list:
    return [LeadFormView(LeadForm, name=_l("留资表单"), category=SETTINGS, endpoint="lead_form",
                         **fa("fa-wpforms"))]
