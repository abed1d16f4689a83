"""开票与回款的余额 of a contract, an order and a customer: 应收 / 已收 / 已开票 / 未开票 / 已收未开 /
已开未收 — one definition, in Python (a document's page) and in SQL (sums over a customer's
contracts and orders), so the two can never disagree.

- 应收: a contract 执行中 or 已完成 owes its total; an order owes what rules/receivables.py says
  (approved, net of returns); an order produced from a contract owes nothing of its own — its
  money is the contract's (and its receipts and invoices carry the contract too).
- 已收: approved receipts net of refunds (contract.received; order.received − order.refunded).
  抹零 settles a debt but is not cash, so it is not 已收.
- 已开票: issued invoices net of 红冲 (contract.invoiced, kept by rules/invoices.recompute).
- 未开票 = 应收 − 已开票 (not below 0); 已收未开 = 已收 − 已开票 and 已开未收 = 已开票 − 已收, each
  not below 0 (one of the two is always 0)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from models.contract import Contract, ContractStatus
from models.invoice import Invoice, InvoiceStatus
from models.sales import Order
from rules import receivables

ZERO = Decimal("0")
RECEIVABLE_STATES: tuple[str, ...] = (ContractStatus.ACTIVE.value, ContractStatus.COMPLETED.value)

DEFINITION = _l("应收 = 执行中和已完成合同的总额，加上不属于合同的已审核订单（扣除退货）；由合同生成的订单计入其合同。"
                "已收 = 已确认的回款减去退款（抹零不算已收）。已开票 = 已开具的发票减去红冲。"
                "未开票 = 应收 − 已开票；已收未开 = 已收 − 已开票，已开未收 = 已开票 − 已收（均不小于 0）。")

LABELS = {"receivable": _l("应收"), "received": _l("已收"), "invoiced": _l("已开票"), "uninvoiced": _l("未开票"),
          "received_not_invoiced": _l("已收未开"), "invoiced_not_received": _l("已开未收")}


@dataclass(frozen=True)
class Balances:
    receivable: Decimal
    received: Decimal
    invoiced: Decimal

    @property
    def uninvoiced(self) -> Decimal:
        return max(self.receivable - self.invoiced, ZERO)

    @property
    def received_not_invoiced(self) -> Decimal:
        return max(self.received - self.invoiced, ZERO)

    @property
    def invoiced_not_received(self) -> Decimal:
        return max(self.invoiced - self.received, ZERO)

    def __add__(self, other: Balances) -> Balances:
        return Balances(self.receivable + other.receivable, self.received + other.received,
                        self.invoiced + other.invoiced)

    def as_dict(self) -> dict[str, Decimal]:
        return {key: getattr(self, key) for key in LABELS}


NOTHING = Balances(ZERO, ZERO, ZERO)


# --- Python, for one loaded document -------------------------------------------------------------

def contract_receivable(contract: Contract) -> Decimal:
    return contract.total if contract.status in RECEIVABLE_STATES else ZERO


def of_contract(contract: Contract) -> Balances:
    return Balances(contract_receivable(contract), contract.received or ZERO, contract.invoiced or ZERO)


def order_invoiced(session: Session, order_id: int) -> Decimal:
    """已开票 of an order: its issued invoices net of 红冲 (orders keep no column of their own)."""
    return Decimal(session.scalar(select(func.coalesce(func.sum(Invoice.amount), 0)).where(
        Invoice.order_id == order_id, Invoice.status == InvoiceStatus.ISSUED)) or 0)


def of_order(session: Session, order: Order) -> Balances:
    """An order's own figures; one produced from a contract owes nothing of its own (its contract does)."""
    if order.contract_id is not None:
        return Balances(ZERO, ZERO, ZERO)
    return Balances(receivables.receivable(order), (order.received or ZERO) - (order.refunded or ZERO),
                    order_invoiced(session, order.id))


# --- SQL, the same definition for sums -----------------------------------------------------------

def _positive(expr: Any) -> Any:
    return case((expr > 0, expr), else_=literal(0))


def contract_receivable_sql() -> Any:
    return case((Contract.status.in_(RECEIVABLE_STATES), Contract.total), else_=literal(0))


def uninvoiced_sql(receivable: Any, invoiced: Any) -> Any:
    return _positive(receivable - invoiced)


def received_not_invoiced_sql(received: Any, invoiced: Any) -> Any:
    return _positive(received - invoiced)


def invoiced_not_received_sql(received: Any, invoiced: Any) -> Any:
    return _positive(invoiced - received)


def contract_columns() -> list[Any]:
    """The six figures of each contract as labelled columns (a list or a report selects them)."""
    receivable, received, invoiced = contract_receivable_sql(), Contract.received, Contract.invoiced
    return [receivable.label("receivable"), received.label("received"), invoiced.label("invoiced"),
            uninvoiced_sql(receivable, invoiced).label("uninvoiced"),
            received_not_invoiced_sql(received, invoiced).label("received_not_invoiced"),
            invoiced_not_received_sql(received, invoiced).label("invoiced_not_received")]


def _sums(session: Session, stmt: Any) -> dict[int, tuple[Decimal, Decimal]]:
    return {row[0]: (Decimal(row[1] or 0), Decimal(row[2] or 0)) for row in session.execute(stmt)}


def of_customers(session: Session, customer_ids: Iterable[int]) -> dict[int, Balances]:
    """Each customer's figures over its contracts, its orders outside contracts and every issued
    invoice (a customer may also be invoiced without a document): three grouped sums."""
    ids = list(customer_ids)
    if not ids:
        return {}
    contracts = _sums(session, select(Contract.customer_id, func.sum(contract_receivable_sql()),
                                      func.sum(Contract.received))
                      .where(Contract.customer_id.in_(ids), Contract.deleted_at.is_(None))
                      .group_by(Contract.customer_id))
    orders = _sums(session, select(Order.customer_id, func.sum(receivables.receivable_sql()),
                                   func.sum(Order.received - Order.refunded))
                   .where(Order.customer_id.in_(ids), Order.contract_id.is_(None)).group_by(Order.customer_id))
    invoiced = {row[0]: Decimal(row[1] or 0) for row in session.execute(
        select(Invoice.customer_id, func.sum(Invoice.amount))
        .where(Invoice.customer_id.in_(ids), Invoice.status == InvoiceStatus.ISSUED).group_by(Invoice.customer_id))}
    found = {}
    for ident in ids:
        c_due, c_got = contracts.get(ident, (ZERO, ZERO))
        o_due, o_got = orders.get(ident, (ZERO, ZERO))
        found[ident] = Balances(c_due + o_due, c_got + o_got, invoiced.get(ident, ZERO))
    return found


def of_customer(session: Session, customer_id: int) -> Balances:
    return of_customers(session, [customer_id])[customer_id]
