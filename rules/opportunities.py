"""销售机会: entry and edit (lines priced from the catalogue, parties of a project, collaborators,
custom fields), transfer of ownership, following a customer's new owner, follow-ups about an
opportunity, and the order a won opportunity creates (once).

Stage moves and outcomes (赢单/输单/无效/重新打开) are rules/opportunity_stages.py's. Every
change of owner here is a guarded UPDATE plus an OpportunityEvent, and keeps stage, lines,
follow-ups and history as they were.

A customer changing hands (claim, assign, approved request) takes its OPEN opportunities owned
by the previous owner along to the new one (`follow_customer_owner`). A customer going back to
the pool (release, recall, recycle) leaves them with their owner: the deal is still theirs to
close, and the pool has nobody to hand it to. Won, lost and invalid ones stay where they closed."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, insert, literal, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from models.contract import Contract, ContractStatus
from models.customer import Contact, Customer, FollowUp
from models.dictionary import DictItem, DictKind
from models.opportunity import (
    Opportunity, OpportunityAction, OpportunityCollaborator, OpportunityEvent, OpportunityLine, OpportunityParty,
    Outcome,
)
from models.org import DataScope, User
from models.product import PriceLevel
from models.sales import Order, OrderLine
from rules import activity, custom_fields, followups, normalize, notifications, numbering, orders, scope, settings
from rules.actor import Actor
from rules.clock import local_date
from rules.errors import ChangedMeanwhile, InvalidValue, OutOfScope, PermissionDenied, PurgeRefused, RuleViolation
from rules.links import ListKind, RecordLink
from rules.stage_groups import first_stage, group_for  # noqa: F401  (group_for is part of this module's API)

NUMBER_SEQUENCE = "opportunity"
DEFAULT_NUMBER_PATTERN = "SJ{yyyy}{mm}{dd}{seq:04d}"
CUSTOM_ENTITY = "opportunity"
DEFAULT_TZ = "Asia/Shanghai"

OUTCOME_LABELS = {
    Outcome.OPEN.value: _l("进行中"),
    Outcome.WON.value: _l("赢单"),
    Outcome.LOST.value: _l("输单"),
    Outcome.INVALID.value: _l("无效"),
}
# OpportunityEvent.action → what the history says.
EVENT_LABELS = {
    OpportunityAction.CREATE: _l("新建"), OpportunityAction.STAGE: _l("推进阶段"), OpportunityAction.WON: _l("赢单"),
    OpportunityAction.LOST: _l("输单"), OpportunityAction.INVALID: _l("无效"), OpportunityAction.REOPEN: _l("重新打开"),
    OpportunityAction.ASSIGN: _l("转移负责人"), OpportunityAction.FOLLOW: _l("随客户转移"),
    OpportunityAction.ORDER: _l("生成订单"),
}


class OrderRefused(RuleViolation):
    """生成订单 of an opportunity that is not won, or that already has its order."""


@dataclass
class LineInput:
    product_id: int | None
    quantity: Any = 1
    unit_price: Any = None          # empty: the price of the opportunity's price tier
    discount_rate: Any = None       # empty: 1 (no discount)


@dataclass
class PartyInput:
    customer_id: int | None
    role_id: int | None = None
    contact_id: int | None = None
    notes: str | None = None


@dataclass
class OpportunityInput:
    """What the form (or the lead conversion, or an import) hands in."""

    title: str = ""
    customer_id: int | None = None
    contact_id: int | None = None
    expected_close_on: date | None = None
    amount: Any = None               # used only when there are no lines
    price_level_id: int | None = None
    source_id: int | None = None
    source_lead_id: int | None = None
    notes: str | None = None
    is_project: bool = False
    lines: list[LineInput] = field(default_factory=list)
    parties: list[PartyInput] = field(default_factory=list)
    collaborator_ids: list[int] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    owner_id: int | None = None      # empty: the actor


def _input(values: OpportunityInput | Mapping[str, Any]) -> OpportunityInput:
    if isinstance(values, OpportunityInput):
        return values
    data = dict(values)
    data["lines"] = [line if isinstance(line, LineInput) else LineInput(**line) for line in data.get("lines") or []]
    data["parties"] = [p if isinstance(p, PartyInput) else PartyInput(**p) for p in data.get("parties") or []]
    return OpportunityInput(**data)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        raise InvalidValue(_l("选择的值无法识别")) from None


# --- entry and edit ---------------------------------------------------------------------------

def create(session: Session, values: OpportunityInput | Mapping[str, Any], *, actor: Actor, now: datetime,
           tz: str = DEFAULT_TZ) -> Opportunity:
    """新建销售机会 for a customer in the actor's scope; it starts at the first stage of its
    owner's stage group."""
    if not actor.can("opportunity.create"):
        raise PermissionDenied(_l("您没有新建销售机会的权限"))
    data = _input(values)
    owner_id = _int(data.owner_id) or actor.user_id
    owner = session.get(User, owner_id)
    if owner is None or not owner.active or (owner_id != actor.user_id and session.scalar(
            select(User.id).where(User.id == owner_id, scope.owner_clause(User.id, actor))) is None):
        raise InvalidValue(_l("负责人只能是您数据范围内在职的同事"))
    group = group_for(session, owner)
    stage = first_stage(group)
    opportunity = Opportunity(owner_id=owner.id, department_id=owner.department_id, group_id=group.id,
                              stage_id=stage.id, stage_entered_at=now, outcome=Outcome.OPEN, created_by_id=actor.user_id,
                              custom={})
    with session.no_autoflush:
        _apply(session, opportunity, data, actor=actor, now=now, new=True)
    opportunity.number = numbering.next_number(session, NUMBER_SEQUENCE, number_pattern(session),
                                               today=local_date(now, tz))
    session.add(opportunity)
    session.flush()
    _sync_people(session, opportunity, data, actor=actor, now=now, new=True)
    session.add(OpportunityEvent(opportunity_id=opportunity.id, action=OpportunityAction.CREATE, to_stage_id=stage.id,
                                 to_outcome=Outcome.OPEN.value, to_user_id=owner.id, actor_id=actor.user_id, at=now))
    session.flush()
    activity.record_opportunity_move(session, opportunity.customer_id, OpportunityAction.CREATE, at=now)
    return opportunity


