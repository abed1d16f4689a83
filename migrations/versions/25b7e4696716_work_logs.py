"""work logs (工作日志): logs, their recipients (read receipts) and comments (点评)

Revision ID: 25b7e4696716
Revises: e3181b498dd0
Create Date: 2026-12-06 15:10:00

New tables only; no existing row changes.
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = '25b7e4696716'
down_revision = 'e3181b498dd0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('work_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('problems', sa.Text(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=True),
    sa.Column('submitted_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_work_logs_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_logs'))
    )
    with op.batch_alter_table('work_logs', schema=None) as batch_op:
        batch_op.create_index('uq_work_logs_author_period', ['author_id', 'period', 'period_start'], unique=True)
        batch_op.create_index('ix_work_logs_period_start', ['period_start', 'period'], unique=False)

    op.create_table('work_log_recipients',
    sa.Column('log_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('read_at', models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['log_id'], ['work_logs.id'], name=op.f('fk_work_log_recipients_log_id_work_logs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_work_log_recipients_user_id_users')),
    sa.PrimaryKeyConstraint('log_id', 'user_id', name=op.f('pk_work_log_recipients'))
    )
    with op.batch_alter_table('work_log_recipients', schema=None) as batch_op:
        batch_op.create_index('ix_work_log_recipients_user_read', ['user_id', 'read_at'], unique=False)

    op.create_table('work_log_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('log_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('read_at', models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['log_id'], ['work_logs.id'], name=op.f('fk_work_log_comments_log_id_work_logs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_work_log_comments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_log_comments'))
    )
    with op.batch_alter_table('work_log_comments', schema=None) as batch_op:
        batch_op.create_index('ix_work_log_comments_log_id', ['log_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('work_log_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_work_log_comments_log_id')
    op.drop_table('work_log_comments')
    with op.batch_alter_table('work_log_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_work_log_recipients_user_read')
    op.drop_table('work_log_recipients')
    with op.batch_alter_table('work_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_work_logs_period_start')
        batch_op.drop_index('uq_work_logs_author_period')
    op.drop_table('work_logs')
