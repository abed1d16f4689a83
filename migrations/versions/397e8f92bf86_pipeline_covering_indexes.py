"""pipeline: covering indexes for the board, the forecast and the lead list

Revision ID: 397e8f92bf86
Revises: fd7a141155e4
Create Date: 2026-12-06 06:40:00

The board's column sums and the forecast read every open opportunity in scope (600,000 for the
总经理 at a million): with only (outcome, stage_id, id) SQLite fetched each row from the table
(2.0 s for the board, 6.0 s for the forecast on the loaded bench machine). These indexes carry the
columns each needs, so they are read from the index alone: one led by the outcome (everyone's
sums by group and stage; everyone's forecast reads fd7a141155e4's ix_opportunities_forecast), one by the owner (a salesperson's or a
department's part, both). A partial index of the live leads per owner lets the lead list
count a salesperson's leads without reading them. Indexes only: no row changes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '397e8f92bf86'
down_revision = 'fd7a141155e4'
branch_labels = None
depends_on = None

OPEN_COLUMNS = ['expected_close_on', 'group_id', 'stage_id', 'deleted_at', 'amount']


def upgrade():
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index('ix_opportunities_board_sums', ['outcome', 'group_id', 'stage_id', 'deleted_at', 'amount'],
                              unique=False)
        batch_op.create_index('ix_opportunities_owner_outcome_sums', ['owner_id', 'outcome'] + OPEN_COLUMNS,
                              unique=False)
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index('ix_leads_live_owner', ['owner_id', 'created_at', 'id'], unique=False,
                              sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))


def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_live_owner', sqlite_where=sa.text('deleted_at IS NULL'),
                            postgresql_where=sa.text('deleted_at IS NULL'))
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index('ix_opportunities_owner_outcome_sums')
        batch_op.drop_index('ix_opportunities_board_sums')
