"""提醒设置: each user's pop-up and SMS kinds, days ahead and do-not-disturb hours; announcements'
notifications get their kind

Revision ID: cb4d005ff6d8
Revises: f28b7a6486d4
Create Date: 2026-12-06 15:30:00

A new table (users without a row keep the defaults: everything pops up, nothing is texted).
Notifications of published announcements (key announcement:…) were 其他 and become 公告, so
the 提醒中心 filter finds them. The unread index ends in id (newest first without a sort) and
one more serves the 提醒中心's kind filter. No row is removed.
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'cb4d005ff6d8'
down_revision = 'f28b7a6486d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notification_settings',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('popup_kinds', sa.JSON(), nullable=False),
        sa.Column('sms_kinds', sa.JSON(), nullable=False),
        sa.Column('days_ahead', sa.Integer(), server_default='1', nullable=False),
        sa.Column('quiet_start', sa.String(length=5), nullable=True),
        sa.Column('quiet_end', sa.String(length=5), nullable=True),
        sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    notifications = sa.table('notifications', sa.column('kind', sa.String), sa.column('dedupe_key', sa.String))
    op.execute(notifications.update().where(notifications.c.dedupe_key.like('announcement:%'))
               .values(kind='announcement'))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at', 'id'], unique=False)
        batch_op.create_index('ix_notifications_user_kind_id', ['user_id', 'kind', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_kind_id')
        batch_op.drop_index('ix_notifications_user_unread')
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at', 'created_at'], unique=False)
    op.drop_table('notification_settings')
