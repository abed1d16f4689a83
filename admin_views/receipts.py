"""回款 in the panel: the list of receipts and refunds (orders, contracts, instalments), 待确认回款,
the receipt form (reachable from an instalment's 回款 button, a contract's or an order's page),
the receipt page with its approval, 导出Excel, and the customer 360 page's 回款 tab. Every path
calls rules/payments.py; scope is rules/scope.payment_clause."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, DateBetweenFilter, FilterEqual
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from werkzeug.routing import BuildError
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from admin_views.printing import PrintActionsMixin  # issue 20
from models.printing import PrintDocType  # issue 20
from admin_views import params
from admin_views.base import PermissionView, ScopedModelView
from admin_views.context import current_actor, now
from admin_views.custom_fields import CustomFieldsMixin
from admin_views.filters import AmountGreater, AmountSmaller, IdEqual, LazyOptions
from admin_views.formatters import choice_label, fmt_money
from admin_views.forms import CsrfForm
from admin_views.links import drill
from admin_views.menu import SALES, fa
from admin_views.navigation import back_url
from admin_views.transaction import commit_or_explain, transaction
from models import Contract, Customer, Order, Payment, PaymentStatus, User, db
from models.payment_plan import PaymentPlan
from rules import custom_fields, payments, receivables, scope
from rules.clock import local_date
from rules.errors import OutOfScope
from rules.links import DrillFilter as F
from rules.links import ListKind

from admin_views import finance_drill

CUSTOM_ENTITY = "payment"
VIEW = ("payment.view", "order.view")
RECORD = ("payment.record", "order.create", payments.APPROVE_PERMISSION)
LABELS = {"paid_on": _l("回款日期"), "document": _l("所属单据"), "order": _l("订单"), "contract": _l("合同"),
          "plan": _l("期次"), "customer": _l("客户"), "kind": _l("类型"), "amount": _l("金额"),
          "write_off": _l("抹零"), "method": _l("方式"), "status": _l("状态"), "owner": _l("业绩归属"),
          "recorded_by": _l("登记人"), "approved_by": _l("确认人"), "approved_at": _l("确认时间"),
          "note": _l("备注"), "created_at": _l("登记时间")}


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def _money(view: Any, context: Any, model: Any, name: str) -> str:
    value = getattr(model, name)
    return fmt_money(value) if value else ("" if name == "write_off" else fmt_money(value))


def _link(url: str, text: str) -> Markup:
    # Markup is safe here: both values pass through escape().
    return Markup(f"<a href='{escape(url)}'>{escape(text)}</a>")


def document_links(payment: Payment) -> list[tuple[str, str]]:
    """(url, text) of what a payment is booked on: its contract, its order, its instalment."""
    found = []
    if payment.contract is not None:
        found.append((_contract_url(payment.contract_id) or "", payment.contract.number))
    if payment.order is not None:
        found.append((url_for("order.details_view", id=payment.order_id), payment.order.number))
    if payment.plan is not None:
        found.append(("", gettext("第%(p)d期", p=payment.plan.period)))
    return found


def _document(view: Any, context: Any, model: Payment, name: str) -> Markup:
    parts = [_link(url, text) if url else escape(text) for url, text in document_links(model)]
    return Markup(" / ").join(parts)


def _status_badge(view: Any, context: Any, model: Payment, name: str) -> Markup:
    label = payments.STATUS_LABELS.get(model.status, model.status)
    css = payments.STATUS_CSS.get(model.status, "light")
    # Markup is safe here: the css class comes from STATUS_CSS, the label passes through escape().
    return Markup(f"<span class='badge badge-{css}'>{escape(str(label))}</span>")


def _paid_on_link(view: Any, context: Any, model: Payment, name: str) -> Markup:
    return _link(url_for("payment.details_view", id=model.id), model.paid_on.isoformat())


def _owners() -> list[tuple[str, str]]:
    return [(str(u.id), u.display_name) for u in db.session.scalars(
        select(User).where(User.active.is_(True), scope.owner_clause(User.id, current_actor()))
        .order_by(User.display_name))]


class NumberOf(BaseSQLAFilter):
    """By the number of the order or contract a payment is booked on."""

    def operation(self) -> Any:
        return _l("等于")

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        term = str(value).strip().upper()
        return query.filter(or_(Payment.order_id.in_(select(Order.id).where(Order.number == term)),
                                Payment.contract_id.in_(select(Contract.id).where(Contract.number == term))))


class CustomerNamed(BaseSQLAFilter):
    def operation(self) -> Any:
        return _l("包含")

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(Payment.customer_id.in_(select(Customer.id).where(Customer.name.like(f"%{value}%"))))


class BookedOn(BaseSQLAFilter):
    """Receipts on a contract (with its instalments and orders) or on orders without one."""

    def operation(self) -> Any:
        return _l("是")

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        if value == "contract":
            return query.filter(Payment.contract_id.isnot(None))
        if value == "plan":
            return query.filter(Payment.plan_id.isnot(None))
        return query.filter(Payment.contract_id.is_(None))


class PaymentView(PrintActionsMixin, CustomFieldsMixin, ScopedModelView):
    """回款记录: receipts and refunds the user may see; approval of pending ones."""
    print_doc_types = (PrintDocType.RECEIPT,)  # issue 20: 批量打印/导出PDF

    permission_view = VIEW
    permission_create = RECORD
    permission_export = VIEW
    export_entity = "payment"
    custom_entity = CUSTOM_ENTITY
    action_permissions = {"approve": payments.APPROVE_PERMISSION, "reject": payments.APPROVE_PERMISSION}
    can_view_details = True
    capped_count = True
    list_template = "admin/receipts/list.html"
    details_template = "admin/receipts/details.html"
    column_list = ["paid_on", "document", "customer", "kind", "amount", "write_off", "method", "status", "owner",
                   "recorded_by", "approved_by", "note"]
    column_labels = LABELS
    column_default_sort = [("paid_on", True), ("id", True)]
    column_sortable_list = ["paid_on", "amount"]
    column_formatters = {"paid_on": _paid_on_link, "amount": _money, "write_off": _money, "document": _document,
                         "kind": choice_label(payments.KIND_LABELS), "status": _status_badge,
                         "method": choice_label(payments.METHOD_LABELS)}
    column_filters = [
        FilterEqual(Payment.status, _l("状态"), options=list(payments.STATUS_LABELS.items())),
        FilterEqual(Payment.kind, _l("类型"), options=list(payments.KIND_LABELS.items())),
        DateBetweenFilter(Payment.paid_on, _l("回款日期")),
        FilterEqual(Payment.method, _l("方式"), options=list(payments.METHOD_LABELS.items())),
        drill(F.OWNER, IdEqual(Payment.owner_id, _l("业绩归属"), options=LazyOptions(_owners))),
        IdEqual(Payment.recorded_by_id, _l("登记人"), options=LazyOptions(_owners)),
        NumberOf(Payment.id, _l("订单/合同编号")),
        CustomerNamed(Payment.customer_id, _l("客户名称")),
        BookedOn(Payment.id, _l("所属"), options=[("contract", _l("合同回款")), ("plan", _l("按期次回款")),
                                                 ("order", _l("订单回款（无合同）"))]),
        AmountGreater(Payment.amount, _l("金额")),
        AmountSmaller(Payment.amount, _l("金额")),
    ]

    def drilled(self, query: Any) -> Any:
        """A figure of a finance report opens exactly the receipts it counted (list, count, export)."""
        return query.filter(*finance_drill.clauses(ListKind("payment")))

    def get_query(self) -> Any:
        return self.drilled(super().get_query()).options(
            joinedload(Payment.order), joinedload(Payment.contract), joinedload(Payment.plan),
            joinedload(Payment.customer), joinedload(Payment.owner), joinedload(Payment.recorded_by),
            joinedload(Payment.approved_by))

    def get_count_query(self) -> Any:
        return self.drilled(super().get_count_query())

    def _decide(self, ids: list[str], decide: Any, message: Any) -> None:
        records = self.scoped_batch(ids)
        actor = current_actor()
        commit_or_explain(lambda: [decide(db.session, r.id, actor=actor, now=now()) for r in records], message)

    @action("approve", _l("确认到账"), _l("确认所选款项已到账？确认后计入订单、合同的已收/已退金额。"))
    def action_approve(self, ids: list[str]) -> None:
        self._decide(ids, payments.approve, lambda done: gettext("已确认 %(n)d 笔款项", n=len(done)))

    @action("reject", _l("驳回"), _l("确定驳回所选款项吗？"))
    def action_reject(self, ids: list[str]) -> None:
        self._decide(ids, payments.reject, lambda done: gettext("已驳回 %(n)d 笔款项", n=len(done)))

    # --- the receipt page --------------------------------------------------------------------
    @expose("/details/")
    def details_view(self) -> Any:
        payment = self.get_one(request.args.get("id"))
        actor = current_actor()
        custom = [(d.label, custom_fields.display(d, (payment.custom or {}).get(d.key)))
                  for d in custom_fields.definitions(db.session, CUSTOM_ENTITY)]
        pending = payment.status == PaymentStatus.PENDING
        in_flow = pending and payments.open_request(db.session, payment.id) is not None
        return self.render(self.details_template, model=payment, labels=LABELS, custom=custom,
                           documents=document_links(payment), kinds=payments.KIND_LABELS,
                           status=payments.STATUS_LABELS, status_css=payments.STATUS_CSS,
                           methods=payments.METHOD_LABELS, in_flow=in_flow,
                           can_decide=pending and not in_flow and actor.can(payments.APPROVE_PERMISSION),
                           can_withdraw=pending and payment.recorded_by_id == actor.user_id,
                           return_url=back_url(request.args.get("url"), url_for(".index_view")))

    @expose("/decide/<move>/", methods=["POST"])
    def decide_view(self, move: str) -> Any:
        """确认到账 / 驳回 / 撤回 from the receipt page."""
        if move not in ("approve", "reject", "withdraw") or not CsrfForm(request.form).validate():
            abort(400)
        payment = self.get_one(request.args.get("id"))
        actor, reason = current_actor(), params.clean_text(request.form.get("reason")) or None
        decide = {"approve": lambda: payments.approve(db.session, payment.id, actor=actor, now=now()),
                  "reject": lambda: payments.reject(db.session, payment.id, actor=actor, now=now(), reason=reason),
                  "withdraw": lambda: payments.withdraw(db.session, payment.id, actor=actor, now=now())}[move]
        done = {"approve": gettext("已确认到账，计入实收"), "reject": gettext("已驳回这笔款项"),
                "withdraw": gettext("已撤回这笔款项")}[move]
        commit_or_explain(decide, lambda _p: done)
        return redirect(url_for(".details_view", id=payment.id))

    # --- the receipt form --------------------------------------------------------------------
    @expose("/new/", methods=["GET", "POST"])
    def create_view(self) -> Any:
        if not self.can_create:
            abort(403)
        target = _target_from(request.values)
        values = _typed(request.form) if request.method == "POST" else _proposal(target)
        back = back_url(request.values.get("url"), target.back or url_for(".index_view"))
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            saved = self._record(target, values)
            if saved is not None:
                return redirect(url_for(".details_view", id=saved, url=back))
        return self.render("admin/receipts/create.html", target=target, values=values, methods=payments.METHODS,
                           custom_fields=custom_fields.definitions(db.session, CUSTOM_ENTITY),
                           may_write_off=current_actor().can(payments.WRITE_OFF_PERMISSION),
                           write_off_limit=payments.write_off_limit(db.session), back=back,
                           through_approval=payments.requires_approval(db.session))

    def _record(self, target: TargetInfo, values: ReceiptInput) -> int | None:
        try:
            paid_on = params.date_param(values.paid_on, name=gettext("回款日期")) or local_date(now(), _tz())
        except params.BadParameter as exc:
            flash(str(exc.description), "error")
            return None
        actor = current_actor()
        document = values.document.strip().upper()
        order_id, contract_id = target.order_id, target.contract_id
        if not (target.plan_id or order_id or contract_id):
            order_id, contract_id = _by_number(document)
            if not (order_id or contract_id):
                flash(gettext("请填写回款所属的订单编号或合同编号") if not document else
                      gettext("找不到编号为 %(n)s 的订单或合同（或您无权查看）", n=document), "error")
                return None
        with transaction() as outcome:
            payment = payments.record(db.session, order_id, contract_id=contract_id, plan_id=target.plan_id,
                                      kind="receipt", amount=values.amount, write_off=values.write_off or 0,
                                      paid_on=paid_on, method=values.method, note=values.note, actor=actor,
                                      now=now(), custom=values.custom)
            outcome.done(gettext("已登记回款 %(a)s", a=fmt_money(payment.amount))
                         + (gettext("，等待审核后计入实收") if payment.status == PaymentStatus.PENDING else ""))
        return payment.id if outcome.ok else None


class PendingPaymentView(PaymentView):
    """待确认回款: what waits for a confirmer; nobody confirms their own (rules/payments.py says
    why when one is chosen)."""

    permission_view = payments.APPROVE_PERMISSION
    permission_create = None
    export_entity = None
    list_template = "admin/receipts/pending.html"

    def get_query(self) -> Any:
        return super().get_query().filter(Payment.status == PaymentStatus.PENDING)

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(Payment.status == PaymentStatus.PENDING)


# --- the form's values ---------------------------------------------------------------------------

@dataclass
class TargetInfo:
    """What the form books on, as the page shows it (nothing chosen: the form asks for a number)."""

    plan_id: int | None = None
    contract_id: int | None = None
    order_id: int | None = None
    title: str = ""
    customer: str = ""
    due: Decimal | None = None
    room: Decimal | None = None
    back: str | None = None


@dataclass
class ReceiptInput:
    amount: str = ""
    write_off: str = ""
    paid_on: str = ""
    method: str = "transfer"
    note: str = ""
    document: str = ""
    custom: dict[str, Any] = field(default_factory=dict)


def _id_arg(values: Any, key: str) -> int | None:
    return params.optional_int(values.get(key), name=key, minimum=1)


def _in_scope(model: Any, ident: int) -> Any:
    try:
        return scope.get_in_scope(db.session, model, ident, current_actor())
    except OutOfScope:
        abort(404)


def _target_from(values: Any) -> TargetInfo:
    """?plan_id= / ?contract_id= / ?order_id=: the document, in scope (else 404), with what is due
    on it and what may still be booked."""
    target = TargetInfo(_id_arg(values, "plan_id"), _id_arg(values, "contract_id"), _id_arg(values, "order_id"))
    if target.plan_id:
        plan = _in_scope(PaymentPlan, target.plan_id)
        parent = plan.contract or plan.order
        target.contract_id, target.order_id = plan.contract_id, plan.order_id
        target.title = gettext("%(d)s 第%(p)d期（%(on)s 到期）", d=parent.number, p=plan.period, on=plan.due_on.isoformat())
        target.customer, target.due = plan.customer.name, plan.amount
        target.room = payments.plan_room(db.session, plan)
        if plan.contract is not None:
            target.room = min(target.room, payments.contract_room(db.session, plan.contract))
    elif target.contract_id:
        contract = _in_scope(Contract, target.contract_id)
        target.title = gettext("合同 %(n)s %(t)s", n=contract.number, t=contract.title)
        target.customer, target.due = contract.customer.name, contract.total
        target.room = payments.contract_room(db.session, contract)
        target.back = _contract_url(contract.id)
    elif target.order_id:
        order = _in_scope(Order, target.order_id)
        target.title = gettext("订单 %(n)s", n=order.number)
        target.customer, target.due = order.customer.name, receivables.due(order)
        target.room = payments.order_room(db.session, order)
        target.contract_id = order.contract_id
        target.back = url_for("order.details_view", id=order.id, _anchor="payments")
    if target.plan_id and target.back is None:
        target.back = _contract_url(target.contract_id) if target.contract_id else \
            url_for("order.details_view", id=target.order_id, _anchor="payments")
    return target


def _contract_url(contract_id: int) -> str | None:
    try:
        return url_for("contract.details_view", id=contract_id)
    except BuildError:  # the contract pages arrive with their own branch
        return None


def _by_number(number: str) -> tuple[int | None, int | None]:
    """An order or a contract (its current, not voided version) by number, in scope."""
    if not number:
        return None, None
    actor = current_actor()
    order_id = db.session.scalar(scope.scoped(select(Order.id), Order, actor).where(Order.number == number))
    if order_id:
        return order_id, None
    contract_id = db.session.scalar(scope.scoped(select(Contract.id), Contract, actor).where(
        Contract.number == number, Contract.status.in_(payments.RECEIVING_CONTRACT_STATES))
        .order_by(Contract.revision.desc()).limit(1))
    return None, contract_id


def _proposal(target: TargetInfo) -> ReceiptInput:
    return ReceiptInput(amount=f"{target.room:.2f}" if target.room else "",
                        paid_on=local_date(now(), _tz()).isoformat())


def _typed(form: Any) -> ReceiptInput:
    """What was typed, as typed (the form shows it again when the entry is refused)."""
    return ReceiptInput(
        amount=form.get("amount", ""), write_off=form.get("write_off", ""), paid_on=form.get("paid_on", ""),
        method=form.get("method", ""), note=form.get("note", ""), document=form.get("document", ""),
        custom={d.key: (form.getlist(f"custom-{d.key}") if d.field_type == "multi_choice"
                        else form.get(f"custom-{d.key}"))
                for d in custom_fields.definitions(db.session, CUSTOM_ENTITY)})


# --- the customer 360 page's 回款 tab --------------------------------------------------------------

def customer_receipts(customer_id: int) -> dict[str, Any]:
    """Every payment of the customer the user may see (orders and contracts), and the contracts'
    应收/实收/抹零 beside the orders' figures the 订单 tab computes."""
    actor = current_actor()
    if not any(actor.can(p) for p in VIEW):
        return {"allowed": False, "payments": []}
    found = list(db.session.scalars(
        scope.scoped(select(Payment), Payment, actor).where(Payment.customer_id == customer_id)
        .options(joinedload(Payment.order), joinedload(Payment.contract), joinedload(Payment.plan),
                 selectinload(Payment.recorded_by))
        .order_by(Payment.paid_on.desc(), Payment.id.desc()).limit(100)))
    contracts = list(db.session.scalars(
        scope.scoped(select(Contract), Contract, actor).where(
            Contract.customer_id == customer_id, Contract.status.in_(payments.RECEIVING_CONTRACT_STATES))))
    total = sum((c.total for c in contracts), Decimal("0"))
    received = sum((c.received for c in contracts), Decimal("0"))
    written_off = sum((c.written_off for c in contracts), Decimal("0"))
    return {"allowed": True, "payments": found, "links": {p.id: document_links(p) for p in found},
            "contracts": {"count": len(contracts), "receivable": total, "received": received,
                          "written_off": written_off, "outstanding": max(total - received - written_off, Decimal("0"))},
            "kinds": payments.KIND_LABELS, "status": payments.STATUS_LABELS, "methods": payments.METHOD_LABELS,
            "can_record": any(actor.can(p) for p in RECORD)}


