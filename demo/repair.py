"""Demo 维修 (issue 22): spare parts for the 玻璃煮茶壶 (six months' warranty), and three repair
tickets on shipped orders: one under warranty (free, a part replaced), one out of warranty and
billed (parts + labour → an order that counts as 应收), one still in repair. The tickets of type
维修 that demo/service.py made are used when they name a shipped order's product; otherwise
these make their own. Everything after the ticket goes through rules/repairs.py, the way a
person's clicks do. Idempotent: nothing is added once a repair exists."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Product, User
from models.dictionary import DictItem, DictKind
from models.repair import TicketRepair
from models.sales import Order, OrderLine, OrderStatus
from models.service import Ticket, TicketChannel
from rules import products, repairs, stock, tickets, warranty
from rules.actor import Actor
from rules.clock import local_date

TZ = "Asia/Shanghai"
KETTLE = "BLH01"  # 玻璃煮茶壶
PARTS = [("BLH-WK", "煮茶壶温控开关", "通用型", "个", "38.00", "12.00"),
         ("BLH-DZ", "煮茶壶加热底座", "1.2L 适配", "个", "120.00", "45.00"),
         ("BLH-HS", "煮茶壶玻璃壶身", "1.2L", "只", "65.00", "22.00")]
CASES = [  # (subject, description, days ago, warranty?, parts, labour hours, labour charge, bill?)
    ("煮茶壶不加热", "客户反映煮茶壶通电后指示灯亮但不加热", 5, True, [("BLH-WK", 1)], "0.5", "0", False),
    ("煮茶壶底座烧坏", "底座插头处有焦痕，已超过保修期", 12, False, [("BLH-DZ", 1), ("BLH-WK", 1)], "1", "60", True),
    ("玻璃壶身裂纹", "壶身有细小裂纹，漏水", 2, False, [("BLH-HS", 1)], "0", "0", False),
]


def _engineer(session: Session, users: dict[str, User]) -> User:
    """A 客服 from demo/sla.py when there is one, else the order clerk (内勤 also holds service.repair)."""
    found = session.scalar(select(User).join(User.role).where(User.role.has(name="客服")).order_by(User.id).limit(1))
    return found or users.get("zhouqin") or next(iter(users.values()))


def _parts(session: Session, now: datetime) -> dict[str, Product]:
    found = {}
    wh = stock.default_warehouse(session)
    for code, name, spec, unit, price, cost in PARTS:
        product = session.scalar(select(Product).where(Product.code == code))
        if product is None:
            product = Product(code=code, name=name, spec=spec, unit=unit, cost=Decimal(cost),
                              category=products.ensure_category_path(session, ["配件", "煮茶壶配件"]))
            products.validate(session, product, confirmed=True)
            session.add(product)
            session.flush()
            products.set_prices(session, product, {level.id: Decimal(price)
                                                   for level in products.ensure_default_levels(session)})
            stock.change(session, product_id=product.id, warehouse_id=wh.id, quantity=40, reason="in",
                         now=now - timedelta(days=60), note="维修备件入库")
        found[code] = product
    return found


def _kettle_orders(session: Session, kettle: Product, today: date) -> tuple[list[Order], list[Order]]:
    """Shipped orders with a kettle: those still under warranty, those past it."""
    rows = list(session.scalars(select(Order).join(OrderLine, OrderLine.order_id == Order.id)
                                .where(OrderLine.product_id == kettle.id, Order.shipped_at.is_not(None),
                                       Order.state.in_((OrderStatus.SHIPPED, OrderStatus.COMPLETED)))
                                .order_by(Order.shipped_at.desc())))
    under, past = [], []
    for order in rows:
        line = next(l for l in order.lines if l.product_id == kettle.id)
        if line.warranty_until is None:  # sold before warranty ends were kept: from the ship day
            line.warranty_until = warranty.end_after(local_date(order.shipped_at, TZ), kettle.warranty_months)
        if line.warranty_until >= today + timedelta(days=30):
            under.append(order)
        elif line.warranty_until < today - timedelta(days=30):
            past.append(order)
    return under, past


def seed_repairs(session: Session, users: dict[str, User], *, now: datetime) -> None:
    if session.scalar(select(TicketRepair.id).limit(1)) is not None:
        return
    kettle = session.scalar(select(Product).where(Product.code == KETTLE))
    if kettle is None:
        return
    kettle.warranty_months = kettle.warranty_months or 6  # 半年保修
    parts = _parts(session, now)
    under, past = _kettle_orders(session, kettle, local_date(now, TZ))
    engineer = _engineer(session, users)
    actor = Actor.from_user(engineer, today=local_date(now, TZ), has_shares=False)
    repair_type = session.scalar(select(DictItem).where(DictItem.kind == DictKind.TICKET_TYPE, DictItem.name == "维修"))
    for n, (subject, description, days, in_warranty, used, hours, charge, bill) in enumerate(CASES):
        pool = under if in_warranty else past
        if not pool:
            continue
        order = pool.pop(0)
        when = now - timedelta(days=days)
        ticket = session.scalar(select(Ticket).where(Ticket.type_id == (repair_type.id if repair_type else None),
                                                     Ticket.customer_id == order.customer_id).limit(1))
        if ticket is None:  # through the ticket rules: a number, the initial status, the SLA clocks
            ticket = tickets.create(session, Ticket(
                customer_id=order.customer_id, assignee_id=engineer.id, channel=TicketChannel.PHONE.value,
                priority="normal", subject=subject, description=description,
                type_id=repair_type.id if repair_type else None, order_id=order.id, product_id=kettle.id,
                serial_no=f"BLH{order.id:06d}"), actor=actor, now=when, tz=TZ)
        ticket.order_id, ticket.product_id = order.id, kettle.id
        ticket.serial_no = ticket.serial_no or f"BLH{order.id:06d}"
        session.flush()
        for code, quantity in used:
            repairs.add_part(session, ticket.id, product_id=parts[code].id,
                             warehouse_id=stock.default_warehouse(session).id, quantity=quantity, actor=actor,
                             now=when + timedelta(hours=2), tz=TZ)
        repairs.save_labour(session, ticket.id, labour_hours=hours, labour_charge=charge,
                            solution="更换配件后通电测试正常" if hours != "0" else None, actor=actor,
                            now=when + timedelta(hours=3), tz=TZ)
        if bill:
            repairs.bill(session, ticket.id, actor=actor, now=when + timedelta(hours=4), tz=TZ)
    session.flush()
