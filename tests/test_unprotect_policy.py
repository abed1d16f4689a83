"""取消保护 as a policy (issue 16 item 13): a salesperson may keep the customer or give it back
to the pool; the administrator chooses which of the two is the default."""
from __future__ import annotations

from sqlalchemy import select

from models import Customer, OwnershipEvent, db
from rules import pool as pool_rules

SETTINGS = {"customer_code_pattern": "KH{yyyy}{seq:05d}", "dup_name": "allow", "pool_enabled": "1",
            "protect_max_protected": "20", "protect_days": "30", "protect_warn_days": "3",
            "protect_on_collision": "warn"}


def _protected(app, client, make_customer, rep: int, name: str) -> int:
    cid = make_customer(name, rep)
    assert "已保护 1 位客户" in client.action("/admin/customer/", "protect", [cid]).get_data(as_text=True)
    return cid


def test_unprotect_keeps_the_customer_and_unprotect_and_release_puts_it_back_in_the_pool(
        app, client, make_user, make_customer):
    rep = make_user("rep1", display_name="陈晓明")
    client.login("rep1")
    kept = _protected(app, client, make_customer, rep, "和泰网络有限公司")
    released = _protected(app, client, make_customer, rep, "泰麒麟信息")

    done = client.action("/admin/customer/", "unprotect", [kept]).get_data(as_text=True)
    assert "已取消保护 1 位客户，仍由您跟进" in done
    done = client.action("/admin/customer/", "unprotect_release", [released]).get_data(as_text=True)
    assert "已取消保护 1 位客户，并放回客户池" in done

    with app.app_context():
        stays = db.session.get(Customer, kept)
        assert stays.owner_id == rep and stays.protected_until is None
        gone = db.session.get(Customer, released)
        assert gone.owner_id is None and gone.protected_until is None
        assert gone.pool_id == pool_rules.home_pool(db.session, rep) and gone.pool_reason == "released"
        event = db.session.scalar(select(OwnershipEvent).where(OwnershipEvent.customer_id == released,
                                                               OwnershipEvent.reason == "release"))
        assert event.from_user_id == rep and event.note == "取消保护并放回客户池"
    # The released customer is in the pool for everyone to claim; the kept one is not.
    pool_page = client.get("/admin/pool/").get_data(as_text=True)
    assert "泰麒麟信息" in pool_page and "和泰网络有限公司" not in pool_page


def test_the_administrator_chooses_the_default_way_to_unprotect(app, client, new_client, admin_id, make_user):
    make_user("rep1")
    rep = new_client()
    rep.login("rep1")

    page = rep.get("/admin/customer/").get_data(as_text=True)
    assert page.index("取消保护（默认）") < page.index("取消保护并放回客户池")
    assert "取消保护并放回客户池（默认）" not in page

    client.login("admin")
    settings_page = client.get("/admin/customer_settings/").get_data(as_text=True)
    assert "取消保护的默认做法" in settings_page
    client.post_form("/admin/customer_settings/", {**SETTINGS, "protect_on_unprotect": "release"})
    assert 'value="release" selected' in client.get("/admin/customer_settings/").get_data(as_text=True)
    page = rep.get("/admin/customer/").get_data(as_text=True)
    assert "取消保护并放回客户池（默认）" in page and "取消保护（默认）" not in page
    assert page.index("取消保护并放回客户池（默认）") < page.index(">取消保护<")
