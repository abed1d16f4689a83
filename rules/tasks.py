"""待办 (tasks): who may hand a task to whom, the state machine, 执行反馈 and the three lists (the
reminders are rules/task_reminders.py).

    todo 待办 → doing 进行中 (start) → done 已完成 (complete, with 执行反馈)
    todo | doing → done (complete) | cancelled 已取消 (cancel);  done | cancelled → todo (reopen)

A task goes to oneself, to a colleague inside the assigner's data scope (owner_clause on the
user), or up the assigner's reporting line (report_path holds it); anything else is refused.
Every move is one `UPDATE tasks … WHERE id = :id AND status IN (:from) [AND version = :seen]`
checked by its row count, plus a TaskEvent; two people moving the same task at once get one
move. Nothing here commits."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, joinedload

from models.office import NotificationKind
from models.org import DataScope, User
from models.task import OPEN_STATES, Task, TaskEntity, TaskEvent, TaskEventKind, TaskPriority, TaskState
from rules import notifications, scope
from rules.actor import Actor
from rules.errors import InvalidValue, OutOfScope, RuleViolation
from rules.links import ListKind, RecordLink

TITLE_MAX = 200
STATE_LABELS = {
    TaskState.TODO: _l("待办"), TaskState.DOING: _l("进行中"),
    TaskState.DONE: _l("已完成"), TaskState.CANCELLED: _l("已取消"),
}
PRIORITY_LABELS = {
    TaskPriority.LOW: _l("低"), TaskPriority.NORMAL: _l("普通"),
    TaskPriority.HIGH: _l("高"), TaskPriority.URGENT: _l("紧急"),
}
ENTITY_LABELS = {TaskEntity.CUSTOMER: _l("客户"), TaskEntity.OPPORTUNITY: _l("销售机会"),
                 TaskEntity.CONTRACT: _l("合同"), TaskEntity.TICKET: _l("工单")}
EVENT_LABELS = {
    TaskEventKind.CREATE: _l("创建"), TaskEventKind.ASSIGN: _l("改派"), TaskEventKind.START: _l("开始处理"),
    TaskEventKind.COMPLETE: _l("完成"), TaskEventKind.CANCEL: _l("取消"), TaskEventKind.REOPEN: _l("重新打开"),
    TaskEventKind.FEEDBACK: _l("执行反馈"),
}


class AssignmentRefused(RuleViolation):
    """The assignee is neither the assigner, nor in their scope, nor above them."""


class TaskMoveRefused(RuleViolation):
    """The task is not in a state the move starts from, or someone moved it meanwhile."""


# --- who may be given a task ---------------------------------------------------------------------

def superiors(actor: Actor) -> list[int]:
    """The actor's reporting line upwards (上级, their 上级, …), from report_path."""
    ids = [int(p) for p in actor.report_path.strip("/").split("/") if p.isdigit()]
    return [i for i in ids if i != actor.user_id]


def assignable_clause(actor: Actor) -> ColumnElement[bool]:
    """Users the actor may hand a task to: themselves, anyone in their data scope, their superiors."""
    chain = superiors(actor)
    branches = [User.id == actor.user_id, scope.owner_clause(User.id, actor)]
    if chain:
        branches.append(User.id.in_(chain))
    return and_(User.active.is_(True), or_(*branches))


def check_assignee(session: Session, assignee_id: int | None, *, actor: Actor) -> User:
    if assignee_id is None:
        raise InvalidValue(_l("请选择执行人"))
    user = session.scalar(select(User).where(User.id == assignee_id, assignable_clause(actor)))
    if user is None:
        raise AssignmentRefused(_l("只能把待办分配给自己、下属或上级"))
    return user


def check_link(session: Session, entity: str | None, record_id: int | None, *, actor: Actor) -> None:
    """A linked record must exist and be in the assigner's scope (else the task would leak it)."""
    if not entity and not record_id:
        return
    try:
        model = scope.task_linkable()[TaskEntity(entity)]
    except ValueError:
        raise InvalidValue(_l("关联记录的类型无效")) from None
    try:
        scope.get_in_scope(session, model, record_id, actor)
    except OutOfScope:
        raise InvalidValue(_l("关联的记录不存在或不在您的数据范围内")) from None


