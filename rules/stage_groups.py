"""阶段组: the administrator's ordered stages of a sale (per department, or for everyone), each
with its win probability and the fields an opportunity must have to enter it.

A new installation, and an older one on its first start after the upgrade, gets one group for
everyone (标准销售流程) from `ensure_default`; an installation that has any group keeps what its
administrator made of it."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.opportunity import Opportunity, OpportunityEvent, Stage, StageGroup
from models.org import Department, User
from rules import normalize
from rules.errors import InvalidValue

# The fields a stage may require (Opportunity attributes; "lines" = at least one product line).
REQUIRED_FIELDS: dict[str, Any] = {
    "amount": _l("金额"),
    "expected_close_on": _l("预计成交日期"),
    "contact_id": _l("联系人"),
    "lines": _l("产品清单"),
}

DEFAULT_GROUP = "标准销售流程"
DEFAULT_STAGES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("初步接触", 10, ()),
    ("需求确认", 30, ()),
    ("方案报价", 50, ("amount", "expected_close_on")),
    ("商务谈判", 70, ("amount", "expected_close_on")),
    ("签约", 90, ("amount", "expected_close_on")),
)


def ensure_default(session: Session) -> StageGroup | None:
    """The default group, when the installation has none yet (new, or upgraded from a release
    without opportunities). Safe on every start."""
    if session.scalar(select(StageGroup.id).limit(1)) is not None:
        return None
    group = StageGroup(name=DEFAULT_GROUP, department_id=None, active=True, sort_order=0)
    group.stages = [Stage(name=name, sort_order=i, probability=p, required_fields=list(fields), active=True)
                    for i, (name, p, fields) in enumerate(DEFAULT_STAGES)]
    session.add(group)
    session.flush()
    return group


@dataclass
class StageInput:
    """One row of the settings form: an existing stage (id) or a new one (id None)."""

    id: int | None
    name: str
    probability: Any
    required_fields: list[str]


def _probability(value: Any, name: str) -> int:
    try:
        number = int(str(value).strip().rstrip("%"))
    except (TypeError, ValueError):
        raise InvalidValue(_l("阶段“%(n)s”的赢率必须是 0 到 100 之间的整数", n=name)) from None
    if not 0 <= number <= 100:
        raise InvalidValue(_l("阶段“%(n)s”的赢率必须是 0 到 100 之间的整数", n=name))
    return number


def save(session: Session, group: StageGroup, *, name: str, department_id: int | None, active: bool,
         sort_order: Any, stages: Iterable[StageInput]) -> StageGroup:
    """Create or change a group and its ordered stages in one go. A stage that opportunities
    stand on (or passed through) cannot be removed: it is kept and may be switched off."""
    name = normalize.text(name)
    if not name:
        raise InvalidValue(_l("请填写阶段组名称"))
    same = select(StageGroup.id).where(StageGroup.name == name)
    if group.id is not None:
        same = same.where(StageGroup.id != group.id)
    if session.scalar(same) is not None:
        raise InvalidValue(_l("已有名为“%(n)s”的阶段组", n=name))
    if department_id is not None and session.get(Department, department_id) is None:
        raise InvalidValue(_l("请选择部门"))
    try:
        order = int(sort_order or 0)
    except (TypeError, ValueError):
        raise InvalidValue(_l("排序必须是整数")) from None
    rows = [StageInput(s.id, normalize.text(s.name), s.probability, list(s.required_fields or []))
            for s in stages if normalize.text(s.name) or s.id]
    if not rows:
        raise InvalidValue(_l("阶段组至少需要一个阶段"))
    seen: set[str] = set()
    for row in rows:
        if not row.name:
            raise InvalidValue(_l("请填写阶段名称"))
        if row.name in seen:
            raise InvalidValue(_l("同一阶段组内阶段名称不能重复：“%(n)s”", n=row.name))
        seen.add(row.name)
        row.probability = _probability(row.probability, row.name)
        unknown = [f for f in row.required_fields if f not in REQUIRED_FIELDS]
        if unknown:
            raise InvalidValue(_l("无法识别的必填项：%(f)s", f="、".join(unknown)))
    existing = {s.id: s for s in group.stages} if group.id is not None else {}
    for row in rows:
        if row.id is not None and row.id not in existing:
            raise InvalidValue(_l("阶段已被他人改动，请刷新后重试"))
    removed = [s for sid, s in existing.items() if sid not in {r.id for r in rows}]
    for stage in removed:
        if _in_use(session, stage.id):
            raise InvalidValue(_l("阶段“%(n)s”已有销售机会使用，不能删除，可以停用整个阶段组", n=stage.name))
    group.name, group.department_id, group.active, group.sort_order = name, department_id, bool(active), order
    if group.id is None:
        session.add(group)
    session.flush()
    for stage in removed:
        session.execute(delete(Stage).where(Stage.id == stage.id))
    session.expire(group, ["stages"])
    # Names are unique in a group: park the kept ones under temporary names first, so swapping
    # two stages' names in one save never trips the constraint halfway.
    kept = [existing[r.id] for r in rows if r.id is not None]
    for stage in kept:
        stage.name = f"~{stage.id}"
    session.flush()
    for index, row in enumerate(rows):
        stage = existing[row.id] if row.id is not None else Stage(group_id=group.id)
        stage.name, stage.sort_order, stage.probability = row.name, index, row.probability
        stage.required_fields, stage.active = row.required_fields, True
        session.add(stage)
    session.flush()
    session.expire(group, ["stages"])
    return group


def _in_use(session: Session, stage_id: int) -> bool:
    used = session.scalar(select(Opportunity.id).where(Opportunity.stage_id == stage_id).limit(1))
    passed = session.scalar(select(OpportunityEvent.id).where(
        (OpportunityEvent.from_stage_id == stage_id) | (OpportunityEvent.to_stage_id == stage_id)).limit(1))
    return used is not None or passed is not None


def delete_group(session: Session, group: StageGroup) -> None:
    if session.scalar(select(Opportunity.id).where(Opportunity.group_id == group.id).limit(1)) is not None:
        raise InvalidValue(_l("阶段组“%(n)s”已有销售机会使用，不能删除，可以停用", n=group.name))
    session.execute(delete(Stage).where(Stage.group_id == group.id))
    session.delete(group)
    session.flush()


def group_for(session: Session, user: User | int | None) -> StageGroup:
    """The stages an opportunity of `user` follows: the active group of the user's department,
    else of the nearest department above it, else the group for everyone (lowest sort order)."""
    if isinstance(user, int):
        user = session.get(User, user)
    path = user.department.path if user is not None and user.department is not None else ""
    chain = [int(p) for p in (path or "").split("/") if p]  # "/1/4/9/": top → the user's own
    groups = list(session.scalars(select(StageGroup).where(
        StageGroup.active.is_(True),
        (StageGroup.department_id.is_(None)) | (StageGroup.department_id.in_(chain or [-1])))
        .order_by(StageGroup.sort_order, StageGroup.id)))
    by_department = {}
    for group in groups:
        by_department.setdefault(group.department_id, group)
    for department_id in reversed(chain):
        if department_id in by_department:
            return by_department[department_id]
    if None in by_department:
        return by_department[None]
    group = ensure_default(session)
    if group is None:
        raise InvalidValue(_l("没有可用的阶段组，请管理员在“阶段组”中启用一个"))
    return group


def first_stage(group: StageGroup) -> Stage:
    stages = [s for s in group.stages if s.active]
    if not stages:
        raise InvalidValue(_l("阶段组“%(n)s”没有阶段，请管理员先设置", n=group.name))
    return stages[0]


def stage_counts(session: Session) -> Mapping[int, int]:
    """Opportunities per group (the settings list shows what a change would touch)."""
    return dict(session.execute(select(Opportunity.group_id, func.count(Opportunity.id))
                                .group_by(Opportunity.group_id)).all())
