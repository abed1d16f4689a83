"""短信邮件: templates with a live preview, the send page (selection → confirmation → outbox),
bulk progress, the outbox and 未发出的短信 with retry, replies, mail accounts, settings,
holiday greetings, SFA plans and 拒收. Decisions are in rules/messaging.py and rules/sfa.py."""
from __future__ import annotations

import hmac
import json
from datetime import datetime, timedelta
from hashlib import sha256
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import PasswordField, SelectField, TextAreaField
from wtforms.validators import ValidationError

from admin_views.base import PermissionView, SecureModelView
from admin_views.context import current_actor, now
from admin_views.filters import LocalDateBetween
from admin_views.formatters import choice_label, fmt_datetime
from admin_views.forms import CsrfForm
from jobs import messaging as message_jobs
from jobs.queue import QueueUnavailable, enqueue
from models import Contact, Customer, DictKind, db
from models.messaging import (
    Channel, HolidayGreeting, MailAccount, MessageBatch, MessageTemplate, OptOut, Outbox, OutboxStatus,
    SfaEnrollment, SfaPlan, SmsReply,
)
from rules import dictionaries, i18n, messaging, regions, scope, sfa
from rules.clock import local_date
from rules.errors import RuleViolation

AUDIENCES = {"selected": _l("所选客户"), "filter": _l("列表当前的搜索和筛选结果"), "region": _l("按地区"),
             "category": _l("按客户分类"), "all": _l("我能看到的全部客户")}
MAX_RECIPIENTS = 50_000


def _today():
    return local_date(now(), current_app.config["TIMEZONE"])


def _ids(raw: str | None) -> list[int]:
    out = []
    for part in (raw or "").replace(" ", "").split(","):
        if part.isdigit():
            out.append(int(part))
    return list(dict.fromkeys(out))


def _enqueue_or_explain(func: Any, arg: Any, count: int) -> bool:
    try:
        enqueue(func, arg, job_timeout=message_jobs.BULK_TIMEOUT)
    except QueueUnavailable:
        flash(gettext("任务队列（Redis）暂时连不上：%(n)d 条消息已保存在发件箱，状态为“待发送”，"
                      "队列恢复后会自动发出，请不要重复发送。", n=count), "warning")
        return False
    return True


# --- the send page -------------------------------------------------------------------------------
class SendView(PermissionView):
    """发送短信/邮件: ?ids=1,2,3 (customers chosen in the list), ?contact_ids=… (contacts), or a
    region, a category, or everyone the user may see; now or at a chosen time."""

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
            "ids": ",".join(str(i) for i in _ids(v.get("ids"))),
            "contact_ids": ",".join(str(i) for i in _ids(v.get("contact_ids"))),
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
            wanted, wanted_contacts = _ids(form["ids"]), _ids(form["contact_ids"])
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
            stmt = stmt.where(Customer.category_id == (int(form["category_id"]) if form["category_id"].isdigit() else -1))
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
        template_id = int(form["template_id"]) if form["template_id"].isdigit() else None
        template = db.session.get(MessageTemplate, template_id) if template_id else None
        title = template.name if template is not None else (form["subject"] or form["body"])[:40]
        batch = messaging.queue_messages(
            db.session, recipients.send, channel=form["channel"], body=form["body"], subject=form["subject"] or None,
            sender=current_user._get_current_object(), now=now(), template_id=template_id, scheduled_at=send_at,
            respect_quiet_hours=send_at is not None, skipped=len(recipients.skipped),
            title=title)
        db.session.commit()  # the outbox rows exist before any job can look for them
        if send_at is not None:
            flash(gettext("已安排 %(n)d 条消息在 %(t)s 发送", n=batch.total, t=fmt_datetime(send_at)), "success")
        elif _enqueue_or_explain(message_jobs.send_batch, batch.id, batch.total):
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

    @expose("/optout/", methods=["GET", "POST"])
    def optout_view(self) -> Any:
        """拒收: mark the chosen customers (all their numbers and addresses) or contacts, or undo it."""
        actor = current_actor()
        editable = scope.customer_edit_clause(actor)
        wanted, wanted_contacts = _ids(request.values.get("ids")), _ids(request.values.get("contact_ids"))
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
            elif request.form.get("mark") == "1":
                n = messaging.mark_opt_out(db.session, customer_ids=ok, contact_ids=ok_contacts,
                                           reason=request.form.get("reason") or None, actor_id=actor.user_id,
                                           now=now())
                db.session.commit()
                flash(gettext("已标记 %(n)d 项拒收，今后不会再给他们发短信或邮件", n=n), "success")
                return redirect(back)
            else:
                n = messaging.clear_opt_out(db.session, customer_ids=ok, contact_ids=ok_contacts)
                db.session.commit()
                flash(gettext("已恢复 %(n)d 项接收短信和邮件", n=n), "success")
                return redirect(back)
        marked = set(db.session.scalars(select(OptOut.customer_id).where(OptOut.customer_id.in_(ok),
                                                                           OptOut.contact_id.is_(None))))
        marked_contacts = set(db.session.scalars(select(OptOut.contact_id).where(OptOut.contact_id.in_(ok_contacts))))
        return self.render("admin/messaging/optout.html", records=records, marked=marked, contacts=contacts,
                           marked_contacts=marked_contacts, back=back,
                           ids=",".join(str(i) for i in ok), contact_ids=",".join(str(i) for i in ok_contacts))


