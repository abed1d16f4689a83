"""pipeline: a covering index for the board's column sums over every stage in scope

Revision ID: 9cc8a0d1b8ca
Revises: 397e8f92bf86
Create Date: 2026-12-06 07:40:00

The board's GROUP BY (rules/opportunity_board.column_sums) filters stage_id IN (the group's
stages), outcome, deleted_at and, for a 主管, owner_id IN (…) OR a collaborator; it has no
group_id, so ix_opportunities_board_sums (outcome, group_id, …) cannot serve it, and SQLite read
the 600,000 open opportunities through ix_opportunities_outcome_stage and the table (amount,
deleted_at, owner_id). At 1M opportunities (bench/bench_pipeline.py, SQLite, BENCHMARKS.md): 总经理
536 → 126 ms, 主管 565 → 133 ms median; but the 业务员's sums then scan it too instead of the
MULTI-INDEX OR on ix_opportunities_owner_outcome_sums (80 → 195 ms median). The id last for
PostgreSQL's index-only scans (not measured there). Index only.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9cc8a0d1b8ca'
down_revision = '397e8f92bf86'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index('ix_opportunities_stage_sums',
                              ['outcome', 'stage_id', 'deleted_at', 'owner_id', 'amount', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index('ix_opportunities_stage_sums')
