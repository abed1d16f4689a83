"""Data scope: the single place that decides which records an actor may see.

Every path (list, count, detail, edit, delete, batch action, export, report, chart, ajax
look-up, API) builds its query through `scoped()` or loads through `get_in_scope()`.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true
from sqlalchemy.orm import Query, Session

from models.announcement import Announcement, announcement_departments
from models.customer import Contact, Customer, CustomerShare, FollowUp, OwnershipEvent, PersonalContact, ShareMode
from models.messaging import Outbox, SmsReply
from models.office import Notification
from models.sales import Order, OrderLine, Payment, PointsEntry
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


def owner_clause_listed(session: Session, owner_column: Any, actor: Actor) -> ColumnElement[bool]:
    """`owner_clause` with the staff in scope looked up first and written out as a list. SQLite
    sizes `owner_id IN (3, 4, 5)` from its statistics and walks the owner index; for
    `owner_id IN (SELECT ...)` it cannot, and reads every row of a large table instead."""
    if actor.data_scope is DataScope.ALL:
        return true()
    staff = list(session.scalars(select(User.id).where(owner_clause(User.id, actor))))
    return owner_column.in_(staff) if staff else false()


def shared_with(actor: Actor, *, collaborate_only: bool = False) -> Select:
    """Ids of customers shared with the actor by a share that is still running today."""
    stmt = select(CustomerShare.customer_id).where(
        CustomerShare.user_id == actor.user_id,
        CustomerShare.revoked_at.is_(None),
        or_(CustomerShare.until.is_(None), CustomerShare.until >= actor.today),
    )
    if collaborate_only:
        stmt = stmt.where(CustomerShare.mode == ShareMode.COLLABORATE)
    return stmt


def customer_clause(actor: Actor) -> ColumnElement[bool]:
    """Live customers the actor may see: owned within scope, or shared with them.
    Pool membership joins this clause in the pool issue."""
    owned = owner_clause(Customer.owner_id, actor)
    if actor.data_scope is DataScope.ALL or not actor.has_shares:
        return and_(Customer.deleted_at.is_(None), owned)
    return and_(Customer.deleted_at.is_(None), or_(owned, Customer.id.in_(shared_with(actor))))


def customer_branches(actor: Actor) -> list[ColumnElement[bool]]:
    """`customer_clause` cut into disjoint parts whose union is the same set: owned within
    scope, and shared with the actor but not owned within scope. Each part keeps an index order,
    so a list can take one page from each and merge them; `owned OR shared` makes both SQLite
    and PostgreSQL fetch and sort every owned row to show one page."""
    if actor.data_scope is DataScope.ALL or not actor.has_shares:
        return [customer_clause(actor)]
    live = Customer.deleted_at.is_(None)
    owned = owner_clause(Customer.owner_id, actor)
    not_owned = or_(Customer.owner_id.is_(None), ~owned)
    return [and_(live, owned), and_(live, not_owned, Customer.id.in_(shared_with(actor)))]


def has_active_shares(session: Session, user_id: int, today: date) -> bool:
    stmt = select(CustomerShare.id).where(
        CustomerShare.user_id == user_id, CustomerShare.revoked_at.is_(None),
        or_(CustomerShare.until.is_(None), CustomerShare.until >= today)).limit(1)
    return session.scalar(stmt) is not None


def customer_edit_clause(actor: Actor) -> ColumnElement[bool]:
    """Live customers the actor may change, delete or hand on: shares never grant this."""
    return and_(Customer.deleted_at.is_(None), owner_clause(Customer.owner_id, actor))


def customer_contribute_clause(actor: Actor) -> ColumnElement[bool]:
    """Customers the actor may add follow-ups and contacts to: editable ones and
    collaborative shares."""
    owned = owner_clause(Customer.owner_id, actor)
    if not actor.has_shares:
        return and_(Customer.deleted_at.is_(None), owned)
    return and_(Customer.deleted_at.is_(None),
                or_(owned, Customer.id.in_(shared_with(actor, collaborate_only=True))))


def binned_clause(actor: Actor) -> ColumnElement[bool]:
    """Customers in the recycle bin whose owner is in the actor's scope."""
    return and_(Customer.deleted_at.is_not(None), owner_clause(Customer.owner_id, actor))


def on_visible_customer(column: Any, actor: Actor) -> ColumnElement[bool]:
    """Rows (contacts, follow-ups, messages, moves...) whose customer, `column`, the actor sees.

    Asked per row, never as `column IN (every visible customer)`: at a million customers that
    list costs seconds to build on each page view, where a page of twenty rows needs twenty
    look-ups by primary key. Everyone-scope only asks "not in the recycle bin" (small, indexed).
    The EXISTS correlates only `column`'s table (an export that also selects the customer keeps
    this customers table its own); OFFSET 0 keeps PostgreSQL from hashing every visible
    customer first."""
    if actor.data_scope is DataScope.ALL:
        return and_(column.is_not(None), column.not_in(select(Customer.id).where(Customer.deleted_at.is_not(None))))
    return (select(Customer.id).where(Customer.id == column, customer_clause(actor))
            .offset(0).correlate(column.table).exists())


