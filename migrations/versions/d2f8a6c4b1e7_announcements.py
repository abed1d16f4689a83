"""announcements (公告) and their department audience

Revision ID: d2f8a6c4b1e7
Revises: d2f4b6a8c0e1
Create Date: 2026-11-30 11:00:00

"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'd2f8a6c4b1e7'
down_revision = 'd2f4b6a8c0e1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('announcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('published_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('whole_company', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_announcements_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcements'))
    )
    with op.batch_alter_table('announcements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcements_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_announcements_feed', ['pinned', 'published_at'], unique=False)

    op.create_table('announcement_departments',
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'], name=op.f('fk_announcement_departments_announcement_id_announcements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_announcement_departments_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('announcement_id', 'department_id', name=op.f('pk_announcement_departments'))
    )
    with op.batch_alter_table('announcement_departments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_departments_department_id'), ['department_id'], unique=False)


def downgrade():
    with op.batch_alter_table('announcement_departments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcement_departments_department_id'))
    op.drop_table('announcement_departments')
    with op.batch_alter_table('announcements', schema=None) as batch_op:
        batch_op.drop_index('ix_announcements_feed')
        batch_op.drop_index(batch_op.f('ix_announcements_author_id'))
    op.drop_table('announcements')
