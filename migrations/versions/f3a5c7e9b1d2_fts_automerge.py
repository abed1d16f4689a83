"""quick search (SQLite): the FTS5 index merges 16 segments at a time instead of 4

Revision ID: f3a5c7e9b1d2
Revises: e9c1a3b5d7f0
Create Date: 2026-11-30 11:20:00

Each committed write adds a segment to customer_fts; FTS5 merges the segments of a level once
`automerge` of them exist. With 4 (the default), a 100,000-row import into a million customers
rewrote the whole index on the way: its search-row inserts took 42 s of the import, 16 s with
16. Quick search after such an import reads 28 segments instead of 24 per term, and
bench/bench_customers.py showed no difference beyond noise (SQLite 3.40, 1.09M customers).
PostgreSQL is unchanged.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f3a5c7e9b1d2'
down_revision = 'e9c1a3b5d7f0'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("INSERT INTO customer_fts(customer_fts, rank) VALUES ('automerge', 16)")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("INSERT INTO customer_fts(customer_fts, rank) VALUES ('automerge', 4)")
