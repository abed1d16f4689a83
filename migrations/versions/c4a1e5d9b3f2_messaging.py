"""messaging: templates, outbox, batches, mail accounts, replies, opt-outs, holidays, SFA

Revision ID: c4a1e5d9b3f2
Revises: 85cfda3bc65e
Create Date: 2026-11-30 08:30:00

"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'c4a1e5d9b3f2'
down_revision = '85cfda3bc65e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=128), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('security', sa.String(length=8), nullable=False),
    sa.Column('username', sa.String(length=128), nullable=True),
    sa.Column('password', sa.String(length=255), nullable=True),
    sa.Column('from_address', sa.String(length=128), nullable=False),
    sa.Column('from_name', sa.String(length=64), nullable=True),
    sa.Column('daily_quota', sa.Integer(), nullable=False),
    sa.Column('used_day', sa.Date(), nullable=True),
    sa.Column('used_today', sa.Integer(), nullable=False),
    sa.Column('success_count', sa.Integer(), nullable=False),
    sa.Column('failure_count', sa.Integer(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_accounts'))
    )
    op.create_table('message_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('channel', 'name', name='uq_message_templates_channel_name')
    )
    op.create_table('holiday_greetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('send_hour', sa.Integer(), nullable=False),
    sa.Column('include_contacts', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['template_id'], ['message_templates.id'], name=op.f('fk_holiday_greetings_template_id_message_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday_greetings'))
    )
    op.create_table('sfa_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('remind_text', sa.String(length=200), nullable=True),
    sa.Column('interval_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['template_id'], ['message_templates.id'], name=op.f('fk_sfa_plans_template_id_message_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sfa_plans')),
    sa.UniqueConstraint('name', name=op.f('uq_sfa_plans_name'))
    )
    op.create_table('message_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('scheduled_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['template_id'], ['message_templates.id'], name=op.f('fk_message_batches_template_id_message_templates')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_message_batches_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_batches'))
    )
    with op.batch_alter_table('message_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_batches_user_id'), ['user_id'], unique=False)

    op.create_table('sfa_enrollments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('next_run_on', sa.Date(), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_sfa_enrollments_customer_id_customers')),
    sa.ForeignKeyConstraint(['plan_id'], ['sfa_plans.id'], name=op.f('fk_sfa_enrollments_plan_id_sfa_plans')),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_sfa_enrollments_started_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sfa_enrollments')),
    sa.UniqueConstraint('plan_id', 'customer_id', name='uq_sfa_enrollments_plan_customer')
    )
    with op.batch_alter_table('sfa_enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sfa_enrollments_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_sfa_enrollments_due', ['paused', 'next_run_on'], unique=False)

    op.create_table('message_opt_outs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=128), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_message_opt_outs_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_message_opt_outs_created_by_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_message_opt_outs_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_opt_outs'))
    )
    with op.batch_alter_table('message_opt_outs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_opt_outs_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_opt_outs_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_opt_outs_customer_id'), ['customer_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=128), nullable=False),
    sa.Column('to_name', sa.String(length=128), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('segments', sa.Integer(), nullable=False),
    sa.Column('scheduled_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('respect_quiet_hours', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('claimed_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('sent_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=True),
    sa.Column('provider_id', sa.String(length=128), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('delivery_status', sa.String(length=32), nullable=True),
    sa.Column('delivered_at', models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['mail_accounts.id'], name=op.f('fk_outbox_account_id_mail_accounts')),
    sa.ForeignKeyConstraint(['batch_id'], ['message_batches.id'], name=op.f('fk_outbox_batch_id_message_batches')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_outbox_contact_id_contacts')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_outbox_customer_id_customers')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outbox_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_outbox_channel_claimed', ['channel', 'claimed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_outbox_status_scheduled', ['status', 'scheduled_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_user_id'), ['user_id'], unique=False)

    op.create_table('sms_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobile', sa.String(length=32), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('received_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('provider_id', sa.String(length=128), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_sms_replies_contact_id_contacts')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_sms_replies_customer_id_customers')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_sms_replies_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_replies')),
    sa.UniqueConstraint('provider_id', name=op.f('uq_sms_replies_provider_id'))
    )
    with op.batch_alter_table('sms_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_replies_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_replies_mobile'), ['mobile'], unique=False)


def downgrade():
    op.drop_table('sms_replies')
    op.drop_table('outbox')
    op.drop_table('message_opt_outs')
    op.drop_table('sfa_enrollments')
    op.drop_table('message_batches')
    op.drop_table('sfa_plans')
    op.drop_table('holiday_greetings')
    op.drop_table('message_templates')
    op.drop_table('mail_accounts')

