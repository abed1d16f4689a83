"""Demo money after the sale (issue 19): approval flows, contracts in every state (草稿, 审批中
waiting for a manager, 执行中, 已完成, 已作废 with its new version, and one sent back by the
approver), instalments paid / partly paid / overdue at every age / due this week, receipts
approved and waiting for 财务 (several methods, one with 抹零), 发票抬头, and invoices requested,
in approval, waiting to be issued, issued and 红冲.

The money agrees the way the rules keep it: a contract's 已收 is its approved receipts, 抹零 kept
apart; an instalment's 已收 counts its approved receipts and their 抹零 and its status is what the
daily job would say today; a contract's 已开票 is its issued invoices net of 红冲. Dates are
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
    ApprovalAction, ApprovalEvent, ApprovalFlow, ApprovalRequest, ApprovalStatus, ApprovalStep, ApprovalTask,
    Contact, Contract, ContractAction, ContractEvent, ContractLine, ContractStatus, Customer, Invoice,
    InvoiceAction, InvoiceEvent, InvoiceStatus, InvoiceTitle, InvoiceType, Opportunity, Outcome, Payment,
    PaymentKind, PaymentPlan, PaymentStatus, PlanStatus, Product, Role, StepKind, StepMode, TaskStatus, TitleKind,
    User,
)
from rules import numbering, orders, products
from rules.clock import local_date

TZ = "Asia/Shanghai"
CONTRACT_NUMBERS = ("contract", "HT{yyyy}{mm}{dd}{seq:04d}")
INVOICE_NUMBERS = ("invoice", "KP{yyyy}{mm}{dd}{seq:04d}")
FINANCE_ROLE = "财务"
ZERO = Decimal("0")
TERMS = ("1. 乙方按合同清单供货，含税含运费；\n2. 甲方按回款计划分期付款，逾期按日万分之五计违约金；\n"
         "3. 质保期十二个月，自验收合格之日起计算。")

# (doc type, name, enabled, threshold, steps: (name, kind, mode, role name))
DEFAULT_FLOWS = [
    ("contract", "合同审批", True, None, [("上级审批", StepKind.SUPERIOR, StepMode.ANY, None),
                                         ("部门负责人审批", StepKind.DEPT_MANAGER, StepMode.ANY, None)]),
    ("receipt", "回款审批", True, None, [("财务确认", StepKind.ROLE, StepMode.ANY, FINANCE_ROLE)]),
    ("invoice", "开票审批", True, None, [("财务审核", StepKind.ROLE, StepMode.ANY, FINANCE_ROLE)]),
    ("order_discount", "订单折扣审批", False, Decimal("0.85"), [("上级审批", StepKind.SUPERIOR, StepMode.ANY, None)]),
]


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
    rate: Decimal
    catalogue: list[Product]
    level_id: int | None
    finance: User
    used: set[int] = field(default_factory=set)


def seed_finance(session: Session, users: dict[str, User], *, now: datetime) -> bool:
    """Flows, contracts, plans, receipts, titles and invoices; False if a contract exists already."""
    if session.scalar(select(func.count(Contract.id))):
        return False
    ensure_flows(session)
    finance = users.get("qianhui") or session.scalar(
        select(User).join(Role, User.role_id == Role.id).where(Role.name == FINANCE_ROLE).limit(1))
    catalogue = list(session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.id)))
    if finance is None or not catalogue or not session.scalar(
            select(func.count(Customer.id)).where(Customer.owner_id.is_not(None))):
        return False
    levels = {level.name: level.id for level in products.levels(session)}
    ctx = _Context(session=session, rng=random.Random(20261206), users=users, now=now, today=local_date(now, TZ),
                   rate=orders.tax_rate(session), catalogue=catalogue, level_id=levels.get("批发价"), finance=finance)
    for deal in DEALS:
        contract = _contract(ctx, deal)
        if deal.status is ContractStatus.VOID:
            _revise(ctx, contract, REVISION)
    session.flush()
    return True


def ensure_flows(session: Session) -> None:
    """The default approval flows, for the document types that have none yet."""
    have = set(session.scalars(select(ApprovalFlow.doc_type)))
    roles = {role.name: role.id for role in session.scalars(select(Role))}
    for doc_type, name, enabled, threshold, steps in DEFAULT_FLOWS:
        if doc_type in have:
            continue
        session.add(ApprovalFlow(doc_type=doc_type, name=name, enabled=enabled, threshold=threshold, steps=[
            ApprovalStep(position=i, name=step, kind=kind, mode=mode, levels=1, role_id=roles.get(role),
                         user_ids=[], allow_self=False)
            for i, (step, kind, mode, role) in enumerate(steps)]))
    session.flush()


# --- time -----------------------------------------------------------------------------------------

def _at(ctx: _Context, day: date, hour: int = 10) -> datetime:
    """A moment of a local working day, never later than now."""
    local = datetime.combine(day, time(hour, ctx.rng.randint(0, 59)), tzinfo=ZoneInfo(TZ))
    return min(local.astimezone(timezone.utc), ctx.now - timedelta(minutes=5))


def _day(ctx: _Context, days: int) -> date:
    return ctx.today + timedelta(days=days)


# --- contracts ------------------------------------------------------------------------------------

def _source(ctx: _Context, owner: User) -> tuple[Customer, Opportunity | None, list[ContractLine]]:
    """A won opportunity of the owner not turned into an order (its customer and lines), else one
    of the owner's customers (or anyone's, in a tiny demo) with a few products."""
    session = ctx.session
    won = session.scalar(select(Opportunity).where(
        Opportunity.owner_id == owner.id, Opportunity.outcome == Outcome.WON, Opportunity.order_id.is_(None),
        Opportunity.customer_id.not_in(ctx.used)).order_by(Opportunity.id).limit(1))
    if won is not None and won.lines:
        ctx.used.add(won.customer_id)
        lines = [ContractLine(product_id=line.product_id, quantity=line.quantity, unit_price=line.unit_price,
                              discount_rate=line.discount_rate) for line in won.lines]
        return session.get(Customer, won.customer_id), won, lines
    live = (Customer.deleted_at.is_(None), Customer.owner_id.is_not(None), Customer.id.not_in(ctx.used))
    customer = (session.scalar(select(Customer).where(*live, Customer.owner_id == owner.id).order_by(Customer.id)
                               .offset(3).limit(1))
                or session.scalar(select(Customer).where(*live).order_by(Customer.id).limit(1)))
    ctx.used.add(customer.id)
    lines = []
    for product in ctx.rng.sample(ctx.catalogue, min(3, len(ctx.catalogue))):
        price = orders.default_price(session, product.id, ctx.level_id) or Decimal("100")
        lines.append(ContractLine(product_id=product.id, quantity=ctx.rng.choice([20, 50, 100, 200]),
                                  unit_price=price, discount_rate=ctx.rng.choice([P("1"), P("0.95"), P("0.9")])))
    return customer, None, lines


def _event(ctx: _Context, contract: Contract, action: ContractAction, at: datetime, actor: User | None, *,
           from_state: str | None = None, to_state: str | None = None, note: str | None = None) -> None:
    ctx.session.add(ContractEvent(contract_id=contract.id, action=action, from_state=from_state, to_state=to_state,
                                  actor_id=actor.id if actor else None, note=note, at=at))


def _new_contract(ctx: _Context, deal: Deal, *, customer: Customer, opportunity: Opportunity | None,
                  lines: list[ContractLine], number: str | None = None, revision: int = 1,
                  previous: Contract | None = None) -> Contract:
    session, owner = ctx.session, ctx.users[deal.owner]
    signed = _day(ctx, -deal.signed_ago)
    created = _at(ctx, signed - timedelta(days=2 if deal.signed_ago > 3 else 0), 9)
    totals = orders.price_lines(lines, ctx.rate)
    contact = session.scalar(select(Contact).where(Contact.customer_id == customer.id).order_by(
        Contact.is_primary.desc(), Contact.id).limit(1))
    contract = Contract(
        number=number or numbering.next_number(session, *CONTRACT_NUMBERS, today=local_date(created, TZ)),
        revision=revision, title=deal.title, customer_id=customer.id, contact_id=contact.id if contact else None,
        opportunity_id=opportunity.id if opportunity else None, owner_id=owner.id,
        department_id=owner.department_id, status=ContractStatus.DRAFT, signed_on=signed, start_on=signed,
        end_on=signed + timedelta(days=365), remind_days=30, price_level_id=ctx.level_id, tax_rate=ctx.rate,
        gross=totals.gross, discount=totals.discount, total=totals.total, amount_ex_tax=totals.amount_ex_tax,
        tax=totals.tax, our_signatory_id=owner.id, their_signatory=contact.name if contact else None, terms=TERMS,
        custom={}, previous_id=previous.id if previous else None, created_by_id=owner.id, created_at=created,
        updated_at=created, lines=lines)
    session.add(contract)
    session.flush()
    _event(ctx, contract, ContractAction.REVISE if previous else ContractAction.CREATE, created, owner,
           to_state=ContractStatus.DRAFT, note=str(previous) if previous else None)
    return contract


def _contract(ctx: _Context, deal: Deal) -> Contract:
    customer, opportunity, lines = _source(ctx, ctx.users[deal.owner])
    contract = _new_contract(ctx, deal, customer=customer, opportunity=opportunity, lines=lines)
    _title(ctx, customer)
    _advance(ctx, contract, deal)
    return contract


def _advance(ctx: _Context, contract: Contract, deal: Deal) -> None:
    """Submit, approve and execute the contract as far as the deal says, then its money."""
    owner = ctx.users[deal.owner]
    if deal.status is ContractStatus.DRAFT and not deal.rejected:
        return
    submitted = contract.created_at + timedelta(hours=3)
    approvers = _contract_approvers(ctx, owner)
    outcome = {ContractStatus.APPROVING: None, ContractStatus.DRAFT: "reject"}.get(deal.status, "approve")
    decided = _approval(ctx, "contract", contract.id, title=f"合同 {contract}：{contract.title}",
                        amount=contract.total, submitter=owner, owner=owner, submitted=submitted,
                        steps=approvers, outcome=outcome, reason=deal.rejected)
    _event(ctx, contract, ContractAction.SUBMIT, submitted, owner, from_state=ContractStatus.DRAFT,
           to_state=ContractStatus.APPROVING)
    contract.submitted_at = submitted
    if outcome is None:
        contract.status = ContractStatus.APPROVING
        return
    if outcome == "reject":
        _event(ctx, contract, ContractAction.REJECT, decided, approvers[0][2][0], from_state=ContractStatus.APPROVING,
               to_state=ContractStatus.DRAFT, note=deal.rejected)
        return
    contract.status, contract.approved_at = ContractStatus.ACTIVE, decided
    _event(ctx, contract, ContractAction.APPROVE, decided, approvers[-1][2][0], from_state=ContractStatus.APPROVING,
           to_state=ContractStatus.ACTIVE)
    plans = _plan(ctx, contract, deal)
    for plan, due in zip(plans, deal.plan):
        for paid in due.paid:
            _receipt(ctx, contract, plan, paid, base=plan.amount, due_on=plan.due_on)
    for paid in deal.direct:
        _receipt(ctx, contract, None, paid, base=contract.total, due_on=contract.signed_on)
    _settle(ctx, contract, plans)
    for index, (state, share) in enumerate(deal.invoices):
        _invoice(ctx, contract, state, share, requested_on=contract.signed_on + timedelta(days=2 + 9 * index))
    _settle(ctx, contract, plans)
    if deal.status is ContractStatus.COMPLETED:
        done = _at(ctx, max(p.due_on for p in plans) + timedelta(days=10), 16)
        contract.status, contract.completed_at = ContractStatus.COMPLETED, done
        _event(ctx, contract, ContractAction.COMPLETE, done, owner, from_state=ContractStatus.ACTIVE,
               to_state=ContractStatus.COMPLETED)
    elif deal.status is ContractStatus.VOID:
        voided = _at(ctx, _day(ctx, -deal.signed_ago + 1), 15)
        contract.status, contract.voided_at, contract.void_reason = ContractStatus.VOID, voided, VOID_REASON
        _event(ctx, contract, ContractAction.VOID, voided, ctx.users.get("lizg") or owner,
               from_state=ContractStatus.ACTIVE, to_state=ContractStatus.VOID, note=VOID_REASON)


def _revise(ctx: _Context, voided: Contract, deal: Deal) -> Contract:
    """新版本: same number, the next revision, the lines with smaller quantities."""
    lines = [ContractLine(product_id=line.product_id, quantity=max(1, line.quantity * 4 // 5),
                          unit_price=line.unit_price, discount_rate=line.discount_rate) for line in voided.lines]
    contract = _new_contract(ctx, deal, customer=voided.customer, opportunity=voided.opportunity, lines=lines,
                             number=voided.number, revision=voided.revision + 1, previous=voided)
    _advance(ctx, contract, deal)
    return contract


def _contract_approvers(ctx: _Context, owner: User) -> list[tuple[str, StepKind, list[User]]]:
    """上级 then 部门负责人, as the default flow resolves them for the demo staff: the owner's
    superior, then the superior's own (the manager of the department above)."""
    first = owner.superior or ctx.users["zhangzong"]
    second = first.superior or ctx.users["zhangzong"]
    return [("上级审批", StepKind.SUPERIOR, [first]), ("部门负责人审批", StepKind.DEPT_MANAGER, [second])]


