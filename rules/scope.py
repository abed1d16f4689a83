"""Data scope: the single place that decides which records an actor may see.

Every path (list, count, detail, edit, delete, batch action, export, report, chart, ajax
look-up, API) builds its query through `scoped()` or loads through `get_in_scope()`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.orm import Query, Session

from models.customer import Customer
from models.office import Notification
from models.org import DataScope, Department, User
from rules.actor import Actor
from rules.errors import OutOfScope

M = TypeVar("M")


def owner_clause(owner_column: Any, actor: Actor) -> ColumnElement[bool]:
    """Rows whose owner is inside the actor's data scope."""
    scope = actor.data_scope
    if scope is DataScope.ALL:
        return true()
    if scope is DataScope.SELF:
        return owner_column == actor.user_id
    if scope is DataScope.SELF_AND_SUBORDINATES:
        team = select(User.id).where(User.report_path.startswith(actor.report_path))
        return owner_column.in_(team)
    if actor.department_id is None:  # a department scope without a department: own only
        return owner_column == actor.user_id
    if scope is DataScope.DEPARTMENT:
        members = select(User.id).where(User.department_id == actor.department_id)
        return owner_column.in_(members)
    if scope is DataScope.DEPARTMENT_TREE:
        members = (
            select(User.id)
            .join(Department, User.department_id == Department.id)
            .where(Department.path.startswith(actor.department_path or "/-/"))
        )
        return owner_column.in_(members)
    return false()


def customer_clause(actor: Actor) -> ColumnElement[bool]:
    # Shared customers and pool membership join this clause in the customers and pool issues.
    return owner_clause(Customer.owner_id, actor)


def recipient_clause(actor: Actor) -> ColumnElement[bool]:
    """A personal inbox: one's own rows, whatever the role's data scope."""
    return Notification.user_id == actor.user_id


_CLAUSES: dict[type, Callable[[Actor], ColumnElement[bool]]] = {
    Customer: customer_clause,
    Notification: recipient_clause,
}


def clause_for(model: type, actor: Actor) -> ColumnElement[bool]:
    if model in _CLAUSES:
        return _CLAUSES[model](actor)
    owner = getattr(model, "owner_id", None)
    if owner is None:
        raise TypeError(f"{model.__name__} has no data-scope rule")
    return owner_clause(owner, actor)


def is_scoped(model: type) -> bool:
    return model in _CLAUSES or hasattr(model, "owner_id")


def scoped(stmt: Select | Query, model: type, actor: Actor) -> Select | Query:
    """Restrict a select (or legacy Query) over `model` to the actor's scope."""
    clause = clause_for(model, actor)
    return stmt.filter(clause) if isinstance(stmt, Query) else stmt.where(clause)


def get_in_scope(session: Session, model: type[M], ident: Any, actor: Actor) -> M:
    """Load one record the actor may see, or raise OutOfScope (the view answers 404)."""
    try:
        pk = int(ident)
    except (TypeError, ValueError):
        raise OutOfScope(_l("记录不存在")) from None
    obj = session.scalar(scoped(select(model), model, actor).where(model.id == pk))
    if obj is None:
        raise OutOfScope(_l("记录不存在"))
    return obj


def ids_in_scope(session: Session, model: type, ids: list[Any], actor: Actor) -> list[int]:
    """Batch actions receive raw ids from the form: keep the ones in scope, in order."""
    wanted = []
    for raw in ids:
        try:
            wanted.append(int(raw))
        except (TypeError, ValueError):
            continue
    if not wanted:
        return []
    found = set(session.scalars(scoped(select(model.id), model, actor).where(model.id.in_(wanted))))
    return [i for i in wanted if i in found]
