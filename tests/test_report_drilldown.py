"""Clicking a bar or slice opens the records behind it: on the fixed data set of test_reports
(`shop`), as the 总经理, the 主管 李 (销售一部) and the 业务员 陈, every drill-down list shows
exactly the records the chart counted (never more), with the page's department and salesperson
choice carried along, and never a colleague's records outside the user's scope.

Orders in `shop`: O1 陈 03-12 completed (龙井), O2 陈 03-25 shipped (茶杯), O3 刘 04-10 returned
(龙井+茶杯), O4 孙 04-20 cancelled (龙井), O5 孙 04-22 awaiting review (龙井), O6 陈 04-28 picking
(茶杯). Customers created: 杭州一茶 and 宁波二茶 (陈, March), 南京三茶 (刘, 1 April local),
杭州四茶 (孙, April), 温州六茶 (pool, May); 广州五茶 (孙) is from 2025."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import select

from conftest import list_table
from models import db
from models.org import Department
from test_reports import RANGE, login, page_table, shop  # noqa: F401  (shop is a fixture)

ORDER = re.compile(r">(O\d)<")
CUSTOMERS = ("杭州一茶", "宁波二茶", "南京三茶", "杭州四茶", "广州五茶", "温州六茶")


def links(html: str) -> dict[str, str]:
    """The report table's first-column links: label → the list it opens."""
    table = re.search(r'id="kechi-report-table".*?</table>', html, re.S).group(0)
    return {unescape(label): unescape(url) for url, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', table)}


def chart(html: str) -> dict:
    return json.loads(re.search(r'id="kechi-chart-data">(.*?)</script>', html, re.S).group(1))


def rows_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return list_table(response.get_data(as_text=True))


def row_count(listed: str) -> int:
    return listed.count("<tr") - 1


def orders_in(listed: str) -> set[str]:
    return set(ORDER.findall(listed))


def customers_in(listed: str) -> set[str]:
    return {name for name in CUSTOMERS if name in listed}


def figure(html: str, label: str, column: int = 1) -> int:
    """The number in `column` of the table row labelled `label` (in its first or second cell)."""
    row = next(r for r in page_table(html) if label in r[:2])
    return int(row[column].replace(",", ""))


def department_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Department.id).where(Department.name == name))


# --- 公司销售报表 → the order list of the month, orders awaiting review left out --------------------

@pytest.mark.parametrize("user, months", [
    ("boss", {"2026-03": {"O1", "O2"}, "2026-04": {"O3", "O4", "O6"}}),
    ("li", {"2026-03": {"O1", "O2"}, "2026-04": {"O3", "O6"}}),
    ("chen", {"2026-03": {"O1", "O2"}, "2026-04": {"O6"}}),
])
def test_a_month_of_company_sales_opens_its_orders(app, shop, new_client, user, months):
    client = login(new_client, user)
    html = client.get(f"/admin/reports/sales/?{RANGE}").get_data(as_text=True)
    drills = links(html)
    for month, expected in months.items():
        listed = rows_of(client, drills[month])
        assert row_count(listed) == figure(html, month) == len(expected), (user, month)
        assert orders_in(listed) == expected, (user, month)  # O5 awaits review; 孙's O4 is not 李's
    assert "2026-05" not in drills or row_count(rows_of(client, drills["2026-05"])) <= 1


@pytest.mark.both_dbs
def test_the_department_and_salesperson_choice_carry_into_the_order_list(app, shop, new_client):
    boss = login(new_client, "boss")
    first = department_id(app, "销售一部")
    html = boss.get(f"/admin/reports/sales/?{RANGE}&department={first}").get_data(as_text=True)
    assert figure(html, "2026-04") == 2
    assert orders_in(rows_of(boss, links(html)["2026-04"])) == {"O3", "O6"}
    parent = department_id(app, "销售部")  # the subtree: 销售一部 and 销售二部
    html = boss.get(f"/admin/reports/sales/?{RANGE}&department={parent}").get_data(as_text=True)
    assert orders_in(rows_of(boss, links(html)["2026-04"])) == {"O3", "O4", "O6"}
    html = boss.get(f"/admin/reports/sales/?{RANGE}&salesperson={shop['liu']}").get_data(as_text=True)
    assert figure(html, "2026-04") == 1
    assert orders_in(rows_of(boss, links(html)["2026-04"])) == {"O3"}


