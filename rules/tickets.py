"""工单: entry, the timeline (客服记录: replies to the customer, internal notes), moves between the
administrator's statuses, assignment (分派 / 改派 / 领取) and reopening.

Every status move is one guarded UPDATE (`WHERE id AND status_id = :old AND version = :seen`)
checked by its row count plus a timeline entry; a move that lost the race is refused with the
status the ticket now has. The SLA rules (rules/sla.py) are told of every creation, category
change and priority change through their hooks; this module keeps the done columns
(first_responded_at, resolved_at, closed_at) that SLA states and reports read. Nothing here commits."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement, and_, delete, func, insert, literal, literal_column, or_, select, table, union, update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text
from sqlalchemy.orm import Session

from models.contract import Contract
from models.customer import Contact, Customer
from models.dictionary import DictItem, DictKind
from models.office import NotificationKind
from models.org import User
from models.product import Product
from models.sales import Order
from models.service import (
    ACTIVE_CATEGORIES, EntryKind, ServiceTeam, ServiceTeamMember, StatusCategory, Ticket, TicketChannel,
    TicketEntry, TicketPriority, TicketSearch, TicketStatus,
)
from rules import normalize, notifications, numbering, scope, search, settings, sla, ticket_assignment, ticket_statuses
from rules.actor import Actor
from rules.clock import local_date, local_day_start
from rules.errors import InvalidValue, PermissionDenied, RuleViolation
from rules.links import ListKind, RecordLink

NUMBER_SEQUENCE = "ticket"
CUSTOM_ENTITY = "ticket"
VIEW, HANDLE, ASSIGN, MANAGE = "service.view", "service.handle", "service.assign", "service.manage"

DEFAULTS: dict[str, Any] = {
    "ticket_number_pattern": "GD{yyyy}{mm}{dd}{seq:04d}",
    "ticket_reopen_days": 7,  # 已解决/已关闭 tickets may be reopened within this many days
}

CHANNEL_LABELS = {TicketChannel.PHONE.value: _l("电话"), TicketChannel.WECHAT.value: _l("微信"),
                  TicketChannel.EMAIL.value: _l("邮件"), TicketChannel.VISIT.value: _l("上门"),
                  TicketChannel.WEB.value: _l("网页")}
PRIORITY_LABELS = {TicketPriority.LOW.value: _l("低"), TicketPriority.NORMAL.value: _l("普通"),
                   TicketPriority.HIGH.value: _l("高"), TicketPriority.URGENT.value: _l("紧急")}
PRIORITY_CSS = {"low": "light", "normal": "secondary", "high": "warning", "urgent": "danger"}
CATEGORY_LABELS = {StatusCategory.OPEN.value: _l("处理中"), StatusCategory.PAUSED.value: _l("暂停"),
                   StatusCategory.RESOLVED.value: _l("已解决"), StatusCategory.CLOSED.value: _l("已关闭")}
CATEGORY_CSS = {"open": "primary", "paused": "warning", "resolved": "success", "closed": "dark"}
ENTRY_LABELS = {EntryKind.REPLY.value: _l("回复客户"), EntryKind.NOTE.value: _l("内部备注"),
                EntryKind.STATUS.value: _l("状态变更"), EntryKind.ASSIGN.value: _l("分派"),
                EntryKind.REOPEN.value: _l("重新打开"), EntryKind.SLA.value: _l("SLA"),
                EntryKind.REPAIR.value: _l("维修"), EntryKind.VISIT.value: _l("回访")}
SLA_CSS = {"normal": "success", "soon": "warning", "breached": "danger", "met": "info", "paused": "secondary"}
DONE = (StatusCategory.RESOLVED.value, StatusCategory.CLOSED.value)


class TicketRefused(RuleViolation):
    """The ticket is not in a state this move starts from (or someone moved it first)."""


class StaleTicket(TicketRefused):
    """Someone changed the ticket's status between the page and the click."""


def setting(session: Session, key: str) -> Any:
    value = settings.get(session, key)
    return DEFAULTS[key] if value is None else value


