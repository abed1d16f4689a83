"""Orders: exact money, every transition allowed or refused with its reason, stock follows
shipping and returns, the customer side (totals, deal, category, points), and two clerks
approving at once on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import FIXED_NOW, run_at_once
from models import (
    Customer, DictItem, Order, OrderEvent, OrderLine, OrderReturn, OrderStatus, PointsEntry, PriceLevel, Product, ProductPrice,
    Stock, StockMovement, User, Warehouse, db,
)
from rules import orders, receivables, settings, stock
from rules.actor import Actor
from rules.errors import InvalidValue, OutOfScope, PermissionDenied, PointsShort, PurgeRefused

TODAY = date(2026, 11, 23)
TZ = "Asia/Shanghai"


def actor_of(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    return Actor.from_user(user, today=TODAY, has_shares=False)


@pytest.fixture
def shop(app, make_user, make_customer):
    """A salesperson with a customer, another salesperson, two clerks, two products in stock."""
    ids = {"rep": make_user("rep"), "rep2": make_user("rep2", department=("销售部", "销售二部")),
           "clerk": make_user("clerk", role="内勤", department=("内勤部",)),
           "clerk2": make_user("clerk2", role="内勤", department=("内勤部",))}
    ids["customer"] = make_customer("华星贸易", ids["rep"])
    ids["other_customer"] = make_customer("远方公司", ids["rep2"])
    with app.app_context():
        retail, wholesale = PriceLevel(name="零售价", sort_order=1), PriceLevel(name="批发价", sort_order=2)
        warehouse = Warehouse(name="上海仓")
        tea = Product(code="P001", name="龙井茶", mnemonic="ljc", spec="250g/罐", unit="罐", cost=Decimal("12.35"), points=2,
                      safety_stock=5)
        cup = Product(code="P002", name="茶杯", spec="6只/盒", unit="盒", cost=Decimal("1.11"), points=1)
        db.session.add_all([retail, wholesale, warehouse, tea, cup])
        db.session.flush()
        db.session.add_all([ProductPrice(product_id=tea.id, level_id=retail.id, price=Decimal("19.90")),
                            ProductPrice(product_id=tea.id, level_id=wholesale.id, price=Decimal("16.00")),
                            ProductPrice(product_id=cup.id, level_id=retail.id, price=Decimal("3.33"))])
        stock.change(db.session, product_id=tea.id, warehouse_id=warehouse.id, quantity=10, reason="in", now=FIXED_NOW)
        stock.change(db.session, product_id=cup.id, warehouse_id=warehouse.id, quantity=20, reason="in", now=FIXED_NOW)
        db.session.commit()
        ids.update(retail=retail.id, wholesale=wholesale.id, warehouse=warehouse.id, tea=tea.id, cup=cup.id)
    return ids


def new_order(app, shop, *, who="rep", customer="customer", lines=None, level="retail") -> int:
    """The worked example: 3 罐龙井 at ¥19.90 九五折, 7 盒茶杯 at ¥3.33 八八折."""
    lines = lines or [(shop["tea"], 3, None, "0.95"), (shop["cup"], 7, None, "0.88")]
    with app.app_context():
        order = Order(customer_id=shop[customer], price_level_id=shop[level], warehouse_id=shop["warehouse"],
                      lines=[OrderLine(product_id=p, quantity=q, unit_price=price, discount_rate=Decimal(rate))
                             for p, q, price, rate in lines])
        orders.submit(db.session, order, actor=actor_of(db.session, who), now=FIXED_NOW, tz=TZ)
        db.session.commit()
        return order.id


def move(app, order_id, action, who="clerk", **kwargs):
    with app.app_context():
        actor = actor_of(db.session, who)
        if action == "ship":
            kwargs.setdefault("carrier", "顺丰速运")
            kwargs.setdefault("tracking_no", "SF1234567890")
        if action in ("cancel", "return"):
            kwargs.setdefault("reason", "客户要求")
        func_ = {"return": orders.return_order}.get(action) or getattr(orders, action)
        try:
            func_(db.session, order_id, actor=actor, now=FIXED_NOW, **kwargs)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise


def state_of(app, order_id) -> str:
    with app.app_context():
        return db.session.get(Order, order_id).state


def test_worked_example_totals_tax_and_margin_are_exact(app, shop):
    order_id = new_order(app, shop)
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert [line.amount for line in order.lines] == [Decimal("56.72"), Decimal("20.51")]
        assert order.gross == Decimal("83.01")       # 59.70 + 23.31
        assert order.total == Decimal("77.23")
        assert order.discount == Decimal("5.78")
        assert order.tax_rate == Decimal("0.13")
        assert order.amount_ex_tax == Decimal("68.35")  # 77.23 / 1.13 = 68.345… → 68.35
        assert order.tax == Decimal("8.88")
        assert order.amount_ex_tax + order.tax == order.total
        assert order.cost == Decimal("44.82")        # 3 × 12.35 + 7 × 1.11
        assert order.margin == Decimal("23.53")
        assert order.number == "DD202611230001"
        assert order.state == OrderStatus.PENDING_REVIEW
        assert (order.consignee, order.salesperson_id) == ("华星贸易", shop["rep"])
        assert receivables.outstanding(order) == Decimal("0")  # not approved yet: nothing is owed


def test_unit_price_defaults_from_the_price_level_and_stays_editable(app, shop):
    order_id = new_order(app, shop, level="wholesale",
                         lines=[(shop["tea"], 2, None, "1"), (shop["cup"], 1, Decimal("2.50"), "1")])
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert [line.unit_price for line in order.lines] == [Decimal("16.00"), Decimal("2.50")]
        assert order.total == Decimal("34.50")


def test_tax_rate_and_number_pattern_come_from_settings(app, shop):
    with app.app_context():
        settings.put(db.session, "order_tax_rate", "0.06")
        settings.put(db.session, "order_number_pattern", "SO{yy}{mm}-{seq:03d}")
        db.session.commit()
    order_id = new_order(app, shop)
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.number == "SO2611-001"
        assert (order.amount_ex_tax, order.tax) == (Decimal("72.86"), Decimal("4.37"))


@pytest.mark.parametrize("lines, message", [
    ([], "订单至少需要一条产品明细"),
    ([("tea", 0, None, "1")], "数量必须大于 0"),
    ([("tea", 1, None, "1.5")], "折扣应在 0 到 1 之间"),
    ([("tea", 1, Decimal("-1"), "1")], "单价不能为负数"),
])
def test_bad_lines_are_refused_with_a_reason(app, shop, lines, message):
    with app.app_context():
        order = Order(customer_id=shop["customer"], price_level_id=shop["retail"],
                      lines=[OrderLine(product_id=shop[p], quantity=q, unit_price=price, discount_rate=Decimal(r))
                             for p, q, price, r in lines])
        with pytest.raises(InvalidValue, match=message):
            orders.submit(db.session, order, actor=actor_of(db.session, "rep"), now=FIXED_NOW, tz=TZ)


# --- every transition from every state ---------------------------------------------------------

PATHS = {  # how to bring a fresh order into each state
    "pending_review": [],
    "picking": ["approve"],
    "shipped": ["approve", "ship"],
    "completed": ["approve", "ship", "sign"],
    "cancelled": ["cancel"],
    "returned": ["approve", "ship", "return"],
}
ALLOWED = {("pending_review", "approve"): "picking", ("picking", "ship"): "shipped",
           ("shipped", "sign"): "completed", ("pending_review", "cancel"): "cancelled",
           ("picking", "cancel"): "cancelled", ("shipped", "return"): "returned",
           ("completed", "return"): "returned"}
LABELS = {"pending_review": "等待审核", "picking": "正在配货", "shipped": "已发货", "completed": "已完成",
          "cancelled": "已取消", "returned": "退货"}
NEEDS = {"approve": "只有“等待审核”的订单可以审核", "ship": "只有“正在配货”的订单可以发货",
         "sign": "只有“已发货”的订单可以签收", "cancel": "只有“等待审核”、“正在配货”的订单可以取消",
         "return": "只有“已发货”、“已完成”的订单可以退货"}


@pytest.mark.parametrize("start", list(PATHS))
def test_each_state_allows_exactly_its_moves_and_refuses_the_rest_with_why(app, shop, start):
    with app.app_context():  # many shipments below: stock is not the point here
        settings.put(db.session, "allow_negative_stock", True)
        db.session.commit()
    for action in ("approve", "ship", "sign", "cancel", "return"):
        order_id = new_order(app, shop)
        for step in PATHS[start]:
            move(app, order_id, step)
        assert state_of(app, order_id) == start
        with app.app_context():
            events_before = db.session.scalar(select(func.count(OrderEvent.id)).where(OrderEvent.order_id == order_id))
        if (start, action) in ALLOWED:
            move(app, order_id, action)
            assert state_of(app, order_id) == ALLOWED[(start, action)]
            with app.app_context():
                last = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)
                                          .order_by(OrderEvent.id.desc())).first()
                assert (last.action, last.from_state, last.to_state) == (action, start, ALLOWED[(start, action)])
                assert last.actor_id == shop["clerk"] and last.at == FIXED_NOW
        else:
            with pytest.raises(orders.TransitionRefused) as refused:
                move(app, order_id, action)
            assert f"当前状态为“{LABELS[start]}”" in str(refused.value)
            assert NEEDS[action] in str(refused.value)
            assert state_of(app, order_id) == start
            with app.app_context():
                assert db.session.scalar(select(func.count(OrderEvent.id)).where(
                    OrderEvent.order_id == order_id)) == events_before


def test_ship_needs_carrier_and_tracking_number(app, shop):
    order_id = new_order(app, shop)
    move(app, order_id, "approve")
    with pytest.raises(InvalidValue, match="物流公司和物流单号"):
        move(app, order_id, "ship", tracking_no=" ")
    assert state_of(app, order_id) == "picking"
    move(app, order_id, "ship", carrier="中通快递", tracking_no="ZT778899")
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.carrier, order.tracking_no, order.shipped_at) == ("中通快递", "ZT778899", FIXED_NOW)


def test_cancel_and_return_need_a_reason(app, shop):
    order_id = new_order(app, shop)
    with pytest.raises(InvalidValue, match="取消原因"):
        move(app, order_id, "cancel", reason="")
    move(app, order_id, "cancel", reason="客户改主意了")
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.close_reason == "客户改主意了"
        assert order.events[-1].note == "客户改主意了"


def test_a_salesperson_may_not_approve_and_a_clerk_may_not_enter(app, shop):
    order_id = new_order(app, shop)
    with pytest.raises(PermissionDenied, match="审核"):
        move(app, order_id, "approve", who="rep")
    with pytest.raises(PermissionDenied, match="录入订单"):
        new_order(app, shop, who="clerk")


def test_out_of_scope_orders_and_customers_are_not_found(app, shop):
    order_id = new_order(app, shop)
    with pytest.raises(OutOfScope):
        move(app, order_id, "cancel", who="rep2")
    with pytest.raises(OutOfScope):
        new_order(app, shop, who="rep", customer="other_customer")


# --- stock --------------------------------------------------------------------------------------

def stock_of(app, shop, product) -> int:
    with app.app_context():
        return db.session.scalar(select(Stock.quantity).where(Stock.product_id == shop[product],
                                                             Stock.warehouse_id == shop["warehouse"]))


def test_shipping_deducts_stock_and_a_partial_return_restores_it(app, shop):
    order_id = new_order(app, shop)
    move(app, order_id, "approve")
    assert (stock_of(app, shop, "tea"), stock_of(app, shop, "cup")) == (10, 20)  # approval reserves nothing
    move(app, order_id, "ship")
    assert (stock_of(app, shop, "tea"), stock_of(app, shop, "cup")) == (7, 13)
    with app.app_context():
        lines = {line.product_id: line.id for line in db.session.get(Order, order_id).lines}
    move(app, order_id, "return", quantities={lines[shop["tea"]]: 1})
    assert (stock_of(app, shop, "tea"), stock_of(app, shop, "cup")) == (8, 13)
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.returned_amount == Decimal("18.91")  # one third of 56.72, to the cent
        moves = db.session.execute(select(StockMovement.reason, StockMovement.change, StockMovement.balance)
                                   .where(StockMovement.order_id == order_id).order_by(StockMovement.id)).all()
        assert moves == [("ship", -3, 7), ("ship", -7, 13), ("return", 1, 8)]


def test_stock_never_goes_negative_unless_the_administrator_allows_it(app, shop):
    order_id = new_order(app, shop, lines=[(shop["cup"], 5, None, "1"), (shop["tea"], 11, None, "1")])
    move(app, order_id, "approve")
    with pytest.raises(stock.StockShort, match="“龙井茶”在“上海仓”库存不足：现有 10，需要 11"):
        move(app, order_id, "ship")
    # nothing half-done: the order still waits for picking and the cups are still there
    assert state_of(app, order_id) == "picking"
    assert (stock_of(app, shop, "tea"), stock_of(app, shop, "cup")) == (10, 20)
    with app.app_context():
        settings.put(db.session, "allow_negative_stock", True)
        db.session.commit()
    move(app, order_id, "ship")
    assert stock_of(app, shop, "tea") == -1


def test_low_stock_list(app, shop):
    with app.app_context():
        low = set(db.session.scalars(select(Product.code).where(stock.low_stock_clause())))
        assert low == set()
    order_id = new_order(app, shop, lines=[(shop["tea"], 6, None, "1")])
    move(app, order_id, "approve")
    move(app, order_id, "ship")
    with app.app_context():
        assert set(db.session.scalars(select(Product.code).where(stock.low_stock_clause()))) == {"P001"}
        assert stock.totals(db.session, [shop["tea"], shop["cup"]]) == {shop["tea"]: 4, shop["cup"]: 20}


# --- the customer side --------------------------------------------------------------------------

def test_completion_updates_customer_totals_deal_category_and_points(app, shop):
    order_id = new_order(app, shop)
    for step in ("approve", "ship", "sign"):
        move(app, order_id, step)
    with app.app_context():
        customer = db.session.get(Customer, shop["customer"])
        assert (customer.purchase_count, customer.purchase_total) == (1, Decimal("77.23"))
        assert customer.last_purchase_on == TODAY
        assert customer.has_deal is True
        assert db.session.get(DictItem, customer.category_id).name == "成交客户"
        assert customer.points == 3 * 2 + 7 * 1
        entry = db.session.scalar(select(PointsEntry).where(PointsEntry.customer_id == customer.id))
        assert (entry.change, entry.balance, entry.reason) == (13, 13, "order")
    # a full return takes the purchase and the points back
    move(app, order_id, "return")
    with app.app_context():
        customer = db.session.get(Customer, shop["customer"])
        assert (customer.purchase_count, customer.purchase_total, customer.points) == (0, Decimal("0.00"), 0)
        assert receivables.refundable(db.session.get(Order, order_id)) == Decimal("0")  # nothing was paid


def test_points_redeem_with_a_log_and_never_below_zero(app, shop):
    order_id = new_order(app, shop)
    for step in ("approve", "ship", "sign"):
        move(app, order_id, step)
    with app.app_context():
        rep = actor_of(db.session, "rep")
        orders.redeem_points(db.session, shop["customer"], 10, note="兑换茶具", actor=rep, now=FIXED_NOW)
        db.session.commit()
        with pytest.raises(PointsShort, match="积分不足：现有 3 分，需要 5 分"):
            orders.redeem_points(db.session, shop["customer"], 5, note="", actor=rep, now=FIXED_NOW)
        db.session.rollback()
        log = db.session.execute(select(PointsEntry.change, PointsEntry.balance, PointsEntry.reason)
                                 .order_by(PointsEntry.id)).all()
        assert log == [(13, 13, "order"), (-10, 3, "redeem")]


def test_revising_is_only_possible_while_waiting_for_review(app, shop):
    order_id = new_order(app, shop)
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.lines[0].quantity = 4
        orders.revise(db.session, order, actor=actor_of(db.session, "rep"))
        db.session.commit()
        assert order.total == Decimal("96.13")  # 4 × 19.90 × 0.95 = 75.62, + 20.51
    move(app, order_id, "approve")
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.lines[0].quantity = 1
        with pytest.raises(orders.TransitionRefused, match="只有“等待审核”的订单可以修改"):
            orders.revise(db.session, order, actor=actor_of(db.session, "rep"))


# --- concurrency ----------------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_two_clerks_approving_at_once_give_one_approval_and_one_event(app, shop):
    order_ids = [new_order(app, shop) for _ in range(3)]
    for order_id in order_ids:
        def approver(username):
            def job(session):
                orders.approve(session, order_id, actor=actor_of(session, username), now=FIXED_NOW)
            return job

        results = run_at_once(app, [approver("clerk"), approver("clerk2")] * 2)
        assert results.count("ok") == 1, results
        assert all("刚刚已被他人处理" in r or "当前状态为“正在配货”" in r for r in results if r != "ok"), results
        with app.app_context():
            events = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id,
                                                                 OrderEvent.action == "approve")).all()
            assert len(events) == 1
            assert db.session.get(Order, order_id).state == "picking"


@pytest.mark.both_dbs
def test_two_shipments_of_the_last_units_cannot_both_succeed(app, shop):
    first = new_order(app, shop, lines=[(shop["tea"], 6, None, "1")])
    second = new_order(app, shop, lines=[(shop["tea"], 6, None, "1")])
    for order_id in (first, second):
        move(app, order_id, "approve")

    def shipper(order_id):
        def job(session):
            orders.ship(session, order_id, carrier="顺丰速运", tracking_no=f"SF{order_id}",
                        actor=actor_of(session, "clerk"), now=FIXED_NOW)
        return job

    results = run_at_once(app, [shipper(first), shipper(second)])
    assert results.count("ok") == 1, results
    assert any("库存不足" in r for r in results)
    assert stock_of(app, shop, "tea") == 4


def test_customers_with_orders_merge_with_their_orders_and_are_never_purged(app, shop, make_customer):
    from rules import customers as customer_rules

    twin = make_customer("华星贸易（重复）", shop["rep"])
    first = new_order(app, shop)
    second = new_order(app, shop)
    with app.app_context():
        db.session.get(Order, second).customer_id = twin
        db.session.commit()
    for order_id in (first, second):
        for step in ("approve", "ship", "sign"):
            move(app, order_id, step)
    with app.app_context():
        rep = actor_of(db.session, "rep")
        keep, other = db.session.get(Customer, shop["customer"]), db.session.get(Customer, twin)
        customer_rules.merge(db.session, keep, [other], actor=rep, now=FIXED_NOW)
        db.session.commit()
        assert {o.customer_id for o in db.session.scalars(select(Order))} == {keep.id}
        assert (keep.purchase_count, keep.purchase_total, keep.points) == (2, Decimal("154.46"), 26)
        with pytest.raises(PurgeRefused, match="有订单，订单和回款记录需要保留，不能彻底删除"):
            customer_rules.to_bin(db.session, keep, actor=rep, now=FIXED_NOW)
            customer_rules.purge(db.session, keep)
        db.session.rollback()
        customer_rules.purge(db.session, db.session.get(Customer, twin))  # its orders moved: it may go
        db.session.commit()


# --- partial returns ------------------------------------------------------------------------------

def test_a_partial_return_keeps_the_order_and_everything_follows_the_kept_quantities(app, shop):
    """Issue 16 item 2: a partial return ended the whole order, which then could never complete,
    and the customer's 购买次数/累计金额/积分 stayed 0 although he kept the rest."""
    order_id = new_order(app, shop)  # 3 罐龙井 ¥56.72 + 7 盒茶杯 ¥20.51 = ¥77.23
    move(app, order_id, "approve")
    move(app, order_id, "ship")
    with app.app_context():
        lines = {line.product_id: line.id for line in db.session.get(Order, order_id).lines}
    move(app, order_id, "return", quantities={lines[shop["tea"]]: 1})
    assert state_of(app, order_id) == "shipped"
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.returned_amount, receivables.kept_amount(order)) == (Decimal("18.91"), Decimal("58.32"))
        assert receivables.receivable(order) == Decimal("58.32")
        kept = orders.kept(order)
        assert (kept.amount_ex_tax, kept.tax) == (Decimal("51.61"), Decimal("6.71"))  # 58.32 / 1.13
        assert (kept.cost, kept.margin) == (Decimal("32.47"), Decimal("19.14"))      # 2 × 12.35 + 7 × 1.11
        last = order.events[-1]
        assert (last.action, last.from_state, last.to_state) == ("return_part", "shipped", "shipped")
        assert [(r.line_id, r.quantity, r.amount) for r in db.session.scalars(
            select(OrderReturn).where(OrderReturn.event_id == last.id))] == [(lines[shop["tea"]], 1, Decimal("18.91"))]
    move(app, order_id, "sign")  # the customer keeps the rest: the order completes
    with app.app_context():
        customer = db.session.get(Customer, shop["customer"])
        assert (customer.purchase_count, customer.purchase_total, customer.points) == (1, Decimal("58.32"), 2 * 2 + 7)
    # a second partial return, after completion, gives back only its own amount and points
    move(app, order_id, "return", quantities={lines[shop["cup"]]: 2})
    assert state_of(app, order_id) == "completed"
    assert stock_of(app, shop, "cup") == 15
    with app.app_context():
        customer = db.session.get(Customer, shop["customer"])
        assert (customer.purchase_count, customer.purchase_total, customer.points) == (1, Decimal("52.46"), 9)
        assert db.session.get(Order, order_id).returned_amount == Decimal("24.77")  # 18.91 + 5.86
    with pytest.raises(InvalidValue, match="“龙井茶”的退货数量应在 0 到 2 之间"):
        move(app, order_id, "return", quantities={lines[shop["tea"]]: 3})
    # returning what is left is the only move to 退货
    move(app, order_id, "return", quantities={lines[shop["tea"]]: 2, lines[shop["cup"]]: 5})
    assert state_of(app, order_id) == "returned"
    assert (stock_of(app, shop, "tea"), stock_of(app, shop, "cup")) == (10, 20)
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.returned_amount, receivables.kept_amount(order)) == (Decimal("77.23"), Decimal("0.00"))
        customer = db.session.get(Customer, shop["customer"])
        assert (customer.purchase_count, customer.purchase_total, customer.points) == (0, Decimal("0.00"), 0)
        assert [e.action for e in order.events][-4:] == ["return_part", "sign", "return_part", "return"]


@pytest.mark.both_dbs
def test_sales_reports_count_what_customers_kept(app, shop):
    from rules import reports
    order_id = new_order(app, shop)
    for step in ("approve", "ship"):
        move(app, order_id, step)
    with app.app_context():
        tea = next(line.id for line in db.session.get(Order, order_id).lines if line.product_id == shop["tea"])
    move(app, order_id, "return", quantities={tea: 1})
    with app.app_context():
        actor = actor_of(db.session, "clerk")
        filters = reports.Filters(start=TODAY.replace(day=1), end=TODAY, tz=TZ)
        sales = reports.company_sales(db.session, actor, filters)
        november = next(r for r in sales.rows if r["month"] == "2026-11")
        assert (november["orders"], november["receivable"], november["outstanding"]) == (
            1, Decimal("58.32"), Decimal("58.32"))
        people = reports.salesperson_performance(db.session, actor, filters)
        assert [r["amount"] for r in people.rows if r.get("orders")] == [Decimal("58.32")]
