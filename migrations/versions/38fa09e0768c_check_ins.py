"""外勤签到: check_ins (a salesperson's position at a customer, with its accuracy, the customer's
address that day and the 拜访 follow-up it wrote)

Revision ID: 38fa09e0768c
Revises: 7b1e4d9a2c61
Create Date: 2026-12-06 21:00:00.000000

A new table: no existing row changes.
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = '38fa09e0768c'
down_revision = '7b1e4d9a2c61'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('check_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('accuracy', sa.Integer(), nullable=True),
    sa.Column('checked_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('follow_up_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_check_ins_contact_id_contacts')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_check_ins_customer_id_customers')),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_check_ins_follow_up_id_follow_ups')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_check_ins_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_ins'))
    )
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.create_index('ix_check_ins_customer', ['customer_id', 'checked_at'], unique=False)
        batch_op.create_index('ix_check_ins_user_checked', ['user_id', 'checked_at'], unique=False)


def downgrade():
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.drop_index('ix_check_ins_user_checked')
        batch_op.drop_index('ix_check_ins_customer')
    op.drop_table('check_ins')