# --- 产品销售报表 → orders containing the product (or category) -----------------------------------

@pytest.mark.parametrize("user, expected", [
    ("boss", {"P1 龙井": {"O1", "O3"}, "P2 茶杯": {"O2", "O3", "O6"}, "茶叶": {"O1", "O3"}, "茶具": {"O2", "O3", "O6"}}),
    ("li", {"P1 龙井": {"O1", "O3"}, "P2 茶杯": {"O2", "O3", "O6"}}),
    ("chen", {"P1 龙井": {"O1"}, "P2 茶杯": {"O2", "O6"}, "茶叶": {"O1"}}),
])
def test_a_product_or_category_opens_the_orders_that_sold_it(app, shop, new_client, user, expected):
    """Cancelled O4 and O5 awaiting review sold nothing: they are not in the list."""
    client = login(new_client, user)
    products = client.get(f"/admin/reports/products/?{RANGE}").get_data(as_text=True)
    categories = client.get(f"/admin/reports/products/?{RANGE}&by=category").get_data(as_text=True)
    drills = links(products) | links(categories)
    for name, numbers in expected.items():
        assert orders_in(rows_of(client, drills[name])) == numbers, (user, name)
    # 龙井's 10 + 4 sold (3 returned) are on exactly those orders
    quantity = {"boss": 14, "li": 14, "chen": 10}[user]
    assert figure(products, "P1 龙井", column=2) == quantity


# --- 业务员业绩报表 → that salesperson's sold orders --------------------------------------------

@pytest.mark.parametrize("user, expected", [
    ("boss", {"陈晓明": {"O1", "O2", "O6"}, "刘芳": {"O3"}}),
    ("li", {"陈晓明": {"O1", "O2", "O6"}, "刘芳": {"O3"}}),
    ("chen", {"陈晓明": {"O1", "O2", "O6"}}),
])
def test_a_salesperson_opens_their_orders(app, shop, new_client, user, expected):
    client = login(new_client, user)
    html = client.get(f"/admin/reports/salespeople/?{RANGE}").get_data(as_text=True)
    drills = links(html)
    for name, numbers in expected.items():
        listed = rows_of(client, drills[name])
        assert row_count(listed) == figure(html, name) == len(numbers)
        assert orders_in(listed) == numbers
    assert "孙伟" not in drills  # no order sold: nothing to open


# --- 新增客户走势 and 客户数量报表 by department → the customer list ----------------------------------

@pytest.mark.parametrize("user, expected", [
    ("boss", {"2026-03": {"杭州一茶", "宁波二茶"}, "2026-04": {"南京三茶", "杭州四茶"}, "2026-05": {"温州六茶"}}),
    ("li", {"2026-03": {"杭州一茶", "宁波二茶"}, "2026-04": {"南京三茶"}}),
    ("chen", {"2026-03": {"杭州一茶", "宁波二茶"}}),
])
def test_a_month_of_new_customers_opens_those_customers(app, shop, new_client, user, expected):
    client = login(new_client, user)
    html = client.get(f"/admin/reports/new-customers/?{RANGE}").get_data(as_text=True)
    drills = links(html)
    for month, names in expected.items():
        listed = rows_of(client, drills[month])
        assert figure(html, month) == len(names)
        assert customers_in(listed) == names, (user, month)  # 南京三茶 is 1 April in Shanghai