def update(session: Session, opportunity_id: Any, values: OpportunityInput | Mapping[str, Any], *, actor: Actor,
           now: datetime) -> Opportunity:
    """编辑: what the form shows. Stage, outcome and owner are not here (their own moves)."""
    if not actor.can("opportunity.edit"):
        raise PermissionDenied(_l("您没有编辑销售机会的权限"))
    opportunity = scope.get_in_scope(session, Opportunity, opportunity_id, actor)
    if opportunity.outcome != Outcome.OPEN:
        raise InvalidValue(_l("销售机会%(n)s已%(o)s，不能修改；需要修改请先重新打开", n=opportunity.number,
                              o=OUTCOME_LABELS.get(opportunity.outcome, opportunity.outcome)))
    data = _input(values)
    with session.no_autoflush:
        _apply(session, opportunity, data, actor=actor, now=now, new=False)
    session.flush()
    _sync_people(session, opportunity, data, actor=actor, now=now, new=False)
    session.flush()
    return opportunity


def number_pattern(session: Session) -> str:
    return settings.get(session, "opportunity_number_pattern") or DEFAULT_NUMBER_PATTERN


def _apply(session: Session, opportunity: Opportunity, data: OpportunityInput, *, actor: Actor, now: datetime,
           new: bool) -> None:
    title = normalize.text(data.title)
    if not title:
        raise InvalidValue(_l("请填写机会名称"))
    if len(title) > 128:
        raise InvalidValue(_l("机会名称不能超过 128 个字"))
    customer_id = _int(data.customer_id)
    if customer_id is None:
        raise InvalidValue(_l("请选择客户"))
    if new or customer_id != opportunity.customer_id:
        customer = _visible_customer(session, customer_id, actor)
    else:
        customer = session.get(Customer, customer_id)
    opportunity.title, opportunity.customer_id, opportunity.customer = title, customer.id, customer
    opportunity.contact_id = _contact_of(session, customer.id, _int(data.contact_id))
    opportunity.expected_close_on = data.expected_close_on or None
    opportunity.notes = normalize.text(data.notes) or None
    opportunity.is_project = bool(data.is_project)
    opportunity.source_id = _dict_item(session, _int(data.source_id), DictKind.SOURCE)
    if new:
        opportunity.source_lead_id = _int(data.source_lead_id)
    level_id = _int(data.price_level_id)
    if level_id is not None and session.get(PriceLevel, level_id) is None:
        raise InvalidValue(_l("请选择价格等级"))
    opportunity.price_level_id = level_id
    opportunity.price_level = session.get(PriceLevel, level_id) if level_id else None
    _set_lines(session, opportunity, data)
    fields = custom_fields.definitions(session, CUSTOM_ENTITY)
    if fields:
        clean, errors = custom_fields.validate(fields, data.custom or {})
        if errors:
            raise InvalidValue("；".join(errors.values()))
        opportunity.custom = clean


