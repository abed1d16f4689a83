"""Demo sales pipeline: leads (some in the lead pool, owned ones in every status, with follow-ups),
opportunities that make the board and the forecast worth a look (every stage of 标准销售流程,
expected close dates over the coming months, product lines, won and lost ones with reasons, a
project with 甲方/设计方/施工方, collaborators) and quotes in every state, one turned into an order.
Dates are relative to the clock; idempotent (nothing is added once the demo has leads)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Contact, Customer, FollowUp, FollowUpKind, Lead, LeadEvent, LeadFollowUp, LeadKey, LeadStatus, Opportunity,
    OpportunityCollaborator, OpportunityEvent, OpportunityLine, OpportunityParty, Order, OrderLine, Outcome, Pool,
    Product, Quote, QuoteEvent, QuoteLine, QuoteStatus, Stage, User,
)
from models.dictionary import DictKind
from models.opportunity import OpportunityAction
from models.pool import PoolKind
from rules import dictionaries, normalize, numbering, orders, products, stage_groups
from rules.actor import Actor
from rules.clock import local_date

TZ = "Asia/Shanghai"
LEAD_POOL_NAME = "公共线索池"
OPPORTUNITY_NUMBERS = ("opportunity", "SJ{yyyy}{mm}{dd}{seq:04d}")
QUOTE_NUMBERS = ("quote", "BJ{yyyy}{mm}{dd}{seq:04d}")
ACTION_CREATED, ACTION_MOVE, ACTION_WON, ACTION_LOST = (OpportunityAction.CREATE, OpportunityAction.STAGE,
                                                      OpportunityAction.WON, OpportunityAction.LOST)

LEAD_LINES = [
    "电话联系上了负责人，对我们的茶礼盒有兴趣，约了下周上门。",
    "加了微信，发送了产品目录和批发价。",
    "客户在比较几家供应商，要求先寄样品。",
    "客户说年底有员工福利采购，预算还在审批。",
    "展会上交换了名片，对紫砂壶和茶具礼盒感兴趣。",
]
LEAD_KINDS = [FollowUpKind.PHONE.value, FollowUpKind.WECHAT.value, FollowUpKind.VISIT.value, FollowUpKind.EMAIL.value]
INVALID_REASONS = ["空号或号码错误", "同行咨询，不是客户", "重复线索"]
OPPORTUNITY_LINES = [
    "和采购经理确认了需求清单，下周提交方案。",
    "发送了报价单，客户认为价格偏高，希望再优惠。",
    "上门演示了样品，客户比较满意，等待老板拍板。",
    "客户确认预算，合同条款在走法务审核。",
]
TOPICS = ["年货礼盒采购", "员工福利茶叶", "会议用茶年度供货", "门店茶具铺货", "中秋礼品定制", "接待用茶采购",
          "办公室咖啡供应", "商务礼品采购"]
# (stage index 0..4 or "won"/"lost", months until expected close, owner username)
OPEN_PLAN = [
    (0, 0, "chenxm"), (0, 2, "chenxm"), (0, 3, "liufang"), (0, 4, "sunwei"), (0, 5, "lizg"), (0, 1, "sunwei"),
    (1, 1, "chenxm"), (1, 2, "liufang"), (1, 3, "sunwei"), (1, 4, "zhaozg"), (1, 1, "liufang"),
    (2, 0, "chenxm"), (2, 1, "liufang"), (2, 2, "sunwei"), (2, 3, "chenxm"), (2, 1, "sunwei"),
    (3, 0, "liufang"), (3, 1, "chenxm"), (3, 2, "sunwei"), (3, -1, "chenxm"),
    (4, 0, "chenxm"), (4, 1, "sunwei"), (4, 0, "liufang"),
]
CLOSED_PLAN = [("won", "chenxm"), ("won", "liufang"), ("won", "sunwei"), ("won", "chenxm"), ("won", "lizg"),
               ("won", "sunwei"), ("won", "liufang"), ("lost", "chenxm"), ("lost", "sunwei"), ("lost", "liufang"),
               ("lost", "sunwei"), ("lost", "chenxm"), ("lost", "zhaozg")]


@dataclass
class _Context:
    session: Session
    rng: random.Random
    fake: Faker
    users: dict[str, User]
    now: datetime
    catalogue: list[Product]
    level_id: int | None
    stages: list[Stage]


def seed_pipeline(session: Session, users: dict[str, User], *, now: datetime) -> bool:
    """Leads, opportunities and quotes for the demo company; False if it has leads already."""
    if session.scalar(select(func.count(Lead.id))) or not session.scalar(
            select(func.count(Customer.id)).where(Customer.owner_id.is_not(None))):
        return False
    dictionaries.ensure_defaults(session)
    stage_groups.ensure_default(session)
    group = stage_groups.group_for(session, None)
    fake = Faker("zh_CN")
    fake.seed_instance(20261201)
    levels = {level.name: level.id for level in products.levels(session)}
    ctx = _Context(session=session, rng=random.Random(20261201), fake=fake, users=users, now=now,
                   catalogue=list(session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.id))),
                   level_id=levels.get("批发价"), stages=list(group.stages))
    _seed_leads(ctx)
    opportunities = _seed_opportunities(ctx, group.id)
    if ctx.catalogue:
        _seed_quotes(ctx, opportunities)
    session.flush()
    return True


def _actor(user: User, when: datetime) -> Actor:
    return Actor.from_user(user, today=local_date(when, TZ), has_shares=False)


# --- leads --------------------------------------------------------------------------------------

def lead_pool(session: Session) -> Pool:
    pool = session.scalar(select(Pool).where(Pool.kind == PoolKind.LEAD, Pool.is_default.is_(True)))
    if pool is None:
        pool = Pool(name=LEAD_POOL_NAME, kind=PoolKind.LEAD, is_default=True, max_claims_per_day=20, max_owned=100,
                    cooldown_days=3, recycle_enabled=True, no_contact_days=7, idle_days=30)
        session.add(pool)
        session.flush()
    return pool


def _seed_leads(ctx: _Context) -> None:
    session, rng, fake, now = ctx.session, ctx.rng, ctx.fake, ctx.now
    pool = lead_pool(session)
    sources = dictionaries.items(session, DictKind.SOURCE)
    industries = dictionaries.items(session, DictKind.INDUSTRY)
    workers = [ctx.users[name] for name in ("chenxm", "liufang", "sunwei", "lizg", "zhaozg") if name in ctx.users]
    unconverted = iter(session.scalars(
        select(Customer).where(Customer.owner_id.in_([u.id for u in workers]), Customer.deleted_at.is_(None))
        .order_by(Customer.created_at.desc()).limit(40)))
    plan = ([None] * 18 + [LeadStatus.NEW] * 10 + [LeadStatus.FOLLOWING] * 16 + [LeadStatus.CONVERTED] * 6
            + [LeadStatus.INVALID] * 6)
    for i, status in enumerate(plan):
        owner = None if status is None else workers[i % len(workers)]
        created = now - timedelta(days=rng.randint(1, 90), hours=rng.randint(0, 9), minutes=i)
        company = rng.random() < 0.7
        person = fake.name()
        name = fake.company() if company else person
        lead = Lead(name=name, company=name if company else None, contact_name=person,
                    position=rng.choice(["采购经理", "行政主管", "总经理", "办公室主任"]) if company else None,
                    mobile=fake.phone_number(), email=fake.company_email() if company else fake.free_email(),
                    source_id=rng.choice(sources).id if sources else None,
                    industry_id=rng.choice(industries).id if industries and company else None,
                    province=fake.province(), city=fake.city(), address=fake.street_address(),
                    status=status or LeadStatus.NEW, owner_id=owner.id if owner else None,
                    department_id=owner.department_id if owner else None, pool_id=None if owner else pool.id,
                    pool_reason=None if owner else "new", pool_entered_at=None if owner else created,
                    claimed_at=created if owner else None, created_by_id=owner.id if owner else None,
                    created_at=created, updated_at=created)
        session.add(lead)
        session.flush()
        session.add(LeadEvent(lead_id=lead.id, to_user_id=lead.owner_id, actor_id=lead.owner_id, reason="created",
                              to_status=LeadStatus.NEW, at=created))
        for field in ("name", "contact_name", "mobile", "email"):
            if getattr(lead, field):
                session.add(LeadKey(lead_id=lead.id, field=field, value=normalize.key(field, getattr(lead, field))[:128]))
        if owner is None or status is LeadStatus.NEW:
            continue
        when = created
        for k in range(rng.randint(1, 3) if status is not LeadStatus.INVALID else 1):
            when = min(when + timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 6)), now)
            session.add(LeadFollowUp(lead_id=lead.id, user_id=owner.id, kind=rng.choice(LEAD_KINDS),
                                     content=rng.choice(LEAD_LINES), happened_at=when, created_at=when))
            if k == 0:
                session.add(LeadEvent(lead_id=lead.id, actor_id=owner.id, reason="status", from_status=LeadStatus.NEW,
                                      to_status=LeadStatus.FOLLOWING, at=when))
        lead.last_follow_up_at = when
        if status is LeadStatus.FOLLOWING:
            lead.next_contact_at = local_date(now, TZ) + timedelta(days=rng.randint(0, 10))
        elif status is LeadStatus.INVALID:
            lead.invalid_reason = rng.choice(INVALID_REASONS)
            session.add(LeadEvent(lead_id=lead.id, actor_id=owner.id, reason="status", note=lead.invalid_reason,
                                  from_status=LeadStatus.FOLLOWING, to_status=LeadStatus.INVALID, at=when))
        elif status is LeadStatus.CONVERTED:
            customer = next(unconverted, None)
            if customer is None:
                lead.status = LeadStatus.FOLLOWING
                continue
            converted = min(when + timedelta(days=1), now)
            lead.customer_id, lead.converted_at, lead.converted_by_id = customer.id, converted, owner.id
            if customer.owner_id != owner.id:  # the customer it became is the converter's
                lead.owner_id, lead.department_id = customer.owner_id, customer.department_id
            session.add(LeadEvent(lead_id=lead.id, actor_id=owner.id, reason="status", from_status=LeadStatus.FOLLOWING,
                                  to_status=LeadStatus.CONVERTED, at=converted))
    session.flush()


# --- opportunities ------------------------------------------------------------------------------

def _lines(ctx: _Context, target: Decimal | None = None) -> list[OpportunityLine]:
    picked = ctx.rng.sample(ctx.catalogue, min(len(ctx.catalogue), ctx.rng.randint(1, 3)))
    lines = []
    for product in picked:
        price = orders.default_price(ctx.session, product.id, ctx.level_id) or Decimal("100.00")
        quantity = ctx.rng.choice([10, 20, 30, 50, 100, 200])
        rate = ctx.rng.choice([Decimal("1"), Decimal("0.95"), Decimal("0.9")])
        lines.append(OpportunityLine(product_id=product.id, quantity=quantity, unit_price=price, discount_rate=rate,
                                     amount=orders.line_amount(quantity, price, rate)))
    return lines


def _month_ahead(ctx: _Context, months: int) -> datetime:
    today = local_date(ctx.now, TZ)
    first = today.replace(day=1)
    year, month = divmod(first.month - 1 + months, 12)
    start = first.replace(year=first.year + year, month=month + 1)
    day = ctx.rng.randint(3, 27)
    candidate = start.replace(day=day)
    if months == 0 and candidate < today:
        candidate = today + timedelta(days=ctx.rng.randint(2, 6))
    return candidate


def _customer_of(ctx: _Context, owner: User, used: set[int]) -> Customer:
    """One of the owner's customers not used yet; with few demo customers, one used before or
    anyone's."""
    live = (Customer.deleted_at.is_(None), Customer.owner_id.is_not(None))
    for stmt in (select(Customer).where(*live, Customer.owner_id == owner.id, Customer.id.not_in(used))
                 .order_by(Customer.id).offset(ctx.rng.randint(0, 5)),
                 select(Customer).where(*live, Customer.owner_id == owner.id, Customer.id.not_in(used)).order_by(Customer.id),
                 select(Customer).where(*live, Customer.owner_id == owner.id).order_by(Customer.id),
                 select(Customer).where(*live).order_by(Customer.id)):
        customer = ctx.session.scalar(stmt.limit(1))
        if customer is not None:
            used.add(customer.id)
            return customer
    raise LookupError("the demo has no owned customers to hang opportunities on")


