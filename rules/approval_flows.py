"""审批流程 settings: the administrator's ordered steps per document type. Saving replaces the
flow's steps as a whole; running requests keep the steps they were submitted with (their
snapshot), so a change applies from the next submission."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.approval import ApprovalDocType, ApprovalFlow, ApprovalStep, StepKind, StepMode
from models.org import Role, User
from models.sales import Payment
from rules import approvals, normalize
from rules.errors import InvalidValue

MAX_LEVELS = 10
MAX_STEPS = 20


@dataclass
class StepInput:
    """One row of the editor as typed."""

    name: str
    kind: str
    levels: Any = 1
    role_id: int | None = None
    user_ids: list[int] = field(default_factory=list)
    mode: str = StepMode.ANY.value
    allow_self: bool = False


def _threshold(doc_type: str, raw: Any) -> Decimal | None:
    text = normalize.text(str(raw if raw is not None else "")).replace(",", "").replace("¥", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidValue(_l("触发条件必须是数字")) from None
    if doc_type in approvals.BELOW_THRESHOLD:
        if not Decimal(0) < value <= 1:
            raise InvalidValue(_l("折扣条件应在 0 到 1 之间（0.85 表示低于八五折需要审批）"))
    elif value < 0:
        raise InvalidValue(_l("金额条件不能为负数"))
    return value


def _step(session: Session, position: int, row: StepInput) -> ApprovalStep:
    name = normalize.text(row.name)[:64]
    label = name or _l("第%(n)d步", n=position + 1)
    try:
        kind = StepKind(row.kind)
        mode = StepMode(row.mode or StepMode.ANY.value)
    except ValueError:
        raise InvalidValue(_l("审批步骤“%(s)s”的类型不正确", s=label)) from None
    if not name:
        raise InvalidValue(_l("请填写第%(n)d步的步骤名称", n=position + 1))
    try:
        levels = int(str(row.levels or 1).strip())
    except ValueError:
        levels = 0
    if kind is StepKind.SUPERIOR and not 1 <= levels <= MAX_LEVELS:
        raise InvalidValue(_l("审批步骤“%(s)s”的上级层数应在 1 到 %(m)d 之间", s=name, m=MAX_LEVELS))
    role_id = row.role_id if kind is StepKind.ROLE else None
    if kind is StepKind.ROLE and (role_id is None or session.get(Role, role_id) is None):
        raise InvalidValue(_l("请为审批步骤“%(s)s”选择角色", s=name))
    user_ids: list[int] = []
    if kind is StepKind.USERS:
        user_ids = list(session.scalars(select(User.id).where(User.id.in_(row.user_ids or []))
                                        .order_by(User.id)))
        if not user_ids:
            raise InvalidValue(_l("请为审批步骤“%(s)s”选择审批人", s=name))
    return ApprovalStep(position=position, name=name, kind=kind.value, levels=levels if kind is StepKind.SUPERIOR
                        else 1, role_id=role_id, user_ids=user_ids, mode=mode.value, allow_self=bool(row.allow_self))


def save(session: Session, doc_type: str, *, name: str, enabled: bool, threshold: Any,
         steps: Iterable[StepInput]) -> ApprovalFlow:
    try:
        doc_type = ApprovalDocType(doc_type).value
    except ValueError:
        raise InvalidValue(_l("单据类型不正确")) from None
    name = normalize.text(name)[:64]
    if not name:
        raise InvalidValue(_l("请填写流程名称"))
    rows = [row for row in steps if normalize.text(row.name) or row.kind]
    if len(rows) > MAX_STEPS:
        raise InvalidValue(_l("审批步骤不能超过 %(n)d 步", n=MAX_STEPS))
    built = [_step(session, position, row) for position, row in enumerate(rows)]
    if enabled and not built:
        raise InvalidValue(_l("启用的审批流程至少需要一个步骤"))
    flow = approvals.flow_for(session, doc_type) or ApprovalFlow(doc_type=doc_type)
    flow.name, flow.enabled, flow.threshold = name, bool(enabled), _threshold(doc_type, threshold)
    if flow.id is not None:
        session.execute(delete(ApprovalStep).where(ApprovalStep.flow_id == flow.id))
        session.expire(flow, ["steps"])
    session.add(flow)
    session.flush()
    for step in built:
        step.flow_id = flow.id
        session.add(step)
    session.flush()
    session.expire(flow, ["steps"])
    return flow


FINANCE_ROLE = "财务"


def ensure_default_flows(session: Session) -> list[ApprovalFlow]:
    """The flows a new (or upgraded) installation starts with, for the types that have none:
    合同 → 上级, then 部门负责人; 回款 and 开票 → 财务; 订单折扣 off, from below 八五折."""
    finance = session.scalar(select(Role.id).where(Role.name == FINANCE_ROLE))
    defaults: Sequence[tuple[ApprovalDocType, str, bool, Decimal | None, list[ApprovalStep]]] = (
        (ApprovalDocType.CONTRACT, "合同审批", True, None,
         [ApprovalStep(position=0, name="上级审批", kind=StepKind.SUPERIOR, levels=1, mode=StepMode.ANY),
          ApprovalStep(position=1, name="部门负责人审批", kind=StepKind.DEPT_MANAGER, levels=1, mode=StepMode.ANY)]),
        (ApprovalDocType.RECEIPT, "回款确认", True, None,
         [ApprovalStep(position=0, name="财务确认", kind=StepKind.ROLE, role_id=finance, levels=1, mode=StepMode.ANY)]),
        (ApprovalDocType.INVOICE, "开票审批", True, None,
         [ApprovalStep(position=0, name="财务审批", kind=StepKind.ROLE, role_id=finance, levels=1, mode=StepMode.ANY)]),
        (ApprovalDocType.ORDER_DISCOUNT, "订单折扣审批", False, Decimal("0.85"),
         [ApprovalStep(position=0, name="上级审批", kind=StepKind.SUPERIOR, levels=1, mode=StepMode.ANY)]),
    )
    have = set(session.scalars(select(ApprovalFlow.doc_type)))
    # An installation upgraded with receipts already confirmed by its 内勤 and nobody in 财务
    # keeps confirming them as before (回款需他人确认, payment.approve): a flow whose only step
    # finds nobody would refuse every 登记回款 from the morning after the upgrade. The
    # administrator switches the flow on once 财务 has staff.
    upgraded_without_finance = (
        session.scalar(select(Payment.id).limit(1)) is not None
        and session.scalar(select(User.id).where(User.role_id == finance, User.active.is_(True)).limit(1)) is None)
    made = []
    for doc_type, name, enabled, threshold, steps in defaults:
        if doc_type.value in have:
            continue
        if finance is None and any(s.kind == StepKind.ROLE for s in steps):
            enabled = False  # no 财务 role to name: the administrator sets the step
        if doc_type is ApprovalDocType.RECEIPT and upgraded_without_finance:
            enabled = False
        for step in steps:
            step.user_ids = []
            step.allow_self = False
        flow = ApprovalFlow(doc_type=doc_type.value, name=name, enabled=enabled, threshold=threshold, steps=steps)
        session.add(flow)
        made.append(flow)
    session.flush()
    return made
