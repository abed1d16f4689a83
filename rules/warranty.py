"""保修: when a sold product's warranty ends, and whether a repair falls within it.

An order line's warranty ends `Product.warranty_months` after the day it ships (set by
rules/orders.ship); a contract line's is entered or, when left empty, runs from the contract's
start (or signing) day. Lines sold before warranty ends were kept are judged the same way from
their order's ship day. A product without warranty months has no warranty."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.contract import Contract, ContractLine
from models.product import Product
from models.sales import Order, OrderLine
from models.service import Ticket
from rules.clock import local_date
from rules.payment_plans import add_months


def end_after(start: date | None, months: int | None) -> date | None:
    """The last day covered: `months` after `start`, the day before the same day of that month."""
    if start is None or not months:
        return None
    return date.fromordinal(add_months(start, months).toordinal() - 1)


def fill_order_lines(order: Order, shipped_on: date) -> None:
    """At ship: each line's warranty end from its product's warranty months."""
    for line in order.lines:
        line.warranty_until = end_after(shipped_on, line.product.warranty_months)


def until_for(session: Session, ticket: Ticket, tz: str) -> date | None:
    """The warranty end of the ticket's product on its order (else its contract), or None."""
    if ticket.product_id is None:
        return None
    months = session.scalar(select(Product.warranty_months).where(Product.id == ticket.product_id))
    if ticket.order_id is not None:
        row = session.execute(
            select(OrderLine.warranty_until, Order.shipped_at).join(Order, Order.id == OrderLine.order_id)
            .where(OrderLine.order_id == ticket.order_id, OrderLine.product_id == ticket.product_id)
            .order_by(OrderLine.id).limit(1)).first()
        if row is not None:
            until, shipped_at = row
            return until or end_after(local_date(shipped_at, tz) if shipped_at else None, months)
    if ticket.contract_id is not None:
        row = session.execute(
            select(ContractLine.warranty_until, Contract.start_on, Contract.signed_on)
            .join(Contract, Contract.id == ContractLine.contract_id)
            .where(ContractLine.contract_id == ticket.contract_id, ContractLine.product_id == ticket.product_id)
            .order_by(ContractLine.id).limit(1)).first()
        if row is not None:
            until, start_on, signed_on = row
            return until or end_after(start_on or signed_on, months)
    return None


def covers(until: date | None, reported_on: date) -> bool:
    """Free repair: reported on or before the warranty's last day."""
    return until is not None and reported_on <= until
