"""回款: instalments, refunds against returns, approval before a payment counts."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from conftest import FIXED_NOW
from models import Order, Payment, db
from rules import payments, receivables, settings
from rules.errors import InvalidValue, PermissionDenied, RuleViolation, SelfConfirmation
from test_rules_orders import actor_of, move, new_order, shop  # noqa: F401 - fixture
from test_rules_receipts import receipts_confirmed_without_flow, receive  # noqa: F401 - fixture: no approval flow here

DAY = date(2026, 11, 23)


def pay(app, order_id, amount, who="rep", kind="receipt"):
    return receive(app, who, amount, kind=kind, method="transfer", order_id=order_id)


def money_of(app, order_id):
    with app.app_context():
        return receivables.figures(db.session.get(Order, order_id))


def test_instalments_reduce_what_is_owed_and_overpaying_is_refused(app, shop):
    order_id = new_order(app, shop)  # ¥77.23
    move(app, order_id, "approve")
    pay(app, order_id, "30", who="clerk")
    pay(app, order_id, "40.00", who="clerk")
    assert money_of(app, order_id) == {"receivable": Decimal("77.23"), "received": Decimal("70.00"),
                                       "outstanding": Decimal("7.23"), "refundable": Decimal("0"),
                                       "refunded": Decimal("0.00")}
    with pytest.raises(InvalidValue, match=r"回款金额 ¥8.00 超过未收金额 ¥7.23"):
        pay(app, order_id, "8", who="clerk")
    with pytest.raises(InvalidValue, match="金额必须大于 0"):
        pay(app, order_id, "-1", who="clerk")
    with pytest.raises(InvalidValue, match="退款金额 ¥1.00 超过应退金额 ¥0.00"):
        pay(app, order_id, "1", who="clerk", kind="refund")


def test_an_order_waiting_for_review_owes_nothing_yet_but_takes_a_prepayment(app, shop):
    order_id = new_order(app, shop)  # ¥77.23, 等待审核
    assert money_of(app, order_id)["outstanding"] == Decimal("0")
    pay(app, order_id, "50", who="clerk")
    assert (money_of(app, order_id)["outstanding"], money_of(app, order_id)["refundable"]) == (0, 0)
    move(app, order_id, "approve")
    assert (money_of(app, order_id)["receivable"], money_of(app, order_id)["outstanding"]) == (
        Decimal("77.23"), Decimal("27.23"))


def test_refunds_follow_a_return(app, shop):
    order_id = new_order(app, shop)
    pay(app, order_id, "77.23", who="clerk")
    for step in ("approve", "ship"):
        move(app, order_id, step)
    with app.app_context():
        tea_line = db.session.get(Order, order_id).lines[0].id
    move(app, order_id, "return", quantities={tea_line: 3})  # the tea: ¥56.72
    assert money_of(app, order_id)["refundable"] == Decimal("56.72")
    pay(app, order_id, "50", who="clerk", kind="refund")
    assert money_of(app, order_id) == {"receivable": Decimal("20.51"), "received": Decimal("77.23"),
                                       "outstanding": Decimal("0"), "refundable": Decimal("6.72"),
                                       "refunded": Decimal("50.00")}


def test_a_salesperson_s_receipt_on_his_own_order_waits_for_someone_else_by_default(app, shop):
    """Issue 16 item 3: with the default 订单设置 陈晓明's ¥100 on his own order was 已确认 by himself."""
    order_id = new_order(app, shop)
    move(app, order_id, "approve")
    first = pay(app, order_id, "20")
    second = pay(app, order_id, "10")
    assert money_of(app, order_id)["received"] == Decimal("0.00")
    with app.app_context():
        assert [p.status for p in db.session.query(Payment).order_by(Payment.id)] == ["pending", "pending"]
        with pytest.raises(PermissionDenied, match="审核回款"):
            payments.approve(db.session, first, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        payments.approve(db.session, first, actor=actor_of(db.session, "clerk"), now=FIXED_NOW)
        payments.reject(db.session, second, actor=actor_of(db.session, "clerk"), now=FIXED_NOW)
        db.session.commit()
        with pytest.raises(RuleViolation, match="已经审核过了"):
            payments.approve(db.session, first, actor=actor_of(db.session, "clerk2"), now=FIXED_NOW)
        db.session.rollback()
        assert [(p.status, p.approved_by_id) for p in db.session.query(Payment).order_by(Payment.id)] == [
            ("approved", shop["clerk"]), ("rejected", shop["clerk"])]
    assert money_of(app, order_id)["received"] == Decimal("20.00")
    # a clerk's entry on somebody else's order is the confirmation itself
    pay(app, order_id, "5", who="clerk")
    assert money_of(app, order_id)["received"] == Decimal("25.00")


def test_nobody_confirms_their_own_even_with_the_permission(app, shop, make_user, make_customer):
    boss = make_user("boss", role="总经理")
    customer = make_customer("自营客户", boss)
    with app.app_context():
        from models import OrderLine
        from rules import orders
        order = Order(customer_id=customer, price_level_id=shop["retail"], warehouse_id=shop["warehouse"],
                      lines=[OrderLine(product_id=shop["tea"], quantity=1, discount_rate=Decimal("1"))])
        orders.submit(db.session, order, actor=actor_of(db.session, "boss"), now=FIXED_NOW, tz="Asia/Shanghai")
        db.session.commit()
        order_id = order.id
    move(app, order_id, "approve")
    payment_id = pay(app, order_id, "19.90", who="boss")
    with app.app_context():
        assert db.session.get(Payment, payment_id).status == "pending"
        with pytest.raises(SelfConfirmation, match="DD202611230001的这笔款项是您自己登记的，不能由您确认"):
            payments.approve(db.session, payment_id, actor=actor_of(db.session, "boss"), now=FIXED_NOW)
        db.session.rollback()
    assert money_of(app, order_id)["received"] == Decimal("0.00")


def test_the_administrator_may_let_entries_count_at_once(app, shop):
    with app.app_context():
        settings.put(db.session, "payment_requires_approval", False)
        db.session.commit()
    order_id = new_order(app, shop)
    move(app, order_id, "approve")
    pay(app, order_id, "20")
    assert money_of(app, order_id)["received"] == Decimal("20.00")


def test_cancelled_orders_take_no_receipts(app, shop):
    order_id = new_order(app, shop)
    move(app, order_id, "cancel")
    with pytest.raises(RuleViolation, match="已取消，不能登记回款"):
        pay(app, order_id, "1")


@pytest.mark.both_dbs
def test_receipts_waiting_for_confirmation_count_neither_as_received_nor_in_performance(app, shop):
    """业务员业绩 is the basis for commission: only confirmed money counts there."""
    from rules import reports
    order_id = new_order(app, shop)
    move(app, order_id, "approve")
    waiting = pay(app, order_id, "20")

    def performance():
        with app.app_context():
            filters = reports.Filters(start=DAY.replace(day=1), end=DAY)
            table = reports.salesperson_performance(db.session, actor_of(db.session, "clerk"), filters)
            sales = reports.company_sales(db.session, actor_of(db.session, "clerk"), filters)
            return ([r["received"] for r in table.rows if r["orders"]],
                    next(r for r in sales.rows if r["month"] == "2026-11")["received"])

    assert performance() == ([Decimal("0.00")], Decimal("0.00"))
    with app.app_context():
        payments.approve(db.session, waiting, actor=actor_of(db.session, "clerk"), now=FIXED_NOW)
        db.session.commit()
    assert performance() == ([Decimal("20.00")], Decimal("20.00"))
