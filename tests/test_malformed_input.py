"""Malformed input, the way an attacker sends it: every registered URL, with ids past 2^63,
negative paging, impossible dates, NaN money and NUL bytes, answers 4xx (or the page ignores
the value), never a 5xx. Walked on SQLite as the administrator (who reaches every page) and as a
salesperson (whose narrow scope and permissions take the refusing branches), and as the
administrator on PostgreSQL (tests/test_malformed_input_postgresql.py, a file of its own so the
suite's two halves can share the walks): the walk is the suite's slowest test, and the roles
differ in which pages they reach, not in how a database answers them. A manager's walk added
nothing the two others miss (their pages are the administrator's, their scope a wider
salesperson's) and cost a quarter of the walk."""
from __future__ import annotations

import re

import pytest
from flask import Flask

from conftest import FIXED_NOW
from models import db
from models.sales import Order

HUGE = "99999999999999999999"  # past 2^63: Python's int is fine, the database's BIGINT is not
# Values for path converters (<int:id>, <path:...>, <name>) and for every query parameter.
PATH_VALUES = {"int": [HUGE, "0"], "default": [HUGE, "abc"], "path": [HUGE, "a\x00b"]}
PARAMS = ("id", "ids", "rowid", "page", "page_size", "count", "department", "salesperson", "start", "end",
          "share_id", "amount", "offset", "limit", "search", "sort", "flt0_0", "customer_id", "days",
          "category", "quantity", "points", "paid_on", "keep", "to_user", "product_id", "plan_id")
# Values for records that exist (id 1: the customer and the order the test makes), so that the
# page gets past "not found" to the parameters it parses.
REAL = {"id": "1", "customer_id": "1", "ids": "1", "rowid": "1", "share_id": "abc", "count": HUGE,
        "department": HUGE, "salesperson": HUGE, "quantity": HUGE, "product_id": HUGE, "plan_id": HUGE}
MIXED = {name: "abc" for name in PARAMS} | {"amount": "NaN", "search": "\x00", "count": "1e309", "page": "1e309",
                                          "start": "0001-01-01", "end": "9999-12-31", "points": "1e309"}
# Every parameter at once, each request a different attack: past 2^63, negative, empty, mixed
# garbage (NaN money, a NUL search, year 1), the report range with list paging and an ajax
# look-up, and bad money/points/dates against records that exist.
BATTERY = [{name: HUGE for name in PARAMS}, {name: "-1" for name in PARAMS}, {name: "" for name in PARAMS}, MIXED,
           {"start": "0001-01-01", "end": "9999-12-31", "page": "-1", "page_size": "abc", "sort": "-1",
            "search": "a\x00b", "flt0_0": "a\x00b", "name": "customer", "query": "a\x00", "offset": "-1",
            "limit": "abc"},
           dict(REAL, amount="NaN", points=HUGE, paid_on="0001-01-01", days=HUGE),
           dict(REAL, amount="1e309", points="-1", paid_on="9999-12-31", start="9999-12-31")]
# What only a database refuses (past 2^63, NUL, NaN and infinite money, year 1 and 9999): the walk
# on PostgreSQL sends these; "-1" and "" are parsed the same before any database sees them.
DATABASE_BATTERY = [BATTERY[0], *BATTERY[3:]]

# Not walked: logout ends the session the walk runs in (destructive by design); the SSE/
# streaming endpoints never end. Everything else is walked.
SKIP_POST = {"auth.logout"}
SKIP = {"static", "admin.static"}


def _rules(app: Flask) -> list:
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint not in SKIP and
                   not r.endpoint.endswith(".static")), key=lambda r: r.rule)


def _urls(rule) -> list[str]:
    """The rule with each path converter filled with a malformed value."""
    if not rule.arguments:
        return [rule.rule]
    urls = []
    for index in range(2):
        def fill(match: re.Match) -> str:
            converter = (match.group(1) or "default").split("(")[0]
            return PATH_VALUES.get(converter, PATH_VALUES["default"])[index]
        urls.append(re.sub(r"<(?:([a-z]+(?:\([^)]*\))?):)?[a-z_]+>", fill, rule.rule))
    return urls


