"""应收/实收/欠款/应退: the one definition, in Python (an order's page) and in SQL (lists,
customer sums, reports, summaries), so the order list, the customer page and 公司销售报表 can
never disagree about what a customer owes.

An order becomes receivable when it is approved (审核): an order 等待审核 may still be changed or
cancelled, so it owes nothing yet, although a prepayment on it is accepted. What the customer
keeps (订单金额 net of returns) is owed; a cancelled order keeps nothing. Only confirmed
payments count (rules/payments.py keeps `received`/`refunded` to the confirmed ones).

A contract (合同) owes its total once it is executed (执行中 or 已完成); `received` is kept net of
refunds from the approved receipts booked on it, its instalments and the orders produced from
it. Such an order is part of its contract: its money is counted once, in the contract, so the
order figures below are for orders without a contract (`own_order_sql`)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, literal

from models.contract import Contract, ContractStatus
from models.sales import Order, OrderStatus, Payment, PaymentKind, PaymentStatus

ZERO = Decimal("0")
S = OrderStatus
RECEIVABLE_STATES: tuple[str, ...] = (S.PICKING.value, S.SHIPPED.value, S.COMPLETED.value, S.RETURNED.value)

CONTRACT_RECEIVABLE_STATES: tuple[str, ...] = (ContractStatus.ACTIVE.value, ContractStatus.COMPLETED.value)

# The 统计口径 text of every page and report that shows 应收/欠款.
DEFINITION = _l("应收 = 已审核订单（正在配货、已发货、已完成、退货）扣除退货后的金额；等待审核和已取消的订单不计应收。"
                "实收只计已确认的回款，待确认的回款不计入。欠款 = 应收 − 实收 + 实退（不小于 0）；"
                "应退 = 实收 − 实退 − 订单保留金额（不小于 0）。")
CONTRACT_DEFINITION = _l("合同应收 = 执行中和已完成的合同金额；草稿、审批中的合同不计，已作废的合同不计应收。"
                         "合同实收 = 记在合同、其回款计划或由合同生成的订单上的已审核回款，扣除已审核的退款；待审批的回款不计入。"
                         "合同欠款 = 合同应收 − 合同实收 − 抹零（不小于 0），抹零结清欠款但不是实收。"
                         "由合同生成的订单只在其合同中计算一次，不再按订单计入应收和实收。")


# --- Python, for one loaded order ---------------------------------------------------------------

def kept_amount(order: Order) -> Decimal:
    """订单金额 net of returns: what the customer keeps and pays for."""
    return (order.total or ZERO) - (order.returned_amount or ZERO)


def due(order: Order) -> Decimal:
    """What the customer will pay in the end (caps receipts, prepayments included)."""
    return ZERO if order.state == S.CANCELLED else kept_amount(order)


def receivable(order: Order) -> Decimal:
    return kept_amount(order) if order.state in RECEIVABLE_STATES else ZERO


def outstanding(order: Order) -> Decimal:
    return max(receivable(order) - order.received + order.refunded, ZERO)


def refundable(order: Order) -> Decimal:
    return max(order.received - order.refunded - due(order), ZERO)


def payable(order: Order) -> Decimal:
    """How much more may be received (a prepayment before approval too)."""
    return max(due(order) - order.received + order.refunded, ZERO)


def figures(order: Order) -> dict[str, Decimal]:
    return {"receivable": receivable(order), "received": order.received, "outstanding": outstanding(order),
            "refundable": refundable(order), "refunded": order.refunded}


# --- SQL, the same definition for sums -----------------------------------------------------------

def _positive(expr: Any) -> Any:
    return case((expr > 0, expr), else_=literal(0))


def kept_amount_sql() -> Any:
    return Order.total - Order.returned_amount


def due_sql() -> Any:
    return case((Order.state == S.CANCELLED, literal(0)), else_=kept_amount_sql())


def receivable_sql() -> Any:
    return case((Order.state.in_(RECEIVABLE_STATES), kept_amount_sql()), else_=literal(0))


def outstanding_sql() -> Any:
    return _positive(receivable_sql() - Order.received + Order.refunded)


def refundable_sql() -> Any:
    return _positive(Order.received - Order.refunded - due_sql())


def own_order_sql() -> Any:
    """Orders counted as orders: those produced from a contract count in their contract."""
    return Order.contract_id.is_(None)


# --- contracts, in SQL ---------------------------------------------------------------------------

def contract_receivable_sql() -> Any:
    return case((Contract.status.in_(CONTRACT_RECEIVABLE_STATES), Contract.total), else_=literal(0))


def contract_outstanding_sql() -> Any:
    return _positive(contract_receivable_sql() - Contract.received - Contract.written_off)


def contract_refundable_sql() -> Any:
    """A voided contract keeps nothing: what was received on it is to be refunded."""
    return _positive(Contract.received - _positive(contract_receivable_sql() - Contract.written_off))


def contract_counted_sql() -> Any:
    """Contracts a report counts: executed ones, and voided ones still holding money. Written as
    one IN over the states, so the (status, deleted_at, signed_on, …) index serves it."""
    return (Contract.status.in_((*CONTRACT_RECEIVABLE_STATES, ContractStatus.VOID.value))
            & ((Contract.status != ContractStatus.VOID) | (Contract.received != 0)))


def contract_receipts_sql() -> tuple[Any, Any]:
    """Cash of the approved receipts booked on contracts (refunds negative; 抹零 is not cash),
    and the condition that picks them."""
    cash = case((Payment.kind == PaymentKind.REFUND, -Payment.amount), else_=Payment.amount)
    return cash, (Payment.contract_id.is_not(None)) & (Payment.status == PaymentStatus.APPROVED)