@pytest.mark.both_dbs
def test_new_customers_per_week_and_day_open_those_days(app, shop, new_client):
    boss = login(new_client, "boss")
    html = boss.get(f"/admin/reports/new-customers/?{RANGE}&grain=week").get_data(as_text=True)
    assert figure(html, "2026-03-09") == 1  # 杭州一茶 on Tuesday 10 March
    assert customers_in(rows_of(boss, links(html)["2026-03-09"])) == {"杭州一茶"}
    assert customers_in(rows_of(boss, links(html)["2026-03-30"])) == {"南京三茶"}
    html = boss.get("/admin/reports/new-customers/?start=2026-03-01&end=2026-04-30&grain=day").get_data(as_text=True)
    assert customers_in(rows_of(boss, links(html)["2026-04-01"])) == {"南京三茶"}
    first = department_id(app, "销售一部")
    html = boss.get(f"/admin/reports/new-customers/?{RANGE}&department={first}").get_data(as_text=True)
    assert figure(html, "2026-04") == 1
    assert customers_in(rows_of(boss, links(html)["2026-04"])) == {"南京三茶"}


@pytest.mark.parametrize("user, expected", [
    ("boss", {"销售一部": {"杭州一茶", "宁波二茶", "南京三茶"}, "销售二部": {"杭州四茶"}}),
    ("li", {"销售一部": {"杭州一茶", "宁波二茶", "南京三茶"}}),
    ("chen", {"销售一部": {"杭州一茶", "宁波二茶"}}),
])
def test_customer_counts_by_department_open_that_departments_customers(app, shop, new_client, user, expected):
    client = login(new_client, user)
    html = client.get(f"/admin/reports/customers/?{RANGE}&dated=1&by=department").get_data(as_text=True)
    drills = links(html)
    assert set(drills) == set(expected)  # the pool's 温州六茶 has no department: 未设置 opens nothing
    for name, names in expected.items():
        listed = rows_of(client, drills[name])
        assert row_count(listed) == figure(html, name) == len(names)
        assert customers_in(listed) == names


def test_a_province_with_a_department_chosen_opens_only_that_departments_customers(app, shop, new_client):
    boss = login(new_client, "boss")
    second = department_id(app, "销售二部")
    html = boss.get(f"/admin/reports/customers/?{RANGE}&dated=1&department={second}").get_data(as_text=True)
    assert figure(html, "浙江省") == 1
    assert customers_in(rows_of(boss, links(html)["浙江省"])) == {"杭州四茶"}
    html = boss.get(f"/admin/reports/funnel/?{RANGE}&department={second}").get_data(as_text=True)
    assert "/admin/customer/" in html or "kechi-report-empty" in html


# --- 客户跟进报表 by department → the follow-ups written in that department ------------------------

@pytest.mark.parametrize("user, expected", [
    ("boss", {"销售一部": 4, "销售二部": 2}),
    ("li", {"销售一部": 4}),
    ("chen", {"销售一部": 3}),
])
def test_follow_ups_by_department_open_those_follow_ups(app, shop, new_client, user, expected):
    client = login(new_client, user)
    html = client.get(f"/admin/reports/follow-ups/?{RANGE}&by=department").get_data(as_text=True)
    drills = links(html)
    assert set(drills) == set(expected)
    for name, count in expected.items():
        listed = rows_of(client, drills[name])
        assert row_count(listed) == figure(html, name) == count, (user, name)
        if user != "boss":
            assert "孙伟" not in listed


@pytest.mark.both_dbs
def test_follow_ups_per_month_carry_the_department_choice(app, shop, new_client):
    boss = login(new_client, "boss")
    second = department_id(app, "销售二部")
    html = boss.get(f"/admin/reports/follow-ups/?{RANGE}&by=month&department={second}").get_data(as_text=True)
    assert figure(html, "2026-07") == 2 and figure(html, "2026-06") == 0
    listed = rows_of(boss, links(html)["2026-07"])
    assert row_count(listed) == 2 and "陈晓明" not in listed


# --- 客户池报表 → one salesperson's claims, releases or recycles in 流转记录 ------------------------