# --- outbox, unsent, replies -------------------------------------------------------------------
def _customer_link(view: Any, context: Any, model: Any, name: str) -> Markup | str:
    if model.customer_id is None:
        return ""
    return Markup(f"<a href='{escape(url_for('customer.details_view', id=model.customer_id))}'>"
                  f"{escape(model.customer.name)}</a>")


def _short(field: str, size: int = 40, *, stored_message: bool = False):
    """The field cut to `size`; a `stored_message` (a reason the system wrote) in the reader's language."""
    def fmt(view: Any, context: Any, model: Any, name: str) -> str:
        value = getattr(model, field) or ""
        if stored_message:
            value = i18n.shown(value)
        if getattr(model, "channel", None) == Channel.EMAIL and field == "body":
            value = f"{model.subject or ''}：{messaging.html_to_text(value)}"
        return value if len(value) <= size else value[:size] + "…"

    return fmt


def _status(view: Any, context: Any, model: Outbox, name: str) -> Markup:
    css = {"sent": "success", "failed": "danger", "unknown": "warning", "pending": "secondary",
           "sending": "info", "cancelled": "light"}.get(model.status, "light")
    label = messaging.STATUS_LABELS.get(model.status, model.status)
    extra = ""
    if model.status == OutboxStatus.PENDING and model.scheduled_at is not None:
        extra = f" <small class='text-muted'>{escape(fmt_datetime(model.scheduled_at))}</small>"
    return Markup(f"<span class='badge badge-{css}'>{escape(str(label))}</span>{extra}")


OUTBOX_LABELS = {
    "created_at": _l("创建时间"), "channel": _l("类型"), "to_name": _l("收件人"), "to_address": _l("号码/邮箱"),
    "customer": _l("客户"), "body": _l("内容"), "segments": _l("条数"), "status": _l("状态"),
    "attempts": _l("尝试次数"), "sent_at": _l("发送时间"), "provider_id": _l("通道编号"), "error": _l("错误"),
    "user": _l("发送人"), "scheduled_at": _l("定时"), "subject": _l("主题"), "delivery_status": _l("回执"),
    "delivered_at": _l("回执时间"), "account": _l("邮件账户"), "provider": _l("通道"),
}