def save_settings(session: Session, form: Mapping[str, Any]) -> None:
    pattern = normalize.text(form.get("ticket_number_pattern")) or DEFAULTS["ticket_number_pattern"]
    numbering.validate_pattern(pattern)
    try:
        days = int(str(form.get("ticket_reopen_days", "")).strip())
    except ValueError:
        raise InvalidValue(_l("可重新打开的天数请填写 0 到 365 之间的整数")) from None
    if not 0 <= days <= 365:
        raise InvalidValue(_l("可重新打开的天数请填写 0 到 365 之间的整数"))
    settings.put(session, "ticket_number_pattern", pattern)
    settings.put(session, "ticket_reopen_days", days)


# --- the timeline ------------------------------------------------------------------------------------

def add_entry(session: Session, ticket: Ticket, kind: EntryKind, *, author_id: int | None, body: str | None = None,
              now: datetime, from_status_id: int | None = None, to_status_id: int | None = None) -> TicketEntry:
    entry = TicketEntry(ticket_id=ticket.id, kind=EntryKind(kind).value, author_id=author_id, body=body or None,
                        from_status_id=from_status_id, to_status_id=to_status_id, at=now)
    session.add(entry)
    session.flush()
    return entry


def _notify(session: Session, user_id: int | None, actor: Actor, title: Any, ticket: Ticket, now: datetime,
            body: str | None = None) -> None:
    """Tell a colleague of a change someone else made to their ticket."""
    if user_id is None or user_id == actor.user_id:
        return
    notifications.notify(session, user_id=user_id, title=title, body=body, now=now, kind=NotificationKind.TICKET,
                         link=RecordLink(ListKind.TICKET, ticket.id))


# --- entry -------------------------------------------------------------------------------------------

def _customer(session: Session, ticket: Ticket, actor: Actor) -> Customer:
    customer_id = ticket.customer.id if ticket.customer is not None else ticket.customer_id
    if customer_id is None:
        raise InvalidValue(_l("请选择客户"))
    found = session.scalar(select(Customer).where(Customer.id == customer_id, scope.clause_for(Customer, actor)))
    if found is None:
        # Refused with a reason (not 404): the form stays as typed to pick another customer.
        raise InvalidValue(_l("该客户不在您的数据范围内"))
    return found


def _belongs(session: Session, model: type, ident: int | None, customer_id: int, message: Any) -> None:
    if ident is not None and session.scalar(select(model.customer_id).where(model.id == ident)) != customer_id:
        raise InvalidValue(message)


def _id(value: Any) -> int | None:
    return getattr(value, "id", value) or None


def _check(session: Session, ticket: Ticket, actor: Actor, known_customer: Customer | None = None) -> Customer:
    customer = known_customer or _customer(session, ticket, actor)
    ticket.customer, ticket.customer_id = customer, customer.id
    _belongs(session, Contact, _id(ticket.contact) or ticket.contact_id, customer.id, _l("联系人不属于该客户"))
    _belongs(session, Order, _id(getattr(ticket, "order", None)) or ticket.order_id, customer.id,
             _l("所选订单不属于该客户"))
    _belongs(session, Contract, _id(getattr(ticket, "contract", None)) or ticket.contract_id, customer.id,
             _l("所选合同不属于该客户"))
    type_id = _id(ticket.ticket_type) or ticket.type_id
    if type_id is not None and session.scalar(select(DictItem.kind).where(DictItem.id == type_id)) \
            != DictKind.TICKET_TYPE.value:
        raise InvalidValue(_l("请选择工单类型"))
    if ticket.product_id is not None and session.get(Product, ticket.product_id) is None:
        raise InvalidValue(_l("所选产品不存在"))
    ticket.subject = normalize.text(ticket.subject)
    if not ticket.subject:
        raise InvalidValue(_l("请填写工单主题"))
    ticket.serial_no = normalize.text(ticket.serial_no) or None
    ticket.description = (ticket.description or "").strip() or None
    if ticket.channel not in CHANNEL_LABELS:
        raise InvalidValue(_l("请选择受理渠道"))
    if ticket.priority not in PRIORITY_LABELS:
        raise InvalidValue(_l("请选择优先级"))
    return customer


def _active_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise InvalidValue(_l("处理人不存在或已停用"))
    return user


