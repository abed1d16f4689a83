"""报价单: entry, money, versions and the state machine (DESIGN §6).

    (entry) → draft 草稿 → sent 已发送 (send) → accepted 已接受 (accept) | rejected 已拒绝 (reject)
                                             | expired 已过期 (the daily job, past valid_until)
    accepted → 转订单 once (the order goes through rules/orders.py's own entry, lines and money
    unchanged); any sent/accepted/rejected/expired quote not yet converted → 修订 (a new draft with
    the same number and the next revision; the old row stays, marked superseded).

Only the newest revision moves: every guarded UPDATE says `superseded_by_id IS NULL`. Lines are
priced exactly as order lines (rules/orders.check_lines / price_lines): tax included, 价税分离.
Only 已接受 converts: a quote the customer has not accepted is not yet an order. The order is
entered by whoever converts, under the order rules (order.create, the customer in their scope), with
the quote's owner as its salesperson. Nothing here commits."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from models.contract import Contract
from models.customer import Contact, Customer
from models.opportunity import Opportunity, OpportunityAction, OpportunityEvent
from models.org import User
from models.quote import Quote, QuoteEvent, QuoteLine, QuoteStatus
from models.sales import Order, OrderLine
from rules import activity, normalize, numbering, orders, scope, settings
from rules.actor import Actor
from rules.clock import local_date
from rules.errors import InvalidValue, PermissionDenied, RuleViolation
from rules.orders import Transition

NUMBER_SEQUENCE = "quote"
PERMISSION = "quote.create"

DEFAULTS: dict[str, Any] = {
    "quote_number_pattern": "BJ{yyyy}{mm}{dd}{seq:04d}",
    "quote_valid_days": 30,              # 有效期 of a new quote, from its date
    "quote_terms": "",                   # 条款 a new quote starts with
    "quote_min_discount_rate": {},       # role id → the lowest rate that role may quote (0.9 = 9折)
}

Q = QuoteStatus
STATE_LABELS = {Q.DRAFT.value: _l("草稿"), Q.SENT.value: _l("已发送"), Q.ACCEPTED.value: _l("已接受"),
                Q.REJECTED.value: _l("已拒绝"), Q.EXPIRED.value: _l("已过期")}
STATE_CSS = {Q.DRAFT.value: "secondary", Q.SENT.value: "primary", Q.ACCEPTED.value: "success",
             Q.REJECTED.value: "danger", Q.EXPIRED.value: "warning"}


class QuoteRefused(RuleViolation):
    """The quote is not in a state this move starts from (or someone moved it first)."""


class DiscountBeyondLimit(InvalidValue):
    """A line's discount is deeper than the actor's role may give."""


# States as data, as orders keep theirs (rules/orders.Transition), and the time each move stamps.
TRANSITIONS: dict[str, Transition] = {
    "send": Transition(_l("发送"), (Q.DRAFT,), Q.SENT, (PERMISSION,)),
    "accept": Transition(_l("客户接受"), (Q.SENT,), Q.ACCEPTED, (PERMISSION,)),
    "reject": Transition(_l("客户拒绝"), (Q.SENT,), Q.REJECTED, (PERMISSION,)),
}
STAMPS = {"send": "sent_at", "accept": "decided_at", "reject": "decided_at"}
REVISABLE = (Q.SENT.value, Q.ACCEPTED.value, Q.REJECTED.value, Q.EXPIRED.value)
EVENT_LABELS = {"create": _l("新建"), "edit": _l("修改"), **{k: t.label for k, t in TRANSITIONS.items()},
                "expire": _l("过期"), "revise": _l("修订为新版本"), "revised": _l("由旧版本修订"),
                "convert": _l("转订单")}
ACTIVITY = {"send": activity.ActivityKind.QUOTE_SENT, "accept": activity.ActivityKind.QUOTE_ACCEPTED}


def setting(session: Session, key: str) -> Any:
    value = settings.get(session, key)
    return DEFAULTS[key] if value is None else value


# --- discounts ----------------------------------------------------------------------------------

def zhe(rate: Decimal | None) -> str:
    """A rate as Chinese shops say it: 0.9 → 9折, 0.85 → 8.5折, 0.95 → 9.5折; 1 → ""."""
    if rate is None or Decimal(rate) >= 1:
        return ""
    return f"{(Decimal(rate) * 10).normalize():f}折"


def percent_off(rate: Decimal | None) -> str:
    """The same rate as a reduction: 0.9 → -10%, 0.855 → -14.5%; 1 → ""."""
    if rate is None or Decimal(rate) >= 1:
        return ""
    return f"-{((1 - Decimal(rate)) * 100).normalize():f}%"


def _rate(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        rate = Decimal(str(value).strip())
    except ArithmeticError:
        raise InvalidValue(_l("最低折扣格式不正确")) from None
    if rate > 1:  # typed as 折: 9 means 9折
        rate = rate / 10
    if not (0 < rate <= 1):
        raise InvalidValue(_l("最低折扣应在 0 到 1 之间（0.9 表示 9折）"))
    return rate


def min_discount_rate(session: Session, actor: Actor) -> Decimal | None:
    """The lowest rate the actor's role may quote (None: no limit)."""
    role_id = session.scalar(select(User.role_id).where(User.id == actor.user_id))
    limits = setting(session, "quote_min_discount_rate") or {}
    return _rate(limits.get(str(role_id)))