def _new_opportunity(ctx: _Context, group_id: int, owner: User, customer: Customer, created: datetime,
                     title: str) -> Opportunity:
    session = ctx.session
    contact = session.scalar(select(Contact).where(Contact.customer_id == customer.id).order_by(
        Contact.is_primary.desc(), Contact.id).limit(1))
    lines = _lines(ctx) if ctx.catalogue else []
    opportunity = Opportunity(
        number=numbering.next_number(session, *OPPORTUNITY_NUMBERS, today=local_date(created, TZ)), title=title,
        customer_id=customer.id, contact_id=contact.id if contact else None, group_id=group_id,
        stage_id=ctx.stages[0].id, stage_entered_at=created, outcome=Outcome.OPEN, price_level_id=ctx.level_id,
        amount=sum((line.amount for line in lines), Decimal("0")) or Decimal(ctx.rng.choice([8000, 25000, 60000])),
        owner_id=owner.id, department_id=owner.department_id, source_id=customer.source_id, created_by_id=owner.id,
        created_at=created, updated_at=created, lines=lines)
    session.add(opportunity)
    session.flush()
    session.add(OpportunityEvent(opportunity_id=opportunity.id, action=ACTION_CREATED, to_stage_id=ctx.stages[0].id,
                                 to_outcome=Outcome.OPEN, to_user_id=owner.id, actor_id=owner.id, at=created))
    return opportunity


