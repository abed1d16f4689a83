"""customers: live customers per owner and last follow-up

Revision ID: c7e3a9d2b4f1
Revises: ab921d5b9051
Create Date: 2026-11-30 09:12:00

客户跟进报表's "not followed up for N days" counts live customers per owner by their last
follow-up; this partial index answers it without reading the customer rows.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e3a9d2b4f1'
down_revision = 'ab921d5b9051'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_live_owner', ['owner_id', 'last_follow_up_at'], unique=False,
                              sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_live_owner', sqlite_where=sa.text('deleted_at IS NULL'),
                            postgresql_where=sa.text('deleted_at IS NULL'))
