"""待办 reminders: the daily job (overdue, and due within each user's 提醒天数, grouped per user,
once a day) and the workbench's 我的待办 figure. The tasks themselves are rules/tasks.py."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from models.office import NotificationKind
from models.task import OPEN_STATES, Task
from rules import notifications
from rules.actor import Actor
from rules.clock import local_date
from rules.links import ListKind, ListLink, RecordLink
from rules.tasks import overdue_clause

# Beyond this many reminders of one sort for one user in one run, they become one line.
GROUP_ABOVE = 1
MAX_DAYS_AHEAD = 30  # the reminder job looks no further ahead than this


def window_end(now: datetime, days: int, tz: str) -> datetime:
    """The end of the local day `days` days after today (1: today and tomorrow)."""
    return datetime.combine(local_date(now, tz) + timedelta(days=days + 1), time.min,
                            tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def due_soon_clause(now: datetime, days: int, tz: str) -> ColumnElement[bool]:
    """Open and due from now to the end of the reminder window."""
    return and_(Task.status.in_(OPEN_STATES), Task.due_at >= now, Task.due_at < window_end(now, days, tz))


def my_open(session: Session, actor: Actor, now: datetime, tz: str, *, limit: int = 6,
            days: int | None = None) -> tuple[int, list[Task]]:
    """The workbench: how many of mine are overdue, and the first few overdue or due within my
    提醒天数 (or `days`: 0 is today only, the mobile 今日 page), soonest first."""
    mine = Task.assignee_id == actor.user_id
    overdue = session.scalar(select(func.count(Task.id)).where(mine, overdue_clause(now))) or 0
    ahead = notifications.days_ahead(session, actor.user_id) if days is None else days
    until = window_end(now, ahead, tz)
    rows = list(session.scalars(select(Task).where(mine, Task.status.in_(OPEN_STATES), Task.due_at < until)
                                .order_by(Task.due_at, Task.id).limit(limit)))
    return overdue, rows


def _remind(session: Session, user_id: int, rows: list[Any], *, now: datetime, key: str,
            many: Callable[[int], Any], one: Callable[[str], Any]) -> int:
    """One notification for `rows` (a task of the user each): the task itself, or "N 项…" and the
    list when there are several. 1 if added, 0 if none or already sent under `key` today."""
    if not rows:
        return 0
    if len(rows) > GROUP_ABOVE:
        title, link = many(len(rows)), ListLink(ListKind.TASK)
    else:
        title, link = one(rows[0].title), RecordLink(ListKind.TASK, rows[0].id)
    return notifications.notify(session, user_id=user_id, title=title, now=now, link=link,
                                kind=NotificationKind.TASK, dedupe_key=key) is not None


def remind_due(session: Session, now: datetime, tz: str) -> int:
    """Tell each assignee of their overdue tasks and of those due within their 提醒天数: once per
    user, sort and local day (dedupe keys), one line per task when there is one, one grouped line
    ("5 项待办已逾期") when there are several. Returns the notifications added."""
    today = local_date(now, tz).isoformat()
    horizon = window_end(now, MAX_DAYS_AHEAD, tz)
    rows = session.execute(select(Task.id, Task.title, Task.assignee_id, Task.due_at).where(
        Task.status.in_(OPEN_STATES), Task.due_at.is_not(None), Task.due_at < horizon)
        .order_by(Task.assignee_id, Task.due_at, Task.id)).all()
    overdue: dict[int, list[Any]] = defaultdict(list)
    upcoming: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        (overdue if row.due_at < now else upcoming)[row.assignee_id].append(row)
    added = 0
    for user_id, rows in overdue.items():
        added += _remind(session, user_id, rows, now=now, key=f"task_overdue:{today}",
                         many=lambda n: _l("%(n)d 项待办已逾期", n=n), one=lambda t: _l("待办已逾期：%(title)s", title=t))
    for user_id, rows in upcoming.items():
        until = window_end(now, min(notifications.days_ahead(session, user_id), MAX_DAYS_AHEAD), tz)
        added += _remind(session, user_id, [r for r in rows if r.due_at < until], now=now, key=f"task_due:{today}",
                         many=lambda n: _l("%(n)d 项待办即将到期", n=n), one=lambda t: _l("待办即将到期：%(title)s", title=t))
    return added