# --- money and lines -----------------------------------------------------------------------------

def _id(related: Any, fallback: int | None) -> int | None:
    return related.id if related is not None else fallback


def price(session: Session, quote: Quote, actor: Actor) -> None:
    """Check the lines (as orders do), hold each discount to the role's limit, fill the money."""
    lines = orders.check_lines(session, quote.lines, _id(quote.price_level, quote.price_level_id),
                               empty=_l("报价单至少需要一条产品明细"))
    lowest = min_discount_rate(session, actor)
    for line in lines:
        if lowest is not None and line.discount_rate < lowest:
            raise DiscountBeyondLimit(_l("“%(p)s”的折扣超出您的权限（最低 %(z)s）", p=line.product.name,
                                         z=zhe(lowest)))
    totals = orders.price_lines(lines, quote.tax_rate)
    quote.gross, quote.total, quote.discount = totals.gross, totals.total, totals.discount
    quote.amount_ex_tax, quote.tax = totals.amount_ex_tax, totals.tax


def _tax_rate(value: Any, session: Session) -> Decimal:
    if value in (None, ""):
        return orders.tax_rate(session)
    try:
        rate = Decimal(str(value).strip())
    except ArithmeticError:
        raise InvalidValue(_l("税率格式不正确")) from None
    if rate > 1:  # typed as a percentage: 13 means 13%
        rate = rate / 100
    if not (0 <= rate < 1):
        raise InvalidValue(_l("税率应在 0 到 100% 之间"))
    return rate


def _event(session: Session, quote_id: int, action: str, *, from_state: str | None, to_state: str | None,
           actor: Actor | None, now: datetime, note: str | None = None) -> QuoteEvent:
    event = QuoteEvent(quote_id=quote_id, action=action, from_state=from_state, to_state=to_state,
                       actor_id=actor.user_id if actor else None, note=(note or None) and note[:255], at=now)
    session.add(event)
    session.flush()
    return event


# --- entry --------------------------------------------------------------------------------------

def _owner(session: Session, quote: Quote, actor: Actor, customer: Customer) -> User:
    owner_id = _id(quote.owner, quote.owner_id) or actor.user_id
    if owner_id not in (actor.user_id, customer.owner_id) and session.scalar(
            select(User.id).where(User.id == owner_id, scope.owner_clause(User.id, actor))) is None:
        raise InvalidValue(_l("只能选择您数据范围内的负责人"))
    return session.get(User, owner_id)


