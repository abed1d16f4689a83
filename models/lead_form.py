"""留资表单: public web forms an administrator publishes (each under its own random key) whose
posts land as leads in a lead pool, and the posts counted per client address for the rate limit."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow
from models.dictionary import DictItem
from models.pool import Pool


class LeadForm(TimestampMixin, db.Model):
    """One published form: /f/<key>. `fields` maps a lead field to "shown" or "required" (a
    field not named is not on the form; the name is always asked for)."""

    __tablename__ = "lead_forms"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(43), nullable=False, unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), nullable=False)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("dict_items.id"))
    title: Mapped[str | None] = mapped_column(String(128))  # the heading visitors see
    intro: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    thank_you: Mapped[str | None] = mapped_column(Text)
    max_posts_per_ip: Mapped[int] = mapped_column(Integer, nullable=False, default=5)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    pool: Mapped[Pool] = relationship()
    source: Mapped[DictItem | None] = relationship()

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "name", "enabled")


class LeadFormPost(db.Model):
    """A post to a form (taken, or dropped by the honeypot): what the per-address limit counts,
    in the database so every web process sees the same count."""

    __tablename__ = "lead_form_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("lead_forms.id", ondelete="CASCADE"), nullable=False)
    ip: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))

    __table_args__ = (Index("ix_lead_form_posts_form_ip_at", "form_id", "ip", "at"),
                      Index("ix_lead_form_posts_at", "at"))
