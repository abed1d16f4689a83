"""统计报表 on a small fixed data set: every figure below is worked out by hand from the rows
created in `shop` (orders awaiting review excluded, returns and refunds netted), the scope of a
主管 and a 业务员, drill-down lists that never show more than the chart counted, and an Excel
export equal to the table on the page."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from io import BytesIO
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from conftest import FIXED_NOW, list_table
from models import Customer, FollowUp, Order, OrderLine, OwnershipEvent, Product, ProductCategory, db
from models.dictionary import DictItem, DictKind
from models.org import User
from rules import reports, rfm
from rules.actor import Actor

UTC = timezone.utc
RANGE = "start=2026-01-01&end=2026-11-23"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def shop(app, make_user):
    """Boss (总经理, all), 主管 李 of 销售一部 with 业务员 陈 and 刘, 业务员 孙 of 销售二部."""
    ids = {
        "boss": make_user("boss", role="总经理", department=("总经办",), display_name="张总"),
        "li": make_user("li", role="主管", department=("销售部", "销售一部"), display_name="李主管"),
        "chen": make_user("chen", role="业务员", department=("销售部", "销售一部"), display_name="陈晓明"),
        "liu": make_user("liu", role="业务员", department=("销售部", "销售一部"), display_name="刘芳"),
        "sun": make_user("sun", role="业务员", department=("销售部", "销售二部"), display_name="孙伟"),
    }
    with app.app_context():
        users = {k: db.session.get(User, v) for k, v in ids.items()}

        def customer(name, owner, province, city, created):
            c = Customer(name=name, owner_id=users[owner].id if owner else None,
                         created_by_id=users[owner].id if owner else None, department_id=users[owner].department_id if owner else None,
                         province=province, city=city, created_at=created, updated_at=created)
            db.session.add(c)
            db.session.flush()
            return c

        c1 = customer("杭州一茶", "chen", "浙江省", "杭州市", utc(2026, 3, 10, 2))
        c2 = customer("宁波二茶", "chen", "浙江省", "宁波市", utc(2026, 3, 20, 2))
        # 2026-03-31 17:00 UTC is 2026-04-01 01:00 in Shanghai: an April customer.
        c3 = customer("南京三茶", "liu", "江苏省", "南京市", utc(2026, 3, 31, 17))
        c4 = customer("杭州四茶", "sun", "浙江省", "杭州市", utc(2026, 4, 15, 2))
        customer("广州五茶", "sun", "广东省", "广州市", utc(2025, 12, 31, 2))  # before the range
        customer("温州六茶", None, "浙江省", "温州市", utc(2026, 5, 1, 2))  # in the pool
        tea = ProductCategory(name="茶叶", path="/")
        ware = ProductCategory(name="茶具", path="/")
        db.session.add_all([tea, ware])
        db.session.flush()
        p1 = Product(code="P1", name="龙井", category_id=tea.id)
        p2 = Product(code="P2", name="茶杯", category_id=ware.id)
        db.session.add_all([p1, p2])
        db.session.flush()

        def order(number, cust, who, day, state, total, returned=0, received=0, refunded=0, lines=()):
            o = Order(number=number, customer_id=cust.id, salesperson_id=users[who].id, order_date=day, state=state,
                      total=Decimal(total), returned_amount=Decimal(returned), received=Decimal(received),
                      refunded=Decimal(refunded))
            db.session.add(o)
            db.session.flush()
            for product, qty, amount, back in lines:
                db.session.add(OrderLine(order_id=o.id, product_id=product.id, quantity=qty, amount=Decimal(amount),
                                         returned_quantity=back))
            return o

        order("O1", c1, "chen", date(2026, 3, 12), "completed", 1000, received=1000, lines=[(p1, 10, 1000, 0)])
        order("O2", c2, "chen", date(2026, 3, 25), "shipped", 500, received=200, lines=[(p2, 5, 500, 0)])
        order("O3", c3, "liu", date(2026, 4, 10), "returned", 800, returned=300, received=800, refunded=100,
              lines=[(p1, 4, 400, 3), (p2, 4, 400, 0)])
        order("O4", c4, "sun", date(2026, 4, 20), "cancelled", 600, received=100, lines=[(p1, 6, 600, 0)])
        order("O5", c4, "sun", date(2026, 4, 22), "pending_review", 9999, lines=[(p1, 99, 9999, 0)])
        order("O6", c1, "chen", date(2026, 4, 28), "picking", 300, lines=[(p2, 3, 300, 0)])
        for who, cust, at in [("chen", c1, utc(2026, 5, 1, 2)), ("chen", c1, utc(2026, 6, 1, 2)),
                              ("chen", c2, utc(2026, 6, 2, 2)), ("liu", c3, utc(2026, 6, 3, 2)),
                              ("sun", c4, utc(2026, 7, 1, 2)), ("sun", c4, utc(2026, 7, 2, 2)),
                              ("sun", c4, utc(2025, 7, 2, 2))]:
            db.session.add(FollowUp(customer_id=cust.id, user_id=users[who].id, content="回访", happened_at=at))
        for reason, frm, to, at in [("claim", None, "chen", utc(2026, 2, 1, 2)), ("claim", None, "chen", utc(2026, 2, 2, 2)),
                                    ("release", "chen", None, utc(2026, 2, 3, 2)),
                                    ("recycle", "sun", None, utc(2026, 3, 3, 2))]:
            db.session.add(OwnershipEvent(customer_id=c1.id, from_user_id=users[frm].id if frm else None,
                                          to_user_id=users[to].id if to else None, reason=reason, at=at))
        db.session.commit()
        ids.update(c1=c1.id, c2=c2.id, c3=c3.id, c4=c4.id, p1=p1.id)
    return ids


def actor(app, user_id: int) -> Actor:
    with app.app_context():
        return Actor.from_user(db.session.get(User, user_id), today=date(2026, 11, 23))


FILTERS = reports.Filters(start=date(2026, 1, 1), end=date(2026, 11, 23))


def login(new_client, username):
    client = new_client()
    client.login(username)
    return client


def page_table(html: str) -> list[list[str]]:
    """The report's table as text cells (header, rows, totals)."""
    table = re.search(r'id="kechi-report-table".*?</table>', html, re.S).group(0)
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def by_name(table: reports.Table) -> dict[str, dict]:
    return {str(r["name"]): r for r in table.rows}


