"""Business counts for the recycle rules (issue 16 item 1): a customer with an order on its way
(等待审核, 正在配货, 已发货) is never recycled, placing or moving an order restarts the idle
clock, and the 将被回收 list, the 还剩 N 天 countdown and the nightly job agree, rule included."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, list_table
from models import Customer, Order, OrderLine, OwnershipEvent, Pool, db
from rules import pool as pool_rules
from rules import recycle
from rules import activity, orders
from test_rules_orders import actor_of, move, new_order, shop  # noqa: F401  (shop is a fixture)


def _recycling_pool(app, **days) -> int:
    with app.app_context():
        pool = pool_rules.default_pool(db.session)
        pool.recycle_enabled, pool.warn_days = True, 7
        pool.no_contact_days, pool.idle_days, pool.no_deal_days = (
            days.get("no_contact", 10), days.get("idle", 30), days.get("no_deal", 90))
        db.session.commit()
        return pool.id


def _claimed(app, customer_id: int, days_ago: int) -> None:
    """The customer was claimed `days_ago` days ago and never followed up: overdue."""
    with app.app_context():
        db.session.get(Customer, customer_id).claimed_at = FIXED_NOW - timedelta(days=days_ago)
        db.session.commit()


def _run(app, now) -> set[int]:
    with app.app_context():
        recycle.recycle_due(db.session, now=now)
        db.session.commit()
        return set(db.session.scalars(select(OwnershipEvent.customer_id).where(OwnershipEvent.reason == "recycle")))


OPEN_STATES = {"pending_review": [], "picking": ["approve"], "shipped": ["approve", "ship"]}


@pytest.mark.both_dbs
@pytest.mark.parametrize("state", list(OPEN_STATES))
def test_a_customer_with_an_open_order_is_never_recycled(app, shop, clock, state):
    _recycling_pool(app)
    _claimed(app, shop["customer"], days_ago=200)  # every rule is long overdue
    order = new_order(app, shop)
    for action in OPEN_STATES[state]:
        move(app, order, action)
    # Months pass with the order still on its way: the customer stays with its salesperson.
    later = FIXED_NOW + timedelta(days=120)
    assert _run(app, later) == set()
    with app.app_context():
        customer = db.session.get(Customer, shop["customer"])
        assert customer.owner_id == shop["rep"]
        assert recycle.deadline(customer, db.session.get(Pool, customer.pool_id or pool_rules.default_pool(
            db.session).id), busy=True) is None
        assert db.session.scalar(select(Customer.id).where(recycle.soon_clause(db.session, later))) is None


@pytest.mark.both_dbs
def test_placing_an_order_restarts_the_idle_clock_even_after_it_is_cancelled(app, shop, clock):
    _recycling_pool(app)
    _claimed(app, shop["customer"], days_ago=200)
    order = new_order(app, shop)           # placed now (FIXED_NOW)
    move(app, order, "cancel")             # no longer open: only the activity protects now
    assert _run(app, FIXED_NOW + timedelta(days=29)) == set()
    assert _run(app, FIXED_NOW + timedelta(days=31)) == {shop["customer"]}
    with app.app_context():
        event = db.session.scalar(select(OwnershipEvent).where(OwnershipEvent.reason == "recycle"))
        assert event.recycle_rule == "idle"  # 长期未联系, counted from the order, not from the claim


def test_approving_and_shipping_count_as_activity_too(app, shop):
    """Placed now, approved 10 days later, shipped 20 days later and then all returned: the
    idle clock runs from the shipment."""
    _recycling_pool(app)
    _claimed(app, shop["customer"], days_ago=200)
    order = new_order(app, shop)
    with app.app_context():
        clerk = actor_of(db.session, "clerk")
        orders.approve(db.session, order, actor=clerk, now=FIXED_NOW + timedelta(days=10))
        orders.ship(db.session, order, carrier="顺丰速运", tracking_no="SF1", actor=clerk,
                    now=FIXED_NOW + timedelta(days=20))
        orders.return_order(db.session, order, reason="客户退回", actor=clerk, now=FIXED_NOW + timedelta(days=21))
        db.session.commit()
    assert _run(app, FIXED_NOW + timedelta(days=49)) == set()
    assert _run(app, FIXED_NOW + timedelta(days=51)) == {shop["customer"]}


def test_the_customer_list_countdown_goes_away_when_an_order_is_placed(app, shop, client):
    """The issue's scenario: the list row says 还剩 0 天; the salesperson places an order; the
    row no longer counts down and tonight's job leaves the customer alone."""
    _recycling_pool(app)
    _claimed(app, shop["customer"], days_ago=40)
    client.login("rep")
    before = list_table(client.get("/admin/customer/").get_data(as_text=True))
    assert "还剩 0 天" in before and "领用后未联系" in before
    assert "华星贸易" in list_table(client.get("/admin/recycle_soon/").get_data(as_text=True))
    new_order(app, shop)
    after = list_table(client.get("/admin/customer/").get_data(as_text=True))
    assert "华星贸易" in after and "还剩" not in after
    assert "华星贸易" not in list_table(client.get("/admin/recycle_soon/").get_data(as_text=True))
    assert _run(app, FIXED_NOW) == set()


