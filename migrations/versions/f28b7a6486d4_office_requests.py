"""office requests (工作请示 / 请假 / 出差 / 报销)

Revision ID: f28b7a6486d4
Revises: 25b7e4696716
Create Date: 2026-12-06 15:10:00

A new table only; the default approval flows of the four kinds and the 请假类型 dictionary are
added by rules/setup.ensure_defaults on the next start, for installations that have none.
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'f28b7a6486d4'
down_revision = '25b7e4696716'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('office_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('leave_type_id', sa.Integer(), nullable=True),
    sa.Column('start_day', sa.Date(), nullable=True),
    sa.Column('start_half', sa.String(length=2), nullable=True),
    sa.Column('end_day', sa.Date(), nullable=True),
    sa.Column('end_half', sa.String(length=2), nullable=True),
    sa.Column('starts_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('ends_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('days', sa.Numeric(precision=6, scale=1), nullable=True),
    sa.Column('destination', sa.String(length=200), nullable=True),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('submitter_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('decided_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                            name=op.f('fk_office_requests_department_id_departments')),
    sa.ForeignKeyConstraint(['leave_type_id'], ['dict_items.id'],
                            name=op.f('fk_office_requests_leave_type_id_dict_items')),
    sa.ForeignKeyConstraint(['submitter_id'], ['users.id'], name=op.f('fk_office_requests_submitter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_requests')),
    sa.UniqueConstraint('number', name=op.f('uq_office_requests_number'))
    )
    with op.batch_alter_table('office_requests', schema=None) as batch_op:
        batch_op.create_index('ix_office_requests_submitter', ['submitter_id', 'id'], unique=False)
        batch_op.create_index('ix_office_requests_submitter_kind_start', ['submitter_id', 'kind', 'starts_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('office_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_office_requests_submitter_kind_start')
        batch_op.drop_index('ix_office_requests_submitter')
    op.drop_table('office_requests')
