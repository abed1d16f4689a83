"""customers.last_activity_at: business (orders, receipts) restarts the recycle clocks

Revision ID: 4c126212ec35
Revises: a1c3e5f7b9d2
Create Date: 2026-12-06 03:30:00

Existing customers get the latest moment one of their orders was placed, approved, shipped or
signed, so the first recycle after the upgrade already counts the business they had.
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = '4c126212ec35'
down_revision = 'a1c3e5f7b9d2'
branch_labels = None
depends_on = None

ORDER_STAMPS = ("submitted_at", "approved_at", "shipped_at", "completed_at")


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_activity_at', models.base.UTCDateTime(), nullable=True))
    for stamp in ORDER_STAMPS:
        latest = f"(SELECT MAX(o.{stamp}) FROM orders o WHERE o.customer_id = customers.id)"
        op.execute(
            f"UPDATE customers SET last_activity_at = CASE WHEN last_activity_at IS NULL OR {latest} > "
            f"last_activity_at THEN {latest} ELSE last_activity_at END "
            f"WHERE id IN (SELECT customer_id FROM orders WHERE {stamp} IS NOT NULL)")


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('last_activity_at')
