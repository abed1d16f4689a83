"""finance: covering indexes for 应收账龄, 回款统计, 公司销售报表 and 业绩 at 1M contracts

Revision ID: 1df543520140
Revises: 34e13c3d5f1c
Create Date: 2026-12-06 09:50:00

bench/bench_finance.py (BENCHMARKS.md, "Contracts and receivables"): the reports' GROUP BYs walked
ix_payment_plans_status_due / ix_payments_status / ix_contracts_signed and fetched every matching
table row for the amounts, owner and customer. Each index below holds the columns its reports
read, so the sums come from the index alone (SQLite covering index, PostgreSQL index-only scan):
- ix_payment_plans_ageing: open instalments by state and due date (应收账龄, 逾期);
- ix_contracts_status_sums: contracts by state, live, signing date (应收账龄's contracts without
  instalments, 公司销售报表 and 业绩's contract part);
- ix_payments_paid_sums: receipts by state and paid date, with kind, owner, method, contract and
  amounts (回款统计 by month / owner / method, 业绩's contract receipts).
Index only: no data changes.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '1df543520140'
down_revision = '34e13c3d5f1c'
branch_labels = None
depends_on = None

INDEXES = {
    'payment_plans': ('ix_payment_plans_ageing', ['status', 'due_on', 'owner_id', 'customer_id', 'amount', 'received']),
    'contracts': ('ix_contracts_status_sums', ['status', 'deleted_at', 'signed_on', 'owner_id', 'customer_id', 'total',
                                               'received', 'written_off']),
    'payments': ('ix_payments_paid_sums', ['status', 'paid_on', 'kind', 'owner_id', 'method', 'contract_id', 'amount',
                                           'write_off']),
}


def upgrade():
    for table, (name, columns) in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    for table, (name, _columns) in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
