"""login throttling: indexes for counting failures, CAPTCHA answers, per-role IP allow-list

Revision ID: a1c3e5f7b9d2
Revises: e1f3a5c7b9d2
Create Date: 2026-12-06 01:30:00

The day-long account lock (which anyone could trigger) becomes growing delays and a CAPTCHA,
decided by counting recent login_logs failures per username and per IP: both need an index.
CAPTCHA answers live in the database so any web process can check them. roles gain
allowed_networks (IP限制登录), CIDR networks one per line.
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'a1c3e5f7b9d2'
down_revision = 'e1f3a5c7b9d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allowed_networks', sa.Text(), nullable=True))
    with op.batch_alter_table('login_logs', schema=None) as batch_op:
        batch_op.create_index('ix_login_logs_username_at', ['username', 'at'], unique=False)
        batch_op.create_index('ix_login_logs_ip_at', ['ip', 'at'], unique=False)
    op.create_table(
        'login_captchas',
        sa.Column('id', sa.String(length=43), nullable=False),
        sa.Column('answer', sa.String(length=16), nullable=False),
        sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_captchas')),
    )
    with op.batch_alter_table('login_captchas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_captchas_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_captchas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_captchas_created_at'))
    op.drop_table('login_captchas')
    with op.batch_alter_table('login_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_login_logs_ip_at')
        batch_op.drop_index('ix_login_logs_username_at')
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.drop_column('allowed_networks')
