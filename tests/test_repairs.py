"""维修: parts leave and return to stock with exact numbers, a short warehouse refuses and keeps
the form, warranty decides free vs billed, a billed charge is 应收 where finance looks, and the
repair sheet prints the ticket's fields; all within the ticket's scope."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW
from models import db
from models.dictionary import DictItem, DictKind
from models.product import Product, Stock, StockMovement, Warehouse
from models.repair import TicketPart, TicketRepair
from models.sales import Order, OrderLine, OrderStatus
from models.service import EntryKind, Ticket, TicketEntry
from rules import receivables, ticket_statuses, warranty


@pytest.fixture
def shop(app, make_user, make_customer):
    """A 客服 with service.repair, a salesperson's customer, a filter cartridge with 10 in 总仓,
    and a repair ticket for the customer's purifier (serial SN-1)."""
    agent = make_user("kefu", role="客服", department=("客服部",), display_name="陈师傅")
    rep = make_user("rep", display_name="张伟")
    other = make_user("other", display_name="李四")
    customer = make_customer("杭州青禾贸易", rep)
    with app.app_context():
        wh = Warehouse(name="总仓")
        purifier = Product(code="KC-300", name="商用净水器", spec="KC-300", warranty_months=12)
        filt = Product(code="LX-01", name="PP滤芯", unit="支")
        db.session.add_all([wh, purifier, filt])
        db.session.flush()
        db.session.add(Stock(product_id=filt.id, warehouse_id=wh.id, quantity=10))
        repair_type = db.session.scalar(select(DictItem).where(DictItem.kind == DictKind.TICKET_TYPE,
                                                               DictItem.name == "维修"))
        ticket = Ticket(number="WX20261123001", customer_id=customer, created_by_id=agent, assignee_id=agent,
                        status_id=ticket_statuses.initial(db.session).id, subject="出水量小", description="出水量明显减小",
                        type_id=repair_type.id, product_id=purifier.id, serial_no="SN-1", created_at=FIXED_NOW)
        db.session.add(ticket)
        db.session.commit()
        ids = dict(ticket=ticket.id, wh=wh.id, filt=filt.id, purifier=purifier.id, customer=customer,
                   agent=agent, rep=rep, other=other)
    return ids


def _stock(app, ids) -> int:
    with app.app_context():
        return db.session.scalar(select(Stock.quantity).where(Stock.product_id == ids["filt"]))


def _add(client, ids, quantity, term="LX-01"):
    url = f"/admin/repair/{ids['ticket']}/"
    return client.post_form(url, {"term": term, "warehouse_id": ids["wh"], "quantity": quantity, "next": url},
                            to=f"/admin/repair/{ids['ticket']}/part/")


def test_parts_leave_stock_and_come_back_on_removal_and_cancel(app, client, shop):
    client.login("kefu")
    assert _add(client, shop, 3).status_code == 302
    assert _stock(app, shop) == 7
    page = client.get(f"/admin/repair/{shop['ticket']}/").get_data(as_text=True)
    assert "PP滤芯" in page and "更换配件" not in page.split('data-testid="repair-parts"')[0]
    with app.app_context():
        part = db.session.scalar(select(TicketPart))
    url = f"/admin/repair/{shop['ticket']}/"
    client.post_form(url, {"next": url}, to=f"/admin/repair/{shop['ticket']}/part/{part.id}/remove/")
    assert _stock(app, shop) == 10
    # removing twice gives nothing back twice
    client.post_form(url, {"next": url}, to=f"/admin/repair/{shop['ticket']}/part/{part.id}/remove/")
    assert _stock(app, shop) == 10

    _add(client, shop, 2)
    _add(client, shop, 1)
    assert _stock(app, shop) == 7
    response = client.post_form(url, {"next": url, "reason": "客户改为换新机"}, to=f"{url}cancel/", follow=True)
    assert "维修已取消，配件已退回仓库" in response.get_data(as_text=True)
    assert _stock(app, shop) == 10
    with app.app_context():
        reasons = [r for r, in db.session.execute(select(StockMovement.reason).order_by(StockMovement.id))]
        assert reasons == ["repair", "repair_back", "repair", "repair", "repair_back", "repair_back"]
        bodies = list(db.session.scalars(select(TicketEntry.body).where(TicketEntry.kind == EntryKind.REPAIR)
                                         .order_by(TicketEntry.id)))
        assert bodies[0].startswith("更换配件：PP滤芯 × 3") and "客户改为换新机" in bodies[-1]
    # the customer changes their mind again: a cancelled repair is begun again with a new part
    _add(client, shop, 1)
    assert _stock(app, shop) == 9
    assert 'data-testid="repair-state">维修中' in client.get(url).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(TicketEntry.body).where(TicketEntry.kind == EntryKind.REPAIR)
                                 .order_by(TicketEntry.id.desc()).offset(1).limit(1)) == "重新开始维修"


