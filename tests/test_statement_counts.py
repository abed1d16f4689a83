"""A customer list page issues a bounded number of statements, the same for a page of three rows
as for a full page of twenty (never one per row), for a salesperson with shares (two scope
branches) and for the 总经理, with and without a quick search. The bounds are today's counts:
a change that adds a statement to every page shows up here."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from conftest import FIXED_NOW, list_table
from models import CustomerShare, db
from rules import pool

pytestmark = pytest.mark.both_dbs

# Login and actor (2), custom fields (1), the list's count and page per scope branch, shared and
# pool marks of the page's rows (1 + 3), which of the rows have an open order (1: they are exempt
# from the recycle, so their countdown is not shown), filter choices (3), the protection policy
# (1: which 取消保护 action is the default), the menu and the bell (3).
LIMITS = {
    ("sales", ""): 19,
    ("sales", "科技"): 20,  # the salesperson's 科技 on SQLite also asks how common the term is
    ("gm", ""): 16,
    ("gm", "科技"): 17,
}


@contextmanager
def counted(app) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def firm(app, make_user, make_customer):
    """rep1 owns `n` customers named 科技…, one of rep2's is shared with rep1."""
    rep1, rep2 = make_user("rep1"), make_user("rep2", department=("销售部", "销售二部"))
    make_user("boss", role="总经理", department=("总经办",))
    shared = make_customer("共享科技有限公司", rep2)
    with app.app_context():
        pool.default_pool(db.session)  # as a system in use has it (its first pool move makes it)
        db.session.add(CustomerShare(customer_id=shared, user_id=rep1, shared_by_id=rep2, mode="read_only",
                                     created_at=FIXED_NOW))
        db.session.commit()

    def grow(n: int) -> None:
        for i in range(n):
            make_customer(f"第{i}号科技有限公司", rep1 if i % 2 else rep2)
            make_customer(f"第{i}号科技贸易商行", rep1)

    return grow


def statements(app, client, term: str) -> int:
    url = "/admin/customer/" + (f"?search={term}" if term else "")
    client.get(url)  # the first request after login warms caches (custom-field columns)
    with counted(app) as seen:
        page = client.get(url)
    assert page.status_code == 200
    assert "科技" in list_table(page.get_data(as_text=True))
    return len(seen)


@pytest.mark.parametrize("who,term", list(LIMITS))
def test_a_list_page_issues_a_bounded_number_of_statements_whatever_its_rows(app, client, firm, who, term):
    firm(2)
    client.login({"sales": "rep1", "gm": "boss"}[who])
    few = statements(app, client, term)
    firm(12)  # a full page: 20 rows and more, owned by two salespeople
    many = statements(app, client, term)
    assert (few, many) == (many, many) and many <= LIMITS[(who, term)], (few, many)
