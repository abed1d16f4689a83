"""回款计划: the instalments (期次) a customer pays a contract 执行中 or a receivable order in.

One rule for the money: the live instalments of a document add up to its total, to the cent,
or the plan is refused with the difference (还差 ¥1,234.50 / 多出 ¥…). Money already booked on
an instalment (approved receipts and 抹零, and receipts still waiting for approval) stays
where it is: such an instalment cannot be removed or lowered below it.

An instalment's `received` and status follow its receipts (`recompute`, called by
rules/payments.py after every receipt decision); 逾期 is set by the daily job (`mark_overdue`)
and by any recompute that knows today's date. Every status change is a guarded UPDATE plus a
PaymentPlanEvent; a new plan takes the document's row first (contract/order version), so two
people saving a plan at once get one winner."""
from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, case, cast, func, insert, literal, select, update
from sqlalchemy.orm import Session, joinedload

from models.contract import Contract, ContractStatus
from models.office import Notification, NotificationKind
from models.org import User
from models.payment_plan import PaymentPlan, PaymentPlanEvent, PlanAction, PlanStatus
from models.sales import Order, Payment, PaymentKind, PaymentStatus
from rules import clock, custom_fields, normalize, notifications, receivables, scope
from rules.actor import Actor
from rules.errors import InvalidValue, OutOfScope, PermissionDenied, RuleViolation
from rules.links import ListKind, RecordLink

ZERO = Decimal("0")
CENT = Decimal("0.01")
P = PlanStatus
LIVE = (P.PENDING.value, P.PARTIAL.value, P.OVERDUE.value, P.PAID.value)
UNPAID = (P.PENDING.value, P.PARTIAL.value, P.OVERDUE.value)
MAX_INSTALMENTS = 120
MAX_REMIND_DAYS = 60
DEFAULT_REMIND_DAYS = 3

STATUS_LABELS = {P.PENDING.value: _l("待回款"), P.PARTIAL.value: _l("部分回款"), P.PAID.value: _l("已回款"),
                 P.OVERDUE.value: _l("逾期"), P.VOID.value: _l("已作废")}
STATUS_CSS = {P.PENDING.value: "secondary", P.PARTIAL.value: "info", P.PAID.value: "success",
              P.OVERDUE.value: "danger", P.VOID.value: "light"}
ACTION_LABELS = {PlanAction.SET.value: _l("制定"), PlanAction.CHANGE.value: _l("调整"),
                 PlanAction.REMOVE.value: _l("删除"), PlanAction.RECEIVE.value: _l("回款"),
                 PlanAction.OVERDUE.value: _l("逾期"), PlanAction.VOID.value: _l("作废"),
                 PlanAction.ASSIGN.value: _l("转移")}
# Who may set a plan: those who register receipts, and those who make contracts/orders.
PLAN_PERMISSIONS = ("payment.record", "contract.create", "order.create")


class PlanRefused(RuleViolation):
    """A plan that does not add up, touches booked money, or is on the wrong document."""


def yuan(value: Decimal) -> str:
    """¥1,234.50, as every page shows money."""
    amount = Decimal(value).quantize(CENT)
    return f"{'-' if amount < 0 else ''}¥{abs(amount):,.2f}"


# --- what a plan is on ---------------------------------------------------------------------------

def _doc_clause(contract_id: int | None, order_id: int | None) -> Any:
    if (contract_id is None) == (order_id is None):
        raise ValueError("a plan is on exactly one contract or one order")
    return PaymentPlan.contract_id == contract_id if contract_id is not None else PaymentPlan.order_id == order_id


def plan_total(doc: Contract | Order) -> Decimal:
    """What the instalments add up to: the contract's amount, or what the order's customer keeps
    (订单金额 net of returns, rules/receivables.py)."""
    return (doc.total or ZERO) if isinstance(doc, Contract) else receivables.kept_amount(doc)