@pytest.mark.parametrize("user, expected", [
    ("boss", {("陈晓明", "claim"): 2, ("陈晓明", "release"): 1, ("孙伟", "recycle"): 1}),
    ("li", {("陈晓明", "claim"): 2, ("陈晓明", "release"): 1}),
    ("chen", {("陈晓明", "claim"): 2, ("陈晓明", "release"): 1, ("陈晓明", "recycle"): 0}),
])
def test_a_pool_bar_opens_exactly_those_moves(app, shop, new_client, user, expected):
    client = login(new_client, user)
    html = client.get(f"/admin/reports/pool/?{RANGE}").get_data(as_text=True)
    data = chart(html)
    names = [row[0] for row in page_table(html)[1:1 + len(data["drill"])]]
    series = ["claim", "release", "recycle"]
    assert len(data["series_drill"]) == len(series)
    if user != "boss":
        assert "孙伟" not in names
    for (name, kind), count in expected.items():
        url = data["series_drill"][series.index(kind)][names.index(name)]
        listed = rows_of(client, url)
        shown = 0 if "<td" not in listed or "没有" in listed else row_count(listed)
        assert shown == count, (user, name, kind)
        assert figure(html, name, column=1 + series.index(kind)) == count


# --- 客户销售报表 (RFM): a segment opens the same page narrowed to it ------------------------------

def test_an_rfm_segment_opens_the_report_narrowed_to_it(app, shop, new_client):
    boss = login(new_client, "boss")
    html = boss.get(f"/admin/reports/customer-sales/?{RANGE}&sort=count").get_data(as_text=True)
    data = chart(html)
    keys = [re.search(r"segment=([a-z_]+)", url).group(1) if url else None for url in data["drill"]]
    assert "important_value" in keys and "general_retain" in keys
    url = unescape(data["drill"][keys.index("general_retain")])
    assert "sort=count" in url and "start=2026-01-01" in url
    names = [row[1] for row in page_table(boss.get(url).get_data(as_text=True))[1:]]
    assert set(names) & set(CUSTOMERS) == {"宁波二茶", "南京三茶"}


# --- what the lists cannot reproduce opens nothing ------------------------------------------------

def test_figures_from_the_periodic_summaries_open_nothing(app, shop, new_client):
    """A summary is a snapshot up to ten minutes old; a live list could show more than it counted."""
    from conftest import FIXED_NOW
    from rules import report_summary

    with app.app_context():
        report_summary.refresh(db.session, now=FIXED_NOW, tz=app.config["TIMEZONE"], threshold=0)
        db.session.commit()
    boss = login(new_client, "boss")
    for path in ("sales", "products", "salespeople", "follow-ups?by=department"):
        html = boss.get(f"/admin/reports/{path.replace('?', '/?')}&{RANGE}" if "?" in path
                        else f"/admin/reports/{path}/?{RANGE}").get_data(as_text=True)
        assert not links(html), path
        assert not any(chart(html)["drill"]), path


def test_list_filters_refuse_values_outside_their_sets(app, shop, new_client):
    """A hand-edited link cannot widen a list: an unknown state set or department is ignored
    and the list still applies the user's own scope."""
    chen = login(new_client, "chen")
    listed = rows_of(chen, "/admin/order/?flt0_14=shipped,bogus")
    assert orders_in(listed) <= {"O1", "O2", "O6"}
    listed = rows_of(chen, "/admin/customer/?flt0_16=" + str(department_id(app, "销售二部")))
    assert customers_in(listed) == set()


def test_a_city_opens_that_city_exactly(app, shop, new_client):
    """A city typed by hand as 杭州 is its own bar; 杭州市's list must not pick it up by "contains"."""
    from datetime import datetime, timezone

    from models import Customer

    with app.app_context():
        at = datetime(2026, 5, 2, 2, tzinfo=timezone.utc)
        db.session.add(Customer(name="杭州七茶", owner_id=None, province="浙江省", city="杭州", created_at=at,
                                updated_at=at))
        db.session.commit()
    boss = login(new_client, "boss")
    html = boss.get(f"/admin/reports/customers/?{RANGE}&dated=1&by=city&province=浙江省").get_data(as_text=True)
    assert figure(html, "杭州市") == 2 and figure(html, "杭州") == 1
    listed = rows_of(boss, links(html)["杭州市"])
    assert customers_in(listed) == {"杭州一茶", "杭州四茶"} and "杭州七茶" not in listed
    listed = rows_of(boss, links(html)["杭州"])
    assert "杭州七茶" in listed and customers_in(listed) == set()  # "contains 杭州" would add 杭州市's two


