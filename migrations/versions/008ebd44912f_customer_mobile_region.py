"""手机归属地: customers.mobile_province and mobile_city (indexed by province), filled from each
customer's mobile

Revision ID: 008ebd44912f
Revises: 5d8a31c7e2f4
Create Date: 2026-12-06 21:30:00

Existing customers get their 归属地 here, by batches of ids (a few statements per batch, a
million customers never in memory at once); numbers of one 号段 are looked up once.
"""
import sqlalchemy as sa
from alembic import op

from rules import phone_region

# revision identifiers, used by Alembic.
revision = '008ebd44912f'
down_revision = '5d8a31c7e2f4'
branch_labels = None
depends_on = None

BATCH = 5_000


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mobile_province', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('mobile_city', sa.String(length=32), nullable=True))
    backfill(op.get_bind())
    # The index comes after the backfill: filling an indexed column costs an index write a row.
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_mobile_province'), ['mobile_province'], unique=False)


def backfill(conn) -> int:
    """Each customer's 归属地 from its mobile; how many were filled (bench/mobile_region_backfill.py
    times this at a million customers)."""
    customers = sa.table('customers', sa.column('id', sa.Integer), sa.column('mobile_province', sa.String),
                         sa.column('mobile_city', sa.String))
    fill = (customers.update().where(customers.c.id == sa.bindparam('cid'))
            .values(mobile_province=sa.bindparam('p'), mobile_city=sa.bindparam('c')))
    last_id, filled = 0, 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, mobile FROM customers WHERE id > :last AND mobile IS NOT NULL ORDER BY id LIMIT :n"),
            {"last": last_id, "n": BATCH}).all()
        if not rows:
            return filled
        last_id = rows[-1].id
        updates = []
        for r in rows:
            found = phone_region.lookup(r.mobile)
            if found and found.province:
                updates.append({"cid": r.id, "p": found.province, "c": found.city})
        if updates:
            conn.execute(fill, updates)
            filled += len(updates)


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_mobile_province'))
        batch_op.drop_column('mobile_city')
        batch_op.drop_column('mobile_province')
