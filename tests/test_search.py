"""Quick search: Chinese substrings of any length, pinyin initials, phone fragments, contact
names; the same answer as a plain scan; scope still applies."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import list_table
from models import Contact, Customer, db
from rules import customers, scope, search
from rules.actor import Actor
from models import User

pytestmark = pytest.mark.both_dbs

NAMES = ["北京华远科技有限公司", "华为技术有限公司", "上海华润万家超市", "深圳市腾讯计算机系统有限公司",
         "杭州海康威视数字技术股份有限公司", "科大讯飞股份有限公司", "小米科技有限责任公司", "王小明",
         "100% 纯净水厂", "A_B 贸易行"]


@pytest.fixture
def book(app, make_user, make_customer):
    rep = make_user("rep1")
    other = make_user("rep2")
    ids = {}
    for i, name in enumerate(NAMES):
        ids[name] = make_customer(name, rep, phone=f"0571-8888{i:04d}")
    theirs = make_customer("华远国际（他人的）", other)
    with app.app_context():
        first = db.session.get(Customer, ids["华为技术有限公司"])
        first.mobile = "+86 138-0013-8000"
        db.session.add(Contact(customer_id=first.id, name="任正非", is_primary=True, mobile="13912345678"))
        db.session.flush()
        customers.reindex(db.session, first)
        db.session.commit()
    return rep, ids, theirs


def run(app, term: str, username: str = "rep1") -> set[str]:
    with app.app_context():
        actor = Actor.from_user(db.session.scalar(select(User).where(User.username == username)))
        where = search.clause(db.session, term)
        stmt = scope.scoped(select(Customer.name), Customer, actor).where(where)
        return set(db.session.scalars(stmt))


def plain_scan(app, term: str) -> set[str]:
    """What a user means: the term appears in one of the searchable values."""
    needle = search.normalised(term)
    with app.app_context():
        found = set()
        for customer in db.session.scalars(select(Customer).where(Customer.owner_id.is_not(None))):
            values = search.searchable_values(customer, customer.contacts)
            if any(needle in v for v in values) and customer.owner.username == "rep1":
                found.add(customer.name)
        return found


CASES = [
    ("华", {"北京华远科技有限公司", "华为技术有限公司", "上海华润万家超市"}),
    ("科技", {"北京华远科技有限公司", "小米科技有限责任公司"}),
    ("华远科技", {"北京华远科技有限公司"}),
    ("bjhy", {"北京华远科技有限公司"}),
    ("BJ", {"北京华远科技有限公司"}),
    ("1380", {"华为技术有限公司"}),
    ("13800138000", {"华为技术有限公司"}),
    ("任正非", {"华为技术有限公司"}),
    ("13912", {"华为技术有限公司"}),
    ("100%", {"100% 纯净水厂"}),
    ("a_b", {"A_B 贸易行"}),
    ("ＫＤＸＦ", {"科大讯飞股份有限公司"}),
    ("不存在的公司", set()),
]


@pytest.mark.parametrize("term,expected", CASES)
def test_quick_search_finds_what_a_plain_scan_finds(app, book, term, expected):
    assert run(app, term) == expected
    assert run(app, term) == plain_scan(app, term)


@pytest.mark.parametrize("term,expected", CASES)
def test_checking_a_few_rows_one_by_one_finds_what_the_index_finds(app, book, term, expected):
    """The shared-with-me part of a salesperson's list checks its rows one by one
    (clause_among_few); it must agree with the index for every kind of term."""
    with app.app_context():
        by_index = set(db.session.scalars(select(Customer.name).where(search.clause(db.session, term))))
        one_by_one = set(db.session.scalars(select(Customer.name).where(search.clause_among_few(term))))
    assert one_by_one == by_index
    assert expected <= one_by_one


def test_scope_applies_to_search_results(app, book):
    assert "华远国际（他人的）" not in run(app, "华远")
    assert run(app, "华远", "rep2") == {"华远国际（他人的）"}


def test_the_list_page_search_box_uses_quick_search(app, client, book):
    client.login("rep1")
    table = list_table(client.get("/admin/customer/?search=任正非").get_data(as_text=True))
    assert "华为技术有限公司" in table and "小米" not in table
    table = list_table(client.get("/admin/customer/?search=华远").get_data(as_text=True))
    assert "北京华远科技有限公司" in table and "华远国际" not in table


def test_renaming_a_customer_updates_the_index(app, client, book):
    _rep, ids, _ = book
    client.login("rep1")
    client.post_form(f"/admin/customer/edit/?id={ids['王小明']}", {"kind": "person", "name": "王大明"})
    assert run(app, "大明") == {"王大明"} and run(app, "小明") == set()
