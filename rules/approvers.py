"""Who approves one step of a flow, resolved when a document is submitted (rules/approvals.py):
the submitter's 上级 N levels up, the manager of the owner's department, the active holders of a
role, or named people. Staff who left (离职) or are locked never count."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from models.approval import ApprovalStep, StepKind
from models.org import User


def eligible() -> Any:
    """Users who may approve at all: in service (在职) and not locked."""
    return and_(User.active.is_(True), User.locked_at.is_(None))


def usable(session: Session, user_id: int | None) -> bool:
    return user_id is not None and session.scalar(
        select(User.id).where(User.id == user_id, eligible())) is not None


def _superior(session: Session, submitter: User, levels: int) -> list[int]:
    """The submitter's superior `levels` up the 上级 chain; a level held by someone disabled or
    locked passes to the next one up, and a chain shorter than `levels` ends at its top."""
    found: int | None = None
    current, seen = submitter, {submitter.id}
    climbed = 0
    while climbed < max(levels, 1) and current.superior_id is not None and current.superior_id not in seen:
        current = session.get(User, current.superior_id)
        seen.add(current.id)
        if usable(session, current.id):
            found = current.id
            climbed += 1
    return [found] if found is not None else []


def _department_head(session: Session, department_id: int) -> int | None:
    """A department without a named manager: the one active member at the top of its own
    reporting line (whose superior is outside the department), when there is exactly one."""
    boss = aliased(User)
    heads = list(session.scalars(
        select(User.id).outerjoin(boss, boss.id == User.superior_id)
        .where(User.department_id == department_id, eligible(),
               or_(User.superior_id.is_(None), boss.department_id.is_distinct_from(department_id)))
        .limit(2)))
    return heads[0] if len(heads) == 1 else None


def _dept_manager(session: Session, owner: User | None, excluded: set[int]) -> list[int]:
    """The manager of the owner's department (named on the department, or else its head by the
    reporting line); a department without a usable one (none, disabled, or the submitter
    themself) defers to its parent department's."""
    department = owner.department if owner is not None else None
    while department is not None:
        manager = department.manager_id
        if manager is None or not usable(session, manager):
            manager = _department_head(session, department.id)
        if manager is not None and manager not in excluded:
            return [manager]
        department = department.parent
    return []


def resolve(session: Session, step: ApprovalStep | dict, *, submitter: User, owner: User | None,
            excluded: set[int]) -> list[int]:
    """The approvers of one step, in a stable order, `excluded` left out."""
    kind = StepKind(step["kind"] if isinstance(step, dict) else step.kind)
    get = step.get if isinstance(step, dict) else (lambda name, default=None: getattr(step, name, default))
    if kind is StepKind.SUPERIOR:
        ids = _superior(session, submitter, int(get("levels") or 1))
    elif kind is StepKind.DEPT_MANAGER:
        ids = _dept_manager(session, owner, excluded)
    elif kind is StepKind.ROLE:
        ids = list(session.scalars(select(User.id).where(User.role_id == get("role_id"), eligible())
                                   .order_by(User.id)))
    else:
        wanted = [int(i) for i in (get("user_ids") or [])]
        ids = list(session.scalars(select(User.id).where(User.id.in_(wanted), eligible()).order_by(User.id)))
    return [i for i in ids if i not in excluded]


def why_nobody(step: ApprovalStep) -> Any:
    return {
        StepKind.SUPERIOR.value: _l("提交人没有在职的上级"),
        StepKind.DEPT_MANAGER.value: _l("负责人所在部门及上级部门都没有可审批的部门负责人"),
        StepKind.ROLE.value: _l("该角色下没有其他在职员工"),
        StepKind.USERS.value: _l("指定的人员都已离职、被锁定或就是提交人"),
    }[step.kind]
