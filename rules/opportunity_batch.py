"""Batch actions of the opportunity list: 指派, 变更阶段, 标记赢单, 标记输单. Each row goes through the
same rule as one opportunity does (rules/opportunity_stages.py), in a savepoint of its own, so a
row the rule refuses is left exactly as it was and the others are done; the summary says both:
"已处理 N 条，M 条未处理：原因…". Nothing here commits."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.opportunity import Opportunity
from rules import opportunities
from rules import opportunity_stages as stages
from rules.actor import Actor
from rules.errors import OutOfScope, PermissionDenied, RuleViolation


@dataclass
class BatchResult:
    done: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (title, reason)

    def summary(self) -> str:
        if not self.skipped:
            return gettext("已处理 %(n)d 条", n=self.done)
        reasons = "；".join(f"{title}：{reason}" for title, reason in self.skipped[:10])
        more = gettext("（另有 %(n)d 条）", n=len(self.skipped) - 10) if len(self.skipped) > 10 else ""
        return gettext("已处理 %(n)d 条，%(m)d 条未处理：%(r)s%(more)s", n=self.done, m=len(self.skipped),
                       r=reasons, more=more)


def _each(session: Session, ids: Iterable[Any], step: Callable[[int], Any]) -> BatchResult:
    result = BatchResult()
    wanted = [int(i) for i in ids if str(i).isdigit()]
    titles = dict(session.execute(select(Opportunity.id, Opportunity.title).where(Opportunity.id.in_(wanted))).all())
    for opportunity_id in wanted:
        try:
            with session.begin_nested():
                step(opportunity_id)
            result.done += 1
        except PermissionDenied:
            raise  # the whole batch is not the actor's to do
        except OutOfScope as exc:
            result.skipped.append((str(opportunity_id), str(exc)))
        except RuleViolation as exc:
            result.skipped.append((titles.get(opportunity_id, str(opportunity_id)), str(exc)))
    return result


def assign_many(session: Session, ids: Iterable[Any], *, to_user_id: Any, actor: Actor, now: datetime) -> BatchResult:
    # 指派 is rules/opportunities.assign's (the detail page's 转移负责人 too), one row at a time here.
    return _each(session, ids, lambda i: opportunities.assign(session, [i], to_user_id=to_user_id, actor=actor,
                                                              now=now))


def move_many(session: Session, ids: Iterable[Any], *, to_stage_id: Any, actor: Actor, now: datetime,
              note: str | None = None) -> BatchResult:
    return _each(session, ids, lambda i: stages.move(session, i, to_stage_id, actor=actor, now=now, note=note))


def win_many(session: Session, ids: Iterable[Any], *, actor: Actor, now: datetime,
             note: str | None = None) -> BatchResult:
    return _each(session, ids, lambda i: stages.win(session, i, actor=actor, now=now, note=note))


def lose_many(session: Session, ids: Iterable[Any], *, reason_id: Any, actor: Actor, now: datetime,
              note: str | None = None) -> BatchResult:
    return _each(session, ids, lambda i: stages.lose(session, i, reason_id=reason_id, actor=actor, now=now,
                                                     note=note))
