"""知识库 and 问答库: articles and Q&As in categories, written as drafts, published for every
agent to find, archived when out of date. Search runs on KbArticleSearch, cut into tokens the
way customer search cuts them (rules/search.py); rules/knowledge.py keeps drafts to editors."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DDL, JSON, Boolean, ForeignKey, Index, Integer, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.org import User


class ArticleKind(enum.StrEnum):
    ARTICLE = "article"  # 文章: a how-to with a body
    QA = "qa"            # 问答: a customer's question and the answer agents give


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"          # 草稿: editors only
    PUBLISHED = "published"  # 已发布: everyone with knowledge.view, the reply picker
    ARCHIVED = "archived"    # 已归档: out of date, kept for editors


class KbCategory(db.Model):
    __tablename__ = "kb_categories"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __str__(self) -> str:
        return self.name


class KbArticle(TimestampMixin, db.Model):
    __tablename__ = "kb_articles"
    __audited__ = True
    __audit_ignored__ = frozenset({"helpful_yes", "helpful_no", "views"})

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    kind: Mapped[ArticleKind] = mapped_column(String(12), nullable=False, default=ArticleKind.ARTICLE)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    # 文章: body (nh3-cleaned HTML or plain text). 问答: question and answer (plain text, the
    # answer goes into a ticket reply as it is).
    body: Mapped[str | None] = mapped_column(Text)
    question: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("kb_categories.id"))
    tags: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # as typed; KbArticleTag filters
    status: Mapped[ArticleStatus] = mapped_column(String(12), nullable=False, default=ArticleStatus.DRAFT)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    helpful_yes: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    helpful_no: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    views: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    custom: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))  # 转为知识库文章

    category: Mapped[KbCategory | None] = relationship()
    author: Mapped[User] = relationship()

    __table_args__ = (
        # The list: one status (published for most readers), newest change first.
        Index("ix_kb_articles_status_updated", "status", "updated_at", "id"),
        # Editors' list (every status), newest change first: a page without sorting every hit.
        Index("ix_kb_articles_updated", "updated_at", "id"),
        Index("ix_kb_articles_category_status", "category_id", "status", "updated_at"),
    )

    def __str__(self) -> str:
        return self.title

    def __repr__(self) -> str:
        return format_repr(self, "id", "kind", "status")


class KbArticleTag(db.Model):
    """One tag of one article, so 按标签筛选 is an index look-up, not a scan of JSON lists."""

    __tablename__ = "kb_article_tags"

    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)

    __table_args__ = (Index("ix_kb_article_tags_tag", "tag", "article_id"),)


class KbHelpfulVote(db.Model):
    """有帮助 / 没帮助: one vote per person and article (the unique key keeps a double click, or
    two tabs, from counting twice)."""

    __tablename__ = "kb_helpful_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    helpful: Mapped[bool] = mapped_column(Boolean, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (Index("uq_kb_helpful_votes", "article_id", "user_id", unique=True),)


class KbArticleSearch(db.Model):
    """What knowledge search looks in, one row per article: title, question, answer or body text
    and tags, normalised, cut into tokens as customer search cuts them. PostgreSQL keeps the
    tokens as a stored array with a GIN index; SQLite mirrors them into the FTS5 table
    kb_article_fts (DDL below; the migration creates the same)."""

    __tablename__ = "kb_article_search"

    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    tokens: Mapped[str] = mapped_column(Text, nullable=False, default="")


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

for _statement in PG_KB_SEARCH_DDL:
    event.listen(KbArticleSearch.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_KB_FTS_DDL:
    event.listen(KbArticleSearch.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
