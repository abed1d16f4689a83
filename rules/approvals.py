"""审批: one mechanism for every document (DESIGN §6 "Approval (any document)").

    submit → step 1 … step n → approved | rejected (reason, back to the submitter)
                             | withdrawn (by the submitter, before any decision)
                             | cancelled (the document was voided or deleted meanwhile)

A document type plugs in with `register(DocumentHooks(...))`; nothing here knows what a contract
or a receipt is. At submit every step's approvers are resolved and kept as tasks (a flow changed
later, or a superior who moves, does not move a running request). Each decision is a guarded
UPDATE on the task (WHERE status = 'waiting') and on the request (WHERE status = 'pending' AND
step_index = :step AND version = :seen), both checked by row count, plus one ApprovalEvent: two
approvers deciding one 或签 step at the same instant get exactly one decision, and a decision
arriving after a withdrawal is refused. Nothing here commits."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.approval import (
    ApprovalAction, ApprovalDocType, ApprovalEvent, ApprovalFlow, ApprovalRequest, ApprovalStatus, ApprovalStep,
    ApprovalTask, StepKind, StepMode, TaskStatus,
)
from models.org import User
from rules import approval_notices, approvers, normalize
from rules.actor import Actor
from rules.errors import InvalidValue, PermissionDenied, RuleViolation

DOC_TYPE_LABELS = {
    ApprovalDocType.CONTRACT.value: _l("合同"),
    ApprovalDocType.RECEIPT.value: _l("回款"),
    ApprovalDocType.INVOICE.value: _l("开票申请"),
    ApprovalDocType.ORDER_DISCOUNT.value: _l("订单折扣"),
    ApprovalDocType.OFFICE_GENERAL.value: _l("工作请示"),
    ApprovalDocType.OFFICE_LEAVE.value: _l("请假申请"),
    ApprovalDocType.OFFICE_TRIP.value: _l("出差申请"),
    ApprovalDocType.OFFICE_EXPENSE.value: _l("报销申请"),
}
STATUS_LABELS = {
    ApprovalStatus.PENDING.value: _l("审批中"),
    ApprovalStatus.APPROVED.value: _l("已通过"),
    ApprovalStatus.REJECTED.value: _l("已驳回"),
    ApprovalStatus.WITHDRAWN.value: _l("已撤回"),
    ApprovalStatus.CANCELLED.value: _l("已取消"),
}
TASK_LABELS = {
    TaskStatus.QUEUED.value: _l("未开始"),
    TaskStatus.WAITING.value: _l("待审批"),
    TaskStatus.APPROVED.value: _l("已同意"),
    TaskStatus.REJECTED.value: _l("已驳回"),
    TaskStatus.TRANSFERRED.value: _l("已转交"),
    TaskStatus.SKIPPED.value: _l("无需审批"),
}
KIND_LABELS = {
    StepKind.SUPERIOR.value: _l("提交人的上级"),
    StepKind.DEPT_MANAGER.value: _l("负责人所在部门的负责人"),
    StepKind.ROLE.value: _l("指定角色"),
    StepKind.USERS.value: _l("指定人员"),
}
MODE_LABELS = {StepMode.ANY.value: _l("或签（一人同意即可）"), StepMode.ALL.value: _l("会签（全部同意）")}
ACTION_LABELS = {
    ApprovalAction.SUBMIT.value: _l("提交审批"),
    ApprovalAction.APPROVE.value: _l("同意"),
    ApprovalAction.REJECT.value: _l("驳回"),
    ApprovalAction.WITHDRAW.value: _l("撤回"),
    ApprovalAction.TRANSFER.value: _l("转交"),
    ApprovalAction.CANCEL.value: _l("取消"),
}
# The figure a flow's threshold is compared with: an amount needs approval from the threshold
# up; a discount rate (0.85 = 八五折) below it.
BELOW_THRESHOLD = frozenset({ApprovalDocType.ORDER_DISCOUNT.value})
AUTO_APPROVED = "auto"  # the comment of a task approved because its approver approved an earlier step


class ApprovalRefused(RuleViolation):
    """The approval move is not possible in the request's current state, or not by this actor."""


class AlreadyDecided(ApprovalRefused):
    """Someone decided (or the submitter withdrew) between reading the request and deciding."""