def test_a_second_click_of_the_same_add_part_form_takes_nothing_more(app, client, shop):
    client.login("kefu")
    url = f"/admin/repair/{shop['ticket']}/"
    form = {"term": "LX-01", "warehouse_id": shop["wh"], "quantity": 2, "next": url, "version": 0}
    assert client.post_form(url, form, to=f"{url}part/").status_code == 302
    again = client.post_form(url, form, to=f"{url}part/", follow=True).get_data(as_text=True)
    assert "维修记录已被他人修改，请刷新后再填写" in again
    assert _stock(app, shop) == 8
    with app.app_context():
        assert db.session.scalar(select(func.count(TicketPart.id))) == 1


def test_out_of_stock_is_refused_and_the_form_keeps_what_was_typed(app, client, shop):
    client.login("kefu")
    response = _add(client, shop, 12)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "库存不足：“PP滤芯”在“总仓”仅剩 10 件" in html
    assert 'name="quantity" value="12"' in html and 'value="LX-01"' in html
    assert _stock(app, shop) == 10
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TicketPart)) == 0


def _sold(app, ids, until: date | None) -> None:
    """The ticket's purifier was sold on an order whose line's warranty ends `until`."""
    with app.app_context():
        order = Order(number="DD1", customer_id=ids["customer"], salesperson_id=ids["rep"], state=OrderStatus.COMPLETED,
                      order_date=date(2025, 12, 1), shipped_at=FIXED_NOW - timedelta(days=300))
        order.lines.append(OrderLine(product_id=ids["purifier"], quantity=1, unit_price=Decimal("3000"),
                                     amount=Decimal("3000"), warranty_until=until))
        db.session.add(order)
        db.session.flush()
        db.session.get(Ticket, ids["ticket"]).order_id = order.id
        db.session.commit()


def test_under_warranty_the_repair_is_free(app, client, shop):
    _sold(app, shop, date(2026, 12, 31))
    client.login("kefu")
    _add(client, shop, 2)
    url = f"/admin/repair/{shop['ticket']}/"
    client.post_form(url, {"labour_hours": "1.5", "labour_charge": "80", "solution": "更换滤芯", "next": url},
                     to=f"{url}labour/")
    page = client.get(url).get_data(as_text=True)
    assert "保修期内免费" in page and "2026-12-31" in page
    response = client.post_form(url, {"next": url}, to=f"{url}bill/", follow=True)
    assert "保修期内免费维修，无需收费" in response.get_data(as_text=True)
    with app.app_context():
        repair = db.session.scalar(select(TicketRepair))
        assert repair.warranty and repair.total == 0 and repair.order_id is None
    assert warranty.end_after(date(2026, 3, 1), 12) == date(2027, 2, 28)


def test_out_of_warranty_the_charge_is_billed_and_finance_sees_it_owed(app, client, new_client, shop, make_user):
    _sold(app, shop, date(2026, 10, 31))
    with app.app_context():
        db.session.add(__import__("models").ProductPrice(product_id=shop["filt"], level_id=_level(), price=Decimal("45")))
        db.session.commit()
    client.login("kefu")
    _add(client, shop, 2)
    url = f"/admin/repair/{shop['ticket']}/"
    client.post_form(url, {"labour_hours": "1", "labour_charge": "80", "solution": "更换滤芯，测试正常", "next": url},
                     to=f"{url}labour/")
    assert "¥170.00" in client.get(url).get_data(as_text=True)
    response = client.post_form(url, {"next": url}, to=f"{url}bill/", follow=True)
    assert "计入应收" in response.get_data(as_text=True)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number != "DD1"))
        assert order.state == OrderStatus.SHIPPED and order.total == Decimal("170.00")
        assert receivables.outstanding(order) == Decimal("170.00")
        assert sorted((l.product.name, l.quantity) for l in order.lines) == [("PP滤芯", 2), ("维修工时费", 1)]
        assert order.warehouse_id == shop["wh"]  # a 退货 puts the parts back where they left
        labour = next(l.product for l in order.lines if l.product.name == "维修工时费")
        assert not labour.active  # a service: not offered on salespeople's orders
        number = order.number
    assert _stock(app, shop) == 8  # billing takes nothing out a second time
    make_user("caiwu", role="财务", department=("财务部",))
    finance = new_client()
    finance.login("caiwu")
    ageing = finance.get("/admin/reports/ageing/?by=customer").get_data(as_text=True)
    assert "杭州青禾贸易" in ageing and "¥170.00" in ageing
    assert number in finance.get("/admin/order/").get_data(as_text=True)


