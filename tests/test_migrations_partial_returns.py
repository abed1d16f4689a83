"""Upgrading keeps every order: a return the old code recorded against part of an order (and
which closed the whole order) becomes a partial return of an order back in the state it was in;
a return of everything stays 退货. Both keep their returned lines for the history. The old
payment-review setting gives way to the safe default."""
from __future__ import annotations

from decimal import Decimal

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import MIGRATIONS_DIR
from conftest import empty_database_app
from models import Order, OrderReturn, db
from rules import payments

BEFORE = "a1c3e5f7b9d2"
NOW = "2026-11-01 08:00:00"


def old_rows(conn) -> None:
    conn.execute(text("INSERT INTO settings (key, value) VALUES ('payment_requires_approval', '{\"v\": false}')"))
    conn.execute(text("INSERT INTO roles (id, name, data_scope, permissions, created_at, updated_at) VALUES "
                      "(1, '业务员', 'self', '[]', :now, :now)"), {"now": NOW})
    conn.execute(text("INSERT INTO users (id, username, display_name, password_hash, role_id, report_path, active, "
                      "locale, session_version, created_at, updated_at) VALUES "
                      "(1, 'chenxm', '陈晓明', 'x', 1, '/1/', true, 'zh_CN', 1, :now, :now)"), {"now": NOW})
    conn.execute(text("INSERT INTO customers (id, kind, name, owner_id, custom, has_deal, created_at, updated_at) "
                      "VALUES (1, 'company', '和泰商贸', 1, '{}', true, :now, :now)"), {"now": NOW})
    conn.execute(text("INSERT INTO products (id, code, name, cost, points, safety_stock, active, custom, created_at, "
                      "updated_at) VALUES (1, 'LJ250', '龙井250g', 10, 1, 0, true, '{}', :now, :now), "
                      "(2, 'ZSH01', '紫砂壶', 50, 2, 0, true, '{}', :now, :now)"), {"now": NOW})
    for oid, number, returned_amount, from_state in ((1, 'DD1', '100.00', 'shipped'), (2, 'DD2', '400.00', 'completed')):
        conn.execute(text(
            "INSERT INTO orders (id, number, customer_id, salesperson_id, state, order_date, tax_rate, gross, discount, "
            "total, amount_ex_tax, tax, cost, margin, returned_amount, received, refunded, points_awarded, created_at, "
            "updated_at) VALUES (:id, :number, 1, 1, 'returned', '2026-10-01', 0.13, 400, 0, 400, 353.98, 46.02, "
            "80, 273.98, :ret, 0, 0, 0, :now, :now)"), {"id": oid, "number": number, "ret": returned_amount, "now": NOW})
        conn.execute(text(
            "INSERT INTO order_lines (id, order_id, product_id, quantity, unit_price, discount_rate, amount, unit_cost, "
            "returned_quantity) VALUES (:a, :o, 1, 3, 100, 1, 300, 10, :ra), (:b, :o, 2, 1, 100, 1, 100, 50, :rb)"),
            {"a": oid * 10 + 1, "b": oid * 10 + 2, "o": oid, "ra": 1 if oid == 1 else 3, "rb": 0 if oid == 1 else 1})
        conn.execute(text(
            "INSERT INTO order_events (order_id, action, from_state, to_state, actor_id, note, at) VALUES "
            "(:o, 'return', :f, 'returned', 1, '客户退回', :now)"), {"o": oid, "f": from_state, "now": NOW})


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_old_partial_returns_reopen_their_orders_and_keep_their_lines(tmp_path, kind):
    with empty_database_app(tmp_path, kind):
        upgrade(directory=MIGRATIONS_DIR, revision=BEFORE)
        with db.engine.begin() as conn:
            old_rows(conn)
        upgrade(directory=MIGRATIONS_DIR)
        found = {o.number: o for o in db.session.scalars(select(Order))}
        assert (found["DD1"].state, found["DD1"].returned_amount) == ("shipped", Decimal("100.00"))
        assert (found["DD2"].state, found["DD2"].returned_amount) == ("returned", Decimal("400.00"))
        assert [(e.action, e.from_state, e.to_state) for e in found["DD1"].events] == [
            ("return_part", "shipped", "shipped")]
        assert [(e.action, e.to_state) for e in found["DD2"].events] == [("return", "returned")]
        rows = db.session.execute(select(OrderReturn.order_id, OrderReturn.line_id, OrderReturn.quantity,
                                         OrderReturn.amount).order_by(OrderReturn.line_id)).all()
        assert [tuple(r) for r in rows] == [(1, 11, 1, Decimal("100.00")), (2, 21, 3, Decimal("300.00")),
                                            (2, 22, 1, Decimal("100.00"))]
        # "review every payment?" left unticked does not answer "a second person?": the safe default
        assert payments.requires_approval(db.session) is True