class OutboxView(SecureModelView):
    """发件箱: every message, newest first, with retry for those that did not go out."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("这里还没有消息。在客户列表勾选客户后发短信/邮件，或打开“发送短信/邮件”按地区、分类群发。")
    permission_view = "message.send"
    can_view_details = True
    column_list = ["created_at", "channel", "customer", "to_name", "to_address", "body", "segments", "status",
                   "sent_at", "user"]
    column_details_list = ["created_at", "channel", "customer", "to_name", "to_address", "subject", "body",
                           "segments", "status", "scheduled_at", "attempts", "sent_at", "provider", "provider_id",
                           "account", "delivery_status", "delivered_at", "user", "error"]
    column_labels = OUTBOX_LABELS
    column_formatters = {"channel": choice_label(messaging.CHANNEL_LABELS), "customer": _customer_link,
                         "body": _short("body"), "status": _status,
                         "error": _short("error", 30, stored_message=True)}
    column_formatters_detail = {"channel": choice_label(messaging.CHANNEL_LABELS), "customer": _customer_link,
                                "status": _status, "error": lambda v, c, m, n: i18n.shown(m.error),
                                "body": lambda v, c, m, n: Markup(messaging.clean_html(m.body))
                                if m.channel == Channel.EMAIL else m.body}
    column_filters = [
        FilterEqual(Outbox.status, _l("状态"), options=[(k, str(v)) for k, v in messaging.STATUS_LABELS.items()]),
        FilterEqual(Outbox.channel, _l("类型"), options=[(k, str(v)) for k, v in messaging.CHANNEL_LABELS.items()]),
        FilterLike(Outbox.to_address, _l("号码/邮箱")),
        LocalDateBetween(Outbox.created_at, _l("创建时间")),
    ]
    column_searchable_list = ["to_address", "to_name"]
    column_default_sort = ("id", True)
    action_permissions = {"retry": "message.send", "cancel": "message.send"}

    def narrow(self, query: Any) -> Any:
        return query

    def get_query(self) -> Any:
        return self.narrow(super().get_query().filter(scope.outbox_clause(current_actor()))).options(
            joinedload(Outbox.customer), joinedload(Outbox.user))

    def get_count_query(self) -> Any:
        return self.narrow(super().get_count_query().filter(scope.outbox_clause(current_actor())))

    def get_one(self, id: Any) -> Any:
        try:
            return scope.get_in_scope(db.session, Outbox, id, current_actor(), scope.outbox_clause(current_actor()))
        except RuleViolation:
            abort(404)

    def _scoped_ids(self, ids: list[str]) -> list[int]:
        allowed = scope.ids_in_scope(db.session, Outbox, list(ids), current_actor(),
                                     scope.outbox_clause(current_actor()))
        if len(allowed) != len(set(ids)):
            abort(404)
        return allowed

    @action("retry", _l("重新发送"), _l("所选的未发出消息将重新发送，确定吗？"))
    def action_retry(self, ids: list[str]) -> None:
        ready = messaging.retry(db.session, self._scoped_ids(ids))
        db.session.commit()
        if ready and _enqueue_or_explain(message_jobs.send_messages, ready, len(ready)):
            flash(gettext("已重新提交 %(n)d 条消息", n=len(ready)), "success")
        elif not ready:
            flash(gettext("所选消息都已发出，无需重发"), "info")

    @action("cancel", _l("取消发送"), _l("所选的未发出消息将不再发送，确定吗？"))
    def action_cancel(self, ids: list[str]) -> None:
        n = messaging.cancel(db.session, self._scoped_ids(ids))
        db.session.commit()
        flash(gettext("已取消 %(n)d 条消息", n=n), "success")


class UnsentSmsView(OutboxView):
    """未发出的短信: waiting, failed, or of unknown fate."""

    empty_message = _l("所有短信都已发出。发送失败或等待发送的短信会出现在这里，可以勾选后重新发送。")

    column_list = ["created_at", "customer", "to_name", "to_address", "body", "status", "attempts", "error", "user"]

    def narrow(self, query: Any) -> Any:
        return query.filter(Outbox.channel == Channel.SMS, Outbox.status.in_(messaging.UNSENT_STATUSES))


class SmsReplyView(SecureModelView):
    """查看客户回复短信."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("还没有客户回复。在“短信设置”里把回调地址和密钥交给短信网关后，客户的回复会出现在这里和客户的联系记录中。")
    permission_view = "message.send"
    column_list = ["received_at", "customer", "contact", "mobile", "content"]
    column_labels = {"received_at": _l("收到时间"), "customer": _l("客户"), "contact": _l("联系人"),
                     "mobile": _l("手机"), "content": _l("回复内容")}
    column_formatters = {"customer": _customer_link}
    column_searchable_list = ["mobile", "content"]
    column_default_sort = ("received_at", True)

    def get_query(self) -> Any:
        return super().get_query().filter(scope.sms_reply_clause(current_actor())).options(
            joinedload(SmsReply.customer), joinedload(SmsReply.contact))

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(scope.sms_reply_clause(current_actor()))

    def get_one(self, id: Any) -> Any:
        abort(404)