def _advance(ctx: _Context, opportunity: Opportunity, to_index: int, until: datetime) -> datetime:
    """Stage by stage up to `to_index`, each move an event, spread between creation and `until`."""
    at = opportunity.created_at
    steps = max(to_index, 1)
    for index in range(1, to_index + 1):
        at = at + (until - at) / (steps - index + 2)
        ctx.session.add(OpportunityEvent(opportunity_id=opportunity.id, action=ACTION_MOVE,
                                         from_stage_id=ctx.stages[index - 1].id, to_stage_id=ctx.stages[index].id,
                                         actor_id=opportunity.owner_id, at=at))
        opportunity.stage_id, opportunity.stage_entered_at = ctx.stages[index].id, at
    return at


def _follow_up(ctx: _Context, opportunity: Opportunity, when: datetime) -> None:
    ctx.session.add(FollowUp(customer_id=opportunity.customer_id, user_id=opportunity.owner_id,
                             opportunity_id=opportunity.id, kind=FollowUpKind.VISIT.value,
                             content=ctx.rng.choice(OPPORTUNITY_LINES), happened_at=when))
    opportunity.last_follow_up_at = when


def _seed_opportunities(ctx: _Context, group_id: int) -> dict[str, list[Opportunity]]:
    session, rng, now, users = ctx.session, ctx.rng, ctx.now, ctx.users
    used: set[int] = set()
    made: dict[str, list[Opportunity]] = {"open": [], "won": [], "lost": []}
    for stage_index, months, username in OPEN_PLAN:
        owner = users[username]
        created = now - timedelta(days=rng.randint(10, 120), hours=rng.randint(0, 8))
        opportunity = _new_opportunity(ctx, group_id, owner, _customer_of(ctx, owner, used), created,
                                       rng.choice(TOPICS))
        _advance(ctx, opportunity, stage_index, now - timedelta(days=rng.randint(0, 8)))
        opportunity.expected_close_on = (local_date(now, TZ) - timedelta(days=rng.randint(3, 12)) if months < 0
                                         else _month_ahead(ctx, months))
        # most are followed up lately; a few have gone quiet (stale on the board)
        _follow_up(ctx, opportunity, now - timedelta(days=rng.choice([1, 3, 5, 9, 40]), hours=rng.randint(0, 6)))
        made["open"].append(opportunity)
    loss_reasons = dictionaries.items(session, DictKind.LOSS_REASON)
    for k, (outcome, username) in enumerate(CLOSED_PLAN):
        owner = users[username]
        created = now - timedelta(days=rng.randint(60, 300))
        closed = min(created + timedelta(days=rng.randint(20, 55)), now - timedelta(days=1))
        opportunity = _new_opportunity(ctx, group_id, owner, _customer_of(ctx, owner, used), created,
                                       rng.choice(TOPICS))
        reached = len(ctx.stages) - 1 if outcome == "won" else rng.randint(0, len(ctx.stages) - 2)
        _advance(ctx, opportunity, reached, closed - timedelta(days=2))
        opportunity.expected_close_on = local_date(closed, TZ) + timedelta(days=rng.randint(-5, 10))
        opportunity.closed_at = closed
        stage_id = opportunity.stage_id
        if outcome == "won":
            opportunity.outcome = Outcome.WON
            session.add(OpportunityEvent(opportunity_id=opportunity.id, action=ACTION_WON, from_stage_id=stage_id,
                                         to_stage_id=stage_id, from_outcome=Outcome.OPEN, to_outcome=Outcome.WON,
                                         actor_id=owner.id, at=closed))
        else:
            opportunity.outcome = Outcome.LOST
            opportunity.loss_reason_id = loss_reasons[k % len(loss_reasons)].id if loss_reasons else None
            opportunity.outcome_note = "客户最终选了报价更低的供应商" if k % 2 else None
            session.add(OpportunityEvent(opportunity_id=opportunity.id, action=ACTION_LOST, from_stage_id=stage_id,
                                         to_stage_id=stage_id, from_outcome=Outcome.OPEN, to_outcome=Outcome.LOST,
                                         note=opportunity.outcome_note, actor_id=owner.id, at=closed))
        _follow_up(ctx, opportunity, closed - timedelta(days=3))
        made[outcome].append(opportunity)
    _seed_project(ctx, group_id, used, made)
    # 协作人: a colleague helps on the biggest open deals
    mates = {"chenxm": "liufang", "liufang": "chenxm", "sunwei": "zhaozg"}
    for opportunity in sorted(made["open"], key=lambda o: o.amount, reverse=True)[:4]:
        owner = session.get(User, opportunity.owner_id)
        mate = users.get(mates.get(owner.username, ""))
        if mate is not None:
            session.add(OpportunityCollaborator(opportunity_id=opportunity.id, user_id=mate.id, added_by_id=owner.id,
                                                added_at=opportunity.created_at + timedelta(days=2)))
    session.flush()
    return made


