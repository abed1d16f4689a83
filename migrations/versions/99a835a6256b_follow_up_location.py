"""follow_ups.latitude / longitude / location_accuracy: where a follow-up written on the phone
(手机版) was written, when the salesperson allowed the location

Revision ID: 99a835a6256b
Revises: 008ebd44912f
Create Date: 2026-12-06 21:00:00.000000

Nullable columns only: every follow-up written before stays as it was (no location).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '99a835a6256b'
down_revision = '008ebd44912f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True))
        batch_op.add_column(sa.Column('location_accuracy', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_column('location_accuracy')
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')
