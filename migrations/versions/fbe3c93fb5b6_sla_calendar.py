"""客户服务 SLA: policies per priority (type, value level), the working week and holidays

Revision ID: fbe3c93fb5b6
Revises: 7c3e91d5a2f4
Create Date: 2026-12-06 18:20:00

New tables only; no existing row is changed. A working week (Mon–Fri 09:00–12:00, 13:30–18:00)
is added on the next start by rules/setup.py, as for a new installation.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fbe3c93fb5b6'
down_revision = '7c3e91d5a2f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sla_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.String(length=8), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=True),
    sa.Column('value_level_id', sa.Integer(), nullable=True),
    sa.Column('first_response_minutes', sa.Integer(), nullable=False),
    sa.Column('resolution_minutes', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['type_id'], ['dict_items.id'], name=op.f('fk_sla_policies_type_id_dict_items')),
    sa.ForeignKeyConstraint(['value_level_id'], ['dict_items.id'], name=op.f('fk_sla_policies_value_level_id_dict_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies'))
    )
    op.create_table('sla_working_hours',
    sa.Column('weekday', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('start1', sa.SmallInteger(), nullable=True),
    sa.Column('end1', sa.SmallInteger(), nullable=True),
    sa.Column('start2', sa.SmallInteger(), nullable=True),
    sa.Column('end2', sa.SmallInteger(), nullable=True),
    sa.PrimaryKeyConstraint('weekday', name=op.f('pk_sla_working_hours'))
    )
    op.create_table('sla_holidays',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_sla_holidays'))
    )


def downgrade():
    op.drop_table('sla_holidays')
    op.drop_table('sla_working_hours')
    op.drop_table('sla_policies')