def _seed_project(ctx: _Context, group_id: int, used: set[int], made: dict[str, list[Opportunity]]) -> None:
    """项目型跟单: an office building fit-out with its 甲方, 设计方 and 施工方, each a customer."""
    session, now, users = ctx.session, ctx.now, ctx.users
    roles = {item.name: item.id for item in dictionaries.items(session, DictKind.PROJECT_ROLE)}
    owner = users["chenxm"]
    client = _customer_of(ctx, owner, used)
    opportunity = _new_opportunity(ctx, group_id, owner, client, now - timedelta(days=45), "滨江中心写字楼茶水间及接待用品配套")
    opportunity.is_project = True
    _advance(ctx, opportunity, 2, now - timedelta(days=4))
    opportunity.expected_close_on = _month_ahead(ctx, 2)
    others = [users.get("liufang"), users.get("sunwei")]
    parties = [("甲方", client)] + [(role, _customer_of(ctx, other, used))
                                    for role, other in zip(("设计方", "施工方"), others) if other is not None]
    for role, customer in parties:
        contact = session.scalar(select(Contact).where(Contact.customer_id == customer.id).order_by(
            Contact.is_primary.desc(), Contact.id).limit(1))
        session.add(OpportunityParty(opportunity_id=opportunity.id, customer_id=customer.id, role_id=roles.get(role),
                                     contact_id=contact.id if contact else None))
    if users.get("liufang"):
        session.add(OpportunityCollaborator(opportunity_id=opportunity.id, user_id=users["liufang"].id,
                                            added_by_id=owner.id, added_at=now - timedelta(days=40)))
    _follow_up(ctx, opportunity, now - timedelta(days=2))
    made["open"].append(opportunity)


