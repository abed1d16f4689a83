"""Issue 16 item 14: 设为首要联系人 from the contact list and from a contact row of the
customer page, within the user's scope, leaving one primary contact per customer."""
from __future__ import annotations

from sqlalchemy import select

from models import Contact, Customer, db

import pytest

pytestmark = pytest.mark.both_dbs


def company_with_contacts(app, make_customer, owner_id: int, name: str) -> tuple[int, int, int]:
    cid = make_customer(name, owner_id)
    with app.app_context():
        first = Contact(customer_id=cid, name=f"{name}张三", is_primary=True, custom={})
        second = Contact(customer_id=cid, name=f"{name}李四", is_primary=False, custom={})
        db.session.add_all([first, second])
        db.session.commit()
        return cid, first.id, second.id


def primaries(app, cid: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Contact.name).where(Contact.customer_id == cid,
                                                                  Contact.is_primary.is_(True))))


def test_a_contact_row_of_the_customer_page_makes_it_the_primary_contact(app, client, make_user, make_customer):
    uid = make_user("chenxm")
    cid, zhang, li = company_with_contacts(app, make_customer, uid, "和泰")
    client.login("chenxm")
    page = client.get(f"/admin/customer/details/?id={cid}").get_data(as_text=True)
    assert page.count('data-testid="set-primary"') == 1   # offered on 李四's row, not on the primary's
    done = client.post_form(f"/admin/customer/details/?id={cid}", {"contact_id": str(li)},
                            to="/admin/customer/primary-contact/", follow=True).get_data(as_text=True)
    assert "已将“和泰李四”设为首要联系人" in done
    assert primaries(app, cid) == ["和泰李四"]


def test_the_contact_list_action_sets_primaries_and_refuses_two_of_one_customer(app, client, make_user,
                                                                                make_customer):
    uid = make_user("chenxm")
    cid, zhang, li = company_with_contacts(app, make_customer, uid, "和泰")
    other, other_zhang, other_li = company_with_contacts(app, make_customer, uid, "瑞和")
    client.login("chenxm")
    assert "设为首要联系人" in client.get("/admin/contact/").get_data(as_text=True)
    refused = client.action("/admin/contact/", "set_primary", [zhang, li]).get_data(as_text=True)
    assert "同一客户请只选一位联系人" in refused
    assert primaries(app, cid) == ["和泰张三"]
    done = client.action("/admin/contact/", "set_primary", [li, other_li]).get_data(as_text=True)
    assert "已将 2 位联系人设为首要联系人" in done
    assert primaries(app, cid) == ["和泰李四"] and primaries(app, other) == ["瑞和李四"]


def test_someone_elses_contact_answers_404_on_both_paths(app, client, make_user, make_customer):
    make_user("chenxm")
    other = make_user("liqiang", department=("销售部", "销售二部"))
    cid, zhang, li = company_with_contacts(app, make_customer, other, "和泰")
    client.login("chenxm")
    assert client.action("/admin/contact/", "set_primary", [li], follow=False).status_code == 404
    response = client.post_form("/admin/contact/", {"contact_id": str(li)}, to="/admin/customer/primary-contact/")
    assert response.status_code == 404
    assert primaries(app, cid) == ["和泰张三"]
