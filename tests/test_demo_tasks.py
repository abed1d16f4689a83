"""Demo 待办: a week of tasks in every state, overdue ones among them, for the salespeople."""
from __future__ import annotations

from sqlalchemy import func, select

from conftest import seeded_demo
from models import Task, TaskEvent, User, db
from rules import tasks


def test_demo_has_a_week_of_tasks_in_every_state(app, tmp_path, clock):
    seeded_demo(app, tmp_path)
    with app.app_context():
        states = dict(db.session.execute(select(Task.status, func.count(Task.id)).group_by(Task.status)).all())
        assert {"todo", "doing", "done"} <= set(states)
        assert db.session.scalar(select(func.count(Task.id)).where(tasks.overdue_clause(clock.now))) >= 2
        assert db.session.scalar(select(func.count(TaskEvent.id)).where(TaskEvent.kind == "feedback")) >= 1
        chenxm = db.session.scalar(select(User.id).where(User.username == "chenxm"))
        assert db.session.scalar(select(func.count(Task.id)).where(Task.assignee_id == chenxm)) >= 2
        assert db.session.scalar(select(func.count(Task.id)).where(Task.entity == "customer")) >= 2
