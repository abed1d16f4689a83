"""日程: events (repeat rules in RFC 5545) and who takes part in them

Revision ID: b21c2f256614
Revises: 9d4e2b7a61c3
Create Date: 2026-12-06 15:10:00

Two new tables; nothing existing changes. The 日程类型 dictionary (拜访/会议/电话/其他) is filled
by rules/dictionaries.ensure_defaults after the upgrade, like every other dictionary.
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'b21c2f256614'
down_revision = '9d4e2b7a61c3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('starts_at', models.base.UTCDateTime(), nullable=False),
        sa.Column('ends_at', models.base.UTCDateTime(), nullable=False),
        sa.Column('all_day', sa.Boolean(), nullable=False),
        sa.Column('place', sa.String(length=200), nullable=True),
        sa.Column('event_type_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('opportunity_id', sa.Integer(), nullable=True),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('rrule', sa.String(length=500), nullable=True),
        sa.Column('exdates', sa.JSON(), nullable=False),
        sa.Column('series_ends_at', models.base.UTCDateTime(), nullable=False),
        sa.Column('remind_minutes', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
        sa.Column('deleted_at', models.base.UTCDateTime(), nullable=True),
        sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
        sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_events_contact_id_contacts')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_events_customer_id_customers')),
        sa.ForeignKeyConstraint(['event_type_id'], ['dict_items.id'], name=op.f('fk_events_event_type_id_dict_items')),
        sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'],
                                name=op.f('fk_events_opportunity_id_opportunities')),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_events_owner_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    )
    op.create_index('ix_events_starts_at', 'events', ['starts_at'], unique=False)
    op.create_index('ix_events_series_ends_at', 'events', ['series_ends_at'], unique=False)
    op.create_table(
        'event_participants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('notified', sa.Boolean(), nullable=False),
        sa.Column('starts_at', models.base.UTCDateTime(), nullable=False),
        sa.Column('series_ends_at', models.base.UTCDateTime(), nullable=False),
        sa.Column('long_span', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_participants_event_id_events')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_event_participants_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_participants')),
        sa.UniqueConstraint('event_id', 'user_id', name='uq_event_participants_event_user'),
    )
    op.create_index('ix_event_participants_user_short', 'event_participants', ['user_id', 'long_span', 'starts_at'],
                    unique=False)
    op.create_index('ix_event_participants_user_long', 'event_participants',
                    ['user_id', 'long_span', 'series_ends_at'], unique=False)


def downgrade():
    op.drop_index('ix_event_participants_user_long', table_name='event_participants')
    op.drop_index('ix_event_participants_user_short', table_name='event_participants')
    op.drop_table('event_participants')
    op.drop_index('ix_events_series_ends_at', table_name='events')
    op.drop_index('ix_events_starts_at', table_name='events')
    op.drop_table('events')
