"""工单: an index on (assignee_id, id) so 我的工单 reads one agent's tickets newest first without
sorting them all

Revision ID: cf51588d23a3
Revises: e892eef8e44a
Create Date: 2026-12-06 18:40:00.000000

An index only; no row is changed.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'cf51588d23a3'
down_revision = 'e892eef8e44a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_assignee_id', ['assignee_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_assignee_id')
