"""业务活动: what counts as working a customer for the recycle rules, besides follow-ups.

Two facts feed the rules in rules/recycle.py, each kept in one place here:
- `record_activity` stamps `Customer.last_activity_at` when business happens on a customer
  (an order placed, approved, shipped or signed; a receipt registered). The recycle clocks
  (领用后未联系, 长期未联系, 未成交) restart from it exactly as from a follow-up.
- `open_business_clause` is the SQL test "this customer has business in progress" (an order in
  等待审核, 正在配货 or 已发货, an open opportunity, a sent quote). Such a customer is never recycled, whatever its clocks
  say; the nightly job, the 将被回收 list and the 还剩 N 天 countdown all use this one clause.

Every future domain that does business with a customer MUST take part: opportunities,
quotes, contracts, instalments and receipts call `record_activity` at each move a salesperson
makes, and a document that is still open (an opportunity not yet won/lost, a contract in
approval or active) adds its EXISTS to `open_business_clause`. Otherwise the nightly recycle
takes customers from salespeople in the middle of a deal.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, exists, or_, select, update
from sqlalchemy.orm import Session

from models.contract import Contract, ContractStatus
from models.customer import Customer
from models.opportunity import Opportunity, OpportunityAction, Outcome
from models.quote import Quote, QuoteStatus
from models.sales import Order, OrderStatus

# Orders on their way: placed and not yet completed, cancelled or returned.
OPEN_ORDER_STATES = (OrderStatus.PENDING_REVIEW, OrderStatus.PICKING, OrderStatus.SHIPPED)
# Contracts being approved or executed: the customer is in the middle of a deal.
OPEN_CONTRACT_STATES = (ContractStatus.APPROVING.value, ContractStatus.ACTIVE.value)


class ActivityKind(enum.StrEnum):
    """Why a customer's activity clock moved (callers name it; the audit of the move is the
    document's own event row)."""

    ORDER_PLACED = "order_placed"
    ORDER_APPROVED = "order_approved"
    ORDER_SHIPPED = "order_shipped"
    ORDER_SIGNED = "order_signed"
    RECEIPT = "receipt"
    QUOTE_SENT = "quote_sent"
    QUOTE_ACCEPTED = "quote_accepted"
    OPPORTUNITY_CREATED = "opportunity_created"
    OPPORTUNITY_MOVED = "opportunity_moved"
    OPPORTUNITY_WON = "opportunity_won"
    CONTRACT_SIGNED = "contract_signed"      # submitted (signed with the customer)
    CONTRACT_APPROVED = "contract_approved"  # in force


def record_activity(session: Session, customer_ids: int | Iterable[int], kind: ActivityKind, *,
                    at: datetime) -> None:
    """Business happened on these customers at `at`: their recycle clocks restart. One UPDATE
    that only moves the stamp forward, so a late or repeated call never turns the clock back."""
    ids = [customer_ids] if isinstance(customer_ids, int) else list(customer_ids)
    if not ids:
        return
    session.execute(update(Customer).where(
        Customer.id.in_(ids), or_(Customer.last_activity_at.is_(None), Customer.last_activity_at < at))
        .values(last_activity_at=at).execution_options(synchronize_session=False))
    for customer in (session.identity_map.get(session.identity_key(Customer, i)) for i in ids):
        if customer is not None:
            session.expire(customer, ["last_activity_at"])


# The order moves that are business (cancel and return are the customer walking away).
ORDER_MOVES = {"submit": ActivityKind.ORDER_PLACED, "approve": ActivityKind.ORDER_APPROVED,
               "ship": ActivityKind.ORDER_SHIPPED, "sign": ActivityKind.ORDER_SIGNED}


def record_order_move(session: Session, customer_id: int, action: str, *, at: datetime) -> None:
    """rules/orders.py calls this at every move; the moves that are business stamp the customer."""
    if action in ORDER_MOVES:
        record_activity(session, customer_id, ORDER_MOVES[action], at=at)


# The opportunity moves that are business: entering it, moving its stage, winning it (rules/
# opportunities.py calls this on create; rules/opportunity_stages.py on move and win). Losing,
# marking invalid and reopening are not a salesperson working the customer.
OPPORTUNITY_MOVES = {OpportunityAction.CREATE: ActivityKind.OPPORTUNITY_CREATED,
                     OpportunityAction.STAGE: ActivityKind.OPPORTUNITY_MOVED,
                     OpportunityAction.WON: ActivityKind.OPPORTUNITY_WON}


def record_opportunity_move(session: Session, customer_id: int, action: str, *, at: datetime) -> None:
    """An opportunity of this customer was created, moved a stage or won: its clocks restart."""
    if action in OPPORTUNITY_MOVES:
        record_activity(session, customer_id, OPPORTUNITY_MOVES[action], at=at)


def open_business_clause() -> ColumnElement[bool]:
    """The customer has business in progress (exempt from recycling): an order on its way, an
    open opportunity (not yet won, lost or invalid) of which it is the main customer, a quote
    it has in hand (已发送), or a contract in approval or in force (审批中, 执行中). Each an EXISTS per customer on an index by customer_id, so the recycle
    stays one statement over a million customers."""
    return or_(
        exists(select(Order.id).where(Order.customer_id == Customer.id, Order.state.in_(OPEN_ORDER_STATES))),
        exists(select(Opportunity.id).where(Opportunity.customer_id == Customer.id,
                                            Opportunity.outcome == Outcome.OPEN.value,
                                            Opportunity.deleted_at.is_(None))),
        exists(select(Quote.id).where(Quote.customer_id == Customer.id, Quote.status == QuoteStatus.SENT,
                                      Quote.deleted_at.is_(None))),
        exists(select(Contract.id).where(Contract.customer_id == Customer.id,
                                         Contract.status.in_(OPEN_CONTRACT_STATES),
                                         Contract.deleted_at.is_(None))))


def busy_ids(session: Session, customer_ids: Iterable[int]) -> set[int]:
    """Which of these customers `open_business_clause` exempts (a list page's rows at once)."""
    ids = list(set(customer_ids))
    if not ids:
        return set()
    return set(session.scalars(select(Customer.id).where(Customer.id.in_(ids), open_business_clause())))