def create(session: Session, ticket: Ticket, *, actor: Actor, now: datetime, tz: str) -> Ticket:
    """新建工单 for a customer in the actor's scope; it starts in the initial status, in the chosen
    team's queue (handed to a member by the team's mode when nobody was named)."""
    if not actor.can(HANDLE):
        raise PermissionDenied(_l("您没有新建工单的权限"))
    _check(session, ticket, actor)
    ticket.channel = ticket.channel or TicketChannel.PHONE.value
    team_id = _id(getattr(ticket, "team", None)) or ticket.team_id
    assignee_id = _id(ticket.assignee) or ticket.assignee_id
    if assignee_id is not None and assignee_id != actor.user_id and not actor.can(ASSIGN):
        raise PermissionDenied(_l("您没有分派工单的权限，处理人请留空或选自己"))
    if assignee_id is not None:
        _active_user(session, assignee_id)
    elif team_id is not None:
        assignee_id = ticket_assignment.pick_assignee(session, team_id, now)
    status = ticket_statuses.initial(session)
    ticket.status, ticket.status_id, ticket.status_category = status, status.id, status.category
    ticket.team_id, ticket.assignee_id = team_id, assignee_id
    ticket.created_by_id = actor.user_id
    ticket.custom = ticket.custom or {}
    if ticket in session:
        session.expunge(ticket)  # reserving the number flushes: not before the ticket is complete
    ticket.number = numbering.next_number(session, NUMBER_SEQUENCE, setting(session, "ticket_number_pattern"),
                                          today=local_date(now, tz))
    ticket.created_at = ticket.updated_at = now
    session.add(ticket)
    session.flush()
    refresh_search(session, ticket)
    sla.on_created(session, ticket, now)
    if assignee_id is not None:
        who = session.get(User, assignee_id)
        add_entry(session, ticket, EntryKind.ASSIGN, author_id=actor.user_id, now=now,
                  body=str(_l("分派给 %(name)s", name=who.display_name)))
        _notify(session, assignee_id, actor, _l("新工单分派给您：%(n)s", n=ticket.number), ticket, now,
                body=ticket.subject)
    session.flush()
    return ticket


def edit(session: Session, ticket: Ticket, *, actor: Actor, now: datetime, old_priority: str | None) -> None:
    """修改工单 (its version column refuses a stale form). A new priority brings new due times."""
    if not actor.can(HANDLE):
        raise PermissionDenied(_l("您没有处理工单的权限"))
    with session.no_autoflush:
        stored = session.execute(select(Ticket.customer_id, Ticket.assignee_id, Ticket.team_id)
                                 .where(Ticket.id == ticket.id)).one()
    # The same customer: a ticket one sees through its assignee or team stays editable even when
    # the customer itself is outside one's scope (only a new customer must be in it).
    same = (_id(ticket.customer) or ticket.customer_id) == stored.customer_id
    known = session.get(Customer, stored.customer_id) if same else None
    if (_id(ticket.assignee) or ticket.assignee_id, _id(getattr(ticket, "team", None)) or ticket.team_id) != \
            (stored.assignee_id, stored.team_id):
        if not actor.can(ASSIGN):
            raise PermissionDenied(_l("您没有分派工单的权限，请用“领取”或请组长分派"))
        if _id(ticket.assignee) or ticket.assignee_id:
            _active_user(session, _id(ticket.assignee) or ticket.assignee_id)
    _check(session, ticket, actor, known_customer=known)
    ticket.updated_at = now
    session.flush()
    refresh_search(session, ticket)
    if old_priority is not None and old_priority != ticket.priority:
        sla.on_priority_change(session, ticket, now)
    _notify(session, ticket.assignee_id, actor, _l("工单 %(n)s 已被修改", n=ticket.number), ticket, now)


# --- replies and notes -------------------------------------------------------------------------------

def _load(session: Session, ticket_id: Any, actor: Actor) -> Ticket:
    return scope.get_in_scope(session, Ticket, ticket_id, actor)


def reply(session: Session, ticket_id: Any, body: str, *, actor: Actor, now: datetime,
          internal: bool = False) -> TicketEntry:
    """回复客户 (public; the first one is the first response) or 内部备注 (agents only)."""
    ticket = _load(session, ticket_id, actor)
    if not actor.can(HANDLE):
        raise PermissionDenied(_l("您没有处理工单的权限"))
    text = (body or "").strip()
    if not text:
        raise InvalidValue(_l("请填写内容"))
    if len(text) > 20000:
        raise InvalidValue(_l("内容太长（最多 20000 字）"))
    kind = EntryKind.NOTE if internal else EntryKind.REPLY
    entry = add_entry(session, ticket, kind, author_id=actor.user_id, body=text, now=now)
    if kind is EntryKind.REPLY:
        # Only the first reply counts; a second one at the same moment leaves it as it was.
        session.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.first_responded_at.is_(None))
                        .values(first_responded_at=now), execution_options={"synchronize_session": False})
        session.refresh(ticket, ["first_responded_at"])
    title = _l("工单 %(n)s 有新的内部备注", n=ticket.number) if internal else _l("工单 %(n)s 有新的回复", n=ticket.number)
    _notify(session, ticket.assignee_id, actor, title, ticket, now, body=text[:200])
    return entry


