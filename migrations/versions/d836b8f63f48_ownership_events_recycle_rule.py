"""ownership_events: the recycle rule as a key, not its label in the note

Revision ID: d836b8f63f48
Revises: b3d5f7a9c1e4
Create Date: 2026-12-01 09:00:00

A recycle event stored the label of its rule (领用后未联系, 长期未联系, 未成交) in `note`, and the
nightly run read the rule back from that text, so the history showed Chinese to everyone and a run
in another language could not count its moves. The rule's key now has a column of its own and the
label is chosen when shown. Existing recycle events whose note is a rule's label (in Chinese or in
English) get the key and an empty note; any other note stays as written.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd836b8f63f48'
down_revision = 'b3d5f7a9c1e4'
branch_labels = None
depends_on = None

# Each rule's key and the labels the application has written for it (the catalogue's Chinese
# text first: downgrade writes it back).
LABELS = {
    'no_contact': ('领用后未联系', 'Not contacted after claim'),
    'idle': ('长期未联系', 'No recent contact'),
    'no_deal': ('未成交', 'No deal'),
}

events = sa.table('ownership_events', sa.column('reason', sa.String), sa.column('note', sa.String),
                  sa.column('recycle_rule', sa.String))


def upgrade():
    with op.batch_alter_table('ownership_events') as batch:
        batch.add_column(sa.Column('recycle_rule', sa.String(length=16), nullable=True))
    for key, labels in LABELS.items():
        op.execute(events.update()
                   .where(events.c.reason == 'recycle', events.c.note.in_(labels))
                   .values(recycle_rule=key, note=None))


def downgrade():
    for key, labels in LABELS.items():
        op.execute(events.update()
                   .where(events.c.recycle_rule == key, events.c.note.is_(None))
                   .values(note=labels[0]))
    with op.batch_alter_table('ownership_events') as batch:
        batch.drop_column('recycle_rule')