def plannable_refusal(doc: Contract | Order) -> PlanRefused | None:
    """Why this document takes no plan now, or None."""
    if isinstance(doc, Contract):
        if doc.deleted_at is not None or doc.status != ContractStatus.ACTIVE:
            return PlanRefused(_l("合同%(n)s不在执行中，不能制定回款计划（审批通过后才能制定）", n=doc.number))
        return None
    if doc.contract_id is not None:
        return PlanRefused(_l("订单%(n)s由合同生成，其回款计入合同，请在合同上制定回款计划", n=doc.number))
    if doc.state not in receivables.RECEIVABLE_STATES:
        return PlanRefused(_l("订单%(n)s尚未审核或已取消，审核后才能制定回款计划", n=doc.number))
    return None


def may_plan(actor: Actor) -> bool:
    return actor.can_any(PLAN_PERMISSIONS)


def load_doc(session: Session, *, contract_id: Any = None, order_id: Any = None, actor: Actor) -> Contract | Order:
    """The contract or order the actor sees (OutOfScope otherwise: the page answers 404)."""
    if contract_id is not None:
        return scope.get_in_scope(session, Contract, contract_id, actor)
    return scope.get_in_scope(session, Order, order_id, actor)


def _claim(session: Session, doc: Contract | Order, seen: int | None) -> None:
    """Take the document's row at the version the editor was opened on (`seen`; None: as loaded
    now) for this change: of two plans saved from the same page only the first lands, and the
    other is told to reload instead of silently overwriting it."""
    model = type(doc)
    expected = doc.version if seen is None else seen
    taken = session.execute(update(model).where(model.id == doc.id, model.version == expected)
                            .values(version=model.version + 1).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise PlanRefused(_l("%(n)s刚被其他人修改过，请刷新页面后重新制定回款计划", n=doc.number))
    session.refresh(doc)


# --- money booked on instalments ------------------------------------------------------------------

def _booked(session: Session, plan_ids: Iterable[int], statuses: tuple[str, ...]) -> dict[int, Decimal]:
    ids = list(plan_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Payment.plan_id, func.coalesce(func.sum(Payment.amount + Payment.write_off), 0))
        .where(Payment.plan_id.in_(ids), Payment.kind == PaymentKind.RECEIPT, Payment.status.in_(statuses))
        .group_by(Payment.plan_id))
    return {plan_id: Decimal(total) for plan_id, total in rows}


def booked(session: Session, plan_ids: Iterable[int]) -> dict[int, Decimal]:
    """Per instalment: approved and pending receipts with their 抹零 (what the plan must keep)."""
    return _booked(session, plan_ids, (PaymentStatus.APPROVED.value, PaymentStatus.PENDING.value))


def room(session: Session, plan: PaymentPlan) -> Decimal:
    """What may still be booked on the instalment: its amount less approved and pending
    receipts and 抹零; nothing on a void one."""
    if plan.status == P.VOID:
        return ZERO
    return max(plan.amount - booked(session, [plan.id]).get(plan.id, ZERO), ZERO)


# --- status ---------------------------------------------------------------------------------------

def status_for(amount: Decimal, received: Decimal, due_on: date, *, today: date | None,
               was: str | None = None) -> str:
    """待回款 / 部分回款 / 已回款 / 逾期. Without `today` an instalment already 逾期 stays so until
    paid (the daily job marks new ones)."""
    if received >= amount:
        return P.PAID.value
    late = due_on < today if today is not None else was == P.OVERDUE
    if late:
        return P.OVERDUE.value
    return P.PARTIAL.value if received > 0 else P.PENDING.value


def _event(session: Session, plan_id: int, action: PlanAction, *, before: str | None, after: str | None,
           actor_id: int | None, now: datetime, note: str | None = None) -> None:
    session.add(PaymentPlanEvent(plan_id=plan_id, action=action.value, from_status=before, to_status=after,
                                 actor_id=actor_id, note=(note or None) and note[:255], at=now))


