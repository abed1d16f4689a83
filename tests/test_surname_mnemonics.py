"""Issue 16 item 15: a surname is read as a surname in 助记码 and quick search (曾广银 → zgy, not
cgy; 单 → s, not d), for person customers, contacts and companies named after a surname."""
from __future__ import annotations

import pytest

from conftest import list_table
from rules import normalize


@pytest.mark.parametrize("name,person,expected", [
    ("曾广银", True, "zgy"), ("单雄信", True, "sxx"), ("尉迟恭", True, "ycg"), ("翟天临", True, "ztl"),
    ("仇英", True, "qy"), ("王小明", True, "wxm"),
    ("曾记粥铺", False, "zjzp"), ("查氏餐饮", False, "zscy"), ("单家小馆", False, "sjxg"),  # family shops
    ("单位食堂", False, "dwst"), ("曾经沧海茶馆", False, "cjchcg"),   # not surnames
    ("乐视网络", False, "lswl"), ("区块链科技", False, "qklkj"), ("句容建材", False, "jrjc"),   # brands
    ("华为技术", False, "hwjs"), ("重庆银行", False, "cqyh"),
])
def test_initials_read_surnames_as_surnames(name, person, expected):
    assert normalize.mnemonic(name, person=person) == expected


@pytest.mark.both_dbs
def test_quick_search_finds_a_person_and_a_contact_by_their_surname_initials(app, client, admin_id):
    client.login("admin")
    client.post_form("/admin/customer/new/", {"kind": "person", "name": "曾广银"}, follow=True)
    client.post_form("/admin/customer/new/", {"kind": "company", "name": "和泰商贸", "contacts-0-name": "单雄信",
                                              "contacts-0-mobile": "13911112222"}, follow=True)
    found = list_table(client.get("/admin/customer/?search=zgy").get_data(as_text=True))
    assert "曾广银" in found
    found = list_table(client.get("/admin/customer/?search=sxx").get_data(as_text=True))
    assert "和泰商贸" in found and "曾广银" not in found


def test_reindex_customers_rebuilds_stale_initials_without_touching_the_record(app, runner, make_user):
    from sqlalchemy import select

    from models import Contact, Customer, CustomerSearch, db
    from rules import search

    uid = make_user("chenxm")
    with app.app_context():   # as the code before the surname rule stored them
        zeng = Customer(name="曾广银", kind="person", mnemonic="cgy", owner_id=uid, custom={})
        company = Customer(name="和泰商贸", kind="company", mnemonic="htsm", owner_id=uid, custom={})
        company.contacts = [Contact(name="单雄信", custom={})]
        db.session.add_all([zeng, company])
        db.session.flush()
        db.session.add_all([CustomerSearch(**search.index_row(zeng.id, ["曾广银", "cgy"])),
                            CustomerSearch(**search.index_row(company.id, ["和泰商贸", "htsm", "单雄信"]))])
        db.session.commit()
        before = (zeng.version, zeng.updated_at)
    result = runner.invoke(args=["reindex-customers"])
    assert "已重建客户助记码和搜索索引" in result.output
    with app.app_context():
        found = {term: list(db.session.scalars(select(Customer.name).where(search.clause(db.session, term))))
                 for term in ("zgy", "sxx")}
        assert found == {"zgy": ["曾广银"], "sxx": ["和泰商贸"]}
        again = db.session.scalar(select(Customer).where(Customer.name == "曾广银"))
        assert again.mnemonic == "zgy" and (again.version, again.updated_at) == before
