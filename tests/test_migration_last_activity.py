"""Upgrading to customers.last_activity_at keeps every customer and stamps each with the latest
moment one of its orders was placed, approved, shipped or signed, so the first recycle after
the upgrade already counts the business customers had."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import MIGRATIONS_DIR
from conftest import empty_database_app
from models import Customer, db
from test_migrations_keep_data import FIRST_RELEASE, NOW, release_one_rows

BEFORE = "a1c3e5f7b9d2"
MONEY = "tax_rate, gross, discount, total, amount_ex_tax, tax, cost, margin, returned_amount, received, refunded"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrade_stamps_customers_with_their_latest_order_move(tmp_path, kind):
    with empty_database_app(tmp_path, kind):
        upgrade(directory=MIGRATIONS_DIR, revision=FIRST_RELEASE)
        with db.engine.begin() as conn:
            release_one_rows(conn)
        upgrade(directory=MIGRATIONS_DIR, revision=BEFORE)
        with db.engine.begin() as conn:
            # Customer 1: placed on 11-02, shipped on 11-05 (and an older order); customer 2: none.
            for oid, number, submitted, shipped in ((1, "DD1", "2026-11-02 08:00:00", "2026-11-05 09:30:00"),
                                                    (2, "DD2", "2026-10-01 08:00:00", None)):
                conn.execute(text(
                    f"INSERT INTO orders (id, version, number, customer_id, salesperson_id, state, order_date, "
                    f"{MONEY}, points_awarded, submitted_at, shipped_at, created_at, updated_at) VALUES "
                    f"(:id, 1, :number, 1, 1, 'shipped', '2026-11-02', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
                    f":submitted, :shipped, :now, :now)"),
                    {"id": oid, "number": number, "submitted": submitted, "shipped": shipped, "now": NOW})
        upgrade(directory=MIGRATIONS_DIR)
        stamps = dict(db.session.execute(select(Customer.id, Customer.last_activity_at).order_by(Customer.id)).all())
        assert stamps == {1: datetime(2026, 11, 5, 9, 30, tzinfo=timezone.utc), 2: None}
