"""待办 (tasks): for oneself or handed to a colleague, with a due time, a priority, a linked record
and a history of state moves and 执行反馈 (rules/tasks.py decides who may do what)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.org import User


class TaskState(enum.StrEnum):
    """todo → doing → done | cancelled (DESIGN §6); todo → done directly is allowed too."""

    TODO = "todo"            # 待办
    DOING = "doing"          # 进行中
    DONE = "done"            # 已完成
    CANCELLED = "cancelled"  # 已取消


OPEN_STATES = (TaskState.TODO.value, TaskState.DOING.value)


class TaskPriority(enum.StrEnum):
    LOW = "low"        # 低
    NORMAL = "normal"  # 普通
    HIGH = "high"      # 高
    URGENT = "urgent"  # 紧急


class TaskEntity(enum.StrEnum):
    """The kinds of record a task may be about; each has its model in rules/scope.task_linkable
"""

    CUSTOMER = "customer"
    OPPORTUNITY = "opportunity"
    CONTRACT = "contract"
    TICKET = "ticket"  # 工单


class TaskEventKind(enum.StrEnum):
    CREATE = "create"      # 创建 / 分配
    ASSIGN = "assign"      # 改派
    START = "start"        # 开始处理
    COMPLETE = "complete"  # 完成
    CANCEL = "cancel"      # 取消
    REOPEN = "reopen"      # 重新打开
    FEEDBACK = "feedback"  # 执行反馈


class Task(TimestampMixin, db.Model):
    __tablename__ = "tasks"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    assigner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    # UTC; a due given as a date only is the end of that local day (rules/tasks.due_instant).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[TaskPriority] = mapped_column(String(8), nullable=False, default=TaskPriority.NORMAL)
    status: Mapped[TaskState] = mapped_column(String(12), nullable=False, default=TaskState.TODO)
    feedback: Mapped[str | None] = mapped_column(Text)  # the latest 执行反馈; every one is a TaskEvent
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entity: Mapped[TaskEntity | None] = mapped_column(String(16))
    record_id: Mapped[int | None] = mapped_column(Integer)

    assignee: Mapped[User] = relationship(foreign_keys=[assignee_id])
    assigner: Mapped[User] = relationship(foreign_keys=[assigner_id])
    events: Mapped[list[TaskEvent]] = relationship(back_populates="task", order_by="TaskEvent.id",
                                                   cascade="all, delete-orphan")

    __table_args__ = (
        # 我的待办 / 下属的待办 / 我分配的 open or overdue (soonest due first); the assigner's one
        # carries assignee_id so its count ("not given to myself") is read from the index alone.
        Index("ix_tasks_assignee_status_due", "assignee_id", "status", "due_at", "id"),
        Index("ix_tasks_assigner_status_due", "assigner_id", "status", "due_at", "assignee_id", "id"),
        # The same lists' 全部 / 已完成, newest first: an index walk that stops at a page.
        Index("ix_tasks_assignee_id", "assignee_id", "id"),
        Index("ix_tasks_assigner_id", "assigner_id", "id"),
        Index("ix_tasks_status_due", "status", "due_at"),
        # A manager's 下属的待办 "全部": walk by due date and stop at a page, instead of sorting the team's every task.
        Index("ix_tasks_due_id", "due_at", "id"),
        Index("ix_tasks_record", "entity", "record_id"),
    )

    def __str__(self) -> str:
        return self.title

    def __repr__(self) -> str:
        return format_repr(self, "id", "title", "status")


class TaskEvent(db.Model):
    """A task's history: every state move and every 执行反馈, who and when."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), nullable=False, index=True)
    kind: Mapped[TaskEventKind] = mapped_column(String(12), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    task: Mapped[Task] = relationship(back_populates="events")
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return format_repr(self, "id", "task_id", "kind")