def _finance_step(ctx: _Context, name: str) -> list[tuple[str, StepKind, list[User]]]:
    return [(name, StepKind.ROLE, [ctx.finance])]


# --- approvals ------------------------------------------------------------------------------------

def _approval(ctx: _Context, doc_type: str, doc_id: int, *, title: str, amount: Decimal, submitter: User,
              owner: User, submitted: datetime, steps: list[tuple[str, StepKind, list[User]]],
              outcome: str | None, reason: str | None = None) -> datetime:
    """A request as the approvals mechanism leaves it: `outcome` None (still at its first step),
    "approve" (every step passed) or "reject" (sent back at the first step). Returns when it was
    decided (or submitted, when pending)."""
    session = ctx.session
    request = ApprovalRequest(
        doc_type=doc_type, doc_id=doc_id, title=title[:200], amount=amount, submitter_id=submitter.id,
        owner_id=owner.id, status=ApprovalStatus.PENDING, step_index=0,
        steps=[{"name": name, "kind": str(kind), "mode": str(StepMode.ANY), "allow_self": False}
               for name, kind, _users in steps],
        open_key=f"{doc_type}:{doc_id}", submitted_at=submitted)
    session.add(request)
    session.flush()
    session.add(ApprovalEvent(request_id=request.id, action=ApprovalAction.SUBMIT, step_index=0,
                              actor_id=submitter.id, at=submitted))
    at = submitted
    for index, (_name, _kind, approvers) in enumerate(steps):
        for approver in approvers:
            task = ApprovalTask(request_id=request.id, step_index=index, approver_id=approver.id,
                                status=TaskStatus.WAITING if index == 0 else TaskStatus.QUEUED)
            session.add(task)
            if outcome is None or (outcome == "reject" and index > 0):
                if outcome == "reject":
                    task.status = TaskStatus.SKIPPED
                continue
            at = min(at + timedelta(hours=ctx.rng.randint(1, 20)), ctx.now - timedelta(minutes=10))
            approve = outcome == "approve"
            task.status = TaskStatus.APPROVED if approve else TaskStatus.REJECTED
            task.decided_at, task.comment = at, None if approve else reason
            session.add(ApprovalEvent(request_id=request.id,
                                      action=ApprovalAction.APPROVE if approve else ApprovalAction.REJECT,
                                      step_index=index, actor_id=approver.id, note=task.comment, at=at))
    if outcome is not None:
        request.status = ApprovalStatus.APPROVED if outcome == "approve" else ApprovalStatus.REJECTED
        request.step_index = len(steps) - 1 if outcome == "approve" else 0
        request.open_key, request.decided_at = None, at
    return at


