"""工作请示 / 申请: a general request, a leave, a business trip or an expense claim, written by
the submitter (draft), then approved through rules/approvals.py with the flow the administrator
set for its kind (审批流程: 工作请示 / 请假申请 / 出差申请 / 报销申请).

    draft ─submit→ pending ─approved→ approved
                           ─rejected→ rejected  ─(changed) submit→ pending
                           ─withdrawn→ withdrawn ─(changed) submit→ pending

Leave days count working days (Monday to Friday; the company's holidays are not known here, so
a leave across 国庆 counts its weekdays); a trip counts calendar days. Both start and end on a
half day (上午 / 下午). A person's leave may not overlap another of their leave requests that is
pending or approved. Nothing here commits."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from models.approval import ApprovalAction, ApprovalDocType, ApprovalFlow, ApprovalStep, StepKind, StepMode
from models.dictionary import DictItem, DictKind
from models.office_request import DayHalf, OfficeRequest, RequestKind, RequestState
from models.org import Role, User
from rules import approval_flows, approvals, audit, normalize, numbering, scope, versions
from rules.actor import Actor
from rules.clock import local_date
from rules.errors import ChangedMeanwhile, InvalidValue, PermissionDenied, RuleViolation
from rules.links import ListKind, RecordLink

KIND_LABELS = {
    RequestKind.GENERAL.value: _l("工作请示"),
    RequestKind.LEAVE.value: _l("请假"),
    RequestKind.TRIP.value: _l("出差"),
    RequestKind.EXPENSE.value: _l("报销"),
}
STATE_LABELS = {
    RequestState.DRAFT.value: _l("草稿"),
    RequestState.PENDING.value: _l("审批中"),
    RequestState.APPROVED.value: _l("已通过"),
    RequestState.REJECTED.value: _l("已驳回"),
    RequestState.WITHDRAWN.value: _l("已撤回"),
}
HALF_LABELS = {DayHalf.AM.value: _l("上午"), DayHalf.PM.value: _l("下午")}
DOC_TYPES = {
    RequestKind.GENERAL: ApprovalDocType.OFFICE_GENERAL,
    RequestKind.LEAVE: ApprovalDocType.OFFICE_LEAVE,
    RequestKind.TRIP: ApprovalDocType.OFFICE_TRIP,
    RequestKind.EXPENSE: ApprovalDocType.OFFICE_EXPENSE,
}
KIND_OF_DOC = {doc.value: kind for kind, doc in DOC_TYPES.items()}
EDITABLE = (RequestState.DRAFT, RequestState.REJECTED, RequestState.WITHDRAWN)
HOLDS_TIME = (RequestState.PENDING, RequestState.APPROVED)  # a leave in these keeps its days
NUMBER_PATTERN = "SQ{yyyy}{seq:05d}"
# Working hours of a half day, local time: where a leave's instants start and end.
HALF_HOURS = {DayHalf.AM: (time(9), time(12)), DayHalf.PM: (time(13), time(18))}
MAX_SPAN_DAYS = 366
MAX_LINES = 50
MAX_AMOUNT = Decimal("99999999.99")


class RequestRefused(RuleViolation):
    """The request cannot move from its state, or not by this actor."""


class LeaveOverlaps(RequestRefused):
    """The person already has a pending or approved leave over part of this time."""


@dataclass
class ExpenseLine:
    day: str = ""
    category: str = ""
    amount: str = ""
    note: str = ""

    def blank(self) -> bool:
        return not any(normalize.text(v) for v in (self.day, self.category, self.amount, self.note))


@dataclass
class RequestInput:
    """A request's form as typed (strings; rules parse them)."""

    title: str = ""
    content: str = ""
    leave_type_id: Any = None
    start_day: str = ""
    start_half: str = DayHalf.AM.value
    end_day: str = ""
    end_half: str = DayHalf.PM.value
    destination: str = ""
    lines: list[ExpenseLine] = field(default_factory=list)


def doc_type(kind: str) -> ApprovalDocType:
    return DOC_TYPES[RequestKind(kind)]


# --- days ---------------------------------------------------------------------------------------

def parse_day(text: str, what: Any) -> date:
    raw = normalize.text(text or "")
    if not raw:
        raise InvalidValue(_l("请填写%(w)s", w=what))
    try:
        return date.fromisoformat(raw.replace("/", "-"))
    except ValueError:
        raise InvalidValue(_l("%(w)s“%(v)s”不是有效的日期（例如 2026-11-24）", w=what, v=raw)) from None


