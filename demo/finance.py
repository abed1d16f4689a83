"""Demo money after the sale (issue 19): contracts in every state (草稿, 审批中 waiting for a manager,
执行中, 已完成, 已作废 with its new version, and one sent back by its approver), instalments paid /
partly paid / overdue at every age / due this week, receipts approved and waiting for 财务 (several
methods, one with 抹零), 发票抬头, and invoices sent back, in approval, waiting to be issued, issued
and 红冲.

Everything goes through the rules a person's clicks go through (rules/contracts, approvals,
payment_plans, payments, invoice_titles, invoices), each at its moment in the past, so the money,
the states, the approval history and the events agree as they would after real use. Dates are
relative to the clock; idempotent (nothing is added once a contract exists)."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    ApprovalTask, Contract, ContractLine, ContractStatus, Customer, Department, Invoice, InvoiceTitle,
    Opportunity, Outcome, PaymentPlan, Product, Role, TaskStatus, User,
)
from rules import approvals, contracts, invoice_titles, invoices, orders, payment_plans, payments, products
from rules.actor import Actor
from rules.clock import local_date

TZ = "Asia/Shanghai"
FINANCE_ROLE = "财务"
ZERO = Decimal("0")
TERMS = ("1. 乙方按合同清单供货，含税含运费；\n2. 甲方按回款计划分期付款，逾期按日万分之五计违约金；\n"
         "3. 质保期十二个月，自验收合格之日起计算。")
# 部门负责人 of the demo company (approves as the second step of 合同审批)
MANAGERS = {"总经办": "zhangzong", "销售部": "wangjl", "销售一部": "lizg", "销售二部": "zhaozg", "商务部": "zhouqin",
            "财务部": "qianhui"}
BOSS = "wangjl"  # 销售经理: 完成 / 作废 contracts, 抹零 over a salesperson's receipt


@dataclass(frozen=True)
class Paid:
    """A receipt on an instalment: `share` of the instalment, or `amount` exactly."""
    share: Decimal
    method: str
    days_after_due: int = 0
    pending: bool = False
    write_off: Decimal = ZERO


@dataclass(frozen=True)
class Due:
    """An instalment due `days` from today (negative: past), `share` of the contract."""
    days: int
    share: Decimal
    paid: tuple[Paid, ...] = ()


@dataclass(frozen=True)
class Deal:
    owner: str
    status: ContractStatus
    signed_ago: int
    title: str
    plan: tuple[Due, ...] = ()
    # invoices in the order they were requested: (state, share of the total)
    invoices: tuple[tuple[str, Decimal], ...] = ()
    direct: tuple[Paid, ...] = ()  # receipts on the contract itself (no instalments)
    rejected: str | None = None    # a draft sent back by its approver with this reason


P = Decimal
# Today is the pinned Monday 2026-11-23 in the tests; "this week" is +0..+6 days.
DEALS = [
    Deal("chenxm", ContractStatus.ACTIVE, 120, "年度办公用茶供货合同",
         plan=(Due(-100, P("0.3"), (Paid(P("1"), "transfer", 2),)),
               Due(-45, P("0.4"), (Paid(P("0.5"), "wechat", 5),)),
               Due(2, P("0.3"))),
         invoices=(("issued", P("0.3")), ("requested", P("0.2")))),
    Deal("liufang", ContractStatus.ACTIVE, 200, "门店茶具铺货合同",
         plan=(Due(-150, P("0.5"), (Paid(P("1"), "alipay", 1, write_off=P("36.50")),)),
               Due(-95, P("0.5"))),
         invoices=(("reversed", P("0.5")), ("issued", P("0.5")))),
    Deal("sunwei", ContractStatus.ACTIVE, 70, "中秋礼品定制合同",
         plan=(Due(-65, P("0.4"), (Paid(P("0.25"), "cash", 3),)),
               Due(-10, P("0.3"), (Paid(P("1"), "transfer", 8, pending=True),)),
               Due(40, P("0.3"))),
         invoices=(("approved", P("0.4")),)),
    Deal("lizg", ContractStatus.ACTIVE, 20, "会议用茶年度供货合同",
         direct=(Paid(P("0.2"), "transfer", 15, pending=True),),
         invoices=(("approving", P("0.2")),)),
    Deal("chenxm", ContractStatus.ACTIVE, 30, "接待用茶采购合同",
         plan=(Due(5, P("0.5"), (Paid(P("0.4"), "alipay", -6),)), Due(35, P("0.5")))),
    Deal("liufang", ContractStatus.COMPLETED, 300, "员工福利茶叶采购合同",
         plan=(Due(-280, P("0.6"), (Paid(P("1"), "transfer", 0),)),
               Due(-220, P("0.4"), (Paid(P("1"), "wechat", 4),))),
         invoices=(("issued", P("0.6")), ("issued", P("0.4")))),
    Deal("sunwei", ContractStatus.VOID, 40, "商务礼品采购合同"),
    Deal("chenxm", ContractStatus.DRAFT, 1, "年货礼盒采购合同"),
    Deal("liufang", ContractStatus.APPROVING, 2, "办公室咖啡供应合同"),
    Deal("sunwei", ContractStatus.DRAFT, 6, "茶叶门店加盟供货合同", rejected="付款条件请改为预付50%后再提交"),
]
# The new version of the voided contract: what the customer agreed after changing the quantities.
REVISION = Deal("sunwei", ContractStatus.ACTIVE, 38, "商务礼品采购合同",
                plan=(Due(-8, P("0.5"), (Paid(P("1"), "wechat", 1),)), Due(25, P("0.5"))),
                invoices=(("issued", P("0.5")),))
VOID_REASON = "客户调整采购数量，作废后按新数量签订新版本"
REVERSE_REASON = "发票抬头税号填写有误，红冲后重开"


@dataclass
class _Context:
    session: Session
    rng: random.Random
    users: dict[str, User]
    now: datetime
    today: date
    catalogue: list[Product]
    level_id: int | None
    finance: User
    used: set[int] = field(default_factory=set)


def seed_finance(session: Session, users: dict[str, User], *, now: datetime) -> bool:
    """Contracts, plans, receipts, titles and invoices; False if a contract exists already (or the
    demo has no 财务, no products or no owned customers to deal with)."""
    if session.scalar(select(func.count(Contract.id))):
        return False
    finance = users.get("qianhui") or session.scalar(
        select(User).join(Role, User.role_id == Role.id).where(Role.name == FINANCE_ROLE).limit(1))
    catalogue = list(session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.id)))
    if finance is None or not catalogue or not session.scalar(
            select(func.count(Customer.id)).where(Customer.owner_id.is_not(None))):
        return False
    name_managers(session, users)
    levels = {level.name: level.id for level in products.levels(session)}
    ctx = _Context(session=session, rng=random.Random(20261206), users=users, now=now, today=local_date(now, TZ),
                   catalogue=catalogue, level_id=levels.get("批发价"), finance=finance)
    for deal in DEALS:
        contract = _contract(ctx, deal)
        if deal.status is ContractStatus.VOID:
            _revise(ctx, contract, REVISION)
    payment_plans.mark_overdue(session, ctx.today, now=now)
    session.flush()
    return True


def name_managers(session: Session, users: dict[str, User]) -> None:
    """部门负责人 of the demo departments, where none is named yet."""
    for department in session.scalars(select(Department).where(Department.name.in_(MANAGERS))):
        manager = users.get(MANAGERS[department.name])
        if manager is not None and department.manager_id is None:
            department.manager_id = manager.id
    session.flush()


# --- time and people ------------------------------------------------------------------------------

def _at(ctx: _Context, day: date, hour: int = 10) -> datetime:
    """A moment of a local working day, never later than now."""
    local = datetime.combine(day, time(hour, ctx.rng.randint(0, 59)), tzinfo=ZoneInfo(TZ))
    return min(local.astimezone(timezone.utc), ctx.now - timedelta(minutes=5))


def _later(ctx: _Context, at: datetime, *, hours: int = 20) -> datetime:
    return min(at + timedelta(hours=ctx.rng.randint(1, hours)), ctx.now - timedelta(minutes=5))


def _day(ctx: _Context, days: int) -> date:
    return ctx.today + timedelta(days=days)


def _actor(user: User, when: datetime) -> Actor:
    return Actor.from_user(user, today=local_date(when, TZ), has_shares=False)


def _decide(ctx: _Context, doc_type: str, doc_id: int, at: datetime, *, reject: str | None = None) -> datetime:
    """Each step's first waiting approver decides in turn, until the request ends (or is sent
    back with `reject`). Returns when the last decision was taken."""
    session = ctx.session
    while (request := approvals.current(session, doc_type, doc_id)) is not None:
        task = session.scalar(select(ApprovalTask).where(ApprovalTask.request_id == request.id,
                                                         ApprovalTask.status == TaskStatus.WAITING)
                              .order_by(ApprovalTask.id).limit(1))
        approver = session.get(User, task.approver_id)
        at = _later(ctx, at)
        if reject:
            approvals.reject(session, request.id, actor=_actor(approver, at), now=at, reason=reject)
            break
        approvals.approve(session, request.id, actor=_actor(approver, at), now=at)
    return at


# --- contracts ------------------------------------------------------------------------------------

def _source(ctx: _Context, owner: User) -> tuple[Customer, Opportunity | None]:
    """A won opportunity of the owner with products and not turned into an order, else one of
    the owner's customers (their 业务员 writes the contract)."""
    session = ctx.session
    won = session.scalar(select(Opportunity).where(
        Opportunity.owner_id == owner.id, Opportunity.outcome == Outcome.WON, Opportunity.order_id.is_(None),
        Opportunity.customer_id.not_in(ctx.used), Opportunity.lines.any()).order_by(Opportunity.id).limit(1))
    if won is not None:
        ctx.used.add(won.customer_id)
        return session.get(Customer, won.customer_id), won
    live = (Customer.deleted_at.is_(None), Customer.owner_id == owner.id)
    customer = (session.scalar(select(Customer).where(*live, Customer.id.not_in(ctx.used)).order_by(Customer.id)
                               .offset(3).limit(1))
                or session.scalar(select(Customer).where(*live, Customer.id.not_in(ctx.used)).order_by(Customer.id)
                                  .limit(1))
                or session.scalar(select(Customer).where(*live).order_by(Customer.id).limit(1)))
    ctx.used.add(customer.id)
    return customer, None