def _visible_customer(session: Session, customer_id: int, actor: Actor, refusal: Any = None) -> Customer:
    try:
        return scope.get_in_scope(session, Customer, customer_id, actor)
    except OutOfScope:
        raise InvalidValue(refusal or _l("只能为您数据范围内的客户建立销售机会")) from None


def _contact_of(session: Session, customer_id: int, contact_id: int | None) -> int | None:
    if contact_id is None:
        return None
    if session.scalar(select(Contact.id).where(Contact.id == contact_id, Contact.customer_id == customer_id)) is None:
        raise InvalidValue(_l("联系人不属于所选客户"))
    return contact_id


def _dict_item(session: Session, item_id: int | None, kind: DictKind) -> int | None:
    if item_id is None:
        return None
    if session.scalar(select(DictItem.id).where(DictItem.id == item_id, DictItem.kind == kind.value)) is None:
        raise InvalidValue(_l("选择的值无法识别"))
    return item_id


def _set_lines(session: Session, opportunity: Opportunity, data: OpportunityInput) -> None:
    """产品明细 priced as order lines are (rules/orders.prepare_lines: the tier's price when none
    is typed, no negative price, a discount in (0, 1]); 金额 is their sum when there are lines."""
    wanted = [line for line in data.lines if line.product_id not in (None, "")]
    rows = [OpportunityLine(product_id=_int(line.product_id),
                            quantity=_quantity(line.quantity),
                            unit_price=None if line.unit_price in (None, "") else line.unit_price,
                            discount_rate=line.discount_rate) for line in wanted]
    if rows:
        scratch = _Priced(lines=rows, price_level=opportunity.price_level, price_level_id=opportunity.price_level_id)
        orders.prepare_lines(session, scratch)  # type: ignore[arg-type]
        for row in rows:
            row.amount = orders.line_amount(row.quantity, row.unit_price, row.discount_rate)
        opportunity.lines = rows
        opportunity.amount = sum((row.amount for row in rows), Decimal("0"))
        return
    opportunity.lines = []
    amount = Decimal("0") if data.amount in (None, "") else orders._decimal(data.amount, _l("金额格式不正确"))
    if amount < 0:
        raise InvalidValue(_l("金额不能为负数"))
    opportunity.amount = orders.money(amount)


@dataclass
class _Priced:
    """What rules/orders.prepare_lines reads of an order."""

    lines: list[OpportunityLine]
    price_level: PriceLevel | None
    price_level_id: int | None


def _quantity(value: Any) -> int:
    try:
        return int(str(value).strip() or 0)
    except (TypeError, ValueError):
        raise InvalidValue(_l("数量必须是整数")) from None


