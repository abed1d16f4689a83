"""Every list that offers an export gives the same workbook (issue 16 item 5): xlsx through
导出Excel, never Flask-Admin's CSV; money as numbers shown ¥, times in the firm's zone, only
what the reader may see."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from flask_admin.contrib.sqla import ModelView
from sqlalchemy import select

from conftest import sheet_rows, xlsx_export
from models import Customer, FollowUp, PriceLevel, Product, ProductPrice, db
from models.org import User


def login(new_client, username):
    client = new_client()
    client.login(username)
    return client


def test_no_list_offers_a_csv_and_every_export_is_a_workbook(app, make_user, new_client):
    make_user("admin", role="系统管理员", department=("总经办",))
    make_user("boss", role="总经理", department=("总经办",))
    for username in ("admin", "boss"):
        client = login(new_client, username)
        for view in app.extensions["admin"][0]._views:
            if not isinstance(view, ModelView):
                continue
            response = client.get(f"{view.url}/export/csv/")
            with response:
                assert response.mimetype != "text/csv", view.endpoint
                assert response.status_code in (302, 403, 404), (view.endpoint, response.status_code)
                if response.status_code == 302:
                    assert "/admin/excel/export/" in response.headers["Location"], view.endpoint


def test_products_export_prices_as_money_and_only_for_those_who_manage_products(app, make_user, new_client):
    make_user("admin", role="系统管理员", department=("总经办",))
    make_user("rep")
    with app.app_context():
        retail = PriceLevel(name="零售价", sort_order=1)
        product = Product(code="P001", name="龙井茶", unit="罐", cost=Decimal("12.35"))
        db.session.add_all([retail, product])
        db.session.flush()
        db.session.add(ProductPrice(product_id=product.id, level_id=retail.id, price=Decimal("1234.5")))
        db.session.commit()
    admin = login(new_client, "admin")
    assert 'id="kechi-export-xlsx"' in admin.get("/admin/product/").get_data(as_text=True)
    import io

    import openpyxl

    with xlsx_export(admin, "product") as response:
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    cells = dict(zip(header, rows[1]))
    assert cells["产品编号"].value == "P001"
    assert cells["零售价"].value == 1234.5 and "¥" in cells["零售价"].number_format
    assert cells["成本价"].value == 12.35 and "¥" in cells["成本价"].number_format
    rep = login(new_client, "rep")
    assert 'id="kechi-export-xlsx"' not in rep.get("/admin/product/").get_data(as_text=True)
    assert rep.get("/admin/excel/export/product/").status_code == 403


def test_follow_ups_export_in_local_time_and_in_scope(app, make_user, make_customer, new_client):
    me, other = make_user("chen"), make_user("wang", department=("销售部", "销售二部"))
    mine, theirs = make_customer("甲公司", me), make_customer("乙公司", other)
    with app.app_context():
        # 23:16 UTC on 5 December is 07:16 on 6 December in Shanghai
        at = datetime(2026, 12, 5, 23, 16, 27, 523537, tzinfo=timezone.utc)
        db.session.add_all([FollowUp(customer_id=mine, user_id=me, content="=HYPERLINK(1)", happened_at=at),
                            FollowUp(customer_id=theirs, user_id=other, content="别人的", happened_at=at)])
        db.session.commit()
    chen = login(new_client, "chen")
    assert 'id="kechi-export-xlsx"' in chen.get("/admin/follow_up/").get_data(as_text=True)
    rows = sheet_rows(xlsx_export(chen, "follow_up"))
    header, data = rows[0], rows[1:]
    assert len(data) == 1
    row = dict(zip(header, data[0]))
    assert row["联系时间"] == "2026-12-06 07:16"
    assert row["客户名称"] == "甲公司" and row["联系内容"] == "=HYPERLINK(1)"  # text, never a formula
