"""The audit log, written from SQLAlchemy session events so no path can forget it.

Whoever opens a unit of work on behalf of a person (a request, a job acting for a user)
puts an AuditContext in `session.info["audit"]`; every flush then records the creates,
updates and deletes of audited models (`__audited__ = True`) with before/after values,
in the same transaction as the change itself.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from models.system import AuditLog
from rules import clock

MASK = "******"
INFO_KEY = "audit"


@dataclass(frozen=True)
class AuditContext:
    actor_id: int | None
    actor_name: str | None
    ip: str | None = None


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _columns(obj: Any) -> list[str]:
    ignored = getattr(obj, "__audit_ignored__", frozenset()) | {"created_at", "updated_at", "version"}
    return [a.key for a in inspect(type(obj)).column_attrs if a.key not in ignored]


def _shown(obj: Any, key: str, value: Any) -> Any:
    if key in getattr(obj, "__audit_masked__", frozenset()) and value is not None:
        return MASK
    return _plain(value)


def _changes(obj: Any, action: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    out: dict[str, list[Any]] = {}
    for key in _columns(obj):
        if action == "create":
            value = getattr(obj, key)
            if value is not None:
                out[key] = [None, _shown(obj, key, value)]
        elif action == "delete":
            value = state.dict.get(key)  # the row is gone: read what was loaded, never reload
            if value is not None:
                out[key] = [_shown(obj, key, value), None]
        else:
            hist = state.attrs[key].history
            if not hist.has_changes():
                continue
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if _plain(before) != _plain(after):
                out[key] = [_shown(obj, key, before), _shown(obj, key, after)]
    return out


def _primary_key(obj: Any) -> str | None:
    values = inspect(type(obj)).primary_key_from_instance(obj)
    return ",".join(str(v) for v in values) if values and None not in values else None


def _entry(obj: Any, action: str, ctx: AuditContext) -> dict[str, Any] | None:
    changes = _changes(obj, action)
    if action == "update" and not changes:
        return None
    return {
        "at": clock.now(),
        "actor_id": ctx.actor_id,
        "actor_name": ctx.actor_name,
        "action": action,
        "entity": type(obj).__name__,
        "entity_id": _primary_key(obj),
        "entity_label": str(obj)[:200],
        "changes": changes,
        "ip": ctx.ip,
    }


PENDING_KEY = "audit_pending"


def _merge(earlier: dict[str, Any], later: dict[str, Any]) -> dict[str, Any] | None:
    """One row per record per transaction: a create then updates stays a create with the
    final values; updates keep the first "before" and the last "after"."""
    if earlier["action"] == "create" and later["action"] == "delete":
        return None
    if later["action"] == "delete":
        return later
    changes = dict(earlier["changes"])
    for key, (before, after) in later["changes"].items():
        first_before = changes[key][0] if key in changes else before
        changes[key] = [first_before, after]
    if earlier["action"] == "update":
        changes = {k: v for k, v in changes.items() if v[0] != v[1]}
    merged = dict(earlier, changes=changes, entity_label=later["entity_label"])
    return merged if merged["changes"] or merged["action"] != "update" else None


def _after_flush(session: Session, _flush_context: Any) -> None:
    ctx = session.info.get(INFO_KEY)
    if ctx is None:
        return
    pending: dict[tuple[str, str | None], dict[str, Any] | None] = session.info.setdefault(PENDING_KEY, {})
    for action, objs in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objs:
            if not getattr(type(obj), "__audited__", False):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            entry = _entry(obj, action, ctx)
            if entry is None:
                continue
            key = (entry["entity"], entry["entity_id"])
            if key in pending:
                pending[key] = _merge(pending[key], entry) if pending[key] else entry
            else:
                pending[key] = entry


def _before_commit(session: Session) -> None:
    # SAVEPOINT releases fire this event too; only the outermost commit writes the log.
    if session.info.get(INFO_KEY) is None or session.in_nested_transaction():
        return
    session.flush()  # the last changes of the transaction reach _after_flush first
    rows = [row for row in session.info.pop(PENDING_KEY, {}).values() if row]
    if rows:
        # A Core insert on the transaction's connection: committed with the change itself.
        session.connection().execute(AuditLog.__table__.insert(), rows)


def _after_soft_rollback(session: Session, _previous_transaction: Any) -> None:
    session.info.pop(PENDING_KEY, None)


def install(session_class: type[Session]) -> None:
    for name, handler in (("after_flush", _after_flush), ("before_commit", _before_commit),
                          ("after_soft_rollback", _after_soft_rollback)):
        if not event.contains(session_class, name, handler):
            event.listen(session_class, name, handler)


def record(session: Session, *, ctx: AuditContext, action: str, entity: str,
           details: dict[str, Any], entity_id: str | None = None) -> None:
    """An audit row for an act that changes no row, such as an export."""
    session.add(AuditLog(at=clock.now(), actor_id=ctx.actor_id, actor_name=ctx.actor_name,
                         action=action, entity=entity, entity_id=entity_id,
                         changes=_plain(details), ip=ctx.ip))
    session.flush()