# --- status moves --------------------------------------------------------------------------------------

def statuses(session: Session, *, active_only: bool = True) -> list[TicketStatus]:
    found = select(TicketStatus).order_by(TicketStatus.sort_order, TicketStatus.id)
    if active_only:
        found = found.where(TicketStatus.active.is_(True))
    return list(session.scalars(found))


def reopen_deadline(session: Session, ticket: Ticket) -> datetime | None:
    """Until when a resolved/closed ticket may be reopened (None for an active one)."""
    if ticket.status_category not in DONE:
        return None
    done = ticket.closed_at or ticket.resolved_at or ticket.updated_at
    return done + timedelta(days=int(setting(session, "ticket_reopen_days")))


def next_statuses(session: Session, ticket: Ticket, actor: Actor, now: datetime) -> list[TicketStatus]:
    """The statuses the actor may move the ticket to now (the page's buttons)."""
    if not actor.can(HANDLE):
        return []
    found = [s for s in statuses(session) if s.id != ticket.status_id]
    if ticket.status_category == StatusCategory.CLOSED.value:
        found = [s for s in found if s.category in ACTIVE_CATEGORIES]
    if ticket.status_category in DONE:
        deadline = reopen_deadline(session, ticket)
        if deadline is not None and now > deadline:
            found = [s for s in found if s.category not in ACTIVE_CATEGORIES]
    return found


def move(session: Session, ticket_id: Any, to_status_id: Any, *, actor: Actor, now: datetime,
         seen_status_id: Any = None, note: str | None = None) -> Ticket:
    """Move the ticket to another active status: one guarded UPDATE and a timeline entry. Out of
    已解决/已关闭 back into work is 重新打开, allowed within the administrator's N days."""
    ticket = _load(session, ticket_id, actor)
    if not actor.can(HANDLE):
        raise PermissionDenied(_l("您没有处理工单的权限"))
    try:
        target = session.get(TicketStatus, int(to_status_id))
    except (TypeError, ValueError):
        target = None
    if target is None or not target.active:
        raise InvalidValue(_l("请选择一个启用中的工单状态"))
    seen = int(seen_status_id) if seen_status_id not in (None, "") else ticket.status_id
    old_status, old = ticket.status, StatusCategory(ticket.status_category)
    if seen != ticket.status_id:
        raise StaleTicket(_l("工单状态已被他人修改为“%(s)s”，请刷新后再试", s=old_status.name))
    if target.id == ticket.status_id:
        raise TicketRefused(_l("工单已经是“%(s)s”状态", s=target.name))
    new = StatusCategory(target.category)
    reopening = old.value in DONE and new.value in ACTIVE_CATEGORIES
    if old is StatusCategory.CLOSED and new is StatusCategory.RESOLVED:
        raise TicketRefused(_l("已关闭的工单只能重新打开，不能改回已解决"))
    if reopening:
        deadline = reopen_deadline(session, ticket)
        if deadline is not None and now > deadline:
            days = int(setting(session, "ticket_reopen_days"))
            raise TicketRefused(_l("工单已超过 %(d)s 天的可重新打开期限，请新建工单", d=days))
    values: dict[str, Any] = {"status_id": target.id, "status_category": new.value, "version": Ticket.version + 1,
                              "updated_at": now}
    if new is StatusCategory.RESOLVED:
        values["resolved_at"] = func.coalesce(Ticket.resolved_at, now)  # from one 已解决 status to another: kept
    elif new is StatusCategory.CLOSED:
        values["closed_at"] = now
        values["resolved_at"] = func.coalesce(Ticket.resolved_at, now)
    if reopening:
        values.update(resolved_at=None, closed_at=None, reopened_count=Ticket.reopened_count + 1)
    moved = session.execute(
        update(Ticket).where(Ticket.id == ticket.id, Ticket.status_id == seen, Ticket.version == ticket.version)
        .values(**values), execution_options={"synchronize_session": False}).rowcount
    session.refresh(ticket)
    if moved != 1:
        raise StaleTicket(_l("工单状态已被他人修改为“%(s)s”，请刷新后再试", s=ticket.status.name))
    kind = EntryKind.REOPEN if reopening else EntryKind.STATUS
    add_entry(session, ticket, kind, author_id=actor.user_id, body=(note or "").strip() or None, now=now,
              from_status_id=old_status.id, to_status_id=target.id)
    if old is not new:
        sla.on_category_change(session, ticket, old, new, now)
        session.flush()
    _notify(session, ticket.assignee_id, actor, _l("工单 %(n)s 状态改为“%(s)s”", n=ticket.number, s=target.name),
            ticket, now)
    return ticket


