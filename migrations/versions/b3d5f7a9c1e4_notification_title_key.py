"""notifications: the title's message and values, so each reader sees it in their language

Revision ID: b3d5f7a9c1e4
Revises: a4d6f8b0c2e3
Create Date: 2026-11-30 13:40:00

A notification's title was written out in the language of whoever caused it (an English-speaking
manager assigning customers sent English titles to Chinese-speaking staff). The message (its
Chinese text, as in the catalogue) and its values are now kept beside the text and translated
when shown. Existing rows keep their stored text.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b3d5f7a9c1e4'
down_revision = 'a4d6f8b0c2e3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('title_key', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('title_params', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('title_params')
        batch.drop_column('title_key')