def _half(raw: str) -> DayHalf:
    try:
        return DayHalf(raw or DayHalf.AM.value)
    except ValueError:
        raise InvalidValue(_l("请选择上午或下午")) from None


def span_days(kind: RequestKind, start: date, start_half: DayHalf, end: date, end_half: DayHalf) -> Decimal:
    """How many days a leave (working days, Monday to Friday) or a trip (calendar days) takes,
    in half days: 周一上午 to 周一下午 is 1, 周一下午 to 周二上午 is 1, 周五下午 to 周一上午 is 1 for a
    leave and 3 for a trip."""
    if (end, end_half == DayHalf.PM) < (start, start_half == DayHalf.PM):
        raise InvalidValue(_l("结束时间不能早于开始时间"))
    if (end - start).days >= MAX_SPAN_DAYS:
        raise InvalidValue(_l("一次申请不能超过 %(n)d 天，请分开申请", n=MAX_SPAN_DAYS))

    def counted(day: date) -> bool:
        return kind is not RequestKind.LEAVE or day.weekday() < 5

    halves = 0
    day = start
    while day <= end:
        if counted(day):
            first = DayHalf.PM if day == start and start_half == DayHalf.PM else DayHalf.AM
            last = DayHalf.AM if day == end and end_half == DayHalf.AM else DayHalf.PM
            halves += 2 if (first, last) == (DayHalf.AM, DayHalf.PM) else 1
        day += timedelta(days=1)
    if halves == 0:
        raise InvalidValue(_l("所选时间都在周末，不需要请假"))
    return Decimal(halves) / 2