def _lines(ctx: _Context) -> list[ContractLine]:
    lines = []
    for product in ctx.rng.sample(ctx.catalogue, min(3, len(ctx.catalogue))):
        lines.append(ContractLine(product_id=product.id, quantity=ctx.rng.choice([20, 50, 100, 200]), unit_price=None,
                                  discount_rate=ctx.rng.choice([Decimal("1"), Decimal("0.95"), Decimal("0.9")])))
    return lines


def _contract(ctx: _Context, deal: Deal) -> Contract:
    session, owner = ctx.session, ctx.users[deal.owner]
    signed = _day(ctx, -deal.signed_ago)
    created = _at(ctx, signed - timedelta(days=2 if deal.signed_ago > 3 else 0), 9)
    customer, opportunity = _source(ctx, owner)
    actor = _actor(owner, created)
    if opportunity is not None:  # 新建合同 on the won opportunity: its lines copied
        contract = contracts.from_opportunity(session, opportunity.id, actor=actor, now=created, tz=TZ)
    else:
        contract = Contract(customer_id=customer.id, title=deal.title, price_level_id=ctx.level_id, lines=_lines(ctx))
        contracts.create(session, contract, actor=actor, now=created, tz=TZ)
    contract.title, contract.signed_on, contract.start_on = deal.title, signed, signed
    contract.end_on, contract.terms = signed + timedelta(days=365), TERMS
    contract.their_signatory = contract.contact.name if contract.contact else None
    contract.our_signatory_id = owner.id
    contracts.edit(session, contract, actor=actor, now=created, tz=TZ)
    _title(ctx, customer, created)
    _advance(ctx, contract, deal)
    return contract