def _sync_people(session: Session, opportunity: Opportunity, data: OpportunityInput, *, actor: Actor,
                 now: datetime, new: bool) -> None:
    """协作人 and 项目参与方, replaced by what the form lists."""
    wanted = {i for i in (_int(u) for u in data.collaborator_ids) if i is not None and i != opportunity.owner_id}
    if wanted:
        active = set(session.scalars(select(User.id).where(User.id.in_(wanted), User.active.is_(True))))
        if active != wanted:
            raise InvalidValue(_l("协作人只能是在职的同事"))
    current = {c.user_id: c for c in session.scalars(select(OpportunityCollaborator).where(
        OpportunityCollaborator.opportunity_id == opportunity.id))}
    for user_id, row in current.items():
        if user_id not in wanted:
            session.delete(row)
    for user_id in wanted - set(current):
        session.add(OpportunityCollaborator(opportunity_id=opportunity.id, user_id=user_id, added_by_id=actor.user_id,
                                            added_at=now))
        if user_id != actor.user_id:
            notifications.notify(session, user_id=user_id, now=now, link=RecordLink(ListKind.OPPORTUNITY, opportunity.id),
                                 title=_l("%(who)s 邀请您协作销售机会「%(t)s」", who=actor.display_name,
                                          t=opportunity.title))
    parties = [p for p in data.parties if p.customer_id not in (None, "")] if data.is_project else []
    existing = list(session.scalars(select(OpportunityParty).where(OpportunityParty.opportunity_id == opportunity.id)))
    known = {p.customer_id for p in existing}
    seen: set[tuple[int, int | None]] = set()
    rows = []
    for party in parties:
        customer_id = _int(party.customer_id)
        if customer_id not in known:  # a new party must be a customer the actor may see
            _visible_customer(session, customer_id, actor, _l("只能把您数据范围内的客户加入项目"))
        role_id = _dict_item(session, _int(party.role_id), DictKind.PROJECT_ROLE)
        if role_id is None:
            raise InvalidValue(_l("请为每个项目参与方选择角色"))
        if (customer_id, role_id) in seen:
            raise InvalidValue(_l("同一客户不能以相同角色重复加入项目"))
        seen.add((customer_id, role_id))
        rows.append(OpportunityParty(opportunity_id=opportunity.id, customer_id=customer_id, role_id=role_id,
                                     contact_id=_contact_of(session, customer_id, _int(party.contact_id)),
                                     notes=normalize.text(party.notes)[:255] or None))
    for row in existing:
        session.delete(row)
    session.flush()
    session.add_all(rows)


# --- ownership --------------------------------------------------------------------------------

def assign_clause(actor: Actor) -> Any:
    """The opportunities `actor` may hand over: live ones whose owner is in their scope (a
    collaborator sees an opportunity but does not give it away)."""
    return and_(Opportunity.deleted_at.is_(None), scope.owner_clause(Opportunity.owner_id, actor))