# --- administration ----------------------------------------------------------------------------
class _ManageModelView(SecureModelView):
    permission_view = permission_create = permission_edit = permission_delete = "message.manage"


class MessageTemplateView(_ManageModelView):
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
    column_formatters = {"channel": choice_label(messaging.CHANNEL_LABELS), "body": _short("body", 60)}
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


def _quota(view: Any, context: Any, model: MailAccount, name: str) -> str:
    used = model.used_today if model.used_day == _today() else 0
    return f"{used} / {model.daily_quota}"


class MailAccountView(_ManageModelView):
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


class HolidayGreetingView(_ManageModelView):
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


class SfaPlanView(_ManageModelView):
    """销售自动化方案."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("还没有方案。点“创建”设置间隔天数，以及给客户发短信还是提醒业务员。")
    column_list = ["name", "action", "interval_days", "template", "remind_text", "active"]
    column_labels = {"name": _l("方案名称"), "action": _l("动作"), "interval_days": _l("间隔天数"),
                     "template": _l("短信模板"), "remind_text": _l("提醒内容"), "active": _l("启用")}
    column_formatters = {"action": choice_label(sfa.ACTIONS)}
    form_columns = ["name", "action", "interval_days", "template", "remind_text", "active"]
    form_overrides = {"action": SelectField}
    form_args = {"action": {"choices": list(sfa.ACTIONS.items()), "label": _l("动作")},
                 "template": {"query_factory": lambda: db.session.scalars(
                     select(MessageTemplate).where(MessageTemplate.active.is_(True),
                                                   MessageTemplate.channel == Channel.SMS)
                     .order_by(MessageTemplate.name)), "label": _l("短信模板")}}

    def on_model_change(self, form: Any, model: SfaPlan, is_created: bool) -> None:
        try:
            sfa.check_plan(model)
        except RuleViolation as exc:
            raise ValidationError(str(exc)) from exc


class SfaEnrollmentView(SecureModelView):
    """执行中的方案: which customers follow which plan; pause, resume, stop; start for a batch."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("还没有客户在执行方案。在客户列表勾选客户后选择“启动自动化方案”。")
    permission_view = "message.send"
    column_list = ["customer", "plan", "next_run_on", "runs", "paused", "started_by", "created_at"]
    column_labels = {"customer": _l("客户"), "plan": _l("方案"), "next_run_on": _l("下次执行"), "runs": _l("已执行次数"),
                     "paused": _l("已暂停"), "started_by": _l("启动人"), "created_at": _l("启动时间")}
    column_formatters = {"customer": _customer_link}
    column_default_sort = ("next_run_on", False)
    action_permissions = {"pause": "message.send", "resume": "message.send", "stop": "message.send"}

    def _clause(self) -> Any:
        actor = current_actor()
        return SfaEnrollment.customer_id.in_(select(Customer.id).where(scope.customer_edit_clause(actor)))

    def get_query(self) -> Any:
        return super().get_query().filter(self._clause()).options(joinedload(SfaEnrollment.customer),
                                                                  joinedload(SfaEnrollment.plan))

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(self._clause())

    def get_one(self, id: Any) -> Any:
        abort(404)

    def _records(self, ids: list[str]) -> list[SfaEnrollment]:
        ok = scope.ids_in_scope(db.session, SfaEnrollment, list(ids), current_actor(), self._clause())
        if len(ok) != len(set(ids)):
            abort(404)
        return list(db.session.scalars(select(SfaEnrollment).where(SfaEnrollment.id.in_(ok))))

    @action("pause", _l("暂停"))
    def action_pause(self, ids: list[str]) -> None:
        n = sfa.set_paused(db.session, self._records(ids), paused=True, today=_today())
        db.session.commit()
        flash(gettext("已暂停 %(n)d 项", n=n), "success")

    @action("resume", _l("恢复"))
    def action_resume(self, ids: list[str]) -> None:
        n = sfa.set_paused(db.session, self._records(ids), paused=False, today=_today())
        db.session.commit()
        flash(gettext("已恢复 %(n)d 项", n=n), "success")

    @action("stop", _l("停止"), _l("停止后这些客户不再执行该方案，确定吗？"))
    def action_stop(self, ids: list[str]) -> None:
        records = self._records(ids)
        for record in records:
            db.session.delete(record)
        db.session.commit()
        flash(gettext("已停止 %(n)d 项", n=len(records)), "success")

    @expose("/start/", methods=["GET", "POST"])
    def start_view(self) -> Any:
        """Start a plan for the customers chosen in the list (?ids=1,2,3)."""
        actor = current_actor()
        wanted = _ids(request.values.get("ids"))
        ok = scope.ids_in_scope(db.session, Customer, wanted, actor, scope.customer_edit_clause(actor))
        if not wanted or len(ok) != len(wanted):
            abort(404)
        records = list(db.session.scalars(select(Customer).where(Customer.id.in_(ok)).order_by(Customer.id)))
        plans = list(db.session.scalars(select(SfaPlan).where(SfaPlan.active.is_(True)).order_by(SfaPlan.name)))
        start_on = request.form.get("start_on") or _today().isoformat()
        if request.method == "POST":
            plan = db.session.get(SfaPlan, int(request.form.get("plan_id") or 0))
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
            elif plan is None:
                flash(gettext("请选择方案"), "error")
            else:
                try:
                    from datetime import date

                    n = sfa.enroll(db.session, plan, records, actor=actor, today=_today(),
                                   start_on=date.fromisoformat(start_on))
                    db.session.commit()
                    flash(gettext("已为 %(n)d 位客户启动“%(p)s”", n=n, p=plan.name), "success")
                    return redirect(url_for(".index_view"))
                except ValueError:
                    flash(gettext("开始日期格式不对"), "error")
                except RuleViolation as exc:
                    db.session.rollback()
                    flash(str(exc), "error")
        return self.render("admin/messaging/sfa_start.html", records=records, plans=plans, start_on=start_on,
                           ids=",".join(str(i) for i in ok), chosen=request.form.get("plan_id", ""))


