"""待办: three lists (我的待办 / 我分配的 / 下属的待办), the create/edit form, the task page with
its history, feedback box and moves, and 批量完成. Every rule is in rules/tasks.py."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload
from wtforms import DateField, HiddenField, SelectField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Optional

from admin_views.base import SIGNED_IN, ScopedModelView
from admin_views.context import current_actor, now
from admin_views.formatters import fmt_datetime, local
from admin_views.forms import CsrfForm
from admin_views.menu import OFFICE, fa
from admin_views.navigation import back_url
from admin_views.transaction import commit_or_explain, transaction
from models import Task, User, db
from models.task import OPEN_STATES, TaskEntity, TaskPriority, TaskState
from rules import scope, tasks
from rules.errors import RuleViolation
from rules.tasks import TaskList

STATE_CSS = {TaskState.TODO: "secondary", TaskState.DOING: "primary", TaskState.DONE: "success",
             TaskState.CANCELLED: "light"}
PRIORITY_CSS = {TaskPriority.LOW: "light", TaskPriority.NORMAL: "info", TaskPriority.HIGH: "warning",
                TaskPriority.URGENT: "danger"}
# The state pills above each list: what `?show=` may say.
SHOW = {"open": _l("未完成"), "overdue": _l("已逾期"), "closed": _l("已完成/已取消"), "all": _l("全部")}
LINKED_ENDPOINTS = {TaskEntity.CUSTOMER: "customer.details_view", TaskEntity.OPPORTUNITY: "opportunity.details_view",
                    TaskEntity.CONTRACT: "contract.details_view", TaskEntity.TICKET: "ticket.details_view"}


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def _show() -> str:
    value = request.args.get("show", "open")
    return value if value in SHOW else "open"


def _badge(css: str, text: Any) -> Markup:
    return Markup("<span class='badge badge-{}'>{}</span>").format(css, text)


def _title(view: Any, context: Any, model: Task, name: str) -> Markup:
    return Markup("<a href='{}'>{}</a>").format(url_for("task.detail", task_id=model.id), model.title)


def _due(view: Any, context: Any, model: Task, name: str) -> Markup:
    if model.due_at is None:
        return Markup("")
    text = fmt_datetime(model.due_at)
    if model.status in OPEN_STATES and model.due_at < now():
        return Markup("<span class='text-danger'>{} {}</span>").format(text, _badge("danger", _l("逾期")))
    return Markup("{}").format(text)


def linked_url(task: Task) -> str | None:
    if not task.entity or not task.record_id:
        return None
    return url_for(LINKED_ENDPOINTS[TaskEntity(task.entity)], id=task.record_id)


def linked_text(task: Task, names: dict[tuple[str, int], str]) -> str:
    name = names.get((task.entity, task.record_id)) if task.entity else None
    return gettext("%(kind)s：%(name)s", kind=tasks.ENTITY_LABELS[TaskEntity(task.entity)],
                   name=name or f"#{task.record_id}")


def _linked(view: Any, context: Any, model: Task, name: str) -> Markup:
    url = linked_url(model)
    if url is None:
        return Markup("")
    return Markup("<a href='{}'>{}</a>").format(url, linked_text(model, g.get("task_linked_names", {})))


def _linked_label(entity: str, record_id: int) -> str | None:
    """What the form will link the task to, named only if the writer may see it (the rule refuses
    the rest on save)."""
    try:
        tasks.check_link(db.session, entity, record_id, actor=current_actor())
    except RuleViolation:
        return None
    task = Task(entity=entity, record_id=record_id)
    return linked_text(task, tasks.linked_names(db.session, [task]))


def _assignable() -> list[tuple[int, str]]:
    users = db.session.execute(select(User.id, User.display_name).where(tasks.assignable_clause(current_actor()))
                               .order_by(User.display_name)).all()
    return [(u.id, u.display_name) for u in users]


class TaskListView(ScopedModelView):
    """One of the three lists; `which` says whose tasks (rules/tasks.list_clause)."""

    which = TaskList.MINE
    permission_view = permission_create = permission_edit = SIGNED_IN  # the task scope decides the rows
    action_permissions = {"complete": SIGNED_IN}
    list_template = "admin/tasks/list.html"
    create_template = "admin/tasks/create.html"
    can_view_details = False  # the task page (detail) shows history and the feedback box
    capped_count = True  # a manager's "全部" spans years of tasks: "10000+" is enough
    column_list = ["title", "priority", "status", "due_at", "assignee", "assigner", "linked", "updated_at"]
    column_labels = {
        "title": _l("标题"), "priority": _l("优先级"), "status": _l("状态"), "due_at": _l("截止时间"),
        "assignee": _l("执行人"), "assigner": _l("分配人"), "linked": _l("关联记录"), "updated_at": _l("最后更新"),
        "description": _l("描述"), "assignee_id": _l("执行人"), "due_date": _l("截止日期"), "due_time": _l("截止时刻"),
    }
    column_sortable_list = ["title", "priority", "due_at", "updated_at"]
    column_default_sort = [("due_at", False), ("id", False)]  # see _get_default_order
    column_searchable_list = ["title"]
    column_formatters = {
        "title": _title, "due_at": _due, "linked": _linked,
        "priority": lambda v, c, m, n: _badge(PRIORITY_CSS[TaskPriority(m.priority)],
                                              tasks.PRIORITY_LABELS[TaskPriority(m.priority)]),
        "status": lambda v, c, m, n: _badge(STATE_CSS[TaskState(m.status)], tasks.STATE_LABELS[TaskState(m.status)]),
        "updated_at": lambda v, c, m, n: fmt_datetime(m.updated_at),
    }

    form_columns = ["title", "assignee_id", "due_date", "due_time", "priority", "description", "entity", "record_id"]
    form_overrides = {"description": TextAreaField, "entity": HiddenField, "record_id": HiddenField}
    form_extra_fields = {
        "assignee_id": SelectField(_l("执行人"), coerce=int, validators=[InputRequired(_l("请选择执行人"))],
                                   description=_l("可以分配给自己、数据范围内的同事或自己的上级")),
        "due_date": DateField(_l("截止日期"), validators=[Optional()], description=_l("只填日期表示当天下班前（23:59）")),
        "due_time": TimeField(_l("截止时刻"), validators=[Optional()], description=_l("可不填")),
        "priority": SelectField(_l("优先级"), choices=[(p.value, label) for p, label in tasks.PRIORITY_LABELS.items()],
                                default=TaskPriority.NORMAL.value),
    }
    form_args = {"title": {"label": _l("标题")}, "description": {"label": _l("描述"), "render_kw": {"rows": 5}}}

    # --- which rows -----------------------------------------------------------------------------
    def scope_clause(self) -> Any:
        return tasks.list_clause(self.which, current_actor(), show=_show(), now=now())

    def _get_default_order(self) -> Any:
        if tasks.newest_first(_show()):
            yield Task.id, [], True
        else:
            yield Task.due_at, [], False
            yield Task.id, [], False

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Task.assignee), joinedload(Task.assigner))

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        count, rows = super().get_list(*args, **kwargs)
        g.task_linked_names = tasks.linked_names(db.session, list(rows))  # the 关联记录 column, one query per kind
        return count, rows

    def write_clause(self) -> Any:
        return scope.task_edit_clause(current_actor())

    def _clause_for_request(self) -> Any:
        endpoint = (request.endpoint or "").rsplit(".", 1)[-1]
        if endpoint in ("edit_view", "delete_view", "ajax_update"):
            return self.write_clause()
        return None  # batch actions: every task in scope; the rule says whose move it is

    def render(self, template: str, **kwargs: Any) -> Any:
        kwargs.update(task_tabs=TABS, task_which=self.which, task_show=_show(), task_shows=SHOW)
        form = kwargs.get("form")
        if form is not None and "entity" in form and form.entity.data and str(form.record_id.data or "").isdigit():
            kwargs["task_linked"] = _linked_label(form.entity.data, int(form.record_id.data))
        return super().render(template, **kwargs)

    # --- create / edit ------------------------------------------------------------------------------
    def _fill_choices(self, form: Any) -> Any:
        form.assignee_id.choices = _assignable()
        return form

    def create_form(self, obj: Any = None) -> Any:
        form = self._fill_choices(super().create_form(obj))
        if request.method == "GET":
            form.assignee_id.data = current_actor().user_id
            entity = request.args.get("entity")
            if entity in {e.value for e in TaskEntity} and (request.args.get("record_id") or "").isdigit():
                form.entity.data, form.record_id.data = entity, request.args["record_id"]
        return form

    def edit_form(self, obj: Any = None) -> Any:
        form = self._fill_choices(super().edit_form(obj))
        if request.method == "GET" and obj is not None and obj.due_at is not None:
            due = local(obj.due_at)
            form.due_date.data = due.date()
            form.due_time.data = None if (due.hour, due.minute) == (23, 59) else due.time()
        return form

    def apply_rules(self, form: Any, model: Task, is_created: bool) -> None:
        actor = current_actor()
        model.due_at = tasks.due_instant(form.due_date.data, form.due_time.data, _tz())
        model.entity = form.entity.data or None
        model.record_id = int(form.record_id.data) if str(form.record_id.data or "").isdigit() else None
        if is_created:
            tasks.created(db.session, model, actor=actor, now=now())
        else:
            history = inspect(model).attrs.assignee_id.history
            previous = history.deleted[0] if history.deleted else model.assignee_id
            tasks.edited(db.session, model, actor=actor, now=now(), previous_assignee=previous)

    def get_save_return_url(self, model: Any, is_created: bool = False) -> str:
        return url_for("task.detail", task_id=model.id)

    # --- batch --------------------------------------------------------------------------------------
    @action("complete", _l("完成"), _l("确定把所选待办标记为已完成吗？上方“执行反馈”中填写的内容会一并记录，并通知分配人。"))
    def action_complete(self, ids: list[str]) -> None:
        chosen = self.scoped_batch(ids, clause=scope.clause_for(Task, current_actor()))
        feedback = request.form.get("feedback")
        with transaction() as outcome:
            count = tasks.complete_many(db.session, [t.id for t in chosen], actor=current_actor(), now=now(),
                                        feedback=feedback)
            outcome.done(ngettext("已完成 %(num)d 项待办。", "已完成 %(num)d 项待办。", count))


class TaskView(TaskListView):
    """我的待办, and the task page every link to a task opens (RecordLink(ListKind.TASK, id))."""

    which = TaskList.MINE

    def record_url(self, task_id: int) -> str:
        return url_for(f"{self.endpoint}.detail", task_id=task_id)

    def _task(self, task_id: int) -> Task:
        return self.get_one(str(task_id))

    @expose("/<int:task_id>/")
    def detail(self, task_id: int) -> Any:
        task = self._task(task_id)
        actor = current_actor()
        events = tasks.history(db.session, task)
        moves = [(name, t.label) for name, t in tasks.TRANSITIONS.items() if t.allows(task, actor)]
        can_edit = db.session.scalar(select(Task.id).where(Task.id == task.id, scope.task_edit_clause(actor)))
        return self.render("admin/tasks/detail.html", task=task, events=events, moves=moves,
                           can_edit=can_edit is not None, can_feedback=actor.user_id in (task.assignee_id, task.assigner_id),
                           state_labels=tasks.STATE_LABELS, state_css=STATE_CSS, priority_labels=tasks.PRIORITY_LABELS,
                           priority_css=PRIORITY_CSS, event_labels=tasks.EVENT_LABELS, linked=linked_url(task),
                           linked_text=linked_text(task, tasks.linked_names(db.session, [task])) if task.entity else "",
                           overdue=task.status in OPEN_STATES and task.due_at is not None
                           and task.due_at < now(), return_url=back_url(request.args.get("url"), url_for(".index_view")))

    @expose("/<int:task_id>/move/<move_name>/", methods=["POST"])
    def move(self, task_id: int, move_name: str) -> Any:
        name = move_name
        if name not in tasks.TRANSITIONS or not CsrfForm(request.form).validate():
            abort(400)
        task = self._task(task_id)
        version = request.form.get("version")
        label = tasks.TRANSITIONS[name].label
        commit_or_explain(lambda: tasks.move(db.session, task.id, name, actor=current_actor(), now=now(),
                                             feedback=request.form.get("feedback"),
                                             version=int(version) if (version or "").isdigit() else None),
                          lambda _t: gettext("操作成功：%(move)s", move=label))
        return redirect(url_for(".detail", task_id=task.id))

    @expose("/<int:task_id>/feedback/", methods=["POST"])
    def feedback(self, task_id: int) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        task = self._task(task_id)
        ok = commit_or_explain(lambda: tasks.add_feedback(db.session, task.id, request.form.get("note", ""),
                                                          actor=current_actor(), now=now()),
                               lambda _e: gettext("反馈已记录，并已通知对方"))
        if not ok:  # keep what was typed
            return redirect(url_for(".detail", task_id=task.id, note=request.form.get("note", "")[:2000]))
        return redirect(url_for(".detail", task_id=task.id))


class AssignedTaskView(TaskListView):
    """我分配的: tasks I handed to others (my own ones are in 我的待办)."""

    which = TaskList.ASSIGNED
    column_list = [c for c in TaskListView.column_list if c != "assigner"]


class TeamTaskView(TaskListView):
    """下属的待办: tasks of the colleagues in my data scope."""

    which = TaskList.TEAM


TABS = [(TaskList.MINE, "task.index_view", _l("我的待办")), (TaskList.ASSIGNED, "task_given.index_view", _l("我分配的")),
        (TaskList.TEAM, "task_team.index_view", _l("下属的待办"))]


def for_record(entity: str, record_id: int) -> dict[str, Any]:
    """The task box on a customer / opportunity / contract page: its open tasks the reader sees,
    and a link that opens the form with the record filled in."""
    kind = TaskEntity(entity)
    rows = tasks.linked_open(db.session, kind, record_id, current_actor())
    return {"items": rows, "new_url": url_for("task.create_view", entity=kind.value, record_id=record_id,
                                              url=request.full_path),
            "state_labels": tasks.STATE_LABELS, "state_css": STATE_CSS}


def init_app(app: Any) -> None:
    app.add_template_global(for_record, "kechi_tasks")


def views() -> list[Any]:
    return [
        TaskView(Task, name=_l("我的待办"), category=OFFICE, endpoint="task", **fa("fa-check-square-o")),
        AssignedTaskView(Task, name=_l("我分配的待办"), category=OFFICE, endpoint="task_given", **fa("fa-share-square-o")),
        TeamTaskView(Task, name=_l("下属的待办"), category=OFFICE, endpoint="task_team", **fa("fa-users")),
    ]