@pytest.mark.parametrize("user, expected", [
    ("boss", {"陈晓明": {"宁波二茶"}, "刘芳": {"南京三茶"}, "孙伟": {"杭州四茶", "广州五茶"}}),
    ("li", {"陈晓明": {"宁波二茶"}, "刘芳": {"南京三茶"}}),
    ("chen", {"陈晓明": {"宁波二茶"}}),
])
def test_customers_not_followed_up_open_exactly_those_customers(app, shop, new_client, user, expected):
    """杭州一茶 was followed up 5 days ago, 宁波二茶 40 days ago, the others never: over 30 days
    idle are 宁波二茶 and every customer never followed up (whenever it was created)."""
    from datetime import timedelta

    from conftest import FIXED_NOW
    from models import Customer

    with app.app_context():
        db.session.get(Customer, shop["c1"]).last_follow_up_at = FIXED_NOW - timedelta(days=5)
        db.session.get(Customer, shop["c2"]).last_follow_up_at = FIXED_NOW - timedelta(days=40)
        db.session.commit()
    client = login(new_client, user)
    html = client.get(f"/admin/reports/follow-ups/?{RANGE}&by=idle&days=30").get_data(as_text=True)
    drills = links(html)
    assert set(drills) == set(expected)
    for name, names in expected.items():
        listed = rows_of(client, drills[name])
        assert row_count(listed) == figure(html, name) == len(names), (user, name)
        assert customers_in(listed) == names


@pytest.mark.parametrize("user, reached", [
    ("boss", [{"杭州一茶", "宁波二茶", "南京三茶", "杭州四茶"}, {"宁波二茶", "南京三茶", "杭州四茶"}, {"南京三茶", "杭州四茶"}]),
    ("li", [{"杭州一茶", "宁波二茶", "南京三茶"}, {"宁波二茶", "南京三茶"}, {"南京三茶"}]),
    ("chen", [{"杭州一茶", "宁波二茶"}, {"宁波二茶"}, set()]),
])
def test_a_funnel_stage_opens_every_customer_that_reached_it(app, shop, new_client, user, reached):
    """The funnel's bar is 到达该阶段 (at that stage or a later one): its list shows the same."""
    from models import Customer
    from models.dictionary import DictItem, DictKind

    with app.app_context():
        stages = db.session.scalars(select(DictItem).where(DictItem.kind == DictKind.STAGE)
                                    .order_by(DictItem.sort_order, DictItem.id)).all()
        names = [s.name for s in stages[:3]]
        for cid, stage in [(shop["c1"], stages[0]), (shop["c2"], stages[1]), (shop["c3"], stages[2]),
                           (shop["c4"], stages[2])]:
            db.session.get(Customer, cid).stage_id = stage.id
        db.session.commit()
    client = login(new_client, user)
    html = client.get(f"/admin/reports/funnel/?{RANGE}").get_data(as_text=True)
    drills = links(html)
    for name, expected in zip(names, reached):
        assert figure(html, name, column=2) == len(expected), (user, name)
        assert customers_in(rows_of(client, drills[name])) == expected, (user, name)


def test_no_link_to_a_list_the_user_may_not_open(app, shop, new_client, make_user):
    """A role that may read reports and customers but not orders gets no dead links to the
    order list; its customer drill-downs still work."""
    from models.org import Role

    with app.app_context():
        db.session.add(Role(name="报表员", data_scope="all", permissions=["report.view", "customer.view"]))
        db.session.commit()
    make_user("analyst", role="报表员", department=("总经办",), display_name="分析员")
    analyst = login(new_client, "analyst")
    html = analyst.get(f"/admin/reports/sales/?{RANGE}").get_data(as_text=True)
    assert figure(html, "2026-04") == 3 and not links(html) and not any(chart(html)["drill"])
    html = analyst.get(f"/admin/reports/customers/?{RANGE}&dated=1").get_data(as_text=True)
    assert customers_in(rows_of(analyst, links(html)["江苏省"])) == {"南京三茶"}


