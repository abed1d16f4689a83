"""回款 generalised (issue 19 item 4): receipts against an instalment, a contract or an order; 抹零
with a permission and a limit; approved + pending receipts + write-offs never exceed what is due
at any level, also when two clerks register at the same instant; nobody is the only approver of
what they registered."""
from __future__ import annotations

import random
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from conftest import FIXED_NOW
from models import Contract, Order, Payment, db
from models.approval import ApprovalFlow
from models.contract import ContractStatus
from models.payment_plan import PaymentPlan
from rules import payments, receivables, settings
from rules.errors import InvalidValue, PermissionDenied, RuleViolation, SelfConfirmation
from test_rules_orders import actor_of, move, new_order, shop  # noqa: F401 - fixture

DAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def receipts_confirmed_without_flow(app):
    """Tests of 回款需他人确认 without an approval flow: the seeded 回款确认 flow (rules/approvals)
    is switched off; tests/test_receipts_flow.py covers the flow."""
    with app.app_context():
        db.session.execute(update(ApprovalFlow).where(ApprovalFlow.doc_type == "receipt").values(enabled=False))
        db.session.commit()


@pytest.fixture
def books(app, shop, make_user):
    """rep's contract HT-A (¥1,000.00, 执行中) in two instalments of ¥400 and ¥600, and a 财务."""
    shop["fin"] = make_user("fin", role="财务", department=("财务部",))
    shop["fin2"] = make_user("fin2", role="财务", department=("财务部",))
    shop["contract"], shop["plans"] = new_contract(app, shop, "HT-A", "1000.00", ["400.00", "600.00"])
    return shop


def new_contract(app, shop, number, total, instalments, *, owner="rep", customer="customer",
                 status=ContractStatus.ACTIVE):
    with app.app_context():
        contract = Contract(number=number, title=f"{number} 年度供货", customer_id=shop[customer],
                            owner_id=shop[owner], status=status, signed_on=DAY, total=Decimal(total))
        db.session.add(contract)
        db.session.flush()
        plans = [PaymentPlan(contract_id=contract.id, customer_id=shop[customer], owner_id=shop[owner], period=i + 1,
                             due_on=date(2026, 12 + i, 1) if i == 0 else date(2027, i, 1), amount=Decimal(amount))
                 for i, amount in enumerate(instalments)]
        db.session.add_all(plans)
        db.session.commit()
        return contract.id, [p.id for p in plans]


def receive(app, who, amount, *, kind="receipt", method="acceptance", write_off=0, **target):
    with app.app_context():
        try:
            payment = payments.record(db.session, kind=kind, amount=amount, write_off=write_off, paid_on=DAY,
                                      method=method, actor=actor_of(db.session, who), now=FIXED_NOW, **target)
            db.session.commit()
            return payment.id
        except Exception:
            db.session.rollback()
            raise


def contract_money(app, contract_id):
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        return contract.received, contract.written_off


def test_a_receipt_on_an_instalment_counts_in_its_contract_and_never_exceeds_what_is_due(app, books):
    first, second = books["plans"]
    paid = receive(app, "fin", "400", plan_id=first)  # 财务 on rep's contract: confirmed on entry
    with app.app_context():
        payment = db.session.get(Payment, paid)
        assert (payment.status, payment.contract_id, payment.plan_id, payment.owner_id, payment.customer_id) == (
            "approved", books["contract"], first, books["rep"], books["customer"])
        assert str(payments.METHOD_LABELS[payment.method]) == "承兑汇票"
    assert contract_money(app, books["contract"]) == (Decimal("400.00"), Decimal("0.00"))
    with pytest.raises(InvalidValue, match=r"回款金额 ¥0.01 超过HT-A 第1期未收金额 ¥0.00"):
        receive(app, "fin", "0.01", plan_id=first)
    receive(app, "fin", "500", plan_id=second)
    with pytest.raises(InvalidValue, match=r"回款金额 ¥100.01 超过合同HT-A未收金额 ¥100.00"):
        receive(app, "fin", "100.01", contract_id=books["contract"])
    with pytest.raises(InvalidValue, match="回款计划不属于所选的订单或合同"):
        other, _plans = new_contract(app, books, "HT-B", "10", [])
        receive(app, "fin", "1", plan_id=second, contract_id=other)
    assert contract_money(app, books["contract"]) == (Decimal("900.00"), Decimal("0.00"))


def test_only_contracts_in_force_take_receipts(app, books):
    draft, plans = new_contract(app, books, "HT-D", "100", ["100"], status=ContractStatus.DRAFT)
    with pytest.raises(RuleViolation, match="只有执行中或已完成的合同可以登记回款"):
        receive(app, "fin", "10", plan_id=plans[0])
    with pytest.raises(InvalidValue, match="请选择回款所属的订单、合同或回款计划"):
        receive(app, "fin", "10")


