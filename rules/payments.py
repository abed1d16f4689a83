"""回款: receipts against an order, a contract or one instalment (期次), refunds against returns,
抹零, and their approval.

Only approved payments count: an order's `received`/`refunded`, a contract's `received`/
`written_off` and an instalment's `received` are recomputed from them in SQL after every change,
so they never drift from the payment rows. What may still be booked counts pending receipts and
write-offs too, at every level the receipt touches (instalment, contract, order), so two entries
waiting for approval never together exceed what is due; the level's row is locked first, so two
clerks registering at the same instant are served one after the other.

Approval: with 回款需审核 on (the default), a receipt goes through the approval flow of doc type
RECEIPT (rules/approvals) when that flow is enabled — whoever registered it is never its only
approver; with the flow disabled the confirmation of issue 16 applies (a confirmer's entry on
somebody else's order counts at once; anything else waits for a colleague with payment.approve).
Refunds are confirmed as before."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.approval import ApprovalAction, ApprovalDocType, ApprovalRequest, ApprovalStatus
from models.contract import Contract, ContractStatus
from models.payment_plan import PaymentPlan, PlanStatus
from models.sales import Order, OrderStatus, Payment, PaymentKind, PaymentStatus
from rules import activity, custom_fields, normalize, orders, receivables, scope, settings
from rules.actor import Actor
from rules.errors import InvalidValue, PermissionDenied, RuleViolation, SelfConfirmation

from rules import approvals, payment_plans

ZERO = Decimal("0")
# The methods offered when registering; stored keys of earlier versions stay readable.
METHODS = {"cash": _l("现金"), "transfer": _l("银行转账"), "alipay": _l("支付宝"), "wechat": _l("微信"),
           "acceptance": _l("承兑汇票"), "other": _l("其他")}
METHOD_LABELS = {**METHODS, "check": _l("支票")}
KIND_LABELS = {PaymentKind.RECEIPT.value: _l("回款"), PaymentKind.REFUND.value: _l("退款")}
STATUS_LABELS = {PaymentStatus.PENDING.value: _l("待确认"), PaymentStatus.APPROVED.value: _l("已确认"),
                 PaymentStatus.REJECTED.value: _l("已驳回"), PaymentStatus.WITHDRAWN.value: _l("已撤回")}
STATUS_CSS = {PaymentStatus.PENDING.value: "warning", PaymentStatus.APPROVED.value: "success",
              PaymentStatus.REJECTED.value: "danger", PaymentStatus.WITHDRAWN.value: "secondary"}
# Who confirms (or rejects) a payment waiting for confirmation outside an approval flow; the
# payment list offers its actions to the same people.
APPROVE_PERMISSION = "payment.approve"
WRITE_OFF_PERMISSION = "payment.write_off"
WRITE_OFF_LIMIT_KEY = "write_off_limit"
WRITE_OFF_LIMIT_DEFAULT = Decimal("100")
# Receipts on contracts in these states only: a draft may still change, a voided one is gone.
RECEIVING_CONTRACT_STATES = (ContractStatus.ACTIVE.value, ContractStatus.COMPLETED.value)
# What takes room: approved receipts, and pending ones that may yet be approved.
BOOKED_STATES = (PaymentStatus.APPROVED.value, PaymentStatus.PENDING.value)
RECEIPT = ApprovalDocType.RECEIPT.value


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


# --- settings and permissions ------------------------------------------------------------------

def may_record(actor: Actor) -> bool:
    return actor.can("payment.record") or actor.can("order.create") or actor.can(APPROVE_PERMISSION)


def requires_approval(session: Session) -> bool:
    return bool(orders.setting(session, "payment_requires_approval"))


def write_off_limit(session: Session) -> Decimal:
    raw = settings.get(session, WRITE_OFF_LIMIT_KEY)
    try:
        return Decimal(str(raw)) if raw not in (None, "") else WRITE_OFF_LIMIT_DEFAULT
    except InvalidOperation:
        return WRITE_OFF_LIMIT_DEFAULT


def save_write_off_limit(session: Session, raw: Any) -> Decimal:
    value = _money(raw, allow_zero=True)
    settings.put(session, WRITE_OFF_LIMIT_KEY, str(value))
    return value


def _flow_applies(session: Session, amount: Decimal) -> bool:
    return requires_approval(session) and bool(approvals.requires_approval(session, RECEIPT, figure=amount))


def confirms_on_entry(session: Session, order: Order | None, actor: Actor, owner_id: int | None = None) -> bool:
    """Whether a payment the actor registers outside an approval flow counts at once. With
    回款需他人确认 on (the default) it does only when the actor may confirm payments and the
    document is not their own: a salesperson's receipt on his own order waits for somebody else."""
    if not requires_approval(session):
        return True
    owner = order.salesperson_id if order is not None else owner_id
    return actor.can(APPROVE_PERMISSION) and owner != actor.user_id


