"""订单: pricing (Decimal, 税款分离, 毛利), entry, and the state machine of DESIGN §6.

    (entry) → pending_review 等待审核 → picking 正在配货 (approve) → shipped 已发货 (ship)
            → completed 已完成 (sign);  pending_review | picking → cancelled 已取消;
            shipped | completed → returned 退货 (only when everything came back; a partial
            return is a return record against an order that keeps its state).

Every move is one conditional `UPDATE orders ... WHERE id = :id AND state = :from` checked by
its row count (with_for_update does nothing on SQLite), plus one OrderEvent. Two clerks
approving the same order at once get one approval and one event. Nothing here commits."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from models.customer import Contact, Customer
from models.dictionary import DictItem, DictKind
from models.org import User
from models.product import PriceLevel, Product, ProductPrice, Warehouse
from models.approval import ApprovalAction, ApprovalDocType, ApprovalStatus
from models.sales import Order, OrderEvent, OrderLine, OrderReturn, OrderStatus, PointsEntry
from rules import activity, approvals, normalize, numbering, payment_plans, receivables, scope, settings, stock
from rules import warranty
from rules.actor import Actor
from rules.clock import local_date
from rules.errors import InvalidValue, PermissionDenied, PointsShort, RuleViolation
from rules.links import ListKind, RecordLink

CENT = Decimal("0.01")
ZERO = Decimal("0")
NUMBER_SEQUENCE = "order"

# Administrator settings (rows in `settings`) and their defaults.
DEFAULTS: dict[str, Any] = {
    "order_number_pattern": "DD{yyyy}{mm}{dd}{seq:04d}",
    "order_tax_rate": "0.13",          # 税率 used to split tax out of tax-included amounts
    "order_deal_category": "成交客户",  # 客户分类 a customer moves to on a completed order ("" = keep)
    "allow_negative_stock": False,
    "payment_requires_approval": True,  # 回款需他人确认: the safe default (issue 16 item 3)
}

STATE_LABELS = {
    OrderStatus.PENDING_REVIEW.value: _l("等待审核"),
    OrderStatus.PICKING.value: _l("正在配货"),
    OrderStatus.SHIPPED.value: _l("已发货"),
    OrderStatus.COMPLETED.value: _l("已完成"),
    OrderStatus.CANCELLED.value: _l("已取消"),
    OrderStatus.RETURNED.value: _l("退货"),
}


class TransitionRefused(RuleViolation):
    """The order is not in a state this move starts from (or lost a race to another clerk)."""


@dataclass(frozen=True)
class Transition:
    label: Any
    sources: tuple[str, ...]
    target: str
    permissions: tuple[str, ...]  # any one of them

    def allows(self, actor: Actor) -> bool:
        """Whether the actor may make this move at all; the order list's actions and the order
        page's buttons ask this too, so they offer exactly what the rule accepts."""
        return actor.can_any(self.permissions)


S = OrderStatus
TRANSITIONS: dict[str, Transition] = {
    "approve": Transition(_l("审核"), (S.PENDING_REVIEW,), S.PICKING, ("order.approve",)),
    "ship": Transition(_l("发货"), (S.PICKING,), S.SHIPPED, ("order.ship",)),
    "sign": Transition(_l("签收"), (S.SHIPPED,), S.COMPLETED, ("order.ship",)),
    "cancel": Transition(_l("取消"), (S.PENDING_REVIEW, S.PICKING), S.CANCELLED, ("order.create", "order.approve")),
    "return": Transition(_l("退货"), (S.SHIPPED, S.COMPLETED), S.RETURNED, ("order.approve",)),
}
EVENT_LABELS = {"submit": _l("提交"), **{name: t.label for name, t in TRANSITIONS.items()},
                "return_part": _l("部分退货")}


def setting(session: Session, key: str) -> Any:
    value = settings.get(session, key)
    return DEFAULTS[key] if value is None else value