def due_instant(day: date | None, at: time | None, tz: str) -> datetime | None:
    """截止: a date alone is the end of that local day; with a time, that local minute."""
    if day is None:
        return None
    moment = datetime.combine(day, at if at is not None else time(23, 59, 59), tzinfo=ZoneInfo(tz))
    return moment.astimezone(timezone.utc)


# --- create and edit -----------------------------------------------------------------------------

def _event(session: Session, task: Task, kind: TaskEventKind, *, actor: Actor, now: datetime,
           from_status: str | None = None, to_status: str | None = None, note: str | None = None) -> TaskEvent:
    row = TaskEvent(task_id=task.id, kind=kind.value, user_id=actor.user_id, from_status=from_status,
                    to_status=to_status, note=note, at=now)
    session.add(row)
    return row


def _notify(session: Session, user_id: int, title: Any, task: Task, now: datetime) -> None:
    notifications.notify(session, user_id=user_id, title=title, now=now, link=RecordLink(ListKind.TASK, task.id),
                         kind=NotificationKind.TASK)


def _check_fields(task: Task) -> None:
    task.title = (task.title or "").strip()
    if not task.title:
        raise InvalidValue(_l("请填写待办标题"))
    if len(task.title) > TITLE_MAX:
        raise InvalidValue(_l("待办标题不能超过 %(n)d 个字", n=TITLE_MAX))
    if not task.entity:
        task.entity, task.record_id = None, None


def created(session: Session, task: Task, *, actor: Actor, now: datetime) -> Task:
    """A task the form filled in (already in the session): checked, given its assigner and
    state, recorded, and its assignee told."""
    with session.no_autoflush:  # the form's half-filled task must not be written while checking
        _check_fields(task)
        check_assignee(session, task.assignee_id, actor=actor)
        check_link(session, task.entity, task.record_id, actor=actor)
    task.assigner_id = actor.user_id
    task.status = TaskState.TODO
    task.priority = task.priority or TaskPriority.NORMAL
    task.created_at = task.updated_at = now
    session.add(task)
    session.flush()
    _event(session, task, TaskEventKind.CREATE, actor=actor, now=now, to_status=TaskState.TODO)
    if task.assignee_id != actor.user_id:
        _notify(session, task.assignee_id, _l("%(who)s 给您分配了待办：%(title)s", who=actor.display_name,
                                               title=task.title), task, now)
    session.flush()
    return task


def create(session: Session, *, actor: Actor, now: datetime, title: str, assignee_id: int,
           description: str | None = None, due_at: datetime | None = None,
           priority: TaskPriority = TaskPriority.NORMAL, entity: TaskEntity | None = None,
           record_id: int | None = None) -> Task:
    task = Task(title=title, description=description, assignee_id=assignee_id, due_at=due_at,
                priority=priority, entity=entity, record_id=record_id)
    return created(session, task, actor=actor, now=now)


def edited(session: Session, task: Task, *, actor: Actor, now: datetime, previous_assignee: int | None) -> Task:
    """An edit of an open task by its assigner: the same checks as a new one; a new assignee is
    told (改派)."""
    if task.assigner_id != actor.user_id:
        raise RuleViolation(_l("只有分配人可以修改待办"))
    if task.status not in OPEN_STATES:
        raise RuleViolation(_l("已完成或已取消的待办不能修改"))
    with session.no_autoflush:
        _check_fields(task)
        check_link(session, task.entity, task.record_id, actor=actor)
        if previous_assignee is not None and previous_assignee != task.assignee_id:
            check_assignee(session, task.assignee_id, actor=actor)
    if previous_assignee is not None and previous_assignee != task.assignee_id:
        _event(session, task, TaskEventKind.ASSIGN, actor=actor, now=now)
        if task.assignee_id != actor.user_id:
            _notify(session, task.assignee_id, _l("%(who)s 给您分配了待办：%(title)s", who=actor.display_name,
                                                   title=task.title), task, now)
    return task