def recompute(session: Session, plan_id: int, *, today: date | None = None, actor_id: int | None = None,
              now: datetime | None = None) -> PaymentPlan | None:
    """Recount the instalment's `received` (approved receipts + 抹零 against it; refunds are
    booked on the contract, not an instalment) and its status, in one guarded UPDATE (the
    status it was read in); a status change writes an event."""
    now = now or clock.now()
    approved = _booked(session, [plan_id], (PaymentStatus.APPROVED.value,)).get(plan_id, ZERO)
    for _attempt in range(3):
        row = session.execute(select(PaymentPlan.status, PaymentPlan.amount, PaymentPlan.due_on, PaymentPlan.received)
                              .where(PaymentPlan.id == plan_id)).one_or_none()
        if row is None:
            return None
        before, amount, due_on, received = row
        if before == P.VOID:
            after = P.VOID.value
        else:
            after = status_for(amount, approved, due_on, today=today, was=before)
        if after == before and received == approved:
            break
        done = session.execute(update(PaymentPlan).where(PaymentPlan.id == plan_id, PaymentPlan.status == before)
                               .values(received=approved, status=after, version=PaymentPlan.version + 1)
                               .execution_options(synchronize_session=False)).rowcount
        if done == 1:
            if after != before:
                _event(session, plan_id, PlanAction.RECEIVE, before=before, after=after, actor_id=actor_id, now=now,
                       note=str(_l("已收 %(r)s / %(a)s", r=yuan(approved), a=yuan(amount))))
            break
    session.flush()
    plan = session.get(PaymentPlan, plan_id)
    if plan is not None:
        session.refresh(plan)
    return plan


# --- the plan of a document ------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (1月31日 + 1个月 = 2月28/29日)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split_equally(total: Any, n: int, first_due: date, months_apart: int = 1,
                  remind_days: int = DEFAULT_REMIND_DAYS) -> list[dict[str, Any]]:
    """`n` instalments of equal amounts, to the cent; the cents that do not divide go to the
    last one, so they always add up to `total`."""
    value = _money(total, allow_zero=True)
    if not 1 <= int(n) <= MAX_INSTALMENTS:
        raise InvalidValue(_l("期数应在 1 到 %(m)d 之间", m=MAX_INSTALMENTS))
    n = int(n)
    share = (value / n).quantize(CENT, rounding=ROUND_DOWN)
    amounts = [share] * (n - 1) + [value - share * (n - 1)]
    return [{"period": i + 1, "due_on": add_months(first_due, i * int(months_apart)), "amount": amounts[i],
             "remind_days": remind_days, "note": None} for i in range(n)]


def _money(raw: Any, *, allow_zero: bool = False) -> Decimal:
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(normalize.text(str(raw)).replace(",", "").replace("¥", ""))
    except (InvalidOperation, ValueError):
        raise InvalidValue(_l("金额格式不正确：%(v)s", v=str(raw)[:20])) from None
    if not value.is_finite():
        raise InvalidValue(_l("金额格式不正确：%(v)s", v=str(raw)[:20]))
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidValue(_l("每期金额必须大于 0"))
    if value != value.quantize(CENT):
        raise InvalidValue(_l("金额最多保留两位小数"))
    return value


def _day(raw: Any, position: int) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(normalize.text(str(raw or "")))
    except ValueError:
        raise InvalidValue(_l("第%(p)d行的应收日期不正确，请填写如 2026-12-31 的日期", p=position)) from None


def _remind_days(raw: Any, position: int) -> int:
    if raw in (None, ""):
        return DEFAULT_REMIND_DAYS
    try:
        days = int(str(raw).strip())
    except ValueError:
        raise InvalidValue(_l("第%(p)d行的提前提醒天数应为整数", p=position)) from None
    if not 0 <= days <= MAX_REMIND_DAYS:
        raise InvalidValue(_l("提前提醒天数应在 0 到 %(m)d 天之间", m=MAX_REMIND_DAYS))
    return days


CUSTOM_ENTITY = "payment_plan"


def _custom(fields: list[Any], raw: Any, position: int) -> dict[str, Any] | None:
    """The row's custom-field values checked (自定义字段 of 回款计划); None: not given, keep."""
    if raw is None:
        return None
    values, errors = custom_fields.validate(fields, raw)
    if errors:
        raise InvalidValue(_l("第%(p)d行：%(e)s", p=position, e="；".join(errors.values())))
    return values