# --- quotes -------------------------------------------------------------------------------------

def _quote(ctx: _Context, opportunity: Opportunity, status: QuoteStatus, quoted: datetime, *,
           revision: int = 1, number: str | None = None, extra: Decimal = Decimal("1")) -> Quote:
    """A quote of the opportunity's lines (`extra`: a further discount a revision gives)."""
    session = ctx.session
    rate = orders.tax_rate(session)
    lines = []
    for line in opportunity.lines:
        discount = (line.discount_rate * extra).quantize(Decimal("0.0001"))
        lines.append(QuoteLine(product_id=line.product_id, quantity=line.quantity, unit_price=line.unit_price,
                               discount_rate=discount, amount=orders.line_amount(line.quantity, line.unit_price,
                                                                                 discount)))
    gross = sum((orders.money(Decimal(line.quantity) * line.unit_price) for line in lines), Decimal("0"))
    total = sum((line.amount for line in lines), Decimal("0"))
    ex_tax, tax = orders.split_tax(total, rate)
    day = local_date(quoted, TZ)
    quote = Quote(number=number or numbering.next_number(session, *QUOTE_NUMBERS, today=day), revision=revision,
                  customer_id=opportunity.customer_id, opportunity_id=opportunity.id,
                  contact_id=opportunity.contact_id, owner_id=opportunity.owner_id,
                  department_id=opportunity.department_id, status=status, quote_date=day,
                  valid_until=day + timedelta(days=30), price_level_id=ctx.level_id, tax_rate=rate, gross=gross,
                  discount=gross - total, total=total, amount_ex_tax=ex_tax, tax=tax,
                  terms="1. 报价含税含运费；\n2. 付款方式：合同签订后预付30%，发货前付清余款；\n3. 交货期：收到预付款后7个工作日内。",
                  created_by_id=opportunity.owner_id, created_at=quoted, updated_at=quoted, lines=lines)
    session.add(quote)
    session.flush()
    session.add(QuoteEvent(quote_id=quote.id, action="create", to_state=QuoteStatus.DRAFT,
                           actor_id=quote.owner_id, at=quoted))
    if status is not QuoteStatus.DRAFT:
        quote.sent_at = quoted + timedelta(hours=2)
        session.add(QuoteEvent(quote_id=quote.id, action="sent", from_state=QuoteStatus.DRAFT,
                               to_state=QuoteStatus.SENT, actor_id=quote.owner_id, at=quote.sent_at))
    if status in (QuoteStatus.ACCEPTED, QuoteStatus.REJECTED, QuoteStatus.EXPIRED):
        decided = min(quoted + timedelta(days=31 if status is QuoteStatus.EXPIRED else 5), ctx.now)
        quote.decided_at = decided
        session.add(QuoteEvent(quote_id=quote.id, action=str(status), from_state=QuoteStatus.SENT, to_state=status,
                               actor_id=None if status is QuoteStatus.EXPIRED else quote.owner_id, at=decided))
    return quote