def _advance(ctx: _Context, contract: Contract, deal: Deal) -> None:
    """提交审批 and the approvers' decisions, then the plan, receipts and invoices, as far as the
    deal says."""
    session, owner = ctx.session, ctx.users[deal.owner]
    if deal.status is ContractStatus.DRAFT and not deal.rejected:
        return
    submitted = _later(ctx, contract.created_at or ctx.now, hours=4)
    contracts.submit(session, contract.id, actor=_actor(owner, submitted), now=submitted)
    if deal.status is ContractStatus.APPROVING:
        return
    decided = _decide(ctx, "contract", contract.id, submitted, reject=deal.rejected)
    if deal.rejected:
        return
    session.refresh(contract)
    planned = _later(ctx, decided, hours=3)
    plans = _plan(ctx, contract, deal, planned)
    for plan, due in zip(plans, deal.plan):
        for paid in due.paid:
            _receipt(ctx, contract, plan, paid, base=plan.amount, due_on=plan.due_on)
    for paid in deal.direct:
        _receipt(ctx, contract, None, paid, base=contract.total, due_on=contract.signed_on)
    for index, (state, share) in enumerate(deal.invoices):
        _invoice(ctx, contract, state, share, requested_on=contract.signed_on + timedelta(days=2 + 9 * index))
    boss = ctx.users.get(BOSS) or owner
    if deal.status is ContractStatus.COMPLETED:
        done = _at(ctx, max(p.due_on for p in plans) + timedelta(days=10), 16)
        contracts.complete(session, contract.id, actor=_actor(boss, done), now=done, note="货款已全部结清，发票已开齐")
    elif deal.status is ContractStatus.VOID:
        voided = _at(ctx, _day(ctx, -deal.signed_ago + 1), 15)
        contracts.void(session, contract.id, reason=VOID_REASON, actor=_actor(boss, voided), now=voided)


