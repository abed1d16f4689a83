"""job records: when their files were removed by the retention job

Revision ID: e8b2d4f6a1c3
Revises: d2f8a6c4b1e7
Create Date: 2026-11-30 11:05:00

Uploads, rejected-row files and exports are deleted after FILE_RETENTION_DAYS; the job keeps
its counts and says 文件已过期清理 instead of offering a link to a file that is gone.
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = 'e8b2d4f6a1c3'
down_revision = 'd2f8a6c4b1e7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('files_expired_at', models.base.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('job_records', schema=None) as batch_op:
        batch_op.drop_column('files_expired_at')
