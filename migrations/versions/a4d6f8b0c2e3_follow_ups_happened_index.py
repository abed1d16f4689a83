"""follow_ups: an index by time for the whole firm's list

Revision ID: a4d6f8b0c2e3
Revises: f3a5c7e9b1d2
Create Date: 2026-11-30 12:10:00

The follow-up list of everyone (总经理) newest first, or of one day or month as 客户跟进报表's
drill-down opens it, had only per-writer and per-customer indexes: at 5M follow-ups a month's
list sorted 460k rows (2–3 s).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a4d6f8b0c2e3'
down_revision = 'f3a5c7e9b1d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_follow_ups_happened', 'follow_ups', ['happened_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_follow_ups_happened', table_name='follow_ups')
