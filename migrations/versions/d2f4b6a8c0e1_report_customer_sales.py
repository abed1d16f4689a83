"""report_customer_sales: 客户销售报表's per-customer summary

Revision ID: d2f4b6a8c0e1
Revises: c7e3a9d2b4f1
Create Date: 2026-11-30 11:10:00

The RFM report grouped every sold order of the year per customer on each view (1–5 s at a
million orders); the summary job now keeps one row per customer with its segment.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2f4b6a8c0e1'
down_revision = 'c7e3a9d2b4f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_customer_sales',
        sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('segment', sa.String(length=24), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_report_customer_sales')),
    )
    op.create_index('ix_report_customer_sales_amount', 'report_customer_sales', ['amount', 'orders', sa.text('customer_id DESC')])
    op.create_index('ix_report_customer_sales_orders', 'report_customer_sales', ['orders', 'amount', sa.text('customer_id DESC')])
    op.create_index('ix_report_customer_sales_owner', 'report_customer_sales', ['owner_id', 'segment'])


def downgrade():
    op.drop_index('ix_report_customer_sales_owner', table_name='report_customer_sales')
    op.drop_index('ix_report_customer_sales_orders', table_name='report_customer_sales')
    op.drop_index('ix_report_customer_sales_amount', table_name='report_customer_sales')
    op.drop_table('report_customer_sales')