# --- numbers ---------------------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_company_sales_by_month_excludes_orders_awaiting_review(app, shop):
    with app.app_context():
        table = reports.company_sales(db.session, actor(app, shop["boss"]), FILTERS)
    months = {r["month"]: r for r in table.rows}
    assert len(months) == 11  # every month of the range, quiet ones as zero
    march, april = months["2026-03"], months["2026-04"]
    assert (march["orders"], march["receivable"], march["received"], march["outstanding"], march["refundable"],
            march["refunded"]) == (2, Decimal("1500.00"), Decimal("1200.00"), Decimal("300.00"), 0, 0)
    # O3 returned 300 of 800 and refunded 100 of 800 received; O4 cancelled with 100 received;
    # O5 (9999, 等待审核) does not count; O6 picking, nothing paid.
    assert (april["orders"], april["receivable"], april["received"], april["outstanding"], april["refundable"],
            april["refunded"]) == (3, Decimal("800.00"), Decimal("900.00"), Decimal("300.00"), Decimal("300.00"),
                                   Decimal("100.00"))
    assert months["2026-05"]["orders"] == 0
    assert (table.totals["receivable"], table.totals["received"], table.totals["outstanding"],
            table.totals["refundable"], table.totals["refunded"]) == (
        Decimal("2300.00"), Decimal("2100.00"), Decimal("600.00"), Decimal("300.00"), Decimal("100.00"))


@pytest.mark.both_dbs
def test_company_sales_of_a_supervisor_count_only_their_department(app, shop):
    with app.app_context():
        table = reports.company_sales(db.session, actor(app, shop["li"]), FILTERS)
    april = {r["month"]: r for r in table.rows}["2026-04"]
    assert (april["orders"], april["receivable"], april["received"], april["refundable"]) == (
        2, Decimal("800.00"), Decimal("800.00"), Decimal("200.00"))
    assert table.totals["receivable"] == Decimal("2300.00") - Decimal("0.00")  # sun's O4 counted 0 anyway
    assert table.totals["orders"] == 4