# --- instalments and receipts ---------------------------------------------------------------------

def _plan(ctx: _Context, contract: Contract, deal: Deal) -> list[PaymentPlan]:
    """The instalments add up to the total exactly: the last takes the rounding."""
    plans, left = [], contract.total
    for period, due in enumerate(deal.plan, start=1):
        amount = left if period == len(deal.plan) else orders.money(contract.total * due.share)
        left -= amount
        plans.append(PaymentPlan(contract_id=contract.id, customer_id=contract.customer_id, owner_id=contract.owner_id,
                                 period=period, due_on=_day(ctx, due.days), amount=amount, remind_days=3,
                                 status=PlanStatus.PENDING, note=f"第{period}期", custom={},
                                 created_by_id=contract.owner_id, created_at=contract.approved_at,
                                 updated_at=contract.approved_at))
    ctx.session.add_all(plans)
    ctx.session.flush()
    return plans


def _receipt(ctx: _Context, contract: Contract, plan: PaymentPlan | None, paid: Paid, *, base: Decimal,
             due_on: date) -> Payment:
    owner = contract.owner
    paid_on = min(due_on + timedelta(days=paid.days_after_due), ctx.today)
    entered = _at(ctx, paid_on, 14)
    amount = orders.money(base * paid.share) - paid.write_off
    payment = Payment(contract_id=contract.id, plan_id=plan.id if plan else None, customer_id=contract.customer_id,
                      owner_id=owner.id, kind=PaymentKind.RECEIPT, amount=amount, paid_on=paid_on,
                      method=paid.method, write_off=paid.write_off,
                      note="尾差抹零" if paid.write_off else None, custom={},
                      status=PaymentStatus.PENDING, recorded_by_id=owner.id, created_at=entered, updated_at=entered)
    ctx.session.add(payment)
    ctx.session.flush()
    label = f"回款 {contract}" + (f" 第{plan.period}期" if plan else "")
    decided = _approval(ctx, "receipt", payment.id, title=label, amount=amount, submitter=owner, owner=owner,
                        submitted=entered, steps=_finance_step(ctx, "财务确认"),
                        outcome=None if paid.pending else "approve")
    if not paid.pending:
        payment.status, payment.approved_by_id, payment.approved_at = PaymentStatus.APPROVED, ctx.finance.id, decided
    return payment