def first_status(session: Session, category: StatusCategory) -> TicketStatus:
    found = session.scalars(select(TicketStatus).where(TicketStatus.category == category.value,
                                                       TicketStatus.active.is_(True))
                            .order_by(TicketStatus.sort_order, TicketStatus.id).limit(1)).first()
    if found is None:
        raise InvalidValue(_l("没有启用中的“%(c)s”类状态，请先在工单状态中设置", c=CATEGORY_LABELS[category.value]))
    return found


def close_many(session: Session, ids: list[Any], *, actor: Actor, now: datetime) -> int:
    """批量关闭: every ticket in scope that is not closed yet moves to the first 已关闭 status."""
    closed = first_status(session, StatusCategory.CLOSED)
    done = 0
    for ticket_id in scope.ids_in_scope(session, Ticket, ids, actor):
        ticket = session.get(Ticket, ticket_id)
        if ticket.status_category != StatusCategory.CLOSED.value:
            move(session, ticket_id, closed.id, actor=actor, now=now)
            done += 1
    return done


# --- assignment ----------------------------------------------------------------------------------------

def my_team_ids(session: Session, actor: Actor) -> list[int]:
    return list(session.scalars(select(ServiceTeamMember.team_id).where(ServiceTeamMember.user_id == actor.user_id)
                                .union(select(ServiceTeam.id).where(ServiceTeam.leader_id == actor.user_id))))


def can_take(session: Session, ticket: Ticket, actor: Actor) -> bool:
    """领取: an unassigned ticket of one's own team, still being worked."""
    return (actor.can(HANDLE) and ticket.assignee_id is None and ticket.team_id is not None
            and ticket.status_category in ACTIVE_CATEGORIES and ticket.team_id in my_team_ids(session, actor))


def assign(session: Session, ticket_id: Any, assignee_id: Any, *, actor: Actor, now: datetime,
           team_id: Any = ...) -> Ticket:
    """分派 / 改派 (service.assign), or 领取 one's own team's unassigned ticket. A guarded UPDATE
    on the assignee seen, so two people taking the same ticket get one winner."""
    ticket = _load(session, ticket_id, actor)
    try:
        to_id = int(assignee_id)
    except (TypeError, ValueError):
        raise InvalidValue(_l("请选择处理人")) from None
    taking = to_id == actor.user_id and can_take(session, ticket, actor)
    if not (actor.can(ASSIGN) or taking):
        raise PermissionDenied(_l("您没有分派工单的权限（只能领取本组未分派的工单）"))
    who = _active_user(session, to_id)
    if ticket.assignee_id == to_id:
        raise TicketRefused(_l("工单已由 %(name)s 处理", name=who.display_name))
    values: dict[str, Any] = {"assignee_id": to_id, "version": Ticket.version + 1, "updated_at": now}
    if team_id is not ... and actor.can(ASSIGN):
        values["team_id"] = int(team_id) if team_id not in (None, "") else None
    old_assignee = ticket.assignee_id
    guard = Ticket.assignee_id.is_(None) if old_assignee is None else Ticket.assignee_id == old_assignee
    moved = session.execute(update(Ticket).where(Ticket.id == ticket.id, guard).values(**values),
                            execution_options={"synchronize_session": False}).rowcount
    session.refresh(ticket)
    if moved != 1:
        current = ticket.assignee.display_name if ticket.assignee else str(_l("无人"))
        raise StaleTicket(_l("工单已被他人分派给 %(name)s，请刷新后再试", name=current))
    body = _l("领取工单") if taking and not actor.can(ASSIGN) else _l("分派给 %(name)s", name=who.display_name)
    add_entry(session, ticket, EntryKind.ASSIGN, author_id=actor.user_id, body=str(body), now=now)
    _notify(session, to_id, actor, _l("工单分派给您：%(n)s", n=ticket.number), ticket, now, body=ticket.subject)
    return ticket


