"""The state machine of a 销售机会 (DESIGN §6), the one every path uses: the form, the board's
drag and drop, the list's batch actions and the buttons of the opportunity page.

    进行中 (open, at a stage of its group) ↔ any active stage of the same group (move)
    进行中 → 赢单 won | 输单 lost (a reason from 输单原因) | 无效 invalid (a note)
    赢单 | 输单 | 无效 → 进行中 (reopen: a manager's permission; not once a won deal made its order)

A closed opportunity keeps the stage it reached (reports read 赢单 as 100 %). Every move is one
guarded UPDATE (WHERE id, the outcome and stage as read, and the row version) checked by its row
count, plus one OpportunityEvent, so two people dragging the same card at once get one move and
one refusal, on SQLite and PostgreSQL alike. Nothing here commits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import Session

from models.dictionary import DictItem, DictKind
from models.opportunity import Opportunity, OpportunityAction, OpportunityEvent, Outcome, Stage
from rules import activity, normalize, scope
from rules.actor import Actor
from rules.errors import ChangedMeanwhile, InvalidValue, OpportunityMoveRefused, PermissionDenied, StageFieldsMissing


ACTION_LABELS = {
    OpportunityAction.STAGE: _l("推进阶段"), OpportunityAction.WON: _l("赢单"), OpportunityAction.LOST: _l("输单"),
    OpportunityAction.INVALID: _l("标记无效"), OpportunityAction.REOPEN: _l("重新打开"),
}

OUTCOME_LABELS = {Outcome.OPEN: _l("进行中"), Outcome.WON: _l("赢单"), Outcome.LOST: _l("输单"),
                  Outcome.INVALID: _l("无效")}

# What a stage's required_fields may name, with the label a salesperson knows the field by.
FIELD_LABELS: dict[str, Any] = {
    "amount": _l("金额"),
    "expected_close_on": _l("预计成交日期"),
    "contact_id": _l("联系人"),
    "source_id": _l("来源"),
    "price_level_id": _l("价格等级"),
    "notes": _l("备注"),
    "lines": _l("产品明细"),
}

CHANGED = _l("该销售机会已被他人改动，请刷新后重试")
CLOSED = (Outcome.WON, Outcome.LOST, Outcome.INVALID)


@dataclass(frozen=True)
class Transition:
    sources: tuple[Outcome, ...]
    target: Outcome
    permission: str


TRANSITIONS: dict[OpportunityAction, Transition] = {
    OpportunityAction.STAGE: Transition((Outcome.OPEN,), Outcome.OPEN, "opportunity.edit"),
    OpportunityAction.WON: Transition((Outcome.OPEN,), Outcome.WON, "opportunity.edit"),
    OpportunityAction.LOST: Transition((Outcome.OPEN,), Outcome.LOST, "opportunity.edit"),
    OpportunityAction.INVALID: Transition((Outcome.OPEN,), Outcome.INVALID, "opportunity.edit"),
    OpportunityAction.REOPEN: Transition(CLOSED, Outcome.OPEN, "opportunity.reopen"),
}


def allows(actor: Actor, action: OpportunityAction) -> bool:
    """Whether the actor may make this kind of move at all (the page's buttons ask this too)."""
    return actor.can(TRANSITIONS[action].permission)


def _filled(opportunity: Opportunity, field: str) -> bool:
    if field == "lines":
        return bool(opportunity.lines)
    value = getattr(opportunity, field, None)
    if field == "amount":
        return value is not None and Decimal(value) > 0
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def missing_fields(opportunity: Opportunity, stage: Stage) -> list[str]:
    """Labels of the fields `stage` requires that the opportunity lacks (an amount of 0 counts as
    missing), in the stage's order."""
    return [str(FIELD_LABELS.get(f, f)) for f in (stage.required_fields or []) if not _filled(opportunity, f)]


def _load(session: Session, opportunity_id: Any, actor: Actor, action: OpportunityAction) -> Opportunity:
    if not allows(actor, action):
        raise PermissionDenied(_l("您没有%(a)s销售机会的权限", a=ACTION_LABELS[action]))
    return scope.get_in_scope(session, Opportunity, opportunity_id, actor)


def _refusal(opportunity: Opportunity, action: OpportunityAction) -> OpportunityMoveRefused:
    state = OUTCOME_LABELS.get(opportunity.outcome, opportunity.outcome)
    if action is OpportunityAction.REOPEN:
        return OpportunityMoveRefused(_l("销售机会“%(t)s”仍在进行中，无需重新打开", t=opportunity.title))
    return OpportunityMoveRefused(_l("销售机会“%(t)s”已%(s)s，不能%(a)s；请先由经理重新打开",
                                     t=opportunity.title, s=state, a=ACTION_LABELS[action]))


def _still_open(opportunity: Opportunity, action: OpportunityAction) -> None:
    """Say "closed" before complaining about the input of a move a closed opportunity cannot make."""
    if opportunity.outcome not in TRANSITIONS[action].sources:
        raise _refusal(opportunity, action)


def _guarded(session: Session, opportunity: Opportunity, action: OpportunityAction, *, actor: Actor, now: datetime,
             values: dict[str, Any], note: str | None = None, expected_version: int | None = None,
             to_stage_id: int | None = None, to_user_id: int | None = None) -> OpportunityEvent:
    """One conditional UPDATE from the state as read, one event, the customer's activity clock."""
    read_outcome, read_stage, read_version = opportunity.outcome, opportunity.stage_id, opportunity.version
    read_owner = opportunity.owner_id
    if expected_version is not None and expected_version != read_version:
        raise ChangedMeanwhile(CHANGED)
    rule = TRANSITIONS.get(action)
    if rule is not None and read_outcome not in rule.sources:
        raise _refusal(opportunity, action)
    moved = session.execute(
        update(Opportunity).where(Opportunity.id == opportunity.id, Opportunity.outcome == read_outcome,
                                  Opportunity.stage_id == read_stage, Opportunity.owner_id == read_owner,
                                  Opportunity.version == read_version, Opportunity.deleted_at.is_(None))
        .values(version=Opportunity.version + 1, **values)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise ChangedMeanwhile(CHANGED)
    target = rule.target if rule is not None else read_outcome
    event = OpportunityEvent(
        opportunity_id=opportunity.id, action=action, from_stage_id=read_stage,
        to_stage_id=to_stage_id if to_stage_id is not None else read_stage,
        from_outcome=read_outcome, to_outcome=target, from_user_id=read_owner,
        to_user_id=to_user_id if to_user_id is not None else read_owner,
        actor_id=actor.user_id, note=note, at=now)
    session.add(event)
    session.flush()
    activity.record_opportunity_move(session, opportunity.customer_id, action, at=now)
    session.refresh(opportunity)
    return event


def _note(note: str | None) -> str | None:
    text = normalize.text(note or "")
    return text[:255] if text else None


def move(session: Session, opportunity_id: Any, to_stage_id: Any, *, actor: Actor, now: datetime,
         note: str | None = None, expected_version: int | None = None) -> OpportunityEvent:
    """推进阶段: an open opportunity to another active stage of its own group, forward or back,
    once it has what the stage requires. `expected_version` is the version the user saw (a board
    card): a move from a picture someone else has changed since is refused."""
    opportunity = _load(session, opportunity_id, actor, OpportunityAction.STAGE)
    stage = session.get(Stage, to_stage_id) if str(to_stage_id or "").isdigit() else None
    if stage is None or stage.group_id != opportunity.group_id or not stage.active:
        raise OpportunityMoveRefused(_l("所选阶段不属于该销售机会的阶段组，或已停用"))
    _still_open(opportunity, OpportunityAction.STAGE)
    if stage.id == opportunity.stage_id:
        raise OpportunityMoveRefused(_l("销售机会“%(t)s”已在「%(s)s」阶段", t=opportunity.title, s=stage.name))
    missing = missing_fields(opportunity, stage)
    if missing:
        raise StageFieldsMissing(_l("进入「%(s)s」需要先填写：%(f)s", s=stage.name, f="、".join(missing)),
                                 missing=missing)
    return _guarded(session, opportunity, OpportunityAction.STAGE, actor=actor, now=now,
                    values={"stage_id": stage.id, "stage_entered_at": now}, note=_note(note),
                    expected_version=expected_version, to_stage_id=stage.id)


def win(session: Session, opportunity_id: Any, *, actor: Actor, now: datetime, note: str | None = None,
        expected_version: int | None = None) -> OpportunityEvent:
    """赢单: closed as won at the stage it reached (reports count it at 100 %)."""
    opportunity = _load(session, opportunity_id, actor, OpportunityAction.WON)
    return _guarded(session, opportunity, OpportunityAction.WON, actor=actor, now=now, note=_note(note),
                    values={"outcome": Outcome.WON, "closed_at": now, "loss_reason_id": None,
                            "outcome_note": _note(note)}, expected_version=expected_version)


def lose(session: Session, opportunity_id: Any, *, reason_id: Any, actor: Actor, now: datetime,
         note: str | None = None, expected_version: int | None = None) -> OpportunityEvent:
    """输单 with a reason from the 输单原因 dictionary."""
    opportunity = _load(session, opportunity_id, actor, OpportunityAction.LOST)
    _still_open(opportunity, OpportunityAction.LOST)
    reason = session.get(DictItem, int(reason_id)) if str(reason_id or "").isdigit() else None
    if reason is None or reason.kind != DictKind.LOSS_REASON or not reason.active:
        raise InvalidValue(_l("请选择输单原因"))
    return _guarded(session, opportunity, OpportunityAction.LOST, actor=actor, now=now,
                    note=_note(note) or reason.name,
                    values={"outcome": Outcome.LOST, "closed_at": now, "loss_reason_id": reason.id,
                            "outcome_note": _note(note)}, expected_version=expected_version)


def mark_invalid(session: Session, opportunity_id: Any, *, actor: Actor, now: datetime, note: str | None,
                 expected_version: int | None = None) -> OpportunityEvent:
    """无效 (a duplicate, a test, not a real deal): the note says why."""
    opportunity = _load(session, opportunity_id, actor, OpportunityAction.INVALID)
    _still_open(opportunity, OpportunityAction.INVALID)
    text = _note(note)
    if not text:
        raise InvalidValue(_l("请填写标记无效的原因"))
    return _guarded(session, opportunity, OpportunityAction.INVALID, actor=actor, now=now, note=text,
                    values={"outcome": Outcome.INVALID, "closed_at": now, "loss_reason_id": None,
                            "outcome_note": text}, expected_version=expected_version)


def reopen(session: Session, opportunity_id: Any, *, actor: Actor, now: datetime, note: str | None = None,
           expected_version: int | None = None) -> OpportunityEvent:
    """重新打开 (a manager only): back to 进行中 at the stage it had. A won deal whose order
    exists stays won: the order is the deal now."""
    opportunity = _load(session, opportunity_id, actor, OpportunityAction.REOPEN)
    if opportunity.outcome == Outcome.WON and opportunity.order_id is not None:
        raise OpportunityMoveRefused(_l("销售机会“%(t)s”已生成订单，不能重新打开", t=opportunity.title))
    return _guarded(session, opportunity, OpportunityAction.REOPEN, actor=actor, now=now, note=_note(note),
                    values={"outcome": Outcome.OPEN, "closed_at": None, "loss_reason_id": None,
                            "outcome_note": None}, expected_version=expected_version)
