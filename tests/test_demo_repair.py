"""Demo 维修: a free repair under warranty, a billed one whose order counts as 应收, one in repair
(seeded on a small shop of its own: the whole demo takes too long for one check)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from conftest import FIXED_NOW
from models import db
from models.org import User
from models.product import Product
from models.repair import RepairState, TicketPart, TicketRepair
from models.sales import Order, OrderLine, OrderStatus
from rules import receivables


def test_demo_has_free_billed_and_open_repairs(app, make_user, make_customer):
    from demo.repair import seed_repairs

    clerk = make_user("zhouqin", role="内勤", department=("商务部",))
    make_user("wangkf", role="客服", department=("客服部",))  # the demo's 客服 (demo/sla.py) takes the repairs
    customers = [make_customer(f"客户{n}", clerk) for n in range(3)]
    with app.app_context():
        kettle = Product(code="BLH01", name="玻璃煮茶壶", spec="1.2L/只", unit="只")
        db.session.add(kettle)
        db.session.flush()
        for n, (customer, days) in enumerate(zip(customers, (20, 300, 320))):
            order = Order(number=f"DD{n}", customer_id=customer, salesperson_id=clerk, state=OrderStatus.COMPLETED,
                          order_date=(FIXED_NOW - timedelta(days=days)).date(),
                          shipped_at=FIXED_NOW - timedelta(days=days))
            order.lines.append(OrderLine(product_id=kettle.id, quantity=1, unit_price=Decimal("119"),
                                         amount=Decimal("119")))
            db.session.add(order)
        db.session.commit()
        users = {"zhouqin": db.session.get(User, clerk)}
        seed_repairs(db.session, users, now=FIXED_NOW)
        seed_repairs(db.session, users, now=FIXED_NOW)  # idempotent
        db.session.commit()
        found = list(db.session.scalars(select(TicketRepair).order_by(TicketRepair.id)))
        assert [(r.state, r.warranty) for r in found] == [(RepairState.OPEN, True), (RepairState.BILLED, False),
                                                          (RepairState.OPEN, False)]
        assert found[0].total == 0 and receivables.outstanding(found[1].order) == found[1].total > 0
        assert db.session.scalar(select(TicketPart.id).limit(1)) is not None