def tax_rate(session: Session) -> Decimal:
    return Decimal(str(setting(session, "order_tax_rate")))


# --- money ------------------------------------------------------------------------------------

def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(quantity: int, unit_price: Decimal, discount_rate: Decimal) -> Decimal:
    return money(Decimal(quantity) * unit_price * discount_rate)


def split_tax(total: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """税款分离: a tax-included amount → (amount excluding tax, tax); the two add up exactly."""
    ex_tax = money(total / (Decimal(1) + rate))
    return ex_tax, total - ex_tax


@dataclass(frozen=True)
class Totals:
    """原价合计, 金额 (tax included), 折扣金额, 不含税金额, 税额 of a document's lines."""
    gross: Decimal
    total: Decimal
    discount: Decimal
    amount_ex_tax: Decimal
    tax: Decimal


def price_lines(lines: Any, rate: Decimal) -> Totals:
    """Fill each line's amount and add them up, as every priced document (order, quote) does:
    金额 = 数量 × 单价 × 折扣 (rounded half-up to the cent, per line), then 税款分离."""
    gross = total = ZERO
    for line in lines:
        line.amount = line_amount(line.quantity, line.unit_price, line.discount_rate)
        gross += money(Decimal(line.quantity) * line.unit_price)
        total += line.amount
    ex_tax, tax = split_tax(total, rate)
    return Totals(gross, total, gross - total, ex_tax, tax)


def compute(order: Order) -> Order:
    """Fill each line's amount and the order's totals (and 成本/毛利) from the lines."""
    totals = price_lines(order.lines, order.tax_rate)
    cost = sum((money(Decimal(line.quantity) * line.unit_cost) for line in order.lines), ZERO)
    order.gross, order.total, order.discount, order.cost = totals.gross, totals.total, totals.discount, cost
    order.amount_ex_tax, order.tax = totals.amount_ex_tax, totals.tax
    order.margin = order.amount_ex_tax - cost
    return order


def default_price(session: Session, product_id: int, level_id: int | None) -> Decimal | None:
    """The product's price at the order's price level, or its first level's price."""
    prices = dict(session.execute(select(ProductPrice.level_id, ProductPrice.price)
                                  .where(ProductPrice.product_id == product_id)).all())
    if level_id in prices:
        return prices[level_id]
    return prices[min(prices)] if prices else None


def _decimal(value: Any, message: Any) -> Decimal:
    try:
        return Decimal(str(value).replace(",", "").replace("¥", "").strip())
    except (InvalidOperation, ValueError):
        raise InvalidValue(message) from None


def _id(related: Any, fallback: int | None) -> int | None:
    return related.id if related is not None else fallback


def check_lines(session: Session, lines: Any, level_id: int | None, *, empty: Any) -> list[Any]:
    """Check a document's product lines and fill what the user left out: the unit price from
    the chosen price level; a rate of 1 when no discount was typed. Order and quote lines alike."""
    lines = [line for line in lines if line is not None]
    if not lines:
        raise InvalidValue(empty)
    for line in lines:
        product = line.product or (session.get(Product, line.product_id) if line.product_id else None)
        if product is None:
            raise InvalidValue(_l("请为每条明细选择产品"))
        if not line.quantity or line.quantity <= 0:
            raise InvalidValue(_l("“%(p)s”的数量必须大于 0", p=product.name))
        if line.unit_price is None or line.unit_price == "":
            line.unit_price = default_price(session, product.id, level_id)
            if line.unit_price is None:
                raise InvalidValue(_l("“%(p)s”没有设置价格，请填写单价", p=product.name))
        line.unit_price = _decimal(line.unit_price, _l("单价格式不正确"))
        if line.unit_price < 0:
            raise InvalidValue(_l("“%(p)s”的单价不能为负数", p=product.name))
        rate = ZERO + _decimal(line.discount_rate if line.discount_rate not in (None, "") else 1,
                               _l("折扣格式不正确"))
        if not (ZERO < rate <= 1):
            raise InvalidValue(_l("折扣应在 0 到 1 之间（0.95 表示九五折）"))
        line.discount_rate = rate
        line.product = product
    return lines


def prepare_lines(session: Session, order: Order) -> None:
    """The order's lines checked and priced; the cost is kept on the line, so later cost
    changes keep old margins."""
    for line in check_lines(session, order.lines, _id(order.price_level, order.price_level_id),
                            empty=_l("订单至少需要一条产品明细")):
        line.unit_cost = line.product.cost or ZERO


# --- entry ------------------------------------------------------------------------------------

def _event(session: Session, order_id: int, action: str, *, from_state: str | None, to_state: str,
           actor: Actor | None, now: datetime, note: str | None = None) -> OrderEvent:
    event = OrderEvent(order_id=order_id, action=action, from_state=from_state, to_state=to_state,
                       actor_id=actor.user_id if actor else None, note=note, at=now)
    session.add(event)
    session.flush()
    return event


def fill_consignee(session: Session, order: Order, customer: Customer) -> None:
    """收货信息 defaults from the customer and its primary contact."""
    contact = session.scalar(select(Contact).where(Contact.customer_id == customer.id)
                             .order_by(Contact.is_primary.desc(), Contact.id).limit(1))
    order.consignee = order.consignee or (contact.name if contact else customer.name)
    order.phone = order.phone or (contact.mobile if contact and contact.mobile else None) or customer.mobile \
        or customer.phone
    if not (order.province or order.address):
        order.province, order.city, order.district = customer.province, customer.city, customer.district
        order.address = customer.address


def submit(session: Session, order: Order, *, actor: Actor, now: datetime, tz: str) -> OrderEvent:
    """录入并提交: a new order for a customer in the actor's scope goes to 等待审核."""
    if not actor.can("order.create"):
        raise PermissionDenied(_l("您没有录入订单的权限"))
    # A form sets relationships (order.customer), code sets ids (order.customer_id): accept both.
    customer = scope.get_in_scope(session, Customer, _id(order.customer, order.customer_id), actor)
    salesperson_id = _id(order.salesperson, order.salesperson_id) or customer.owner_id or actor.user_id
    if salesperson_id not in (actor.user_id, customer.owner_id) and session.scalar(
            select(User.id).where(User.id == salesperson_id, scope.owner_clause(User.id, actor))) is None:
        raise InvalidValue(_l("只能选择您数据范围内的业务员"))
    order.customer = customer
    order.salesperson = session.get(User, salesperson_id)
    order.created_by_id = actor.user_id
    order.state = OrderStatus.PENDING_REVIEW
    order.submitted_at = now
    order.order_date = order.order_date or local_date(now, tz)
    order.tax_rate = tax_rate(session) if order.tax_rate in (None, "") else order.tax_rate
    order.warehouse = order.warehouse or (session.get(Warehouse, order.warehouse_id) if order.warehouse_id
                                          else stock.default_warehouse(session))
    if order.price_level is None and order.price_level_id:
        order.price_level = session.get(PriceLevel, order.price_level_id)
    fill_consignee(session, order, customer)
    for field in ("consignee", "phone", "address"):
        setattr(order, field, normalize.text(getattr(order, field)) or None)
    prepare_lines(session, order)
    compute(order)
    if not order.number:
        order.number = numbering.next_number(session, NUMBER_SEQUENCE, setting(session, "order_number_pattern"),
                                             today=local_date(now, tz))
    session.add(order)
    session.flush()
    activity.record_order_move(session, order.customer_id, "submit", at=now)
    return _event(session, order.id, "submit", from_state=None, to_state=OrderStatus.PENDING_REVIEW,
                  actor=actor, now=now)


def revise(session: Session, order: Order, *, actor: Actor) -> None:
    """Changing an order (lines, prices, consignee) is allowed only while it waits for review."""
    previous = session.scalar(select(Order.state).where(Order.id == order.id))
    if previous != OrderStatus.PENDING_REVIEW:
        raise TransitionRefused(_l("订单%(n)s当前状态为“%(s)s”，只有“等待审核”的订单可以修改",
                                   n=order.number, s=STATE_LABELS.get(previous, previous)))
    if approvals.current(session, DISCOUNT, order.id) is not None:
        raise TransitionRefused(_l("订单%(n)s的折扣正在审批中，不能修改；需要修改请先撤回审批", n=order.number))
    if not actor.can("order.create"):
        raise PermissionDenied(_l("您没有修改订单的权限"))
    customer = scope.get_in_scope(session, Customer, _id(order.customer, order.customer_id), actor)
    # Fields left empty keep what they had (or take the same defaults as a new order).
    history = sa_inspect(order).attrs.order_date.history
    if order.order_date is None:
        order.order_date = history.deleted[0] if history.deleted else order.submitted_at.date()
    if order.salesperson is None:  # the unflushed id still names the previous salesperson
        order.salesperson = session.get(User, order.salesperson_id or customer.owner_id or actor.user_id)
    fill_consignee(session, order, customer)
    prepare_lines(session, order)
    compute(order)


# --- the state machine ------------------------------------------------------------------------

def refusal(order: Order, action: str, state: str) -> TransitionRefused:
    rule = TRANSITIONS[action]
    allowed = "、".join(f"“{STATE_LABELS[s]}”" for s in rule.sources)
    return TransitionRefused(_l("订单%(n)s当前状态为“%(s)s”，不能%(a)s：只有%(allowed)s的订单可以%(a)s",
                                n=order.number, s=STATE_LABELS.get(state, state), a=rule.label, allowed=allowed))


def _move(session: Session, order_id: Any, action: str, *, actor: Actor, now: datetime, note: str | None = None,
          values: Mapping[str, Any] | None = None) -> tuple[Order, OrderEvent, str]:
    rule = TRANSITIONS[action]
    if not rule.allows(actor):
        raise PermissionDenied(_l("您没有%(a)s订单的权限", a=rule.label))
    order = scope.get_in_scope(session, Order, order_id, actor)
    state = session.scalar(select(Order.state).where(Order.id == order.id))
    if state not in rule.sources:
        raise refusal(order, action, state)
    if action == "approve":
        check_discount_cleared(session, order)
    stamp = {"approve": "approved_at", "ship": "shipped_at", "sign": "completed_at", "cancel": "closed_at",
             "return": "closed_at"}[action]
    moved = session.execute(
        update(Order).where(Order.id == order.id, Order.state == state)
        .values(state=rule.target, **{stamp: now}, **dict(values or {}))
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        now_state = session.scalar(select(Order.state).where(Order.id == order.id))
        raise TransitionRefused(_l("订单%(n)s刚刚已被他人处理（现在是“%(s)s”），请刷新后再试",
                                   n=order.number, s=STATE_LABELS.get(now_state, now_state)))
    event = _event(session, order.id, action, from_state=state, to_state=rule.target, actor=actor, now=now,
                   note=note)
    activity.record_order_move(session, order.customer_id, action, at=now)
    session.refresh(order)
    return order, event, state


def approve(session: Session, order_id: Any, *, actor: Actor, now: datetime, note: str | None = None) -> OrderEvent:
    """审核通过 → 正在配货."""
    return _move(session, order_id, "approve", actor=actor, now=now, note=note)[1]


def ship(session: Session, order_id: Any, *, carrier: str, tracking_no: str, actor: Actor, now: datetime,
         note: str | None = None, tz: str = "Asia/Shanghai") -> OrderEvent:
    """发货: needs the carrier and tracking number; takes the goods out of stock."""
    carrier, tracking_no = normalize.text(carrier), normalize.text(tracking_no)
    if not carrier or not tracking_no:
        raise InvalidValue(_l("发货需要填写物流公司和物流单号"))
    order, event, _ = _move(session, order_id, "ship", actor=actor, now=now, note=note,
                            values={"carrier": carrier[:64], "tracking_no": tracking_no[:64]})
    warehouse_id = order.warehouse_id or stock.default_warehouse(session).id
    allow_negative = bool(setting(session, "allow_negative_stock"))
    for line in order.lines:
        stock.change(session, product_id=line.product_id, warehouse_id=warehouse_id, quantity=-line.quantity,
                     reason="ship", now=now, actor=actor, order_id=order.id, note=order.number,
                     allow_negative=allow_negative)
    warranty.fill_order_lines(order, local_date(now, tz))  # 保修 runs from the day the goods leave
    return event


def sign(session: Session, order_id: Any, *, actor: Actor, now: datetime, note: str | None = None) -> OrderEvent:
    """签收 → 已完成: the customer's totals, deal flag, category and points follow."""
    order, event, _ = _move(session, order_id, "sign", actor=actor, now=now, note=note)
    _record_deal(session, order, actor=actor, now=now)
    return event


def cancel(session: Session, order_id: Any, *, reason: str, actor: Actor, now: datetime) -> OrderEvent:
    reason = normalize.text(reason)
    if not reason:
        raise InvalidValue(_l("请填写取消原因"))
    order, event, _state = _move(session, order_id, "cancel", actor=actor, now=now, note=reason[:255],
                                 values={"close_reason": reason[:255]})
    approvals.cancel_for(session, DISCOUNT, event.order_id, actor=actor, now=now, reason=reason[:255])
    if order.contract_id is not None:  # issue 19: a contract's order gives its quantities back
        from rules import contracts
        contracts.release_order(session, order)
    payment_plans.void(  # 回款计划: a cancelled order owes nothing more
        session, order_id=event.order_id, actor=actor, now=now, reason=reason[:255])
    return event


def _returned_value(line: OrderLine, quantity: int) -> Decimal:
    """A line's returned value at `quantity` returned, as reports' SQL computes it (the last
    unit returned brings the line to its full amount, so rounding never leaves a cent)."""
    if quantity >= line.quantity:
        return line.amount
    return money(line.amount * quantity / line.quantity) if quantity else ZERO


def return_order(session: Session, order_id: Any, *, reason: str, actor: Actor, now: datetime,
                 quantities: Mapping[int, int] | None = None) -> OrderEvent:
    """退货 of some lines (quantities) or of everything still with the customer (None). The goods go
    back into stock, and a completed order's customer totals and points give back what returned.
    A partial return leaves the order in its state (部分退货); only a return that brings every
    line to zero moves it to 退货. Each return is one event plus its lines (OrderReturn)."""
    reason = normalize.text(reason)
    if not reason:
        raise InvalidValue(_l("请填写退货原因"))
    rule = TRANSITIONS["return"]
    if not rule.allows(actor):
        raise PermissionDenied(_l("您没有%(a)s订单的权限", a=rule.label))
    order = scope.get_in_scope(session, Order, order_id, actor)
    was = session.scalar(select(Order.state).where(Order.id == order.id))
    if was not in rule.sources:
        raise refusal(order, "return", was)
    left = {line.id: line.quantity - line.returned_quantity for line in order.lines}
    wanted = dict(left) if quantities is None else {k: int(v or 0) for k, v in quantities.items()}
    for line in order.lines:
        qty = wanted.get(line.id, 0)
        if qty < 0 or qty > left[line.id]:
            raise InvalidValue(_l("“%(p)s”的退货数量应在 0 到 %(n)d 之间", p=line.product.name, n=left[line.id]))
    if not any(wanted.get(line.id, 0) for line in order.lines):
        raise InvalidValue(_l("请填写退货数量"))
    full = all(wanted.get(line.id, 0) == left[line.id] for line in order.lines)
    if full:
        order, event, was = _move(session, order.id, "return", actor=actor, now=now, note=reason[:255],
                                  values={"close_reason": reason[:255]})
    else:
        event = _event(session, order.id, "return_part", from_state=was, to_state=was, actor=actor, now=now,
                       note=reason[:255])
    warehouse_id = order.warehouse_id or stock.default_warehouse(session).id
    amount, points = ZERO, 0
    for line in list(order.lines):
        qty = wanted.get(line.id, 0)
        if not qty:
            continue
        part = _returned_value(line, line.returned_quantity + qty) - _returned_value(line, line.returned_quantity)
        # Guarded like a move: two clerks returning the last units at once cannot both succeed.
        done = session.execute(update(OrderLine).where(OrderLine.id == line.id,
                                                       OrderLine.returned_quantity + qty <= OrderLine.quantity)
                               .values(returned_quantity=OrderLine.returned_quantity + qty)
                               .execution_options(synchronize_session=False)).rowcount
        if done != 1:
            raise TransitionRefused(_l("订单%(n)s刚刚已被他人办理退货，请刷新后再试", n=order.number))
        session.add(OrderReturn(order_id=order.id, event_id=event.id, line_id=line.id, quantity=qty, amount=part))
        amount += part
        points += qty * (line.product.points or 0)
        stock.change(session, product_id=line.product_id, warehouse_id=warehouse_id, quantity=qty, reason="return",
                     now=now, actor=actor, order_id=order.id, note=order.number, allow_negative=True)
    done = session.execute(update(Order).where(Order.id == order.id, Order.state == (rule.target if full else was))
                           .values(returned_amount=Order.returned_amount + amount)
                           .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise TransitionRefused(_l("订单%(n)s刚刚已被他人处理，请刷新后再试", n=order.number))
    session.flush()
    session.refresh(order)
    for line in order.lines:
        session.refresh(line)
    if was == OrderStatus.COMPLETED:
        _undo_deal(session, order, amount=amount, points=points, full=full, actor=actor, now=now)
    if full:
        payment_plans.void(  # 回款计划: everything came back, nothing more is owed
            session, order_id=order.id, actor=actor, now=now, reason=reason[:255])
    session.flush()
    return event


@dataclass(frozen=True)
class Kept:
    """订单金额, 税额, 成本, 毛利 of what the customer kept (the whole order until a return)."""
    amount: Decimal
    amount_ex_tax: Decimal
    tax: Decimal
    cost: Decimal
    margin: Decimal


def kept(order: Order) -> Kept:
    if not order.returned_amount:
        return Kept(order.total, order.amount_ex_tax, order.tax, order.cost, order.margin)
    amount = receivables.kept_amount(order)
    ex_tax, tax = split_tax(amount, order.tax_rate)
    cost = sum((money(Decimal(line.quantity - line.returned_quantity) * line.unit_cost) for line in order.lines),
               ZERO)
    return Kept(amount, ex_tax, tax, cost, ex_tax - cost)


# --- the customer side ------------------------------------------------------------------------

def order_points(order: Order) -> int:
    """积分 of what the customer kept."""
    return sum((line.quantity - line.returned_quantity) * (line.product.points or 0) for line in order.lines)


def _record_deal(session: Session, order: Order, *, actor: Actor, now: datetime) -> None:
    """A completed order: 购买次数 +1, 累计金额, 最近购买日期, 成交 (recycle exemption), the
    deal category, and points. Increments in SQL, so concurrent completions add up."""
    values: dict[str, Any] = {
        "purchase_count": Customer.purchase_count + 1,
        "purchase_total": Customer.purchase_total + receivables.kept_amount(order),
        "last_purchase_on": case((Customer.last_purchase_on.is_(None), order.order_date),
                                 (Customer.last_purchase_on < order.order_date, order.order_date),
                                 else_=Customer.last_purchase_on),
        "has_deal": True,
    }
    category = normalize.text(setting(session, "order_deal_category"))
    if category:
        item = session.scalar(select(DictItem.id).where(DictItem.kind == DictKind.CATEGORY.value,
                                                        DictItem.name == category))
        if item is not None:
            values["category_id"] = item
    points = order_points(order)
    if points:
        values["points"] = Customer.points + points
    session.execute(update(Customer).where(Customer.id == order.customer_id).values(**values)
                    .execution_options(synchronize_session=False))
    if points:
        _points_entry(session, order.customer_id, points, "order", order_id=order.id, actor=actor, now=now)
        order.points_awarded = points
    session.flush()
    session.expire(order.customer)


def _undo_deal(session: Session, order: Order, *, amount: Decimal, points: int, full: bool, actor: Actor,
               now: datetime) -> None:
    """A return from a completed order gives back its amount and points; only a full return
    takes back the purchase itself (购买次数)."""
    points = min(points, order.points_awarded or 0)
    values: dict[str, Any] = {"purchase_total": Customer.purchase_total - amount}
    if full:
        values["purchase_count"] = case((Customer.purchase_count > 0, Customer.purchase_count - 1), else_=0)
    if points:
        values["points"] = Customer.points - points
    session.execute(update(Customer).where(Customer.id == order.customer_id).values(**values)
                    .execution_options(synchronize_session=False))
    if points:
        session.execute(update(Order).where(Order.id == order.id)
                        .values(points_awarded=Order.points_awarded - points)
                        .execution_options(synchronize_session=False))
        _points_entry(session, order.customer_id, -points, "return", order_id=order.id, actor=actor, now=now)
        session.refresh(order)
    session.expire(order.customer)


def _points_entry(session: Session, customer_id: int, change: int, reason: str, *, actor: Actor | None,
                  now: datetime, order_id: int | None = None, note: str | None = None) -> PointsEntry:
    balance = session.scalar(select(Customer.points).where(Customer.id == customer_id)) or 0
    entry = PointsEntry(customer_id=customer_id, change=change, balance=balance, reason=reason, order_id=order_id,
                        actor_id=actor.user_id if actor else None, note=note, at=now)
    session.add(entry)
    session.flush()
    return entry


def redeem_points(session: Session, customer_id: Any, points: int, *, note: str, actor: Actor,
                  now: datetime) -> PointsEntry:
    """积分兑换: never below zero (a guarded UPDATE), always logged."""
    if not (actor.can("order.create") or actor.can("customer.edit")):
        raise PermissionDenied(_l("您没有兑换积分的权限"))
    if points <= 0:
        raise InvalidValue(_l("兑换积分必须大于 0"))
    customer = scope.get_in_scope(session, Customer, customer_id, actor, scope.customer_edit_clause(actor))
    done = session.execute(update(Customer).where(Customer.id == customer.id, Customer.points >= points)
                           .values(points=Customer.points - points)
                           .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        have = session.scalar(select(Customer.points).where(Customer.id == customer.id))
        raise PointsShort(_l("积分不足：现有 %(h)d 分，需要 %(n)d 分", h=have or 0, n=points))
    session.expire(customer)
    return _points_entry(session, customer.id, -points, "redeem", actor=actor, now=now,
                         note=normalize.text(note)[:255] or None)


def save_settings(session: Session, values: Mapping[str, Any]) -> None:
    """订单设置: number pattern, tax rate, deal category, negative stock, payment approval."""
    pattern = normalize.text(values.get("order_number_pattern"))
    numbering.validate_pattern(pattern)
    rate = _decimal(values.get("order_tax_rate") or "0", _l("税率格式不正确"))
    if rate > 1:  # typed as a percentage: 13 means 13%
        rate = rate / 100
    if not (ZERO <= rate < 1):
        raise InvalidValue(_l("税率应在 0 到 100% 之间"))
    category = normalize.text(values.get("order_deal_category"))
    if category and session.scalar(select(DictItem.id).where(DictItem.kind == DictKind.CATEGORY.value,
                                                             DictItem.name == category)) is None:
        raise InvalidValue(_l("客户分类中没有“%(c)s”", c=category))
    settings.put(session, "order_number_pattern", pattern)
    settings.put(session, "order_tax_rate", str(rate.normalize()))
    settings.put(session, "order_deal_category", category)
    settings.put(session, "allow_negative_stock", bool(values.get("allow_negative_stock")))
    settings.put(session, "payment_requires_approval", bool(values.get("payment_requires_approval")))


# --- 订单折扣审批: the approvals plug-in ----------------------------------------------------------
# An order priced below the 订单折扣 flow's threshold (total ÷ original price, e.g. under 0.85)
# cannot be 审核ed until a discount approval of exactly its current total has passed.

DISCOUNT = ApprovalDocType.ORDER_DISCOUNT.value


def discount_rate(order: Order) -> Decimal | None:
    """The order's overall rate: 金额 ÷ 原价合计 (0.80 = 八折); None without a price."""
    if not order.gross:
        return None
    return (order.total / order.gross).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def discount_needs_approval(session: Session, order: Order) -> bool:
    return approvals.requires_approval(session, DISCOUNT, figure=discount_rate(order))


def discount_cleared(session: Session, order: Order) -> bool:
    """An approval passed for this very total (a changed order needs a new one)."""
    found = approvals.latest(session, DISCOUNT, order.id)
    return found is not None and found.status == ApprovalStatus.APPROVED and found.amount == order.total


def check_discount_cleared(session: Session, order: Order) -> None:
    if discount_needs_approval(session, order) and not discount_cleared(session, order):
        flow = approvals.flow_for(session, DISCOUNT)
        raise TransitionRefused(_l("订单%(n)s的折扣为%(r)s，低于%(t)s，需先通过折扣审批才能审核（在订单页点“提交折扣审批”）",
                                   n=order.number, r=f"{discount_rate(order):.2f}", t=f"{flow.threshold:.2f}"))


def submit_discount(session: Session, order_id: Any, *, actor: Actor, now: datetime, note: str | None = None) -> Any:
    """提交折扣审批 for an order waiting for review whose discount needs it."""
    if not actor.can("order.create"):
        raise PermissionDenied(_l("您没有提交订单审批的权限"))
    order = scope.get_in_scope(session, Order, order_id, actor)
    if order.state != OrderStatus.PENDING_REVIEW:
        raise TransitionRefused(_l("只有“等待审核”的订单可以提交折扣审批"))
    if not discount_needs_approval(session, order) or discount_cleared(session, order):
        raise InvalidValue(_l("订单%(n)s无需折扣审批", n=order.number))
    return approvals.submit(session, DISCOUNT, order.id, actor=actor, now=now, note=note)


def _discount_summary(order: Order) -> tuple[str, Decimal, int | None, bool]:
    rate = discount_rate(order)
    title = f"订单 {order.number} 折扣 {rate:.2f}" if rate is not None else f"订单 {order.number}"
    return title, order.total, order.salesperson_id, False


def _discount_decided(session: Session, order: Order | None, *, actor: Actor, now: datetime,
                      action: ApprovalAction | None = None, reason: str | None = None) -> None:
    """The order keeps waiting for review either way: approved, a clerk may now 审核 it; returned,
    the salesperson changes the price or submits again."""


approvals.register(approvals.DocumentHooks(
    doc_type=DISCOUNT, load=lambda session, doc_id: session.get(Order, doc_id), summary=_discount_summary,
    link=lambda order: RecordLink(ListKind.ORDER, order.id), on_approved=_discount_decided,
    on_returned=_discount_decided))
