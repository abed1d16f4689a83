"""Demo products, stock and a year of orders in every state, made through the same rules the
panel uses (so stock, history, payments, customer totals and points all agree)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Customer, Order, OrderLine, PaymentStatus, Product, User, Warehouse
from rules import orders, payments, products, receivables, stock
from rules.actor import Actor
from rules.clock import local_date

TZ = "Asia/Shanghai"
# (category path, code, name, spec, unit, retail price, cost, points)
CATALOGUE = [
    (["饮品", "茶叶", "绿茶"], "LJ250", "明前西湖龙井", "250g/罐", "罐", "268.00", "120.00", 5),
    (["饮品", "茶叶", "绿茶"], "BLC500", "洞庭碧螺春", "500g/袋", "袋", "198.00", "86.00", 4),
    (["饮品", "茶叶", "红茶"], "DHP100", "武夷大红袍", "100g/盒", "盒", "158.00", "62.00", 3),
    (["饮品", "茶叶", "红茶"], "QM200", "祁门红茶", "200g/罐", "罐", "128.00", "48.50", 2),
    (["饮品", "茶叶", "普洱"], "PE357", "云南普洱茶饼", "357g/饼", "饼", "88.00", "31.20", 2),
    (["饮品", "咖啡"], "KF1KG", "云南小粒咖啡豆", "1kg/袋", "袋", "139.00", "58.00", 3),
    (["茶具", "杯"], "BZ06", "青瓷品茗杯", "6只/盒", "盒", "88.00", "30.00", 1),
    (["茶具", "壶"], "ZSH01", "宜兴紫砂壶", "300ml/把", "把", "680.00", "260.00", 12),
    (["茶具", "壶"], "BLH01", "玻璃煮茶壶", "1.2L/只", "只", "119.00", "41.00", 2),
    (["礼盒"], "LH01", "龙井礼盒", "250g×2/盒", "盒", "598.00", "268.00", 10),
    (["礼盒"], "LH02", "茶具礼盒", "1壶4杯/套", "套", "399.00", "150.00", 8),
    (["包装", "纸箱"], "ZX20", "快递纸箱", "20只/捆", "捆", "35.00", "18.00", 0),
]
LEVELS = {"零售价": Decimal("1"), "批发价": Decimal("0.85"), "VIP价": Decimal("0.78")}
CARRIERS = ["顺丰速运", "中通快递", "圆通速递", "京东物流", "德邦物流"]
CANCEL_REASONS = ["客户取消采购计划", "价格未谈妥", "重复下单", "客户改为下月采购"]
RETURN_REASONS = ["运输途中破损", "客户收货后反馈品质问题", "发错规格", "客户库存积压"]


def _actor(user: User, when: datetime) -> Actor:
    return Actor.from_user(user, today=local_date(when, TZ), has_shares=False)


def seed_sales(session: Session, users: dict[str, User], *, now: datetime, orders_count: int = 180) -> None:
    """Products with three price levels, two warehouses, and `orders_count` orders over the past
    year: old ones mostly completed (a few cancelled or returned), recent ones still moving."""
    if session.scalar(select(Product.id).limit(1)) is not None:
        return
    rng = random.Random(20261130)
    levels = {level.name: level for level in products.ensure_default_levels(session)}
    warehouses = [stock.default_warehouse(session)]
    warehouses[0].name, warehouses[0].region = "上海仓", "华东"
    south = Warehouse(name="广州仓", region="华南")
    session.add(south)
    session.flush()
    warehouses.append(south)
    catalogue = []
    for path, code, name, spec, unit, price, cost, points in CATALOGUE:
        product = Product(code=code, name=name, spec=spec, unit=unit, cost=Decimal(cost), points=points,
                          safety_stock=rng.choice([0, 20, 50]), category=products.ensure_category_path(session, path))
        products.validate(session, product, confirmed=True)
        session.add(product)
        products.set_prices(session, product, {level.id: (Decimal(price) * factor).quantize(Decimal("0.01"))
                                               for level_name, factor in LEVELS.items()
                                               for level in [levels[level_name]]})
        session.flush()
        for warehouse in warehouses:
            stock.change(session, product_id=product.id, warehouse_id=warehouse.id, quantity=rng.randint(300, 800),
                         reason="in", now=now - timedelta(days=370), note="期初库存")
        catalogue.append(product)
    # one product runs low, so 库存不足 has something to show
    stock.change(session, product_id=catalogue[-1].id, warehouse_id=warehouses[0].id, quantity=1, reason="in",
                 now=now, note="补货")
    catalogue[-1].safety_stock = 2000

    clerk = users.get("zhouqin") or next(u for u in users.values() if u.role.name == "系统管理员")
    # receipts go to 财务 through the 回款确认 approval flow (issue 19); 内勤 without her
    confirmer = users.get("qianhui") or clerk
    customers = list(session.scalars(select(Customer).where(Customer.owner_id.is_not(None),
                                                            Customer.deleted_at.is_(None)).order_by(Customer.id)))
    owners = {u.id: u for u in users.values()}
    for i in range(orders_count):
        customer = rng.choice(customers)
        rep = owners.get(customer.owner_id)
        if rep is None or not rep.role.permissions or "order.create" not in rep.role.permissions:
            continue
        older = orders_count - 18
        recent = i >= older  # the last few are still moving: waiting, picking, shipped
        # Older orders reach from a year ago to six days ago (time enough to be signed), so this
        # month's chart on the workbench has sales on most days, not only in its last days.
        age = rng.randint(0, 5) if recent else int(359 * (1 - i / older) ** 1.3) + 6
        placed = now - timedelta(days=age, hours=rng.randint(0, 8), minutes=rng.randint(0, 59))
        stop = ("pending_review", "picking", "shipped")[i % 3] if recent else None
        _one_order(session, rng, customer, rep, clerk, confirmer, placed, now, catalogue, levels, warehouses, stop)


def _one_order(session: Session, rng: random.Random, customer: Customer, rep: User, clerk: User, confirmer: User,
               placed: datetime, now: datetime, catalogue: list[Product], levels: dict, warehouses: list,
               stop: str | None) -> None:
    picked = rng.sample(catalogue, rng.randint(1, 4))
    order = Order(customer_id=customer.id, price_level=levels[rng.choice(["零售价", "批发价", "批发价", "VIP价"])],
                  warehouse=rng.choice(warehouses), order_date=local_date(placed, TZ),
                  lines=[OrderLine(product=p, quantity=rng.randint(1, 12), unit_price=None,
                                   discount_rate=rng.choice([Decimal("1"), Decimal("1"), Decimal("0.95"),
                                                             Decimal("0.9")]))
                         for p in picked])
    orders.submit(session, order, actor=_actor(rep, placed), now=placed, tz=TZ)
    roll = rng.random()
    step = placed
    if stop is None and roll < 0.06:
        orders.cancel(session, order.id, reason=rng.choice(CANCEL_REASONS), actor=_actor(rep, step),
                      now=step + timedelta(hours=5))
        return
    if stop == "pending_review":
        return
    step += timedelta(hours=rng.randint(2, 20))
    step = min(step, now)
    orders.approve(session, order.id, actor=_actor(clerk, step), now=step)
    if stop == "picking":
        return
    step += timedelta(days=1, hours=rng.randint(0, 6))
    step = min(step, now)
    orders.ship(session, order.id, carrier=rng.choice(CARRIERS),
                tracking_no=f"{rng.randint(10**11, 10**12 - 1)}", actor=_actor(clerk, step), now=step)
    _pay(session, rng, order, rep, confirmer, step, share=rng.choice([Decimal("0"), Decimal("0.3"), Decimal("0.5")]))
    if stop == "shipped":
        return
    step += timedelta(days=rng.randint(2, 5))
    step = min(step, now)
    orders.sign(session, order.id, actor=_actor(clerk, step), now=step)
    if rng.random() < 0.85:
        paid = min(step + timedelta(days=rng.randint(1, 30)), now)
        _pay(session, rng, order, rep, confirmer, paid, share=Decimal("1"))
    if roll > 0.93:
        returned_at = min(step + timedelta(days=rng.randint(1, 7)), now)
        # most returns send back one product (部分退货, the order stays 已完成), some the whole order
        first = order.lines[0]
        partly = len(order.lines) > 1 and rng.random() < 0.6
        orders.return_order(session, order.id, reason=rng.choice(RETURN_REASONS), actor=_actor(clerk, returned_at),
                            now=returned_at, quantities={first.id: first.quantity} if partly else None)
        session.refresh(order)
        if receivables.refundable(order):
            payments.record(session, order.id, kind="refund", amount=receivables.refundable(order),
                            paid_on=local_date(returned_at, TZ), method="transfer", note="退货退款",
                            actor=_actor(clerk, returned_at), now=returned_at)


def _pay(session: Session, rng: random.Random, order: Order, rep: User, confirmer: User, when: datetime, *,
         share: Decimal) -> None:
    """The salesperson registers the receipt; 财务 confirms most of them (a few still wait)."""
    session.refresh(order)
    amount = (min(receivables.outstanding(order), payments.receipt_room(session, order)) * share).quantize(
        Decimal("0.01"))
    if amount <= 0:
        return
    payment = payments.record(session, order.id, kind="receipt", amount=amount, paid_on=local_date(when, TZ),
                              method=rng.choice(list(payments.METHODS)), note=None, actor=_actor(rep, when), now=when)
    if payment.status == PaymentStatus.PENDING and rng.random() < 0.9:
        payments.approve(session, payment.id, actor=_actor(confirmer, when), now=when)