def _owner_of(payment: Payment) -> int | None:
    if payment.order is not None:
        return payment.order.salesperson_id
    return payment.owner_id


def _label(payment: Payment) -> str:
    """The document a payment is booked on, as a person names it."""
    if payment.order is not None:
        return payment.order.number
    if payment.contract is not None:
        return payment.contract.number
    return f"#{payment.id}"


def own_payment_refusal(payment: Payment, actor: Actor) -> RuleViolation | None:
    """Nobody confirms their own: neither a payment they registered nor one on their own order."""
    if payment.recorded_by_id == actor.user_id:
        return SelfConfirmation(_l("订单%(n)s的这笔款项是您自己登记的，不能由您确认，请由其他有审核回款权限的同事确认",
                                   n=_label(payment)))
    if _owner_of(payment) == actor.user_id:
        return SelfConfirmation(_l("订单%(n)s是您自己的订单，其款项不能由您确认，请由其他有审核回款权限的同事确认",
                                   n=_label(payment)))
    return None


# --- the figures -------------------------------------------------------------------------------

def _sum(column: Any, *where: Any, states: tuple[str, ...] = (PaymentStatus.APPROVED.value,)) -> Any:
    return (select(func.coalesce(func.sum(column), 0)).where(Payment.status.in_(states), *where)
            .scalar_subquery())


def _store(session: Session, model: Any, ident: int, **figures: Any) -> None:
    """Write figures computed in SQL, then show them on the loaded object."""
    session.execute(update(model).where(model.id == ident).values(**figures)
                    .execution_options(synchronize_session=False))
    session.flush()
    found = session.get(model, ident)
    if found is not None:
        session.refresh(found)


def recompute(session: Session, order_id: int) -> None:
    """An order's received/refunded from its approved payments (cash only: 抹零 is not money)."""
    on = Payment.order_id == order_id
    _store(session, Order, order_id, received=_sum(Payment.amount, on, Payment.kind == PaymentKind.RECEIPT),
           refunded=_sum(Payment.amount, on, Payment.kind == PaymentKind.REFUND))


def recompute_contract(session: Session, contract_id: int) -> None:
    """A contract's 实收 (approved receipts net of approved refunds, on the contract, its
    instalments and its orders: they all carry contract_id) and 抹零."""
    on = Payment.contract_id == contract_id
    _store(session, Contract, contract_id,
           received=_sum(Payment.amount, on, Payment.kind == PaymentKind.RECEIPT)
           - _sum(Payment.amount, on, Payment.kind == PaymentKind.REFUND),
           written_off=_sum(Payment.write_off, on, Payment.kind == PaymentKind.RECEIPT))


def _recompute_all(session: Session, payment: Payment) -> None:
    if payment.contract_id is not None:
        recompute_contract(session, payment.contract_id)
    if payment.order_id is not None:
        recompute(session, payment.order_id)
    if payment.plan_id is not None:
        payment_plans.recompute(session, payment.plan_id)


def _booked(session: Session, *where: Any) -> Decimal:
    """Receipts and write-offs approved or waiting, on what `where` selects."""
    return Decimal(session.scalar(select(func.coalesce(func.sum(Payment.amount + Payment.write_off), 0)).where(
        Payment.kind == PaymentKind.RECEIPT, Payment.status.in_(BOOKED_STATES), *where)) or 0)


def plan_room(session: Session, plan: PaymentPlan) -> Decimal:
    return payment_plans.room(session, plan)  # the instalment's own rule (nothing on a void one)


def contract_room(session: Session, contract: Contract) -> Decimal:
    return max(contract.total - _booked(session, Payment.contract_id == contract.id), ZERO)


def receipt_room(session: Session, order: Order) -> Decimal:
    """How much more may be registered on an order: receipts waiting for confirmation and every
    write-off take their share too, so two unconfirmed entries never together exceed the order."""
    waiting = Decimal(session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.order_id == order.id, Payment.kind == PaymentKind.RECEIPT,
        Payment.status == PaymentStatus.PENDING)) or 0)
    written_off = Decimal(session.scalar(select(func.coalesce(func.sum(Payment.write_off), 0)).where(
        Payment.order_id == order.id, Payment.kind == PaymentKind.RECEIPT, Payment.status.in_(BOOKED_STATES))) or 0)
    return max(receivables.payable(order) - waiting - written_off, ZERO)