@pytest.mark.both_dbs
def test_product_sales_with_returns_and_ranking(app, shop):
    with app.app_context():
        products = reports.product_sales(db.session, actor(app, shop["boss"]), FILTERS)
        categories = reports.product_sales(db.session, actor(app, shop["boss"]), FILTERS, by="category")
    p1, p2 = by_name(products)["P1 龙井"], by_name(products)["P2 茶杯"]
    # cancelled O4 and pending O5 are not sales; O3 returned 3 of 4 龙井 (300 of 400)
    assert (p1["quantity"], p1["amount"], p1["returned_quantity"], p1["returned_amount"], p1["net_amount"]) == (
        14, Decimal("1400.00"), 3, Decimal("300.00"), Decimal("1100.00"))
    assert (p2["quantity"], p2["amount"], p2["returned_quantity"], p2["net_amount"]) == (12, Decimal("1200.00"), 0,
                                                                                         Decimal("1200.00"))
    assert (p2["rank"], p1["rank"]) == (1, 2)
    assert by_name(categories)["茶叶"]["net_amount"] == Decimal("1100.00")


@pytest.mark.both_dbs
def test_salesperson_performance_is_the_basis_for_commission(app, shop):
    with app.app_context():
        boss = by_name(reports.salesperson_performance(db.session, actor(app, shop["boss"]), FILTERS))
        li = by_name(reports.salesperson_performance(db.session, actor(app, shop["li"]), FILTERS))
        chen = by_name(reports.salesperson_performance(db.session, actor(app, shop["chen"]), FILTERS))
    row = boss["陈晓明"]
    assert (row["orders"], row["amount"], row["received"], row["new_customers"], row["follow_ups"]) == (
        3, Decimal("1800.00"), Decimal("1200.00"), 2, 3)
    row = boss["刘芳"]
    assert (row["orders"], row["amount"], row["received"], row["new_customers"], row["follow_ups"]) == (
        1, Decimal("500.00"), Decimal("700.00"), 1, 1)
    row = boss["孙伟"]  # one cancelled and one pending order: no sales; 2025's customer and follow-up are outside
    assert (row["orders"], row["amount"], row["new_customers"], row["follow_ups"]) == (0, Decimal("0.00"), 1, 2)
    assert set(li) == {"陈晓明", "刘芳"}
    assert set(chen) == {"陈晓明"}


@pytest.mark.both_dbs
def test_customer_counts_by_province_per_scope(app, shop):
    with app.app_context():
        boss = reports.customer_counts(db.session, actor(app, shop["boss"]), FILTERS, by="province", created=True)
        li = reports.customer_counts(db.session, actor(app, shop["li"]), FILTERS, by="province", created=True)
        sun = reports.customer_counts(db.session, actor(app, shop["sun"]), FILTERS, by="province", created=True)
        cities = reports.customer_counts(db.session, actor(app, shop["boss"]), FILTERS, by="city", province="浙江省", created=True)
        people = reports.customer_counts(db.session, actor(app, shop["boss"]), FILTERS, by="salesperson", created=True)
    assert {n: r["count"] for n, r in by_name(boss).items()} == {"浙江省": 4, "江苏省": 1}  # 广东 is from 2025
    assert {n: r["count"] for n, r in by_name(li).items()} == {"浙江省": 2, "江苏省": 1}
    assert {n: r["count"] for n, r in by_name(sun).items()} == {"浙江省": 1}
    assert {n: r["count"] for n, r in by_name(cities).items()} == {"杭州市": 2, "宁波市": 1, "温州市": 1}
    assert {n: r["count"] for n, r in by_name(people).items()} == {"陈晓明": 2, "刘芳": 1, "孙伟": 1, "未设置": 1}
    assert by_name(boss)["浙江省"]["share"] == Decimal(80)