def assign_many(session: Session, ids: list[Any], assignee_id: Any, *, actor: Actor, now: datetime) -> int:
    """批量分派: the tickets in scope not already with that person."""
    if not actor.can(ASSIGN):
        raise PermissionDenied(_l("您没有分派工单的权限"))
    try:
        person = int(str(assignee_id).strip())
    except (TypeError, ValueError):
        raise InvalidValue(_l("请选择处理人")) from None
    done = 0
    for ticket_id in scope.ids_in_scope(session, Ticket, ids, actor):
        if session.scalar(select(Ticket.assignee_id).where(Ticket.id == ticket_id)) != person:
            assign(session, ticket_id, assignee_id, actor=actor, now=now)
            done += 1
    return done


# --- status administration -------------------------------------------------------------------------------

def save_status(session: Session, status: TicketStatus) -> None:
    """A status: a name, a category, and exactly one active initial status among them all."""
    status.name = normalize.text(status.name)
    if not status.name:
        raise InvalidValue(_l("请填写状态名称"))
    if status.category not in CATEGORY_LABELS:
        raise InvalidValue(_l("请选择状态分类"))
    if status.id is not None:
        with session.no_autoflush:
            was = session.scalar(select(TicketStatus.category).where(TicketStatus.id == status.id))
            used = session.scalar(select(Ticket.id).where(Ticket.status_id == status.id).limit(1))
        if used is not None and was != status.category:
            # The SLA clocks and the done times of its tickets follow the category they moved in.
            raise InvalidValue(_l("状态“%(s)s”已有工单，不能更改分类；请新建一个状态，把工单改过去后停用它", s=status.name))
    if status.is_initial and status.category != StatusCategory.OPEN.value:
        raise InvalidValue(_l("初始状态必须属于“处理中”分类"))
    if status.is_initial and not status.active:
        raise InvalidValue(_l("初始状态不能停用"))
    session.flush()
    if status.is_initial:
        session.execute(update(TicketStatus).where(TicketStatus.id != status.id).values(is_initial=False),
                        execution_options={"synchronize_session": "fetch"})
    if session.scalar(select(func.count()).select_from(TicketStatus)
                      .where(TicketStatus.is_initial.is_(True), TicketStatus.active.is_(True))) != 1:
        raise InvalidValue(_l("必须有且只有一个启用中的初始状态（新工单从它开始）"))


def check_delete_status(session: Session, status: TicketStatus) -> None:
    if session.scalar(select(Ticket.id).where(Ticket.status_id == status.id).limit(1)) is not None \
            or session.scalar(select(TicketEntry.id).where((TicketEntry.from_status_id == status.id)
                                                           | (TicketEntry.to_status_id == status.id)).limit(1)):
        raise InvalidValue(_l("状态“%(s)s”已被工单使用，不能删除；可以取消“启用”停用它", s=status.name))
    if status.is_initial:
        raise InvalidValue(_l("初始状态不能删除；请先把另一个状态设为初始状态"))


# --- the workbench ------------------------------------------------------------------------------------

WORKBENCH_STATES = (sla.SlaState.BREACHED, sla.SlaState.SOON, sla.SlaState.NORMAL, sla.SlaState.PAUSED)


def my_sla_counts(session: Session, actor: Actor, now: datetime) -> list[tuple[sla.SlaState, int]]:
    """我的工单: my active tickets per SLA state (one count each on the assignee index)."""
    mine = and_(Ticket.assignee_id == actor.user_id, Ticket.status_category.in_(ACTIVE_CATEGORIES))
    return [(state, session.scalar(select(func.count(Ticket.id)).where(mine, sla.state_clause(state, now))) or 0)
            for state in WORKBENCH_STATES]


def due_today_clause(now: datetime, tz: str) -> ColumnElement[bool]:
    """Open tickets not yet late whose resolution (or unanswered first response) falls due before
    the end of the local day: the widget's count and the list it opens."""
    end = local_day_start(now, tz) + timedelta(days=1)
    due = or_(Ticket.resolution_due_at.between(now, end),
              and_(Ticket.first_responded_at.is_(None), Ticket.first_response_due_at.between(now, end)))
    return and_(Ticket.status_category == StatusCategory.OPEN.value, due,
                ~sla.state_clause(sla.SlaState.BREACHED, now).is_(True))


