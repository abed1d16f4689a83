"""客户保护: a salesperson protects own customers against colliding sales (撞单). A protected
customer is never recycled nor shown in the pool, and a new entry with the same name or phone
is warned or refused, per the administrator's policy.

取消保护 either keeps the customer with its owner or gives it back to the pool (through
rules.pool.release: the owner's home pool, an OwnershipEvent). Salespeople get both actions;
the policy's `on_unprotect` says which one is the default (listed first, marked as such)."""
from __future__ import annotations

from collections.abc import Callable
import enum
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.customer import Customer, CustomerKey
from rules import normalize, settings
from rules import pool as pool_rules
from rules.actor import Actor
from rules.entry import EntryIssue
from rules.errors import InvalidValue, OutOfScope, RuleViolation



class OnUnprotect(enum.StrEnum):
    """What 取消保护 does by default."""

    KEEP = "keep"        # 取消保护: the customer stays with its owner
    RELEASE = "release"  # 取消保护并放回客户池


# The OwnershipEvent note of a release by unprotecting (a note is kept as written, like a person's).
RELEASE_NOTE = "取消保护并放回客户池"

DEFAULT_POLICY: dict[str, Any] = {"max_protected": 20, "days": 30, "warn_days": 3, "on_collision": "warn",
                                  "on_unprotect": OnUnprotect.KEEP.value}


def load_policy(session: Session) -> dict[str, Any]:
    return {**DEFAULT_POLICY, **(settings.get(session, "protection_policy") or {})}


def protect(session: Session, customer_id: int, *, actor: Actor, now: datetime) -> datetime:
    """Protect one of one's own customers for the policy's days; returns the end."""
    policy = load_policy(session)
    customer = session.get(Customer, customer_id)
    if customer is None or customer.owner_id != actor.user_id or customer.deleted_at is not None:
        raise OutOfScope(_l("记录不存在"))
    active = session.scalar(select(func.count(Customer.id)).where(
        Customer.owner_id == actor.user_id, Customer.protected_until > now, Customer.id != customer_id)) or 0
    if active >= int(policy["max_protected"]):
        raise RuleViolation(_l("最多只能保护 %(m)d 位客户，您已保护 %(n)d 位", m=int(policy["max_protected"]), n=active))
    customer.protected_until = now + timedelta(days=int(policy["days"]))
    session.flush()
    return customer.protected_until


def on_unprotect(session: Session) -> OnUnprotect:
    value = load_policy(session).get("on_unprotect")
    return OnUnprotect(value) if value in set(OnUnprotect) else OnUnprotect.KEEP


def unprotect(session: Session, customer_id: int, *, actor: Actor, now: datetime, release: bool = False) -> None:
    """取消保护 of one's own customer; with `release`, also 放弃 it to the pool."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.owner_id != actor.user_id:
        raise OutOfScope(_l("记录不存在"))
    if customer.protected_until is None:
        raise InvalidValue(_l("客户“%(n)s”没有受保护", n=customer.name))
    customer.protected_until = None
    session.flush()
    if release:
        pool_rules.release(session, customer_id, actor=actor, reason=RELEASE_NOTE, now=now)


def expiring_clause(owner_id: int, now: datetime, warn_days: int):
    return (Customer.owner_id == owner_id) & (Customer.protected_until > now) & (
        Customer.protected_until <= now + timedelta(days=warn_days))


# (field, normalised value, owner id of the new entry) -> name of a protected customer or None
ProtectedLookup = Callable[[str, str, "int | None"], "str | None"]


def collision_keys(customer: Customer) -> list[tuple[str, str]]:
    keys = [("name", normalize.key("name", customer.name))]
    keys += [(f, normalize.key(f, getattr(customer, f))) for f in ("phone", "mobile") if getattr(customer, f)]
    return keys


def collisions(session: Session, customer: Customer, *, now: datetime, find: ProtectedLookup | None = None,
               policy: dict[str, Any] | None = None) -> list[EntryIssue]:
    """撞单: the entry's name or phones match a customer someone else protects. `find`
    answers from memory when the importer has looked up a whole batch at once."""
    policy = policy or load_policy(session)
    level = "error" if policy["on_collision"] == "forbid" else "warning"
    issues = []
    for field, value in collision_keys(customer):
        if find is not None:
            hit = find(field, value, customer.owner_id)
        else:
            hit = session.scalar(
                select(Customer.name).join(CustomerKey, CustomerKey.customer_id == Customer.id)
                .where(CustomerKey.field == field, CustomerKey.value == value, Customer.protected_until > now,
                       Customer.deleted_at.is_(None), Customer.id != (customer.id or -1),
                       Customer.owner_id != customer.owner_id if customer.owner_id else Customer.id.is_not(None))
                .limit(1))
        if hit:
            message = (_l("与受保护的客户「%(c)s」撞单，不允许录入", c=hit) if level == "error"
                       else _l("与受保护的客户「%(c)s」撞单", c=hit))
            issues.append(EntryIssue(field, level, str(message)))
    return issues
