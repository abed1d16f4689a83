"""合同: entry (from scratch, from a won opportunity, from an accepted quote), money, and the
state machine of DESIGN §6.

    (entry) → draft 草稿 → approving 审批中 (submit, when the approval flow applies) → active 执行中
            (the approval passes; or submit directly when no approval is needed)
            → completed 已完成 (complete);   draft | approving | active → void 已作废 (void, reason)
    approving → draft (the approval is rejected or withdrawn: rules/approvals calls back)
    void → 新版本 (revise): a new draft with the same number and the next revision, lines copied,
           `previous_id` pointing back; the voided row stays as it was.

Only a draft is edited. A contract in approval is read-only, an approved one is locked: changing it
means 作废 and a new version. Every move is one guarded UPDATE (`WHERE id = :id AND status = :from`)
checked by its row count, plus one ContractEvent. Lines are priced exactly as order and quote lines
(rules/orders.check_lines / price_lines): tax included, 价税分离. An active contract produces orders
through rules/orders (shipping as today), never more than the contracted quantity of a line.

The approval mechanism (rules/approvals.py) knows nothing of contracts: this module plugs in with
its DocumentHooks (`HOOKS`). Nothing here commits."""
from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from models.approval import ApprovalAction, ApprovalDocType
from models.contract import Contract, ContractAction, ContractEvent, ContractLine, ContractStatus
from models.office import NotificationKind
from models.opportunity import Opportunity, Outcome
from models.org import User
from models.quote import Quote, QuoteStatus
from models.sales import Order, OrderLine, OrderStatus
from rules import activity, normalize, notifications, numbering, orders, quotes, scope, settings
from rules.actor import Actor
from rules.clock import local_date
from rules.errors import InvalidValue, PermissionDenied, RuleViolation
from rules.links import ListKind, RecordLink
from rules.orders import Transition

NUMBER_SEQUENCE = "contract"
CUSTOM_ENTITY = "contract"
DOC_TYPE = ApprovalDocType.CONTRACT
CREATE = "contract.create"
CLOSE = "contract.void"  # 作废 and 完成 (rules/permissions.py)

DEFAULTS: dict[str, Any] = {
    "contract_number_pattern": "HT{yyyy}{mm}{dd}{seq:04d}",
    "contract_remind_days": 30,     # 到期提醒 of a new contract: days before its end
    "contract_expiring_days": 30,   # the 即将到期 list: contracts ending within this many days
}

C = ContractStatus
STATE_LABELS = {C.DRAFT.value: _l("草稿"), C.APPROVING.value: _l("审批中"), C.ACTIVE.value: _l("执行中"),
                C.COMPLETED.value: _l("已完成"), C.VOID.value: _l("已作废")}
STATE_CSS = {C.DRAFT.value: "secondary", C.APPROVING.value: "warning", C.ACTIVE.value: "primary",
             C.COMPLETED.value: "success", C.VOID.value: "dark"}
# Orders that still hold a contract's quantity (a cancelled order gave it back).
LIVE_ORDER_STATES = tuple(s.value for s in OrderStatus if s != OrderStatus.CANCELLED)


class ContractRefused(RuleViolation):
    """The contract is not in a state this move starts from (or someone moved it first)."""


class ContractLocked(ContractRefused):
    """A change to a contract that is in approval (read-only) or approved (locked)."""


class QuantityExceeded(InvalidValue):
    """An order from a contract would take more than is left of a line."""


# States as data (rules/orders.Transition). approve/return are the approval mechanism's
# callbacks: no person's permission decides them here, the approvers' steps did.
TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(_l("提交审批"), (C.DRAFT,), C.APPROVING, (CREATE,)),
    "approve": Transition(_l("审批通过"), (C.APPROVING,), C.ACTIVE, ()),
    "return": Transition(_l("退回"), (C.APPROVING,), C.DRAFT, ()),
    "complete": Transition(_l("完成"), (C.ACTIVE,), C.COMPLETED, (CLOSE,)),
    "void": Transition(_l("作废"), (C.DRAFT, C.APPROVING, C.ACTIVE), C.VOID, (CLOSE,)),
}
STAMPS = {"submit": "submitted_at", "approve": "approved_at", "complete": "completed_at", "void": "voided_at"}
EVENT_LABELS = {
    ContractAction.CREATE: _l("新建"), ContractAction.SUBMIT: _l("提交审批"), ContractAction.APPROVE: _l("审批通过"),
    ContractAction.REJECT: _l("审批驳回"), ContractAction.WITHDRAW: _l("撤回审批"), ContractAction.COMPLETE: _l("完成"),
    ContractAction.VOID: _l("作废"), ContractAction.REVISE: _l("新版本"), ContractAction.ORDER: _l("生成订单"),
    ContractAction.ASSIGN: _l("转移负责人"), "edit": _l("修改"),
}