class NoEligibleApprover(ApprovalRefused):
    """A step of the flow resolves to nobody who may approve: refused at submit."""


@dataclass(frozen=True)
class DocumentHooks:
    """What a document type tells the mechanism. `summary(doc)` gives (title, amount, owner_id,
    submitter_may_approve); `link(doc)` where the document opens (a URL or a rules.links link);
    `on_approved` / `on_returned` run in the deciding transaction (returned = rejected or
    withdrawn: the document goes back to draft)."""

    doc_type: str
    load: Callable[[Session, int], Any]
    summary: Callable[[Any], tuple[str, Decimal | None, int | None, bool]]
    link: Callable[[Any], Any]
    on_approved: Callable[..., None]
    on_returned: Callable[..., None]


_HOOKS: dict[str, DocumentHooks] = {}


def register(hooks: DocumentHooks) -> DocumentHooks:
    _HOOKS[str(hooks.doc_type)] = hooks
    return hooks


def hooks_for(doc_type: str) -> DocumentHooks:
    hooks = _HOOKS.get(str(doc_type))
    if hooks is None:
        raise InvalidValue(_l("单据类型“%(t)s”不支持审批", t=str(doc_type)))
    return hooks


def doc_type_label(doc_type: str) -> Any:
    return DOC_TYPE_LABELS.get(str(doc_type), str(doc_type))


# --- flows --------------------------------------------------------------------------------------

def flow_for(session: Session, doc_type: str) -> ApprovalFlow | None:
    return session.scalar(select(ApprovalFlow).where(ApprovalFlow.doc_type == str(doc_type)))


def threshold_crossed(doc_type: str, threshold: Decimal | None, figure: Any) -> bool:
    if threshold is None or figure is None:
        return True
    figure = Decimal(str(figure))
    return figure < threshold if str(doc_type) in BELOW_THRESHOLD else figure >= threshold


def requires_approval(session: Session, doc_type: str, *, figure: Any = None) -> bool:
    """Whether a document of this type (with this figure: an amount, a discount rate) must pass
    the flow: one exists, is enabled, has steps, and the figure crosses its threshold."""
    flow = flow_for(session, doc_type)
    return bool(flow is not None and flow.enabled and flow.steps
                and threshold_crossed(doc_type, flow.threshold, figure))


def step_snapshot(step: ApprovalStep, *, self_ok: bool) -> dict[str, Any]:
    return {"name": step.name, "kind": str(step.kind), "mode": str(step.mode), "levels": step.levels,
            "role_id": step.role_id, "user_ids": list(step.user_ids or []), "allow_self": bool(step.allow_self),
            "self_ok": self_ok}


# --- reading ----------------------------------------------------------------------------------------

def open_key(doc_type: str, doc_id: int) -> str:
    return f"{doc_type}:{int(doc_id)}"


def current(session: Session, doc_type: str, doc_id: int) -> ApprovalRequest | None:
    """The running (审批中) request of a document, if any."""
    return session.scalar(select(ApprovalRequest).where(ApprovalRequest.open_key == open_key(doc_type, doc_id)))


def latest(session: Session, doc_type: str, doc_id: int) -> ApprovalRequest | None:
    """The newest request of a document, whatever became of it."""
    return session.scalar(select(ApprovalRequest).where(ApprovalRequest.doc_type == str(doc_type),
                                                        ApprovalRequest.doc_id == int(doc_id))
                          .order_by(ApprovalRequest.id.desc()).limit(1))


def is_approved(session: Session, doc_type: str, doc_id: int) -> bool:
    found = latest(session, doc_type, doc_id)
    return found is not None and found.status == ApprovalStatus.APPROVED


def waiting_for(session: Session, actor: Actor) -> Select:
    """待我审批: requests with a task waiting for the actor, oldest first."""
    return (select(ApprovalRequest)
            .join(ApprovalTask, and_(ApprovalTask.request_id == ApprovalRequest.id,
                                     ApprovalTask.step_index == ApprovalRequest.step_index))
            .where(ApprovalTask.approver_id == actor.user_id, ApprovalTask.status == TaskStatus.WAITING.value,
                   ApprovalRequest.status == ApprovalStatus.PENDING.value)
            .order_by(ApprovalRequest.submitted_at, ApprovalRequest.id))


