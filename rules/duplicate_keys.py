"""Duplicate-check keys follow the entry policy: a field's keys are written only while the policy
checks it (rules/entry.keyed_fields), so a policy that starts checking a field needs that
field's keys for the customers entered before.

Choice: the new policy is saved at once for everything except the fields it starts checking;
those wait, stored as the pending policy, until a batched job has built their keys, and only
then does the check compare them. While they wait the check says nothing about those fields
(as before the change) instead of claiming "no duplicate" against an index that is still
half-built; every save meanwhile already writes keys for them (keyed_fields includes the
pending fields), so no customer is missed between the job's batches.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from models.customer import Contact, Customer, CustomerKey
from rules import entry, settings

BATCH = 2_000


def change_policy(session: Session, policy: dict[str, Any]) -> list[str]:
    """Save the administrator's entry policy. Returns the fields whose keys must be built
    first (the caller enqueues build_pending after the commit); until then they keep their
    current action."""
    current = entry.load_policy(session)
    keyed = entry.ALWAYS_KEYED | entry.checked_fields(current)
    build = sorted(entry.checked_fields(policy) - keyed)
    if not build:
        settings.put(session, entry.PENDING_POLICY, None)
        settings.put(session, "entry_policy", policy)
        return []
    waiting = {**policy, "duplicates": {**policy["duplicates"],
                                        **{f: current["duplicates"].get(f, entry.ALLOW) for f in build}}}
    settings.put(session, "entry_policy", waiting)
    settings.put(session, entry.PENDING_POLICY, {"policy": policy, "build": build, "after_id": 0})
    return build


def pending_fields(session: Session) -> list[str]:
    pending = settings.get(session, entry.PENDING_POLICY)
    return list(pending["build"]) if pending else []


def build_batch(session: Session, *, size: int = BATCH) -> bool:
    """Build the pending fields' keys for the next `size` customers (by id) and move the mark;
    after the last batch the pending policy takes effect. Returns True when done. Idempotent:
    a batch rewrites its customers' keys of those fields, so a rerun after a crash is harmless."""
    pending = settings.get(session, entry.PENDING_POLICY)
    if not pending:
        return True
    fields = list(pending["build"])
    ids = list(session.scalars(select(Customer.id).where(Customer.id > pending["after_id"])
                               .order_by(Customer.id).limit(size)))
    if not ids:
        settings.put(session, "entry_policy", pending["policy"])
        settings.put(session, entry.PENDING_POLICY, None)
        return True
    contacts: dict[int, list[Contact]] = {}
    for contact in session.scalars(select(Contact).where(Contact.customer_id.in_(ids))):
        contacts.setdefault(contact.customer_id, []).append(contact)
    session.execute(delete(CustomerKey).where(CustomerKey.customer_id.in_(ids), CustomerKey.field.in_(fields)))
    rows = [{"customer_id": customer.id, "field": f, "value": v}
            for customer in session.scalars(select(Customer).where(Customer.id.in_(ids)))
            for f, v in sorted(entry.keys_for(customer, contacts.get(customer.id, []), fields))]
    if rows:
        session.execute(insert(CustomerKey), rows)
    settings.put(session, entry.PENDING_POLICY, {**pending, "after_id": ids[-1]})
    return False