# What a contract number looks like as typed into the search box: letters, then digits, maybe
# a version suffix (HT2026112, ht202611230001-v2).
_NUMBER_TYPED = re.compile(r"^([A-Z]{1,8}\d{4,})(?:-V\d+)?$")


def number_search_clause(term: str) -> ColumnElement[bool] | None:
    """Contracts whose number starts with what was typed, as a range on the number index; None
    when the term does not look like a number. `number LIKE '%…%'` reads every contract (seconds
    at 1M, bench/bench_finance.py 合同编号)."""
    found = _NUMBER_TYPED.match(normalize.text(term).upper())
    if found is None:
        return None
    prefix = found.group(1)
    return and_(Contract.number >= prefix, Contract.number < prefix + "\uffff")


def setting(session: Session, key: str) -> Any:
    value = settings.get(session, key)
    return DEFAULTS[key] if value is None else value


# --- the approval mechanism, reached by name (rules/approvals.py) -----------------------------

def _approvals() -> ModuleType | None:
    """rules/approvals, once installed beside this module (None before: nothing needs approval)."""
    if importlib.util.find_spec("rules.approvals") is None:
        return None
    return importlib.import_module("rules.approvals")


def _requires_approval(session: Session, contract: Contract) -> bool:
    module = _approvals()
    return module is not None and module.requires_approval(session, DOC_TYPE, figure=contract.total)


def _submit_for_approval(session: Session, contract: Contract, *, actor: Actor, now: datetime) -> None:
    module = _approvals()
    if module is not None:
        module.submit(session, DOC_TYPE, contract.id, actor=actor, now=now)


def _cancel_approval(session: Session, contract: Contract, *, actor: Actor, now: datetime, reason: str) -> None:
    module = _approvals()
    if module is not None:
        module.cancel_for(session, DOC_TYPE, contract.id, actor=actor, now=now, reason=reason)


# --- money and lines -------------------------------------------------------------------------------

def price(session: Session, contract: Contract) -> None:
    """Check the lines as orders do and fill the money (价税合计, 价税分离)."""
    level_id = contract.price_level.id if contract.price_level is not None else contract.price_level_id
    lines = orders.check_lines(session, contract.lines, level_id, empty=_l("合同至少需要一条产品明细"))
    totals = orders.price_lines(lines, contract.tax_rate)
    contract.gross, contract.total, contract.discount = totals.gross, totals.total, totals.discount
    contract.amount_ex_tax, contract.tax = totals.amount_ex_tax, totals.tax


def _event(session: Session, contract_id: int, action: str, *, from_state: str | None, to_state: str | None,
           actor: Actor | None, now: datetime, note: str | None = None) -> ContractEvent:
    event = ContractEvent(contract_id=contract_id, action=action, from_state=from_state, to_state=to_state,
                          actor_id=actor.user_id if actor else None, note=(note or None) and note[:255], at=now)
    session.add(event)
    session.flush()
    return event


# --- entry -----------------------------------------------------------------------------------------

def _dates(session: Session, contract: Contract, now: datetime, tz: str) -> None:
    contract.signed_on = contract.signed_on or local_date(now, tz)
    if contract.start_on and contract.end_on and contract.end_on < contract.start_on:
        raise InvalidValue(_l("合同结束日期不能早于开始日期"))
    if contract.remind_days in (None, ""):
        contract.remind_days = int(setting(session, "contract_remind_days"))
    if not (0 <= int(contract.remind_days) <= 365):
        raise InvalidValue(_l("到期提醒天数应在 0 到 365 之间"))


def _fill(session: Session, contract: Contract, actor: Actor, *, now: datetime, tz: str) -> None:
    # A contract names its customer, opportunity, contact and owner as a quote does: the same
    # checks (the customer through a visible opportunity or in scope, an owner within scope).
    customer = quotes._customer_and_opportunity(session, contract, actor)
    quotes._check_contact(session, contract, customer)
    owner = quotes._owner(session, contract, actor, customer)
    contract.owner, contract.department_id = owner, owner.department_id
    contract.title = normalize.text(contract.title)
    if not contract.title:
        raise InvalidValue(_l("请填写合同名称"))
    _dates(session, contract, now, tz)
    contract.tax_rate = quotes._tax_rate(contract.tax_rate, session)
    contract.their_signatory = normalize.text(contract.their_signatory) or None
    contract.terms = (contract.terms or "").strip() or None
    contract.notes = (contract.notes or "").strip() or None
    price(session, contract)


