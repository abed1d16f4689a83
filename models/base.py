"""The declarative base, the shared `db` object and small mixins."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Integer, MetaData, TypeDecorator, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names let Alembic (and SQLite batch migrations) address constraints.
# The largest integer either database stores (SQLite INTEGER, PostgreSQL BIGINT): an id beyond it
# names no record, and passing it to SQL is a driver error.
MAX_DB_INT = 2**63 - 1
# The largest record id: ids are INTEGER columns, and on PostgreSQL SQLAlchemy binds an id as
# `$1::INTEGER`, so a bigger number in a URL would be a driver error instead of "no such record".
MAX_ID = 2**31 - 1

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, PostgreSQL would shift it."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


# The process clock's state. rules.clock is its API (pin, move, unpin); the state lives here
# because column defaults (created_at, ...) must follow it and models import no rules. A plain
# module global, not app config or a context variable, so every thread of the process (waitress
# serving a browser test, an embedded job) reads the same instant.
_pinned: datetime | None = None


def utcnow() -> datetime:
    """Now, aware UTC: the pinned instant if the process clock is pinned, else the wall clock."""
    pinned = _pinned
    return pinned if pinned is not None else datetime.now(timezone.utc)


def pinned_instant() -> datetime | None:
    """The hook behind rules.clock; call that instead."""
    return _pinned


def set_pinned(instant: datetime | None) -> None:
    """The hook behind rules.clock; call that instead."""
    global _pinned
    _pinned = instant


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


def version_column() -> Mapped[int]:
    """The row version of a record people edit in a form (optimistic locking): pass it as the
    mapper's `version_id_col`, so every ORM UPDATE says `WHERE version = <loaded>` and raises
    StaleDataError when someone saved in between; the edit form carries it (admin_views/base.py)."""
    return mapped_column(Integer, nullable=False, default=1, server_default=text("1"))


def format_repr(obj: object, *attrs: str) -> str:
    values = ", ".join(f"{a}={getattr(obj, a)!r}" for a in attrs)
    return f"<{type(obj).__name__} {values}>"
