"""Demo 待办: a week of tasks around the demo's day — handed down the line, kept for oneself,
asked of a superior — some done with feedback, some in progress, a few overdue."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Customer, Task, User
from models.task import TaskPriority
from rules import scope, tasks
from rules.actor import Actor

# (assigner, assignee, title, due in days from now (None: no due), priority, done days ago / "doing" / None,
#  feedback, link to one of the assignee's customers)
DEMO_TASKS = [
    ("wangjl", "lizg", "整理销售一部本月重点客户名单", 2, "high", None, None, False),
    ("wangjl", "zhaozg", "核对二部十一月回款明细", -1, "urgent", "doing", "已核对一半，差三笔待财务确认", False),
    ("lizg", "chenxm", "给客户发送新版报价单", 1, "high", None, None, True),
    ("lizg", "chenxm", "回访上月成交客户，收集使用反馈", -2, "normal", None, None, True),
    ("lizg", "liufang", "准备周五部门例会的客户进展", 3, "normal", None, None, False),
    ("lizg", "liufang", "跟进样品寄送进度", -3, "normal", 2, "样品已签收，客户下周试用", True),
    ("zhaozg", "sunwei", "约见客户技术负责人", 0, "urgent", None, None, True),
    ("zhaozg", "sunwei", "补全客户联系人资料", -5, "low", 4, "已补全 12 位联系人", False),
    ("chenxm", "chenxm", "整理拜访笔记", 0, "low", None, None, False),
    ("chenxm", "lizg", "请主管审批特殊折扣", 1, "high", None, None, True),
    ("liufang", "liufang", "学习新产品资料", 6, "normal", "doing", None, False),
    ("sunwei", "sunwei", "更新客户跟进计划", None, "normal", None, None, False),
    ("zhangzong", "wangjl", "提交年度销售总结", 5, "high", None, None, False),
    ("zhouqin", "zhouqin", "核对本周发货单", -1, "normal", 1, "已核对，无差错", False),
]


def seed_tasks(session: Session, users: dict[str, User], *, now: datetime) -> None:
    """Idempotent: does nothing once any task exists. Goes through rules/tasks like a person would."""
    if session.scalar(select(func.count(Task.id))):
        return
    created = now - timedelta(days=6)
    for i, (by, to, title, due_days, priority, state, feedback, linked) in enumerate(DEMO_TASKS):
        assigner, assignee = Actor.from_user(users[by]), Actor.from_user(users[to])
        # One of the assignee's customers, if the assigner may see it (a task must not leak a record).
        customer_id = session.scalar(scope.scoped(select(Customer.id), Customer, assigner).where(
            Customer.owner_id == users[to].id).order_by(Customer.id).limit(1)) if linked else None
        task = tasks.create(session, actor=assigner, now=created + timedelta(hours=9 * i), title=title,
                            assignee_id=users[to].id, priority=TaskPriority(priority),
                            due_at=now + timedelta(days=due_days) if due_days is not None else None,
                            entity="customer" if customer_id else None, record_id=customer_id)
        if state is None:
            continue
        moved_at = now - timedelta(days=state) if isinstance(state, int) else now - timedelta(hours=5)
        tasks.move(session, task.id, "start", actor=assignee, now=moved_at - timedelta(hours=3))
        if feedback and state == "doing":
            tasks.add_feedback(session, task.id, feedback, actor=assignee, now=moved_at)
        if isinstance(state, int):
            tasks.move(session, task.id, "complete", actor=assignee, now=moved_at, feedback=feedback)
    session.flush()