@pytest.mark.both_dbs
def test_the_soon_list_and_the_countdown_name_what_the_job_then_moves(app, shop, make_customer):
    """Whatever the mix, the customers the 将被回收 list shows today are the ones the job moves
    when their warning days have passed, under the rule their countdown names."""
    pool_id = _recycling_pool(app)
    rep = shop["rep"]
    cases = {  # name: (claimed days ago, followed up days ago, order days ago and its last move)
        "领用未联系": (5, None, None), "早已未联系": (60, 25, None), "久未成交": (85, 2, None),
        "刚下单": (60, None, (0, None)), "下单后取消": (60, None, (25, "cancel")), "正在配货": (200, None, (0, "approve")),
        "太远了": (1, None, None)}
    ids = {name: make_customer(name, rep) for name in cases}
    with app.app_context():
        for name, (claimed, followed, _order) in cases.items():
            customer = db.session.get(Customer, ids[name])
            customer.claimed_at = FIXED_NOW - timedelta(days=claimed)
            customer.last_follow_up_at = FIXED_NOW - timedelta(days=followed) if followed is not None else None
        db.session.commit()
    with app.app_context():
        rep_actor, clerk = actor_of(db.session, "rep"), actor_of(db.session, "clerk")
        for name, (_c, _f, placed) in cases.items():
            if placed:
                days_ago, last_move = placed
                at = FIXED_NOW - timedelta(days=days_ago)
                order = Order(customer_id=ids[name], warehouse_id=shop["warehouse"],
                              lines=[OrderLine(product_id=shop["cup"], quantity=1, unit_price=Decimal("3.33"))])
                orders.submit(db.session, order, actor=rep_actor, now=at, tz="Asia/Shanghai")
                if last_move == "cancel":
                    orders.cancel(db.session, order.id, reason="客户要求", actor=clerk, now=at)
                elif last_move:
                    orders.approve(db.session, order.id, actor=clerk, now=at)
        db.session.commit()
    with app.app_context():
        pool = db.session.get(Pool, pool_id)
        soon = set(db.session.scalars(select(Customer.id).where(Customer.owner_id == rep,
                                                                recycle.soon_clause(db.session, FIXED_NOW))))
        busy = set(db.session.scalars(select(Customer.id).where(Customer.owner_id == rep,
                                                                ~activity.open_business_clause())))
        countdown = {c.id: recycle.deadline(c, pool, busy=c.id not in busy)
                     for c in db.session.scalars(select(Customer).where(Customer.owner_id == rep))}
    warned = {cid for cid, due in countdown.items() if due and due.days_left(FIXED_NOW) <= 7}
    assert soon == warned == {ids["领用未联系"], ids["早已未联系"], ids["久未成交"], ids["下单后取消"]}
    when = FIXED_NOW + timedelta(days=7)
    assert _run(app, when) == soon
    with app.app_context():
        rules = dict(db.session.execute(select(OwnershipEvent.customer_id, OwnershipEvent.recycle_rule)
                                        .where(OwnershipEvent.reason == "recycle")).all())
    assert rules == {cid: countdown[cid].rule.value for cid in soon}
    assert rules[ids["下单后取消"]] == "idle"