def _customer_and_opportunity(session: Session, quote: Quote, actor: Actor) -> Customer:
    """From an opportunity the actor sees (its customer, whoever owns it) or from a customer in
    the actor's scope."""
    opportunity_id = _id(quote.opportunity, quote.opportunity_id)
    if opportunity_id:
        opportunity = scope.get_in_scope(session, Opportunity, opportunity_id, actor)
        quote.opportunity = opportunity
        quote.customer = session.get(Customer, opportunity.customer_id)
        return quote.customer
    customer_id = _id(quote.customer, quote.customer_id)
    if not customer_id:
        raise InvalidValue(_l("请选择客户或销售机会"))
    quote.customer = scope.get_in_scope(session, Customer, customer_id, actor)
    return quote.customer


def _check_contact(session: Session, quote: Quote, customer: Customer) -> None:
    contact_id = _id(quote.contact, quote.contact_id)
    if contact_id and session.scalar(select(Contact.customer_id).where(Contact.id == contact_id)) != customer.id:
        raise InvalidValue(_l("联系人不属于该客户"))


def _fill(session: Session, quote: Quote, actor: Actor, *, now: datetime, tz: str) -> None:
    customer = _customer_and_opportunity(session, quote, actor)
    _check_contact(session, quote, customer)
    owner = _owner(session, quote, actor, customer)
    quote.owner, quote.department_id = owner, owner.department_id
    quote.quote_date = quote.quote_date or local_date(now, tz)
    if quote.valid_until is None:
        quote.valid_until = quote.quote_date + timedelta(days=int(setting(session, "quote_valid_days") or 30))
    if quote.valid_until < quote.quote_date:
        raise InvalidValue(_l("有效期至不能早于报价日期"))
    quote.tax_rate = _tax_rate(quote.tax_rate, session)
    # Terms and notes are prose, kept as typed (lines, Chinese punctuation); only trimmed.
    quote.terms = (quote.terms or "").strip() or None
    quote.notes = (quote.notes or "").strip() or None
    price(session, quote, actor)


def opportunity_lines(session: Session, opportunity_id: int, actor: Actor) -> list[QuoteLine]:
    """A new quote's lines pre-filled from the opportunity's products (the actor must see it)."""
    opportunity = scope.get_in_scope(session, Opportunity, opportunity_id, actor)
    return [QuoteLine(product_id=line.product_id, quantity=line.quantity, unit_price=line.unit_price,
                      discount_rate=line.discount_rate) for line in opportunity.lines]


def create(session: Session, quote: Quote, *, actor: Actor, now: datetime, tz: str) -> QuoteEvent:
    """新建报价: a draft for a customer in the actor's scope, or for an opportunity they see (its
    customer; its lines and price tier when none are given)."""
    if not actor.can(PERMISSION):
        raise PermissionDenied(_l("您没有新建报价单的权限"))
    opportunity_id = _id(quote.opportunity, quote.opportunity_id)
    if opportunity_id:
        opportunity = scope.get_in_scope(session, Opportunity, opportunity_id, actor)
        if not [line for line in quote.lines if line is not None]:
            quote.lines = opportunity_lines(session, opportunity.id, actor)
        if quote.price_level is None and quote.price_level_id is None:
            quote.price_level_id = opportunity.price_level_id
        if quote.contact is None and quote.contact_id is None:
            quote.contact_id = opportunity.contact_id
    if quote.terms in (None, ""):
        quote.terms = setting(session, "quote_terms") or None
    _fill(session, quote, actor, now=now, tz=tz)
    quote.status, quote.revision, quote.created_by_id = Q.DRAFT, 1, actor.user_id
    if not quote.number:
        quote.number = numbering.next_number(session, NUMBER_SEQUENCE, setting(session, "quote_number_pattern"),
                                             today=quote.quote_date)
    session.add(quote)
    session.flush()
    return _event(session, quote.id, "create", from_state=None, to_state=Q.DRAFT, actor=actor, now=now)


def _editable(session: Session, quote: Quote) -> None:
    state, superseded = session.execute(select(Quote.status, Quote.superseded_by_id)
                                        .where(Quote.id == quote.id)).one()
    if state != Q.DRAFT or superseded is not None:
        raise QuoteRefused(_l("报价单%(n)s当前状态为“%(s)s”，只有草稿可以修改；已发送的报价请“修订”出新版本",
                              n=str(quote), s=STATE_LABELS.get(state, state)))


