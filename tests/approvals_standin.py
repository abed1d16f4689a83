"""A stand-in for rules/approvals.py (engineer 1's, not on this branch): the names and signatures
the contract module calls, recording each call, so the contract's wiring is tested before the
real mechanism is merged. Used only by tests/test_rules_contracts.py; delete once it is merged."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

calls: list[tuple[Any, ...]] = []
registered: dict[str, Any] = {}
applies = True


@dataclass(frozen=True)
class DocumentHooks:
    doc_type: str
    load: Any
    summary: Any
    link: Any
    on_approved: Any
    on_returned: Any


def register(hooks: DocumentHooks) -> None:
    registered[str(hooks.doc_type)] = hooks


def requires_approval(session: Any, doc_type: str, *, figure: Any = None) -> bool:
    calls.append(("requires_approval", str(doc_type), figure))
    return applies


def submit(session: Any, doc_type: str, doc_id: int, *, actor: Any, now: Any, note: Any = None) -> None:
    hooks = registered[str(doc_type)]
    calls.append(("submit", str(doc_type), doc_id, hooks.summary(hooks.load(session, doc_id))))


def cancel_for(session: Any, doc_type: str, doc_id: int, *, actor: Any, now: Any, reason: str) -> None:
    calls.append(("cancel_for", str(doc_type), doc_id, reason))
