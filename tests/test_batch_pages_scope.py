"""Scope truth table of the pages that take ids in the URL (a list's batch action leads to them,
and anyone can type the URL): 指派, 共享, 放弃, 合并, 发短信/邮件, 拒收, 启动自动化方案 and the
order batch moves. For each page: ids in the actor's scope show the page; one id outside it, or
one that does not exist, refuses the whole page with 404, and no name outside the scope appears
(a 主管 asking /admin/customer/assign/?ids=1..400 used to read every customer's name).
Run on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from test_rules_orders import new_order, shop  # noqa: F401 - fixture

pytestmark = pytest.mark.both_dbs

OUTSIDE = "远方公司"  # rep2's customer, in another department than the 主管's
MISSING = 987654

# page → (URL with {ids}, whether its ids are orders rather than customers)
PAGES = {
    "assign": ("/admin/customer/assign/?ids={ids}", False),
    "share": ("/admin/customer/share/?ids={ids}", False),
    "release": ("/admin/customer/release/?ids={ids}", False),
    "merge": ("/admin/customer/merge/?ids={ids}", False),
    "send_message": ("/admin/message_send/?ids={ids}", False),
    "opt_out": ("/admin/message_send/optout/?ids={ids}", False),
    "sfa_start": ("/admin/sfa_enrollment/start/?ids={ids}", False),
    "order_cancel": ("/admin/order/batch/cancel/?ids={ids}", True),
}
CASES = {"in_scope": 200, "one_outside": 404, "one_missing": 404}


@pytest.fixture
def department(app, shop, make_user, make_customer):
    """A 主管 of 销售一部 (rep's department); rep2 works in 销售二部."""
    make_user("sup", role="主管")
    mine = [shop["customer"], make_customer("华星二号", shop["rep"])]
    orders = [new_order(app, shop), new_order(app, shop)]
    outside_order = new_order(app, shop, who="rep2", customer="other_customer")
    return {"customers": (mine, shop["other_customer"]), "orders": (orders, outside_order)}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("page", list(PAGES))
def test_pages_taking_ids_show_only_the_scope_or_refuse(app, new_client, department, page, case):
    url, of_orders = PAGES[page]
    inside, outside = department["orders" if of_orders else "customers"]
    ids = {"in_scope": inside, "one_outside": [*inside, outside], "one_missing": [*inside, MISSING]}[case]
    client = new_client()
    client.login("sup")
    response = client.get(url.format(ids=",".join(str(i) for i in ids)))
    body = response.get_data(as_text=True)
    assert response.status_code == CASES[case], body[:500]
    assert OUTSIDE not in body
    if case == "in_scope":
        assert "华星贸易" in body