def waiting_count(session: Session, actor: Actor) -> int:
    return session.scalar(select(func.count()).select_from(waiting_for(session, actor).order_by(None).subquery())) or 0


def decided_by(session: Session, actor: Actor) -> Select:
    """我已审批: requests in which the actor approved, rejected or handed on a task, newest first."""
    mine = select(ApprovalTask.request_id).where(
        ApprovalTask.approver_id == actor.user_id,
        ApprovalTask.status.in_([TaskStatus.APPROVED.value, TaskStatus.REJECTED.value,
                                 TaskStatus.TRANSFERRED.value]))
    return (select(ApprovalRequest).where(ApprovalRequest.id.in_(mine))
            .order_by(ApprovalRequest.submitted_at.desc(), ApprovalRequest.id.desc()))


def submitted_by(session: Session, actor: Actor) -> Select:
    """我发起的, newest first."""
    return (select(ApprovalRequest).where(ApprovalRequest.submitter_id == actor.user_id)
            .order_by(ApprovalRequest.submitted_at.desc(), ApprovalRequest.id.desc()))


def my_waiting_task(session: Session, request: ApprovalRequest, actor: Actor) -> ApprovalTask | None:
    return session.scalar(select(ApprovalTask).where(
        ApprovalTask.request_id == request.id, ApprovalTask.step_index == request.step_index,
        ApprovalTask.approver_id == actor.user_id, ApprovalTask.status == TaskStatus.WAITING.value))


def may_withdraw(session: Session, request: ApprovalRequest, actor: Actor) -> bool:
    return (request.status == ApprovalStatus.PENDING and request.submitter_id == actor.user_id
            and not _any_decision(session, request.id))


def _any_decision(session: Session, request_id: int) -> bool:
    return session.scalar(select(ApprovalTask.id).where(
        ApprovalTask.request_id == request_id,
        ApprovalTask.status.in_([TaskStatus.APPROVED.value, TaskStatus.REJECTED.value]),
        ApprovalTask.comment.is_distinct_from(AUTO_APPROVED)).limit(1)) is not None


# --- submit -------------------------------------------------------------------------------------

def submit(session: Session, doc_type: str, doc_id: int, *, actor: Actor, now: datetime,
           note: str | None = None) -> ApprovalRequest:
    """提交审批: resolve every step's approvers now and create their tasks; the first step's
    approvers are told. The submitter is never an approver unless the step allows it and the
    document does (summary's submitter_may_approve)."""
    hooks = hooks_for(doc_type)
    doc = hooks.load(session, doc_id)
    if doc is None:
        raise InvalidValue(_l("要提交审批的单据不存在"))
    title, amount, owner_id, submitter_may_approve = hooks.summary(doc)
    flow = flow_for(session, doc_type)
    if flow is None or not flow.enabled or not flow.steps:
        raise ApprovalRefused(_l("“%(t)s”没有启用的审批流程，请管理员在“审批流程”中设置",
                                 t=doc_type_label(doc_type)))
    if current(session, doc_type, doc_id) is not None:
        raise ApprovalRefused(_l("“%(t)s”已在审批中，请勿重复提交", t=title))
    submitter = session.get(User, actor.user_id)
    owner = session.get(User, owner_id) if owner_id else submitter
    snapshots, chosen = [], []
    for step in flow.steps:
        self_ok = bool(step.allow_self and submitter_may_approve)
        ids = approvers.resolve(session, step, submitter=submitter, owner=owner,
                                excluded=set() if self_ok else {submitter.id})
        if not ids:
            raise NoEligibleApprover(_l("审批步骤“%(s)s”没有可审批的人（%(why)s），无法提交。请管理员调整审批流程或人员设置",
                                        s=step.name, why=approvers.why_nobody(step)))
        snapshots.append(step_snapshot(step, self_ok=self_ok))
        chosen.append(ids)
    request = ApprovalRequest(doc_type=str(doc_type), doc_id=int(doc_id), title=str(title)[:200], amount=amount,
                              submitter_id=submitter.id, owner_id=owner.id if owner else None,
                              status=ApprovalStatus.PENDING, step_index=0, steps=snapshots,
                              open_key=open_key(doc_type, doc_id), note=normalize.text(note)[:255] or None,
                              submitted_at=now)
    session.add(request)
    try:
        session.flush()
    except IntegrityError:  # a second submit of the same document at the same instant (open_key is unique)
        raise ApprovalRefused(_l("“%(t)s”已在审批中，请勿重复提交", t=title)) from None
    for index, ids in enumerate(chosen):
        for user_id in ids:
            session.add(ApprovalTask(request_id=request.id, step_index=index, approver_id=user_id,
                                     status=TaskStatus.WAITING if index == 0 else TaskStatus.QUEUED))
    _event(session, request, ApprovalAction.SUBMIT, actor=actor, now=now, note=request.note, step_index=0)
    session.flush()
    approval_notices.tell_approvers(session, request, _waiting_ids(session, request), now=now)
    return request


