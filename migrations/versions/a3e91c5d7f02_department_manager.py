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
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manager_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_departments_manager_id_users'), 'users', ['manager_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_departments_manager_id_users'), type_='foreignkey')
        batch_op.drop_column('manager_id')