def _level() -> int:
    from models.product import PriceLevel
    level = db.session.scalar(select(PriceLevel).limit(1))
    if level is None:
        level = PriceLevel(name="零售价")
        db.session.add(level)
        db.session.flush()
    return level.id


def test_repair_sheet_prints_the_ticket_and_stays_in_scope(app, client, new_client, shop):
    client.login("kefu")
    _add(client, shop, 1)
    url = f"/admin/repair/{shop['ticket']}/"
    client.post_form(url, {"labour_hours": "2", "labour_charge": "100", "solution": "更换滤芯，测试正常", "next": url},
                     to=f"{url}labour/")
    sheet = client.get(f"/admin/printing/preview/repair/{shop['ticket']}/").get_data(as_text=True)
    for text in ("WX20261123001", "2026-11-23", "商用净水器 KC-300", "SN-1", "出水量明显减小", "更换滤芯，测试正常",
                 "陈师傅", "杭州青禾贸易", "¥100.00", "壹佰元整", "更换配件：PP滤芯 × 1"):
        assert text in sheet, text
    stranger = new_client()
    stranger.login("other")  # a salesperson who neither owns the customer nor handles the ticket
    assert stranger.get(f"/admin/printing/preview/repair/{shop['ticket']}/").status_code == 404
    owner = new_client()
    owner.login("rep")  # the customer's salesperson sees it
    assert owner.get(f"/admin/printing/preview/repair/{shop['ticket']}/").status_code == 200


def test_shipping_sets_each_lines_warranty_end(app, make_user, shop):
    from models.org import User
    from rules import orders
    from rules.actor import Actor

    clerk = make_user("neiqin", role="内勤", department=("商务部",))
    with app.app_context():
        db.session.add(Stock(product_id=shop["purifier"], warehouse_id=shop["wh"], quantity=5))
        order = Order(number="DD9", customer_id=shop["customer"], salesperson_id=shop["rep"], state=OrderStatus.PICKING,
                      order_date=date(2026, 11, 20), warehouse_id=shop["wh"])
        order.lines.append(OrderLine(product_id=shop["purifier"], quantity=1, unit_price=Decimal("3000"),
                                     amount=Decimal("3000")))
        order.lines.append(OrderLine(product_id=shop["filt"], quantity=1, unit_price=Decimal("45"), amount=Decimal("45")))
        db.session.add(order)
        db.session.commit()
        orders.ship(db.session, order.id, carrier="顺丰速运", tracking_no="SF1", now=FIXED_NOW,
                    actor=Actor.from_user(db.session.get(User, clerk)))
        db.session.commit()
        ends = {l.product.code: l.warranty_until for l in db.session.get(Order, order.id).lines}
        assert ends == {"KC-300": date(2027, 11, 22), "LX-01": None}  # 12 months from 2026-11-23 (Beijing)


def test_outside_scope_is_404_and_without_permission_nothing_moves(app, new_client, shop):
    stranger = new_client()
    stranger.login("other")  # neither the customer's salesperson nor on the ticket
    url = f"/admin/repair/{shop['ticket']}/"
    assert stranger.get(url).status_code == 404
    token = stranger.token("/admin/")
    response = stranger.client.post(f"{url}part/", data={"csrf_token": token, "term": "LX-01", "quantity": 1,
                                                         "warehouse_id": shop["wh"]})
    assert response.status_code == 404 and _stock(app, shop) == 10
    owner = new_client()
    owner.login("rep")  # sees the ticket (their customer) but may not issue parts
    page = owner.get(url).get_data(as_text=True)
    assert 'data-testid="repair-panel"' in page and 'data-testid="add-part-form"' not in page
    response = _add(owner, shop, 1)
    assert "您没有维修配件出库与收费的权限" in response.get_data(as_text=True) and _stock(app, shop) == 10


def test_a_refused_labour_form_keeps_what_was_typed(app, client, shop):
    client.login("kefu")
    url = f"/admin/repair/{shop['ticket']}/"
    typed = {"labour_hours": "1.5", "labour_charge": "八十", "solution": "拆机清洗进水阀，更换密封圈后测试不再渗水", "next": url}
    response = client.post_form(url, typed, to=f"{url}labour/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "格式不正确" in html
    assert 'value="八十"' in html and "拆机清洗进水阀，更换密封圈后测试不再渗水" in html
    with app.app_context():
        assert db.session.scalar(select(TicketRepair.solution)) is None
