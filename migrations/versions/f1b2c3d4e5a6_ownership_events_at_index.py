"""index the ownership log by time

Revision ID: f1b2c3d4e5a6
Revises: e5a7c3d1f9b8
Create Date: 2026-11-30 08:25:00

The 流转记录 list shows the newest moves first; every nightly recycle adds a row per moved
customer, so without this index each page view sorts the whole log.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f1b2c3d4e5a6'
down_revision = 'e5a7c3d1f9b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ownership_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ownership_events_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('ownership_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ownership_events_at'))