@pytest.mark.both_dbs
def test_new_customers_per_local_month_and_follow_ups(app, shop):
    with app.app_context():
        who = actor(app, shop["boss"])
        months = {r["period"]: r["count"] for r in reports.new_customers(db.session, who, FILTERS).rows}
        follow = by_name(reports.follow_ups(db.session, who, FILTERS))
        per_month = by_name(reports.follow_ups(db.session, who, FILTERS, by="month"))
        idle = by_name(reports.not_followed(db.session, who, FILTERS, days=30, now=FIXED_NOW))
        pool = by_name(reports.pool_activity(db.session, who, FILTERS))
    assert (months["2026-03"], months["2026-04"], months["2026-05"], months["2026-06"]) == (2, 2, 1, 0)
    assert {n: r["count"] for n, r in follow.items()} == {"陈晓明": 3, "刘芳": 1, "孙伟": 2}
    assert (per_month["2026-06"]["count"], per_month["2026-07"]["count"]) == (3, 2)
    # last_follow_up_at is never set in this data set: every owned customer is idle
    assert {n: r["count"] for n, r in idle.items()} == {"陈晓明": 2, "刘芳": 1, "孙伟": 2}
    assert (pool["陈晓明"]["claim"], pool["陈晓明"]["release"], pool["孙伟"]["recycle"]) == (2, 1, 1)


@pytest.mark.both_dbs
def test_rfm_segments_and_batch_category(app, shop):
    with app.app_context():
        who = actor(app, shop["boss"])
        table = rfm.customer_sales(db.session, who, FILTERS, today=date(2026, 11, 23))
        rows = by_name(table)
        # c1: 2 orders, 1300, last 04-28 (209 days); c2: 1, 500, 243 days; c3: 1, 500, 227 days.
        # Averages: 226.3 days, 1.33 orders, 766.67 → c1 high on all three, c2 and c3 low on all.
        assert [r["name"] for r in table.rows] == ["杭州一茶", "宁波二茶", "南京三茶"]
        assert (rows["杭州一茶"]["count"], rows["杭州一茶"]["amount"], rows["杭州一茶"]["recency"]) == (
            2, Decimal("1300.00"), 209)
        assert rows["杭州一茶"]["segment"] == "重要价值客户"
        assert rows["宁波二茶"]["segment"] == rows["南京三茶"]["segment"] == "一般挽留客户"
        segments = {s["key"]: s["count"] for s in table.extra["segments"]}
        assert (segments["important_value"], segments["general_retain"]) == (1, 2)
        vip = DictItem(kind=DictKind.CATEGORY, name="VIP客户")
        db.session.add(vip)
        db.session.flush()
        # Segments are measured against the company's averages whoever looks: 刘 sees only his
        # buyer c3, in the same segment as for the boss; setting it leaves 陈's c2 (same segment) alone.
        liu = actor(app, shop["liu"])
        mine = rfm.customer_sales(db.session, liu, FILTERS, today=date(2026, 11, 23))
        assert [(r["name"], r["segment"]) for r in mine.rows] == [("南京三茶", "一般挽留客户")]
        assert {s["key"]: s["count"] for s in mine.extra["segments"]}["general_retain"] == 1
        assert rfm.set_category(db.session, liu, FILTERS, today=date(2026, 11, 23), segment="general_retain",
                                category_id=vip.id) == 1
        assert rfm.set_category(db.session, who, FILTERS, today=date(2026, 11, 23), segment="important_value",
                                category_id=vip.id) == 1
        db.session.commit()
        assert db.session.get(Customer, shop["c1"]).category_id == vip.id
        assert db.session.get(Customer, shop["c3"]).category_id == vip.id
        assert db.session.get(Customer, shop["c2"]).category_id is None


@pytest.mark.both_dbs
def test_funnel_counts_customers_at_or_beyond_each_stage(app, shop):
    with app.app_context():
        stages = db.session.scalars(select(DictItem).where(DictItem.kind == DictKind.STAGE)
                                    .order_by(DictItem.sort_order, DictItem.id)).all()
        assert len(stages) >= 3
        for cid, stage in [(shop["c1"], stages[0]), (shop["c2"], stages[1]), (shop["c3"], stages[2]),
                           (shop["c4"], stages[2])]:
            db.session.get(Customer, cid).stage_id = stage.id
        db.session.commit()
        table = reports.funnel(db.session, actor(app, shop["boss"]), FILTERS)
    rows = table.rows
    assert [r["reached"] for r in rows[:3]] == [4, 3, 2]
    assert rows[1]["conversion"] == Decimal(75) and rows[2]["conversion"] == Decimal(2 * 100) / 3