def instants(start: date, start_half: DayHalf, end: date, end_half: DayHalf, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants a half-day span covers (for overlap checks and calendars)."""
    zone = ZoneInfo(tz)
    begins = datetime.combine(start, HALF_HOURS[start_half][0], tzinfo=zone)
    ends = datetime.combine(end, HALF_HOURS[end_half][1], tzinfo=zone)
    return begins.astimezone(timezone.utc), ends.astimezone(timezone.utc)


def period_text(req: OfficeRequest) -> str:
    if req.start_day is None or req.end_day is None:
        return ""
    return str(_l("%(a)s %(ah)s 至 %(b)s %(bh)s", a=req.start_day.isoformat(),
                  ah=HALF_LABELS.get(req.start_half, ""), b=req.end_day.isoformat(),
                  bh=HALF_LABELS.get(req.end_half, "")))


def days_text(days: Decimal | None) -> str:
    if days is None:
        return ""
    return f"{days.normalize():f}"


# --- the form's values ------------------------------------------------------------------------------

def _money(raw: str, what: Any) -> Decimal:
    text = normalize.text(raw or "").replace(",", "").replace("¥", "").replace("，", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidValue(_l("%(w)s的金额“%(v)s”不是有效的数字", w=what, v=raw)) from None
    if not value.is_finite() or value <= 0:
        raise InvalidValue(_l("%(w)s的金额必须大于 0", w=what))
    if value != value.quantize(Decimal("0.01")) or value > MAX_AMOUNT:
        raise InvalidValue(_l("%(w)s的金额“%(v)s”最多两位小数、不超过一亿元", w=what, v=raw))
    return value


def _expense_lines(lines: list[ExpenseLine], today: date) -> tuple[list[dict[str, str]], Decimal]:
    filled = [(n, line) for n, line in enumerate(lines, start=1) if not line.blank()]
    if not filled:
        raise InvalidValue(_l("请至少填写一条费用明细"))
    if len(filled) > MAX_LINES:
        raise InvalidValue(_l("费用明细不能超过 %(n)d 条", n=MAX_LINES))
    kept, total = [], Decimal(0)
    for n, line in filled:
        what = _l("第%(n)d条明细", n=n)
        day = parse_day(line.day, _l("%(w)s的日期", w=what))
        if day > today:
            raise InvalidValue(_l("%(w)s的日期不能晚于今天", w=what))
        category = normalize.text(line.category)[:32]
        if not category:
            raise InvalidValue(_l("请填写%(w)s的费用类别", w=what))
        amount = _money(line.amount, what)
        total += amount
        kept.append({"date": day.isoformat(), "category": category, "amount": f"{amount:.2f}",
                     "note": normalize.text(line.note)[:200]})
    if total > MAX_AMOUNT:
        raise InvalidValue(_l("报销总额不能超过一亿元"))
    return kept, total


def _leave_type(session: Session, raw: Any) -> DictItem:
    try:
        ident = int(str(raw or "").strip())
    except ValueError:
        ident = 0
    item = session.get(DictItem, ident) if ident else None
    if item is None or item.kind != DictKind.LEAVE_TYPE.value or not item.active:
        raise InvalidValue(_l("请选择请假类型"))
    return item


def _fill(session: Session, req: OfficeRequest, kind: RequestKind, data: RequestInput, *, tz: str,
          today: date) -> None:
    """Check the typed values for the request's kind and put them on it (nothing kept on refusal)."""
    title = normalize.text(data.title)[:200]
    content = (data.content or "").strip()[:5000]
    req.leave_type_id = req.start_day = req.start_half = req.end_day = req.end_half = None
    req.starts_at = req.ends_at = req.days = req.destination = req.amount = None
    req.lines = []
    if kind is RequestKind.GENERAL:
        if not title:
            raise InvalidValue(_l("请填写请示标题"))
        if not content:
            raise InvalidValue(_l("请填写请示内容"))
    if kind is RequestKind.LEAVE:
        req.leave_type_id = _leave_type(session, data.leave_type_id).id
    if kind in (RequestKind.LEAVE, RequestKind.TRIP):
        start, end = parse_day(data.start_day, _l("开始日期")), parse_day(data.end_day, _l("结束日期"))
        start_half, end_half = _half(data.start_half), _half(data.end_half)
        req.days = span_days(kind, start, start_half, end, end_half)
        req.start_day, req.start_half, req.end_day, req.end_half = start, start_half.value, end, end_half.value
        req.starts_at, req.ends_at = instants(start, start_half, end, end_half, tz)
    if kind is RequestKind.TRIP:
        req.destination = normalize.text(data.destination)[:200]
        if not req.destination:
            raise InvalidValue(_l("请填写出差地点"))
        if not content:
            raise InvalidValue(_l("请填写出差事由"))
    if kind is RequestKind.EXPENSE:
        req.lines, req.amount = _expense_lines(data.lines, today)
    req.content = content or None
    req.title = title or _default_title(session, req, kind)


def _default_title(session: Session, req: OfficeRequest, kind: RequestKind) -> str:
    if kind is RequestKind.LEAVE:
        name = session.get(DictItem, req.leave_type_id).name
        return str(_l("%(t)s %(d)s 天", t=name, d=days_text(req.days)))
    if kind is RequestKind.TRIP:
        return str(_l("出差%(p)s %(d)s 天", p=req.destination, d=days_text(req.days)))
    return str(_l("报销 ¥%(a)s", a=f"{req.amount:,.2f}"))


# --- writing ----------------------------------------------------------------------------------------

def create(session: Session, kind: str, data: RequestInput, *, actor: Actor, now: datetime,
           tz: str) -> OfficeRequest:
    """A new request of the actor's, as a draft (submit() sends it for approval)."""
    try:
        kind = RequestKind(kind)
    except ValueError:
        raise InvalidValue(_l("申请类型不正确")) from None
    today = local_date(now, tz)
    submitter = session.get(User, actor.user_id)
    req = OfficeRequest(kind=kind.value, status=RequestState.DRAFT.value, submitter_id=submitter.id,
                        department_id=submitter.department_id, lines=[])
    _fill(session, req, kind, data, tz=tz, today=today)
    req.number = numbering.next_number(session, "office_request", NUMBER_PATTERN, today=today)
    session.add(req)
    session.flush()
    return req


def may_edit(req: OfficeRequest, actor: Actor) -> bool:
    return req.submitter_id == actor.user_id and req.status in EDITABLE


def update_draft(session: Session, req: OfficeRequest, data: RequestInput, *, actor: Actor, now: datetime,
                 tz: str, seen_version: Any = None) -> OfficeRequest:
    """Change a draft, or a rejected or withdrawn request before submitting it again. The form
    carries the version it was opened with: a save over a newer one is refused."""
    if seen_version is not None and str(seen_version) != str(req.version):
        raise ChangedMeanwhile(versions.GENERIC)
    if req.submitter_id != actor.user_id:
        raise PermissionDenied(_l("只有申请人可以修改申请"))
    if req.status not in EDITABLE:
        raise RequestRefused(_l("申请 %(n)s 当前为“%(s)s”，不能修改", n=req.number, s=STATE_LABELS[req.status]))
    _fill(session, req, RequestKind(req.kind), data, tz=tz, today=local_date(now, tz))
    session.flush()
    return req


def overlapping(session: Session, req: OfficeRequest) -> OfficeRequest | None:
    """Another pending or approved leave of the same person over part of this one's time."""
    return session.scalar(select(OfficeRequest).where(
        OfficeRequest.submitter_id == req.submitter_id, OfficeRequest.kind == RequestKind.LEAVE.value,
        OfficeRequest.id != req.id, OfficeRequest.status.in_([s.value for s in HOLDS_TIME]),
        OfficeRequest.starts_at < req.ends_at, OfficeRequest.ends_at > req.starts_at)
        .order_by(OfficeRequest.starts_at).limit(1))


def submit(session: Session, request_id: int, *, actor: Actor, now: datetime) -> OfficeRequest:
    """提交审批. With the kind's flow switched off (or an expense below its threshold) the
    request is approved at once: the administrator decided it needs nobody's approval."""
    req = session.get(OfficeRequest, int(request_id))
    if req is None:
        raise InvalidValue(_l("申请不存在"))
    if req.submitter_id != actor.user_id:
        raise PermissionDenied(_l("只有申请人可以提交申请"))
    if req.kind == RequestKind.LEAVE.value:
        # One person's submissions queue here, so two overlapping leaves sent at the same instant
        # cannot both pass the check below (PostgreSQL row lock; SQLite serialises writers).
        session.execute(select(User.id).where(User.id == req.submitter_id).with_for_update())
        clash = overlapping(session, req)
        if clash is not None:
            raise LeaveOverlaps(_l("%(p)s 与已有的请假申请 %(n)s（%(q)s，%(s)s）时间重叠，请调整请假时间",
                                   p=period_text(req), n=clash.number, q=period_text(clash),
                                   s=STATE_LABELS[clash.status]))
    _move(session, req, EDITABLE, RequestState.PENDING, actor=actor, submitted_at=now, decided_at=None)
    kind = doc_type(req.kind)
    figure = req.amount if req.kind == RequestKind.EXPENSE.value else None
    if approvals.requires_approval(session, kind, figure=figure):
        approvals.submit(session, kind, req.id, actor=actor, now=now)
    else:
        _move(session, req, (RequestState.PENDING,), RequestState.APPROVED, actor=actor, decided_at=now)
    session.refresh(req)
    return req


def _move(session: Session, req: OfficeRequest, sources: tuple[RequestState, ...], target: RequestState, *,
          actor: Actor, **values: Any) -> None:
    """One guarded UPDATE (WHERE id = ? AND status IN the states the move starts from), and its
    audit row (a Core UPDATE passes the ORM's audit hook by)."""
    before = req.status
    moved = session.execute(update(OfficeRequest)
                            .where(OfficeRequest.id == req.id,
                                   OfficeRequest.status.in_([s.value for s in sources]))
                            .values(status=target.value, version=OfficeRequest.version + 1, **values)
                            .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        session.refresh(req)
        raise RequestRefused(_l("申请 %(n)s 当前为“%(s)s”，不能%(a)s", n=req.number,
                                s=STATE_LABELS.get(req.status, req.status), a=MOVE_LABELS[target]))
    ctx = session.info.get(audit.INFO_KEY) or audit.AuditContext(actor.user_id, actor.display_name)
    audit.record(session, ctx=ctx, action="update", entity=OfficeRequest.__name__, entity_id=str(req.id),
                 details={"status": [str(before), target.value]})
    session.refresh(req)


MOVE_LABELS = {RequestState.PENDING: _l("提交审批"), RequestState.APPROVED: _l("通过"),
               RequestState.REJECTED: _l("驳回"), RequestState.WITHDRAWN: _l("撤回")}


# --- the approvals plug-in -----------------------------------------------------------------------------

def _load(session: Session, doc_id: int) -> OfficeRequest | None:
    return session.get(OfficeRequest, doc_id)


def summary_text(req: OfficeRequest) -> str:
    """What an approver reads in 我的审批 without opening the request."""
    kind = RequestKind(req.kind)
    name = req.submitter.display_name if req.submitter else ""
    if kind is RequestKind.LEAVE:
        return str(_l("%(who)s 请假：%(t)s，%(p)s，共 %(d)s 天", who=name,
                      t=req.leave_type.name if req.leave_type else "", p=period_text(req), d=days_text(req.days)))
    if kind is RequestKind.TRIP:
        return str(_l("%(who)s 出差：%(w)s，%(p)s，共 %(d)s 天", who=name, w=req.destination or "",
                      p=period_text(req), d=days_text(req.days)))
    if kind is RequestKind.EXPENSE:
        return str(_l("%(who)s 报销：%(t)s，%(n)d 项费用", who=name, t=req.title, n=len(req.lines or [])))
    return str(_l("%(who)s 工作请示：%(t)s", who=name, t=req.title))


def _summary(req: OfficeRequest) -> tuple[str, Decimal | None, int | None, bool]:
    return summary_text(req), req.amount, req.submitter_id, False


def _link(req: OfficeRequest) -> RecordLink:
    return RecordLink(ListKind.OFFICE_REQUEST, req.id)


def on_approved(session: Session, req: OfficeRequest, *, actor: Actor, now: datetime) -> None:
    _move(session, req, (RequestState.PENDING,), RequestState.APPROVED, actor=actor, decided_at=now)


def on_returned(session: Session, req: OfficeRequest, *, actor: Actor, now: datetime, action: Any,
                reason: str | None = None) -> None:
    target = RequestState.WITHDRAWN if str(action) == ApprovalAction.WITHDRAW.value else RequestState.REJECTED
    _move(session, req, (RequestState.PENDING,), target, actor=actor, decided_at=now)


def register() -> None:
    for doc in DOC_TYPES.values():
        approvals.register(approvals.DocumentHooks(doc, _load, _summary, _link, on_approved, on_returned))


register()


# --- reading ----------------------------------------------------------------------------------------

def listed(actor: Actor, *, mine: bool, kind: str | None = None, status: str | None = None) -> Select:
    """我的申请 (mine) or every request the actor may see (a manager's team, what they approve),
    newest first."""
    stmt = select(OfficeRequest)
    if mine:
        stmt = stmt.where(OfficeRequest.submitter_id == actor.user_id)
    else:
        stmt = scope.scoped(stmt, OfficeRequest, actor)
    if kind in KIND_LABELS:
        stmt = stmt.where(OfficeRequest.kind == kind)
    if status in STATE_LABELS:
        stmt = stmt.where(OfficeRequest.status == status)
    return stmt.order_by(OfficeRequest.id.desc())


def as_input(req: OfficeRequest) -> RequestInput:
    """The stored request as the form shows it for changing."""
    lines = [ExpenseLine(day=x.get("date", ""), category=x.get("category", ""), amount=x.get("amount", ""),
                         note=x.get("note", "")) for x in (req.lines or [])]
    return RequestInput(title=req.title or "", content=req.content or "",
                        leave_type_id=str(req.leave_type_id or ""),
                        start_day=req.start_day.isoformat() if req.start_day else "",
                        start_half=req.start_half or DayHalf.AM.value,
                        end_day=req.end_day.isoformat() if req.end_day else "",
                        end_half=req.end_half or DayHalf.PM.value, destination=req.destination or "", lines=lines)


# --- setup --------------------------------------------------------------------------------------------

def ensure_default_flows(session: Session) -> list[ApprovalFlow]:
    """工作请示审核规则 a new (or upgraded) installation starts with, for the kinds without a flow:
    every kind goes to the submitter's 上级; a leave then to the 部门负责人 (when the superior is
    that manager, the second step passes by itself); an expense then to 财务."""
    have = set(session.scalars(select(ApprovalFlow.doc_type)))
    finance = session.scalar(select(Role.id).where(Role.name == approval_flows.FINANCE_ROLE))

    def superior() -> ApprovalStep:
        return ApprovalStep(position=0, name="上级审批", kind=StepKind.SUPERIOR.value, levels=1,
                            mode=StepMode.ANY.value, user_ids=[], allow_self=False)

    defaults = {
        RequestKind.GENERAL: ("工作请示审批", [superior()]),
        RequestKind.LEAVE: ("请假审批", [superior(), ApprovalStep(
            position=1, name="部门负责人审批", kind=StepKind.DEPT_MANAGER.value, levels=1, mode=StepMode.ANY.value,
            user_ids=[], allow_self=False)]),
        RequestKind.TRIP: ("出差审批", [superior()]),
        RequestKind.EXPENSE: ("报销审批", [superior()] + ([ApprovalStep(
            position=1, name="财务审核", kind=StepKind.ROLE.value, role_id=finance, levels=1, mode=StepMode.ANY.value,
            user_ids=[], allow_self=False)] if finance is not None else [])),
    }
    made = []
    for kind, (name, steps) in defaults.items():
        if DOC_TYPES[kind].value in have:
            continue
        flow = ApprovalFlow(doc_type=DOC_TYPES[kind].value, name=name, enabled=True, threshold=None, steps=steps)
        session.add(flow)
        made.append(flow)
    session.flush()
    return made