def _settle(ctx: _Context, contract: Contract, plans: list[PaymentPlan]) -> None:
    """已收 / 抹零 / 已开票 and each instalment's status, from the rows, as the rules recompute them."""
    session = ctx.session
    session.flush()
    approved = (Payment.contract_id == contract.id, Payment.status == PaymentStatus.APPROVED,
                Payment.kind == PaymentKind.RECEIPT)
    contract.received = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(*approved))
    contract.written_off = session.scalar(select(func.coalesce(func.sum(Payment.write_off), 0)).where(*approved))
    contract.invoiced = session.scalar(select(func.coalesce(func.sum(Invoice.amount), 0)).where(
        Invoice.contract_id == contract.id, Invoice.status == InvoiceStatus.ISSUED))
    for plan in plans:
        plan.received = session.scalar(select(func.coalesce(func.sum(Payment.amount + Payment.write_off), 0)).where(
            Payment.plan_id == plan.id, Payment.status == PaymentStatus.APPROVED, Payment.kind == PaymentKind.RECEIPT))
        plan.status = plan_status(plan.amount, plan.received, plan.due_on, ctx.today)


def plan_status(amount: Decimal, received: Decimal, due_on: date, today: date) -> PlanStatus:
    """What the instalment shows today: 已回款 once covered, else 逾期 past its due date, else
    部分回款 or 待回款."""
    if received >= amount:
        return PlanStatus.PAID
    if due_on < today:
        return PlanStatus.OVERDUE
    return PlanStatus.PARTIAL if received > 0 else PlanStatus.PENDING


