"""订单折扣审批 (the approvals plug-in of rules/orders): with the flow on, an order priced below its
threshold (0.85 = 八五折) cannot be 审核ed until a discount approval of its current total passed;
while under approval it cannot be changed; with the flow off (the default) nothing changes."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from approval_fake import make_flow
from conftest import FIXED_NOW
from models import Order, db
from models.approval import ApprovalStatus
from rules import approvals, orders
from rules.errors import InvalidValue
from test_rules_orders import actor_of, move, new_order, shop, state_of  # noqa: F401 - fixture

pytestmark = pytest.mark.both_dbs


@pytest.fixture
def discount_flow(app, shop, make_user):
    make_user("boss", role="经理", department=("销售部",), display_name="王经理")
    with app.app_context():
        make_flow(db.session, {"kind": "users", "users": ["boss"], "name": "经理审批"},
                  doc_type="order_discount", threshold=Decimal("0.85"))
        db.session.commit()
    return shop


def cheap_order(app, shop) -> int:
    return new_order(app, shop, lines=[(shop["tea"], 3, None, "0.75")])


def test_a_deep_discount_waits_for_its_approval_before_review(app, discount_flow):
    shop = discount_flow
    order_id = cheap_order(app, shop)
    with pytest.raises(orders.TransitionRefused, match="折扣为0.75，低于0.85，需先通过折扣审批"):
        move(app, order_id, "approve")
    with app.app_context():
        request = orders.submit_discount(db.session, order_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        db.session.commit()
        assert request.title.endswith("折扣 0.75") and request.amount == Decimal("44.78")
        request_id = request.id
        order = db.session.get(Order, order_id)
        order.notes = "改一下"
        with pytest.raises(orders.TransitionRefused, match="折扣正在审批中，不能修改"):
            orders.revise(db.session, order, actor=actor_of(db.session, "rep"))
        db.session.rollback()
    with pytest.raises(orders.TransitionRefused, match="需先通过折扣审批"):
        move(app, order_id, "approve")
    with app.app_context():
        approvals.approve(db.session, request_id, actor=actor_of(db.session, "boss"), now=FIXED_NOW)
        db.session.commit()
    move(app, order_id, "approve")
    assert state_of(app, order_id) == "picking"


def test_an_order_at_or_above_the_threshold_or_with_the_flow_off_needs_nothing(app, discount_flow):
    shop = discount_flow
    fair = new_order(app, shop, lines=[(shop["tea"], 3, None, "0.85")])
    with app.app_context():
        with pytest.raises(InvalidValue, match="无需折扣审批"):
            orders.submit_discount(db.session, fair, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        db.session.rollback()
    move(app, fair, "approve")
    assert state_of(app, fair) == "picking"
    with app.app_context():
        approvals.flow_for(db.session, "order_discount").enabled = False
        db.session.commit()
    cheap = cheap_order(app, shop)
    move(app, cheap, "approve")
    assert state_of(app, cheap) == "picking"


def test_cancelling_the_order_ends_its_running_discount_approval(app, discount_flow):
    shop = discount_flow
    order_id = cheap_order(app, shop)
    with app.app_context():
        orders.submit_discount(db.session, order_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        db.session.commit()
    move(app, order_id, "cancel")
    with app.app_context():
        assert approvals.latest(db.session, "order_discount", order_id).status == ApprovalStatus.CANCELLED


def test_the_order_page_offers_the_submission_and_shows_the_panel(app, discount_flow, new_client):
    shop = discount_flow
    order_id = cheap_order(app, shop)
    rep = new_client()
    rep.login("rep")
    url = f"/admin/order/details/?id={order_id}"
    page = rep.get(url).get_data(as_text=True)
    assert 'data-testid="order-discount-needed"' in page and 'data-testid="order-discount-submit"' in page
    assert "尚未提交审批" in page
    clerk = new_client()
    clerk.login("clerk")
    approve_button = f"/admin/order/move/approve/?id={order_id}"
    assert approve_button not in clerk.get(url).get_data(as_text=True), "no 审核 before the discount is approved"
    page = rep.post_form(url, {}, to=f"/admin/order/discount_approval/?id={order_id}", follow=True).get_data(as_text=True)
    assert "已提交折扣审批" in page and "审批中" in page and "王经理：待审批" in page
    assert 'data-testid="order-discount-submit"' not in page
    boss = new_client()
    boss.login("boss")
    with app.app_context():
        request_id = approvals.current(db.session, "order_discount", order_id).id
    assert "订单" in boss.get("/admin/approval/").get_data(as_text=True)
    detail = boss.get(f"/admin/approval/{request_id}/").get_data(as_text=True)
    assert f"/admin/order/details/?id={order_id}" in detail, "the request page opens the order"
    boss.post_form(f"/admin/approval/{request_id}/", {}, to=f"/admin/approval/{request_id}/approve/")
    assert approve_button in clerk.get(url).get_data(as_text=True)