def _through_customer(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: on_visible_customer(column, actor)


def follow_up_clause(actor: Actor) -> ColumnElement[bool]:
    """Follow-ups on live customers, written by someone in scope or on a customer the actor
    sees."""
    on_customer = on_visible_customer(FollowUp.customer_id, actor)
    if actor.data_scope is DataScope.ALL:
        return on_customer
    live = FollowUp.customer_id.not_in(select(Customer.id).where(Customer.deleted_at.is_not(None)))
    return and_(live, or_(owner_clause(FollowUp.user_id, actor), on_customer))


def ownership_event_clause(actor: Actor) -> ColumnElement[bool]:
    """流转记录: moves of customers the actor sees, and moves to or from someone in scope (a
    salesperson sees what left them for the pool)."""
    return or_(on_visible_customer(OwnershipEvent.customer_id, actor),
               owner_clause(OwnershipEvent.from_user_id, actor), owner_clause(OwnershipEvent.to_user_id, actor))


def outbox_clause(actor: Actor) -> ColumnElement[bool]:
    """Messages the actor sent, or sent to customers they see; the messaging administrator
    sees all."""
    if actor.can("message.manage"):
        return true()
    return or_(owner_clause(Outbox.user_id, actor), on_visible_customer(Outbox.customer_id, actor))


def sms_reply_clause(actor: Actor) -> ColumnElement[bool]:
    """Replies from customers the actor sees; the messaging administrator sees all."""
    if actor.can("message.manage"):
        return true()
    return on_visible_customer(SmsReply.customer_id, actor)


def recipient_clause(actor: Actor) -> ColumnElement[bool]:
    """A personal inbox: one's own rows, whatever the role's data scope."""
    return Notification.user_id == actor.user_id


def personal_clause(actor: Actor) -> ColumnElement[bool]:
    return PersonalContact.owner_id == actor.user_id


def order_clause(actor: Actor) -> ColumnElement[bool]:
    """Orders of customers the actor sees, or sold by a salesperson in the actor's scope."""
    if actor.data_scope is DataScope.ALL:
        return true()
    # EXISTS, not IN: an order list pages through the (state, date) index and checks each row,
    # where IN (subquery) in an OR makes SQLite collect and sort every order of the scope.
    visible_customer = select(Customer.id).where(Customer.id == Order.customer_id, customer_clause(actor)).exists()
    return or_(owner_clause(Order.salesperson_id, actor), visible_customer)


def _through_order(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: column.in_(select(Order.id).where(order_clause(actor)))


def announcement_clause(actor: Actor) -> ColumnElement[bool]:
    """Announcements the actor may read: published, not past their last day, and addressed to
    the whole company or to the actor's department or one above it (a department's audience
    includes its sub-departments). Drafts are seen only in the administrators' list."""
    ancestors = [int(p) for p in (actor.department_path or "").strip("/").split("/") if p.isdigit()]
    audience = Announcement.whole_company.is_(True)
    if ancestors:
        # EXISTS, not IN: the feed walks its index newest first and checks each row by primary
        # key, stopping at the page size, instead of collecting every link of the departments
        # (the OFFSET keeps PostgreSQL from turning it back into a hashed IN over all of them).
        audience = or_(audience, select(announcement_departments.c.announcement_id).where(
            announcement_departments.c.announcement_id == Announcement.id,
            announcement_departments.c.department_id.in_(ancestors)).offset(0).exists())
    return and_(Announcement.published_at.is_not(None),
                or_(Announcement.expires_on.is_(None), Announcement.expires_on >= actor.today), audience)


def announcement_manage_clause(actor: Actor) -> ColumnElement[bool]:
    """Announcements the actor may manage (drafts included): written by someone in scope."""
    return owner_clause(Announcement.author_id, actor)


_CLAUSES: dict[type, Callable[[Actor], ColumnElement[bool]]] = {
    Customer: customer_clause,
    Contact: _through_customer(Contact.customer_id),
    FollowUp: follow_up_clause,
    OwnershipEvent: ownership_event_clause,
    CustomerShare: _through_customer(CustomerShare.customer_id),
    Notification: recipient_clause,
    Outbox: outbox_clause,
    SmsReply: sms_reply_clause,
    PersonalContact: personal_clause,
    Order: order_clause,
    OrderLine: _through_order(OrderLine.order_id),
    Payment: _through_order(Payment.order_id),
    PointsEntry: _through_customer(PointsEntry.customer_id),
    Announcement: announcement_clause,
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


def get_in_scope(session: Session, model: type[M], ident: Any, actor: Actor,
                 clause: ColumnElement[bool] | None = None) -> M:
    """Load one record the actor may see (or the narrower `clause`), or raise OutOfScope
    (the view answers 404)."""
    try:
        pk = int(ident)
    except (TypeError, ValueError):
        raise OutOfScope(_l("记录不存在")) from None
    stmt = select(model).where(clause if clause is not None else clause_for(model, actor))
    obj = session.scalar(stmt.where(model.id == pk))
    if obj is None:
        raise OutOfScope(_l("记录不存在"))
    return obj


def ids_in_scope(session: Session, model: type, ids: list[Any], actor: Actor,
                 clause: ColumnElement[bool] | None = None) -> list[int]:
    """Batch actions receive raw ids from the form: keep the ones in scope, in order."""
    wanted = []
    for raw in ids:
        try:
            wanted.append(int(raw))
        except (TypeError, ValueError):
            continue
    if not wanted:
        return []
    where = clause if clause is not None else clause_for(model, actor)
    found = set(session.scalars(select(model.id).where(where, model.id.in_(wanted))))
    return [i for i in wanted if i in found]
