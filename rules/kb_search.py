"""知识库搜索: an article is found by its title, question, answer or body text and tags, cut
into tokens exactly as customer search cuts them (rules/search.py: CJK unigrams and bigrams,
ASCII trigrams), so 滤芯 finds "更换滤芯的步骤" and 漏水 finds a Q&A whose answer mentions it.
The token index narrows the rows (SQLite FTS5 kb_article_fts; PostgreSQL's GIN on the stored
token_array); the substring check on `body` makes every answer exact."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, delete, insert
from sqlalchemy.orm import Session

from models.knowledge import KbArticle, KbArticleSearch
from rules import search
from rules.messaging import html_to_text

MAX_WORDS = 5  # each word is one probe of the index; a pasted paragraph is not a search


def searchable_values(article: KbArticle) -> list[str]:
    """Title first (a snippet starts there when nothing else matches), then the texts, then tags."""
    values: Iterable[object] = [article.title, article.question, article.answer, html_to_text(article.body or ""),
                                *(article.tags or [])]
    return [search.normalised(v) for v in values if v and search.normalised(v)]


def row_for(article_id: int, values: list[str]) -> dict[str, object]:
    """The kb_article_search row for already-normalised values (bulk loaders call this)."""
    return {"article_id": article_id, "body": "\n".join(values), "tokens": " ".join(sorted(search.tokens_of(values)))}


def refresh(session: Session, article: KbArticle) -> None:
    """Rewrite one article's search row (after every save)."""
    session.flush()
    session.execute(delete(KbArticleSearch).where(KbArticleSearch.article_id == article.id))
    session.execute(insert(KbArticleSearch), [row_for(article.id, searchable_values(article))])


def clause(session: Session, term: str) -> ColumnElement[bool] | None:
    """Articles whose text contains every word of `term` (an agent types 滤芯 漏水, words that
    need not stand side by side), as a WHERE clause on KbArticle (None: no term)."""
    parts = [found for word in term.split()[:MAX_WORDS] if (found := search.token_index_clause(
        session, word, key=KbArticle.id, index_key=KbArticleSearch.article_id, index_body=KbArticleSearch.body,
        fts_table="kb_article_fts", token_array="kb_article_search.token_array")) is not None]  # models/knowledge.py
    return and_(*parts) if parts else None


def snippet(text_: str, term: str, *, width: int = 40) -> str:
    """A few words of an article's own text (as written, not the normalised index) around the
    first place the term occurs, or its beginning when the term is only in the title or tags."""
    flat = " ".join(text_.split())
    found = [(at, word) for word in term.split() if (at := flat.lower().find(word.lower())) >= 0]
    if not found:
        return flat[:width * 2] + ("…" if len(flat) > width * 2 else "")
    at, word = min(found)
    start, end = max(0, at - width), at + len(word) + width
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")
