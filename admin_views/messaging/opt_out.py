"""拒收: the 拒收名单 (customers, contacts and numbers never messaged), the page that marks or
clears the customers or contacts chosen in a list (served under 发送短信/邮件's URL), and the 拒收
mark on the customer page."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.validators import ValidationError

from admin_views.base import SecureModelView
from admin_views.context import current_actor, now
from admin_views.forms import CsrfForm
from admin_views.menu import MESSAGING, fa
from admin_views.messaging.common import customer_link, ids_from
from admin_views.transaction import transaction
from models import Contact, Customer, db
from models.messaging import OptOut
from rules import i18n, messaging, scope


class OptOutPageMixin:
    """/admin/message_send/optout/: a mixin of the send page (SendView), whose URL it keeps."""

    @expose("/optout/", methods=["GET", "POST"])
    def optout_view(self) -> Any:
        """拒收: mark the chosen customers (all their numbers and addresses) or contacts, or undo it."""
        actor = current_actor()
        editable = scope.customer_edit_clause(actor)
        wanted, wanted_contacts = ids_from(request.values.get("ids")), ids_from(request.values.get("contact_ids"))
        ok = scope.ids_in_scope(db.session, Customer, wanted, actor, editable)
        ok_contacts = scope.ids_in_scope(db.session, Contact, wanted_contacts, actor,
                                         Contact.customer_id.in_(select(Customer.id).where(editable)))
        if not (wanted or wanted_contacts) or len(ok) != len(wanted) or len(ok_contacts) != len(wanted_contacts):
            abort(404)
        records = list(db.session.scalars(select(Customer).where(Customer.id.in_(ok)).order_by(Customer.id)))
        contacts = list(db.session.scalars(select(Contact).where(Contact.id.in_(ok_contacts)).order_by(Contact.id)))
        back = url_for("contact.index_view") if contacts and not records else url_for("customer.index_view")
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
            else:
                with transaction() as outcome:
                    if request.form.get("mark") == "1":
                        n = messaging.mark_opt_out(db.session, customer_ids=ok, contact_ids=ok_contacts,
                                                   reason=request.form.get("reason") or None,
                                                   actor_id=actor.user_id, now=now())
                        outcome.done(gettext("已标记 %(n)d 项拒收，今后不会再给他们发短信或邮件", n=n))
                    else:
                        n = messaging.clear_opt_out(db.session, customer_ids=ok, contact_ids=ok_contacts)
                        outcome.done(gettext("已恢复 %(n)d 项接收短信和邮件", n=n))
                if outcome.ok:
                    return redirect(back)
        marked = set(db.session.scalars(select(OptOut.customer_id).where(OptOut.customer_id.in_(ok),
                                                                           OptOut.contact_id.is_(None))))
        marked_contacts = set(db.session.scalars(select(OptOut.contact_id).where(OptOut.contact_id.in_(ok_contacts))))
        return self.render("admin/messaging/optout.html", records=records, marked=marked, contacts=contacts,
                           marked_contacts=marked_contacts, back=back,
                           ids=",".join(str(i) for i in ok), contact_ids=",".join(str(i) for i in ok_contacts))


class OptOutView(SecureModelView):
    """拒收名单: customers, contacts and numbers that are never messaged."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("没有拒收的客户。客户回复“TD”或“退订”会自动加入；也可以在客户列表勾选客户后标记拒收。")
    permission_view = permission_create = permission_delete = "message.manage"
    form_columns = ["address", "reason"]
    column_list = ["customer", "contact", "address", "reason", "created_at", "created_by"]
    column_labels = {"customer": _l("客户"), "contact": _l("联系人"), "address": _l("号码/邮箱"), "reason": _l("原因"),
                     "created_at": _l("时间"), "created_by": _l("操作人")}
    column_formatters = {"customer": customer_link,
                         "reason": lambda view, context, model, name: i18n.shown(model.reason)}
    column_searchable_list = ["address"]
    column_default_sort = ("created_at", True)
    form_args = {"address": {"label": _l("手机号或邮箱")}, "reason": {"label": _l("原因")}}

    def on_model_change(self, form: Any, model: OptOut, is_created: bool) -> None:
        raw = (model.address or "").strip()
        model.address = messaging.normalize_address("email" if "@" in raw else "sms", raw)
        if not model.address:
            raise ValidationError(gettext("请填写手机号或邮箱"))
        model.created_by_id = current_user.id
        model.created_at = now()


def views() -> list[Any]:
    return [OptOutView(OptOut, name=_l("拒收名单"), category=MESSAGING, endpoint="opt_out", **fa("fa-ban"))]


def init_app(app: Any) -> None:
    """For the customer page: its 拒收 mark."""
    @app.context_processor
    def opt_out_globals() -> dict:
        def opted_out(customer_id: int) -> bool:
            return db.session.scalar(select(OptOut.id).where(OptOut.customer_id == customer_id,
                                                             OptOut.contact_id.is_(None)).limit(1)) is not None

        return {"kechi_opted_out": opted_out}
