"""回款: receipts against an order in instalments, refunds against returns, and their approval.
Only approved payments count; an order's `received` and `refunded` are recomputed from them
in SQL after every change, so they never drift from the payment rows."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.sales import Order, OrderStatus, Payment, PaymentKind, PaymentStatus
from rules import activity, normalize, orders, receivables, scope
from rules.actor import Actor
from rules.errors import InvalidValue, PermissionDenied, RuleViolation, SelfConfirmation

METHODS = {"transfer": _l("银行转账"), "cash": _l("现金"), "wechat": _l("微信"), "alipay": _l("支付宝"),
           "check": _l("支票"), "other": _l("其他")}
KIND_LABELS = {PaymentKind.RECEIPT.value: _l("回款"), PaymentKind.REFUND.value: _l("退款")}
STATUS_LABELS = {PaymentStatus.PENDING.value: _l("待确认"), PaymentStatus.APPROVED.value: _l("已确认"),
                 PaymentStatus.REJECTED.value: _l("已驳回")}
# Who confirms (or rejects) a payment waiting for approval; the payment list offers its actions
# to the same people.
APPROVE_PERMISSION = "payment.approve"


def may_record(actor: Actor) -> bool:
    return actor.can("order.create") or actor.can(APPROVE_PERMISSION)


def requires_approval(session: Session) -> bool:
    return bool(orders.setting(session, "payment_requires_approval"))


def confirms_on_entry(session: Session, order: Order, actor: Actor) -> bool:
    """Whether a payment the actor registers counts at once. With 回款需他人确认 on (the
    default) it does only when the actor may confirm payments and the order is not their own:
    a salesperson's receipt on his own order waits for somebody else, whatever his role."""
    if not requires_approval(session):
        return True
    return actor.can(APPROVE_PERMISSION) and order.salesperson_id != actor.user_id


def own_payment_refusal(payment: Payment, actor: Actor) -> RuleViolation | None:
    """Nobody confirms their own: neither a payment they registered nor one on their own order."""
    if payment.recorded_by_id == actor.user_id:
        return SelfConfirmation(_l("订单%(n)s的这笔款项是您自己登记的，不能由您确认，请由其他有审核回款权限的同事确认",
                                   n=payment.order.number))
    if payment.order.salesperson_id == actor.user_id:
        return SelfConfirmation(_l("订单%(n)s是您自己的订单，其款项不能由您确认，请由其他有审核回款权限的同事确认",
                                   n=payment.order.number))
    return None


def recompute(session: Session, order_id: int) -> None:
    def total(kind: str):
        return (select(func.coalesce(func.sum(Payment.amount), 0))
                .where(Payment.order_id == order_id, Payment.kind == kind, Payment.status == PaymentStatus.APPROVED)
                .scalar_subquery())

    session.execute(update(Order).where(Order.id == order_id)
                    .values(received=total(PaymentKind.RECEIPT), refunded=total(PaymentKind.REFUND))
                    .execution_options(synchronize_session=False))
    session.flush()
    order = session.get(Order, order_id)
    if order is not None:
        session.refresh(order)


def receipt_room(session: Session, order: Order) -> Decimal:
    """How much more may be registered as received: receipts still waiting for confirmation
    take their share too, so two unconfirmed entries never together exceed the order."""
    waiting = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.order_id == order.id, Payment.kind == PaymentKind.RECEIPT, Payment.status == PaymentStatus.PENDING))
    return max(receivables.payable(order) - waiting, Decimal("0"))


def _amount(raw: Any) -> Decimal:
    try:
        value = Decimal(normalize.text(raw).replace(",", "").replace("¥", ""))
    except InvalidOperation:
        raise InvalidValue(_l("金额格式不正确")) from None
    if not value.is_finite():  # NaN / Infinity: comparing or rounding them raises
        raise InvalidValue(_l("金额格式不正确"))
    if value <= 0:
        raise InvalidValue(_l("金额必须大于 0"))
    if value != value.quantize(orders.CENT):
        raise InvalidValue(_l("金额最多保留两位小数"))
    return value


def record(session: Session, order_id: Any, *, kind: str, amount: Any, paid_on: date, actor: Actor, now: datetime,
           method: str | None = None, note: str | None = None) -> Payment:
    """登记回款 (receipt) or 退款 (refund) on an order the actor sees."""
    if not may_record(actor):
        raise PermissionDenied(_l("您没有登记回款的权限"))
    order = scope.get_in_scope(session, Order, order_id, actor)
    value = _amount(amount)
    if kind == PaymentKind.RECEIPT:
        if order.state == OrderStatus.CANCELLED:
            raise RuleViolation(_l("订单%(n)s已取消，不能登记回款", n=order.number))
        room = receipt_room(session, order)
        if value > room:
            raise InvalidValue(_l("回款金额 ¥%(a)s 超过未收金额 ¥%(o)s", a=f"{value:,.2f}", o=f"{room:,.2f}"))
    elif kind == PaymentKind.REFUND:
        if value > receivables.refundable(order):
            raise InvalidValue(_l("退款金额 ¥%(a)s 超过应退金额 ¥%(r)s（退款只针对退货）",
                                  a=f"{value:,.2f}", r=f"{receivables.refundable(order):,.2f}"))
    else:
        raise InvalidValue(_l("请选择回款或退款"))
    pending = not confirms_on_entry(session, order, actor)
    payment = Payment(order_id=order.id, customer_id=order.customer_id, kind=kind, amount=value, paid_on=paid_on,
                      method=method if method in METHODS else None, note=normalize.text(note)[:255] or None,
                      status=PaymentStatus.PENDING if pending else PaymentStatus.APPROVED,
                      recorded_by_id=actor.user_id, approved_by_id=None if pending else actor.user_id,
                      approved_at=None if pending else now)
    session.add(payment)
    session.flush()
    if kind == PaymentKind.RECEIPT:
        activity.record_activity(session, order.customer_id, activity.ActivityKind.RECEIPT, at=now)
    recompute(session, order.id)
    return payment


def _decide(session: Session, payment_id: Any, status: str, *, actor: Actor, now: datetime) -> Payment:
    if not actor.can(APPROVE_PERMISSION):
        raise PermissionDenied(_l("您没有审核回款的权限"))
    payment = scope.get_in_scope(session, Payment, payment_id, actor)
    if status == PaymentStatus.APPROVED and (refused := own_payment_refusal(payment, actor)) is not None:
        raise refused
    done = session.execute(update(Payment).where(Payment.id == payment.id, Payment.status == PaymentStatus.PENDING)
                           .values(status=status, approved_by_id=actor.user_id, approved_at=now)
                           .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise RuleViolation(_l("这笔款项已经审核过了"))
    session.refresh(payment)
    recompute(session, payment.order_id)
    return payment


def approve(session: Session, payment_id: Any, *, actor: Actor, now: datetime) -> Payment:
    return _decide(session, payment_id, PaymentStatus.APPROVED, actor=actor, now=now)


def reject(session: Session, payment_id: Any, *, actor: Actor, now: datetime) -> Payment:
    return _decide(session, payment_id, PaymentStatus.REJECTED, actor=actor, now=now)
