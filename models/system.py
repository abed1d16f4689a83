"""System records: audit log, login log, periodic job runs."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, db, format_repr, utcnow


class AuditLog(db.Model):
    """Who changed what. Written by rules.audit from session events; never edited."""

    __tablename__ = "audit_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_name: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16), nullable=False)  # create/update/delete/export
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[str | None] = mapped_column(String(64))
    entity_label: Mapped[str | None] = mapped_column(String(200))
    changes: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_logs_entity", "entity", "entity_id"),)

    def __repr__(self) -> str:
        return format_repr(self, "id", "action", "entity", "entity_id")


class LoginReason(enum.StrEnum):
    """Why a login was refused (LoginLog.reason; empty for a success)."""

    BAD_PASSWORD = "bad_password"
    UNKNOWN_USER = "unknown_user"
    DISABLED = "disabled"  # only after the right password: before it, a disabled account looks like any other
    LOCKED = "locked"  # rows from before throttling replaced the day-long lock
    THROTTLED = "throttled"  # refused with a wait, the password not checked
    BAD_CAPTCHA = "bad_captcha"  # the CAPTCHA was missing or wrong, the password not checked
    IP_DENIED = "ip_denied"  # the right password from outside the role's IP allow-list


class LoginLog(db.Model):
    __tablename__ = "login_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    success: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reason: Mapped[LoginReason | None] = mapped_column(String(32))

    # The login throttle counts recent failures by username and by IP (rules/auth.py).
    __table_args__ = (Index("ix_login_logs_user_at", "user_id", "at"),
                      Index("ix_login_logs_username_at", "username", "at"),
                      Index("ix_login_logs_ip_at", "ip", "at"))

    def __repr__(self) -> str:
        return format_repr(self, "id", "username", "success")


class LoginCaptcha(db.Model):
    """The answer of a CAPTCHA image shown on the login page. The browser's session holds only
    the random id, so the answer never travels in the (readable) cookie; the row is deleted when
    the answer is checked, so one image serves one attempt, on whichever web process gets it."""

    __tablename__ = "login_captchas"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    answer: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)


class PeriodicRun(db.Model):
    """Last run of each periodic job, so /healthz can tell whether the schedule is firing."""

    __tablename__ = "periodic_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    runs: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_result: Mapped[str | None] = mapped_column(String(255))


class Setting(db.Model):
    """Administrator settings that are data, not deployment config (e.g. the customer code
    pattern). Values are JSON; defaults live in rules/settings.py."""

    __tablename__ = "settings"
    __audited__ = True

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, nullable=False)

    def __str__(self) -> str:
        return self.key


class Sequence(db.Model):
    """Counters behind generated numbers: one row per (name, period), bumped by a guarded
    UPDATE so two sessions never get the same number."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class CustomField(db.Model):
    """自定义字段: a field the administrator adds to customers or contacts. Values live in the
    record's `custom` JSON under `key`, so no migration or restart is needed."""

    __tablename__ = "custom_fields"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(16), nullable=False, default="customer")
    key: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[str] = mapped_column(String(64), nullable=False)
    field_type: Mapped[str] = mapped_column(String(16), nullable=False, default="text")
    options: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    show_in_list: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    searchable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    importable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # a dimension of 客户数量报表 (single/multiple choice and yes/no fields)
    statistics: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=sa_false())
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("entity", "key", name="uq_custom_fields_entity_key"),)

    def __str__(self) -> str:
        return self.label