def _clean(instalments: list[dict[str, Any]], fields: list[Any]) -> list[dict[str, Any]]:
    if len(instalments) > MAX_INSTALMENTS:
        raise InvalidValue(_l("回款计划最多 %(m)d 期", m=MAX_INSTALMENTS))
    cleaned, seen = [], set()
    for position, item in enumerate(instalments, start=1):
        ident = item.get("id")
        if ident not in (None, ""):
            try:
                ident = int(ident)
            except (TypeError, ValueError):
                raise InvalidValue(_l("第%(p)d行无法识别", p=position)) from None
            if ident in seen:
                raise InvalidValue(_l("第%(p)d行重复", p=position))
            seen.add(ident)
        else:
            ident = None
        raw_custom = item.get("custom")
        if raw_custom is None and ident is None and fields:
            raw_custom = {}  # a new instalment: its required fields are checked too
        cleaned.append({"id": ident, "position": position, "due_on": _day(item.get("due_on"), position),
                        "amount": _money(item.get("amount")),
                        "remind_days": _remind_days(item.get("remind_days"), position),
                        "note": normalize.text(item.get("note"))[:255] or None,
                        "custom": _custom(fields, raw_custom, position)})
    # 期次 follow the due dates; rows on the same day keep the order they were given in.
    cleaned.sort(key=lambda c: (c["due_on"], c["position"]))
    return cleaned


def difference_refusal(total: Decimal, planned: Decimal, doc: Contract | Order) -> PlanRefused | None:
    what = _l("合同金额") if isinstance(doc, Contract) else _l("订单应收")
    if planned < total:
        return PlanRefused(_l("各期金额合计 %(s)s，与%(w)s %(t)s 相比还差 %(d)s",
                              s=yuan(planned), w=what, t=yuan(total), d=yuan(total - planned)))
    if planned > total:
        return PlanRefused(_l("各期金额合计 %(s)s，比%(w)s %(t)s 多出 %(d)s",
                              s=yuan(planned), w=what, t=yuan(total), d=yuan(planned - total)))
    return None


def set_plan(session: Session, *, contract_id: Any = None, order_id: Any = None,
             instalments: list[dict[str, Any]], actor: Actor, now: datetime, today: date | None = None,
             version: int | None = None) -> list[PaymentPlan]:
    """制定/调整回款计划: `instalments` is the whole plan (each: id of an existing instalment to
    keep it, due_on, amount, remind_days, note, and optionally custom: its 自定义字段 by key). Existing instalments not listed are removed;
    one with money booked on it cannot be, nor lowered below that money. The amounts add up to
    the document's total (or the plan is refused with the difference); an empty list clears an
    unpaid plan. 期次 are numbered by due date; removed instalments become 已作废. `version` is the
    document's version the editor showed: if the document changed since, the plan is refused."""
    if not may_plan(actor):
        raise PermissionDenied(_l("您没有制定回款计划的权限"))
    doc = load_doc(session, contract_id=contract_id, order_id=order_id, actor=actor)
    if isinstance(doc, Contract) and (write := scope.write_clause_for(Contract, actor)) is not None:
        if session.scalar(select(Contract.id).where(Contract.id == doc.id, write)) is None:
            raise PermissionDenied(_l("合同%(n)s不是您（或您的下属）负责的，不能制定回款计划", n=doc.number))
    if (refused := plannable_refusal(doc)) is not None:
        raise refused
    rows = _clean(instalments, custom_fields.definitions(session, CUSTOM_ENTITY))
    where = _doc_clause(doc.id if isinstance(doc, Contract) else None, doc.id if isinstance(doc, Order) else None)
    _claim(session, doc, version)
    existing = {p.id: p for p in session.scalars(select(PaymentPlan).where(where, PaymentPlan.status != P.VOID))}
    money = booked(session, existing)
    for row in rows:
        if row["id"] is not None and row["id"] not in existing:
            raise OutOfScope(_l("第%(p)d行的期次已不存在，请刷新页面", p=row["position"]))
    total = plan_total(doc)
    if rows and (refused := difference_refusal(total, sum((r["amount"] for r in rows), ZERO), doc)) is not None:
        raise refused
    kept = {r["id"] for r in rows if r["id"] is not None}
    for plan in sorted(existing.values(), key=lambda p: p.period):
        has = money.get(plan.id, ZERO)
        if plan.id not in kept and has > 0:
            raise PlanRefused(_l("第%(p)d期已有回款 %(m)s，不能删除", p=plan.period, m=yuan(has)))
    for row in rows:
        has = money.get(row["id"], ZERO) if row["id"] is not None else ZERO
        if row["amount"] < has:
            raise PlanRefused(_l("第%(p)d期已有回款 %(m)s，金额不能低于已回款", p=existing[row["id"]].period,
                                 m=yuan(has)))
    who = actor.user_id
    # Free the 期次 numbers first: renumbering in place would trip the unique (document, 期次).
    # A removed instalment is voided, not deleted: its history (and any rejected or withdrawn
    # receipt naming it) stays, under a 期次 no live instalment uses.
    for plan in existing.values():
        plan.period = -plan.id
        if plan.id not in kept:
            before = plan.status
            plan.status, plan.voided_at = P.VOID.value, now
            _event(session, plan.id, PlanAction.REMOVE, before=before, after=P.VOID.value, actor_id=who, now=now)
    session.flush()
    owner_id = doc.owner_id if isinstance(doc, Contract) else doc.salesperson_id
    result: list[PaymentPlan] = []
    for period, row in enumerate(rows, start=1):
        plan = existing.get(row["id"]) if row["id"] is not None else None
        if plan is None:
            plan = PaymentPlan(contract_id=doc.id if isinstance(doc, Contract) else None,
                               order_id=doc.id if isinstance(doc, Order) else None, customer_id=doc.customer_id,
                               owner_id=owner_id, period=period, due_on=row["due_on"], amount=row["amount"],
                               received=ZERO, remind_days=row["remind_days"], note=row["note"],
                               custom=row["custom"] or {}, status=P.PENDING.value, created_by_id=who)
            session.add(plan)
            session.flush()
            _event(session, plan.id, PlanAction.SET, before=None, after=P.PENDING.value, actor_id=who, now=now,
                   note=f"{row['due_on'].isoformat()} {yuan(row['amount'])}")
        else:
            changes = _changes(plan, row)
            plan.period, plan.due_on, plan.amount = period, row["due_on"], row["amount"]
            plan.remind_days, plan.note = row["remind_days"], row["note"]
            if row["custom"] is not None:
                plan.custom = row["custom"]
            if changes:
                _event(session, plan.id, PlanAction.CHANGE, before=plan.status, after=plan.status, actor_id=who,
                       now=now, note="；".join(changes))
        result.append(plan)
    session.flush()
    for plan in result:
        recompute(session, plan.id, today=today, actor_id=who, now=now)
    return result


