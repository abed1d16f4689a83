"""The customer list of a salesperson with customers shared to them is read as two branches
(owned, shared) and merged: the pages must show exactly what one sorted query over everything
they may see would show, page after page, in every sort order."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, list_table
from models import Customer, User, db
from rules import scope, sharing
from rules.actor import Actor

pytestmark = pytest.mark.both_dbs


@pytest.fixture
def book(app, make_user, make_customer):
    rep1 = make_user("rep1")
    rep2 = make_user("rep2")
    owned = [make_customer(f"自有客户{i:02d}", rep2) for i in range(27)]
    theirs = [make_customer(f"同事客户{i:02d}", rep1) for i in range(16)]
    with app.app_context():
        # Interleave the two branches in time; some were never followed up (empty dates).
        for n, cid in enumerate(owned + theirs):
            customer = db.session.get(Customer, cid)
            customer.last_follow_up_at = None if n % 7 == 3 else FIXED_NOW - timedelta(hours=(n * 5) % 43)
        actor = Actor.from_user(db.session.get(User, rep1), today=FIXED_NOW.date())
        for cid in theirs[:12]:
            sharing.share(db.session, db.session.get(Customer, cid), to_user=db.session.get(User, rep2),
                          mode="read_only", until=None, actor=actor, now=FIXED_NOW)
        db.session.commit()
    return rep2


def ids_on_page(html: str) -> list[int]:
    seen: list[int] = []
    for found in re.findall(r"details/\?id=(\d+)", list_table(html)):
        if int(found) not in seen:
            seen.append(int(found))
    return seen


def expected_order(app, rep2: int, order) -> list[int]:
    """One plain query over everything rep2 may see (owned OR shared), sorted by the database."""
    with app.app_context():
        actor = Actor.from_user(db.session.get(User, rep2), today=FIXED_NOW.date())
        stmt = select(Customer.id).where(scope.customer_clause(actor)).order_by(*order)
        return list(db.session.scalars(stmt))


def test_a_salesperson_with_shares_pages_through_owned_and_shared_customers_in_order(app, client, book):
    client.login("rep2")
    everything = expected_order(app, book, [Customer.last_follow_up_at.desc().nulls_last(), Customer.id.desc()])
    assert len(everything) == 27 + 12
    first = client.get("/admin/customer/")
    html = first.get_data(as_text=True)
    assert ids_on_page(html) == everything[:20]
    assert "共享" in list_table(html)  # shared rows carry their mark
    assert ids_on_page(client.get("/admin/customer/?page=1").get_data(as_text=True)) == everything[20:40]
    assert ids_on_page(client.get("/admin/customer/?page=2").get_data(as_text=True)) == []
    assert "列表 (39)" in html  # the count covers both branches


def test_merged_pages_follow_a_chosen_sort_column(app, client, book):
    client.login("rep2")
    # Column 1 of column_sortable_list is the name; the names are unique, so the order is total.
    by_name = expected_order(app, book, [Customer.name.asc()])
    html = client.get("/admin/customer/?sort=1").get_data(as_text=True)
    assert ids_on_page(html) == by_name[:20]
    by_name_desc = expected_order(app, book, [Customer.name.desc()])
    assert ids_on_page(client.get("/admin/customer/?sort=1&desc=1&page=1").get_data(as_text=True)) == \
        by_name_desc[20:40]
