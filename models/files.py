"""Stored files: what an attachment and a document version have in common. The bytes live under
FILES_DIR (shared storage when several hosts serve the app) by a generated key; the database
keeps the name the user gave, what the content was found to be, and its size and digest."""
from __future__ import annotations

import enum

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column


class FileKind(enum.StrEnum):
    """What the content was found to be by its first bytes (rules/file_types.py), not its name."""

    IMAGE = "image"
    PDF = "pdf"
    WORD = "word"
    EXCEL = "excel"
    PRESENTATION = "presentation"
    TEXT = "text"
    ARCHIVE = "archive"
    AUDIO = "audio"
    VIDEO = "video"


class StoredFileMixin:
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)  # as uploaded, cleaned
    storage_key: Mapped[str] = mapped_column(String(80), nullable=False)  # generated; never the user's name
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    mime: Mapped[str] = mapped_column(String(100), nullable=False)  # from the content
    file_kind: Mapped[FileKind] = mapped_column(String(16), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    thumb_key: Mapped[str | None] = mapped_column(String(80))  # images only