def create(session: Session, contract: Contract, *, actor: Actor, now: datetime, tz: str) -> ContractEvent:
    """新建合同: a draft for a customer in the actor's scope (or an opportunity they see)."""
    if not actor.can(CREATE):
        raise PermissionDenied(_l("您没有新建合同的权限"))
    _fill(session, contract, actor, now=now, tz=tz)
    contract.status, contract.revision, contract.created_by_id = C.DRAFT, contract.revision or 1, actor.user_id
    contract.custom = dict(contract.custom or {})
    if not contract.number:
        contract.number = numbering.next_number(session, NUMBER_SEQUENCE, setting(session, "contract_number_pattern"),
                                                today=local_date(now, tz))
    session.add(contract)
    session.flush()
    return _event(session, contract.id, ContractAction.CREATE, from_state=None, to_state=C.DRAFT, actor=actor,
                  now=now, note=contract.title)


def locked_reason(contract: Contract, state: str) -> Any:
    """Why a contract in `state` cannot be changed (None: a draft can)."""
    n = str(contract)
    if state == C.APPROVING:
        return _l("合同%(n)s正在审批中，审批期间不能修改；如需修改请先撤回审批", n=n)
    if state in (C.ACTIVE, C.COMPLETED):
        return _l("合同%(n)s已审批生效并锁定，不能修改；如需变更请作废后生成新版本", n=n)
    if state == C.VOID:
        return _l("合同%(n)s已作废，不能修改；可以“新版本”复制出新的草稿", n=n)
    return None


def edit(session: Session, contract: Contract, *, actor: Actor, now: datetime, tz: str) -> ContractEvent:
    """Changing a contract (lines, prices, dates, terms) while it is a draft; refused otherwise."""
    if not actor.can(CREATE):
        raise PermissionDenied(_l("您没有修改合同的权限"))
    state = session.scalar(select(Contract.status).where(Contract.id == contract.id))
    reason = locked_reason(contract, state)
    if reason is not None:
        raise ContractLocked(reason)
    _fill(session, contract, actor, now=now, tz=tz)
    return _event(session, contract.id, "edit", from_state=C.DRAFT, to_state=C.DRAFT, actor=actor, now=now)


def _claim(session: Session, model: type, row_id: int, *where: Any) -> bool:
    """Take a row for a change (a row lock on PostgreSQL, the write lock on SQLite): whoever comes
    second waits, then sees what the first one did."""
    return session.execute(update(model).where(model.id == row_id, *where).values(version=model.version + 1)
                           .execution_options(synchronize_session=False)).rowcount == 1


def _live_contract_of(session: Session, column: Any, value: int) -> Contract | None:
    return session.scalar(select(Contract).where(column == value, Contract.status != C.VOID,
                                                 Contract.deleted_at.is_(None)).order_by(Contract.id).limit(1))


def from_opportunity(session: Session, opportunity_id: Any, *, actor: Actor, now: datetime, tz: str) -> Contract:
    """新建合同 of a WON opportunity: a draft with its customer, contact, price tier and lines;
    one live contract per opportunity (a second click, or a colleague's, is told which exists)."""
    if not actor.can(CREATE):
        raise PermissionDenied(_l("您没有新建合同的权限"))
    opportunity = scope.get_in_scope(session, Opportunity, opportunity_id, actor)
    if opportunity.outcome != Outcome.WON:
        raise ContractRefused(_l("只有赢单的销售机会才能新建合同（%(n)s 尚未赢单）", n=opportunity.number))
    if not opportunity.lines:
        raise ContractRefused(_l("销售机会%(n)s没有产品明细，无法生成合同；请先添加产品", n=opportunity.number))
    _claim(session, Opportunity, opportunity.id)
    session.refresh(opportunity)
    if opportunity.order_id is not None:  # its money would count twice: the order's and the contract's
        raise ContractRefused(_l("销售机会%(n)s已直接生成订单，不能再生成合同", n=opportunity.number))
    existing = _live_contract_of(session, Contract.opportunity_id, opportunity.id)
    if existing is not None:
        raise ContractRefused(_l("销售机会%(n)s已有合同 %(c)s", n=opportunity.number, c=str(existing)))
    contract = Contract(title=opportunity.title, customer_id=opportunity.customer_id, opportunity_id=opportunity.id,
                        contact_id=opportunity.contact_id, owner_id=opportunity.owner_id,
                        price_level_id=opportunity.price_level_id,
                        lines=[ContractLine(product_id=line.product_id, quantity=line.quantity,
                                            unit_price=line.unit_price, discount_rate=line.discount_rate)
                               for line in opportunity.lines])
    _owner_or_actor(session, contract, actor)
    create(session, contract, actor=actor, now=now, tz=tz)
    return contract


