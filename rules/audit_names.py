"""What an audit row's raw values refer to: `owner_id 11` is 陈晓明. The log keeps the raw
values (exports and later readers need them as they were); pages name the records they point
to, looked up once per page for every row on it."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from models import db
from models.system import AuditLog


def model_named(entity: str) -> type | None:
    """The mapped class an audit row's `entity` names (its class name)."""
    found = db.Model.registry._class_registry.get(entity)
    return found if isinstance(found, type) else None


def references(model: type) -> dict[str, type]:
    """Foreign-key columns of a model and the class each points to (owner_id → User)."""
    by_table = {mapper.local_table: mapper.class_ for mapper in db.Model.registry.mappers}
    out: dict[str, type] = {}
    for attr in inspect(model).column_attrs:
        for column in attr.columns:
            for fk in column.foreign_keys:
                target = by_table.get(fk.column.table)
                if target is not None:
                    out[attr.key] = target
    return out


def names(session: Session, rows: Iterable[AuditLog]) -> dict[tuple[type, int], str]:
    """The name of every record the rows' changes point to: one query per kind of record."""
    wanted: dict[type, set[int]] = defaultdict(set)
    for row in rows:
        model = model_named(row.entity)
        if model is None:
            continue
        refs = references(model)
        for key, pair in (row.changes or {}).items():
            target = refs.get(key)
            if target is None or not isinstance(pair, list):
                continue
            wanted[target].update(v for v in pair if isinstance(v, int) and not isinstance(v, bool))
    found: dict[tuple[type, int], str] = {}
    for target, ids in wanted.items():
        for record in session.scalars(select(target).where(inspect(target).primary_key[0].in_(ids))):
            found[(target, record.id)] = str(record)
    return found


def referenced(model: type | None, key: str) -> type | None:
    return references(model).get(key) if model is not None else None
