"""Customer record rules (the foundation's part: who owns a new customer)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from models.customer import Customer
from rules.actor import Actor
from rules.errors import InvalidValue


def take_new(customer: Customer, *, actor: Actor) -> None:
    """A customer entered by a salesperson belongs to them and their department."""
    if not (customer.name or "").strip():
        raise InvalidValue(_l("请填写客户名称"))
    customer.name = customer.name.strip()
    customer.owner_id = actor.user_id
    customer.department_id = actor.department_id


def check_parent(customer: Customer) -> None:
    if customer.parent is not None and customer.parent.id == customer.id:
        raise InvalidValue(_l("上级客户不能是客户自己"))