def from_quote(session: Session, quote_id: Any, *, actor: Actor, now: datetime, tz: str) -> Contract:
    """转合同 of an ACCEPTED quote (its newest revision, not already an order): a draft with the
    quote's customer, opportunity, price tier, tax rate, terms and lines as quoted; once."""
    if not actor.can(CREATE):
        raise PermissionDenied(_l("您没有新建合同的权限"))
    quote = scope.get_in_scope(session, Quote, quote_id, actor)
    if not _claim(session, Quote, quote.id, Quote.status == QuoteStatus.ACCEPTED, Quote.superseded_by_id.is_(None),
                  Quote.order_id.is_(None)):
        session.refresh(quote)
        if quote.order_id is not None:
            raise ContractRefused(_l("报价单%(n)s已转为订单，不能再转合同", n=str(quote)))
        if quote.superseded_by_id is not None:
            raise ContractRefused(_l("报价单%(n)s已有更新的版本，请从最新版本转合同", n=str(quote)))
        raise ContractRefused(_l("只有客户已接受的报价单可以转合同（%(n)s 当前为“%(s)s”）", n=str(quote),
                                 s=quotes.STATE_LABELS.get(quote.status, quote.status)))
    existing = _live_contract_of(session, Contract.quote_id, quote.id)
    if existing is not None:
        raise ContractRefused(_l("报价单%(n)s已转为合同 %(c)s", n=str(quote), c=str(existing)))
    title = quote.opportunity.title if quote.opportunity is not None else str(_l("%(c)s 合同", c=quote.customer.name))
    contract = Contract(title=title, customer_id=quote.customer_id, opportunity_id=quote.opportunity_id,
                        quote_id=quote.id, contact_id=quote.contact_id, owner_id=quote.owner_id,
                        price_level_id=quote.price_level_id, tax_rate=quote.tax_rate, terms=quote.terms,
                        lines=[ContractLine(product_id=line.product_id, quantity=line.quantity,
                                            unit_price=line.unit_price, discount_rate=line.discount_rate,
                                            notes=line.notes) for line in quote.lines])
    _owner_or_actor(session, contract, actor)
    create(session, contract, actor=actor, now=now, tz=tz)
    return contract


def _owner_or_actor(session: Session, contract: Contract, actor: Actor) -> None:
    """The deal's owner keeps the contract when the actor may name them; otherwise the actor."""
    if contract.owner_id != actor.user_id and session.scalar(
            select(User.id).where(User.id == contract.owner_id, scope.owner_clause(User.id, actor))) is None:
        contract.owner_id = actor.user_id


# --- the state machine -------------------------------------------------------------------------------

def _refusal(contract: Contract, action: str, state: str) -> ContractRefused:
    rule = TRANSITIONS[action]
    allowed = "、".join(f"“{STATE_LABELS[s]}”" for s in rule.sources)
    return ContractRefused(_l("合同%(n)s当前状态为“%(s)s”，不能%(a)s：只有%(allowed)s的合同可以%(a)s",
                              n=str(contract), s=STATE_LABELS.get(state, state), a=rule.label, allowed=allowed))


