"""维修: a ticket's repair record and parts; warranty ends on order and contract lines

Revision ID: c7e1d94a2b60
Revises: a4be86f9cbae
Create Date: 2026-12-06 18:05:00

New tables and nullable columns only: no existing row changes. Lines sold before this revision
have no warranty end (a repair on them is judged from the order's ship date and the product's
warranty months once the product has them: rules/repairs.warranty_of).
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'c7e1d94a2b60'
down_revision = 'a4be86f9cbae'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ticket_repairs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('engineer_id', sa.Integer(), nullable=True),
    sa.Column('solution', sa.Text(), nullable=True),
    sa.Column('labour_hours', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('labour_charge', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('parts_charge', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('warranty', sa.Boolean(), nullable=False),
    sa.Column('warranty_until', sa.Date(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('billed_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('cancelled_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['engineer_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id')
    )
    with op.batch_alter_table('ticket_repairs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_repairs_order_id'), ['order_id'], unique=False)

    op.create_table('ticket_parts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('returned', sa.Boolean(), nullable=False),
    sa.Column('returned_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('at', models.base.UTCDateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_parts', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_parts_ticket_id', ['ticket_id', 'id'], unique=False)
        batch_op.create_index('ix_ticket_parts_product_at', ['product_id', 'at'], unique=False)

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warranty_months', sa.Integer(), nullable=True))
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warranty_until', sa.Date(), nullable=True))
    with op.batch_alter_table('contract_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warranty_until', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('contract_lines', schema=None) as batch_op:
        batch_op.drop_column('warranty_until')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('warranty_until')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('warranty_months')
    with op.batch_alter_table('ticket_parts', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_parts_product_at')
        batch_op.drop_index('ix_ticket_parts_ticket_id')
    op.drop_table('ticket_parts')
    with op.batch_alter_table('ticket_repairs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_repairs_order_id'))
    op.drop_table('ticket_repairs')