def assign(session: Session, opportunity_ids: Iterable[Any], *, to_user_id: Any, actor: Actor, now: datetime,
           note: str | None = None) -> int:
    """转移/指派: opportunities to a colleague in scope. Each one a guarded UPDATE on its owner
    plus an "assign" event; stage, lines, follow-ups and history stay as they are."""
    if not actor.can("opportunity.assign"):
        raise PermissionDenied(_l("您没有指派销售机会的权限"))
    to_user = session.get(User, _int(to_user_id)) if _int(to_user_id) else None
    if to_user is None or session.scalar(select(User.id).where(User.id == to_user.id,
                                                                scope.owner_clause(User.id, actor))) is None:
        raise InvalidValue(_l("只能转移给您管理范围内的同事"))
    if not to_user.active:
        raise InvalidValue(_l("%(n)s 已停用，不能接收销售机会", n=to_user.display_name))
    wanted = scope.ids_in_scope(session, Opportunity, list(opportunity_ids), actor, assign_clause(actor))
    if not wanted or len(wanted) != len({str(i) for i in opportunity_ids}):
        raise OutOfScope(_l("记录不存在"))
    rows = session.execute(select(Opportunity.id, Opportunity.owner_id, Opportunity.title)
                           .where(Opportunity.id.in_(wanted))).all()
    moved = 0
    for opportunity_id, previous, title in rows:
        if previous == to_user.id:
            raise InvalidValue(_l("销售机会“%(t)s”已经属于%(u)s", t=title, u=to_user.display_name))
        count = session.execute(
            sql_update(Opportunity).where(Opportunity.id == opportunity_id, Opportunity.owner_id == previous)
            .values(owner_id=to_user.id, department_id=to_user.department_id, version=Opportunity.version + 1)
            .execution_options(synchronize_session=False)).rowcount
        if count != 1:
            raise ChangedMeanwhile(_l("销售机会“%(t)s”已被他人改动，请刷新后重试", t=title))
        session.add(OpportunityEvent(opportunity_id=opportunity_id, action=OpportunityAction.ASSIGN, from_user_id=previous,
                                     to_user_id=to_user.id, actor_id=actor.user_id, note=(note or "")[:255] or None,
                                     at=now))
        moved += 1
    session.flush()
    _expire(session, wanted)
    if moved and to_user.id != actor.user_id:
        link = RecordLink(ListKind.OPPORTUNITY, rows[0][0]) if moved == 1 else None
        notifications.notify(session, user_id=to_user.id, now=now, link=link,
                             title=_l("%(who)s 给您转交了 %(n)d 个销售机会", who=actor.display_name, n=moved))
    return moved


def follow_customer_owner(session: Session, customer_ids: int | Iterable[int], *, from_user: int | None,
                          to_user: int | None, actor: Actor | None, now: datetime) -> int:
    """A customer changed hands: its open opportunities owned by the previous owner follow the
    new one, in two statements whatever their number (events first, from the same condition).
    Nothing moves when the customer came from or went to the pool (see the module docstring)."""
    ids = [customer_ids] if isinstance(customer_ids, int) else list(customer_ids)
    if not ids or from_user is None or to_user is None or from_user == to_user:
        return 0
    department_id = session.scalar(select(User.department_id).where(User.id == to_user))
    following = and_(Opportunity.customer_id.in_(ids), Opportunity.owner_id == from_user,
                     Opportunity.outcome == Outcome.OPEN.value, Opportunity.deleted_at.is_(None))
    session.execute(insert(OpportunityEvent).from_select(
        ["opportunity_id", "action", "from_user_id", "to_user_id", "actor_id", "at"],
        select(Opportunity.id, literal(OpportunityAction.FOLLOW.value), literal(from_user), literal(to_user),
               literal(actor.user_id if actor else None), literal(now, OpportunityEvent.at.type)).where(following)))
    moved = session.execute(
        sql_update(Opportunity).where(following)
        .values(owner_id=to_user, department_id=department_id, version=Opportunity.version + 1)
        .execution_options(synchronize_session=False)).rowcount
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Opportunity) and obj.customer_id in ids:
            session.expire(obj)
    return moved


def _expire(session: Session, ids: Iterable[int]) -> None:
    for opportunity_id in ids:
        obj = session.identity_map.get(session.identity_key(Opportunity, opportunity_id))
        if obj is not None:
            session.expire(obj)


# --- follow-ups -------------------------------------------------------------------------------

