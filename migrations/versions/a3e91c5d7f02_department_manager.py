"""部门负责人: a department names its manager, who approves as "the manager of the owner's
department" in an approval flow (rules/approvals.py).

Revision ID: a3e91c5d7f02
Revises: d7c7cb2bb8c9
Create Date: 2026-12-06 09:10:00

Nullable and unfilled: an upgraded installation's departments have no manager until the
administrator names one (a flow step that finds nobody is refused at submit with the reason).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3e91c5d7f02'
down_revision = 'd7c7cb2bb8c9'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ALTER on SQLite: a batch copy of departments would drop a table users refer to.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE departments ADD COLUMN manager_id INTEGER CONSTRAINT fk_departments_manager_id_users '
                   'REFERENCES users (id)')
    else:
        op.add_column('departments', sa.Column('manager_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_departments_manager_id_users'), 'departments', 'users', ['manager_id'], ['id'])


def downgrade():
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_departments_manager_id_users'), type_='foreignkey')
        batch_op.drop_column('manager_id')
