"""回款计划流转: one event row per change of an instalment (set, changed, removed, receipts,
overdue, voided, owner moved); and an index for the 回款计划 list's order (due date).

Revision ID: 34e13c3d5f1c
Revises: a3e91c5d7f02
Create Date: 2026-12-06 09:15:00

"""
from alembic import op
import sqlalchemy as sa

import models.base


revision = '34e13c3d5f1c'
down_revision = 'a3e91c5d7f02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payment_plan_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_payment_plan_events_actor_id_users')),
    sa.ForeignKeyConstraint(['plan_id'], ['payment_plans.id'], name=op.f('fk_payment_plan_events_plan_id_payment_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_plan_events'))
    )
    with op.batch_alter_table('payment_plan_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_plan_events_plan_id'), ['plan_id'], unique=False)
    with op.batch_alter_table('payment_plans', schema=None) as batch_op:
        batch_op.create_index('ix_payment_plans_due_on', ['due_on', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('payment_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_plans_due_on')
    with op.batch_alter_table('payment_plan_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_plan_events_plan_id'))
    op.drop_table('payment_plan_events')