def _revise(ctx: _Context, voided: Contract, deal: Deal) -> Contract:
    """新版本 of the voided contract: the same number, the next revision, fewer of each product."""
    session, owner = ctx.session, ctx.users[deal.owner]
    signed = _day(ctx, -deal.signed_ago)
    at = _at(ctx, signed, 9)
    actor = _actor(owner, at)
    contract = contracts.revise(session, voided.id, actor=actor, now=at, tz=TZ)
    for line in contract.lines:
        line.quantity = max(1, line.quantity * 4 // 5)
    contract.signed_on = contract.start_on = signed
    contracts.price(session, contract)
    contracts.edit(session, contract, actor=actor, now=at, tz=TZ)
    _advance(ctx, contract, deal)
    return contract


# --- instalments and receipts ---------------------------------------------------------------------

def _plan(ctx: _Context, contract: Contract, deal: Deal, at: datetime) -> list[PaymentPlan]:
    """The instalments add up to the total exactly: the last takes the rounding."""
    if not deal.plan:
        return []
    rows, left = [], contract.total
    for period, due in enumerate(deal.plan, start=1):
        amount = left if period == len(deal.plan) else orders.money(contract.total * due.share)
        left -= amount
        rows.append({"due_on": _day(ctx, due.days), "amount": amount, "remind_days": 3, "note": f"第{period}期货款"})
    owner = ctx.users[deal.owner]
    return payment_plans.set_plan(ctx.session, contract_id=contract.id, instalments=rows,
                                  actor=_actor(owner, at), now=at, today=local_date(at, TZ))


def _receipt(ctx: _Context, contract: Contract, plan: PaymentPlan | None, paid: Paid, *, base: Decimal,
             due_on: date) -> None:
    """The salesperson registers it (the 经理 when it writes off a difference: 抹零 needs the
    permission); 财务 confirms it on 我的审批 unless it is still waiting."""
    session = ctx.session
    paid_on = min(due_on + timedelta(days=paid.days_after_due), ctx.today)
    entered = _at(ctx, paid_on, 14)
    clerk = ctx.users.get(BOSS) if paid.write_off else ctx.users[contract.owner.username]
    payment = payments.record(session, contract_id=contract.id, plan_id=plan.id if plan else None, kind="receipt",
                              amount=orders.money(base * paid.share) - paid.write_off, paid_on=paid_on,
                              method=paid.method, write_off=paid.write_off,
                              note="尾差抹零" if paid.write_off else None, actor=_actor(clerk, entered), now=entered)
    if not paid.pending:
        at = _later(ctx, entered)
        payments.approve(session, payment.id, actor=_actor(ctx.finance, at), now=at)


# --- invoice titles and invoices ------------------------------------------------------------------

_CREDIT_CODE = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 统一社会信用代码 characters (no I O S V Z)


def _tax_no(ctx: _Context) -> str:
    return "91" + "".join(ctx.rng.choice(_CREDIT_CODE) for _ in range(16))


def _title(ctx: _Context, customer: Customer, at: datetime) -> None:
    """The customer's 发票抬头 as its salesperson enters them; a company may have a second one."""
    if ctx.session.scalar(select(func.count()).select_from(invoice_titles.live(customer.id).subquery())):
        return
    rng, actor = ctx.rng, _actor(customer.owner, at)
    if customer.kind == "person":
        invoice_titles.save(ctx.session, customer.id, {"kind": "personal", "name": customer.name}, actor=actor, now=at)
        return
    invoice_titles.save(ctx.session, customer.id, {
        "kind": "company", "name": customer.name, "tax_no": _tax_no(ctx),
        "bank": rng.choice(["中国工商银行", "招商银行", "中国建设银行"]) + f"{customer.city or '上海'}分行",
        "account": "".join(rng.choice("0123456789") for _ in range(19)),
        "address": customer.address or "上海市浦东新区世纪大道100号", "phone": customer.phone or customer.mobile},
        actor=actor, now=at)
    if rng.random() < 0.5:  # a branch office invoiced under its own name (not the default)
        invoice_titles.save(ctx.session, customer.id, {"kind": "company", "name": f"{customer.name}（分公司）",
                                                       "tax_no": _tax_no(ctx)}, actor=actor, now=at)


def _invoice(ctx: _Context, contract: Contract, state: str, share: Decimal, *, requested_on: date) -> Invoice:
    """An invoice request of `share` of the contract, taken as far as `state`: requested (sent
    back by 财务), approving, approved (待开票), issued, or reversed (issued, then 红冲)."""
    session, finance = ctx.session, ctx.finance
    requested = _at(ctx, min(requested_on, ctx.today), 11)
    title = session.scalar(invoice_titles.live(contract.customer_id).where(InvoiceTitle.is_default.is_(True)))
    kind = "special" if title.kind == "company" else "electronic"
    invoice = invoices.request(session, actor=_actor(contract.owner, requested), now=requested, tz=TZ,
                               title_id=title.id, amount=orders.money(contract.total * share), invoice_type=kind,
                               contract_id=contract.id)
    if state == "approving":
        return invoice
    decided = _decide(ctx, "invoice", invoice.id, requested,
                      reject="请补充合同盖章页后再申请" if state == "requested" else None)
    if state in ("requested", "approved"):
        return invoice
    issued = _later(ctx, decided, hours=30)
    invoices.issue(session, invoice.id, invoice_no=_invoice_no(ctx, kind), issued_on=local_date(issued, TZ),
                   actor=_actor(finance, issued), now=issued, tz=TZ)
    if state == "reversed":
        reversed_at = _later(ctx, issued + timedelta(days=2))
        invoices.reverse(session, invoice.id, reason=REVERSE_REASON, actor=_actor(finance, reversed_at),
                         now=reversed_at, tz=TZ, invoice_no=_invoice_no(ctx, kind))
    return invoice


def _invoice_no(ctx: _Context, kind: str) -> str:
    """发票号码: 8 digits on paper, 20 on a 全电 electronic invoice."""
    return "".join(ctx.rng.choice("0123456789") for _ in range(8 if kind == "special" else 20))
