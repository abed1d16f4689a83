"""待办: to whom a task may be handed (a truth table per data scope, on SQLite and PostgreSQL),
the state machine (a stale or concurrent move refused), who is told, and the grouped daily
reminder that comes once."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW, run_at_once
from models import DataScope, Notification, Role, Task, TaskEvent, User, db
from rules import task_reminders, tasks
from rules.actor import Actor
from rules.errors import InvalidValue, OutOfScope

TZ = "Asia/Shanghai"

# username -> (department, superior). "actor" gets the role whose scope the test tries.
STAFF = {
    "gm": (("总经办",), None),
    "boss": (("销售部",), "gm"),
    "actor": (("销售部", "销售一部"), "boss"),
    "sub": (("销售部", "销售一部"), "actor"),
    "peer": (("销售部", "销售一部"), "boss"),
    "team": (("销售部", "销售一部", "华东组"), "boss"),
    "outsider": (("客服部",), None),
}
# Whom an assigner with each data scope may hand a task to (self, in scope, or up the line).
ALLOWED = {
    DataScope.SELF: {"actor", "boss", "gm"},
    DataScope.SELF_AND_SUBORDINATES: {"actor", "sub", "boss", "gm"},
    DataScope.DEPARTMENT: {"actor", "sub", "peer", "boss", "gm"},
    DataScope.DEPARTMENT_TREE: {"actor", "sub", "peer", "team", "boss", "gm"},
    DataScope.ALL: set(STAFF),
}


@pytest.fixture
def company(app, make_user):
    with app.app_context():
        for data_scope in DataScope:
            db.session.add(Role(name=f"范围{data_scope.value}", data_scope=data_scope, permissions=[]))
        db.session.commit()
    roles = {"boss": "经理", "actor": "主管"}  # the truth table gives "actor" each scope in turn
    return {name: make_user(name, role=roles.get(name, "业务员"), department=dept, superior=boss)
            for name, (dept, boss) in STAFF.items()}


def actor_of(username: str, data_scope: DataScope | None = None) -> Actor:
    user = db.session.scalar(select(User).where(User.username == username))
    if data_scope is not None:
        user.role = db.session.scalar(select(Role).where(Role.name == f"范围{data_scope.value}"))
        db.session.flush()
    return Actor.from_user(user)


@pytest.mark.both_dbs
@pytest.mark.parametrize("data_scope", list(DataScope), ids=[s.value for s in DataScope])
def test_assignment_truth_table(app, company, data_scope):
    with app.app_context():
        actor = actor_of("actor", data_scope)
        for name, user_id in company.items():
            if name in ALLOWED[data_scope]:
                task = tasks.create(db.session, actor=actor, now=FIXED_NOW, title=f"给{name}", assignee_id=user_id)
                assert task.assignee_id == user_id and task.assigner_id == company["actor"]
            else:
                with pytest.raises(tasks.AssignmentRefused, match="只能把待办分配给自己、下属或上级"):
                    tasks.create(db.session, actor=actor, now=FIXED_NOW, title=f"给{name}", assignee_id=user_id)
        offered = set(db.session.scalars(select(User.username).where(tasks.assignable_clause(actor))))
        assert offered == ALLOWED[data_scope]


def test_a_disabled_colleague_cannot_be_given_a_task(app, company):
    with app.app_context():
        db.session.get(User, company["sub"]).active = False
        actor = actor_of("actor", DataScope.ALL)
        with pytest.raises(tasks.AssignmentRefused):
            tasks.create(db.session, actor=actor, now=FIXED_NOW, title="离职", assignee_id=company["sub"])


def test_a_linked_record_must_be_in_the_assigners_scope(app, company, make_customer):
    mine = make_customer("我的客户", company["actor"])
    theirs = make_customer("别人的客户", company["outsider"])
    with app.app_context():
        actor = actor_of("actor", DataScope.SELF)
        task = tasks.create(db.session, actor=actor, now=FIXED_NOW, title="回访", assignee_id=company["actor"],
                            entity="customer", record_id=mine)
        assert task.record_id == mine
        with pytest.raises(InvalidValue, match="不在您的数据范围内"):
            tasks.create(db.session, actor=actor, now=FIXED_NOW, title="回访", assignee_id=company["actor"],
                         entity="customer", record_id=theirs)


def test_blank_title_is_refused(app, company):
    with app.app_context():
        with pytest.raises(InvalidValue, match="请填写待办标题"):
            tasks.create(db.session, actor=actor_of("actor"), now=FIXED_NOW, title="  ", assignee_id=company["actor"])


def test_date_only_due_is_the_end_of_that_local_day():
    due = tasks.due_instant(date(2026, 11, 23), None, TZ)
    assert due.isoformat() == "2026-11-23T15:59:59+00:00"
    assert tasks.due_instant(date(2026, 11, 23), time(9, 30), TZ).isoformat() == "2026-11-23T01:30:00+00:00"


# --- the state machine -----------------------------------------------------------------------------

def _given(app, company, *, assigner="boss", assignee="actor", **extra) -> int:
    with app.app_context():
        task = tasks.create(db.session, actor=actor_of(assigner), now=FIXED_NOW, title="整理报价",
                            assignee_id=company[assignee], **extra)
        db.session.commit()
        return task.id


def _notes(user_id: int) -> list[str]:
    return list(db.session.scalars(select(Notification.title).where(Notification.user_id == user_id)
                                   .order_by(Notification.id)))


def test_assignee_is_told_and_completion_with_feedback_tells_the_assigner(app, company):
    task_id = _given(app, company)
    with app.app_context():
        assert _notes(company["actor"]) == ["boss 给您分配了待办：整理报价"]
        actor = actor_of("actor")
        tasks.move(db.session, task_id, "start", actor=actor, now=FIXED_NOW)
        done = tasks.move(db.session, task_id, "complete", actor=actor, now=FIXED_NOW + timedelta(hours=1),
                          feedback="已发给客户")
        db.session.commit()
        assert done.status == "done" and done.feedback == "已发给客户"
        assert done.completed_at == FIXED_NOW + timedelta(hours=1)
        assert _notes(company["boss"]) == ["actor 完成了待办：整理报价"]
        kinds = [e.kind for e in tasks.history(db.session, done)]
        assert kinds == ["create", "start", "complete"]
        assert db.session.scalar(select(Notification.kind).where(Notification.user_id == company["boss"])) == "task"


def test_each_feedback_tells_the_other_party(app, company):
    task_id = _given(app, company)
    with app.app_context():
        tasks.add_feedback(db.session, task_id, "客户要求下周再报", actor=actor_of("actor"), now=FIXED_NOW)
        tasks.add_feedback(db.session, task_id, "好的", actor=actor_of("boss"), now=FIXED_NOW)
        db.session.commit()
        assert _notes(company["boss"]) == ["actor 反馈了待办：整理报价"]
        assert _notes(company["actor"])[-1] == "boss 反馈了待办：整理报价"
        assert db.session.get(Task, task_id).feedback == "客户要求下周再报"
        with pytest.raises(InvalidValue):
            tasks.add_feedback(db.session, task_id, " ", actor=actor_of("actor"), now=FIXED_NOW)


@pytest.mark.parametrize("mover,move,from_state,refused", [
    ("actor", "start", "todo", None),
    ("boss", "start", "todo", "不能对这条待办执行"),       # starting is the assignee's
    ("actor", "cancel", "todo", "不能对这条待办执行"),     # cancelling is the assigner's
    ("boss", "cancel", "doing", None),
    ("actor", "start", "doing", "当前为“进行中”"),
    ("actor", "complete", "done", "当前为“已完成”"),
    ("boss", "reopen", "done", None),
    ("actor", "reopen", "todo", "当前为“待办”"),
])
def test_moves_allowed_and_refused(app, company, mover, move, from_state, refused):
    task_id = _given(app, company)
    with app.app_context():
        db.session.get(Task, task_id).status = from_state
        db.session.commit()
        if refused:
            with pytest.raises(tasks.TaskMoveRefused, match=refused):
                tasks.move(db.session, task_id, move, actor=actor_of(mover), now=FIXED_NOW)
        else:
            moved = tasks.move(db.session, task_id, move, actor=actor_of(mover), now=FIXED_NOW)
            assert moved.status == tasks.TRANSITIONS[move].target


def test_a_task_outside_ones_scope_cannot_be_moved(app, company):
    task_id = _given(app, company, assigner="boss", assignee="peer")
    with app.app_context():
        with pytest.raises(OutOfScope):
            tasks.move(db.session, task_id, "complete", actor=actor_of("outsider"), now=FIXED_NOW)


def test_a_move_from_a_stale_page_is_refused(app, company):
    task_id = _given(app, company)
    with app.app_context():
        seen = db.session.get(Task, task_id).version
        tasks.move(db.session, task_id, "start", actor=actor_of("actor"), now=FIXED_NOW, version=seen)
        db.session.commit()  # started from another tab: the first page's version is stale now
        with pytest.raises(tasks.TaskMoveRefused, match="刚被他人处理过"):
            tasks.move(db.session, task_id, "complete", actor=actor_of("actor"), now=FIXED_NOW, version=seen)


@pytest.mark.both_dbs
def test_completing_and_cancelling_at_once_make_one_move(app, company):
    task_ids = [_given(app, company) for _ in range(3)]
    for task_id in task_ids:
        def mover(username, move):
            def job(session):
                actor = Actor.from_user(session.scalar(select(User).where(User.username == username)))
                tasks.move(session, task_id, move, actor=actor, now=FIXED_NOW)
            return job

        results = run_at_once(app, [mover("actor", "complete"), mover("boss", "cancel")])
        assert results.count("ok") == 1, results
        assert all("刚被他人处理过" in r or "当前为" in r for r in results if r != "ok"), results
        with app.app_context():
            moves = db.session.scalar(select(func.count(TaskEvent.id)).where(
                TaskEvent.task_id == task_id, TaskEvent.kind.in_(("complete", "cancel"))))
            assert moves == 1


# --- the reminder ----------------------------------------------------------------------------------

def test_overdue_tasks_are_reminded_as_one_grouped_notification_once_a_day(app, company, clock):
    for hours in (1, 5, 30, 50, 70):
        _given(app, company, due_at=FIXED_NOW - timedelta(hours=hours))
    lone = _given(app, company, assignee="sub", assigner="actor", due_at=FIXED_NOW - timedelta(hours=2))
    _given(app, company, assignee="peer", due_at=FIXED_NOW + timedelta(hours=3))   # due today: within 1 day
    _given(app, company, assignee="peer", due_at=FIXED_NOW + timedelta(days=9))   # too far ahead
    with app.app_context():
        db.session.execute(Notification.__table__.delete())  # the assignment notices
        assert task_reminders.remind_due(db.session, FIXED_NOW, TZ) == 3
        db.session.commit()
        assert _notes(company["actor"]) == ["5 项待办已逾期"]
        assert _notes(company["sub"]) == ["待办已逾期：整理报价"]
        assert db.session.scalar(select(Notification.link).where(Notification.user_id == company["sub"])) \
            == f"task/{lone}"
        assert _notes(company["peer"]) == ["待办即将到期：整理报价"]
        assert task_reminders.remind_due(db.session, FIXED_NOW + timedelta(hours=3), TZ) == 0  # same local day
        db.session.commit()
        assert db.session.scalar(select(func.count(Notification.id))) == 3
    clock.advance(days=1)
    with app.app_context():
        assert task_reminders.remind_due(db.session, FIXED_NOW + timedelta(days=1), TZ) == 3  # the next day, again


def test_done_tasks_are_not_reminded(app, company):
    task_id = _given(app, company, due_at=FIXED_NOW - timedelta(hours=1))
    with app.app_context():
        tasks.move(db.session, task_id, "complete", actor=actor_of("actor"), now=FIXED_NOW)
        db.session.execute(Notification.__table__.delete())
        assert task_reminders.remind_due(db.session, FIXED_NOW, TZ) == 0


def test_the_daily_job_reminds_once_and_is_on_the_schedule(app, company):
    from jobs.schedule import SCHEDULE
    from jobs.tasks import remind_due_tasks

    assert any(func is remind_due_tasks for func, _cron in SCHEDULE)
    for hours in (1, 2):
        _given(app, company, due_at=FIXED_NOW - timedelta(hours=hours))
    with app.app_context():
        db.session.execute(Notification.__table__.delete())
        db.session.commit()
        assert remind_due_tasks() == 1
        assert remind_due_tasks() == 0
        assert _notes(company["actor"]) == ["2 项待办已逾期"]


def test_a_task_is_reminded_as_many_days_ahead_as_its_assignee_chose(app, company):
    """提醒信息弹屏天数 (提醒设置) decides how early a task due soon is reminded."""
    from rules import notification_settings

    _given(app, company, assignee="peer", due_at=FIXED_NOW + timedelta(days=3))
    with app.app_context():
        db.session.execute(Notification.__table__.delete())
        assert task_reminders.remind_due(db.session, FIXED_NOW, TZ) == 0  # the default: today and tomorrow
        notification_settings.save(db.session, company["peer"], popup_kinds=[], sms_kinds=[], days_ahead=3,
                                   quiet_start=None, quiet_end=None, now=FIXED_NOW)
        assert task_reminders.remind_due(db.session, FIXED_NOW, TZ) == 1
        db.session.commit()
        assert _notes(company["peer"]) == ["待办即将到期：整理报价"]