def add_follow_up(session: Session, opportunity_id: Any, *, actor: Actor, kind: str, content: str, now: datetime,
                  today: date, contact_id: Any = None, next_contact_at: date | None = None,
                  template_id: Any = None) -> FollowUp:
    """跟进 from the opportunity's page: a follow-up of its customer naming the opportunity; it
    moves the customer's last contact (and recycle clock) and the opportunity's (stale clock)."""
    opportunity = scope.get_in_scope(session, Opportunity, opportunity_id, actor)
    follow_up = followups.record(session, FollowUp(
        customer_id=opportunity.customer_id, opportunity_id=opportunity.id, kind=kind, content=content,
        contact_id=_contact_of(session, opportunity.customer_id, _int(contact_id)),
        next_contact_at=next_contact_at, template_id=_int(template_id)), actor=actor, now=now, today=today)
    session.execute(sql_update(Opportunity).where(
        Opportunity.id == opportunity.id,
        (Opportunity.last_follow_up_at.is_(None)) | (Opportunity.last_follow_up_at < follow_up.happened_at))
        .values(last_follow_up_at=follow_up.happened_at).execution_options(synchronize_session=False))
    session.expire(opportunity, ["last_follow_up_at"])
    return follow_up


# --- won → order ------------------------------------------------------------------------------

