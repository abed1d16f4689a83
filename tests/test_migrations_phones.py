"""Upgrading rewrites the numbers old releases stored as typed (floats from Excel, +86, spaces,
full-width digits) in the canonical form, leaves a value that is no number as it was, and the
duplicate check and quick search find the rewritten numbers however they are typed."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import MIGRATIONS_DIR
from conftest import app_at_revision
from models import Contact, Customer, CustomerKey, db
from rules import customers, search

FIRST_RELEASE = "b7d840e9fed1"
NOW = "2026-11-01 08:00:00"


def messy_rows(conn) -> None:
    conn.execute(text("INSERT INTO roles (id, name, data_scope, permissions, created_at, updated_at) VALUES "
                      "(1, '业务员', 'self', '[]', :now, :now)"), {"now": NOW})
    conn.execute(text(
        "INSERT INTO users (id, username, display_name, password_hash, role_id, report_path, active, locale, "
        "session_version, created_at, updated_at) VALUES (1, 'chenxm', '陈晓明', 'x', 1, '/1/', true, 'zh_CN', 1, "
        ":now, :now)"), {"now": NOW})
    conn.execute(text(
        "INSERT INTO customers (id, kind, name, phone, mobile, owner_id, custom, has_deal, created_at, updated_at) "
        "VALUES (1, 'company', '沧州宏达机械', '0317 7149 0681', '13812345678.0', 1, '{}', false, :now, :now), "
        "(2, 'company', '北京乙贸易', '+86 10 8888 8888', '＋８６ １３９ ００１３ ９０００', 1, '{}', false, :now, :now), "
        "(3, 'person', '王小明', '电话见备注', NULL, 1, '{}', false, :now, :now)"), {"now": NOW})
    conn.execute(text(
        "INSERT INTO contacts (id, customer_id, name, is_primary, mobile, phone, custom, created_at, updated_at) "
        "VALUES (1, 1, '刘工', true, '0086 137 0013 7000', '(0317)71490682', '{}', :now, :now)"), {"now": NOW})
    # keys and search rows as the old release wrote them: phones as bare digits
    for cid, field, value in ((1, "phone", "031771490681"), (1, "mobile", "138123456780"), (1, "mobile", "13700137000"),
                              (2, "phone", "1088888888"), (2, "mobile", "13900139000"), (3, "phone", "")):
        conn.execute(text("INSERT INTO customer_keys (customer_id, field, value) VALUES (:c, :f, :v)"),
                     {"c": cid, "f": field, "v": value})
    for cid, values in ((1, ["沧州宏达机械", "0317 7149 0681", "13812345678.0", "刘工"]),
                        (2, ["北京乙贸易", "+86 10 8888 8888"]), (3, ["王小明", "电话见备注"])):
        row = search.index_row(cid, [search.normalised(v) for v in values])
        conn.execute(text("INSERT INTO customer_search (customer_id, body, tokens) VALUES (:customer_id, :body, "
                          ":tokens)"), row)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrade_stores_old_numbers_clean_and_they_are_found_again(tmp_path, kind, capfd):
    with app_at_revision(kind, tmp_path, FIRST_RELEASE):
        with db.engine.begin() as conn:
            messy_rows(conn)
        upgrade(directory=MIGRATIONS_DIR)  # logs through alembic.ini's console handler
        rows = {c.id: (c.phone, c.mobile) for c in db.session.scalars(select(Customer))}
        assert rows == {1: ("0317-71490681", "13812345678"), 2: ("010-88888888", "13900139000"),
                        3: ("电话见备注", None)}  # no number: left as it was, and said so
        assert "customer 3 phone='电话见备注'" in capfd.readouterr().err
        contact = db.session.get(Contact, 1)
        assert (contact.mobile, contact.phone) == ("13700137000", "0317-71490682")
        keys = set(db.session.execute(select(CustomerKey.customer_id, CustomerKey.field, CustomerKey.value)
                                      .where(CustomerKey.field.in_(["phone", "mobile"]))).all())
        assert {(1, "phone", "0317-71490681"), (1, "mobile", "13812345678"), (1, "phone", "0317-71490682"),
                (1, "mobile", "13700137000"), (2, "phone", "010-88888888")} <= keys
        assert not any(v == "138123456780" or v == "1088888888" for _c, _f, v in keys)
        # the duplicate check finds them, typed any way
        for typed, owner in (("+86 317 7149 0681", "沧州宏达机械"), ("010 8888 8888", "北京乙贸易"),
                             ("0317-7149-0682", "沧州宏达机械")):
            new = Customer(name="新客户", phone=typed, kind="company", custom={})
            issues = customers.entry_issues(db.session, new, [])
            assert any(owner in i.message and i.field == "phone" for i in issues), typed
        for term, expected in (("0317 7149 0681", ["沧州宏达机械"]), ("13812345678", ["沧州宏达机械"]),
                               ("010-88888888", ["北京乙贸易"]), ("139 0013 9000", ["北京乙贸易"])):
            where = search.clause(db.session, term)
            assert list(db.session.scalars(select(Customer.name).where(where))) == expected, term
