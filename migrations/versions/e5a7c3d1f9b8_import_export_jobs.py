"""import and export jobs

Revision ID: e5a7c3d1f9b8
Revises: c4a1e5d9b3f2
Create Date: 2026-11-30 08:10:00

"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'e5a7c3d1f9b8'
down_revision = 'c4a1e5d9b3f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('started_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('heartbeat_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('finished_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('file_path', sa.String(length=500), nullable=True),
    sa.Column('result_path', sa.String(length=500), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('queue_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_job_records_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_records'))
    )
    with op.batch_alter_table('job_records', schema=None) as batch_op:
        batch_op.create_index('ix_job_records_user_created', ['user_id', 'created_at'], unique=False)

    op.create_table('job_row_issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['job_records.id'], name=op.f('fk_job_row_issues_job_id_job_records'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_row_issues')),
    sa.UniqueConstraint('job_id', 'row_no', name='uq_job_row_issues_job_row')
    )


def downgrade():
    op.drop_table('job_row_issues')
    with op.batch_alter_table('job_records', schema=None) as batch_op:
        batch_op.drop_index('ix_job_records_user_created')
    op.drop_table('job_records')