class OptOutView(SecureModelView):
    """拒收名单: customers, contacts and numbers that are never messaged."""

    list_template = "admin/messaging/list.html"
    empty_message = _l("没有拒收的客户。客户回复“TD”或“退订”会自动加入；也可以在客户列表勾选客户后标记拒收。")
    permission_view = permission_create = permission_delete = "message.manage"
    form_columns = ["address", "reason"]
    column_list = ["customer", "contact", "address", "reason", "created_at", "created_by"]
    column_labels = {"customer": _l("客户"), "contact": _l("联系人"), "address": _l("号码/邮箱"), "reason": _l("原因"),
                     "created_at": _l("时间"), "created_by": _l("操作人")}
    column_formatters = {"customer": _customer_link,
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
                birthday_template_id=int(f["birthday_template_id"]) if f.get("birthday_template_id", "").isdigit()
                else None,
                callback_secret=f.get("callback_secret", "").strip() or config["callback_secret"], provider=provider)
            try:
                for key in ("quiet_start", "quiet_end", "per_minute", "per_day", "birthday_hour"):
                    raw = f.get(key, "").strip()
                    if not raw.isdigit():
                        raise RuleViolation(_l("请填写整数"))
                    values[key] = int(raw)
                if not CsrfForm(f).validate():
                    raise RuleViolation(_l("页面已过期，请重新提交"))
                if provider["kind"] == "http" and not provider["url"].startswith(("http://", "https://")):
                    raise RuleViolation(_l("短信网关地址须以 http:// 或 https:// 开头"))
                messaging.save_settings(db.session, values)
                db.session.commit()
                flash(gettext("短信邮件设置已保存"), "success")
                return redirect(url_for(".index"))
            except RuleViolation as exc:
                db.session.rollback()
                flash(str(exc), "error")
                config = values
        templates = list(db.session.scalars(select(MessageTemplate).where(MessageTemplate.active.is_(True))
                                            .order_by(MessageTemplate.name)))
        return self.render("admin/messaging/settings.html", cfg=config, provider=config.get("provider") or {},
                           templates=templates, callback_url=url_for("messaging_callback.callback", _external=True))


# --- the provider callback (no login: a shared secret) --------------------------------------------
callback_bp = Blueprint("messaging_callback", __name__)


def _authentic(secret: str) -> bool:
    if not secret:
        return False
    signature = request.headers.get("X-Kechi-Signature", "")
    if signature:
        expected = hmac.new(secret.encode(), request.get_data(), sha256).hexdigest()
        return hmac.compare_digest(signature, expected)
    token = request.headers.get("X-Kechi-Token") or request.args.get("token", "")
    return hmac.compare_digest(token.encode(), secret.encode())


