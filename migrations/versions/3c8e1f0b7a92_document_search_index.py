"""document search index: SQLite FTS5 mirror of document_search.tokens (with triggers) and
PostgreSQL's stored token array with a GIN index, as customer search has (models/document.py)

Revision ID: 3c8e1f0b7a92
Revises: 6a57f323c426
Create Date: 2026-12-06 12:10:00.000000

"""
from alembic import op

# A copy of models/document.py's DDL as it stands at this revision (a migration never changes).
PG_DOCUMENT_SEARCH_DDL = [
    "ALTER TABLE document_search ADD COLUMN token_array text[] "
    "GENERATED ALWAYS AS (string_to_array(tokens, ' ')) STORED",
    "CREATE INDEX ix_document_search_token_array ON document_search USING gin (token_array)",
]
SQLITE_DOCUMENT_FTS_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS document_fts USING fts5(tokens, content='document_search', "
    "content_rowid='document_id', tokenize='unicode61 remove_diacritics 0')",
    "INSERT INTO document_fts(document_fts, rank) VALUES ('automerge', 16)",
    "CREATE TRIGGER IF NOT EXISTS document_search_ai AFTER INSERT ON document_search BEGIN "
    "INSERT INTO document_fts(rowid, tokens) VALUES (new.document_id, new.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS document_search_ad AFTER DELETE ON document_search BEGIN "
    "INSERT INTO document_fts(document_fts, rowid, tokens) VALUES ('delete', old.document_id, old.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS document_search_au AFTER UPDATE ON document_search BEGIN "
    "INSERT INTO document_fts(document_fts, rowid, tokens) VALUES ('delete', old.document_id, old.tokens); "
    "INSERT INTO document_fts(rowid, tokens) VALUES (new.document_id, new.tokens); END",
]

# revision identifiers, used by Alembic.
revision = '3c8e1f0b7a92'
down_revision = '6a57f323c426'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    statements = {"postgresql": PG_DOCUMENT_SEARCH_DDL, "sqlite": SQLITE_DOCUMENT_FTS_DDL}.get(bind.dialect.name, [])
    for statement in statements:
        op.execute(statement)
    if bind.dialect.name == "sqlite":  # rows written before this revision enter the index too
        op.execute("INSERT INTO document_fts(document_fts) VALUES ('rebuild')")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_document_search_token_array")
        op.execute("ALTER TABLE document_search DROP COLUMN IF EXISTS token_array")
    elif bind.dialect.name == "sqlite":
        for trigger in ("document_search_ai", "document_search_ad", "document_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS document_fts")
