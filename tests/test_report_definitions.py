"""What the report pages count, as a user reads it (issue 16): 新增客户 by creator, not by today's
owner; 客户数量报表 over the customers that exist now; 搁置/流失 beside the funnel; custom fields
as a dimension; and the 统计口径 block on every report page."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from html import unescape

import pytest
from sqlalchemy import select

from conftest import list_table
from models import Customer, OwnershipEvent, db
from models.dictionary import DictItem, DictKind
from models.org import User
from models.system import CustomField
from rules import reports
from rules.actor import Actor

UTC = timezone.utc
RANGE = "start=2026-01-01&end=2026-11-23"
FILTERS = reports.Filters(start=date(2026, 1, 1), end=date(2026, 11, 23))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def team(app, make_user):
    return {"boss": make_user("boss", role="总经理", department=("总经办",), display_name="张总"),
            "li": make_user("li", role="业务员", display_name="李强"),
            "wang": make_user("wang", role="业务员", display_name="王芳")}


def _stage(name: str) -> int:
    return db.session.scalar(select(DictItem.id).where(DictItem.kind == DictKind.STAGE, DictItem.name == name))


def add_customer(name: str, *, owner: int | None, creator: int | None, created: datetime, province: str = "浙江省",
                 stage: str | None = None, custom: dict | None = None) -> int:
    owner_user = db.session.get(User, owner) if owner else None
    c = Customer(name=name, owner_id=owner, created_by_id=creator, department_id=owner_user.department_id if owner_user else None,
                 province=province, created_at=created, updated_at=created, stage_id=_stage(stage) if stage else None,
                 custom=custom or {})
    db.session.add(c)
    db.session.flush()
    return c.id


def page_table(html: str) -> list[list[str]]:
    table = re.search(r'id="kechi-report-table".*?</table>', html, re.S).group(0)
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)])
    return rows


def row(table: list[list[str]], name: str) -> list[str]:
    return next(r for r in table if r and r[0] == name)


def login(new_client, username):
    client = new_client()
    client.login(username)
    return client


# --- item 6: 新增客户 by creator and creation date ----------------------------------------------

def test_new_customers_stay_with_their_creator_after_a_recycle_and_a_transfer(app, team, new_client):
    with app.app_context():
        ids = [add_customer(f"李强客户{i}", owner=team["li"], creator=team["li"], created=utc(2026, 3, i + 1))
               for i in range(3)]
        # the daily recycle takes one back to the pool, a manager gives another to 王芳
        db.session.execute(Customer.__table__.update().where(Customer.id == ids[0]).values(owner_id=None))
        db.session.add(OwnershipEvent(customer_id=ids[0], from_user_id=team["li"], reason="recycle", at=utc(2026, 6, 1)))
        db.session.execute(Customer.__table__.update().where(Customer.id == ids[1]).values(owner_id=team["wang"]))
        db.session.commit()
    boss = login(new_client, "boss")
    html = boss.get(f"/admin/reports/salespeople/?{RANGE}").get_data(as_text=True)
    table = page_table(html)
    new_column = table[0].index("新增客户")
    assert row(table, "李强")[new_column] == "3"
    assert all(r[0] != "王芳" or r[new_column] == "0" for r in table)
    assert "按创建人和创建时间计" in html


# --- item 7: 客户数量报表 counts the customers that exist now --------------------------------------

def test_customer_counts_cover_every_customer_unless_a_creation_range_is_asked_for(app, team, new_client):
    with app.app_context():
        add_customer("去年的客户", owner=team["li"], creator=team["li"], created=utc(2025, 6, 1))
        add_customer("今年的客户", owner=team["li"], creator=team["li"], created=utc(2026, 6, 1))
        add_customer("池中客户", owner=None, creator=None, created=utc(2024, 6, 1), province="江苏省")
        db.session.commit()
    boss = login(new_client, "boss")
    default = page_table(boss.get("/admin/reports/customers/?by=province").get_data(as_text=True))
    assert row(default, "浙江省")[1] == "2" and row(default, "江苏省")[1] == "1"
    assert row(default, "合计")[1] == "3"
    cleared = page_table(boss.get("/admin/reports/customers/?by=province&start=&end=").get_data(as_text=True))
    assert row(cleared, "合计")[1] == "3"
    dated = page_table(boss.get(f"/admin/reports/customers/?by=province&{RANGE}&dated=1").get_data(as_text=True))
    assert row(dated, "合计")[1] == "1"


# --- item 8: the funnel's steps, and 搁置/流失 beside it -------------------------------------------

@pytest.mark.both_dbs
def test_stages_beside_the_funnel_are_counted_apart(app, team, new_client):
    with app.app_context():
        db.session.add(DictItem(kind=DictKind.STAGE, name="流失", sort_order=9, funnel_step=False))
        db.session.flush()
        for i, stage in enumerate(["初步接触", "成交", "成交", "搁置", "搁置", "搁置", "流失"]):
            add_customer(f"客户{i}", owner=team["li"], creator=team["li"], created=utc(2026, 5, 1), stage=stage)
        db.session.commit()
        table = reports.funnel(db.session, Actor.from_user(db.session.get(User, team["boss"]), today=date(2026, 11, 23)),
                               FILTERS)
    names = [r["name"] for r in table.rows]
    assert "搁置" not in names and "流失" not in names
    by_name = {r["name"]: r for r in table.rows}
    assert by_name["初步接触"]["reached"] == 3
    assert (by_name["成交"]["at"], by_name["成交"]["reached"]) == (2, 2)
    assert all(r["conversion"] is None or r["conversion"] <= 100 for r in table.rows)
    assert {a["name"]: a["at"] for a in table.extra["apart"]} == {"搁置": 3, "流失": 1}

    html = login(new_client, "boss").get(f"/admin/reports/funnel/?{RANGE}").get_data(as_text=True)
    shown = page_table(html)
    assert "搁置" not in [r[0] for r in shown]
    apart = re.search(r'id="kechi-funnel-apart".*?</table>', html, re.S).group(0)
    assert "搁置" in apart and "流失" in apart and ">3<" in apart


# --- item 11: a custom field as a dimension of 客户数量报表 ----------------------------------------

@pytest.mark.both_dbs
def test_a_choice_custom_field_is_a_dimension_scoped_with_drill_down(app, team, new_client):
    with app.app_context():
        db.session.add(CustomField(entity="customer", key="grade", label="客户级别", field_type="choice",
                                   options=["战略客户", "普通客户"], statistics=True, searchable=True))
        db.session.add(CustomField(entity="customer", key="tags", label="标签", field_type="multi_choice",
                                   options=["老客户", "转介绍"], statistics=True, searchable=True))
        add_customer("李一", owner=team["li"], creator=team["li"], created=utc(2026, 1, 2),
                     custom={"grade": "战略客户", "tags": ["老客户", "转介绍"]})
        add_customer("李二", owner=team["li"], creator=team["li"], created=utc(2026, 1, 2), custom={"grade": "普通客户"})
        add_customer("王一", owner=team["wang"], creator=team["wang"], created=utc(2026, 1, 2),
                     custom={"grade": "战略客户", "tags": ["老客户"]})
        add_customer("王二", owner=team["wang"], creator=team["wang"], created=utc(2026, 1, 2))
        db.session.commit()
    boss = login(new_client, "boss")
    html = boss.get("/admin/reports/customers/").get_data(as_text=True)
    assert '<option value="cf_grade"' in html and '<option value="cf_tags"' in html
    html = boss.get("/admin/reports/customers/?by=cf_grade").get_data(as_text=True)
    table = page_table(html)
    assert table[0][0] == "客户级别"
    assert (row(table, "战略客户")[1], row(table, "普通客户")[1], row(table, "未设置")[1]) == ("2", "1", "1")
    link = unescape(re.search(r'<a href="(/admin/customer/\?[^"]+)">战略客户</a>', html).group(1))
    listed = list_table(boss.get(link).get_data(as_text=True))
    assert "李一" in listed and "王一" in listed and "李二" not in listed and "王二" not in listed
    tags = page_table(boss.get("/admin/reports/customers/?by=cf_tags").get_data(as_text=True))
    assert (row(tags, "老客户")[1], row(tags, "转介绍")[1]) == ("2", "1")

    li = login(new_client, "li")
    html = li.get("/admin/reports/customers/?by=cf_grade").get_data(as_text=True)
    table = page_table(html)
    assert (row(table, "战略客户")[1], row(table, "普通客户")[1]) == ("1", "1")
    link = unescape(re.search(r'<a href="(/admin/customer/\?[^"]+)">战略客户</a>', html).group(1))
    listed = list_table(li.get(link).get_data(as_text=True))
    assert "李一" in listed and "王一" not in listed


# --- 统计口径 on every report page ----------------------------------------------------------------

def test_every_report_page_says_what_it_counts(app, team, new_client):
    pages = ["sales", "products", "salespeople", "customer-sales", "customers", "new-customers", "follow-ups",
             "pool", "funnel"]
    for username, scope in (("boss", "全部"), ("li", "本人")):
        client = login(new_client, username)
        for path in pages:
            html = client.get(f"/admin/reports/{path}/").get_data(as_text=True)
            block = re.search(r'id="kechi-report-definition".*?</ul>', html, re.S)
            assert block is not None, path
            text = unescape(re.sub(r"<[^>]+>", " ", block.group(0)))
            assert "统计口径" in text and f"您的数据范围（{scope}）" in text and "时效" in text, path
            assert len(re.findall(r"<li>", block.group(0))) >= 3, path
