"""Upgrading to the ticket search index gives the tickets written before it their rows, so the
search box finds them by a word of the subject, on SQLite (FTS5) and PostgreSQL (stored array)."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import insert, select

from app import MIGRATIONS_DIR
from conftest import FIXED_NOW, app_at_revision
from models import Customer, Role, User, db
from models.service import Ticket, TicketStatus
from rules import tickets

BEFORE = "cf51588d23a3"


def put(model, **values) -> int:
    table = model.__table__
    return db.session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_tickets_written_before_the_index_are_found_after_the_upgrade(tmp_path, kind):
    with app_at_revision(kind, tmp_path, BEFORE):
        role = put(Role, name="客服", data_scope="all", permissions=["service.view"])
        agent = put(User, username="kf", password_hash="x", display_name="客服", role_id=role, active=True)
        customer = put(Customer, name="青禾茶业", kind="company", mnemonic="qhcy", custom={}, created_at=FIXED_NOW,
                       updated_at=FIXED_NOW)
        status = put(TicketStatus, name="新建", category="open", sort_order=0, active=True, is_initial=True)
        ticket = put(Ticket, version=1, number="GD202611230001", customer_id=customer, channel="phone",
                     priority="normal", subject="紫砂壶壶盖有裂纹", created_by_id=agent, status_id=status,
                     status_category="open", reopened_count=0, custom={}, created_at=FIXED_NOW, updated_at=FIXED_NOW)
        db.session.commit()
        upgrade(directory=MIGRATIONS_DIR)
        for term in ("壶盖", "紫砂壶壶盖有裂纹", "裂"):
            assert db.session.scalars(select(Ticket.id).where(tickets.search_clause(db.session, term))).all() \
                == [ticket], term
        assert not db.session.scalars(select(Ticket.id).where(tickets.search_clause(db.session, "茶盘"))).all()