def document_receipts(kind: str, doc_id: int) -> dict[str, Any]:
    """For a contract's or an order's page (templates/admin/receipts/_for_document.html): its
    payments the user may see, and the address of the receipt form booked on it."""
    actor = current_actor()
    column = {"contract": Payment.contract_id, "order": Payment.order_id}.get(kind)
    if column is None or not any(actor.can(p) for p in VIEW):
        return {"allowed": False, "payments": []}
    found = list(db.session.scalars(
        scope.scoped(select(Payment), Payment, actor).where(column == doc_id)
        .options(joinedload(Payment.order), joinedload(Payment.contract), joinedload(Payment.plan),
                 selectinload(Payment.recorded_by), selectinload(Payment.approved_by))
        .order_by(Payment.paid_on.desc(), Payment.id.desc()).limit(200)))
    return {"allowed": True, "payments": found, "links": {p.id: document_links(p) for p in found},
            "kinds": payments.KIND_LABELS, "status": payments.STATUS_LABELS, "status_css": payments.STATUS_CSS,
            "methods": payments.METHOD_LABELS,
            "new_url": url_for("payment.create_view", **{f"{kind}_id": doc_id}, url=request.url)
            if any(actor.can(p) for p in RECORD) else None}


def init_app(app: Any) -> None:
    """The customer 360 page's 回款 tab calls `kechi_customer_receipts(customer_id)`; a contract's
    page `kechi_document_receipts('contract', id)` (templates/admin/receipts/_for_document.html)."""
    app.add_template_global(customer_receipts, "kechi_customer_receipts")
    app.add_template_global(document_receipts, "kechi_document_receipts")


class ReceiptSettingsView(PermissionView):
    """回款设置 (settings.manage): the 抹零 limit; whether receipts need approval stays in 订单设置."""

    permission = "settings.manage"

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        limit: Any = payments.write_off_limit(db.session)
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            limit = request.form.get("write_off_limit", "")
            if commit_or_explain(lambda: payments.save_write_off_limit(db.session, limit),
                                 lambda value: gettext("抹零上限已保存：%(a)s", a=fmt_money(value))):
                return redirect(url_for(".index"))
        return self.render("admin/receipts/settings.html", limit=limit,
                           requires_approval=payments.requires_approval(db.session))


def views() -> list[Any]:
    return [
        PaymentView(Payment, name=_l("回款记录"), category=SALES, endpoint="payment", **fa("fa-jpy")),
        PendingPaymentView(Payment, name=_l("待确认回款"), category=SALES, endpoint="payment_pending",
                           **fa("fa-check-square-o")),
        ReceiptSettingsView(name=_l("回款设置"), category=SALES, endpoint="payment_settings", **fa("fa-sliders")),
    ]