def _changes(plan: PaymentPlan, row: dict[str, Any]) -> list[str]:
    found = []
    if plan.due_on != row["due_on"]:
        found.append(str(_l("应收日期 %(a)s → %(b)s", a=plan.due_on.isoformat(), b=row["due_on"].isoformat())))
    if plan.amount != row["amount"]:
        found.append(str(_l("金额 %(a)s → %(b)s", a=yuan(plan.amount), b=yuan(row["amount"]))))
    if plan.remind_days != row["remind_days"]:
        found.append(str(_l("提前提醒 %(a)d → %(b)d 天", a=plan.remind_days, b=row["remind_days"])))
    if (plan.note or None) != row["note"]:
        found.append(str(_l("备注已修改")))
    return found


def instalments_of(session: Session, *, contract_id: int | None = None, order_id: int | None = None,
                   with_void: bool = False) -> list[PaymentPlan]:
    stmt = select(PaymentPlan).where(_doc_clause(contract_id, order_id))
    if not with_void:
        stmt = stmt.where(PaymentPlan.status != P.VOID)
    return list(session.scalars(stmt.order_by(PaymentPlan.status == P.VOID, PaymentPlan.period, PaymentPlan.id)))


def history(session: Session, plans: list[PaymentPlan], *, limit: int = 50) -> list[PaymentPlanEvent]:
    """The newest changes of these instalments (回款计划记录), newest first."""
    if not plans:
        return []
    return list(session.scalars(select(PaymentPlanEvent).where(PaymentPlanEvent.plan_id.in_([p.id for p in plans]))
                                .options(joinedload(PaymentPlanEvent.actor))
                                .order_by(PaymentPlanEvent.id.desc()).limit(limit)))


