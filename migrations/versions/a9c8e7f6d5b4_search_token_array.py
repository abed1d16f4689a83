"""quick search: PostgreSQL keeps the tokens as a stored array

Revision ID: a9c8e7f6d5b4
Revises: f1b2c3d4e5a6
Create Date: 2026-11-30 08:55:00

PostgreSQL re-checks every GIN hit of `@>`; with the index on string_to_array(tokens) each
re-check split the string again (a second per count of a common term at a million customers).
A stored generated array is compared as it is. SQLite (FTS5) is unchanged. Adding the column
rewrites customer_search once.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a9c8e7f6d5b4'
down_revision = 'f1b2c3d4e5a6'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE customer_search ADD COLUMN token_array text[] "
               "GENERATED ALWAYS AS (string_to_array(tokens, ' ')) STORED")
    op.execute("CREATE INDEX ix_customer_search_token_array ON customer_search USING gin (token_array)")
    op.execute("DROP INDEX IF EXISTS ix_customer_search_tokens")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_customer_search_tokens ON customer_search USING gin (string_to_array(tokens, ' '))")
    op.execute("DROP INDEX IF EXISTS ix_customer_search_token_array")
    op.execute("ALTER TABLE customer_search DROP COLUMN token_array")
