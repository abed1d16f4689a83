"""工单 search index: ticket_search (the subject's tokens, cut as customer search cuts them), its
SQLite FTS5 mirror with triggers and PostgreSQL's stored token array with a GIN index

Revision ID: 7b1e4d9a2c61
Revises: cf51588d23a3
Create Date: 2026-12-06 18:50:00.000000

Tickets written before this revision get their row here, so they are found as before.
"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa

# A copy of models/service.py's DDL as it stands at this revision (a migration never changes).
PG_TICKET_SEARCH_DDL = [
    "ALTER TABLE ticket_search ADD COLUMN token_array text[] "
    "GENERATED ALWAYS AS (string_to_array(tokens, ' ')) STORED",
    "CREATE INDEX ix_ticket_search_token_array ON ticket_search USING gin (token_array)",
]
SQLITE_TICKET_FTS_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS ticket_fts USING fts5(tokens, content='ticket_search', "
    "content_rowid='ticket_id', tokenize='unicode61 remove_diacritics 0')",
    "INSERT INTO ticket_fts(ticket_fts, rank) VALUES ('automerge', 16)",
    "CREATE TRIGGER IF NOT EXISTS ticket_search_ai AFTER INSERT ON ticket_search BEGIN "
    "INSERT INTO ticket_fts(rowid, tokens) VALUES (new.ticket_id, new.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS ticket_search_ad AFTER DELETE ON ticket_search BEGIN "
    "INSERT INTO ticket_fts(ticket_fts, rowid, tokens) VALUES ('delete', old.ticket_id, old.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS ticket_search_au AFTER UPDATE ON ticket_search BEGIN "
    "INSERT INTO ticket_fts(ticket_fts, rowid, tokens) VALUES ('delete', old.ticket_id, old.tokens); "
    "INSERT INTO ticket_fts(rowid, tokens) VALUES (new.ticket_id, new.tokens); END",
]

# revision identifiers, used by Alembic.
revision = '7b1e4d9a2c61'
down_revision = 'cf51588d23a3'
branch_labels = None
depends_on = None

# rules/search.py's cutting as it stands at this revision (CJK unigrams and bigrams, ASCII trigrams).
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[0-9a-z]+")
_IS_CJK = re.compile(rf"[{_CJK}]")


def _tokens(value: str) -> str:
    found: set[str] = set()
    text = " ".join(unicodedata.normalize("NFKC", value or "").split()).lower()
    for run in _RUNS.findall(text):
        if _IS_CJK.match(run):
            found |= set(run) | {run[i:i + 2] for i in range(len(run) - 1)}
        elif len(run) < 3:
            found.add(run)
        else:
            found |= {run[i:i + 3] for i in range(len(run) - 2)}
    return " ".join(sorted(found))


def upgrade():
    op.create_table('ticket_search',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('tokens', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_search_ticket_id_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_search'))
    )
    bind = op.get_bind()
    for statement in {"postgresql": PG_TICKET_SEARCH_DDL, "sqlite": SQLITE_TICKET_FTS_DDL}.get(bind.dialect.name, []):
        op.execute(statement)
    rows = [{"ticket_id": ident, "tokens": _tokens(subject)}
            for ident, subject in bind.execute(sa.text("SELECT id, subject FROM tickets"))]
    search = sa.table("ticket_search", sa.column("ticket_id", sa.Integer), sa.column("tokens", sa.Text))
    for start in range(0, len(rows), 5000):
        op.bulk_insert(search, rows[start:start + 5000])


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("ticket_search_ai", "ticket_search_ad", "ticket_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS ticket_fts")
    op.drop_table('ticket_search')
