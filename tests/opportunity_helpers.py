"""Shared set-up of the board and stage tests: a stage group, a sales team in two departments and
opportunities written as rows (the opportunity form belongs to another module)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import FIXED_NOW
from models import User, db
from models.dictionary import DictItem, DictKind
from models.opportunity import Opportunity, Outcome, Stage, StageGroup
from rules.actor import Actor

TODAY = date(2026, 11, 23)
# name, 赢率, required fields
STAGES = [("初步接洽", 10, []), ("需求确认", 30, []), ("方案报价", 60, ["amount", "expected_close_on"]),
          ("谈判签约", 80, ["amount"])]
_numbers = count(1)


def make_group(app, name: str = "标准销售流程", stages=STAGES) -> dict[str, int]:
    """A stage group for everyone; returns {stage name: id} plus "group". It takes the place of
    the group every installation starts with (rules/stage_groups.ensure_default) of that name."""
    with app.app_context():
        seeded = db.session.scalar(select(StageGroup).where(StageGroup.name == name))
        if seeded is not None:
            for stage in list(seeded.stages):
                db.session.delete(stage)
            db.session.delete(seeded)
            db.session.flush()
        group = StageGroup(name=name, department_id=None, active=True, sort_order=0)
        db.session.add(group)
        db.session.flush()
        ids = {"group": group.id}
        for order, (stage_name, probability, required) in enumerate(stages):
            stage = Stage(group_id=group.id, name=stage_name, sort_order=order, probability=probability,
                          required_fields=required, active=True)
            db.session.add(stage)
            db.session.flush()
            ids[stage_name] = stage.id
        db.session.commit()
        return ids


def make_opportunity(app, *, owner_id: int, customer_id: int, stage_id: int, amount: str | Decimal = "0",
                     title: str | None = None, expected_close_on: date | None = None,
                     outcome: Outcome = Outcome.OPEN, created_at: datetime = FIXED_NOW,
                     last_follow_up_at: datetime | None = None) -> int:
    with app.app_context():
        stage = db.session.get(Stage, stage_id)
        owner = db.session.get(User, owner_id)
        number = next(_numbers)
        opportunity = Opportunity(
            number=f"SJ{number:06d}", title=title or f"机会{number}", customer_id=customer_id, group_id=stage.group_id,
            stage_id=stage_id, stage_entered_at=created_at, outcome=outcome, amount=Decimal(str(amount)),
            expected_close_on=expected_close_on, owner_id=owner_id, department_id=owner.department_id,
            created_at=created_at, last_follow_up_at=last_follow_up_at)
        db.session.add(opportunity)
        db.session.commit()
        return opportunity.id


def actor_of(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    return Actor.from_user(user, today=TODAY, has_shares=False)


def loss_reason(session: Session, name: str = "价格偏高") -> int:
    return session.scalar(select(DictItem.id).where(DictItem.kind == DictKind.LOSS_REASON, DictItem.name == name))
