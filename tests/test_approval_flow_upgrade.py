"""An installation upgraded to the approval flows keeps confirming receipts the way it did:
with nobody in 财务, the seeded 回款确认 flow would refuse every 登记回款 ("没有可审批的人")."""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from conftest import FIXED_NOW
from models import Payment, db
from models.approval import ApprovalFlow, ApprovalStep
from rules import approval_flows, payments
from test_rules_orders import actor_of, move, new_order, shop  # noqa: F401 - fixture


def clear_flows(app) -> None:
    """The release before the approval flows."""
    with app.app_context():
        db.session.execute(delete(ApprovalStep))
        db.session.execute(delete(ApprovalFlow))
        db.session.commit()


def reseed(app) -> dict[str, bool]:
    """What a start after the upgrade does: seed the flows an installation lacks."""
    clear_flows(app)
    with app.app_context():
        approval_flows.ensure_default_flows(db.session)
        db.session.commit()
        return dict(db.session.execute(select(ApprovalFlow.doc_type, ApprovalFlow.enabled)).all())


def register(app, order_id, who):
    with app.app_context():
        payment = payments.record(db.session, order_id=order_id, kind="receipt", amount="10.00",
                                  paid_on=date(2026, 11, 23), method="transfer", actor=actor_of(db.session, who),
                                  now=FIXED_NOW)
        db.session.commit()
        return payment.id, payment.status


def test_upgraded_without_finance_staff_receipts_are_still_confirmed_by_the_clerks(app, shop):
    order = new_order(app, shop)
    move(app, order, "approve")
    clear_flows(app)
    register(app, order, "rep")  # a receipt of the old release's days
    flows = reseed(app)
    assert flows["receipt"] is False and flows["contract"] is True
    payment_id, status = register(app, order, "rep")
    assert status == "pending"
    with app.app_context():
        payments.approve(db.session, payment_id, actor=actor_of(db.session, "clerk"), now=FIXED_NOW)
        db.session.commit()
        assert db.session.get(Payment, payment_id).status == "approved"


def test_a_new_installation_routes_receipts_through_the_flow(app, shop):
    assert reseed(app)["receipt"] is True
