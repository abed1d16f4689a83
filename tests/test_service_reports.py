"""服务报表: the figures equal a hand count of a small fixture (median/p90 included), a
salesperson's report counts only their customers' tickets, and the xlsx export has the rows."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, sheet_rows
from models import db
from models.dictionary import DictItem, DictKind
from models.org import User
from models.product import Product, Warehouse
from models.repair import RepairState, TicketPart, TicketRepair
from models.service import ServiceTeam, StatusCategory, Ticket, TicketChannel
from rules import service_reports as sr
from rules import ticket_statuses
from rules.actor import Actor
from rules.reports import Filters

H = timedelta(hours=1)
T0 = FIXED_NOW - timedelta(days=10)  # 2026-11-13 02:00 UTC, a Friday
FILTERS = Filters(start=date(2026, 11, 1), end=date(2026, 11, 23))


@pytest.fixture
def desk(app, make_user, make_customer):
    """Agent 王 (售后一组) answered after 1, 2, 3 and 10 hours, agent 赵 after 4; 王's customers
    scored 5, 4 and 1. 青禾 (the salesperson's) has three tickets, 蓝海 (a colleague's) two."""
    wang = make_user("wang", role="客服", department=("客服部",), display_name="王")
    zhao = make_user("zhao", role="客服", department=("客服部",), display_name="赵")
    rep = make_user("rep", display_name="张伟")
    colleague = make_user("colleague", display_name="李四")
    boss = make_user("boss", role="系统管理员", department=("总经办",))
    qinghe = make_customer("青禾贸易", rep)
    lanhai = make_customer("蓝海科技", colleague)
    with app.app_context():
        team = ServiceTeam(name="售后一组")
        db.session.add(team)
        db.session.flush()
        team_id = team.id
        types = {i.name: i.id for i in db.session.scalars(select(DictItem).where(DictItem.kind == DictKind.TICKET_TYPE))}
        status = ticket_statuses.initial(db.session).id
        specs = [  # customer, assignee, type, channel, reply after (h), due after (h), score
            (qinghe, wang, "维修", TicketChannel.PHONE, 1, 2, 5),
            (qinghe, wang, "投诉", TicketChannel.PHONE, 2, 1, 4),
            (qinghe, wang, "维修", TicketChannel.WECHAT, 3, 4, 1),
            (lanhai, wang, "咨询", TicketChannel.PHONE, 10, 8, None),
            (lanhai, zhao, "维修", TicketChannel.EMAIL, 4, 8, None),
        ]
        ids = []
        for n, (customer, agent, kind, channel, reply, due, score) in enumerate(specs):
            t = Ticket(number=f"GD{n}", customer_id=customer, created_by_id=agent, assignee_id=agent,
                       team_id=team.id if agent == wang else None, type_id=types[kind], channel=channel,
                       status_id=status, status_category=StatusCategory.OPEN, subject=f"工单{n}",
                       created_at=T0 + n * H, first_responded_at=T0 + n * H + reply * H,
                       first_response_due_at=T0 + n * H + due * H, satisfaction_score=score)
            db.session.add(t)
            db.session.flush()
            ids.append(t.id)
        # an old ticket outside the range counts nowhere
        db.session.add(Ticket(number="OLD", customer_id=qinghe, created_by_id=wang, assignee_id=wang, status_id=status,
                              subject="去年", created_at=FIXED_NOW - timedelta(days=400)))
        wh = Warehouse(name="总仓")
        filt = Product(code="LX-01", name="PP滤芯")
        db.session.add_all([wh, filt])
        db.session.flush()
        db.session.add(TicketRepair(ticket_id=ids[0], state=RepairState.BILLED, labour_charge=Decimal("80"),
                                    parts_charge=Decimal("90"), total=Decimal("170")))
        db.session.add(TicketRepair(ticket_id=ids[2], state=RepairState.OPEN, warranty=True))
        for ticket, qty, returned in ((ids[0], 2, False), (ids[2], 1, False), (ids[2], 5, True)):
            db.session.add(TicketPart(ticket_id=ticket, product_id=filt.id, warehouse_id=wh.id, quantity=qty,
                                      unit_price=Decimal("45"), amount=Decimal("45") * qty, returned=returned,
                                      at=T0))
        db.session.commit()
    return dict(wang=wang, zhao=zhao, rep=rep, boss=boss, team=team_id)


def _actor(username: str) -> Actor:
    return Actor.from_user(db.session.scalar(select(User).where(User.username == username)))


@pytest.mark.both_dbs
def test_figures_equal_a_hand_count(app, desk):
    with app.app_context():
        boss = _actor("boss")
        times = {r["name"]: r for r in sr.response_times(db.session, boss, FILTERS, by="assignee").rows}
        # 王: 1, 2, 3, 10 → median (2+3)/2 = 2.5; p90 at 0.9×3 = 2.7 → 3 + 0.7×(10−3) = 7.9
        assert (times["王"]["responded"], times["王"]["fr_median"], times["王"]["fr_p90"]) == (4, Decimal("2.5"),
                                                                                             Decimal("7.9"))
        assert (times["赵"]["fr_median"], times["赵"]["fr_p90"]) == (Decimal("4.0"), Decimal("4.0"))

        sla = {r["name"]: r for r in sr.sla_compliance(db.session, boss, FILTERS, by="team", now=FIXED_NOW).rows}
        # 售后一组: replies after 1/2/3/10 h against 2/1/4/8 h → met 2, breached 2
        assert (sla["售后一组"]["fr_met"], sla["售后一组"]["fr_breached"], sla["售后一组"]["fr_rate"]) == (
            2, 2, Decimal("50.0"))
        assert (sla["未分派"]["fr_met"], sla["未分派"]["fr_rate"]) == (1, Decimal("100.0"))

        happy = {r["name"]: r for r in sr.satisfaction(db.session, boss, FILTERS).rows}
        assert (happy["王"]["rated"], happy["王"]["average"], happy["王"]["good"], happy["王"]["low"]) == (
            3, Decimal("3.33"), Decimal("66.7"), 1)

        volume = sr.volume(db.session, boss, FILTERS, by="type", grain="month")
        november = next(r for r in volume.rows if r["period"] == "2026-11")
        by_name = {str(c.label): november[c.key] for c in volume.columns if c.key.startswith("k")}
        assert by_name == {"维修": 3, "投诉": 1, "咨询": 1} and november["total"] == 5

        parts = {r["name"]: r for r in sr.repair_parts(db.session, boss, FILTERS).rows}
        assert (parts["PP滤芯"]["quantity"], parts["PP滤芯"]["amount"], parts["PP滤芯"]["billed"],
                parts["PP滤芯"]["free"]) == (3, Decimal("135.00"), Decimal("90.00"), 1)
        assert parts["维修工时费"]["billed"] == Decimal("80.00")


def test_a_salesperson_counts_only_their_customers_tickets(app, desk):
    with app.app_context():
        everyone = sr.top_customers(db.session, _actor("boss"), FILTERS).rows
        assert [(r["name"], r["tickets"]) for r in everyone] == [("青禾贸易", 3), ("蓝海科技", 2)]
        mine = sr.top_customers(db.session, _actor("rep"), FILTERS).rows
        assert [(r["name"], r["tickets"]) for r in mine] == [("青禾贸易", 3)]
        assert sum(r["total"] for r in sr.volume(db.session, _actor("rep"), FILTERS).rows) == 3


def test_pages_render_and_the_export_has_the_rows(app, client, desk):
    client.login("boss")
    query = "?start=2026-11-01&end=2026-11-23"
    for page in ("service-volume", "service-sla", "service-times", "service-customers", "service-satisfaction",
                 "service-repairs"):
        response = client.get(f"/admin/reports/{page}/{query}")
        assert response.status_code == 200, page
    html = client.get(f"/admin/reports/service-times/{query}&by=assignee").get_data(as_text=True)
    assert "7.9" in html and "自然小时" in html
    rows = sheet_rows(client.get(f"/admin/reports/service-customers/export{query}"))
    assert rows[:3] == [("排名", "客户", "服务次数", "未结工单"), (1, "青禾贸易", 3, 3), (2, "蓝海科技", 2, 2)]
