"""附件: files on records. One table for every kind of record (`entity` + `record_id`); a record
kind gets attachments by being listed in AttachmentEntity and in rules/scope.ATTACHABLE."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, format_repr, utcnow
from models.files import StoredFileMixin
from models.org import User


class AttachmentEntity(enum.StrEnum):
    CUSTOMER = "customer"
    CONTACT = "contact"
    FOLLOW_UP = "follow_up"
    LEAD = "lead"
    OPPORTUNITY = "opportunity"
    QUOTE = "quote"
    CONTRACT = "contract"
    ORDER = "order"
    PAYMENT = "payment"  # 回款 (receipts and refunds)
    INVOICE = "invoice"
    OFFICE_REQUEST = "office_request"  # 工作请示 / 申请
    TICKET = "ticket"  # 工单 (photos of a fault, the customer's documents)


class Attachment(StoredFileMixin, db.Model):
    """A file on one record. Deleting it moves it to the recycle bin (deleted_at); the bytes go
    when it is purged from there."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[AttachmentEntity] = mapped_column(String(20), nullable=False)
    record_id: Mapped[int] = mapped_column(nullable=False)
    note: Mapped[str | None] = mapped_column(String(255))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])

    __table_args__ = (
        Index("ix_attachments_record", "entity", "record_id", "uploaded_at"),
        Index("ix_attachments_uploaded_at", "uploaded_at"),
        # Only the bin's rows: a full index on deleted_at told SQLite that `deleted_at IS NULL`
        # (every live file) was a few rows, and a list newest first sorted a million of them.
        Index("ix_attachments_deleted_at", "deleted_at", sqlite_where=text("deleted_at IS NOT NULL"),
              postgresql_where=text("deleted_at IS NOT NULL")),
        Index("ix_attachments_storage_key", "storage_key"),
    )

    def __repr__(self) -> str:
        return format_repr(self, "id", "entity", "record_id", "file_name")
