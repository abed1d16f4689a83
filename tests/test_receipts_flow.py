"""回款 through the approval mechanism (doc type RECEIPT, rules/approvals): a receipt waits in the
回款确认 flow (role 财务) taking its room, counts once approved, frees its room when rejected or
withdrawn; whoever registered it is never its approver; a flow with nobody left is refused at
entry with nothing written."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW
from models import Contract, Payment, User, db
from models.approval import ApprovalFlow, ApprovalStep, ApprovalTask
from models.org import Role
from rules import payments
from rules.errors import InvalidValue, RuleViolation
from test_rules_orders import actor_of, shop  # noqa: F401 - fixture
from test_rules_receipts import books, receive  # noqa: F401 - fixture

approvals = pytest.importorskip("rules.approvals")


@pytest.fixture
def flow(app, books):
    """回款确认: one step, any 财务 (fin and fin2)."""
    with app.app_context():
        finance = db.session.scalar(select(Role.id).where(Role.name == "财务"))
        found = db.session.scalar(select(ApprovalFlow).where(ApprovalFlow.doc_type == "receipt"))
        if found is None:  # the seeded flow (rules/approvals.ensure_default_flows) is the same
            found = ApprovalFlow(doc_type="receipt", name="回款确认", steps=[ApprovalStep(
                position=0, name="财务确认", kind="role", role_id=finance, levels=1, mode="any", user_ids=[],
                allow_self=False)])
            db.session.add(found)
        found.enabled, found.threshold = True, None
        db.session.commit()
        assert [(s.name, s.role_id) for s in found.steps] == [("财务确认", finance)]
    return books


def approvers_of(payment_id):
    request = payments.open_request(db.session, payment_id)
    return request, sorted(db.session.scalars(select(ApprovalTask.approver_id).where(
        ApprovalTask.request_id == request.id)))


def received(contract_id):
    return db.session.get(Contract, contract_id).received


def test_a_receipt_waits_in_the_flow_takes_its_room_and_counts_once_approved(app, flow):
    waiting = receive(app, "rep", "600", contract_id=flow["contract"])
    with app.app_context():
        request, approvers = approvers_of(waiting)
        assert approvers == [flow["fin"], flow["fin2"]] and db.session.get(Payment, waiting).status == "pending"
        assert received(flow["contract"]) == Decimal("0.00")
    with pytest.raises(InvalidValue, match=r"未收金额 ¥400.00（含待确认的回款和抹零）"):
        receive(app, "rep", "400.01", contract_id=flow["contract"])
    with app.app_context():
        approvals.approve(db.session, request.id, actor=actor_of(db.session, "fin2"), now=FIXED_NOW)
        db.session.commit()
        payment = db.session.get(Payment, waiting)
        assert (payment.status, payment.approved_by_id) == ("approved", flow["fin2"])
        assert received(flow["contract"]) == Decimal("600.00")


def test_the_registering_clerk_is_not_an_approver_of_his_own_receipt(app, flow):
    """Even a 财务 who may approve receipts, and even when the flow's step is his role."""
    mine = receive(app, "fin", "100", contract_id=flow["contract"])
    with app.app_context():
        request, approvers = approvers_of(mine)
        assert approvers == [flow["fin2"]]
        with pytest.raises(RuleViolation):
            payments.approve(db.session, mine, actor=actor_of(db.session, "fin"), now=FIXED_NOW)
        db.session.rollback()
        with pytest.raises(RuleViolation):  # 内勤 may confirm receipts outside a flow, not in it
            payments.approve(db.session, mine, actor=actor_of(db.session, "clerk"), now=FIXED_NOW)
        db.session.rollback()
        payments.approve(db.session, mine, actor=actor_of(db.session, "fin2"), now=FIXED_NOW)
        db.session.commit()
        assert received(flow["contract"]) == Decimal("100.00")


def test_a_rejected_or_withdrawn_receipt_frees_its_room(app, flow):
    first = receive(app, "rep", "1000", contract_id=flow["contract"])
    with app.app_context():
        payments.reject(db.session, first, actor=actor_of(db.session, "fin"), now=FIXED_NOW, reason="未到账")
        db.session.commit()
        assert db.session.get(Payment, first).status == "rejected"
    second = receive(app, "rep", "1000", contract_id=flow["contract"])
    with app.app_context():
        payments.withdraw(db.session, second, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        db.session.commit()
        assert db.session.get(Payment, second).status == "withdrawn"
        assert payments.open_request(db.session, second) is None
    receive(app, "rep", "1000", contract_id=flow["contract"])


def test_a_flow_with_nobody_left_to_approve_refuses_the_entry_and_writes_nothing(app, flow):
    with app.app_context():
        db.session.get(User, flow["fin2"]).active = False
        db.session.commit()
    with pytest.raises(RuleViolation, match="财务确认"):
        receive(app, "fin", "100", contract_id=flow["contract"])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