def order_room(session: Session, order: Order) -> Decimal:
    """What the order page proposes: the order's room, and its contract's when it has one."""
    room = receipt_room(session, order)
    if order.contract_id is not None:
        room = min(room, contract_room(session, session.get(Contract, order.contract_id)))
    return room


# --- input -------------------------------------------------------------------------------------

def _money(raw: Any, *, allow_zero: bool = False) -> Decimal:
    if raw is None or normalize.text(raw) == "":
        if allow_zero:
            return ZERO
        raise InvalidValue(_l("金额格式不正确"))
    try:
        value = Decimal(normalize.text(raw).replace(",", "").replace("¥", ""))
    except InvalidOperation:
        raise InvalidValue(_l("金额格式不正确")) from None
    if not value.is_finite():  # NaN / Infinity: comparing or rounding them raises
        raise InvalidValue(_l("金额格式不正确"))
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidValue(_l("金额必须大于 0"))
    if value != value.quantize(orders.CENT):
        raise InvalidValue(_l("金额最多保留两位小数"))
    return value


def _amount(raw: Any) -> Decimal:
    return _money(raw)


def _lock(session: Session, model: Any, ident: int) -> Any:
    """Take the row's write lock before counting what is booked on it (a no-op UPDATE: SQLite
    serialises writers on it, PostgreSQL holds the row until commit), then read it afresh."""
    session.execute(update(model).where(model.id == ident).values(id=model.id)
                    .execution_options(synchronize_session=False))
    return session.scalars(select(model).where(model.id == ident).execution_options(populate_existing=True)).one()


class _Target:
    """What a receipt is booked on, its parents resolved: an instalment belongs to a contract or
    an order, an order produced from a contract belongs to that contract."""

    def __init__(self) -> None:
        self.plan: PaymentPlan | None = None
        self.contract: Contract | None = None
        self.order: Order | None = None

    @property
    def customer_id(self) -> int:
        for doc in (self.plan, self.contract, self.order):
            if doc is not None:
                return doc.customer_id
        raise InvalidValue(_l("请选择回款所属的订单、合同或回款计划"))

    @property
    def owner_id(self) -> int | None:
        if self.contract is not None:
            return self.contract.owner_id
        return self.order.salesperson_id if self.order is not None else None

    def label(self) -> str:
        if self.plan is not None:
            return str(_l("%(d)s 第%(p)d期", d=self.contract.number if self.contract else self.order.number,
                          p=self.plan.period))
        return self.contract.number if self.contract is not None else self.order.number


def _resolve(session: Session, actor: Actor, order_id: Any, contract_id: Any, plan_id: Any) -> _Target:
    target = _Target()
    if plan_id not in (None, ""):
        target.plan = scope.get_in_scope(session, PaymentPlan, plan_id, actor)
        for given, own in ((order_id, target.plan.order_id), (contract_id, target.plan.contract_id)):
            if given not in (None, "") and str(given) != str(own):
                raise InvalidValue(_l("回款计划不属于所选的订单或合同"))
        order_id, contract_id = target.plan.order_id, target.plan.contract_id
    if order_id not in (None, ""):
        target.order = scope.get_in_scope(session, Order, order_id, actor)
        if target.order.contract_id is not None:
            if contract_id not in (None, "") and str(contract_id) != str(target.order.contract_id):
                raise InvalidValue(_l("订单%(n)s不属于所选的合同", n=target.order.number))
            contract_id = target.order.contract_id
    if contract_id not in (None, ""):
        target.contract = scope.get_in_scope(session, Contract, contract_id, actor)
    if target.plan is None and target.contract is None and target.order is None:
        raise InvalidValue(_l("请选择回款所属的订单、合同或回款计划"))
    # Locks in one order (contract, order, instalment), so two registrations never deadlock.
    if target.contract is not None:
        target.contract = _lock(session, Contract, target.contract.id)
    if target.order is not None:
        target.order = _lock(session, Order, target.order.id)
    if target.plan is not None:
        target.plan = _lock(session, PaymentPlan, target.plan.id)
    return target