# --- invoice titles and invoices ------------------------------------------------------------------

_CREDIT_CODE = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 统一社会信用代码 characters (no I O S V Z)


def _title(ctx: _Context, customer: Customer) -> InvoiceTitle:
    existing = ctx.session.scalar(select(InvoiceTitle).where(InvoiceTitle.customer_id == customer.id,
                                                             InvoiceTitle.is_default.is_(True)))
    if existing is not None:
        return existing
    rng = ctx.rng
    if customer.kind == "person":
        title = InvoiceTitle(customer_id=customer.id, kind=TitleKind.PERSONAL, name=customer.name, is_default=True)
    else:
        title = InvoiceTitle(customer_id=customer.id, kind=TitleKind.COMPANY, name=customer.name,
                             tax_no="91" + "".join(rng.choice(_CREDIT_CODE) for _ in range(16)),
                             bank=rng.choice(["中国工商银行", "招商银行", "中国建设银行"]) + f"{customer.city or '上海'}分行",
                             account="".join(rng.choice("0123456789") for _ in range(19)),
                             address=customer.address, phone=customer.phone or customer.mobile, is_default=True)
        if rng.random() < 0.5:  # a second 抬头: the customer's branch office invoices separately
            ctx.session.add(InvoiceTitle(customer_id=customer.id, kind=TitleKind.COMPANY,
                                         name=f"{customer.name}（分公司）",
                                         tax_no="91" + "".join(rng.choice(_CREDIT_CODE) for _ in range(16)),
                                         address=customer.address, is_default=False))
    ctx.session.add(title)
    ctx.session.flush()
    return title


def _invoice_event(ctx: _Context, invoice: Invoice, action: InvoiceAction, at: datetime, actor: User, *,
                   from_state: str | None, to_state: str, note: str | None = None) -> None:
    ctx.session.add(InvoiceEvent(invoice_id=invoice.id, action=action, from_state=from_state, to_state=to_state,
                                 actor_id=actor.id, note=note, at=at))


