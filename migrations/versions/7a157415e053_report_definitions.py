"""reports count what happened: customers' creator, funnel steps, custom fields in statistics

Revision ID: 7a157415e053
Revises: 80de83f2d3b9
Create Date: 2026-12-06 03:10:00

业务员业绩's 新增客户 counted the customers a salesperson owns now, so a recycle run changed
last month's figures: customers gain created_by_id, filled from the log of each customer's
entry (the 'created' or 'import' move's actor, else the owner it was created for).
销售漏斗 treated every 跟进程度 as a step: dict_items gain funnel_step, off for 搁置 and 流失.
custom_fields gain statistics (a dimension of 客户数量报表), on for the choice and yes/no fields
that exist, which are exactly the fields such a report can count by.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a157415e053'
down_revision = '80de83f2d3b9'
branch_labels = None
depends_on = None

NOT_STEPS = ('搁置', '流失')


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a referencing column in place; a batch copy of customers would have to drop
        # a table every other table refers to (and copy a million rows).
        op.execute('ALTER TABLE customers ADD COLUMN created_by_id INTEGER '
                   'CONSTRAINT fk_customers_created_by_id_users REFERENCES users (id)')
    else:
        op.add_column('customers', sa.Column('created_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_customers_created_by_id_users'), 'customers', 'users', ['created_by_id'], ['id'])
    op.create_index(op.f('ix_customers_created_by_id'), 'customers', ['created_by_id'], unique=False)
    with op.batch_alter_table('dict_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('funnel_step', sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table('custom_fields', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statistics', sa.Boolean(), server_default=sa.false(), nullable=False))

    # The earliest entry move of each customer names who entered it.
    op.execute(sa.text(
        "UPDATE customers SET created_by_id = ("
        " SELECT e.actor_id FROM ownership_events e"
        " WHERE e.customer_id = customers.id AND e.reason IN ('created', 'import') AND e.actor_id IS NOT NULL"
        " ORDER BY e.at, e.id LIMIT 1)"))
    op.execute(sa.text(
        "UPDATE customers SET created_by_id = ("
        " SELECT e.to_user_id FROM ownership_events e"
        " WHERE e.customer_id = customers.id AND e.reason IN ('created', 'import')"
        " ORDER BY e.at, e.id LIMIT 1)"
        " WHERE created_by_id IS NULL"))
    op.execute(sa.text("UPDATE dict_items SET funnel_step = :off WHERE kind = 'stage' AND name IN :names")
               .bindparams(sa.bindparam('names', value=list(NOT_STEPS), expanding=True),
                           sa.bindparam('off', value=False, type_=sa.Boolean())))
    op.execute(sa.text("UPDATE custom_fields SET statistics = :on WHERE field_type IN ('choice', 'multi_choice', 'boolean')")
               .bindparams(sa.bindparam('on', value=True, type_=sa.Boolean())))


def downgrade():
    with op.batch_alter_table('custom_fields', schema=None) as batch_op:
        batch_op.drop_column('statistics')
    with op.batch_alter_table('dict_items', schema=None) as batch_op:
        batch_op.drop_column('funnel_step')
    op.drop_index(op.f('ix_customers_created_by_id'), table_name='customers')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE customers DROP COLUMN created_by_id')
    else:
        op.drop_constraint(op.f('fk_customers_created_by_id_users'), 'customers', type_='foreignkey')
        op.drop_column('customers', 'created_by_id')