def _check_receipt(session: Session, target: _Target, value: Decimal, write_off: Decimal) -> None:
    booking = value + write_off
    if target.plan is not None:
        if target.plan.status == PlanStatus.VOID:
            raise RuleViolation(_l("%(d)s已作废，不能登记回款", d=target.label()))
        room = plan_room(session, target.plan)
        if booking > room:
            raise InvalidValue(_l("回款金额 ¥%(a)s 超过%(d)s未收金额 ¥%(o)s（含待确认的回款和抹零）",
                                  a=_yuan(booking), d=target.label(), o=_yuan(room)))
    if target.contract is not None:
        contract = target.contract
        if contract.status not in RECEIVING_CONTRACT_STATES:
            raise RuleViolation(_l("合同%(n)s尚未生效或已作废，只有执行中或已完成的合同可以登记回款", n=contract.number))
        room = contract_room(session, contract)
        if booking > room:
            raise InvalidValue(_l("回款金额 ¥%(a)s 超过合同%(n)s未收金额 ¥%(o)s（含待确认的回款和抹零）",
                                  a=_yuan(booking), n=contract.number, o=_yuan(room)))
    if target.order is not None:
        order = target.order
        if order.state == OrderStatus.CANCELLED:
            raise RuleViolation(_l("订单%(n)s已取消，不能登记回款", n=order.number))
        room = receipt_room(session, order)
        if booking > room:
            raise InvalidValue(_l("回款金额 ¥%(a)s 超过未收金额 ¥%(o)s", a=_yuan(booking), o=_yuan(room)))


def _check_write_off(session: Session, raw: Any, kind: str, actor: Actor) -> Decimal:
    value = _money(raw, allow_zero=True)
    if not value:
        return ZERO
    if kind != PaymentKind.RECEIPT:
        raise InvalidValue(_l("只有回款可以抹零"))
    if not actor.can(WRITE_OFF_PERMISSION):
        raise PermissionDenied(_l("您没有回款抹零的权限"))
    limit = write_off_limit(session)
    if value > limit:
        raise InvalidValue(_l("抹零金额 ¥%(a)s 超过上限 ¥%(l)s", a=_yuan(value), l=_yuan(limit)))
    return value


# --- registering -------------------------------------------------------------------------------

def record(session: Session, order_id: Any = None, *, contract_id: Any = None, plan_id: Any = None, kind: str,
           amount: Any, paid_on: date, actor: Actor, now: datetime, method: str | None = None,
           write_off: Any = 0, note: str | None = None, custom: dict[str, Any] | None = None) -> Payment:
    """登记回款 (receipt) or 退款 (refund) on an order, a contract or an instalment the actor sees."""
    if not may_record(actor):
        raise PermissionDenied(_l("您没有登记回款的权限"))
    if kind not in (PaymentKind.RECEIPT, PaymentKind.REFUND):
        raise InvalidValue(_l("请选择回款或退款"))
    target = _resolve(session, actor, order_id, contract_id, plan_id)
    value = _amount(amount)
    writing_off = _check_write_off(session, write_off, kind, actor)
    if kind == PaymentKind.RECEIPT:
        _check_receipt(session, target, value, writing_off)
    else:
        if target.order is None:
            raise InvalidValue(_l("退款只针对订单的退货，请在订单页面登记退款"))
        refundable = receivables.refundable(target.order)
        if value > refundable:
            raise InvalidValue(_l("退款金额 ¥%(a)s 超过应退金额 ¥%(r)s（退款只针对退货）",
                                  a=_yuan(value), r=_yuan(refundable)))
    values = custom_fields.clean(session, "payment", custom) if custom is not None else {}
    through_flow = kind == PaymentKind.RECEIPT and _flow_applies(session, value)
    counts = not through_flow and confirms_on_entry(session, target.order, actor, target.owner_id)
    payment = Payment(order_id=target.order.id if target.order else None,
                      contract_id=target.contract.id if target.contract else None,
                      plan_id=target.plan.id if target.plan else None,
                      customer_id=target.customer_id, owner_id=target.owner_id, kind=kind, amount=value,
                      write_off=writing_off, paid_on=paid_on, method=method if method in METHODS else None,
                      note=normalize.text(note)[:255] or None, custom=values,
                      status=PaymentStatus.APPROVED if counts else PaymentStatus.PENDING,
                      recorded_by_id=actor.user_id, approved_by_id=actor.user_id if counts else None,
                      approved_at=now if counts else None)
    session.add(payment)
    session.flush()
    if kind == PaymentKind.RECEIPT:
        activity.record_activity(session, payment.customer_id, activity.ActivityKind.RECEIPT, at=now)
    if through_flow:
        approvals.submit(session, RECEIPT, payment.id, actor=actor, now=now, note=payment.note)
    _recompute_all(session, payment)
    return payment


# --- deciding ----------------------------------------------------------------------------------