def _invoice(ctx: _Context, contract: Contract, state: str, share: Decimal, *, requested_on: date) -> Invoice:
    """An invoice request of `share` of the contract, taken as far as `state`: requested,
    approving, approved (待开票), issued, or reversed (issued, then 红冲 by a negative invoice)."""
    session, owner, finance = ctx.session, contract.owner, ctx.finance
    title = _title(ctx, contract.customer)
    requested = _at(ctx, min(requested_on, ctx.today), 11)
    amount = orders.money(contract.total * share)
    kind = InvoiceType.SPECIAL if title.kind == TitleKind.COMPANY else InvoiceType.ELECTRONIC
    invoice = _new_invoice(ctx, contract, title, kind, amount, requested)
    _invoice_event(ctx, invoice, InvoiceAction.CREATE, requested, owner, from_state=None,
                   to_state=InvoiceStatus.REQUESTED)
    if state == "requested":
        return invoice
    submitted = requested + timedelta(minutes=30)
    pending = state == "approving"
    decided = _approval(ctx, "invoice", invoice.id, title=f"开票申请 {invoice.number}（合同 {contract}）",
                        amount=amount, submitter=owner, owner=owner, submitted=submitted,
                        steps=_finance_step(ctx, "财务审核"), outcome=None if pending else "approve")
    _invoice_event(ctx, invoice, InvoiceAction.SUBMIT, submitted, owner, from_state=InvoiceStatus.REQUESTED,
                   to_state=InvoiceStatus.APPROVING)
    invoice.status = InvoiceStatus.APPROVING
    if pending:
        return invoice
    invoice.status = InvoiceStatus.APPROVED
    _invoice_event(ctx, invoice, InvoiceAction.APPROVE, decided, finance, from_state=InvoiceStatus.APPROVING,
                   to_state=InvoiceStatus.APPROVED)
    if state == "approved":
        return invoice
    issued = min(decided + timedelta(days=1), ctx.now - timedelta(minutes=5))
    _issue(ctx, invoice, issued)
    if state == "reversed":
        reversed_at = min(issued + timedelta(days=3), ctx.now - timedelta(minutes=5))
        red = _new_invoice(ctx, contract, title, kind, -amount, reversed_at, reverses=invoice)
        _invoice_event(ctx, red, InvoiceAction.REVERSE, reversed_at, finance, from_state=None,
                       to_state=InvoiceStatus.ISSUED, note=REVERSE_REASON)
        _issue(ctx, red, reversed_at, event=False)
    return invoice


def _new_invoice(ctx: _Context, contract: Contract, title: InvoiceTitle, kind: InvoiceType, amount: Decimal,
                 at: datetime, *, reverses: Invoice | None = None) -> Invoice:
    ex_tax, tax = orders.split_tax(amount, contract.tax_rate)
    invoice = Invoice(
        number=numbering.next_number(ctx.session, *INVOICE_NUMBERS, today=local_date(at, TZ)),
        customer_id=contract.customer_id, contract_id=contract.id, owner_id=contract.owner_id, title_id=title.id,
        title_kind=title.kind, title_name=title.name, tax_no=title.tax_no, bank=title.bank, account=title.account,
        address=title.address, phone=title.phone, invoice_type=kind, tax_rate=contract.tax_rate, amount=amount,
        amount_ex_tax=ex_tax, tax=tax, status=InvoiceStatus.REQUESTED, reverses_id=reverses.id if reverses else None,
        notes=REVERSE_REASON if reverses else None, custom={},
        requested_by_id=ctx.finance.id if reverses else contract.owner_id, created_at=at, updated_at=at)
    ctx.session.add(invoice)
    ctx.session.flush()
    return invoice


def _issue(ctx: _Context, invoice: Invoice, at: datetime, *, event: bool = True) -> None:
    invoice.status, invoice.issued_on, invoice.issued_by_id = InvoiceStatus.ISSUED, local_date(at, TZ), ctx.finance.id
    invoice.invoice_no = "".join(ctx.rng.choice("0123456789") for _ in range(8 if invoice.invoice_type
                                                                             == InvoiceType.SPECIAL else 20))
    if invoice.invoice_type == InvoiceType.SPECIAL and invoice.amount > 0:
        invoice.carrier, invoice.tracking_no = "顺丰速运", f"SF{ctx.rng.randint(10**11, 10**12 - 1)}"
    if event:
        _invoice_event(ctx, invoice, InvoiceAction.ISSUE, at, ctx.finance, from_state=InvoiceStatus.APPROVED,
                       to_state=InvoiceStatus.ISSUED, note=invoice.invoice_no)
