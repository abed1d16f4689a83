"""A return address never leads off the site. Every page that takes one from the request or the
database (the login's `next`, the assign page's `back`, the order batch page's `url`, the
language switch's referrer, a notification's stored link, the 返回列表 of a record page, a
record form's save) sends the user, or links them, to a page of this site: an address that a
browser would read as another host or as a script is replaced by the page's own default; a local
address is kept."""
from __future__ import annotations

import html
import re
from collections.abc import Callable
from itertools import count
from datetime import date
from urllib.parse import quote, urlsplit

import pytest

from conftest import FIXED_NOW
from models import Notification, Order, db

HOSTILE = ["//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)",
           "/\\/evil.example/", "https:evil.example", " //evil.example", "//evil.example/%2F.."]
LOCAL = "/admin/customer/?search=%E5%8D%8E%E6%98%9F&page=1"


def on_site(address: str) -> bool:
    """A path on this host, read the same way by every browser."""
    parts = urlsplit(address)
    return (address.startswith("/") and not address.startswith("//") and "\\" not in address
            and not parts.scheme and not parts.netloc)


@pytest.fixture
def site(app, make_user, make_customer, admin_id):
    app.config["CLOCK"] = lambda: FIXED_NOW
    rep = make_user("rep1", display_name="陈晓明")
    customer = make_customer("华星贸易", rep)
    return {"admin": admin_id, "rep": rep, "customer": customer}


ORDER_NUMBERS = count(1)


def new_order(app, site) -> int:
    with app.app_context():
        order = Order(number=f"XS-TEST-{next(ORDER_NUMBERS):04d}", customer_id=site["customer"], salesperson_id=site["rep"],
                      order_date=date(2026, 11, 20))
        db.session.add(order)
        db.session.commit()
        return order.id


def location(response) -> str:
    assert response.status_code in (301, 302, 303), response.status_code
    return response.headers["Location"]


def link(response, pattern: str) -> str:
    assert response.status_code == 200, response.status_code
    found = re.search(pattern, response.get_data(as_text=True))
    assert found, f"no {pattern!r} on the page"
    return html.unescape(found.group(1))


# Each page: given a logged-in admin client (or a fresh one for the login page) and a return
# address, where the page sends or links the user.

def assign_done(client, app, site, target: str) -> str:
    ids = site["customer"]
    return location(client.post_form(f"/admin/customer/assign/?ids={ids}&back={quote(target)}",
                                     {"to_user": str(site["rep"])}))


def assign_cancel_link(client, app, site, target: str) -> str:
    page = client.get(f"/admin/customer/assign/?ids={site['customer']}&back={quote(target)}")
    return link(page, r'<a class="btn btn-secondary" href="([^"]*)">')


def login_next(client, app, site, target: str) -> str:
    client.logout()
    token = client.token("/login")
    return location(client.post(f"/login?next={quote(target)}",
                                data={"username": "admin", "password": "secret-123", "csrf_token": token}))


def login_page_when_logged_in(client, app, site, target: str) -> str:
    return location(client.get(f"/login?next={quote(target)}"))


def language_switch(client, app, site, target: str) -> str:
    referrer = "http://localhost" + target if target == LOCAL else target  # browsers send it absolute
    return location(client.get("/lang/zh_CN", headers={"Referer": referrer}))


def order_batch_done(client, app, site, target: str) -> str:
    order_id = new_order(app, site)
    form_url = f"/admin/order/batch/cancel/?ids={order_id}&url={quote(target)}"
    return location(client.post_form(form_url, {"reason": "客户要求"}))


def order_batch_back_link(client, app, site, target: str) -> str:
    order_id = new_order(app, site)
    page = client.get(f"/admin/order/batch/cancel/?ids={order_id}&url={quote(target)}")
    return link(page, r'<a class="btn btn-secondary" href="([^"]*)">')


def notification_opened(client, app, site, target: str) -> str:
    with app.app_context():
        note = Notification(user_id=site["admin"], title="提醒", link=target, created_at=FIXED_NOW)
        db.session.add(note)
        db.session.commit()
        note_id = note.id
    return location(client.get(f"/admin/notification/open/{note_id}"))


def customer_back_to_list(client, app, site, target: str) -> str:
    page = client.get(f"/admin/customer/details/?id={site['customer']}&url={quote(target)}")
    return link(page, r'href="([^"]*)"><i class="fa fa-arrow-left">')


def order_back_to_list(client, app, site, target: str) -> str:
    order_id = new_order(app, site)
    page = client.get(f"/admin/order/details/?id={order_id}&url={quote(target)}")
    return link(page, r'href="([^"]*)"><i class="fa fa-arrow-left">')


def record_saved(client, app, site, target: str) -> str:
    """Flask-Admin's own create/edit pages (their `url=`, checked by the library's is_safe_url)."""
    form_url = f"/admin/dict_item/new/?url={quote(target)}"
    return location(client.post_form(form_url, {"kind": "source", "name": f"来源{next(ORDER_NUMBERS)}",
                                                "sort_order": "9", "active": "y"}))


PAGES: list[Callable[..., str]] = [
    assign_done, assign_cancel_link, login_next, login_page_when_logged_in, language_switch, order_batch_done,
    order_batch_back_link, notification_opened, customer_back_to_list, order_back_to_list, record_saved,
]


@pytest.mark.parametrize("page", PAGES, ids=[p.__name__ for p in PAGES])
def test_a_return_address_stays_on_the_site(app, client, site, page):
    client.login("admin")
    leaks = []
    for target in HOSTILE:
        where = page(client, app, site, target)
        if not on_site(where):
            leaks.append(f"{target!r} → {where!r}")
    assert not leaks, f"{page.__name__} leads off the site:\n" + "\n".join(leaks)
    assert page(client, app, site, LOCAL) == LOCAL, "a local return address is kept as it is"
