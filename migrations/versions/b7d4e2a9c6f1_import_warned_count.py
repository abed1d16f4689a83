"""imports: a count of rows imported with warnings (导入（有警告）)

Revision ID: b7d4e2a9c6f1
Revises: 7a157415e053
Create Date: 2026-12-06 03:15:00

A bad optional cell no longer loses its row: the row is imported with the cell left empty and
counted apart, so imported + warned + updated + skipped + rejected = rows.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d4e2a9c6f1'
down_revision = '7a157415e053'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warned', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('job_records', schema=None) as batch_op:
        batch_op.drop_column('warned')
