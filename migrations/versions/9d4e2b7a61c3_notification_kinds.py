"""notifications: a kind for every notification (the 提醒中心 filters and pop-up choices), and
an index for the pop-up poll

Revision ID: 9d4e2b7a61c3
Revises: c41f7a2e9b58
Create Date: 2026-12-06 15:00:00

Existing notifications get the kind their reminder key tells (approval:…, due:…, plan_due:…);
the rest stay 其他. No row is removed.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d4e2b7a61c3'
down_revision = 'c41f7a2e9b58'
branch_labels = None
depends_on = None

# The reminder keys the release before this one wrote, and the kind each one is.
KINDS_BY_KEY = [
    ('approval:%', 'approval'),
    ('due:%', 'follow_up_due'),
    ('plan_due:%', 'payment_due'),
    ('plan_overdue:%', 'payment_due'),
    ('contract-expiry:%', 'contract_expiring'),
    ('recycle-warn:%', 'recycle_warning'),
]


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=24), server_default='other', nullable=False))
        batch_op.create_index('ix_notifications_user_id_id', ['user_id', 'id'], unique=False)
    notifications = sa.table('notifications', sa.column('kind', sa.String), sa.column('dedupe_key', sa.String))
    for pattern, kind in KINDS_BY_KEY:
        op.execute(notifications.update().where(notifications.c.dedupe_key.like(pattern)).values(kind=kind))


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_id_id')
        batch_op.drop_column('kind')