# --- pages ---------------------------------------------------------------------------------------

def test_every_report_page_opens_for_each_role(app, shop, new_client):
    pages = ["sales", "products", "products?by=category", "salespeople", "customer-sales", "customers",
             "customers?by=city&province=浙江省", "customers?by=year", "customers?by=stage", "new-customers?grain=week",
             "follow-ups?by=department", "follow-ups?by=idle&days=10", "pool", "pool?view=size", "funnel"]
    for user in ("boss", "li", "chen"):
        client = login(new_client, user)
        for name in pages:
            path, _, query = name.partition("?")
            response = client.get(f"/admin/reports/{path}/?{RANGE}&{query}")
            assert response.status_code == 200, (user, name)
            assert "kechi-report-table" in response.get_data(as_text=True)


@pytest.mark.both_dbs
def test_a_supervisors_page_and_drill_down_show_only_their_department(app, shop, new_client):
    li = login(new_client, "li")
    html = li.get(f"/admin/reports/customers/?{RANGE}&dated=1").get_data(as_text=True)
    table = page_table(html)
    assert table[0] == ["省份", "客户数", "占比"]
    assert ["浙江省", "2", "66.7%"] in table and ["江苏省", "1", "33.3%"] in table
    link = unescape(re.search(r'<a href="(/admin/customer/\?[^"]+)">浙江省</a>', html).group(1))
    listed = list_table(li.get(link).get_data(as_text=True))
    assert "杭州一茶" in listed and "宁波二茶" in listed
    assert "杭州四茶" not in listed and "温州六茶" not in listed and "南京三茶" not in listed
    boss = login(new_client, "boss")
    html = boss.get(f"/admin/reports/customers/?{RANGE}&dated=1").get_data(as_text=True)
    link = unescape(re.search(r'<a href="(/admin/customer/\?[^"]+)">浙江省</a>', html).group(1))
    listed = list_table(boss.get(link).get_data(as_text=True))
    assert all(name in listed for name in ("杭州一茶", "宁波二茶", "杭州四茶", "温州六茶"))
    assert "南京三茶" not in listed and "广州五茶" not in listed  # another province; created before the range


def test_a_salesperson_cannot_see_a_colleague_by_choosing_them(app, shop, new_client):
    chen = login(new_client, "chen")
    html = chen.get(f"/admin/reports/salespeople/?{RANGE}&salesperson={shop['sun']}").get_data(as_text=True)
    assert "孙伟" not in "".join(sum(page_table(html), []))
    html = chen.get(f"/admin/reports/sales/?{RANGE}").get_data(as_text=True)
    totals = page_table(html)[-1]
    assert totals[:3] == ["合计", "3", "¥1,800.00"]


def test_the_excel_export_equals_the_table_on_the_page(app, shop, new_client):
    boss = login(new_client, "boss")
    for path in ("sales", "products", "salespeople", "customers", "customer-sales"):
        html = boss.get(f"/admin/reports/{path}/?{RANGE}").get_data(as_text=True)
        shown = page_table(html)
        response = boss.get(f"/admin/reports/{path}/export?{RANGE}")
        assert response.mimetype.endswith("spreadsheetml.sheet")
        sheet = load_workbook(BytesIO(response.data), read_only=True).active
        exported = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert len(exported) == len(shown), path

        def same(text: str, value) -> bool:
            if value is None:
                return text in ("", "—")
            if isinstance(value, (int, float)):
                number = text.replace("¥", "").replace(",", "").replace("%", "")
                return Decimal(number) == Decimal(str(value)).quantize(Decimal(number))
            if isinstance(value, datetime):
                return text == value.date().isoformat()
            return text == str(value)

        for page_row, sheet_row in zip(shown, exported):
            assert all(same(t, v) for t, v in zip(page_row, sheet_row)), (path, page_row, sheet_row)


def test_export_escapes_formula_like_names(app, shop, new_client):
    with app.app_context():
        db.session.get(Product, shop["p1"]).name = "=HYPERLINK(\"x\")"
        db.session.commit()
    response = login(new_client, "boss").get(f"/admin/reports/products/export?{RANGE}")
    sheet = load_workbook(BytesIO(response.data)).active
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" for c in cells)


