"""日程 daily counts: how many events start on each local day of each person's calendar

Revision ID: e6a0c2f4b8d1
Revises: cb4d005ff6d8
Create Date: 2026-12-06 16:20:00

The team month view read every participant row of a month (29,000 for fifty busy people) to
count them per day; it now reads event_days, kept by the write rules of rules/events.py. The
table is filled here from the live events (a series expanded through rules/recurrence.py, in
the firm's TIMEZONE), so an upgraded calendar shows the counts it showed before. No row is
changed or removed.
"""
import os

import sqlalchemy as sa
from alembic import op
from flask import current_app, has_app_context

import models.base
from rules import events

# revision identifiers, used by Alembic.
revision = 'e6a0c2f4b8d1'
down_revision = 'cb4d005ff6d8'
branch_labels = None
depends_on = None


def _tz() -> str:
    if has_app_context():
        return current_app.config["TIMEZONE"]
    return os.environ.get("TIMEZONE", "Asia/Shanghai")


def upgrade():
    days = op.create_table(
        'event_days',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_event_days_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', 'day', name=op.f('pk_event_days')),
    )
    evs = sa.table('events', sa.column('id', sa.Integer), sa.column('starts_at', models.base.UTCDateTime),
                   sa.column('ends_at', models.base.UTCDateTime), sa.column('rrule', sa.String),
                   sa.column('exdates', sa.JSON), sa.column('deleted_at', models.base.UTCDateTime))
    people = sa.table('event_participants', sa.column('event_id', sa.Integer), sa.column('user_id', sa.Integer))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(evs.c.id, people.c.user_id, evs.c.starts_at, evs.c.ends_at, evs.c.rrule, evs.c.exdates)
        .join(people, people.c.event_id == evs.c.id).where(evs.c.deleted_at.is_(None))
        .execution_options(yield_per=10_000))  # a million participant rows never sit in memory at once
    counts = events.start_day_counts(rows, _tz())
    values = [{"user_id": u, "day": d, "count": n} for (u, d), n in counts.items()]
    if values:
        conn.execute(days.insert(), values)


def downgrade():
    op.drop_table('event_days')
