"""Notifications under the bell."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import LazyString, gettext
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.office import Notification, NotificationKind
from rules import i18n, links
from rules.actor import Actor
from rules.links import Link
from rules.scope import clause_for, scoped


def title_parts(title: str | LazyString) -> tuple[str, str | None, dict[str, Any] | None]:
    """A title given as a lazy message (_l("%(n)d 位客户…", n=3)) is kept as its message and values,
    so each reader sees it in their own language, and as its text in the default language for
    search and lists (rules/i18n.py); plain text as it is."""
    text, key, params = i18n.parts(title)
    return text[:200], key, params


def title_of(note: Notification) -> str:
    """The title in the reader's language."""
    if note.title_key:
        try:
            return gettext(note.title_key, **(note.title_params or {}))
        except (KeyError, TypeError, ValueError):  # a translation whose placeholders do not fit
            return note.title
    return note.title


def notify(session: Session, *, user_id: int, title: str | LazyString, now: datetime, body: str | None = None,
           link: Link | None = None, dedupe_key: str | None = None,
           kind: NotificationKind = NotificationKind.OTHER) -> Notification | None:
    """Add a notification; with `dedupe_key`, at most one per user and key (None if it exists).
    Give `title` as a lazy message (see `title_parts`), not as text rendered for the actor, and
    `link` as what it opens (stored as `links.dump` text, made a URL when the reader opens it)."""
    if dedupe_key is not None:
        exists = session.scalar(select(Notification.id).where(Notification.user_id == user_id,
                                                              Notification.dedupe_key == dedupe_key))
        if exists is not None:
            return None
    text, key, params = title_parts(title)
    note = Notification(user_id=user_id, kind=NotificationKind(kind).value, title=text, title_key=key, title_params=params, body=body,
                        link=links.dump(link) if link is not None else None,
                        created_at=now, dedupe_key=dedupe_key)
    session.add(note)
    session.flush()
    return note


def unread_count(session: Session, actor: Actor) -> int:
    stmt = scoped(select(func.count(Notification.id)), Notification, actor)
    return session.scalar(stmt.where(Notification.read_at.is_(None))) or 0


def latest_unread(session: Session, actor: Actor, *, limit: int = 5) -> list[Notification]:
    stmt = scoped(select(Notification), Notification, actor).where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.created_at.desc()).limit(limit)))


def mark_read(session: Session, ids: list[int], *, actor: Actor, now: datetime) -> int:
    stmt = (
        update(Notification)
        .where(Notification.id.in_(ids), clause_for(Notification, actor),
               Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount
