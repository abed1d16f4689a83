"""attachments: the index on deleted_at holds only the recycle bin's rows

Revision ID: c41f7a2e9b58
Revises: 3c8e1f0b7a92
Create Date: 2026-12-06 12:30:00

With every row in it, SQLite read `deleted_at IS NULL` (every live attachment) as a handful of
rows and chose this index for a list of live files newest first: it then sorted all of them
(15 s at 1M attachments). Partial, the index serves the bin (deleted_at IS NOT NULL) and the live
list walks ix_attachments_uploaded_at. An index only: no row changes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c41f7a2e9b58'
down_revision = '3c8e1f0b7a92'
branch_labels = None
depends_on = None

BINNED = sa.text('deleted_at IS NOT NULL')


def upgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_attachments_deleted_at')
        batch_op.create_index('ix_attachments_deleted_at', ['deleted_at'], unique=False,
                              sqlite_where=BINNED, postgresql_where=BINNED)


def downgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_attachments_deleted_at', sqlite_where=BINNED, postgresql_where=BINNED)
        batch_op.create_index('ix_attachments_deleted_at', ['deleted_at'], unique=False)
