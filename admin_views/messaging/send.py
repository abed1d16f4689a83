"""发送短信/邮件: pick recipients (the customers or contacts chosen in a list, the list's current
search, a region, a category or everyone in scope), write or pick a template with a live preview,
confirm, and follow the batch's progress."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from admin_views import params
from admin_views.base import PermissionView
from admin_views.context import current_actor, now
from admin_views.formatters import fmt_datetime
from admin_views.forms import CsrfForm
from admin_views.menu import MESSAGING, fa
from admin_views.messaging.common import enqueue_or_explain, ids_from
from admin_views.messaging.opt_out import OptOutPageMixin
from admin_views.transaction import transaction
from jobs import messaging as message_jobs
from models import Contact, Customer, DictKind, db
from models.messaging import Channel, MessageBatch, MessageTemplate
from rules import dictionaries, messaging, regions, scope
from rules.errors import RuleViolation

AUDIENCES = {"selected": _l("所选客户"), "filter": _l("列表当前的搜索和筛选结果"), "region": _l("按地区"),
             "category": _l("按客户分类"), "all": _l("我能看到的全部客户")}
MAX_RECIPIENTS = 50_000


class SendView(OptOutPageMixin, PermissionView):
    """发送短信/邮件: ?ids=1,2,3 (customers chosen in the list), ?contact_ids=… (contacts), or a
    region, a category, or everyone the user may see; now or at a chosen time."""

    permission = "message.send"
    extra_js = ["/static/js/kechi-messaging.js"]

    LIST_ARGS = ("flt", "search", "sort", "desc")

    def _list_args(self) -> str:
        """The customer or contact list's own search and filters, carried in the URL."""
        from urllib.parse import urlencode

        pairs = [(k, v) for k, v in request.args.items(multi=True) if k.startswith(self.LIST_ARGS)]
        if request.args.get("list") == "contact":
            pairs.append(("list", "contact"))
        return urlencode(pairs)

    def _inputs(self) -> dict[str, Any]:
        v = request.form if request.method == "POST" else request.args
        has_filter = any(k.startswith(("flt", "search")) for k in request.args)
        default = "selected" if (v.get("ids") or v.get("contact_ids")) else ("filter" if has_filter else "all")
        audience = v.get("audience") or default
        if audience == "filter" and not has_filter:
            audience = "all"
        return {
            "list_args": self._list_args(), "list": "contact" if request.args.get("list") == "contact" else "customer",
            "channel": v.get("channel") if v.get("channel") in messaging.CHANNEL_LABELS else "sms",
            "ids": ",".join(str(i) for i in ids_from(v.get("ids"))),
            "contact_ids": ",".join(str(i) for i in ids_from(v.get("contact_ids"))),
            "audience": audience if audience in AUDIENCES else "all",
            "province": v.get("province", ""), "category_id": v.get("category_id", ""),
            "include_contacts": bool(v.get("include_contacts")),
            "template_id": v.get("template_id", ""), "subject": v.get("subject", ""), "body": v.get("body", ""),
            "send_at": v.get("send_at", ""),
        }

    def _selection(self, form: dict[str, Any]) -> tuple[list[Customer], list[Contact]]:
        """Every path goes through the data scope; a forged id outside it refuses the send."""
        actor = current_actor()
        if form["audience"] == "selected":
            wanted, wanted_contacts = ids_from(form["ids"]), ids_from(form["contact_ids"])
            ok = scope.ids_in_scope(db.session, Customer, wanted, actor)
            ok_contacts = scope.ids_in_scope(db.session, Contact, wanted_contacts, actor)
            if len(ok) != len(wanted) or len(ok_contacts) != len(wanted_contacts):
                abort(404)
            customers = list(db.session.scalars(select(Customer).where(Customer.id.in_(ok))
                                                 .options(selectinload(Customer.contacts)).order_by(Customer.id)))
            contacts = list(db.session.scalars(select(Contact).where(Contact.id.in_(ok_contacts))
                                                .options(joinedload(Contact.customer)).order_by(Contact.id)))
            return customers, contacts
        if form["audience"] == "filter":
            return self._filtered(form["list"])
        stmt = select(Customer).where(scope.customer_clause(actor))
        if form["audience"] == "region":
            stmt = stmt.where(Customer.province == form["province"])
        elif form["audience"] == "category":
            stmt = stmt.where(Customer.category_id == (params.id_or_none(form["category_id"]) or -1))
        return list(db.session.scalars(stmt.options(selectinload(Customer.contacts)).order_by(Customer.id)
                                       .limit(MAX_RECIPIENTS + 1))), []

    def _filtered(self, entity: str) -> tuple[list[Customer], list[Contact]]:
        """Everything the customer (or contact) list shows for its search and filters: the
        registered list view's own scoped query, not a copy of it."""
        from flask_admin.contrib.sqla import ModelView

        view = next(v for v in self.admin._views if getattr(v, "endpoint", None) == entity)
        args = view._get_list_extra_args()
        _count, query = ModelView.get_list(view, None, None, False, args.search, args.filters, execute=False,
                                           page_size=0)
        model = Contact if entity == "contact" else Customer
        ids = [row[0] for row in query.with_entities(model.id).limit(MAX_RECIPIENTS + 1)]
        if entity == "contact":
            return [], list(db.session.scalars(select(Contact).where(Contact.id.in_(ids))
                                               .options(joinedload(Contact.customer)).order_by(Contact.id)))
        return list(db.session.scalars(select(Customer).where(Customer.id.in_(ids))
                                       .options(selectinload(Customer.contacts)).order_by(Customer.id))), []

    def _send_at(self, form: dict[str, Any]) -> datetime | None:
        if not form["send_at"]:
            return None
        try:
            local = datetime.fromisoformat(form["send_at"])
        except ValueError:
            raise RuleViolation(_l("定时发送的时间格式不对")) from None
        if not params.MIN_YEAR <= local.year <= params.MAX_YEAR:  # year 1 or 9999 overflows in the conversion
            raise RuleViolation(_l("定时发送的时间格式不对"))
        moment = local.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"])).astimezone(ZoneInfo("UTC"))
        if moment < now() - timedelta(minutes=1):
            raise RuleViolation(_l("定时发送的时间已经过去"))
        return moment

    def _check(self, form: dict[str, Any], count: int = 0) -> None:
        if count > MAX_RECIPIENTS:
            raise RuleViolation(_l("一次最多发给 %(n)d 位，请按地区、分类或筛选条件缩小范围", n=MAX_RECIPIENTS))
        if not form["body"].strip():
            raise RuleViolation(_l("请填写内容或选择模板"))
        if form["channel"] == Channel.EMAIL and not form["subject"].strip():
            raise RuleViolation(_l("请填写邮件主题"))
        messaging.check_text(db.session, form["body"], form["subject"])
        if form["audience"] == "selected" and not (form["ids"] or form["contact_ids"]):
            raise RuleViolation(_l("没有选择客户：请在客户列表勾选，或改为按地区/分类发送"))
        if form["audience"] == "region" and not form["province"]:
            raise RuleViolation(_l("请选择省份"))
        if form["audience"] == "category" and not form["category_id"]:
            raise RuleViolation(_l("请选择客户分类"))

    def _page(self, form: dict[str, Any], **extra: Any) -> Any:
        templates = list(db.session.scalars(select(MessageTemplate).where(MessageTemplate.active.is_(True))
                                            .order_by(MessageTemplate.channel, MessageTemplate.name)))
        return self.render("admin/messaging/send.html", form=form, templates=templates, audiences=AUDIENCES,
                           provinces=list(regions.tree()),
                           categories=dictionaries.items(db.session, DictKind.CATEGORY),
                           placeholders=messaging.allowed_placeholders(db.session),
                           channels=messaging.CHANNEL_LABELS, skip_labels=messaging.SKIP_REASONS,
                           cfg=messaging.load_settings(db.session), **extra)

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        form = self._inputs()
        if request.method == "GET":
            selection: list[Any] = []
            if form["audience"] in ("selected", "filter"):
                customers, contacts = self._selection(form)  # refuses a forged id before showing anything
                selection = (customers or contacts)[:50]
                form["count"] = len(customers) + len(contacts)
            return self._page(form, step="form", selection=selection)
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return self._page(form, step="form", selection=[])
        customers, contacts = self._selection(form)
        if request.form.get("step") == "edit":
            form["count"] = len(customers) + len(contacts)
            return self._page(form, step="form", selection=(customers or contacts)[:50])
        try:
            self._check(form, len(customers) + len(contacts))
            send_at = self._send_at(form)
        except RuleViolation as exc:
            flash(str(exc), "error")
            form["count"] = len(customers) + len(contacts)
            return self._page(form, step="form", selection=(customers or contacts)[:50])
        recipients = messaging.collect(db.session, customers, channel=form["channel"],
                                       include_contacts=form["include_contacts"],
                                       contacts=contacts if form["audience"] in ("selected", "filter") else None)
        if request.form.get("step") != "confirm":
            return self._confirm(form, recipients, send_at)
        if not recipients.send:
            flash(gettext("没有可以发送的收件人"), "error")
            return self._confirm(form, recipients, send_at)
        template_id = params.id_or_none(form["template_id"])
        template = db.session.get(MessageTemplate, template_id) if template_id else None
        title = template.name if template is not None else (form["subject"] or form["body"])[:40]
        with transaction() as outcome:  # the outbox rows exist before any job can look for them
            batch = messaging.queue_messages(
                db.session, recipients.send, channel=form["channel"], body=form["body"],
                subject=form["subject"] or None, sender=current_user._get_current_object(), now=now(),
                template_id=template_id, scheduled_at=send_at, respect_quiet_hours=send_at is not None,
                skipped=len(recipients.skipped), title=title)
        if not outcome.ok:
            return self._confirm(form, recipients, send_at)
        if send_at is not None:
            flash(gettext("已安排 %(n)d 条消息在 %(t)s 发送", n=batch.total, t=fmt_datetime(send_at)), "success")
        elif enqueue_or_explain(message_jobs.send_batch, batch.id, batch.total):
            flash(gettext("已提交发送 %(n)d 条消息", n=batch.total), "success")
        return redirect(url_for(".batch_view", batch_id=batch.id))

    def _confirm(self, form: dict[str, Any], recipients: messaging.RecipientList, send_at: datetime | None) -> Any:
        config = messaging.load_settings(db.session)
        sender = current_user._get_current_object()
        samples, segments = [], 0
        fields = messaging.active_fields(db.session)
        for r in recipients.send:
            values = messaging.values_for(db.session, r.customer, r.contact, sender, config, fields)
            if form["channel"] == Channel.SMS:
                text = messaging.render_sms(form["body"], values, config)
                segments += messaging.segments(text)
                if len(samples) < 3:
                    samples.append((r, None, text))
            elif len(samples) < 3:
                subject, html = messaging.render_email(form["subject"], form["body"], values)
                # render_email() escapes the values it fills in and cleans the whole body with nh3 (rules/messaging.py).
                samples.append((r, subject, Markup(html)))
        return self._page(form, step="confirm", recipients=recipients, samples=samples, segments=segments,
                          skipped=recipients.skipped_by_reason(), send_at=send_at, selection=[])

    @expose("/preview.json", methods=["POST"])
    def preview(self) -> Any:
        """Live preview of a template against a customer the user may see."""
        if not CsrfForm(request.form).validate():
            return jsonify({"error": gettext("页面已过期，请刷新")}), 400
        actor = current_actor()
        channel = request.form.get("channel") or "sms"
        body, subject = request.form.get("body", ""), request.form.get("subject", "")
        term = (request.form.get("customer") or "").strip()
        stmt = select(Customer).where(scope.customer_clause(actor))
        if term:
            stmt = stmt.where((Customer.name.contains(term)) | (Customer.code == term))
        customer = db.session.scalar(stmt.order_by(Customer.id).limit(1))
        bad = messaging.unknown_placeholders(f"{subject}\n{body}", messaging.allowed_placeholders(db.session))
        config = messaging.load_settings(db.session)
        values = messaging.values_for(db.session, customer, None, current_user._get_current_object(), config) \
            if customer is not None else {p: "{%s}" % p for p in messaging.FIXED_PLACEHOLDERS}
        # The page shows these sentences as they are: the browser has no catalogue of its own.
        answer: dict[str, Any] = {"customer": customer.name if customer else None,
                                  "unknown": ["{%s}" % b for b in bad],
                                  "problem": gettext("不支持的占位符：%(p)s", p="、".join("{%s}" % b for b in bad))
                                  if bad else ""}
        if channel == Channel.SMS:
            text = messaging.render_sms(body, values, config)
            count = messaging.segments(text)
            answer.update(text=text, length=len(text), segments=count,
                          counter=gettext("共 %(n)d 字，计 %(m)d 条短信", n=len(text), m=count))
        else:
            subject_out, html = messaging.render_email(subject, body, values)
            answer.update(subject=subject_out, html=html)
        return jsonify(answer)

    def _batch(self, batch_id: int) -> MessageBatch:
        batch = db.session.get(MessageBatch, batch_id)
        actor = current_actor()
        if batch is None or not (batch.user_id == actor.user_id or actor.can("message.manage")):
            abort(404)
        return batch

    @expose("/batch/<int:batch_id>/")
    def batch_view(self, batch_id: int) -> Any:
        batch = self._batch(batch_id)
        return self.render("admin/messaging/batch.html", batch=batch,
                           progress=messaging.batch_progress(db.session, batch.id),
                           statuses=messaging.STATUS_LABELS, channels=messaging.CHANNEL_LABELS)

    @expose("/batch/<int:batch_id>.json")
    def batch_json(self, batch_id: int) -> Any:
        return jsonify(messaging.batch_progress(db.session, self._batch(batch_id).id))



def views() -> list[Any]:
    return [SendView(name=_l("发送短信/邮件"), category=MESSAGING, endpoint="message_send", url="/admin/message_send",
                     **fa("fa-paper-plane"))]


def init_app(app: Any) -> None:
    """For the customer page: its 发短信 button."""
    @app.context_processor
    def messaging_globals() -> dict:
        def can_send() -> bool:
            return current_user.is_authenticated and current_actor().can("message.send")

        return {"kechi_can_send_messages": can_send}