def create_order(session: Session, opportunity_id: Any, *, actor: Actor, now: datetime,
                 tz: str = DEFAULT_TZ) -> Order:
    """生成订单 of a WON opportunity: its lines go into a new order through rules/orders.submit
    (which prices and totals it), once. The guarded UPDATE on `order_id IS NULL` comes first,
    so a second click (or a colleague's at the same moment) waits and is then refused."""
    opportunity = scope.get_in_scope(session, Opportunity, opportunity_id, actor)
    if opportunity.outcome != Outcome.WON:
        raise OrderRefused(_l("只有赢单的销售机会才能生成订单（%(n)s 当前为“%(o)s”）", n=opportunity.number,
                              o=OUTCOME_LABELS.get(opportunity.outcome, opportunity.outcome)))
    if opportunity.order_id is not None:
        raise OrderRefused(_l("销售机会%(n)s已生成过订单，不能重复生成", n=opportunity.number))
    if has_live_contract(session, opportunity.id):  # orders then come from the contract, counted once
        raise OrderRefused(_l("销售机会%(n)s已有合同，请从合同生成订单", n=opportunity.number))
    if not opportunity.lines:
        raise OrderRefused(_l("销售机会%(n)s没有产品明细，无法生成订单；请先重新打开并添加产品", n=opportunity.number))
    taken = session.execute(
        sql_update(Opportunity).where(Opportunity.id == opportunity.id, Opportunity.order_id.is_(None),
                                  Opportunity.outcome == Outcome.WON.value)
        .values(version=Opportunity.version + 1).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise OrderRefused(_l("销售机会%(n)s已生成过订单，不能重复生成", n=opportunity.number))
    salesperson = opportunity.owner_id if session.scalar(select(User.id).where(
        User.id == opportunity.owner_id, scope.owner_clause(User.id, actor))) is not None else None
    order = Order(customer_id=opportunity.customer_id, salesperson_id=salesperson,
                  price_level_id=opportunity.price_level_id,
                  notes=str(_l("由销售机会 %(n)s 生成", n=opportunity.number)),
                  lines=[OrderLine(product_id=line.product_id, quantity=line.quantity, unit_price=line.unit_price,
                                   discount_rate=line.discount_rate) for line in opportunity.lines])
    orders.submit(session, order, actor=actor, now=now, tz=tz)
    if has_live_contract(session, opportunity.id):  # a contract made while this waited for the row
        raise OrderRefused(_l("销售机会%(n)s已有合同，请从合同生成订单", n=opportunity.number))
    linked = session.execute(
        sql_update(Opportunity).where(Opportunity.id == opportunity.id, Opportunity.order_id.is_(None))
        .values(order_id=order.id).execution_options(synchronize_session=False)).rowcount
    if linked != 1:
        raise OrderRefused(_l("销售机会%(n)s已生成过订单，不能重复生成", n=opportunity.number))
    session.add(OpportunityEvent(opportunity_id=opportunity.id, action=OpportunityAction.ORDER, actor_id=actor.user_id,
                                 note=order.number, at=now))
    session.flush()
    session.expire(opportunity)
    return order


def has_live_contract(session: Session, opportunity_id: int) -> bool:
    """A contract (not voided) was made of the opportunity: its orders come from the contract."""
    return session.scalar(select(Contract.id).where(Contract.opportunity_id == opportunity_id,
                                                    Contract.status != ContractStatus.VOID.value,
                                                    Contract.deleted_at.is_(None)).limit(1)) is not None


# --- customers merged or purged ------------------------------------------------------------

def merge_customers(session: Session, keep_id: int, merged_ids: list[int]) -> None:
    """客户合并: the merged customers' opportunities and project places move to the one kept (a
    place the kept customer already holds in the same role is dropped, not doubled)."""
    session.execute(sql_update(Opportunity).where(Opportunity.customer_id.in_(merged_ids))
                    .values(customer_id=keep_id, version=Opportunity.version + 1)
                    .execution_options(synchronize_session=False))
    held = select(OpportunityParty.opportunity_id, OpportunityParty.role_id).where(
        OpportunityParty.customer_id == keep_id)
    taken = set(session.execute(held).all())
    for party in list(session.scalars(select(OpportunityParty).where(OpportunityParty.customer_id.in_(merged_ids))
                                      .order_by(OpportunityParty.id))):
        if (party.opportunity_id, party.role_id) in taken:
            session.delete(party)
        else:
            taken.add((party.opportunity_id, party.role_id))
            party.customer_id = keep_id  # its contact moved to the kept customer too
    session.flush()


def purge_refusal(session: Session, customer: Customer) -> PurgeRefused | None:
    """彻底删除 keeps the sales history: a customer an opportunity names cannot be purged."""
    named = session.scalar(select(Opportunity.id).where(Opportunity.customer_id == customer.id).limit(1))
    party = session.scalar(select(OpportunityParty.id).where(OpportunityParty.customer_id == customer.id).limit(1))
    if named is None and party is None:
        return None
    return PurgeRefused(_l("客户“%(n)s”有销售机会，销售机会需要保留，不能彻底删除", n=customer.name))


# --- what pages show --------------------------------------------------------------------------

def for_customer_clause(customer_id: int, actor: Actor) -> Any:
    """The opportunities a customer's page lists: those the reader may see on which the
    customer is the main customer or a project party."""
    party = select(OpportunityParty.opportunity_id).where(OpportunityParty.customer_id == customer_id)
    return and_(scope.opportunity_clause(actor),
                (Opportunity.customer_id == customer_id) | Opportunity.id.in_(party))


# Up to this many people in scope, a list walks their rows by owner; beyond, their share of the
# table is large enough that reading newest-first finds a page (and the capped count) sooner.
LIST_PATH_STAFF = 50


def list_path(session: Session, actor: Actor) -> Any:
    """An access path for lists and counts, AND-ed to scope.opportunity_clause (which stays the
    rule): the ids owned by the few staff in scope, looked up by the owner index, together with
    the ones the actor collaborates on. Without it the OR of the scope clause reads the table
    newest-first and counts a salesperson's few hundred rows by reading all of it. None for a
    wide scope (the table itself, or most of it)."""
    if actor.data_scope is DataScope.ALL:
        return None
    staff = list(session.scalars(select(User.id).where(scope.owner_clause(User.id, actor))
                                 .limit(LIST_PATH_STAFF + 1)))
    if len(staff) > LIST_PATH_STAFF:
        return None
    owned = select(Opportunity.id).where(Opportunity.deleted_at.is_(None), Opportunity.owner_id.in_(staff))
    collaborating = select(OpportunityCollaborator.opportunity_id).where(
        OpportunityCollaborator.user_id == actor.user_id)
    return Opportunity.id.in_(owned.union(collaborating))


def weighted(opportunity: Opportunity) -> Decimal:
    """加权金额 = 金额 × 赢率."""
    return orders.money(opportunity.amount * Decimal(opportunity.stage.probability) / 100)
