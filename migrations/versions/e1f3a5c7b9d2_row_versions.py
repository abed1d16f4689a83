"""row versions (optimistic locking) on customers, contacts, orders and products

Revision ID: e1f3a5c7b9d2
Revises: c8d2e4f6a0b1
Create Date: 2026-12-06 01:40:00

Two people editing the same record: the second save used to overwrite the first silently. Each
of these tables gets a `version` (SQLAlchemy's version_id_col) that every save checks and raises;
the rows that exist start at version 1.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e1f3a5c7b9d2'
down_revision = 'c8d2e4f6a0b1'
branch_labels = None
depends_on = None

TABLES = ("customers", "contacts", "orders", "products")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
