"""contacts: 身份证号 and 农历生日 (month, day, leap month) with the calendar the greeting follows

Revision ID: 5d8a31c7e2f4
Revises: 38fa09e0768c
Create Date: 2026-12-06 21:10:00

Existing contacts keep their solar birthday and are greeted by it as before (birthday_calendar
'solar'); the new columns are empty. Plain ADD COLUMN (no batch copy of the table), so the
partial one-primary index on contacts stays as it is.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d8a31c7e2f4'
down_revision = '38fa09e0768c'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('contacts', sa.Column('id_number', sa.String(length=18), nullable=True))
    op.add_column('contacts', sa.Column('lunar_birth_month', sa.SmallInteger(), nullable=True))
    op.add_column('contacts', sa.Column('lunar_birth_day', sa.SmallInteger(), nullable=True))
    op.add_column('contacts', sa.Column('lunar_birth_leap', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('contacts', sa.Column('birthday_calendar', sa.String(length=8), nullable=False,
                                        server_default='solar'))
    op.create_index('ix_contacts_lunar_birthday', 'contacts', ['lunar_birth_month', 'lunar_birth_day'])


def downgrade():
    op.drop_index('ix_contacts_lunar_birthday', table_name='contacts')
    for name in ('birthday_calendar', 'lunar_birth_leap', 'lunar_birth_day', 'lunar_birth_month', 'id_number'):
        op.drop_column('contacts', name)
