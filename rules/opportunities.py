"""销售机会 rules. (pipe-bench holds only the default stage group here, for the demo and the
bench; opp-core's module, which owns this file, supersedes it at merge.)"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.opportunity import Stage, StageGroup

DEFAULT_GROUP_NAME = "标准销售流程"
# (name, win probability %, fields an opportunity must have to enter the stage)
DEFAULT_STAGES = [
    ("初步接触", 10, []),
    ("需求确认", 30, []),
    ("方案报价", 50, ["amount", "expected_close_on"]),
    ("商务谈判", 70, ["amount", "expected_close_on"]),
    ("签约", 90, ["amount", "expected_close_on"]),
]


def ensure_default_stage_group(session: Session) -> StageGroup:
    """The stage group for everyone (标准销售流程), created with its five stages if missing;
    an existing group of that name is returned as the administrator left it."""
    group = session.scalar(select(StageGroup).where(StageGroup.name == DEFAULT_GROUP_NAME))
    if group is not None:
        return group
    group = StageGroup(name=DEFAULT_GROUP_NAME, department_id=None, active=True, sort_order=0)
    session.add(group)
    session.flush()
    for order, (name, probability, required) in enumerate(DEFAULT_STAGES, start=1):
        session.add(Stage(group_id=group.id, name=name, sort_order=order, probability=probability,
                          required_fields=list(required)))
    session.flush()
    return group
