"""知识库 and 问答库: categories, articles with tags and helpful votes, and the article search
index (SQLite FTS5 mirror with triggers; PostgreSQL's stored token array with a GIN index)

Revision ID: e892eef8e44a
Revises: fbe3c93fb5b6
Create Date: 2026-12-06 18:20:00.000000

New tables only; no existing row is changed.
"""
from alembic import op
import sqlalchemy as sa

import models.base

# A copy of models/knowledge.py's DDL as it stands at this revision (a migration never changes).
PG_KB_SEARCH_DDL = [
    "ALTER TABLE kb_article_search ADD COLUMN token_array text[] "
    "GENERATED ALWAYS AS (string_to_array(tokens, ' ')) STORED",
    "CREATE INDEX ix_kb_article_search_token_array ON kb_article_search USING gin (token_array)",
]
SQLITE_KB_FTS_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS kb_article_fts USING fts5(tokens, content='kb_article_search', "
    "content_rowid='article_id', tokenize='unicode61 remove_diacritics 0')",
    "INSERT INTO kb_article_fts(kb_article_fts, rank) VALUES ('automerge', 16)",
    "CREATE TRIGGER IF NOT EXISTS kb_article_search_ai AFTER INSERT ON kb_article_search BEGIN "
    "INSERT INTO kb_article_fts(rowid, tokens) VALUES (new.article_id, new.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS kb_article_search_ad AFTER DELETE ON kb_article_search BEGIN "
    "INSERT INTO kb_article_fts(kb_article_fts, rowid, tokens) VALUES ('delete', old.article_id, old.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS kb_article_search_au AFTER UPDATE ON kb_article_search BEGIN "
    "INSERT INTO kb_article_fts(kb_article_fts, rowid, tokens) VALUES ('delete', old.article_id, old.tokens); "
    "INSERT INTO kb_article_fts(rowid, tokens) VALUES (new.article_id, new.tokens); END",
]

# revision identifiers, used by Alembic.
revision = 'e892eef8e44a'
down_revision = 'fbe3c93fb5b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kb_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_categories')),
    sa.UniqueConstraint('name', name=op.f('uq_kb_categories_name'))
    )
    op.create_table('kb_articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('question', sa.Text(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('published_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('helpful_yes', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('helpful_no', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('views', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('custom', sa.JSON(), nullable=False),
    sa.Column('source_ticket_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_kb_articles_author_id_users')),
    sa.ForeignKeyConstraint(['category_id'], ['kb_categories.id'], name=op.f('fk_kb_articles_category_id_kb_categories')),
    sa.ForeignKeyConstraint(['source_ticket_id'], ['tickets.id'], name=op.f('fk_kb_articles_source_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_articles'))
    )
    with op.batch_alter_table('kb_articles', schema=None) as batch_op:
        batch_op.create_index('ix_kb_articles_status_updated', ['status', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_kb_articles_category_status', ['category_id', 'status', 'updated_at'], unique=False)
        batch_op.create_index('ix_kb_articles_updated', ['updated_at', 'id'], unique=False)

    op.create_table('kb_article_tags',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_article_tags_article_id_kb_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'tag', name=op.f('pk_kb_article_tags'))
    )
    with op.batch_alter_table('kb_article_tags', schema=None) as batch_op:
        batch_op.create_index('ix_kb_article_tags_tag', ['tag', 'article_id'], unique=False)

    op.create_table('kb_helpful_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_helpful_votes_article_id_kb_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_kb_helpful_votes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_helpful_votes'))
    )
    with op.batch_alter_table('kb_helpful_votes', schema=None) as batch_op:
        batch_op.create_index('uq_kb_helpful_votes', ['article_id', 'user_id'], unique=True)

    op.create_table('kb_article_search',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('tokens', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_article_search_article_id_kb_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_kb_article_search'))
    )
    bind = op.get_bind()
    for statement in {"postgresql": PG_KB_SEARCH_DDL, "sqlite": SQLITE_KB_FTS_DDL}.get(bind.dialect.name, []):
        op.execute(statement)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("kb_article_search_ai", "kb_article_search_ad", "kb_article_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS kb_article_fts")
    op.drop_table('kb_article_search')
    with op.batch_alter_table('kb_helpful_votes', schema=None) as batch_op:
        batch_op.drop_index('uq_kb_helpful_votes')
    op.drop_table('kb_helpful_votes')
    with op.batch_alter_table('kb_article_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_kb_article_tags_tag')
    op.drop_table('kb_article_tags')
    with op.batch_alter_table('kb_articles', schema=None) as batch_op:
        batch_op.drop_index('ix_kb_articles_updated')
        batch_op.drop_index('ix_kb_articles_category_status')
        batch_op.drop_index('ix_kb_articles_status_updated')
    op.drop_table('kb_articles')
    op.drop_table('kb_categories')
