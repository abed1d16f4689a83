"""ownership_events: an index by reason and time for 客户池报表

Revision ID: e9c1a3b5d7f0
Revises: e8b2d4f6a1c3
Create Date: 2026-11-30 11:30:00

The pool report counts claims, releases, recycles and recalls of a date range per salesperson;
the log also holds a "created" row per customer, so reading by time alone walks every row of
the range. By reason, then time, with both user columns, it reads only what it counts.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e9c1a3b5d7f0'
down_revision = 'e8b2d4f6a1c3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_ownership_events_reason_at', 'ownership_events',
                    ['reason', 'at', 'from_user_id', 'to_user_id'], unique=False)


def downgrade():
    op.drop_index('ix_ownership_events_reason_at', table_name='ownership_events')