def _walk(app: Flask, client, token: str, battery: list[dict]) -> list[str]:
    failures = []
    for rule in _rules(app):
        for n, url in enumerate(_urls(rule)):
            for params in battery if n == 0 else battery[:1]:  # the second path value: one request
                statuses = []
                if "GET" in rule.methods:
                    response = client.get(url, query_string=params)
                    statuses.append(response.status_code)
                    if response.status_code >= 500:
                        failures.append(f"GET {url} {sorted(params.items())[:3]} -> {response.status_code}")
                        break
                if "POST" in rule.methods and rule.endpoint not in SKIP_POST:
                    response = client.post(url, query_string=params, data=dict(params, csrf_token=token))
                    statuses.append(response.status_code)
                    if response.status_code >= 500:
                        failures.append(f"POST {url} {sorted(params.items())[:3]} -> {response.status_code}")
                        break
                if statuses and set(statuses) == {403}:
                    break  # a page the role may not open refuses before it reads a parameter
    return failures


ROLES = [("admin", "系统管理员", ("总经办",)), ("sales", "业务员", ("销售部", "销售一部"))]


def walk_as(app: Flask, client, make_user, make_customer, username: str, role: str, department: tuple[str, ...],
            battery: list[dict]) -> None:
    app.config["FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.testing = False  # a crash must show as the 500 page, as a user would see it
    user_id = make_user(username, role=role, department=department)
    customer_id = make_customer("华为科技", user_id, phone="13800138000")
    with app.app_context():
        db.session.add(Order(number="SO-1", customer_id=customer_id, salesperson_id=user_id,
                             order_date=FIXED_NOW.date()))
        db.session.commit()
        assert db.session.get(Order, 1).customer_id == customer_id == 1
    assert client.login(username).status_code == 302
    token = client.token("/admin/")
    failures = _walk(app, client, token, battery)
    assert failures == [], f"{len(failures)} URLs answered 5xx:\n" + "\n".join(failures)


@pytest.mark.parametrize("app,username,role,department", [("sqlite", *role) for role in ROLES], indirect=["app"])
def test_no_url_answers_5xx_to_malformed_input(app: Flask, client, make_user, make_customer,
                                               username: str, role: str, department: tuple[str, ...]) -> None:
    walk_as(app, client, make_user, make_customer, username, role, department, BATTERY)


# --- what a person sees for the cases the issue names -------------------------------------------

def test_an_id_past_the_database_range_is_not_found_and_a_bad_date_range_is_explained(
        app: Flask, client, make_user, make_customer) -> None:
    admin = make_user("admin", role="系统管理员", department=("总经办",))
    make_customer("华为科技", admin)
    client.login("admin")
    for url in (f"/admin/order/details/?id={HUGE}", f"/admin/excel/{HUGE}/", f"/admin/customer/details/?id={HUGE}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "找不到这个页面" in response.get_data(as_text=True)
    page = client.get("/admin/reports/sales/?start=0001-01-01&end=9999-12-31").get_data(as_text=True)
    assert "开始日期应在 1900 年到 2100 年之间" in page and "结束日期应在 1900 年到 2100 年之间" in page
    response = client.post_form("/admin/customer/", {"share_id": "abc"}, to="/admin/customer/unshare/")
    assert response.status_code == 404


def test_a_nul_byte_is_refused_with_a_friendly_page_and_stripped_from_the_list_search(
        app: Flask, client, make_user, make_customer) -> None:
    admin = make_user("admin", role="系统管理员", department=("总经办",))
    make_customer("华为科技", admin)
    client.login("admin")
    assert "华为科技" in client.get("/admin/customer/", query_string={"search": "华为\x00", "page": "-1"}).get_data(as_text=True)
    response = client.get("/admin/customer/", query_string={"flt0_0": "a\x00"})
    assert response.status_code == 400
    assert "请求中有无法识别的字符" in response.get_data(as_text=True)
