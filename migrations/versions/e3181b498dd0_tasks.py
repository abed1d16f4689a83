"""tasks (待办): tasks and their history (state moves, 执行反馈)

Revision ID: e3181b498dd0
Revises: b21c2f256614
Create Date: 2026-12-06 15:10:00

Two new tables; nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'e3181b498dd0'
down_revision = 'b21c2f256614'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=False),
    sa.Column('assigner_id', sa.Integer(), nullable=False),
    sa.Column('due_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('priority', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('feedback', sa.Text(), nullable=True),
    sa.Column('completed_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('entity', sa.String(length=16), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tasks_assignee_id_users')),
    sa.ForeignKeyConstraint(['assigner_id'], ['users.id'], name=op.f('fk_tasks_assigner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_assignee_status_due', ['assignee_id', 'status', 'due_at', 'id'], unique=False)
        batch_op.create_index('ix_tasks_assigner_status_due', ['assigner_id', 'status', 'due_at', 'assignee_id', 'id'],
                              unique=False)
        batch_op.create_index('ix_tasks_assignee_id', ['assignee_id', 'id'], unique=False)
        batch_op.create_index('ix_tasks_assigner_id', ['assigner_id', 'id'], unique=False)
        batch_op.create_index('ix_tasks_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_tasks_due_id', ['due_at', 'id'], unique=False)
        batch_op.create_index('ix_tasks_record', ['entity', 'record_id'], unique=False)

    op.create_table('task_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_events_task_id_tasks')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_task_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_events'))
    )
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_events_task_id'), ['task_id'], unique=False)


def downgrade():
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_events_task_id'))
    op.drop_table('task_events')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_record')
        batch_op.drop_index('ix_tasks_due_id')
        batch_op.drop_index('ix_tasks_status_due')
        batch_op.drop_index('ix_tasks_assigner_id')
        batch_op.drop_index('ix_tasks_assignee_id')
        batch_op.drop_index('ix_tasks_assigner_status_due')
        batch_op.drop_index('ix_tasks_assignee_status_due')
    op.drop_table('tasks')
