"""The demo company's money after the sale (issue 19): contracts in every state, instalments in
every state with overdue ones at every age, receipts approved and waiting, invoices in every state
with a 红冲, and all of it adding up the way the rules keep it."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW, seeded_demo
from models import (
    ApprovalFlow, ApprovalRequest, ApprovalTask, Contract, ContractLine, Invoice, InvoiceTitle, Payment, PaymentPlan,
    User, db,
)
from rules.clock import local_date

TODAY = local_date(FIXED_NOW, "Asia/Shanghai")
ZERO = Decimal("0")


def _seed(app, tmp_path):
    seeded_demo(app, tmp_path, customers=40)


def _counts(column) -> dict:
    return dict(db.session.execute(select(column, func.count()).group_by(column)).all())


@pytest.mark.both_dbs
def test_demo_has_contracts_plans_receipts_and_invoices_in_every_state(app, tmp_path):
    _seed(app, tmp_path)
    with app.app_context():
        assert set(_counts(Contract.status)) == {"draft", "approving", "active", "completed", "void"}
        voided = db.session.scalar(select(Contract).where(Contract.status == "void"))
        newer = db.session.scalar(select(Contract).where(Contract.previous_id == voided.id))
        assert voided.void_reason and newer.number == voided.number and newer.revision == voided.revision + 1
        assert str(newer).endswith("-V2") and newer.status == "active"
        assert db.session.scalar(select(func.count(ContractLine.id)).where(ContractLine.contract_id == newer.id))
        assert db.session.scalar(select(func.count(Contract.id)).where(Contract.opportunity_id.is_not(None))) >= 3
        # 审批中: a running request whose first step waits for the salesperson's superior
        approving = db.session.scalar(select(Contract).where(Contract.status == "approving"))
        request = db.session.scalar(select(ApprovalRequest).where(ApprovalRequest.open_key == f"contract:{approving.id}"))
        assert request.status == "pending" and request.step_index == 0
        owner = db.session.get(User, approving.owner_id)
        waiting = db.session.scalars(select(ApprovalTask).where(ApprovalTask.request_id == request.id,
                                                                ApprovalTask.status == "waiting")).all()
        assert [t.approver_id for t in waiting] == [owner.superior_id]
        # a draft sent back by its approver, with the reason
        assert db.session.scalar(select(func.count(ApprovalRequest.id)).where(
            ApprovalRequest.doc_type == "contract", ApprovalRequest.status == "rejected")) == 1
        flows = {f.doc_type: f for f in db.session.scalars(select(ApprovalFlow))}
        assert {"contract", "receipt", "invoice", "order_discount"} <= set(flows)  # office requests add theirs
        assert [s.kind for s in flows["contract"].steps] == ["superior", "dept_manager"]
        assert not flows["order_discount"].enabled

        plans = db.session.scalars(select(PaymentPlan)).all()
        assert {p.status for p in plans} == {"pending", "partial", "paid", "overdue"}
        ages = {(TODAY - p.due_on).days for p in plans if p.status == "overdue"}
        assert any(a <= 30 for a in ages) and any(30 < a <= 60 for a in ages)
        assert any(60 < a <= 90 for a in ages) and any(a > 90 for a in ages)
        week_end = TODAY + timedelta(days=6 - TODAY.weekday())
        assert any(TODAY <= p.due_on <= week_end and p.status != "paid" for p in plans)  # 本周应回款
        payments = db.session.scalars(select(Payment).where(Payment.contract_id.is_not(None))).all()
        assert {p.status for p in payments} == {"approved", "pending"}
        assert len({p.method for p in payments}) >= 4
        assert any(p.write_off > 0 for p in payments if p.status == "approved")
        assert any(p.plan_id is None for p in payments)  # booked on a contract without instalments
        for pending in (p for p in payments if p.status == "pending"):
            task = db.session.scalar(select(ApprovalTask).join(ApprovalRequest).where(
                ApprovalRequest.open_key == f"receipt:{pending.id}"))
            assert task.status == "waiting" and db.session.get(User, task.approver_id).role.name == "财务"

        invoices = db.session.scalars(select(Invoice)).all()
        assert {i.status for i in invoices} == {"requested", "approving", "approved", "issued"}
        red = [i for i in invoices if i.amount < 0]
        assert len(red) == 1 and red[0].status == "issued" and red[0].reverses_id
        reversed_one = db.session.get(Invoice, red[0].reverses_id)
        assert reversed_one.amount == -red[0].amount and reversed_one.invoice_no and red[0].invoice_no
        assert all(i.amount_ex_tax + i.tax == i.amount for i in invoices)
        titles = db.session.scalars(select(InvoiceTitle)).all()
        assert {t.kind for t in titles} >= {"company"}
        assert all(len(t.tax_no) == 18 for t in titles if t.kind == "company")
        defaults = defaultdict(int)
        for title in titles:
            defaults[title.customer_id] += title.is_default
        assert set(defaults.values()) == {1}


@pytest.mark.both_dbs
def test_demo_money_adds_up_as_the_rules_keep_it(app, tmp_path):
    _seed(app, tmp_path)
    with app.app_context():
        for contract in db.session.scalars(select(Contract)):
            receipts = db.session.scalars(select(Payment).where(Payment.contract_id == contract.id)).all()
            approved = [p for p in receipts if p.status == "approved"]
            assert contract.received == sum((p.amount for p in approved), ZERO), contract
            assert contract.written_off == sum((p.write_off for p in approved), ZERO), contract
            invoices = db.session.scalars(select(Invoice).where(Invoice.contract_id == contract.id)).all()
            assert contract.invoiced == sum((i.amount for i in invoices if i.status == "issued"), ZERO), contract
            assert sum((i.amount for i in invoices if i.status != "void"), ZERO) <= contract.total
            assert contract.received + contract.written_off <= contract.total
            assert sum((line.amount for line in contract.lines), ZERO) == contract.total > 0
            assert contract.amount_ex_tax + contract.tax == contract.total
            if contract.status in ("draft", "approving", "void"):
                assert not receipts and not invoices, contract
            plans = db.session.scalars(select(PaymentPlan).where(PaymentPlan.contract_id == contract.id)).all()
            if plans:
                assert sum((p.amount for p in plans), ZERO) == contract.total
                assert sorted(p.period for p in plans) == list(range(1, len(plans) + 1))
            if contract.status == "completed":
                assert contract.received + contract.written_off == contract.total == contract.invoiced
        for plan in db.session.scalars(select(PaymentPlan)):
            on_plan = db.session.scalars(select(Payment).where(Payment.plan_id == plan.id)).all()
            booked = sum((p.amount + p.write_off for p in on_plan if p.status == "approved"), ZERO)
            waiting = sum((p.amount + p.write_off for p in on_plan if p.status == "pending"), ZERO)
            assert plan.received == booked and booked + waiting <= plan.amount
            assert plan.owner_id == plan.contract.owner_id and plan.customer_id == plan.contract.customer_id
            expected = ("paid" if booked >= plan.amount else "overdue" if plan.due_on < TODAY
                        else "partial" if booked else "pending")
            assert plan.status == expected, plan


def test_demo_finance_is_seeded_once(app, tmp_path):
    from demo import finance, seed_demo

    _seed(app, tmp_path)
    with app.app_context():
        counts = [db.session.scalar(select(func.count(m.id))) for m in (Contract, PaymentPlan, Invoice, Payment)]
        users = {u.username: u for u in db.session.scalars(select(User))}
        assert not finance.seed_finance(db.session, users, now=FIXED_NOW)
        assert not seed_demo(db.session, customers=40)
        assert [db.session.scalar(select(func.count(m.id))) for m in (Contract, PaymentPlan, Invoice, Payment)] == counts