# --- the state machine -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Transition:
    label: Any
    sources: tuple[str, ...]
    target: TaskState
    kind: TaskEventKind
    who: Callable[[Task, Actor], bool]  # besides seeing the task: whose move it is

    def allows(self, task: Task, actor: Actor) -> bool:
        """The task page's buttons ask this too, so they offer exactly what the rule accepts."""
        return task.status in self.sources and self.who(task, actor)


def _either(task: Task, actor: Actor) -> bool:
    return actor.user_id in (task.assignee_id, task.assigner_id)


def _assignee(task: Task, actor: Actor) -> bool:
    return actor.user_id == task.assignee_id


def _assigner(task: Task, actor: Actor) -> bool:
    return actor.user_id == task.assigner_id


S = TaskState
TRANSITIONS: dict[str, Transition] = {
    "start": Transition(_l("开始处理"), (S.TODO,), S.DOING, TaskEventKind.START, _assignee),
    "complete": Transition(_l("完成"), (S.TODO, S.DOING), S.DONE, TaskEventKind.COMPLETE, _either),
    "cancel": Transition(_l("取消"), (S.TODO, S.DOING), S.CANCELLED, TaskEventKind.CANCEL, _assigner),
    "reopen": Transition(_l("重新打开"), (S.DONE, S.CANCELLED), S.TODO, TaskEventKind.REOPEN, _either),
}