def due_today(session: Session, actor: Actor, now: datetime, tz: str, *, limit: int = 8) -> tuple[int, list[Ticket]]:
    """今日将超时: active tickets in scope not yet late whose resolution (or unanswered first
    response) falls due before the end of today, soonest first."""
    where = and_(scope.clause_for(Ticket, actor), due_today_clause(now, tz))
    count = session.scalar(select(func.count(Ticket.id)).where(where)) or 0
    soonest = func.coalesce(Ticket.resolution_due_at, Ticket.first_response_due_at)
    rows = list(session.scalars(select(Ticket).where(where).order_by(soonest, Ticket.id).limit(limit)))
    return count, rows


# --- the search box ------------------------------------------------------------------------------------

_NUMBER_TYPED = re.compile(r"^[A-Z]{1,8}\d{4,}$")
_PHONE_TYPED = re.compile(r"\+?[\d\s()-]{4,}")


def refresh_search(session: Session, ticket: Ticket) -> None:
    """Rewrite the ticket's row of the search index (its subject's tokens)."""
    session.execute(delete(TicketSearch).where(TicketSearch.ticket_id == ticket.id))
    session.execute(insert(TicketSearch), [{"ticket_id": ticket.id,
                                            "tokens": " ".join(sorted(search.tokens_of([ticket.subject])))}])


def _subject_clause(session: Session, typed: str) -> tuple[ColumnElement[bool], bool]:
    """Tickets whose subject contains `typed`, and whether the word is common (COMMON_HITS or
    more). The token index narrows (SQLite FTS5 ticket_fts, PostgreSQL's GIN on the stored token
    array), the substring test on the subject makes it exact."""
    needle = search.normalised(typed)
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = func.lower(Ticket.subject).like(f"%{escaped}%", escape="\\")
    tokens = sorted(search.query_tokens(needle))
    if not tokens:
        return like, True
    if session.get_bind().dialect.name == "postgresql":
        token_array = literal_column("ticket_search.token_array", ARRAY(Text))  # see models/service.py
        hits = select(TicketSearch.ticket_id).where(token_array.op("@>")(literal(tokens, ARRAY(Text))))
    else:
        fts = " ".join('"' + t.replace('"', '""') + '"' for t in tokens)
        hits = select(literal_column("rowid")).select_from(table("ticket_fts")).where(
            literal_column("ticket_fts").op("MATCH")(literal(fts)))
    common = session.scalar(select(func.count()).select_from(hits.limit(search.COMMON_HITS).subquery())) \
        >= search.COMMON_HITS
    if common and session.get_bind().dialect.name != "postgresql":
        # A common word: walk the list's order and test each ticket against the hits, stopping
        # after a page, rather than fetch and sort every hit (`id + 0` hides the key from SQLite's
        # planner, as in rules/search.clause).
        return and_((Ticket.id + 0).in_(hits), like), True
    return and_(Ticket.id.in_(hits), like), common


def search_clause(session: Session, term: str) -> ColumnElement[bool] | None:
    """工单编号 (a prefix, as a range on the number's unique index), else the customer's name,
    code or phone through the customer quick-search index, or the subject through its own."""
    typed = normalize.text(term)
    if not typed:
        return None
    if _NUMBER_TYPED.match(typed.upper()):
        prefix = typed.upper()
        return and_(Ticket.number >= prefix, Ticket.number < prefix + "\uffff")
    customers = search.clause(session, typed)
    if customers is None:
        return _subject_clause(session, typed)[0]
    by_customer = Ticket.customer_id.in_(select(Customer.id).where(customers))
    if _PHONE_TYPED.fullmatch(typed):
        return by_customer  # a caller's number: subjects hold none
    by_subject, common = _subject_clause(session, typed)
    if not common and session.get_bind().dialect.name == "postgresql":
        # PostgreSQL reads every ticket for an OR of two IN-lists that find few; a union of the two
        # id lists is two index look-ups. (A common word is quicker as the OR: the list's order is
        # walked and stops after a page. SQLite answers the OR from both indexes by itself.)
        return Ticket.id.in_(union(select(Ticket.id).where(by_customer), select(Ticket.id).where(by_subject)))
    return or_(by_customer, by_subject)