# --- every drill-down a report can build is one its list declares --------------------------------

def _report_links(app, user_id: int, department: int, salesperson: int) -> list:
    """Every list link the report pages build (rows and series), over each choice of each page
    (one option at a time) with no, a department and a salesperson choice."""
    from flask_login import login_user

    from admin_views.reports import ReportView
    from models import User
    from rules.links import ListLink

    admin = app.extensions["admin"][0]
    found = []
    for view in (v for v in admin._views if isinstance(v, ReportView)):
        for people in ({}, {"department": department}, {"salesperson": salesperson}):
            base = {"start": "2026-01-01", "end": "2026-11-23", **people}
            with app.test_request_context(query_string=base):
                login_user(db.session.get(User, user_id))
                variations = [base] + [base | {name: value} for name, _label, options, _default
                                       in view.current_choices() for value, _text in options]
            for args in variations:
                with app.test_request_context(query_string=args):
                    login_user(db.session.get(User, user_id))
                    table = view.compute(view._build()[0])
                    for row in table.rows + table.extra.get("chart_rows", []):
                        found += [row.get("drill"), *(row.get("series_drill") or {}).values()]
                    db.session.remove()
    return [link for link in found if isinstance(link, ListLink)]


def test_every_filter_a_report_drills_by_is_declared_by_its_list(app, shop):
    """A report names the filters of the list it opens; the list declares which of its filters
    answers to each name. A name the list does not declare would silently drop the link, so it
    fails here instead."""
    from admin_views.links import declared, find_view, list_url
    from models import User
    from rules.links import PARAMETER_LISTS, ListKind

    admin = app.extensions["admin"][0]
    # The pipeline lists take plain query parameters (tests/test_pipeline_reports.py checks those).
    links_built = [link for link in _report_links(app, shop["boss"], department_id(app, "销售部"), shop["chen"])
                   if link.kind not in PARAMETER_LISTS]
    assert {link.kind for link in links_built} == {ListKind.CUSTOMER, ListKind.ORDER, ListKind.FOLLOW_UP,
                                                   ListKind.OWNERSHIP_EVENT, ListKind.TICKET}
    for link in set(links_built):
        view = find_view(admin, link.kind)
        assert view is not None, link.kind
        assert link.names() <= set(declared(view.column_filters)), (link.kind, link.names() - set(
            declared(view.column_filters)))
    from flask_login import login_user

    with app.test_request_context():
        login_user(db.session.get(User, shop["boss"]))
        assert all(list_url(admin, link) for link in set(links_built))


def test_a_filter_the_list_lacks_opens_nothing(app, shop):
    """No link beats a link to rows the chart did not count."""
    from flask_login import login_user

    from admin_views.links import list_url
    from models import User
    from rules.links import DrillFilter, ListKind, ListLink

    admin = app.extensions["admin"][0]
    with app.test_request_context():
        login_user(db.session.get(User, shop["boss"]))
        assert list_url(admin, ListLink.of(ListKind.FOLLOW_UP, {DrillFilter.OWNER: shop["chen"]}))
        assert list_url(admin, ListLink.of(ListKind.FOLLOW_UP, {DrillFilter.OWNER: shop["chen"],
                                                                DrillFilter.PROVINCE: "浙江省"})) is None


def test_every_list_kind_is_a_page_of_the_panel(app):
    from admin_views.links import find_view
    from rules.links import ListKind

    admin = app.extensions["admin"][0]
    assert [kind for kind in ListKind if find_view(admin, kind) is None] == []


def test_a_name_is_declared_once_per_list():
    from flask_admin.contrib.sqla.filters import FilterEqual

    from admin_views.links import declared, drill
    from models import Customer
    from rules.links import DrillFilter

    twice = [drill(DrillFilter.CITY, FilterEqual(Customer.city, "城市")),
             drill(DrillFilter.CITY, FilterEqual(Customer.province, "省份"))]
    with pytest.raises(ValueError):
        declared(twice)
