"""Notifications under the bell."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.office import Notification
from rules.actor import Actor
from rules.scope import clause_for, scoped


def notify(session: Session, *, user_id: int, title: str, now: datetime, body: str | None = None,
           link: str | None = None, dedupe_key: str | None = None) -> Notification | None:
    """Add a notification; with `dedupe_key`, at most one per user and key (None if it exists)."""
    if dedupe_key is not None:
        exists = session.scalar(select(Notification.id).where(Notification.user_id == user_id,
                                                              Notification.dedupe_key == dedupe_key))
        if exists is not None:
            return None
    note = Notification(user_id=user_id, title=title, body=body, link=link, created_at=now,
                        dedupe_key=dedupe_key)
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
