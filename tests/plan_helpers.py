"""Contracts and instalments for the 回款计划 tests: contracts are made as rows (status 执行中),
receipts as Payment rows, as rules/contracts.py and rules/payments.py will leave them."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from conftest import FIXED_NOW
from models import Contract, Customer, Payment, User, db
from rules.actor import Actor

TODAY = date(2026, 11, 23)


def actor_of(username: str) -> Actor:
    user = db.session.scalar(select(User).where(User.username == username))
    return Actor.from_user(user, today=TODAY, has_shares=False)


def reader_role(name: str = "回款查询") -> str:
    """A role that sees every instalment but plans none (call inside an app context)."""
    from models import Role

    db.session.add(Role(name=name, data_scope="all", permissions=["customer.view", "contract.view", "payment.view",
                                                                   "order.view"]))
    db.session.commit()
    return name


def make_contract(customer_id: int, total: str, *, status: str = "active", number: str | None = None) -> int:
    """A contract row as rules/contracts.py leaves an approved one (call inside an app context)."""
    customer = db.session.get(Customer, customer_id)
    owner = db.session.get(User, customer.owner_id)
    count = db.session.query(Contract).count()
    contract = Contract(number=number or f"HT20261123{count + 1:04d}", title="年度供货合同", customer_id=customer_id,
                        owner_id=owner.id, department_id=owner.department_id, status=status,
                        signed_on=date(2026, 11, 1), total=Decimal(total), gross=Decimal(total))
    db.session.add(contract)
    db.session.commit()
    return contract.id


def receipt(plan_id: int, amount: str, *, status: str = "approved", write_off: str = "0") -> int:
    """A receipt booked on an instalment (call inside an app context; not committed)."""
    from models import PaymentPlan

    plan = db.session.get(PaymentPlan, plan_id)
    payment = Payment(plan_id=plan.id, contract_id=plan.contract_id, order_id=plan.order_id,
                      customer_id=plan.customer_id, owner_id=plan.owner_id, kind="receipt", amount=Decimal(amount),
                      write_off=Decimal(write_off), paid_on=TODAY, method="transfer", status=status,
                      approved_at=FIXED_NOW if status == "approved" else None)
    db.session.add(payment)
    db.session.flush()
    return payment.id