def test_bad_dates_are_explained_and_the_batch_category_needs_csrf(app, shop, new_client):
    boss = login(new_client, "boss")
    html = boss.get("/admin/reports/sales/?start=2026-13-01&end=2026-02-01").get_data(as_text=True)
    assert "开始日期“2026-13-01”无法识别" in html
    response = boss.post(f"/admin/reports/customer-sales/set-category?{RANGE}",
                         data={"segment": "important_value", "category": "1"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Customer, shop["c1"]).category_id is None


def test_demo_data_gives_every_report_something_to_show(app, new_client):
    from datetime import timedelta

    from demo import seed_demo

    with app.app_context():
        seed_demo(db.session, customers=150)
        db.session.commit()
    today = FIXED_NOW.date()
    span = f"start={(today - timedelta(days=365)).isoformat()}&end={today.isoformat()}"
    boss = new_client()
    boss.login("zhangzong", password="kechi123")
    for name in ["sales", "products", "products?by=category", "salespeople", "customer-sales", "customers",
                 "customers?by=stage", "customers?by=category", "new-customers", "follow-ups", "follow-ups?by=month",
                 "pool", "pool?view=size", "funnel"]:
        path, _, query = name.partition("?")
        html = boss.get(f"/admin/reports/{path}/?{span}&{query}").get_data(as_text=True)
        body = page_table(html)[1:]
        numbers = [c for row in body for c in row[1:] if re.fullmatch(r"¥?[\d,]+(\.\d+)?%?", c)]
        assert any(re.search(r"[1-9]", n) for n in numbers), name
        assert 'id="kechi-chart"' in html, name


@pytest.mark.both_dbs
def test_summaries_give_the_same_figures_as_the_raw_rows(app, shop):
    """Large databases read per-day summaries rebuilt by the periodic job; on the fixed data set
    they must agree with the raw aggregation for every scope."""
    from rules import report_summary

    with app.app_context():
        tz = app.config["TIMEZONE"]

        def figures(user_id):
            who = actor(app, user_id)
            return [
                reports.company_sales(db.session, who, FILTERS).rows,
                reports.product_sales(db.session, who, FILTERS).rows,
                reports.product_sales(db.session, who, FILTERS, by="category").rows,
                sorted(reports.salesperson_performance(db.session, who, FILTERS).rows, key=lambda r: r["name"]),
                reports.follow_ups(db.session, who, FILTERS).rows,
                reports.follow_ups(db.session, who, FILTERS, by="month").rows,
                reports.follow_ups(db.session, who, FILTERS, by="department").rows,
                reports.month_sales(db.session, who, date(2026, 4, 23), tz),
                rfm.customer_sales(db.session, who, FILTERS, today=date(2026, 11, 23)).rows,
            ]

        raw = {u: figures(shop[u]) for u in ("boss", "li", "chen", "sun")}
        assert report_summary.refresh(db.session, now=FIXED_NOW, tz=tz) is False  # small: stays raw
        assert report_summary.built_at(db.session) is None
        assert report_summary.refresh(db.session, now=FIXED_NOW, tz=tz, threshold=0) is True
        db.session.commit()
        assert report_summary.built_at(db.session) == FIXED_NOW
        for user, expected in raw.items():
            assert figures(shop[user]) == expected, user
        note = reports.company_sales(db.session, actor(app, shop["boss"]), FILTERS).note
        assert "定时汇总" in str(note)


def test_the_refresh_job_is_scheduled(app):
    from jobs import reports as report_jobs
    from jobs.schedule import SCHEDULE

    assert (report_jobs.refresh_summaries, "*/10 * * * *") in SCHEDULE
    with app.app_context():
        assert report_jobs.refresh_summaries() is False  # an empty database aggregates raw rows


def test_pool_size_walks_back_from_today(app, shop):
    """Today the pool holds 温州六茶 only. Ownership log in the shop: February claims 2 and
    releases 1 (net −1), March recycles 1 (+1); customers entered with an owner never were in it."""
    with app.app_context():
        db.session.add(OwnershipEvent(customer_id=shop["c2"], from_user_id=None, to_user_id=shop["chen"],
                                      reason="created", at=utc(2026, 3, 20, 2)))
        db.session.commit()
        rows = {r["month"]: r for r in reports.pool_size(db.session, actor(app, shop["boss"]), FILTERS).rows}
    assert rows["2026-11"]["size"] == 1 and rows["2026-03"]["size"] == 1
    assert (rows["2026-03"]["inflow"], rows["2026-03"]["outflow"]) == (1, 0)
    assert (rows["2026-02"]["size"], rows["2026-02"]["inflow"], rows["2026-02"]["outflow"]) == (0, 1, 2)
    assert rows["2026-01"]["size"] == 1


def test_follow_up_drill_down_lists_exactly_what_was_counted(app, shop, new_client):
    li = login(new_client, "li")
    html = li.get(f"/admin/reports/follow-ups/?{RANGE}").get_data(as_text=True)
    assert ["陈晓明", "3"] in page_table(html)
    link = unescape(re.search(r'<a href="(/admin/follow_up/\\?[^"]+)">陈晓明</a>', html).group(1))
    listed = list_table(li.get(link).get_data(as_text=True))
    assert listed.count("<tr") - 1 == 3, listed
    html = li.get(f"/admin/reports/follow-ups/?{RANGE}&by=month").get_data(as_text=True)
    assert ["2026-06", "3"] in page_table(html)  # 陈 twice and 刘 once in June
    link = unescape(re.search(r'<a href="(/admin/follow_up/\?[^"]+)">2026-06</a>', html).group(1))
    assert list_table(li.get(link).get_data(as_text=True)).count("<tr") - 1 == 3


@pytest.mark.both_dbs
def test_rfm_summary_counts_follow_moves_and_the_bin_at_once(app, shop):
    """The RFM summary is rebuilt every ten minutes, but whose customers it counts is decided
    now: a customer assigned to a colleague or binned after the rebuild moves at once."""
    from rules import pool, report_summary

    with app.app_context():
        tz = app.config["TIMEZONE"]
        assert report_summary.refresh(db.session, now=FIXED_NOW, tz=tz, threshold=0) is True
        db.session.commit()

        def seen(user):
            table = rfm.customer_sales(db.session, actor(app, shop[user]), FILTERS, today=date(2026, 11, 23))
            return sorted(r["name"] for r in table.rows), sum(s["count"] for s in table.extra["segments"])

        assert seen("chen") == (["宁波二茶", "杭州一茶"], 2)
        assert seen("sun") == ([], 0)
        boss = actor(app, shop["boss"])
        pool.assign(db.session, [shop["c2"]], to_user=db.session.get(User, shop["sun"]), actor=boss, now=FIXED_NOW)
        db.session.commit()
        assert seen("chen") == (["杭州一茶"], 1)
        assert seen("sun") == (["宁波二茶"], 1)
        assert seen("li") == (["南京三茶", "杭州一茶"], 2)  # 孙 is in 销售二部
        db.session.get(Customer, shop["c1"]).deleted_at = FIXED_NOW
        db.session.commit()
        assert seen("chen") == ([], 0)
        assert seen("boss") == (["南京三茶", "宁波二茶"], 2)



@pytest.mark.parametrize("report,index", [
    (lambda who: reports.not_followed(db.session, who, FILTERS, days=30, now=FIXED_NOW), "ix_customers_live_owner"),
    (lambda who: reports.customer_counts(db.session, who, FILTERS), "ix_customers_report"),
    (lambda who: reports.customer_counts(db.session, who, FILTERS, created=True), "ix_customers_report"),
])
def test_sqlite_counts_live_customers_from_the_report_indexes_alone(app, shop, report, index):
    """SQLite reads a partial index alone only when the columns of its WHERE (deleted_at) are in
    it; otherwise it fetches every customer row (超过30天未跟进 at 1M customers: seconds)."""
    from sqlalchemy import event

    with app.app_context():
        seen: list[tuple[str, tuple]] = []

        def keep(conn, cursor, statement, parameters, context, executemany) -> None:
            if "FROM customers" in statement and "GROUP BY" in statement:
                seen.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            report(actor(app, shop["boss"]))
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        assert seen
        for statement, parameters in seen:
            plan = " ".join(row[-1] for row in db.session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters))
            assert f"COVERING INDEX {index}" in plan, plan