def _seed_quotes(ctx: _Context, made: dict[str, list[Opportunity]]) -> None:
    now = ctx.now
    open_ones = [o for o in made["open"] if o.lines]
    at_quote_stage = [o for o in open_ones if o.stage_id in {s.id for s in ctx.stages[2:]}] or open_ones
    _quote(ctx, at_quote_stage[0], QuoteStatus.DRAFT, now - timedelta(days=1))
    _quote(ctx, at_quote_stage[1 % len(at_quote_stage)], QuoteStatus.SENT, now - timedelta(days=6))
    # a revised quote: 第1版 superseded by 第2版, still waiting for the customer
    first = _quote(ctx, at_quote_stage[2 % len(at_quote_stage)], QuoteStatus.SENT, now - timedelta(days=15))
    second = _quote(ctx, at_quote_stage[2 % len(at_quote_stage)], QuoteStatus.SENT, now - timedelta(days=4),
                    revision=2, number=first.number, extra=Decimal("0.95"))
    first.superseded_by_id = second.id
    lost = [o for o in made["lost"] if o.lines]
    if lost:
        _quote(ctx, lost[0], QuoteStatus.REJECTED, lost[0].closed_at - timedelta(days=12))
    stale = [o for o in made["open"] if o.lines and o.stage_id == ctx.stages[1].id]
    if stale:
        _quote(ctx, stale[0], QuoteStatus.EXPIRED, now - timedelta(days=50))
    won = [o for o in made["won"] if o.lines]
    if won:
        _quote_to_order(ctx, won[0])


def _quote_to_order(ctx: _Context, opportunity: Opportunity) -> None:
    """An accepted quote of a won opportunity, turned into its order (转订单) once."""
    session = ctx.session
    accepted_at = opportunity.closed_at - timedelta(days=6)
    quote = _quote(ctx, opportunity, QuoteStatus.ACCEPTED, accepted_at)
    # the order is entered by the customer's salesperson (the owner, unless the demo is tiny)
    owner = session.get(User, session.get(Customer, quote.customer_id).owner_id)
    if owner is None or "order.create" not in (owner.role.permissions or ()):
        return
    placed = quote.decided_at + timedelta(hours=3)
    order = Order(customer_id=quote.customer_id, price_level_id=quote.price_level_id, tax_rate=quote.tax_rate,
                  order_date=local_date(placed, TZ), notes=f"由报价单 {quote} 转入",
                  lines=[OrderLine(product_id=line.product_id, quantity=line.quantity, unit_price=line.unit_price,
                                   discount_rate=line.discount_rate) for line in quote.lines])
    orders.submit(session, order, actor=_actor(owner, placed), now=placed, tz=TZ)
    quote.order_id = order.id
    opportunity.order_id = order.id
    session.add(QuoteEvent(quote_id=quote.id, action="converted", from_state=QuoteStatus.ACCEPTED,
                           to_state=QuoteStatus.ACCEPTED, actor_id=owner.id, note=order.number, at=placed))