def _move(session: Session, contract: Contract, action: str, *, actor: Actor | None, now: datetime,
          event: str, note: str | None = None, **values: Any) -> ContractEvent:
    """One guarded UPDATE from the state read now to the rule's target, one event."""
    rule = TRANSITIONS[action]
    state = session.scalar(select(Contract.status).where(Contract.id == contract.id))
    if state not in rule.sources:
        raise _refusal(contract, action, state)
    if action in STAMPS:
        values[STAMPS[action]] = now
    moved = session.execute(
        update(Contract).where(Contract.id == contract.id, Contract.status == state, Contract.deleted_at.is_(None))
        .values(status=rule.target, version=Contract.version + 1, **values)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise ContractRefused(_l("合同%(n)s刚刚已被他人处理，请刷新后再试", n=str(contract)))
    found = _event(session, contract.id, event, from_state=state, to_state=rule.target, actor=actor, now=now,
                   note=note)
    session.refresh(contract)
    return found


def _load(session: Session, contract_id: Any, actor: Actor, *, write: bool = True) -> Contract:
    clause = scope.write_clause_for(Contract, actor) if write else None
    return scope.get_in_scope(session, Contract, contract_id, actor, clause)


def check_ready(session: Session, contract: Contract) -> None:
    """What a contract needs before anyone approves it: lines, an amount, a signing date, dates in order."""
    if not contract.lines:
        raise InvalidValue(_l("合同%(n)s没有产品明细，不能提交", n=str(contract)))
    if contract.total <= 0:
        raise InvalidValue(_l("合同%(n)s的金额为 0，不能提交", n=str(contract)))
    if contract.start_on and contract.end_on and contract.end_on < contract.start_on:
        raise InvalidValue(_l("合同结束日期不能早于开始日期"))


def submit(session: Session, contract_id: Any, *, actor: Actor, now: datetime) -> ContractEvent:
    """提交审批: the draft goes to 审批中 and into the approval flow; when no flow applies (none,
    disabled, or under its threshold) it takes effect at once (执行中)."""
    if not TRANSITIONS["submit"].allows(actor):
        raise PermissionDenied(_l("您没有提交合同的权限"))
    contract = _load(session, contract_id, actor)
    check_ready(session, contract)
    if _requires_approval(session, contract):
        event = _move(session, contract, "submit", actor=actor, now=now, event=ContractAction.SUBMIT)
        _submit_for_approval(session, contract, actor=actor, now=now)
    else:
        event = _move(session, contract, "submit", actor=actor, now=now, event=ContractAction.SUBMIT,
                      note=str(_l("无需审批，直接生效")))
        event = _take_effect(session, contract, actor=actor, now=now)
    activity.record_activity(session, contract.customer_id, activity.ActivityKind.CONTRACT_SIGNED, at=now)
    return event


def _take_effect(session: Session, contract: Contract, *, actor: Actor | None, now: datetime) -> ContractEvent:
    event = _move(session, contract, "approve", actor=actor, now=now, event=ContractAction.APPROVE)
    activity.record_activity(session, contract.customer_id, activity.ActivityKind.CONTRACT_APPROVED, at=now)
    return event


def on_approved(session: Session, doc: Contract, *, actor: Actor, now: datetime) -> None:
    """The approval passed its last step (rules/approvals, same transaction): 执行中."""
    _take_effect(session, doc, actor=actor, now=now)


def on_returned(session: Session, doc: Contract, *, actor: Actor, now: datetime, action: ApprovalAction,
                reason: str | None) -> None:
    """Rejected or withdrawn: back to 草稿, editable again."""
    event = ContractAction.WITHDRAW if action == ApprovalAction.WITHDRAW else ContractAction.REJECT
    _move(session, doc, "return", actor=actor, now=now, event=event, note=normalize.text(reason) or None)


def complete(session: Session, contract_id: Any, *, actor: Actor, now: datetime,
             note: str | None = None) -> ContractEvent:
    """完成: an active contract is fulfilled."""
    if not TRANSITIONS["complete"].allows(actor):
        raise PermissionDenied(_l("您没有完成合同的权限"))
    contract = _load(session, contract_id, actor)
    return _move(session, contract, "complete", actor=actor, now=now, event=ContractAction.COMPLETE,
                 note=normalize.text(note) or None)


def void(session: Session, contract_id: Any, *, reason: str, actor: Actor, now: datetime) -> ContractEvent:
    """作废 (reason required): a pending approval ends with it; the row stays, readable."""
    if not TRANSITIONS["void"].allows(actor):
        raise PermissionDenied(_l("您没有作废合同的权限"))
    reason = normalize.text(reason)
    if not reason:
        raise InvalidValue(_l("请填写作废原因"))
    contract = _load(session, contract_id, actor)
    was = contract.status
    event = _move(session, contract, "void", actor=actor, now=now, event=ContractAction.VOID, note=reason,
                  void_reason=reason[:255])
    if was == C.APPROVING:
        _cancel_approval(session, contract, actor=actor, now=now, reason=reason)
    return event


def revise(session: Session, contract_id: Any, *, actor: Actor, now: datetime, tz: str) -> Contract:
    """新版本 of a voided contract: a new draft with the same number, the next revision and the
    lines copied; only from the newest version, once."""
    if not actor.can(CREATE):
        raise PermissionDenied(_l("您没有新建合同的权限"))
    old = _load(session, contract_id, actor)
    if not _claim(session, Contract, old.id, Contract.status == C.VOID):
        session.refresh(old)
        raise ContractRefused(_l("合同%(n)s当前状态为“%(s)s”，只有已作废的合同可以生成新版本", n=str(old),
                                 s=STATE_LABELS.get(old.status, old.status)))
    newer = session.scalar(select(Contract).where(Contract.number == old.number, Contract.revision > old.revision)
                           .order_by(Contract.revision.desc()).limit(1))
    if newer is not None:
        raise ContractRefused(_l("合同%(n)s已有新版本 %(v)s", n=str(old), v=str(newer)))
    session.refresh(old)
    new = Contract(number=old.number, revision=old.revision + 1, title=old.title, customer_id=old.customer_id,
                   contact_id=old.contact_id, opportunity_id=old.opportunity_id, quote_id=old.quote_id,
                   owner_id=old.owner_id, department_id=old.department_id, status=C.DRAFT,
                   signed_on=local_date(now, tz), start_on=old.start_on, end_on=old.end_on,
                   remind_days=old.remind_days, price_level_id=old.price_level_id, tax_rate=old.tax_rate,
                   gross=old.gross, discount=old.discount, total=old.total, amount_ex_tax=old.amount_ex_tax,
                   tax=old.tax, our_signatory_id=old.our_signatory_id, their_signatory=old.their_signatory,
                   terms=old.terms, notes=old.notes, custom=dict(old.custom or {}), previous_id=old.id,
                   created_by_id=actor.user_id,
                   lines=[ContractLine(product_id=line.product_id, quantity=line.quantity, unit_price=line.unit_price,
                                       discount_rate=line.discount_rate, amount=line.amount, notes=line.notes)
                          for line in old.lines])
    session.add(new)
    session.flush()
    _event(session, old.id, ContractAction.REVISE, from_state=C.VOID, to_state=C.VOID, actor=actor, now=now,
           note=str(new))
    _event(session, new.id, ContractAction.CREATE, from_state=None, to_state=C.DRAFT, actor=actor, now=now,
           note=str(_l("由 %(o)s 生成的新版本", o=str(old))))
    return new


def assign(session: Session, contract_id: Any, *, to_user_id: Any, actor: Actor, now: datetime) -> ContractEvent:
    """转移负责人: the contract (and its instalments) go to a colleague within the actor's scope."""
    if not actor.can(CREATE):
        raise PermissionDenied(_l("您没有转移合同的权限"))
    contract = _load(session, contract_id, actor)
    target = session.scalar(select(User).where(User.id == _int(to_user_id), User.active.is_(True),
                                               scope.owner_clause(User.id, actor)))
    if target is None:
        raise InvalidValue(_l("只能转给您数据范围内在职的员工"))
    before = session.get(User, contract.owner_id)
    moved = session.execute(
        update(Contract).where(Contract.id == contract.id, Contract.owner_id == contract.owner_id,
                               Contract.status != C.VOID)
        .values(owner_id=target.id, department_id=target.department_id, version=Contract.version + 1)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise ContractRefused(_l("合同%(n)s刚刚已被他人处理（或已作废），请刷新后再试", n=str(contract)))
    _follow_owner(session, contract.id, target.id)
    event = _event(session, contract.id, ContractAction.ASSIGN, from_state=contract.status, to_state=contract.status,
                   actor=actor, now=now, note=f"{before.display_name if before else ''} → {target.display_name}")
    session.refresh(contract)
    return event


def _follow_owner(session: Session, contract_id: int, owner_id: int) -> None:
    """Its instalments' owner stays the contract's (rules/payment_plans, once installed)."""
    if importlib.util.find_spec("rules.payment_plans") is not None:
        importlib.import_module("rules.payment_plans").follow_owner(session, contract_id=contract_id,
                                                                    owner_id=owner_id)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# --- orders from a contract --------------------------------------------------------------------------

def remaining(line: ContractLine) -> int:
    return max(line.quantity - line.ordered_quantity, 0)


def _wanted(contract: Contract, quantities: Mapping[Any, Any] | None) -> dict[int, int]:
    """Line id → quantity to order: what is left of every line, or what was typed."""
    if quantities is None:
        return {line.id: remaining(line) for line in contract.lines if remaining(line) > 0}
    by_id = {line.id: line for line in contract.lines}
    wanted: dict[int, int] = {}
    for key, raw in quantities.items():
        line = by_id.get(_int(key))
        if line is None:
            raise InvalidValue(_l("明细不属于合同%(n)s", n=str(contract)))
        if raw in (None, ""):
            continue
        quantity = _int(raw)
        if quantity is None or quantity < 0:
            raise InvalidValue(_l("“%(p)s”的数量应为不小于 0 的整数", p=line.product.name))
        if quantity:
            wanted[line.id] = quantity
    return wanted


def create_order(session: Session, contract_id: Any, *, actor: Actor, now: datetime, tz: str,
                 quantities: Mapping[Any, Any] | None = None) -> Order:
    """生成订单 of an active contract: an order (等待审核, then shipped as any order) with the
    contract's prices and discounts for what is still to deliver (or the quantities given). Each
    line's taken quantity grows by a guarded UPDATE that refuses to pass the contracted quantity,
    so two clerks ordering at once never take more than the contract holds."""
    if not (actor.can(CREATE) and actor.can("order.create")):
        raise PermissionDenied(_l("您没有从合同生成订单的权限"))
    contract = _load(session, contract_id, actor, write=False)
    if not _claim(session, Contract, contract.id, Contract.status == C.ACTIVE):
        session.refresh(contract)
        raise ContractRefused(_l("合同%(n)s当前状态为“%(s)s”，只有执行中的合同可以生成订单", n=str(contract),
                                 s=STATE_LABELS.get(contract.status, contract.status)))
    session.refresh(contract)
    for line in contract.lines:
        session.refresh(line)
    wanted = _wanted(contract, quantities)
    if not wanted:
        raise QuantityExceeded(_l("合同%(n)s的产品已全部生成订单，没有可下单的数量", n=str(contract)))
    lines = {line.id: line for line in contract.lines}
    for line_id, quantity in wanted.items():
        line = lines[line_id]
        taken = session.execute(
            update(ContractLine).where(ContractLine.id == line_id,
                                       ContractLine.ordered_quantity + quantity <= ContractLine.quantity)
            .values(ordered_quantity=ContractLine.ordered_quantity + quantity)
            .execution_options(synchronize_session=False)).rowcount
        if taken != 1:
            session.refresh(line)
            raise QuantityExceeded(_l("“%(p)s”合同数量 %(q)s，已下单 %(o)s，最多还能下单 %(r)s",
                                      p=line.product.name, q=line.quantity, o=line.ordered_quantity,
                                      r=remaining(line)))
    order = Order(customer_id=contract.customer_id, salesperson_id=contract.owner_id,
                  price_level_id=contract.price_level_id, tax_rate=contract.tax_rate, contract_id=contract.id,
                  notes=str(_l("由合同 %(n)s 生成", n=str(contract))),
                  lines=[OrderLine(product_id=lines[i].product_id, quantity=q, unit_price=lines[i].unit_price,
                                   discount_rate=lines[i].discount_rate) for i, q in wanted.items()])
    orders.submit(session, order, actor=actor, now=now, tz=tz)
    _event(session, contract.id, ContractAction.ORDER, from_state=C.ACTIVE, to_state=C.ACTIVE, actor=actor, now=now,
           note=order.number)
    for line in contract.lines:
        session.refresh(line)
    return order


def release_order(session: Session, order: Order) -> None:
    """A cancelled order of a contract gives its quantities back (rules/orders.cancel calls this)."""
    if order.contract_id is None:
        return
    lines = list(session.scalars(select(ContractLine).where(ContractLine.contract_id == order.contract_id)
                                 .order_by(ContractLine.id)))
    for order_line in order.lines:
        left = order_line.quantity
        for line in lines:
            if left <= 0:
                break
            if line.product_id != order_line.product_id or line.ordered_quantity <= 0:
                continue
            back = min(left, line.ordered_quantity)
            session.execute(update(ContractLine).where(ContractLine.id == line.id,
                                                       ContractLine.ordered_quantity >= back)
                            .values(ordered_quantity=ContractLine.ordered_quantity - back)
                            .execution_options(synchronize_session=False))
            line.ordered_quantity -= back
            left -= back


# --- expiry ------------------------------------------------------------------------------------------

def expiring_clause(today: date, days: int | None = None) -> ColumnElement[bool]:
    """即将到期: contracts in force (执行中) whose end falls within the next `days` days (today
    included). An index on (status, end_on) answers it."""
    days = DEFAULTS["contract_expiring_days"] if days is None else days
    return and_(Contract.status == C.ACTIVE, Contract.deleted_at.is_(None), Contract.end_on >= today,
                Contract.end_on <= today + timedelta(days=days))


def remind_expiring(session: Session, *, now: datetime, today: date) -> int:
    """The daily job: the owner of each active contract whose 到期提醒 window has begun (end_on −
    remind_days ≤ today ≤ end_on) is told once per contract and end date (a dedupe key), so a
    second run, or a run on the next day, adds nothing."""
    longest = session.scalar(select(func.max(Contract.remind_days)).where(Contract.status == C.ACTIVE)) or 0
    told = 0
    for contract in session.scalars(select(Contract).where(expiring_clause(today, int(longest)))
                                    .order_by(Contract.end_on, Contract.id)):
        if contract.end_on - timedelta(days=contract.remind_days) > today:
            continue
        left = (contract.end_on - today).days
        note = notifications.notify(
            session, kind=NotificationKind.CONTRACT_EXPIRING, user_id=contract.owner_id, now=now, link=RecordLink(ListKind.CONTRACT, contract.id),
            title=_l("合同%(n)s（%(c)s）将于 %(d)s 到期，还剩 %(left)s 天", n=str(contract), c=contract.customer.name,
                     d=contract.end_on.isoformat(), left=left),
            dedupe_key=f"contract-expiry:{contract.id}:{contract.end_on.isoformat()}")
        told += note is not None
    return told


# --- what a page offers --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Moves:
    edit: bool
    submit: bool
    complete: bool
    void: bool
    revise: bool
    order: bool
    assign: bool


def allowed_moves(session: Session, contract: Contract, actor: Actor) -> Moves:
    """The buttons the contract page offers: exactly what the rules above accept."""
    may_write = bool(scope.ids_in_scope(session, Contract, [contract.id], actor,
                                        scope.write_clause_for(Contract, actor)))
    status, create_ = contract.status, actor.can(CREATE)
    newest = session.scalar(select(func.max(Contract.revision)).where(Contract.number == contract.number)) \
        == contract.revision
    left = any(remaining(line) > 0 for line in contract.lines)
    return Moves(
        edit=may_write and create_ and status == C.DRAFT,
        submit=may_write and create_ and status == C.DRAFT,
        complete=may_write and actor.can(CLOSE) and status == C.ACTIVE,
        void=may_write and actor.can(CLOSE) and status in TRANSITIONS["void"].sources,
        revise=may_write and create_ and status == C.VOID and newest,
        order=create_ and actor.can("order.create") and status == C.ACTIVE and left,
        assign=may_write and create_ and status != C.VOID,
    )


def balances(contract: Contract) -> dict[str, Decimal]:
    """应收 / 已收 / 抹零 / 已开票 / 未收 of one contract as its page shows them."""
    outstanding = max(contract.total - contract.received - contract.written_off, Decimal("0"))
    return {"total": contract.total, "received": contract.received, "written_off": contract.written_off,
            "invoiced": contract.invoiced, "outstanding": outstanding}


def save_settings(session: Session, values: Mapping[str, Any]) -> None:
    """合同设置: the number pattern and the reminder defaults."""
    pattern = normalize.text(values.get("contract_number_pattern"))
    numbering.validate_pattern(pattern)
    found: dict[str, int] = {}
    for key in ("contract_remind_days", "contract_expiring_days"):
        number = _int(values.get(key))
        if number is None or not (0 <= number <= 365):
            raise InvalidValue(_l("天数应为 0 到 365 之间的整数"))
        found[key] = number
    settings.put(session, "contract_number_pattern", pattern)
    for key, number in found.items():
        settings.put(session, key, number)


# --- the approval mechanism's view of a contract ---------------------------------------------------------

def _summary(doc: Contract) -> tuple[str, Decimal, int, bool]:
    # A contract's own submitter may approve it only where the step says so (allow_self).
    return (str(_l("合同 %(n)s %(t)s", n=str(doc), t=doc.title)), doc.total, doc.owner_id, True)


def _register() -> None:
    module = _approvals()
    if module is None:
        return
    module.register(module.DocumentHooks(
        doc_type=DOC_TYPE, load=lambda session, doc_id: session.get(Contract, doc_id), summary=_summary,
        link=lambda doc: RecordLink(ListKind.CONTRACT, doc.id), on_approved=on_approved, on_returned=on_returned))


_register()