def open_request(session: Session, payment_id: int) -> ApprovalRequest | None:
    """The approval request deciding this receipt now, if it went through a flow."""
    return session.scalar(select(ApprovalRequest).where(ApprovalRequest.open_key == f"{RECEIPT}:{int(payment_id)}",
                                                        ApprovalRequest.status == ApprovalStatus.PENDING))


def _settle(session: Session, payment: Payment, status: str, *, actor_id: int | None, now: datetime) -> None:
    """pending → status, one guarded UPDATE; then every figure it touches is recomputed."""
    for model, ident in ((Contract, payment.contract_id), (Order, payment.order_id), (PaymentPlan, payment.plan_id)):
        if ident is not None:
            _lock(session, model, ident)
    decided = status != PaymentStatus.WITHDRAWN
    done = session.execute(update(Payment).where(Payment.id == payment.id, Payment.status == PaymentStatus.PENDING)
                           .values(status=status, approved_by_id=actor_id if decided else None,
                                   approved_at=now if decided else None)
                           .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise RuleViolation(_l("这笔款项已经审核过了"))
    session.refresh(payment)
    _recompute_all(session, payment)


def _decide(session: Session, payment_id: Any, status: str, *, actor: Actor, now: datetime,
            reason: str | None = None) -> Payment:
    if not actor.can(APPROVE_PERMISSION):
        raise PermissionDenied(_l("您没有审核回款的权限"))
    payment = scope.get_in_scope(session, Payment, payment_id, actor)
    request = open_request(session, payment.id)
    if request is not None:  # the flow decides: the approver must be one of its current step
        if status == PaymentStatus.APPROVED:
            approvals.approve(session, request.id, actor=actor, now=now)
        else:
            approvals.reject(session, request.id, actor=actor, now=now, reason=reason or str(_l("财务驳回")))
        session.refresh(payment)
        return payment
    if status == PaymentStatus.APPROVED and (refused := own_payment_refusal(payment, actor)) is not None:
        raise refused
    _settle(session, payment, status, actor_id=actor.user_id, now=now)
    return payment


def approve(session: Session, payment_id: Any, *, actor: Actor, now: datetime) -> Payment:
    return _decide(session, payment_id, PaymentStatus.APPROVED, actor=actor, now=now)


def reject(session: Session, payment_id: Any, *, actor: Actor, now: datetime, reason: str | None = None) -> Payment:
    return _decide(session, payment_id, PaymentStatus.REJECTED, actor=actor, now=now, reason=reason)


def withdraw(session: Session, payment_id: Any, *, actor: Actor, now: datetime) -> Payment:
    """撤回: whoever registered a receipt takes it back before it is decided; its room is freed."""
    payment = scope.get_in_scope(session, Payment, payment_id, actor)
    if payment.recorded_by_id != actor.user_id:
        raise PermissionDenied(_l("只有登记人可以撤回这笔款项"))
    request = open_request(session, payment.id)
    if request is not None:
        approvals.withdraw(session, request.id, actor=actor, now=now)
        session.refresh(payment)
        return payment
    _settle(session, payment, PaymentStatus.WITHDRAWN, actor_id=actor.user_id, now=now)
    return payment


# --- the approval flow's hooks (doc type RECEIPT) ----------------------------------------------

def _summary(payment: Payment) -> tuple[str, Decimal, int | None, bool]:
    title = str(_l("回款 %(d)s ¥%(a)s", d=_label(payment), a=_yuan(payment.amount + payment.write_off)))
    # Segregation of duties: the person who registered a receipt is never its only approver.
    return title, payment.amount, payment.owner_id, False


def _link(payment: Payment) -> str:
    """The receipt page (admin_views/receipts.py mounts the list at /admin/payment/)."""
    return f"/admin/payment/details/?id={payment.id}"


def _actor_id(actor: Any) -> int | None:
    return getattr(actor, "user_id", actor)


def _on_approved(session: Session, payment: Payment, *, actor: Any, now: datetime) -> None:
    _settle(session, payment, PaymentStatus.APPROVED, actor_id=_actor_id(actor), now=now)


def _on_returned(session: Session, payment: Payment, *, actor: Any, now: datetime, action: Any,
                 reason: str | None = None) -> None:
    status = PaymentStatus.WITHDRAWN if action == ApprovalAction.WITHDRAW else PaymentStatus.REJECTED
    _settle(session, payment, status, actor_id=_actor_id(actor), now=now)


def _register_hooks() -> None:
    approvals.register(approvals.DocumentHooks(
        doc_type=RECEIPT, load=lambda session, doc_id: session.get(Payment, doc_id), summary=_summary, link=_link,
        on_approved=_on_approved, on_returned=_on_returned))


_register_hooks()
