"""Workbench (工作台) widgets of the reports issue: orders awaiting review, this month's sales
against the same days of last month with its small chart, overdue contacts; a user hides and
reorders widgets and the choice is remembered for them alone."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from models import Customer, Order, db
from test_reports import login, shop  # noqa: F401 - fixture


def widget_keys(html: str) -> list[str]:
    return re.findall(r'data-widget="([a-z_]+)"', html)


def widget_value(html: str, key: str) -> str:
    block = html[html.index(f'data-widget="{key}"'):]
    return re.sub(r"<[^>]+>", "", re.search(r'kechi-widget-value">(.*?)</div>', block, re.S).group(1)).strip()


def test_orders_to_review_and_month_sales(app, shop, new_client):
    with app.app_context():
        c1 = db.session.get(Customer, shop["c1"])
        for number, day, state, total, returned in [("N1", date(2026, 11, 5), "completed", 1000, 200),
                                                    ("N2", date(2026, 11, 6), "pending_review", 5000, 0),
                                                    ("N3", date(2026, 10, 10), "shipped", 400, 0),
                                                    ("N4", date(2026, 10, 11), "cancelled", 900, 0),
                                                    ("N5", date(2026, 10, 28), "completed", 700, 0)]:
            db.session.add(Order(number=number, customer_id=c1.id, salesperson_id=shop["chen"], order_date=day,
                                 state=state, total=Decimal(total), returned_amount=Decimal(returned)))
        db.session.commit()
    html = login(new_client, "boss").get("/admin/").get_data(as_text=True)
    assert widget_value(html, "orders_to_review") == "2"  # O5 and N2 await review
    assert widget_value(html, "month_sales") == "¥800.00"  # N1 net of its return; N2 pending
    # today is 23 November: October's 1st–23rd, so N5 (28 October) is not counted, N4 cancelled
    assert "上月同期 ¥400.00，+100.0%" in html
    assert "kechi-mini-chart" in html and "vendor/echarts/echarts.min.js" in html
    chen = login(new_client, "chen").get("/admin/").get_data(as_text=True)
    assert "orders_to_review" not in widget_keys(chen)  # no 审核 permission
    assert widget_value(chen, "month_sales") == "¥800.00"  # N1 is chen's sale


def test_overdue_contacts(app, shop, new_client):
    with app.app_context():
        db.session.get(Customer, shop["c1"]).next_contact_at = date(2026, 11, 20)
        db.session.get(Customer, shop["c2"]).next_contact_at = date(2026, 11, 23)
        db.session.commit()
    html = login(new_client, "chen").get("/admin/").get_data(as_text=True)
    assert widget_value(html, "due") == "2" and widget_value(html, "overdue") == "1"


def test_hidden_and_reordered_widgets_are_remembered_per_user(app, shop, new_client):
    boss = login(new_client, "boss")
    keys = widget_keys(boss.get("/admin/").get_data(as_text=True))
    assert keys[0] == "due" and "customers" in keys
    form = {f"show_{k}": "1" for k in keys if k != "customers"}
    form.update({f"pos_{k}": str(i + 2) for i, k in enumerate(keys)})
    form["pos_month_sales"] = "1"
    response = boss.post_form("/admin/", form, to="/admin/workbench/layout", follow=True)
    html = response.get_data(as_text=True)
    assert "工作台设置已保存" in html
    shown = widget_keys(html)
    assert shown[0] == "month_sales" and "customers" not in shown
    assert widget_keys(login(new_client, "boss").get("/admin/").get_data(as_text=True)) == shown  # next login
    assert widget_keys(login(new_client, "li").get("/admin/").get_data(as_text=True))[0] == "due"  # others unchanged
    html = boss.post_form("/admin/", {"reset": "1"}, to="/admin/workbench/layout", follow=True).get_data(as_text=True)
    assert widget_keys(html) == keys
    forged = boss.post("/admin/workbench/layout", data={"reset": "1"})
    assert forged.status_code == 302


def test_visible_customers_count_leaves_out_the_recycle_bin_and_follows_scope(app, shop, new_client):
    from sqlalchemy import func, select

    with app.app_context():
        live = db.session.scalar(select(func.count()).select_from(Customer).where(Customer.deleted_at.is_(None)))
        chens = db.session.scalar(select(func.count()).select_from(Customer).where(
            Customer.deleted_at.is_(None), Customer.owner_id == shop["chen"]))
        db.session.get(Customer, shop["c3"]).deleted_at = db.func.now()  # liu's customer goes to the bin
        db.session.commit()
    boss = login(new_client, "boss").get("/admin/").get_data(as_text=True)
    assert widget_value(boss, "customers") == str(live - 1)
    chen = login(new_client, "chen").get("/admin/").get_data(as_text=True)
    assert widget_value(chen, "customers") == str(chens)


def test_the_same_days_of_last_month_stop_at_its_last_day(app, shop):
    """上月同期 on 15 March is 1–15 February; on 31 March it is the whole of February (28 days)."""
    from rules import reports
    from test_reports import actor

    with app.app_context():
        c1 = db.session.get(Customer, shop["c1"])
        for number, day, total in [("F1", date(2026, 2, 10), 100), ("F2", date(2026, 2, 27), 200),
                                   ("F3", date(2026, 2, 28), 400)]:
            db.session.add(Order(number=number, customer_id=c1.id, salesperson_id=shop["chen"], order_date=day,
                                 state="completed", total=Decimal(total), returned_amount=Decimal(0)))
        db.session.commit()
        boss, tz = actor(app, shop["boss"]), app.config["TIMEZONE"]
        assert reports.month_sales(db.session, boss, date(2026, 3, 15), tz)[1] == Decimal("100.00")
        assert reports.month_sales(db.session, boss, date(2026, 3, 31), tz)[1] == Decimal("700.00")