def void(session: Session, plan_id: int | None = None, *, contract_id: int | None = None,
         order_id: int | None = None, actor: Actor | None = None, now: datetime | None = None,
         reason: str | None = None) -> int:
    """作废. With a document (its contract voided, its order cancelled or wholly returned): every
    instalment not fully paid is 已作废, what was received on it stays recorded. With `plan_id`:
    that one instalment, refused while money is booked on it (the document's plan then no longer
    adds up, and its page says by how much). Set-based guarded UPDATEs, one event each."""
    now = now or clock.now()
    if plan_id is not None:
        has = booked(session, [plan_id]).get(plan_id, ZERO)
        if has > 0:
            period = session.scalar(select(PaymentPlan.period).where(PaymentPlan.id == plan_id))
            raise PlanRefused(_l("第%(p)d期已有回款 %(m)s，不能作废", p=period or 0, m=yuan(has)))
        where = PaymentPlan.id == plan_id
    else:
        where = _doc_clause(contract_id, order_id)
    count = 0
    for before in UNPAID:
        ids = list(session.execute(
            update(PaymentPlan).where(where, PaymentPlan.status == before)
            .values(status=P.VOID.value, voided_at=now, version=PaymentPlan.version + 1)
            .returning(PaymentPlan.id).execution_options(synchronize_session=False)).scalars())
        if ids:
            session.execute(insert(PaymentPlanEvent), [
                {"plan_id": i, "action": PlanAction.VOID.value, "from_status": before, "to_status": P.VOID.value,
                 "actor_id": actor.user_id if actor else None, "note": (reason or None) and reason[:255], "at": now}
                for i in ids])
        count += len(ids)
    _expire_plans(session)
    return count


def follow_owner(session: Session, *, contract_id: int | None = None, order_id: int | None = None, owner_id: int,
                 actor: Actor | None = None, now: datetime | None = None) -> int:
    """转移: the instalments follow their contract's or order's new owner (lists and ageing by
    owner read payment_plans alone)."""
    now = now or clock.now()
    moved = session.execute(
        select(PaymentPlan.id, PaymentPlan.status, PaymentPlan.owner_id)
        .where(_doc_clause(contract_id, order_id), PaymentPlan.owner_id != owner_id)).all()
    if not moved:
        return 0
    session.execute(update(PaymentPlan).where(_doc_clause(contract_id, order_id), PaymentPlan.owner_id != owner_id)
                    .values(owner_id=owner_id, version=PaymentPlan.version + 1)
                    .execution_options(synchronize_session=False))
    names = dict(session.execute(select(User.id, User.display_name)
                                 .where(User.id.in_({o for _i, _s, o in moved} | {owner_id}))).all())
    session.execute(insert(PaymentPlanEvent), [
        {"plan_id": i, "action": PlanAction.ASSIGN.value, "from_status": s, "to_status": s,
         "actor_id": actor.user_id if actor else None,
         "note": f"{names.get(old, old)} → {names.get(owner_id, owner_id)}", "at": now} for i, s, old in moved])
    _expire_plans(session)
    return len(moved)