@callback_bp.route("/sms/callback", methods=["POST"])
def callback() -> Any:
    """Delivery receipts and replies, as JSON: one event or a list of events, e.g.
    {"type": "receipt", "key": "...", "status": "DELIVRD"} or
    {"type": "reply", "mobile": "139…", "content": "收到", "id": "gateway-id"}.
    Authenticated by HMAC-SHA256 of the body (X-Kechi-Signature) or the secret itself
    (X-Kechi-Token header or ?token=)."""
    config = messaging.load_settings(db.session)
    if not _authentic(config.get("callback_secret") or ""):
        return jsonify({"ok": False, "error": "forbidden"}), 403
    try:
        payload = json.loads(request.get_data() or b"null")
    except ValueError:
        return jsonify({"ok": False, "error": "bad json"}), 400
    events = payload if isinstance(payload, list) else [payload]
    moment = now()
    handled = 0
    for event in events:
        if not isinstance(event, dict):
            continue
        if event.get("type") == "reply" and event.get("mobile"):
            messaging.receive_reply(db.session, mobile=str(event["mobile"]), content=str(event.get("content", "")),
                                    provider_id=str(event["id"]) if event.get("id") else None, now=moment,
                                    tz=current_app.config["TIMEZONE"])
            handled += 1
        elif event.get("type") == "receipt":
            handled += messaging.receive_receipt(db.session, key=event.get("key"), provider_id=event.get("provider_id"),
                                                 status=str(event.get("status", "")), now=moment)
    db.session.commit()
    return jsonify({"ok": True, "handled": handled})


def register(admin: Any, app: Any) -> None:
    """The 短信邮件 menu and the provider callback."""
    category = _l("短信邮件")

    def fa(icon: str) -> dict[str, str]:
        return {"menu_icon_type": "fa", "menu_icon_value": icon}

    admin.add_views(
        SendView(name=_l("发送短信/邮件"), category=category, endpoint="message_send", url="/admin/message_send",
                 **fa("fa-paper-plane")),
        OutboxView(Outbox, name=_l("发件箱"), category=category, endpoint="outbox", **fa("fa-envelope-o")),
        UnsentSmsView(Outbox, name=_l("未发出的短信"), category=category, endpoint="unsent_sms",
                      **fa("fa-exclamation-circle")),
        SmsReplyView(SmsReply, name=_l("客户回复短信"), category=category, endpoint="sms_reply", **fa("fa-reply")),
        MessageTemplateView(MessageTemplate, name=_l("短信/邮件模板"), category=category, endpoint="message_template",
                            **fa("fa-file-text")),
        HolidayGreetingView(HolidayGreeting, name=_l("节日问候"), category=category, endpoint="holiday_greeting",
                            **fa("fa-gift")),
        SfaPlanView(SfaPlan, name=_l("销售自动化方案"), category=category, endpoint="sfa_plan", **fa("fa-magic")),
        SfaEnrollmentView(SfaEnrollment, name=_l("执行中的方案"), category=category, endpoint="sfa_enrollment",
                          **fa("fa-play-circle")),
        OptOutView(OptOut, name=_l("拒收名单"), category=category, endpoint="opt_out", **fa("fa-ban")),
        MailAccountView(MailAccount, name=_l("邮件配置"), category=category, endpoint="mail_account",
                        **fa("fa-at")),
        MessagingSettingsView(name=_l("短信设置"), category=category, endpoint="messaging_settings",
                              url="/admin/messaging_settings", **fa("fa-cog")),
    )
    app.register_blueprint(callback_bp)

    @app.context_processor
    def messaging_globals() -> dict:
        """For the customer page: its 拒收 mark and the 发短信 button."""
        def opted_out(customer_id: int) -> bool:
            return db.session.scalar(select(OptOut.id).where(OptOut.customer_id == customer_id,
                                                             OptOut.contact_id.is_(None)).limit(1)) is not None

        def can_send() -> bool:
            return current_user.is_authenticated and current_actor().can("message.send")

        return {"kechi_opted_out": opted_out, "kechi_can_send_messages": can_send}