def edit(session: Session, quote: Quote, *, actor: Actor, now: datetime, tz: str) -> QuoteEvent:
    """Changing a quote (lines, prices, terms, validity) while it is a draft."""
    if not actor.can(PERMISSION):
        raise PermissionDenied(_l("您没有修改报价单的权限"))
    _editable(session, quote)
    _fill(session, quote, actor, now=now, tz=tz)
    return _event(session, quote.id, "edit", from_state=Q.DRAFT, to_state=Q.DRAFT, actor=actor, now=now)


# --- the state machine ---------------------------------------------------------------------------

def _refusal(quote: Quote, action: str, state: str, superseded: bool) -> QuoteRefused:
    if superseded:
        return QuoteRefused(_l("报价单%(n)s已有更新的版本，只有最新版本可以%(a)s", n=str(quote),
                               a=EVENT_LABELS[action]))
    rule = TRANSITIONS[action]
    allowed = "、".join(f"“{STATE_LABELS[s]}”" for s in rule.sources)
    return QuoteRefused(_l("报价单%(n)s当前状态为“%(s)s”，不能%(a)s：只有%(allowed)s的报价单可以%(a)s",
                           n=str(quote), s=STATE_LABELS.get(state, state), a=rule.label, allowed=allowed))


def move(session: Session, quote_id: Any, action: str, *, actor: Actor, now: datetime,
         note: str | None = None) -> QuoteEvent:
    """发送 / 客户接受 / 客户拒绝: one guarded UPDATE of the newest revision, one event."""
    rule = TRANSITIONS[action]
    if not rule.allows(actor):
        raise PermissionDenied(_l("您没有%(a)s报价单的权限", a=rule.label))
    quote = scope.get_in_scope(session, Quote, quote_id, actor)
    state, superseded = session.execute(select(Quote.status, Quote.superseded_by_id)
                                        .where(Quote.id == quote.id)).one()
    if state not in rule.sources or superseded is not None:
        raise _refusal(quote, action, state, superseded is not None)
    moved = session.execute(
        update(Quote).where(Quote.id == quote.id, Quote.status == state, Quote.superseded_by_id.is_(None))
        .values(status=rule.target, version=Quote.version + 1, **{STAMPS[action]: now})
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise QuoteRefused(_l("报价单%(n)s刚刚已被他人处理，请刷新后再试", n=str(quote)))
    event = _event(session, quote.id, action, from_state=state, to_state=rule.target, actor=actor, now=now,
                   note=normalize.text(note) or None)
    if action in ACTIVITY:
        activity.record_activity(session, quote.customer_id, ACTIVITY[action], at=now)
    session.refresh(quote)
    return event


def send(session: Session, quote_id: Any, *, actor: Actor, now: datetime, note: str | None = None) -> QuoteEvent:
    return move(session, quote_id, "send", actor=actor, now=now, note=note)


def accept(session: Session, quote_id: Any, *, actor: Actor, now: datetime, note: str | None = None) -> QuoteEvent:
    return move(session, quote_id, "accept", actor=actor, now=now, note=note)


def reject(session: Session, quote_id: Any, *, actor: Actor, now: datetime, note: str | None = None) -> QuoteEvent:
    return move(session, quote_id, "reject", actor=actor, now=now, note=note)


def expire_due(session: Session, *, now: datetime, today: date) -> int:
    """The daily job: every sent quote whose 有效期 ended before `today` → 已过期. One set-based
    guarded UPDATE (a second run finds nothing), one event per quote."""
    expired = list(session.execute(
        update(Quote).where(Quote.status == Q.SENT, Quote.valid_until < today, Quote.deleted_at.is_(None))
        .values(status=Q.EXPIRED, decided_at=now, version=Quote.version + 1)
        .returning(Quote.id).execution_options(synchronize_session=False)).scalars())
    if expired:
        session.execute(insert(QuoteEvent), [
            {"quote_id": quote_id, "action": "expire", "from_state": Q.SENT.value, "to_state": Q.EXPIRED.value,
             "actor_id": None, "at": now} for quote_id in expired])
    return len(expired)


def _claim(session: Session, quote: Quote, action: str, *, states: tuple[str, ...]) -> None:
    """Take the newest, unconverted revision for a change (a row lock on PostgreSQL, the write
    lock on SQLite), so two people revising or converting at once get one winner."""
    taken = session.execute(
        update(Quote).where(Quote.id == quote.id, Quote.status.in_(states), Quote.superseded_by_id.is_(None),
                            Quote.order_id.is_(None))
        .values(version=Quote.version + 1).execution_options(synchronize_session=False)).rowcount
    if taken == 1:
        return
    state, superseded, order_id = session.execute(select(Quote.status, Quote.superseded_by_id, Quote.order_id)
                                                  .where(Quote.id == quote.id)).one()
    if order_id is not None:
        number = session.scalar(select(Order.number).where(Order.id == order_id))
        raise QuoteRefused(_l("该报价单已转为订单 %(o)s", o=number))
    if superseded is not None:
        raise _refusal(quote, action, state, True)
    if action == "convert":
        raise QuoteRefused(_l("报价单%(n)s当前状态为“%(s)s”，只有客户已接受的报价单可以转订单",
                              n=str(quote), s=STATE_LABELS.get(state, state)))
    raise QuoteRefused(_l("报价单%(n)s当前状态为“%(s)s”，草稿请直接修改", n=str(quote),
                          s=STATE_LABELS.get(state, state)))


def revise(session: Session, quote_id: Any, *, actor: Actor, now: datetime, tz: str) -> Quote:
    """修订: a new draft with the same number and the next revision, lines copied; the old row
    stays as it was (readable, marked superseded)."""
    if not actor.can(PERMISSION):
        raise PermissionDenied(_l("您没有修改报价单的权限"))
    old = scope.get_in_scope(session, Quote, quote_id, actor)
    _claim(session, old, "revise", states=REVISABLE)
    session.refresh(old)
    today = local_date(now, tz)
    days = (old.valid_until - old.quote_date).days if old.valid_until else int(setting(session, "quote_valid_days"))
    new = Quote(number=old.number, revision=old.revision + 1, customer_id=old.customer_id,
                opportunity_id=old.opportunity_id, contact_id=old.contact_id, owner_id=old.owner_id,
                department_id=old.department_id, status=Q.DRAFT, quote_date=today,
                valid_until=today + timedelta(days=days), price_level_id=old.price_level_id,
                tax_rate=old.tax_rate, gross=old.gross, discount=old.discount, total=old.total,
                amount_ex_tax=old.amount_ex_tax, tax=old.tax, terms=old.terms, notes=old.notes,
                custom=dict(old.custom or {}), created_by_id=actor.user_id,
                lines=[QuoteLine(product_id=line.product_id, quantity=line.quantity, unit_price=line.unit_price,
                                 discount_rate=line.discount_rate, amount=line.amount, notes=line.notes)
                       for line in old.lines])
    session.add(new)
    session.flush()
    session.execute(update(Quote).where(Quote.id == old.id, Quote.superseded_by_id.is_(None))
                    .values(superseded_by_id=new.id).execution_options(synchronize_session=False))
    _event(session, old.id, "revise", from_state=old.status, to_state=old.status, actor=actor, now=now,
           note=str(new))
    _event(session, new.id, "revised", from_state=None, to_state=Q.DRAFT, actor=actor, now=now, note=str(old))
    session.refresh(old)
    return new


def convert(session: Session, quote_id: Any, *, actor: Actor, now: datetime, tz: str) -> Order:
    """转订单: an accepted quote becomes one order through the order entry (等待审核), with the
    quote's customer, price tier, tax rate and lines (prices and discounts as quoted); once."""
    if not (actor.can(PERMISSION) and actor.can("order.create")):
        raise PermissionDenied(_l("您没有把报价单转为订单的权限"))
    quote = scope.get_in_scope(session, Quote, quote_id, actor)
    _claim(session, quote, "convert", states=(Q.ACCEPTED,))
    session.refresh(quote)
    contract = live_contract(session, quote.id)
    if contract is not None:  # accepted → an order or a contract, once (orders then come from the contract)
        raise QuoteRefused(_l("报价单%(n)s已转为合同 %(c)s", n=str(quote), c=str(contract)))
    order = Order(customer_id=quote.customer_id, salesperson_id=quote.owner_id, price_level_id=quote.price_level_id,
                  tax_rate=quote.tax_rate, notes=str(_l("由报价单 %(n)s 转入", n=str(quote))),
                  lines=[OrderLine(product_id=line.product_id, quantity=line.quantity, unit_price=line.unit_price,
                                   discount_rate=line.discount_rate) for line in quote.lines])
    orders.submit(session, order, actor=actor, now=now, tz=tz)
    linked = session.execute(update(Quote).where(Quote.id == quote.id, Quote.order_id.is_(None))
                             .values(order_id=order.id).execution_options(synchronize_session=False)).rowcount
    if linked != 1:
        raise QuoteRefused(_l("该报价单刚刚已被他人转为订单，请刷新后查看"))
    _event(session, quote.id, "convert", from_state=Q.ACCEPTED, to_state=Q.ACCEPTED, actor=actor, now=now,
           note=order.number)
    # The deal's order: its opportunity (if it has none yet) points at it, so the opportunity page
    # shows 查看订单 instead of offering a second order through 生成订单.
    if quote.opportunity_id and session.execute(
            update(Opportunity).where(Opportunity.id == quote.opportunity_id, Opportunity.order_id.is_(None))
            .values(order_id=order.id).execution_options(synchronize_session=False)).rowcount:
        session.add(OpportunityEvent(opportunity_id=quote.opportunity_id, action=OpportunityAction.ORDER,
                                     actor_id=actor.user_id, note=order.number, at=now))
    session.refresh(quote)
    return order


def revisions(session: Session, quote: Quote) -> list[Quote]:
    """Every version of the quote's number, newest first (the reader sees the one they opened,
    so they see its siblings: same customer, same owner)."""
    return list(session.scalars(select(Quote).where(Quote.number == quote.number, Quote.deleted_at.is_(None))
                                .order_by(Quote.revision.desc())))


def live_contract(session: Session, quote_id: int) -> Contract | None:
    """The contract this quote became (转合同), if one still stands: it then converts no more."""
    return session.scalar(select(Contract).where(Contract.quote_id == quote_id, Contract.status != "void",
                                                 Contract.deleted_at.is_(None)).limit(1))


def allowed_moves(quote: Quote, actor: Actor, *, contracted: bool = False) -> dict[str, bool]:
    """The buttons the quote page offers: exactly what the rules above accept (`contracted`:
    the quote already became a contract, see `live_contract`)."""
    newest = quote.superseded_by_id is None
    may = actor.can(PERMISSION)
    moves = {name: rule.allows(actor) and newest and quote.status in rule.sources for name, rule in TRANSITIONS.items()}
    moves["edit"] = may and newest and quote.status == Q.DRAFT
    moves["revise"] = may and newest and quote.status in REVISABLE and quote.order_id is None
    moves["convert"] = may and actor.can("order.create") and newest and quote.status == Q.ACCEPTED \
        and quote.order_id is None and not contracted
    return moves


# --- settings -------------------------------------------------------------------------------------

def save_settings(session: Session, values: Mapping[str, Any], limits: Mapping[int, Any]) -> None:
    """报价设置: number pattern, default validity and terms, each role's lowest discount."""
    pattern = normalize.text(values.get("quote_number_pattern"))
    numbering.validate_pattern(pattern)
    try:
        days = int(str(values.get("quote_valid_days") or "0").strip())
    except ValueError:
        raise InvalidValue(_l("有效天数应为整数")) from None
    if not (1 <= days <= 3650):
        raise InvalidValue(_l("有效天数应在 1 到 3650 之间"))
    kept = {str(role_id): str(rate) for role_id, rate in ((r, _rate(v)) for r, v in limits.items())
            if rate is not None and rate < 1}
    settings.put(session, "quote_number_pattern", pattern)
    settings.put(session, "quote_valid_days", days)
    settings.put(session, "quote_terms", (values.get("quote_terms") or "").strip())
    settings.put(session, "quote_min_discount_rate", kept)
