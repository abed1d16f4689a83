"""客服控制台: a caller's number (or a name) → the customers it belongs to, and for one of them
what an agent needs on the phone: the contact the number is theirs, open tickets, recent orders,
contracts and the last follow-ups. Found with the customer quick search (rules/search.py: the
same index, phones by their digits), always within the actor's scope."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models.contract import Contract
from models.customer import Contact, Customer, FollowUp
from models.sales import Order
from models.service import ACTIVE_CATEGORIES, Ticket
from rules import normalize, scope, search
from rules.actor import Actor

FOUND_AT_MOST = 20
RECENT = 5


@dataclass
class CallerCard:
    customer: Customer
    contact: Contact | None  # whose number it was (a new ticket names them)
    contacts: list[Contact]
    open_tickets: list[Ticket]
    orders: list[Order] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)


def find(session: Session, term: str, actor: Actor) -> list[Customer]:
    """The customers in scope that the typed number or name finds (at most FOUND_AT_MOST)."""
    where = search.clause(session, term or "")
    if where is None:
        return []
    return list(session.scalars(scope.scoped(select(Customer), Customer, actor).where(where)
                                .order_by(Customer.id.desc()).limit(FOUND_AT_MOST)))


def _phone_contact(contacts: list[Contact], term: str | None) -> Contact | None:
    digits = normalize.phone(term or "") if term else ""
    if len(digits) < 4:
        return None
    for contact in contacts:
        if any(digits in normalize.phone(v) for v in (contact.mobile, contact.phone) if v):
            return contact
    return None


def card(session: Session, customer_id: Any, actor: Actor, *, term: str | None = None) -> CallerCard:
    """One customer's card (OutOfScope outside the actor's scope: the view answers 404)."""
    customer = scope.get_in_scope(session, Customer, customer_id, actor)
    contacts = list(session.scalars(select(Contact).where(Contact.customer_id == customer.id)
                                    .order_by(Contact.is_primary.desc(), Contact.id)))
    tickets = scope.scoped(select(Ticket), Ticket, actor).where(
        Ticket.customer_id == customer.id, Ticket.status_category.in_(ACTIVE_CATEGORIES)) \
        .options(joinedload(Ticket.status), joinedload(Ticket.assignee), joinedload(Ticket.ticket_type)) \
        .order_by(Ticket.id.desc()).limit(50)
    found = CallerCard(customer=customer, contact=_phone_contact(contacts, term), contacts=contacts,
                       open_tickets=list(session.scalars(tickets)))
    if actor.can("order.view"):
        found.orders = list(session.scalars(scope.scoped(select(Order), Order, actor)
                                            .where(Order.customer_id == customer.id)
                                            .order_by(Order.order_date.desc(), Order.id.desc()).limit(RECENT)))
    if actor.can("contract.view"):
        found.contracts = list(session.scalars(scope.scoped(select(Contract), Contract, actor)
                                               .where(Contract.customer_id == customer.id)
                                               .order_by(Contract.id.desc()).limit(RECENT)))
    found.follow_ups = list(session.scalars(scope.scoped(select(FollowUp), FollowUp, actor)
                                            .where(FollowUp.customer_id == customer.id)
                                            .options(joinedload(FollowUp.user))
                                            .order_by(FollowUp.happened_at.desc()).limit(RECENT)))
    return found