def test_a_pending_receipt_takes_its_room_until_it_is_rejected_or_withdrawn(app, books):
    first = books["plans"][0]
    waiting = receive(app, "rep", "300", plan_id=first)  # rep's own contract: waits for someone else
    with pytest.raises(InvalidValue, match=r"未收金额 ¥100.00（含待确认的回款和抹零）"):
        receive(app, "rep", "150", plan_id=first)
    with app.app_context():
        payments.withdraw(db.session, waiting, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        db.session.commit()
        assert db.session.get(Payment, waiting).status == "withdrawn"
    again = receive(app, "rep", "400", plan_id=first)
    with app.app_context():
        payments.reject(db.session, again, actor=actor_of(db.session, "fin"), now=FIXED_NOW)
        db.session.commit()
    receive(app, "rep", "400", plan_id=first)
    assert contract_money(app, books["contract"]) == (Decimal("0.00"), Decimal("0.00"))


def test_whoever_registers_a_receipt_is_never_its_only_approver(app, books, make_user, make_customer):
    """The 财务 who owns the contract, or registered the receipt, cannot confirm it; a colleague can."""
    waiting = receive(app, "rep", "100", contract_id=books["contract"])
    with app.app_context():
        with pytest.raises(PermissionDenied, match="审核回款"):
            payments.approve(db.session, waiting, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        db.session.rollback()
        payment = db.session.get(Payment, waiting)
        # the approval flow's hook: the submitter may never approve a receipt themselves
        title, amount, owner_id, submitter_may_approve = payments._summary(payment)
        assert (amount, owner_id, submitter_may_approve) == (Decimal("100.00"), books["rep"], False)
        assert "HT-A" in title
    fin_contract, _plans = new_contract(app, books, "HT-F", "500", [], owner="fin")
    own = receive(app, "fin", "50", contract_id=fin_contract)
    with app.app_context():
        assert db.session.get(Payment, own).status == "pending"
        with pytest.raises(SelfConfirmation, match="HT-F的这笔款项是您自己登记的，不能由您确认"):
            payments.approve(db.session, own, actor=actor_of(db.session, "fin"), now=FIXED_NOW)
        db.session.rollback()
        payments.approve(db.session, own, actor=actor_of(db.session, "fin2"), now=FIXED_NOW)
        db.session.commit()
    assert contract_money(app, fin_contract) == (Decimal("50.00"), Decimal("0.00"))


def test_write_offs_need_the_permission_and_stay_under_the_limit(app, books):
    first = books["plans"][0]
    with pytest.raises(PermissionDenied, match="您没有回款抹零的权限"):
        receive(app, "rep", "390", write_off="10", plan_id=first)
    with pytest.raises(InvalidValue, match=r"抹零金额 ¥100.01 超过上限 ¥100.00"):
        receive(app, "fin", "299.99", write_off="100.01", plan_id=first)
    receive(app, "fin", "399.50", write_off="0.50", plan_id=first)
    assert contract_money(app, books["contract"]) == (Decimal("399.50"), Decimal("0.50"))
    with pytest.raises(InvalidValue, match=r"回款金额 ¥0.50 超过HT-A 第1期未收金额 ¥0.00"):
        receive(app, "fin", "0.25", write_off="0.25", plan_id=first)
    with app.app_context():
        payments.save_write_off_limit(db.session, "200")
        db.session.commit()
    receive(app, "fin", "450", write_off="150", plan_id=books["plans"][1])
    assert contract_money(app, books["contract"]) == (Decimal("849.50"), Decimal("150.50"))


def test_an_order_produced_from_a_contract_books_its_receipts_on_the_contract_too(app, books):
    order_id = new_order(app, books)  # ¥77.23
    move(app, order_id, "approve")
    small, _plans = new_contract(app, books, "HT-S", "50.00", [])
    with app.app_context():
        db.session.get(Order, order_id).contract_id = small
        db.session.commit()
    paid = receive(app, "fin", "30", order_id=order_id)
    with app.app_context():
        assert db.session.get(Payment, paid).contract_id == small
        assert db.session.get(Order, order_id).received == Decimal("30.00")
    assert contract_money(app, small) == (Decimal("30.00"), Decimal("0.00"))
    # the order could take ¥47.23 more, its contract only ¥20
    with pytest.raises(InvalidValue, match=r"超过合同HT-S未收金额 ¥20.00"):
        receive(app, "fin", "25", order_id=order_id)


def test_stored_method_keys_of_earlier_versions_still_read(app):
    assert str(payments.METHOD_LABELS["check"]) == "支票"
    assert "check" not in payments.METHODS and str(payments.METHODS["acceptance"]) == "承兑汇票"


# --- the invariant, property-tested (no hypothesis in the venv: seeded random runs) -------------

def _booked(session, *where):
    return session.scalar(select(func.coalesce(func.sum(Payment.amount + Payment.write_off), 0)).where(
        Payment.kind == "receipt", Payment.status.in_(("approved", "pending")), *where))


def _assert_within_due(session, contract_ids, order_ids):
    for plan in session.scalars(select(PaymentPlan)):
        assert _booked(session, Payment.plan_id == plan.id) <= plan.amount, plan
    for contract in session.scalars(select(Contract).where(Contract.id.in_(contract_ids))):
        assert _booked(session, Payment.contract_id == contract.id) <= contract.total, contract
        approved = select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.contract_id == contract.id, Payment.status == "approved", Payment.kind == "receipt")
        written = select(func.coalesce(func.sum(Payment.write_off), 0)).where(
            Payment.contract_id == contract.id, Payment.status == "approved", Payment.kind == "receipt")
        assert (contract.received, contract.written_off) == (session.scalar(approved), session.scalar(written))
    for order in session.scalars(select(Order).where(Order.id.in_(order_ids))):
        assert _booked(session, Payment.order_id == order.id) <= receivables.due(order), order


@pytest.mark.both_dbs
@pytest.mark.parametrize("seed", [7, 19])
def test_approved_pending_and_written_off_never_exceed_what_is_due(app, books, seed):
    rng = random.Random(seed)
    loose = new_order(app, books)  # ¥77.23, no contract
    produced = new_order(app, books)
    for order_id in (loose, produced):
        move(app, order_id, "approve")
    small, small_plans = new_contract(app, books, "HT-P", "120.00", ["45.50", "74.50"])
    with app.app_context():
        db.session.get(Order, produced).contract_id = small
        db.session.commit()
    targets = ([{"plan_id": p} for p in books["plans"] + small_plans]
               + [{"contract_id": books["contract"]}, {"contract_id": small}, {"order_id": loose},
                  {"order_id": produced}])
    refused = accepted = 0
    for _step in range(45):
        roll = rng.random()
        with app.app_context():
            pending = list(db.session.scalars(select(Payment.id).where(Payment.status == "pending")))
        if roll < 0.7 or not pending:
            who = rng.choice(["rep", "fin", "fin2", "clerk"])
            amount = Decimal(rng.randint(1, 45000)) / 100
            write_off = Decimal(rng.choice([0, 0, 0, rng.randint(1, 12000)])) / 100
            try:
                receive(app, who, str(amount), write_off=str(write_off), **rng.choice(targets))
                accepted += 1
            except RuleViolation:
                refused += 1
        else:
            decide = rng.choice([payments.approve, payments.reject, payments.withdraw])
            with app.app_context():
                try:
                    decide(db.session, rng.choice(pending), actor=actor_of(db.session, rng.choice(["fin", "fin2", "rep"])),
                           now=FIXED_NOW)
                    db.session.commit()
                except RuleViolation:
                    db.session.rollback()
        with app.app_context():
            _assert_within_due(db.session, [books["contract"], small], [loose, produced])
    assert accepted > 5 and refused > 5  # both sides of the rule were exercised


@pytest.mark.both_dbs
def test_two_clerks_registering_at_the_same_instant_never_exceed_the_instalment(app, books, monkeypatch):
    """Each ¥300 fits the ¥400 instalment alone; together they do not: exactly one is booked.
    The room is read slowly on purpose, so without the lock both would read ¥400 free."""
    first = books["plans"][0]
    slow_room = payments.plan_room

    def plan_room(session, plan):
        room = slow_room(session, plan)
        time.sleep(0.4)
        return room

    monkeypatch.setattr(payments, "plan_room", plan_room)
    start, outcomes = threading.Barrier(2), []

    def clerk(who):
        start.wait()
        try:
            receive(app, who, "300", plan_id=first)
            outcomes.append("booked")
        except RuleViolation as exc:
            outcomes.append(str(exc))

    workers = [threading.Thread(target=clerk, args=(who,)) for who in ("fin", "fin2")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert sorted(outcomes)[0] == "booked" and len(outcomes) == 2, outcomes
    assert "超过HT-A 第1期未收金额 ¥100.00" in sorted(outcomes)[1], outcomes
    with app.app_context():
        assert _booked(db.session, Payment.plan_id == first) == Decimal("300.00")
    assert contract_money(app, books["contract"]) == (Decimal("300.00"), Decimal("0.00"))


def test_the_setting_off_lets_entries_count_at_once_on_contracts_too(app, books):
    with app.app_context():
        settings.put(db.session, "payment_requires_approval", False)
        db.session.commit()
    paid = receive(app, "rep", "100", contract_id=books["contract"])
    with app.app_context():
        assert db.session.get(Payment, paid).status == "approved"
    assert contract_money(app, books["contract"]) == (Decimal("100.00"), Decimal("0.00"))