def move(session: Session, task_id: int, name: str, *, actor: Actor, now: datetime,
         feedback: str | None = None, version: int | None = None) -> Task:
    """One move of TRANSITIONS, by someone who sees the task and whose move it is. `version`:
    the one the page showed; a task changed since then is refused instead of moved blindly."""
    transition = TRANSITIONS[name]
    task = scope.get_in_scope(session, Task, task_id, actor)
    if not transition.who(task, actor):
        raise TaskMoveRefused(_l("您不能对这条待办执行“%(move)s”", move=transition.label))
    if task.status not in transition.sources:
        raise TaskMoveRefused(_l("待办当前为“%(state)s”，不能“%(move)s”",
                                 state=STATE_LABELS[TaskState(task.status)], move=transition.label))
    note = (feedback or "").strip() or None
    values: dict[str, Any] = {"status": transition.target.value, "version": Task.version + 1, "updated_at": now}
    if transition.target is TaskState.DONE:
        values["completed_at"] = now
    elif transition.target is TaskState.TODO:
        values["completed_at"] = None
    if note:
        values["feedback"] = note
    guard = [Task.id == task.id, Task.status.in_(transition.sources)]
    if version is not None:
        guard.append(Task.version == version)
    done = session.execute(update(Task).where(*guard).values(**values)
                           .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise TaskMoveRefused(_l("这条待办刚被他人处理过，请刷新后再试"))
    before = task.status
    session.refresh(task)
    _event(session, task, transition.kind, actor=actor, now=now, from_status=before,
           to_status=transition.target.value, note=note)
    if transition.target is TaskState.DONE and task.assigner_id != actor.user_id:
        _notify(session, task.assigner_id, _l("%(who)s 完成了待办：%(title)s", who=actor.display_name,
                                               title=task.title), task, now)
    elif transition.target is TaskState.CANCELLED and task.assignee_id != actor.user_id:
        _notify(session, task.assignee_id, _l("%(who)s 取消了待办：%(title)s", who=actor.display_name,
                                               title=task.title), task, now)
    session.flush()
    return task


def add_feedback(session: Session, task_id: int, text: str, *, actor: Actor, now: datetime) -> TaskEvent:
    """执行反馈 (or the assigner's reply): kept in the history, the latest on the task; the other
    party is told."""
    note = (text or "").strip()
    if not note:
        raise InvalidValue(_l("请填写反馈内容"))
    task = scope.get_in_scope(session, Task, task_id, actor)
    if not _either(task, actor):
        raise TaskMoveRefused(_l("只有执行人和分配人可以填写反馈"))
    row = _event(session, task, TaskEventKind.FEEDBACK, actor=actor, now=now, note=note)
    if actor.user_id == task.assignee_id:
        task.feedback = note
    other = task.assigner_id if actor.user_id == task.assignee_id else task.assignee_id
    if other != actor.user_id:
        _notify(session, other, _l("%(who)s 反馈了待办：%(title)s", who=actor.display_name, title=task.title),
                task, now)
    session.flush()
    return row


def complete_many(session: Session, ids: list[int], *, actor: Actor, now: datetime, feedback: str | None) -> int:
    """批量完成: every selected task, or none if one may not be completed (the batch is refused)."""
    for task_id in ids:
        move(session, task_id, "complete", actor=actor, now=now, feedback=feedback)
    return len(ids)


# --- the lists -----------------------------------------------------------------------------------

class TaskList:
    MINE = "mine"          # 我的待办
    ASSIGNED = "assigned"  # 我分配的
    TEAM = "team"          # 下属的待办


def list_clause(which: str, actor: Actor, *, show: str = "all", now: datetime | None = None) -> ColumnElement[bool]:
    """The three lists, narrowed to the states the page's pill says (SHOW_STATES: open, overdue,
    closed, all). Each list is one branch of rules/scope.task_clause by construction (mine:
    assignee; assigned: assigner; team: assignee in scope), so it is used alone: AND-ing the
    whole OR made both databases walk every task by due date (30 ms → 1.5 ms at 500k)."""
    if which == TaskList.MINE:
        whose = Task.assignee_id == actor.user_id
    elif which == TaskList.ASSIGNED:
        whose = and_(Task.assigner_id == actor.user_id, Task.assignee_id != actor.user_id)
    elif actor.data_scope is DataScope.SELF:  # nobody below: the list is empty, not "everyone"
        whose = Task.id.is_(None)
    else:
        whose = and_(Task.assignee_id != actor.user_id, scope.owner_clause(Task.assignee_id, actor))
    clause = whose
    if show == "open":
        return and_(clause, Task.status.in_(OPEN_STATES))
    if show == "overdue":
        return and_(clause, overdue_clause(now))
    if show == "closed":
        return and_(clause, Task.status.not_in(OPEN_STATES))
    return clause


SHOW_STATES = ("open", "overdue", "closed", "all")


def newest_first(show: str) -> bool:
    """Open and overdue lists read soonest due first; closed and all read newest first (by id:
    an index walk that stops at a page, where due dates would sort years of tasks)."""
    return show in ("closed", "all")


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    return and_(Task.status.in_(OPEN_STATES), Task.due_at < now)


def _name_columns() -> dict[TaskEntity, Any]:
    from models.contract import Contract
    from models.customer import Customer
    from models.opportunity import Opportunity
    from models.service import Ticket

    return {TaskEntity.CUSTOMER: Customer.name, TaskEntity.OPPORTUNITY: Opportunity.title,
            TaskEntity.CONTRACT: Contract.title, TaskEntity.TICKET: Ticket.subject}


def linked_names(session: Session, rows: list[Task]) -> dict[tuple[str, int], str]:
    """The names of the records a page of tasks links to: one query per kind, not one per row."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        if row.entity and row.record_id:
            wanted[row.entity].add(row.record_id)
    names: dict[tuple[str, int], str] = {}
    for entity, ids in wanted.items():
        column = _name_columns()[TaskEntity(entity)]
        key = column.class_.id
        names.update({(entity, i): n for i, n in session.execute(select(key, column).where(key.in_(ids)))})
    return names


def history(session: Session, task: Task) -> list[TaskEvent]:
    """The task page's 处理记录: every move and feedback, oldest first, with who did it."""
    return list(session.scalars(select(TaskEvent).where(TaskEvent.task_id == task.id)
                                .options(joinedload(TaskEvent.user)).order_by(TaskEvent.id)))


def linked_open(session: Session, entity: TaskEntity, record_id: int, actor: Actor, *, limit: int = 10) -> list[Task]:
    """The task box on a customer / opportunity / contract page: open tasks about it the actor sees."""
    stmt = scope.scoped(select(Task), Task, actor).where(
        Task.entity == entity.value, Task.record_id == record_id, Task.status.in_(OPEN_STATES))
    stmt = stmt.options(joinedload(Task.assignee)).order_by(Task.due_at.is_(None), Task.due_at, Task.id)
    return list(session.scalars(stmt.limit(limit)))