def _expire_plans(session: Session) -> None:
    """Set-based UPDATEs bypass the identity map: loaded instalments are read again."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, PaymentPlan):
            session.expire(obj)


# --- the daily job: 逾期 and reminders ---------------------------------------------------------------

def mark_overdue(session: Session, today: date, *, now: datetime | None = None) -> int:
    """Every instalment past its due date and not paid → 逾期 (set-based, guarded by the status
    it had; a second run the same day moves nothing), one event each, and the owner told once."""
    now = now or clock.now()
    marked: list[int] = []
    for before in (P.PENDING.value, P.PARTIAL.value):
        ids = list(session.execute(
            update(PaymentPlan).where(PaymentPlan.status == before, PaymentPlan.due_on < today)
            .values(status=P.OVERDUE.value, version=PaymentPlan.version + 1)
            .returning(PaymentPlan.id).execution_options(synchronize_session=False)).scalars())
        if ids:
            session.execute(insert(PaymentPlanEvent), [
                {"plan_id": i, "action": PlanAction.OVERDUE.value, "from_status": before,
                 "to_status": P.OVERDUE.value, "actor_id": None, "note": None, "at": now} for i in ids])
        marked += ids
    _expire_plans(session)
    return len(marked)


def _key_sql(prefix: str) -> Any:
    # The same text as _key(); both databases concatenate with || and print a date as ISO.
    return literal(prefix) + cast(PaymentPlan.id, String) + literal(":") + cast(PaymentPlan.due_on, String)


def _key(prefix: str, plan_id: int, due_on: date) -> str:
    return f"{prefix}{plan_id}:{due_on.isoformat()}"


DUE_KEY, OVERDUE_KEY = "plan_due:", "plan_overdue:"


def _unreminded(prefix: str) -> Any:
    return ~select(Notification.id).where(Notification.user_id == PaymentPlan.owner_id,
                                          Notification.dedupe_key == _key_sql(prefix)).exists()


def send_reminders(session: Session, today: date, *, now: datetime | None = None) -> int:
    """回款提醒 to each instalment's owner: once when it comes within its remind_days before the
    due date, once when it is 逾期. A dedupe key per instalment and due date: running twice
    sends nothing new; moving the due date reminds again."""
    now = now or clock.now()
    named = (joinedload(PaymentPlan.customer), joinedload(PaymentPlan.contract), joinedload(PaymentPlan.order))
    soon = session.execute(
        select(PaymentPlan).options(*named).join(User, User.id == PaymentPlan.owner_id)
        .where(PaymentPlan.status.in_((P.PENDING.value, P.PARTIAL.value)), PaymentPlan.due_on >= today,
               PaymentPlan.due_on <= today + timedelta(days=MAX_REMIND_DAYS), User.active.is_(True),
               _unreminded(DUE_KEY))).scalars().all()
    late = session.execute(
        select(PaymentPlan).options(*named).join(User, User.id == PaymentPlan.owner_id)
        .where(PaymentPlan.status == P.OVERDUE.value, User.active.is_(True), _unreminded(OVERDUE_KEY))).scalars().all()
    sent = 0
    for plan in soon:
        if plan.due_on - timedelta(days=plan.remind_days) > today:
            continue
        left = plan.amount - plan.received
        if notifications.notify(session, kind=NotificationKind.PAYMENT_DUE, user_id=plan.owner_id, now=now, dedupe_key=_key(DUE_KEY, plan.id, plan.due_on),
                                title=_l("回款提醒：%(d)s 第%(p)d期 %(m)s 将于 %(on)s 到期", d=_doc_name(plan),
                                         p=plan.period, m=yuan(left), on=plan.due_on.isoformat()),
                                link=RecordLink(ListKind.PAYMENT_PLAN, plan.id)):
            sent += 1
    for plan in late:
        left = plan.amount - plan.received
        if notifications.notify(session, kind=NotificationKind.PAYMENT_DUE, user_id=plan.owner_id, now=now,
                                dedupe_key=_key(OVERDUE_KEY, plan.id, plan.due_on),
                                title=_l("回款逾期：%(d)s 第%(p)d期 %(m)s 已于 %(on)s 到期未回款", d=_doc_name(plan),
                                         p=plan.period, m=yuan(left), on=plan.due_on.isoformat()),
                                link=RecordLink(ListKind.PAYMENT_PLAN, plan.id)):
            sent += 1
    return sent


def _doc_name(plan: PaymentPlan) -> str:
    doc = plan.contract if plan.contract_id else plan.order
    return f"{doc.number} {plan.customer.name}" if doc is not None else plan.customer.name


# --- lists ---------------------------------------------------------------------------------------

def week_of(today: date) -> tuple[date, date]:
    """本周: Monday to Sunday of `today`'s week."""
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def due_this_week_clause(today: date) -> Any:
    """本周应回款: instalments not yet paid whose due date falls in this week."""
    first, last = week_of(today)
    return and_(PaymentPlan.status.in_(UNPAID), PaymentPlan.due_on.between(first, last))


def overdue_clause() -> Any:
    return PaymentPlan.status == P.OVERDUE.value


def outstanding_sql() -> Any:
    """未回 of an instalment (nothing on a void one)."""
    return case((PaymentPlan.status == P.VOID.value, literal(0)), else_=PaymentPlan.amount - PaymentPlan.received)

