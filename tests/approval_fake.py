"""A document type that exists only in tests ("test_doc"), so the approval mechanism, its pages
and its panel are tested without any real document. Its rows are Setting rows, so what its
hooks write commits or rolls back with the deciding transaction, like a real document's."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Setting, User
from models.approval import ApprovalFlow, ApprovalStep, StepKind, StepMode
from rules import approvals, settings
from rules.actor import Actor

DOC = "test_doc"


def _key(doc_id: int) -> str:
    return f"test_doc:{int(doc_id)}"


def make_doc(session: Session, doc_id: int, *, title: str, owner_id: int, amount: str = "1000.00",
             self_ok: bool = False) -> int:
    settings.put(session, _key(doc_id), {"id": doc_id, "title": title, "owner_id": owner_id, "amount": amount,
                                         "self_ok": self_ok, "state": "draft", "approved": 0})
    return doc_id


def doc_state(session: Session, doc_id: int) -> dict[str, Any]:
    session.expire_all()
    return settings.get(session, _key(doc_id))


def _load(session: Session, doc_id: int) -> dict[str, Any] | None:
    row = session.get(Setting, _key(doc_id))
    return dict(row.value["v"]) if row is not None else None


def _summary(doc: dict[str, Any]) -> tuple[str, Decimal, int, bool]:
    return doc["title"], Decimal(doc["amount"]), doc["owner_id"], doc["self_ok"]


def _set(session: Session, doc: dict[str, Any], **changes: Any) -> None:
    settings.put(session, _key(doc["id"]), {**doc, **changes})


def _approved(session: Session, doc: dict[str, Any], *, actor: Actor, now: Any) -> None:
    _set(session, doc, state="approved", approved=doc["approved"] + 1)


def _returned(session: Session, doc: dict[str, Any], *, actor: Actor, now: Any, action: Any, reason: Any) -> None:
    _set(session, doc, state="draft", returned=str(action))


approvals.register(approvals.DocumentHooks(
    doc_type=DOC, load=_load, summary=_summary, link=lambda doc: f"/admin/?test_doc={doc['id']}",
    on_approved=_approved, on_returned=_returned))


def make_flow(session: Session, *steps: dict[str, Any], doc_type: str = DOC, enabled: bool = True,
              threshold: Decimal | None = None) -> ApprovalFlow:
    """A flow of steps given as dicts: kind, mode, and levels/role (name)/users (usernames)/allow_self."""
    old = approvals.flow_for(session, doc_type)
    if old is not None:
        session.delete(old)
        session.flush()
    flow = ApprovalFlow(doc_type=doc_type, name="测试审批", enabled=enabled, threshold=threshold)
    for position, spec in enumerate(steps):
        role_id = None
        if spec.get("role"):
            from models import Role
            role_id = session.scalar(select(Role.id).where(Role.name == spec["role"]))
        users = [session.scalar(select(User.id).where(User.username == u)) for u in spec.get("users", ())]
        flow.steps.append(ApprovalStep(position=position, name=spec.get("name", f"第{position + 1}步"),
                                       kind=StepKind(spec["kind"]), levels=spec.get("levels", 1), role_id=role_id,
                                       user_ids=users, mode=StepMode(spec.get("mode", "any")),
                                       allow_self=spec.get("allow_self", False)))
    session.add(flow)
    session.flush()
    return flow


def actor(session: Session, username: str) -> Actor:
    return Actor.from_user(session.scalar(select(User).where(User.username == username)), has_shares=False)


def user_id(session: Session, username: str) -> int:
    return session.scalar(select(User.id).where(User.username == username))