# --- decisions ----------------------------------------------------------------------------------

def _load_pending(session: Session, request_id: int) -> ApprovalRequest:
    request = session.get(ApprovalRequest, int(request_id))
    if request is None:
        raise InvalidValue(_l("审批不存在"))
    session.refresh(request)
    if request.status != ApprovalStatus.PENDING:
        raise AlreadyDecided(_l("“%(t)s”的审批%(s)s，无需再处理", t=request.title,
                                s=STATUS_LABELS.get(request.status, request.status)))
    return request


def _claim_task(session: Session, request: ApprovalRequest, actor: Actor, status: TaskStatus, *, now: datetime,
                comment: str | None) -> ApprovalTask:
    """The actor's waiting task of the current step, decided (guarded: still waiting)."""
    task = my_waiting_task(session, request, actor)
    if task is None:
        # Another approver's decision may have committed since the request was read: then the
        # actor's task was skipped by it, and "not your step" would mislead.
        step_index = request.step_index
        session.refresh(request)
        if request.status != ApprovalStatus.PENDING or request.step_index != step_index:
            raise _too_late(request)
        raise ApprovalRefused(_l("您不是“%(t)s”当前步骤的审批人，或已处理过", t=request.title))
    step = request.steps[request.step_index]
    if actor.user_id == request.submitter_id and not step.get("self_ok"):
        raise ApprovalRefused(_l("不能审批自己提交的单据"))
    _lock_request(session, request)
    done = session.execute(update(ApprovalTask).where(ApprovalTask.id == task.id,
                                                      ApprovalTask.status == TaskStatus.WAITING.value)
                           .values(status=status.value, comment=comment, decided_at=now)
                           .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise _too_late(request)
    session.refresh(task)
    return task


def _too_late(request: ApprovalRequest) -> AlreadyDecided:
    return AlreadyDecided(_l("“%(t)s”的审批刚刚已被他人处理，请刷新后查看", t=request.title))


def _lock_request(session: Session, request: ApprovalRequest) -> None:
    """Every move starts with the request's guarded UPDATE (still pending, at the step and the
    version this move read), before it touches any task: concurrent moves queue on this one
    row (on PostgreSQL the later one then matches nothing; SQLite serialises writers), and
    never hold task rows the other needs."""
    moved = session.execute(
        update(ApprovalRequest)
        .where(ApprovalRequest.id == request.id, ApprovalRequest.status == ApprovalStatus.PENDING.value,
               ApprovalRequest.step_index == request.step_index, ApprovalRequest.version == request.version)
        .values(version=ApprovalRequest.version + 1)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise _too_late(request)
    session.refresh(request)


def _set_request(session: Session, request: ApprovalRequest, *, now: datetime, **values: Any) -> None:
    """Where the locked request goes next (a later step, or its end)."""
    if values.get("status") not in (None, ApprovalStatus.PENDING.value):
        values.update(open_key=None, decided_at=now)
    session.execute(update(ApprovalRequest).where(ApprovalRequest.id == request.id)
                    .values(**values).execution_options(synchronize_session=False))
    session.refresh(request)


def _skip_open_tasks(session: Session, request: ApprovalRequest, *, step_index: int | None = None) -> None:
    stmt = update(ApprovalTask).where(ApprovalTask.request_id == request.id,
                                      ApprovalTask.status.in_([TaskStatus.WAITING.value, TaskStatus.QUEUED.value]))
    if step_index is not None:
        stmt = stmt.where(ApprovalTask.step_index == step_index)
    session.execute(stmt.values(status=TaskStatus.SKIPPED.value).execution_options(synchronize_session=False))


def _waiting_ids(session: Session, request: ApprovalRequest) -> list[int]:
    return list(session.scalars(select(ApprovalTask.approver_id).where(
        ApprovalTask.request_id == request.id, ApprovalTask.step_index == request.step_index,
        ApprovalTask.status == TaskStatus.WAITING.value).order_by(ApprovalTask.id)))


def _step_passed(session: Session, request: ApprovalRequest, index: int) -> bool:
    if request.steps[index]["mode"] == StepMode.ANY.value:
        return session.scalar(select(ApprovalTask.id).where(
            ApprovalTask.request_id == request.id, ApprovalTask.step_index == index,
            ApprovalTask.status == TaskStatus.APPROVED.value).limit(1)) is not None
    return session.scalar(select(ApprovalTask.id).where(
        ApprovalTask.request_id == request.id, ApprovalTask.step_index == index,
        ApprovalTask.status.in_([TaskStatus.WAITING.value, TaskStatus.QUEUED.value])).limit(1)) is None


def _open_step(session: Session, request: ApprovalRequest, index: int, *, now: datetime) -> None:
    """Step `index` starts: its tasks wait; an approver who already approved an earlier step of
    this request is not asked twice (审批人去重: a superior who also heads the department)."""
    session.execute(update(ApprovalTask).where(ApprovalTask.request_id == request.id,
                                               ApprovalTask.step_index == index,
                                               ApprovalTask.status == TaskStatus.QUEUED.value)
                    .values(status=TaskStatus.WAITING.value).execution_options(synchronize_session=False))
    approved_before = select(ApprovalTask.approver_id).where(
        ApprovalTask.request_id == request.id, ApprovalTask.step_index < index,
        ApprovalTask.status == TaskStatus.APPROVED.value)
    session.execute(update(ApprovalTask).where(ApprovalTask.request_id == request.id,
                                               ApprovalTask.step_index == index,
                                               ApprovalTask.status == TaskStatus.WAITING.value,
                                               ApprovalTask.approver_id.in_(approved_before))
                    .values(status=TaskStatus.APPROVED.value, comment=AUTO_APPROVED, decided_at=now)
                    .execution_options(synchronize_session=False))


def approve(session: Session, request_id: int, *, actor: Actor, now: datetime,
            comment: str | None = None) -> ApprovalRequest:
    """同意. 或签: the step passes at once (the others' tasks need nothing more); 会签: when every
    task of the step is approved. After the last step the request is approved and the
    document's on_approved runs in this transaction."""
    request = _load_pending(session, request_id)
    index = request.step_index
    _claim_task(session, request, actor, TaskStatus.APPROVED, now=now, comment=normalize.text(comment)[:255] or None)
    _event(session, request, ApprovalAction.APPROVE, actor=actor, now=now, note=comment, step_index=index)
    if not _step_passed(session, request, index):  # 会签: others still to approve
        return request
    _skip_open_tasks(session, request, step_index=index)
    while True:
        index += 1
        if index >= len(request.steps):
            _set_request(session, request, now=now, status=ApprovalStatus.APPROVED.value)
            _skip_open_tasks(session, request)
            hooks = hooks_for(request.doc_type)
            doc = hooks.load(session, request.doc_id)
            if doc is None:
                raise ApprovalRefused(_l("“%(t)s”的单据已不存在，无法通过审批", t=request.title))
            hooks.on_approved(session, doc, actor=actor, now=now)
            approval_notices.tell_submitter(session, request, now=now)
            return request
        _open_step(session, request, index, now=now)
        if not _step_passed(session, request, index):
            break
        _skip_open_tasks(session, request, step_index=index)
    _set_request(session, request, now=now, step_index=index)
    approval_notices.tell_approvers(session, request, _waiting_ids(session, request), now=now)
    return request


def reject(session: Session, request_id: int, *, actor: Actor, now: datetime, reason: str) -> ApprovalRequest:
    """驳回 (a reason is required): the request ends, the document goes back to its submitter."""
    reason = normalize.text(reason)
    if not reason:
        raise InvalidValue(_l("请填写驳回原因"))
    request = _load_pending(session, request_id)
    index = request.step_index
    _claim_task(session, request, actor, TaskStatus.REJECTED, now=now, comment=reason[:255])
    _set_request(session, request, now=now, status=ApprovalStatus.REJECTED.value)
    _skip_open_tasks(session, request)
    _event(session, request, ApprovalAction.REJECT, actor=actor, now=now, note=reason, step_index=index)
    _returned(session, request, actor=actor, now=now, action=ApprovalAction.REJECT, reason=reason)
    return request


def withdraw(session: Session, request_id: int, *, actor: Actor, now: datetime) -> ApprovalRequest:
    """撤回 by the submitter, while nobody has decided yet."""
    request = _load_pending(session, request_id)
    if request.submitter_id != actor.user_id:
        raise PermissionDenied(_l("只有提交人可以撤回审批"))
    _lock_request(session, request)
    if _any_decision(session, request.id):
        raise ApprovalRefused(_l("“%(t)s”已有审批人处理，不能撤回", t=request.title))
    _set_request(session, request, now=now, status=ApprovalStatus.WITHDRAWN.value)
    _skip_open_tasks(session, request)
    _event(session, request, ApprovalAction.WITHDRAW, actor=actor, now=now, step_index=request.step_index)
    _returned(session, request, actor=actor, now=now, action=ApprovalAction.WITHDRAW, reason=None)
    return request


def transfer(session: Session, request_id: int, *, actor: Actor, to_user_id: int, now: datetime,
             note: str | None = None) -> ApprovalRequest:
    """转交: the actor's waiting task goes to a colleague, who decides in the actor's place."""
    request = _load_pending(session, request_id)
    target = session.get(User, int(to_user_id)) if to_user_id else None
    if target is None or not approvers.usable(session, target.id):
        raise InvalidValue(_l("请选择一位在职的同事"))
    if target.id == actor.user_id:
        raise InvalidValue(_l("不能转交给自己"))
    step = request.steps[request.step_index]
    if target.id == request.submitter_id and not step.get("self_ok"):
        raise InvalidValue(_l("不能转交给提交人本人审批"))
    if target.id in _waiting_ids(session, request):
        raise InvalidValue(_l("%(n)s已是当前步骤的审批人", n=target.display_name))
    task = _claim_task(session, request, actor, TaskStatus.TRANSFERRED, now=now,
                       comment=normalize.text(note)[:255] or None)
    session.add(ApprovalTask(request_id=request.id, step_index=request.step_index, approver_id=target.id,
                             status=TaskStatus.WAITING, transferred_from_id=task.id))
    _event(session, request, ApprovalAction.TRANSFER, actor=actor, now=now, note=note, step_index=request.step_index,
           to_user_id=target.id)
    session.flush()
    approval_notices.tell_approvers(session, request, [target.id], now=now)
    return request


def cancel_for(session: Session, doc_type: str, doc_id: int, *, actor: Actor, now: datetime,
               reason: str) -> ApprovalRequest | None:
    """The document was voided or deleted: its running request (if any) ends as cancelled,
    without calling the document back."""
    request = current(session, doc_type, doc_id)
    if request is None:
        return None
    _lock_request(session, request)
    _set_request(session, request, now=now, status=ApprovalStatus.CANCELLED.value)
    _skip_open_tasks(session, request)
    _event(session, request, ApprovalAction.CANCEL, actor=actor, now=now, note=normalize.text(reason) or None,
           step_index=request.step_index)
    session.flush()
    return request


def _returned(session: Session, request: ApprovalRequest, *, actor: Actor, now: datetime, action: ApprovalAction,
              reason: str | None) -> None:
    hooks = hooks_for(request.doc_type)
    doc = hooks.load(session, request.doc_id)
    if doc is not None:  # a document deleted meanwhile has nothing to go back to
        hooks.on_returned(session, doc, actor=actor, now=now, action=action, reason=reason)
    if action is ApprovalAction.REJECT:
        approval_notices.tell_submitter(session, request, now=now, reason=reason)


def _event(session: Session, request: ApprovalRequest, action: ApprovalAction, *, actor: Actor, now: datetime,
           note: str | None = None, step_index: int | None = None, to_user_id: int | None = None) -> ApprovalEvent:
    event = ApprovalEvent(request_id=request.id, action=action.value, step_index=step_index,
                          actor_id=actor.user_id if actor else None, to_user_id=to_user_id,
                          note=normalize.text(note) or None, at=now)
    session.add(event)
    session.flush()
    return event
