"""撞单 for leads: a lead is checked against the other leads, the customers (owned or waiting in
the customer pool) and the protected customers, with the customer's own entry policy
(rules/entry.py), normalisation (rules/normalize.py) and protection policy
(rules/protection.py). Each look-up is one indexed query on lead_keys or customer_keys.

An existing record is named only when the actor may see it (in their data scope, or waiting in a
pool where anyone may claim it); otherwise the message says only that it collides, as the
importer does (rules/import_duplicates.masked). A lead without an actor (a web form) names none.
"""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import literal, or_, select
from sqlalchemy.orm import Session

from models.customer import Customer, CustomerKey
from models.lead import Lead, LeadKey, LeadStatus
from rules import entry, import_duplicates, normalize, protection, scope
from rules.actor import Actor
from rules.entry import EntryIssue, Lookup

# The entry-policy fields a lead has; its company is compared as a name.
CHECKED = ("name", "contact_name", "phone", "mobile", "email")


def values_of(lead: Lead) -> dict[str, list[str]]:
    names = [v for v in (lead.name, lead.company) if normalize.text(v)]
    unique_names = list(dict.fromkeys(names, None))
    return {"name": unique_names, "contact_name": [lead.contact_name] if lead.contact_name else [],
            "phone": [lead.phone] if lead.phone else [], "mobile": [lead.mobile] if lead.mobile else [],
            "email": [lead.email] if lead.email else []}


def issues(session: Session, lead: Lead, *, actor: Actor | None, now: datetime) -> list[EntryIssue]:
    """Every error and warning for `lead` (formats, duplicates, protected customers)."""
    policy = entry.load_policy(session)
    # A lead needs only its name (checked by the caller); the policy's required fields are the
    # customer form's (客户编号, 传真...), which a lead does not have.
    policy = {**policy, "required": []}
    values = values_of(lead)
    found = entry.check(values, policy, lookup=customer_lookup(session, actor))
    if any(i.is_error for i in found):
        return found
    found += entry.check(values, {**policy, "check_formats": False}, lookup=lead_lookup(session, actor, lead.id),
                         against=entry.AGAINST_LEADS)
    owner_id = lead.owner_id if lead.id else (actor.user_id if actor else None)
    entrant = SimpleNamespace(id=None, name=lead.name, phone=lead.phone, mobile=lead.mobile, owner_id=owner_id)
    found += protection.collisions(session, entrant, now=now, find=protected_lookup(session, actor, now))
    if lead.company and normalize.key("name", lead.company) != normalize.key("name", lead.name):
        entrant.name = lead.company
        found += [i for i in protection.collisions(session, entrant, now=now, find=protected_lookup(session, actor, now))
                  if i.field == "name"]
    return found


def customer_lookup(session: Session, actor: Actor | None) -> Lookup:
    """Live customers holding a value, named only where the actor may see them."""
    raw = entry.database_lookup(session)

    def lookup(field: str, key: str) -> list[tuple[int, str, str | None]]:
        found = raw(field, key)
        visible = _visible(session, Customer, actor, [cid for cid, _n, _c in found])
        return import_duplicates.masked(lambda _f, _k: found, visible)(field, key)

    return lookup


def lead_lookup(session: Session, actor: Actor | None, exclude_id: int | None) -> Lookup:
    """Live, unconverted leads holding a value (a converted lead is found as its customer)."""

    def lookup(field: str, key: str) -> list[tuple[int, str, str | None]]:
        stmt = (select(Lead.id, Lead.name, literal(None))
                .join(LeadKey, LeadKey.lead_id == Lead.id)
                .where(LeadKey.field == field, LeadKey.value == key, Lead.deleted_at.is_(None),
                       Lead.status != LeadStatus.CONVERTED.value)
                .limit(3))
        if exclude_id is not None:
            stmt = stmt.where(Lead.id != exclude_id)
        found = [tuple(row) for row in session.execute(stmt)]
        visible = _visible(session, Lead, actor, [lid for lid, _n, _c in found])
        return [(lid, name, None) if lid in visible else (lid, str(_l("权限范围外的线索")), None)
                for lid, name, _c in found]

    return lookup


def protected_lookup(session: Session, actor: Actor | None, now: datetime) -> protection.ProtectedLookup:
    """protection.collisions' look-up: a customer someone else protects, named where visible."""

    def find(field: str, key: str, owner_id: int | None) -> str | None:
        stmt = (select(Customer.id, Customer.name).join(CustomerKey, CustomerKey.customer_id == Customer.id)
                .where(CustomerKey.field == field, CustomerKey.value == key, Customer.protected_until > now,
                       Customer.deleted_at.is_(None))
                .limit(1))
        if owner_id is not None:
            stmt = stmt.where(Customer.owner_id != owner_id)
        hit = session.execute(stmt).first()
        if hit is None:
            return None
        return hit.name if hit.id in _visible(session, Customer, actor, [hit.id]) else str(_l("权限范围外的客户"))

    return find


def _visible(session: Session, model: type, actor: Actor | None, ids: list[int]) -> set[int]:
    """Of `ids`, those the actor sees: in their data scope, or unowned in a pool (a pool page
    shows its records' names to everyone who may claim them)."""
    if not ids or actor is None:
        return set()
    in_pool = model.owner_id.is_(None)
    if model is Customer:
        in_pool = in_pool & Customer.pool_id.is_not(None)
    return set(session.scalars(select(model.id).where(model.id.in_(ids),
                                                      or_(scope.clause_for(model, actor), in_pool))))
