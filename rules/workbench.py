"""The workbench layout each user chooses: which widgets are hidden and in what order, kept as
a settings row per user ("workbench:<user id>") so no schema change is needed."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from rules import settings


def _key(user_id: int) -> str:
    return f"workbench:{user_id}"


def load_layout(session: Session, user_id: int) -> dict[str, list[str]]:
    value = settings.get(session, _key(user_id)) or {}
    return {"order": [str(k) for k in value.get("order", [])], "hidden": [str(k) for k in value.get("hidden", [])]}


def save_layout(session: Session, user_id: int, *, order: Sequence[str], hidden: Sequence[str],
                known: Sequence[str]) -> None:
    """Only widget keys that exist are kept; flushes, the caller commits."""
    allowed = set(known)
    settings.put(session, _key(user_id), {"order": [k for k in order if k in allowed],
                                          "hidden": sorted({k for k in hidden if k in allowed})})


def arrange(keys: Sequence[str], layout: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """(shown keys in the user's order, hidden keys). Widgets the user never placed keep
    their default position after the placed ones."""
    rank: dict[str, Any] = {k: i for i, k in enumerate(layout.get("order", []))}
    ordered = sorted(keys, key=lambda k: (rank.get(k, len(rank) + list(keys).index(k)),))
    hidden = set(layout.get("hidden", []))
    return [k for k in ordered if k not in hidden], [k for k in ordered if k in hidden]
