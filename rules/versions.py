"""Optimistic locking of the records people edit in forms (customers, contacts, orders,
products): the form carries the row version it was opened with; a save whose version is no
longer the record's is refused with who changed it and when, instead of silently undoing
their change. The version itself is SQLAlchemy's version_id_col (models/base.version_column),
which also refuses the save when the other change lands between this check and the commit."""
from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.system import AuditLog
from rules.errors import ChangedMeanwhile


GENERIC = _l("该记录已被他人修改，请刷新后再改")
# A save's log row is written in the same transaction as its updated_at, a moment later.
LOGGED_WITHIN = timedelta(seconds=5)


def is_versioned(model: type) -> bool:
    mapper = getattr(model, "__mapper__", None)
    return mapper is not None and mapper.version_id_col is not None


def stale(session: Session, model: type, ident: Any, *, tz: str) -> ChangedMeanwhile:
    """The refusal of a stale save of `model` #`ident`: who changed it last and at what local
    time, from the audit log (every request's change is logged there, by display name)."""
    with session.no_autoflush:  # the refused save's values are on the record: never write them
        last = session.execute(
            select(AuditLog.actor_name, AuditLog.at)
            .where(AuditLog.entity == model.__name__, AuditLog.entity_id == str(ident),
                   AuditLog.action.in_(("create", "update")))
            .order_by(AuditLog.id.desc()).limit(1)).first()
        changed_at = session.scalar(select(model.updated_at).where(model.id == int(ident)))
    if last is None or last.at is None or (changed_at is not None and changed_at - last.at > LOGGED_WITHIN):
        # The last change was a set-based batch (one UPDATE, no row in the log): naming the
        # previous person who saved would be wrong.
        return ChangedMeanwhile(GENERIC)
    who = last.actor_name or _l("系统")
    return ChangedMeanwhile(_l("该记录已被 %(who)s 于 %(hm)s 修改，请刷新后再改", who=who,
                               hm=last.at.astimezone(ZoneInfo(tz)).strftime("%H:%M")))


def check_current(session: Session, record: Any, seen: Any, *, tz: str) -> None:
    """Refuse (ChangedMeanwhile) when the version the form was opened with, `seen`, is not the
    record's version now. A form without a version (an API client, a page from before this
    check) is left to version_id_col, which still catches a change in flight."""
    try:
        opened = int(seen)
    except (TypeError, ValueError):
        return
    if opened != record.version:
        raise stale(session, type(record), record.id, tz=tz)
