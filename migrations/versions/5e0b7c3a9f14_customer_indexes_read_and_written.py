"""customers: covering partial indexes, and no index that nothing reads

Revision ID: 5e0b7c3a9f14
Revises: b7d4e2a9c6f1
Create Date: 2026-12-06 03:10:00

SQLite reads a partial index alone only when the columns of its WHERE are in it, so
ix_customers_live_owner and ix_customers_report gain deleted_at (always NULL there): 超过30天未跟进,
the list's owner count and the workbench stop fetching every customer row at a million customers.

Each imported customer wrote an entry into every index on customers. Dropped, because no query
reads them: owner_id (the first column of three other owner indexes), pool_id (every pool query
also asks owner_id IS NULL, which the partial ix_customers_pool answers), mnemonic (only searched
through customer_search). parent_id becomes partial: nearly every customer has no parent.
Indexes only: no row changes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e0b7c3a9f14'
down_revision = 'b7d4e2a9c6f1'
branch_labels = None
depends_on = None

LIVE = sa.text('deleted_at IS NULL')
REPORT = ['created_at', 'owner_id', 'province', 'city', 'department_id', 'category_id', 'source_id', 'industry_id',
          'value_level_id', 'stage_id']


def upgrade():
    # Plain op calls, not batch_alter_table: on SQLite a batch would copy the whole table
    # (a million rows) to change nothing but indexes.
    op.drop_index('ix_customers_live_owner', table_name='customers')
    op.create_index('ix_customers_live_owner', 'customers', ['owner_id', 'last_follow_up_at', 'deleted_at'],
                    sqlite_where=LIVE, postgresql_where=LIVE)
    op.drop_index('ix_customers_report', table_name='customers')
    op.create_index('ix_customers_report', 'customers', [*REPORT, 'deleted_at'],
                    sqlite_where=LIVE, postgresql_where=LIVE)
    op.drop_index('ix_customers_owner_id', table_name='customers')
    op.drop_index('ix_customers_pool_id', table_name='customers')
    op.drop_index('ix_customers_mnemonic', table_name='customers')
    op.drop_index('ix_customers_parent_id', table_name='customers')
    op.create_index('ix_customers_parent_id', 'customers', ['parent_id'],
                    sqlite_where=sa.text('parent_id IS NOT NULL'), postgresql_where=sa.text('parent_id IS NOT NULL'))


def downgrade():
    op.drop_index('ix_customers_parent_id', table_name='customers')
    op.create_index('ix_customers_parent_id', 'customers', ['parent_id'])
    op.create_index('ix_customers_mnemonic', 'customers', ['mnemonic'])
    op.create_index('ix_customers_pool_id', 'customers', ['pool_id'])
    op.create_index('ix_customers_owner_id', 'customers', ['owner_id'])
    op.drop_index('ix_customers_report', table_name='customers')
    op.create_index('ix_customers_report', 'customers', REPORT, sqlite_where=LIVE, postgresql_where=LIVE)
    op.drop_index('ix_customers_live_owner', table_name='customers')
    op.create_index('ix_customers_live_owner', 'customers', ['owner_id', 'last_follow_up_at'],
                    sqlite_where=LIVE, postgresql_where=LIVE)
