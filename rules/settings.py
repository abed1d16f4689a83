"""Administrator settings stored in the database, with their defaults."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models.system import Setting

DEFAULTS: dict[str, Any] = {
    "customer_code_pattern": "KH{yyyy}{seq:05d}",
    "pool_enabled": True,
}


def get(session: Session, key: str) -> Any:
    row = session.get(Setting, key)
    return row.value.get("v") if row is not None else DEFAULTS.get(key)


def put(session: Session, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value={"v": value}))
    else:
        row.value = {"v": value}
    session.flush()
