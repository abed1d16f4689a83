"""lead forms: 留资表单 and their posts

Revision ID: 87bc1757122a
Revises: 87fa136741e3
Create Date: 2026-12-06 06:00:00

Public web forms (issue 18): an administrator's forms, each under a random key, landing leads in
a lead pool, and the posts counted per client address for the rate limit. New tables only.
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = '87bc1757122a'
down_revision = '87fa136741e3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lead_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=43), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=128), nullable=True),
    sa.Column('intro', sa.Text(), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('thank_you', sa.Text(), nullable=True),
    sa.Column('max_posts_per_ip', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_lead_forms_created_by_id_users')),
    sa.ForeignKeyConstraint(['pool_id'], ['pools.id'], name=op.f('fk_lead_forms_pool_id_pools')),
    sa.ForeignKeyConstraint(['source_id'], ['dict_items.id'], name=op.f('fk_lead_forms_source_id_dict_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_forms')),
    sa.UniqueConstraint('key', name=op.f('uq_lead_forms_key'))
    )
    op.create_table('lead_form_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('at', models.base.UTCDateTime(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['form_id'], ['lead_forms.id'], name=op.f('fk_lead_form_posts_form_id_lead_forms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_form_posts_lead_id_leads'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_form_posts'))
    )
    with op.batch_alter_table('lead_form_posts', schema=None) as batch_op:
        batch_op.create_index('ix_lead_form_posts_at', ['at'], unique=False)
        batch_op.create_index('ix_lead_form_posts_form_ip_at', ['form_id', 'ip', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('lead_form_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_form_posts_form_ip_at')
        batch_op.drop_index('ix_lead_form_posts_at')
    op.drop_table('lead_form_posts')
    op.drop_table('lead_forms')
