"""文档搜索: a document is found by its name and by the text of its current version, cut into
tokens exactly as customer search cuts them (rules/search.py: CJK unigrams and bigrams, ASCII
trigrams), so 合同 and 报价单 find what people expect. The token index narrows the rows
(SQLite FTS5 document_fts; PostgreSQL's GIN on the stored token_array); the substring check on
`body` makes every answer exact. Scope is the document centre's (scope.document_clause)."""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, delete, insert, select
from sqlalchemy.orm import Session

from models.document import Document, DocumentSearch
from rules import scope, search
from rules.actor import Actor

RESULTS = 50


def body_of(name: str, text_: str = "") -> str:
    """The name on the first line, then the text (both normalised; the text on one line)."""
    return search.normalised(name) + "\n" + search.normalised(text_)


def row_for(document_id: int, name: str, text_: str = "") -> dict[str, object]:
    body = body_of(name, text_)
    return {"document_id": document_id, "body": body, "tokens": " ".join(sorted(search.tokens_of(body.split("\n"))))}


def refresh(session: Session, document: Document, text_: str | None = None) -> None:
    """Rewrite one document's search row: a new name, or (text_ given) its current version's text.
    Without text_ the text already indexed is kept, so a rename does not lose it."""
    session.flush()
    if text_ is None:
        body = session.scalar(select(DocumentSearch.body).where(DocumentSearch.document_id == document.id)) or ""
        kept = body.split("\n", 1)[1] if "\n" in body else ""
        row = row_for(document.id, document.name)
        row["body"] = str(row["body"]) + kept
        row["tokens"] = " ".join(sorted(search.tokens_of(str(row["body"]).split("\n"))))
    else:
        row = row_for(document.id, document.name, text_)
    session.execute(delete(DocumentSearch).where(DocumentSearch.document_id == document.id))
    session.execute(insert(DocumentSearch), [row])


def indexed_text(session: Session, document_id: int) -> str:
    body = session.scalar(select(DocumentSearch.body).where(DocumentSearch.document_id == document_id)) or ""
    return body.split("\n", 1)[1] if "\n" in body else ""


def clause(session: Session, term: str) -> ColumnElement[bool] | None:
    """Documents whose name or text contains `term`, as a WHERE clause on Document."""
    return search.token_index_clause(session, term, key=Document.id, index_key=DocumentSearch.document_id,
                                     index_body=DocumentSearch.body, fts_table="document_fts",
                                     token_array="document_search.token_array")  # see models/document.py


def query(session: Session, actor: Actor, term: str, *, folder_ids: list[int] | None = None) -> Select | None:
    """Live documents in the actor's scope matching `term`, newest first (None: no term)."""
    found = clause(session, term)
    if found is None:
        return None
    stmt = select(Document).where(found, scope.document_clause(actor), Document.deleted_at.is_(None))
    if folder_ids is not None:
        stmt = stmt.where(Document.folder_id.in_(folder_ids))
    return stmt.order_by(Document.updated_at.desc(), Document.id.desc())


def find(session: Session, actor: Actor, term: str, *, limit: int = RESULTS,
         folder_ids: list[int] | None = None) -> list[Document]:
    stmt = query(session, actor, term, folder_ids=folder_ids)
    return [] if stmt is None else list(session.scalars(stmt.limit(limit)))


def snippet(session: Session, document_id: int, term: str, *, width: int = 40) -> str:
    """A few words of the document's text around the first place the term occurs."""
    needle = search.normalised(term)
    body = indexed_text(session, document_id)
    at = body.find(needle) if needle else -1
    if at < 0:
        return ""
    start = max(0, at - width)
    return ("…" if start else "") + body[start:at + len(needle) + width] + ("…" if at + len(needle) + width < len(body) else "")
