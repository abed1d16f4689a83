"""开票: a request to invoice a contract, an order or a customer, approved through
rules/approvals (doc type INVOICE), issued by finance with the tax office's number, posted, voided
before issue, or reversed (红冲) by a negative invoice (DESIGN §6):

    (request) → 申请 requested → 审批中 approving (submit; straight to 待开票 when no approval is
    needed) → 待开票 approved (the flow passed) → 已开票 issued (issue: 发票号码, 开票日期) → 寄出
    (send: carrier, 快递单号; the state stays); rejected or withdrawn → back to 申请;
    申请 / 审批中 / 待开票 → 已作废 void (reason); 已开票 → 红冲 (a new issued invoice of the
    opposite amount pointing at it, once).

Never more than the document allows: every live request (申请, 审批中, 待开票) and every issued
invoice (红冲 negative) of a contract adds up to at most its total, of an order to at most what it
is due (rules/receivables.due). The check runs while the contract (order) row is held by an
UPDATE, so two requests at the same instant are counted one after the other. An order produced
from a contract invoices the contract's money: its invoices carry the contract too and count
against both. contract.invoiced (issued net of 红冲) is recomputed after every change. Nothing
here commits."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.approval import ApprovalAction, ApprovalDocType
from models.contract import Contract, ContractStatus
from models.customer import Customer
from models.invoice import Invoice, InvoiceAction, InvoiceEvent, InvoiceStatus, InvoiceTitle, InvoiceType
from models.sales import Order, OrderStatus
from rules import invoice_titles, normalize, notifications, numbering, orders, receivables, scope, settings
from rules.actor import Actor
from rules.clock import local_date
from rules.errors import InvalidValue, PermissionDenied, RuleViolation
from rules.links import ListKind, RecordLink
from rules.orders import Transition

from rules import approvals

I = InvoiceStatus  # noqa: E741
A = InvoiceAction
NUMBER_SEQUENCE = "invoice"
CUSTOM_ENTITY = "invoice"
REQUEST, ISSUE = "invoice.create", "invoice.issue"
CENT = Decimal("0.01")
ZERO = Decimal("0")

DEFAULTS: dict[str, Any] = {"invoice_number_pattern": "KP{yyyy}{mm}{dd}{seq:04d}"}

STATE_LABELS = {I.REQUESTED.value: _l("申请"), I.APPROVING.value: _l("审批中"), I.APPROVED.value: _l("待开票"),
                I.ISSUED.value: _l("已开票"), I.VOID.value: _l("已作废")}
STATE_CSS = {I.REQUESTED.value: "secondary", I.APPROVING.value: "primary", I.APPROVED.value: "info",
             I.ISSUED.value: "success", I.VOID.value: "dark"}
TYPE_LABELS = {InvoiceType.SPECIAL.value: _l("增值税专用发票"), InvoiceType.NORMAL.value: _l("增值税普通发票"),
               InvoiceType.ELECTRONIC.value: _l("电子发票")}
EVENT_LABELS = {A.CREATE.value: _l("申请开票"), A.SUBMIT.value: _l("提交审批"), A.APPROVE.value: _l("审批通过"),
                A.REJECT.value: _l("审批驳回"), A.WITHDRAW.value: _l("撤回审批"), A.ISSUE.value: _l("开票"),
                A.SEND.value: _l("寄出"), A.VOID.value: _l("作废"), A.REVERSE.value: _l("红冲")}
# What still claims room on its document: everything but 已作废 (a 红冲 counts, negative).
COUNTING: tuple[str, ...] = (I.REQUESTED.value, I.APPROVING.value, I.APPROVED.value, I.ISSUED.value)
CONTRACT_STATES: tuple[str, ...] = (ContractStatus.ACTIVE.value, ContractStatus.COMPLETED.value)
ORDER_REFUSED_STATES: tuple[str, ...] = (OrderStatus.PENDING_REVIEW.value, OrderStatus.CANCELLED.value)

# States as data, as orders and quotes keep theirs; 提交审批's target is 待开票 when no approval is needed.
TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(_l("提交审批"), (I.REQUESTED,), I.APPROVING, (REQUEST,)),
    "issue": Transition(_l("开票"), (I.APPROVED,), I.ISSUED, (ISSUE,)),
    "void": Transition(_l("作废"), (I.REQUESTED, I.APPROVING, I.APPROVED), I.VOID, (REQUEST, ISSUE)),
}


class InvoiceRefused(RuleViolation):
    """The invoice is not in a state this move starts from (or someone moved it first)."""


class OverInvoiced(InvoiceRefused):
    """The request would invoice more than its contract or order allows."""


def setting(session: Session, key: str) -> Any:
    value = settings.get(session, key)
    return DEFAULTS[key] if value is None else value


def fmt(amount: Decimal) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


# --- parsing -------------------------------------------------------------------------------------

def parse_amount(value: Any) -> Decimal:
    try:
        amount = Decimal(normalize.text(value).replace(",", "").replace("¥", ""))
    except (InvalidOperation, ValueError):
        raise InvalidValue(_l("开票金额格式不正确")) from None
    if not amount.is_finite():
        raise InvalidValue(_l("开票金额格式不正确"))
    if amount <= 0:
        raise InvalidValue(_l("开票金额必须大于 0"))
    if amount != amount.quantize(CENT) or amount >= Decimal("1e12"):
        raise InvalidValue(_l("开票金额最多两位小数"))
    return amount


def parse_tax_rate(value: Any, session: Session) -> Decimal:
    if value in (None, ""):
        return orders.tax_rate(session)
    try:
        rate = Decimal(normalize.text(value).rstrip("%"))
    except (InvalidOperation, ValueError):
        raise InvalidValue(_l("税率格式不正确")) from None
    if not rate.is_finite():
        raise InvalidValue(_l("税率格式不正确"))
    if rate >= 1:  # typed as a percentage: 13 means 13%
        rate = rate / 100
    if not (0 <= rate < 1):
        raise InvalidValue(_l("税率应在 0 到 100% 之间"))
    return rate.quantize(Decimal("0.0001"))


def _invoice_type(value: Any) -> str:
    kind = normalize.text(value) or InvoiceType.NORMAL.value
    if kind not in TYPE_LABELS:
        raise InvalidValue(_l("请选择发票类型"))
    return kind


# --- room ------------------------------------------------------------------------------------------

def committed(session: Session, *, contract_id: int | None = None, order_id: int | None = None) -> Decimal:
    """申请中、审批中、待开票 and issued (net of 红冲) on a contract or an order."""
    column = Invoice.contract_id if contract_id is not None else Invoice.order_id
    ident = contract_id if contract_id is not None else order_id
    return Decimal(session.scalar(select(func.coalesce(func.sum(Invoice.amount), 0))
                                  .where(column == ident, Invoice.status.in_(COUNTING))) or 0)


def contract_room(session: Session, contract: Contract) -> Decimal:
    """Nothing before the contract is approved (草稿, 审批中) or once it is void: its page then
    offers no 申请开票 the rule would refuse."""
    if contract.status not in CONTRACT_STATES:
        return Decimal("0")
    return contract.total - committed(session, contract_id=contract.id)


def order_room(session: Session, order: Order) -> Decimal:
    return receivables.due(order) - committed(session, order_id=order.id)


def room(session: Session, *, contract: Contract | None = None, order: Order | None = None) -> Decimal | None:
    """What may still be requested: None for an invoice of the customer alone."""
    rooms = []
    if contract is not None:
        rooms.append(contract_room(session, contract))
    if order is not None:
        rooms.append(order_room(session, order))
    return min(rooms) if rooms else None


def _hold(session: Session, *, contract_id: int | None, order_id: int | None) -> None:
    """Take the document's row (a row lock on PostgreSQL, the write lock on SQLite) before
    counting: a second request waits, then counts the first."""
    if contract_id is not None:
        session.execute(update(Contract).where(Contract.id == contract_id).values(invoiced=Contract.invoiced)
                        .execution_options(synchronize_session=False))
    if order_id is not None:
        session.execute(update(Order).where(Order.id == order_id).values(refunded=Order.refunded)
                        .execution_options(synchronize_session=False))


def _check_room(session: Session, amount: Decimal, *, contract: Contract | None, order: Order | None) -> None:
    if contract is not None:
        used = committed(session, contract_id=contract.id)
        if amount > contract.total - used:
            raise OverInvoiced(_l("合同 %(n)s 可开票余额为 %(r)s（合同总额 %(t)s，已开票及申请中 %(u)s），"
                                  "本次申请 %(a)s 超出了余额", n=str(contract), r=fmt(max(contract.total - used, ZERO)),
                                  t=fmt(contract.total), u=fmt(used), a=fmt(amount)))
    if order is not None:
        used, due = committed(session, order_id=order.id), receivables.due(order)
        if amount > due - used:
            raise OverInvoiced(_l("订单 %(n)s 可开票余额为 %(r)s（订单应收 %(t)s，已开票及申请中 %(u)s），"
                                  "本次申请 %(a)s 超出了余额", n=order.number, r=fmt(max(due - used, ZERO)),
                                  t=fmt(due), u=fmt(used), a=fmt(amount)))


def recompute(session: Session, contract_id: int | None) -> None:
    """contract.invoiced = its issued invoices net of 红冲 (a set-based UPDATE, never typed in)."""
    if contract_id is None:
        return
    issued = (select(func.coalesce(func.sum(Invoice.amount), 0))
              .where(Invoice.contract_id == contract_id, Invoice.status == I.ISSUED).scalar_subquery())
    session.execute(update(Contract).where(Contract.id == contract_id).values(invoiced=issued)
                    .execution_options(synchronize_session=False))


# --- events ----------------------------------------------------------------------------------------

def _event(session: Session, invoice_id: int, action: str, *, from_state: str | None, to_state: str | None,
           actor: Actor | None, now: datetime, note: str | None = None) -> InvoiceEvent:
    event = InvoiceEvent(invoice_id=invoice_id, action=action, from_state=from_state, to_state=to_state,
                         actor_id=actor.user_id if actor else None, note=(note or None) and note[:255], at=now)
    session.add(event)
    session.flush()
    return event


# --- the request -----------------------------------------------------------------------------------

def _document(session: Session, *, customer_id: Any, contract_id: Any, order_id: Any,
              actor: Actor) -> tuple[Customer, Contract | None, Order | None, int]:
    """The customer, contract and order a request is for (each in the actor's scope), and the
    owner it is credited to."""
    contract = order = None
    if order_id not in (None, ""):
        order = scope.get_in_scope(session, Order, order_id, actor)
        if order.state in ORDER_REFUSED_STATES:
            raise InvoiceRefused(_l("订单 %(n)s 当前状态为“%(s)s”，审核后才能申请开票", n=order.number,
                                    s=orders.STATE_LABELS.get(order.state, order.state)))
        if order.contract_id is not None:
            contract = session.get(Contract, order.contract_id)
        owner_id = order.salesperson_id
    elif contract_id not in (None, ""):
        contract = scope.get_in_scope(session, Contract, contract_id, actor)
        owner_id = contract.owner_id
    if contract is not None and contract.status not in CONTRACT_STATES:
        raise InvoiceRefused(_l("合同 %(n)s 尚未生效（执行中或已完成的合同才能申请开票）", n=str(contract)))
    if order is None and contract is None:
        if customer_id in (None, ""):
            raise InvalidValue(_l("请选择客户、合同或订单"))
        customer = scope.get_in_scope(session, Customer, customer_id, actor)
        return customer, None, None, customer.owner_id or actor.user_id
    customer = session.get(Customer, (order or contract).customer_id)
    return customer, contract, order, owner_id


def _snapshot(invoice: Invoice, title: InvoiceTitle) -> None:
    invoice.title_id, invoice.title_kind, invoice.title_name = title.id, title.kind, title.name
    invoice.tax_no, invoice.bank, invoice.account = title.tax_no, title.bank, title.account
    invoice.address, invoice.phone = title.address, title.phone


def request(session: Session, *, actor: Actor, now: datetime, tz: str, title_id: Any, amount: Any,
            invoice_type: Any = None, tax_rate: Any = None, customer_id: Any = None, contract_id: Any = None,
            order_id: Any = None, notes: Any = None, custom: Mapping[str, Any] | None = None) -> Invoice:
    """申请开票: checks everything, holds the document, counts its room, numbers the request,
    snapshots the title, then submits it (审批中, or 待开票 when no approval is needed)."""
    if not actor.can(REQUEST):
        raise PermissionDenied(_l("您没有申请开票的权限"))
    customer, contract, order, owner_id = _document(session, customer_id=customer_id, contract_id=contract_id,
                                                    order_id=order_id, actor=actor)
    title = invoice_titles.usable(session, customer.id, title_id)
    kind = _invoice_type(invoice_type)
    invoice_titles.check_for_type(title, kind)
    value = parse_amount(amount)
    document = order or contract
    rate = parse_tax_rate(tax_rate if tax_rate not in (None, "") else (document.tax_rate if document else None),
                          session)
    _hold(session, contract_id=contract.id if contract else None, order_id=order.id if order else None)
    _check_room(session, value, contract=contract, order=order)
    ex_tax, tax = orders.split_tax(value, rate)
    invoice = Invoice(number=numbering.next_number(session, NUMBER_SEQUENCE, setting(session, "invoice_number_pattern"),
                                                   today=local_date(now, tz)),
                      customer_id=customer.id, contract_id=contract.id if contract else None,
                      order_id=order.id if order else None, owner_id=owner_id, invoice_type=kind, tax_rate=rate,
                      amount=value, amount_ex_tax=ex_tax, tax=tax, status=I.REQUESTED,
                      notes=normalize.one_line(notes) or None, custom=dict(custom or {}),
                      requested_by_id=actor.user_id)
    _snapshot(invoice, title)
    session.add(invoice)
    session.flush()
    _event(session, invoice.id, A.CREATE, from_state=None, to_state=I.REQUESTED, actor=actor, now=now,
           note=fmt(value))
    submit(session, invoice.id, actor=actor, now=now)
    return invoice


def needs_approval(session: Session, invoice: Invoice) -> bool:
    return approvals.requires_approval(session, ApprovalDocType.INVOICE, figure=invoice.amount)


def _moved(session: Session, invoice: Invoice, state: str, target: str, **values: Any) -> None:
    """One guarded UPDATE (WHERE id = ? AND status = the state it was read in)."""
    moved = session.execute(update(Invoice).where(Invoice.id == invoice.id, Invoice.status == state)
                            .values(status=target, version=Invoice.version + 1, **values)
                            .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise InvoiceRefused(_l("开票申请 %(n)s 刚刚已被他人处理，请刷新后再试", n=invoice.number))


def _state(session: Session, invoice: Invoice) -> str:
    return session.scalar(select(Invoice.status).where(Invoice.id == invoice.id))


def _refusal(invoice: Invoice, action: str, state: str) -> InvoiceRefused:
    rule = TRANSITIONS[action]
    allowed = "、".join(f"“{STATE_LABELS[s]}”" for s in rule.sources)
    return InvoiceRefused(_l("开票申请 %(n)s 当前状态为“%(s)s”，不能%(a)s：只有%(allowed)s的申请可以%(a)s",
                             n=invoice.number, s=STATE_LABELS.get(state, state), a=rule.label, allowed=allowed))


def _load_for(session: Session, invoice_id: Any, action: str, actor: Actor) -> tuple[Invoice, str]:
    rule = TRANSITIONS[action]
    if not rule.allows(actor):
        raise PermissionDenied(_l("您没有%(a)s的权限", a=rule.label))
    invoice = scope.get_in_scope(session, Invoice, invoice_id, actor)
    state = _state(session, invoice)
    if state not in rule.sources:
        raise _refusal(invoice, action, state)
    return invoice, state


def submit(session: Session, invoice_id: Any, *, actor: Actor, now: datetime) -> InvoiceEvent:
    """提交审批 (also again after a rejection or a withdrawal): 审批中 through the INVOICE flow,
    or straight to 待开票 when no flow applies."""
    invoice, state = _load_for(session, invoice_id, "submit", actor)
    if needs_approval(session, invoice):
        _moved(session, invoice, state, I.APPROVING)
        event = _event(session, invoice.id, A.SUBMIT, from_state=state, to_state=I.APPROVING, actor=actor, now=now)
        approvals.submit(session, ApprovalDocType.INVOICE, invoice.id, actor=actor, now=now)
    else:
        _moved(session, invoice, state, I.APPROVED)
        event = _event(session, invoice.id, A.SUBMIT, from_state=state, to_state=I.APPROVED, actor=actor, now=now,
                       note=str(_l("无需审批")))
    session.refresh(invoice)
    return event


def issue(session: Session, invoice_id: Any, *, invoice_no: Any, issued_on: date | None = None, actor: Actor,
          now: datetime, tz: str) -> InvoiceEvent:
    """开票: finance writes the tax office's 发票号码 and date; the contract's 已开票 follows."""
    invoice, state = _load_for(session, invoice_id, "issue", actor)
    number, day = _issue_values(session, invoice_no, issued_on, now=now, tz=tz, exclude=invoice.id)
    _moved(session, invoice, state, I.ISSUED, invoice_no=number, issued_on=day, issued_by_id=actor.user_id)
    event = _event(session, invoice.id, A.ISSUE, from_state=state, to_state=I.ISSUED, actor=actor, now=now,
                   note=number)
    recompute(session, invoice.contract_id)
    if invoice.requested_by_id and invoice.requested_by_id != actor.user_id:
        notifications.notify(session, user_id=invoice.requested_by_id, now=now,
                             title=_l("您申请的发票 %(n)s 已开具，发票号码 %(no)s", n=invoice.number, no=number),
                             link=RecordLink(ListKind.INVOICE, invoice.id), dedupe_key=f"invoice-issued:{invoice.id}")
    session.refresh(invoice)
    return event


def _issue_values(session: Session, invoice_no: Any, issued_on: date | None, *, now: datetime, tz: str,
                  exclude: int | None) -> tuple[str, date]:
    number = normalize.text(invoice_no).replace(" ", "")
    if not number:
        raise InvalidValue(_l("请填写发票号码（红冲时填写红字发票的号码）"))
    if len(number) > 64:
        raise InvalidValue(_l("发票号码太长（最多 64 位）"))
    today = local_date(now, tz)
    day = issued_on or today
    if day > today:
        raise InvalidValue(_l("开票日期不能晚于今天（%(d)s）", d=today.isoformat()))
    taken = session.scalar(select(Invoice.number).where(Invoice.invoice_no == number, Invoice.status != I.VOID,
                                                        Invoice.id != (exclude or 0)).limit(1))
    if taken:
        raise InvalidValue(_l("发票号码 %(no)s 已登记在开票申请 %(n)s 上，请核对", no=number, n=taken))
    return number, day


def send(session: Session, invoice_id: Any, *, carrier: Any, tracking_no: Any, actor: Actor,
         now: datetime) -> InvoiceEvent:
    """寄出: the paper invoice goes by courier (快递公司, 快递单号); the state stays 已开票."""
    if not actor.can(ISSUE):
        raise PermissionDenied(_l("您没有登记发票寄出的权限"))
    invoice = scope.get_in_scope(session, Invoice, invoice_id, actor)
    state = _state(session, invoice)
    if state != I.ISSUED:
        raise InvoiceRefused(_l("开票申请 %(n)s 当前状态为“%(s)s”，开票后才能寄出", n=invoice.number,
                                s=STATE_LABELS.get(state, state)))
    if invoice.invoice_type == InvoiceType.ELECTRONIC:
        raise InvoiceRefused(_l("电子发票无需寄出，请把发票文件发送给客户"))
    carrier_text, tracking = normalize.text(carrier), normalize.text(tracking_no).replace(" ", "")
    if not carrier_text or not tracking:
        raise InvalidValue(_l("请填写快递公司和快递单号"))
    if len(carrier_text) > 64 or len(tracking) > 64:
        raise InvalidValue(_l("快递公司或快递单号太长（最多 64 个字）"))
    moved = session.execute(update(Invoice).where(Invoice.id == invoice.id, Invoice.status == I.ISSUED)
                            .values(carrier=carrier_text, tracking_no=tracking, version=Invoice.version + 1)
                            .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise InvoiceRefused(_l("开票申请 %(n)s 刚刚已被他人处理，请刷新后再试", n=invoice.number))
    event = _event(session, invoice.id, A.SEND, from_state=I.ISSUED, to_state=I.ISSUED, actor=actor, now=now,
                   note=f"{carrier_text} {tracking}")
    session.refresh(invoice)
    return event


def void(session: Session, invoice_id: Any, *, reason: Any, actor: Actor, now: datetime) -> InvoiceEvent:
    """作废 before issue (an issued invoice is reversed instead); a pending approval ends with it
    and the room returns to the document."""
    invoice, state = _load_for(session, invoice_id, "void", actor)
    why = normalize.one_line(reason)
    if not why:
        raise InvalidValue(_l("请填写作废原因"))
    _moved(session, invoice, state, I.VOID, voided_at=now, void_reason=why[:255])
    event = _event(session, invoice.id, A.VOID, from_state=state, to_state=I.VOID, actor=actor, now=now, note=why)
    if state == I.APPROVING:
        approvals.cancel_for(session, ApprovalDocType.INVOICE, invoice.id, actor=actor, now=now, reason=why)
    session.refresh(invoice)
    return event


def reversal_of(session: Session, invoice_id: int) -> Invoice | None:
    return session.scalar(select(Invoice).where(Invoice.reverses_id == invoice_id))


def reverse(session: Session, invoice_id: Any, *, reason: Any, actor: Actor, now: datetime, tz: str,
            invoice_no: Any = None, issued_on: date | None = None) -> Invoice:
    """红冲: an issued invoice is cancelled by a negative one (issued at once, pointing back),
    once; the room returns to the contract or order."""
    if not actor.can(ISSUE):
        raise PermissionDenied(_l("您没有红冲发票的权限"))
    original = scope.get_in_scope(session, Invoice, invoice_id, actor)
    why = normalize.one_line(reason)
    if not why:
        raise InvalidValue(_l("请填写红冲原因"))
    if original.reverses_id is not None:
        raise InvoiceRefused(_l("%(n)s 本身是红字发票，不能再红冲", n=original.number))
    # Take the original's row first: a second 红冲 at the same instant waits here, then finds the first.
    held = session.execute(update(Invoice).where(Invoice.id == original.id, Invoice.status == I.ISSUED)
                           .values(version=Invoice.version + 1).execution_options(synchronize_session=False)).rowcount
    if held != 1:
        state = _state(session, original)
        raise InvoiceRefused(_l("开票申请 %(n)s 当前状态为“%(s)s”，只有已开票的发票可以红冲；未开票的申请请作废",
                                n=original.number, s=STATE_LABELS.get(state, state)))
    done = reversal_of(session, original.id)
    if done is not None:
        raise InvoiceRefused(_l("发票 %(n)s 已于 %(d)s 红冲（%(r)s）", n=original.number,
                                d=done.issued_on.isoformat() if done.issued_on else "", r=done.number))
    session.refresh(original)
    number, day = _issue_values(session, invoice_no, issued_on, now=now, tz=tz, exclude=None)
    red = Invoice(number=numbering.next_number(session, NUMBER_SEQUENCE, setting(session, "invoice_number_pattern"),
                                               today=local_date(now, tz)),
                  customer_id=original.customer_id, contract_id=original.contract_id, order_id=original.order_id,
                  owner_id=original.owner_id, title_id=original.title_id, title_kind=original.title_kind,
                  title_name=original.title_name, tax_no=original.tax_no, bank=original.bank,
                  account=original.account, address=original.address, phone=original.phone,
                  invoice_type=original.invoice_type, tax_rate=original.tax_rate, amount=-original.amount,
                  amount_ex_tax=-original.amount_ex_tax, tax=-original.tax, status=I.ISSUED, invoice_no=number,
                  issued_on=day, reverses_id=original.id, notes=why[:1000], custom={},
                  requested_by_id=actor.user_id, issued_by_id=actor.user_id)
    session.add(red)
    session.flush()
    _event(session, red.id, A.REVERSE, from_state=None, to_state=I.ISSUED, actor=actor, now=now,
           note=str(_l("红冲 %(n)s：%(r)s", n=original.number, r=why)))
    _event(session, original.id, A.REVERSE, from_state=I.ISSUED, to_state=I.ISSUED, actor=actor, now=now,
           note=str(_l("已由 %(n)s 红冲：%(r)s", n=red.number, r=why)))
    recompute(session, original.contract_id)
    return red


# --- the approvals plug-in (rules/approvals, doc type INVOICE) ---------------------------------------

def _load(session: Session, doc_id: int) -> Invoice | None:
    return session.get(Invoice, doc_id)


def _summary(invoice: Invoice) -> tuple[str, Decimal, int, bool]:
    title = str(_l("开票申请 %(n)s（%(t)s，%(c)s）", n=invoice.number, t=TYPE_LABELS[invoice.invoice_type],
                   c=invoice.title_name))
    return title, invoice.amount, invoice.owner_id, True


def _link(invoice: Invoice) -> str:
    return f"/admin/invoice/details/?id={invoice.id}"


def on_approved(session: Session, invoice: Invoice, *, actor: Actor, now: datetime) -> None:
    """The flow's last step passed: 待开票 (finance issues it)."""
    _moved(session, invoice, I.APPROVING, I.APPROVED)
    _event(session, invoice.id, A.APPROVE, from_state=I.APPROVING, to_state=I.APPROVED, actor=actor, now=now)


def on_returned(session: Session, invoice: Invoice, *, actor: Actor, now: datetime, action: Any,
                reason: str | None = None) -> None:
    """Rejected or withdrawn: back to 申请 (it still holds its room until voided or resubmitted)."""
    _moved(session, invoice, I.APPROVING, I.REQUESTED)
    kind = A.WITHDRAW if str(action) == ApprovalAction.WITHDRAW.value else A.REJECT
    _event(session, invoice.id, kind, from_state=I.APPROVING, to_state=I.REQUESTED, actor=actor, now=now,
           note=reason)


def register() -> None:
    approvals.register(approvals.DocumentHooks(ApprovalDocType.INVOICE, _load, _summary, _link, on_approved,
                                               on_returned))


register()


# --- what the pages offer ----------------------------------------------------------------------------

def allowed_moves(invoice: Invoice, actor: Actor) -> dict[str, bool]:
    """The buttons the invoice page offers: exactly what the rules above accept."""
    moves = {name: rule.allows(actor) and invoice.status in rule.sources for name, rule in TRANSITIONS.items()}
    moves["send"] = actor.can(ISSUE) and invoice.status == I.ISSUED and invoice.invoice_type != InvoiceType.ELECTRONIC
    moves["reverse"] = actor.can(ISSUE) and invoice.status == I.ISSUED and invoice.amount > 0 \
        and invoice.reverses_id is None
    return moves


def documents_where(kind: str, ident: int) -> Any:
    """The invoices of a contract or an order (an order of a contract shows its own)."""
    if kind == "contract":
        return Invoice.contract_id == ident
    return Invoice.order_id == ident


def reversed_ids(session: Session, ids: list[int]) -> set[int]:
    """Which of these invoices were reversed (a badge on lists)."""
    if not ids:
        return set()
    return set(session.scalars(select(Invoice.reverses_id).where(Invoice.reverses_id.in_(ids))))


def save_settings(session: Session, values: Mapping[str, Any]) -> None:
    pattern = normalize.text(values.get("invoice_number_pattern"))
    numbering.validate_pattern(pattern)
    settings.put(session, "invoice_number_pattern", pattern)

