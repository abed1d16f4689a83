"""文档中心: folders (company-wide, per department, personal) holding documents with versions.
Rights are set on a top-level folder (a 空间) and hold for everything inside it, so every
folder and document carries its top folder's id (`root_id`) and scope is one IN on it."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DDL, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, format_repr, utcnow
from models.files import FileKind, StoredFileMixin
from models.org import User


class FolderKind(enum.StrEnum):
    COMPANY = "company"        # 公司文件夹
    DEPARTMENT = "department"  # 部门文件夹: the department's members (and its sub-departments')
    PERSONAL = "personal"      # 个人文件夹: its owner only


class GrantLevel(enum.StrEnum):
    """What a grant allows, each level including the ones before it."""

    VIEW = "view"      # 查看、下载
    UPLOAD = "upload"  # 上传、上传新版本
    MANAGE = "manage"  # 管理：子文件夹、删除、权限


class TextStatus(enum.StrEnum):
    """Whether a version's text was taken out for search (rules/document_text.py)."""

    PENDING = "pending"
    DONE = "done"
    NONE = "none"      # a kind that holds no text (an image, an archive)
    FAILED = "failed"  # unreadable or over the limits; the file is kept, only not searchable


class DocumentFolder(db.Model):
    __tablename__ = "document_folders"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("document_folders.id"), index=True)
    root_id: Mapped[int | None] = mapped_column(ForeignKey("document_folders.id"), index=True)  # itself for a top folder
    kind: Mapped[FolderKind] = mapped_column(String(16), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "name", "kind", "root_id")


class FolderGrant(db.Model):
    """A right on a top folder for a user, a role, or a department (with or without its
    sub-departments); a grant naming none of them is for everyone."""

    __tablename__ = "folder_grants"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("document_folders.id", ondelete="CASCADE"), nullable=False,
                                           index=True)
    level: Mapped[GrantLevel] = mapped_column(String(16), nullable=False, default=GrantLevel.VIEW)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    include_children: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class Document(db.Model):
    """A document: its name and where it is; the file itself is its current version."""

    __tablename__ = "documents"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("document_folders.id"), nullable=False)
    root_id: Mapped[int] = mapped_column(ForeignKey("document_folders.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    current_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    file_kind: Mapped[FileKind] = mapped_column(String(16), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    folder: Mapped[DocumentFolder] = relationship(foreign_keys=[folder_id])
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id])

    __table_args__ = (
        Index("ix_documents_folder_name", "folder_id", "name"),
        Index("ix_documents_root_updated", "root_id", "updated_at"),
        Index("ix_documents_updated_at", "updated_at"),
    )

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "name", "current_version")


class DocumentVersion(StoredFileMixin, db.Model):
    """One uploaded file of a document; a new version never replaces the old ones."""

    __tablename__ = "document_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    note: Mapped[str | None] = mapped_column(String(255))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    text_status: Mapped[TextStatus] = mapped_column(String(16), nullable=False, default=TextStatus.PENDING)

    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])

    __table_args__ = (UniqueConstraint("document_id", "number"),)


class DocumentSearch(db.Model):
    """What document search looks in, one row per document: its name and the text of its
    current version, cut into tokens the way customer search cuts them (rules/search.py).
    `body` is the normalised name on its first line, then the text. Like CustomerSearch,
    PostgreSQL keeps the tokens as a stored array with a GIN index, and SQLite mirrors them into
    the FTS5 table document_fts (DDL below; migration 3c8e1f0b7a92 creates the same)."""

    __tablename__ = "document_search"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    tokens: Mapped[str] = mapped_column(Text, nullable=False, default="")


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

for _statement in PG_DOCUMENT_SEARCH_DDL:
    event.listen(DocumentSearch.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_DOCUMENT_FTS_DDL:
    event.listen(DocumentSearch.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
