"""工作日志: writing a daily / weekly / monthly log with the period's CRM figures, sending it to
one's superiors (and chosen colleagues), read receipts, leaders' comments (点评), search, and
who has not submitted a daily log.

Who may read a log is the data-scope rule `scope.work_log_clause` (the author is in the
reader's scope, or the log was sent to the reader). The figures come from the report that
shows them (`reports.salesperson_performance`), never from SQL of their own, so a log and the
业务员业绩报表 of the same days always agree. Functions here flush; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.office import NotificationKind
from models.org import Department, User
from models.work_log import WorkLog, WorkLogComment, WorkLogPeriod, WorkLogRecipient
from rules import notifications, reports, scope, settings, versions
from rules.actor import Actor
from rules.errors import DuplicateEntry, InvalidValue, NotEditable
from rules.links import ListKind, ListLink, RecordLink

PERIOD_LABELS: dict[WorkLogPeriod, Any] = {
    WorkLogPeriod.DAILY: _l("日报"), WorkLogPeriod.WEEKLY: _l("周报"), WorkLogPeriod.MONTHLY: _l("月报"),
}
# The figures a log carries, in the order shown, as the report's columns name them.
FIGURES: list[tuple[str, Any, str]] = [
    ("new_customers", _l("新增客户"), "int"), ("follow_ups", _l("跟进次数"), "int"),
    ("orders", _l("成交订单"), "int"), ("contracts", _l("成交合同"), "int"),
    ("amount", _l("销售额"), "money"), ("received", _l("实收"), "money"),
]
ROLES_SETTING = "work_log_roles"        # ids of the roles whose members must submit a daily log
HOUR_SETTING = "work_log_remind_hour"   # local hour after which those who have not are reminded
DEFAULT_HOUR = 18
MAX_TEXT = 5000
MAX_RECIPIENTS = 50
SUPERIOR_LEVELS = 2  # the default recipients: one's superior and theirs


def period_label(period: str) -> str:
    return str(PERIOD_LABELS.get(WorkLogPeriod(period), period))


def bounds(period: WorkLogPeriod | str, day: date) -> tuple[date, date]:
    """The local days of the period containing `day`: the day, its week (Monday to Sunday) or
    its month."""
    period = WorkLogPeriod(period)
    if period is WorkLogPeriod.DAILY:
        return day, day
    if period is WorkLogPeriod.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    first = day.replace(day=1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def period_name(log: WorkLog) -> str:
    """"2026-11-23 日报", "2026-11-23 ~ 2026-11-29 周报", "2026-11 月报"."""
    if log.period == WorkLogPeriod.MONTHLY:
        when = log.period_start.strftime("%Y-%m")
    elif log.period == WorkLogPeriod.WEEKLY:
        when = f"{log.period_start.isoformat()} ~ {log.period_end.isoformat()}"
    else:
        when = log.period_start.isoformat()
    return f"{when} {period_label(log.period)}"


# --- the figures -----------------------------------------------------------------------------

def figures(session: Session, author: User, start: date, end: date, *, tz: str) -> dict[str, Any]:
    """The author's numbers of those local days, as the 业务员业绩报表 shows them for the author
    alone: new customers, follow-ups, orders and contracts won, sales, money received. Money as
    text ("1234.50"), so the JSON keeps it exact."""
    actor = Actor.from_user(author, today=end)
    table = reports.salesperson_performance(
        session, actor, reports.Filters(start=start, end=end, tz=tz, salesperson_id=author.id))
    totals = table.totals or {}
    found: dict[str, Any] = {}
    for key, _label, kind in FIGURES:
        value = totals.get(key) or 0
        found[key] = str(Decimal(value).quantize(Decimal("0.01"))) if kind == "money" else int(value)
    return found


def figure_rows(values: dict[str, Any] | None) -> list[tuple[Any, str, Any]]:
    """(label, kind, value) for a page; a log saved before a figure existed shows 0."""
    values = values or {}
    return [(label, kind, Decimal(values.get(key) or 0) if kind == "money" else int(values.get(key) or 0))
            for key, label, kind in FIGURES]


# --- recipients ------------------------------------------------------------------------------

def default_recipients(session: Session, author_id: int) -> list[int]:
    """One's superior and their superior (active ones)."""
    chain: list[int] = []
    current = author_id
    for _ in range(SUPERIOR_LEVELS):
        row = session.execute(select(User.superior_id).where(User.id == current)).first()
        if row is None or row.superior_id is None or row.superior_id == author_id or row.superior_id in chain:
            break
        current = row.superior_id
        if session.scalar(select(User.active).where(User.id == current)):
            chain.append(current)
    return chain


def _recipient_ids(session: Session, author_id: int, chosen: list[int]) -> list[int]:
    wanted = list(dict.fromkeys([*default_recipients(session, author_id), *(int(i) for i in chosen)]))
    wanted = [i for i in wanted if i != author_id]
    if len(wanted) > MAX_RECIPIENTS:
        raise InvalidValue(_l("接收人最多 %(n)d 位", n=MAX_RECIPIENTS))
    if not wanted:
        return []
    known = set(session.scalars(select(User.id).where(User.id.in_(wanted), User.active.is_(True))))
    return [i for i in wanted if i in known]


def _set_recipients(session: Session, log: WorkLog, user_ids: list[int], *, now: datetime) -> list[int]:
    """Make the recipients `user_ids` (those who stay keep their read receipt); returns the new ones."""
    have = {r.user_id: r for r in log.recipients}
    for uid, row in have.items():
        if uid not in user_ids:
            log.recipients.remove(row)
    added = [uid for uid in user_ids if uid not in have]
    for uid in added:
        log.recipients.append(WorkLogRecipient(user_id=uid))
    return added


def _notify_recipients(session: Session, log: WorkLog, user_ids: list[int], *, author: User, now: datetime) -> None:
    for uid in user_ids:
        notifications.notify(session, user_id=uid, now=now, kind=NotificationKind.WORK_LOG,
                             title=_l("%(name)s 提交了%(period)s，请查阅", name=author.display_name,
                                      period=period_name(log)),
                             link=RecordLink(ListKind.WORK_LOG, log.id), dedupe_key=f"work_log:{log.id}")


# --- writing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Draft:
    """What the form says."""

    content: str
    plan: str = ""
    problems: str = ""
    recipient_ids: tuple[int, ...] = ()


def _check(draft: Draft) -> Draft:
    content, plan, problems = ((t or "").replace("\r\n", "\n").strip() for t in (draft.content, draft.plan,
                                                                                  draft.problems))
    if not content:
        raise InvalidValue(_l("请填写工作内容"))
    if max(len(content), len(plan), len(problems)) > MAX_TEXT:
        raise InvalidValue(_l("每一栏最多 %(n)d 个字", n=MAX_TEXT))
    return Draft(content, plan, problems, draft.recipient_ids)


def existing(session: Session, author_id: int, period: WorkLogPeriod | str, start: date) -> WorkLog | None:
    return session.scalar(select(WorkLog).where(WorkLog.author_id == author_id,
                                                WorkLog.period == WorkLogPeriod(period).value,
                                                WorkLog.period_start == start))


def submit(session: Session, actor: Actor, *, period: WorkLogPeriod | str, day: date, draft: Draft,
           now: datetime, tz: str) -> WorkLog:
    """Submit the actor's log of the period containing `day`: one per author, kind of period and
    period (a second one is refused, pointing to the first); the figures filled in; the
    superiors and chosen colleagues notified."""
    period = WorkLogPeriod(period)
    draft = _check(draft)
    start, end = bounds(period, day)
    if start > actor.today:
        raise InvalidValue(_l("不能提前填写以后的日志"))
    if existing(session, actor.user_id, period, start) is not None:
        raise DuplicateEntry(_l("%(p)s已经提交过了，请打开它修改", p=_period_text(period, start, end)))
    author = session.get(User, actor.user_id)
    log = WorkLog(author_id=actor.user_id, period=period.value, period_start=start, period_end=end,
                  content=draft.content, plan=draft.plan, problems=draft.problems, submitted_at=now,
                  created_at=now, updated_at=now, figures=figures(session, author, start, end, tz=tz))
    try:
        with session.begin_nested():  # two tabs submitting at once: the unique index decides
            session.add(log)
            session.flush()
    except IntegrityError:
        raise DuplicateEntry(_l("%(p)s已经提交过了，请打开它修改", p=_period_text(period, start, end))) from None
    added = _set_recipients(session, log, _recipient_ids(session, actor.user_id, list(draft.recipient_ids)), now=now)
    session.flush()
    _notify_recipients(session, log, added, author=author, now=now)
    return log


def _period_text(period: WorkLogPeriod, start: date, end: date) -> str:
    return period_name(WorkLog(period=period.value, period_start=start, period_end=end))


def edit(session: Session, actor: Actor, log: WorkLog, *, draft: Draft, version: Any, now: datetime,
         tz: str) -> WorkLog:
    """Change one's own log (the version the form was opened with must still be the log's); the
    figures are counted again, new recipients are notified."""
    if log.author_id != actor.user_id:
        raise NotEditable(_l("只能修改自己的日志"))
    versions.check_current(session, log, version, tz=tz)
    draft = _check(draft)
    log.content, log.plan, log.problems = draft.content, draft.plan, draft.problems
    log.figures = figures(session, log.author, log.period_start, log.period_end, tz=tz)
    log.updated_at = now
    added = _set_recipients(session, log, _recipient_ids(session, actor.user_id, list(draft.recipient_ids)), now=now)
    session.flush()
    _notify_recipients(session, log, added, author=log.author, now=now)
    return log


# --- reading and commenting ------------------------------------------------------------------

def open_log(session: Session, actor: Actor, log_id: Any, *, now: datetime) -> WorkLog:
    """The log (OutOfScope outside the reader's scope), marked read for the reader: their read
    receipt, and for the author the comments written since."""
    log = scope.get_in_scope(session, WorkLog, log_id, actor)
    session.execute(update(WorkLogRecipient)
                    .where(WorkLogRecipient.log_id == log.id, WorkLogRecipient.user_id == actor.user_id,
                           WorkLogRecipient.read_at.is_(None))
                    .values(read_at=now).execution_options(synchronize_session="fetch"))
    if log.author_id == actor.user_id:
        session.execute(update(WorkLogComment)
                        .where(WorkLogComment.log_id == log.id, WorkLogComment.read_at.is_(None))
                        .values(read_at=now).execution_options(synchronize_session="fetch"))
    return log


def comment(session: Session, actor: Actor, log_id: Any, content: str, *, now: datetime) -> WorkLogComment:
    """点评: by anyone who may read the log (OutOfScope otherwise: the page answers 404). A
    leader's comment notifies the author; the author's reply notifies those who commented."""
    log = scope.get_in_scope(session, WorkLog, log_id, actor)
    text = (content or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidValue(_l("请填写点评内容"))
    if len(text) > MAX_TEXT:
        raise InvalidValue(_l("点评最多 %(n)d 个字", n=MAX_TEXT))
    note = WorkLogComment(log_id=log.id, user_id=actor.user_id, content=text, created_at=now,
                          read_at=now if actor.user_id == log.author_id else None)
    session.add(note)
    session.flush()
    link = RecordLink(ListKind.WORK_LOG, log.id)
    if actor.user_id != log.author_id:
        notifications.notify(session, user_id=log.author_id, now=now, kind=NotificationKind.WORK_LOG, link=link,
                             title=_l("%(name)s 点评了您的%(period)s", name=actor.display_name,
                                      period=period_name(log)))
    else:
        others = session.scalars(select(WorkLogComment.user_id).distinct()
                                 .where(WorkLogComment.log_id == log.id, WorkLogComment.user_id != log.author_id))
        for uid in list(others):
            notifications.notify(session, user_id=uid, now=now, kind=NotificationKind.WORK_LOG, link=link,
                                 title=_l("%(name)s 回复了%(period)s的点评", name=actor.display_name,
                                          period=period_name(log)))
    return note


def receipts(session: Session, log: WorkLog) -> list[tuple[str, datetime | None]]:
    """Who it was sent to and when each opened it (None: not yet)."""
    rows = session.execute(select(User.display_name, WorkLogRecipient.read_at)
                           .join(User, User.id == WorkLogRecipient.user_id)
                           .where(WorkLogRecipient.log_id == log.id).order_by(User.display_name))
    return [(r.display_name, r.read_at) for r in rows]


# --- search ----------------------------------------------------------------------------------

BOXES = ("all", "inbox", "mine")


@dataclass(frozen=True)
class Query:
    """The list's choices: 全部 (everything the reader may read) / 发给我的 / 我的日志, a person,
    a kind of period, a range of days the periods touch, a keyword, unread only."""

    box: str = "all"
    author_id: int | None = None
    period: WorkLogPeriod | None = None
    start: date | None = None
    end: date | None = None
    keyword: str | None = None
    unread: bool = False


def _sent_to(user_id: int) -> Any:
    return select(WorkLogRecipient.log_id).where(WorkLogRecipient.user_id == user_id)


def _where(actor: Actor, query: Query) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [scope.work_log_clause(actor)]
    if query.box == "inbox":
        where.append(WorkLog.id.in_(_sent_to(actor.user_id)))
    elif query.box == "mine":
        where.append(WorkLog.author_id == actor.user_id)
    if query.author_id:
        where.append(WorkLog.author_id == query.author_id)
    if query.period:
        where.append(WorkLog.period == query.period.value)
    if query.start:
        where.append(WorkLog.period_end >= query.start)
    if query.end:
        where.append(WorkLog.period_start <= query.end)
    if query.keyword:
        kw = query.keyword.strip()
        where.append(or_(WorkLog.content.icontains(kw, autoescape=True), WorkLog.plan.icontains(kw, autoescape=True),
                         WorkLog.problems.icontains(kw, autoescape=True)))
    if query.unread:
        where.append(WorkLog.id.in_(_sent_to(actor.user_id).where(WorkLogRecipient.read_at.is_(None))))
    return where


def search(session: Session, actor: Actor, query: Query, *, page: int, per_page: int) -> tuple[list[Any], bool]:
    """One page of logs, newest periods first: id, period, days, author, the text, when
    submitted, the reader's own read receipt (`sent`, `read_at`) and the number of comments."""
    mine = (select(WorkLogRecipient.read_at).where(WorkLogRecipient.log_id == WorkLog.id,
                                                   WorkLogRecipient.user_id == actor.user_id))
    sent = exists(mine)
    comments = (select(func.count(WorkLogComment.id)).where(WorkLogComment.log_id == WorkLog.id)
                .scalar_subquery())
    stmt = (select(WorkLog.id, WorkLog.period, WorkLog.period_start, WorkLog.period_end, WorkLog.content,
                   WorkLog.submitted_at, WorkLog.author_id, User.display_name.label("author"),
                   sent.label("sent"), mine.scalar_subquery().label("read_at"), comments.label("comments"))
            .join(User, User.id == WorkLog.author_id).where(*_where(actor, query))
            .order_by(WorkLog.period_start.desc(), WorkLog.id.desc())
            .limit(per_page + 1).offset((page - 1) * per_page))
    rows = list(session.execute(stmt))
    return rows[:per_page], len(rows) > per_page


def to_read(session: Session, actor: Actor) -> tuple[int, int]:
    """待阅日志: logs sent to the actor not opened yet, and comments on the actor's logs not seen yet."""
    logs = session.scalar(select(func.count()).select_from(WorkLogRecipient)
                          .where(WorkLogRecipient.user_id == actor.user_id, WorkLogRecipient.read_at.is_(None))) or 0
    comments = session.scalar(select(func.count(WorkLogComment.id))
                              .join(WorkLog, WorkLog.id == WorkLogComment.log_id)
                              .where(WorkLog.author_id == actor.user_id, WorkLogComment.read_at.is_(None),
                                     WorkLogComment.user_id != actor.user_id)) or 0
    return int(logs), int(comments)


def latest_to_read(session: Session, actor: Actor, *, limit: int = 5) -> list[Any]:
    """The newest unread logs sent to the actor: id, period, period_start, period_end, author."""
    stmt = (select(WorkLog.id, WorkLog.period, WorkLog.period_start, WorkLog.period_end,
                   User.display_name.label("author"))
            .join(WorkLogRecipient, WorkLogRecipient.log_id == WorkLog.id)
            .join(User, User.id == WorkLog.author_id)
            .where(WorkLogRecipient.user_id == actor.user_id, WorkLogRecipient.read_at.is_(None))
            .order_by(WorkLog.period_start.desc(), WorkLog.id.desc()).limit(limit))
    return list(session.execute(stmt))


# --- who must submit, and who has not --------------------------------------------------------

def must_submit_roles(session: Session) -> list[int]:
    return [int(i) for i in (settings.get(session, ROLES_SETTING) or [])]


def remind_hour(session: Session) -> int:
    value = settings.get(session, HOUR_SETTING)
    return DEFAULT_HOUR if value is None else int(value)


def save_settings(session: Session, *, role_ids: list[int], hour: Any) -> None:
    """The administrator's choice: which roles must submit a daily log, and from what local hour
    those who have not are reminded."""
    try:
        hour_value = int(str(hour).strip())
    except (TypeError, ValueError):
        raise InvalidValue(_l("提醒时间请填写 0 到 23 之间的整点")) from None
    if not 0 <= hour_value <= 23:
        raise InvalidValue(_l("提醒时间请填写 0 到 23 之间的整点"))
    settings.put(session, ROLES_SETTING, sorted({int(i) for i in role_ids}))
    settings.put(session, HOUR_SETTING, hour_value)


def _missing_where(session: Session, day: date) -> list[ColumnElement[bool]]:
    roles = must_submit_roles(session)
    submitted = exists().where(WorkLog.author_id == User.id, WorkLog.period == WorkLogPeriod.DAILY.value,
                               WorkLog.period_start == day)
    return [User.active.is_(True), User.role_id.in_(roles), ~submitted]


def not_submitted(session: Session, actor: Actor, day: date) -> list[Any]:
    """未提交: staff in the actor's scope, of the roles that must submit, without a daily log of
    `day`: id, name, department; by department, then name."""
    stmt = (select(User.id, User.display_name, Department.name.label("department"))
            .outerjoin(Department, Department.id == User.department_id)
            .where(scope.owner_clause(User.id, actor), *_missing_where(session, day))
            .order_by(Department.path, User.display_name))
    return list(session.execute(stmt))


def last_workday(today: date) -> date:
    """The day 未提交 opens on: today, or the Friday before a weekend."""
    while today.weekday() >= 5:
        today -= timedelta(days=1)
    return today


def remind_not_submitted(session: Session, *, now: datetime, tz: str) -> int:
    """From the set local hour on a working day (Monday to Friday), remind everyone who must
    submit and has not, once per day (the dedupe key is the day). Returns how many were reminded."""
    local = now.astimezone(ZoneInfo(tz))
    if local.weekday() >= 5 or local.hour < remind_hour(session):
        return 0
    day = local.date()
    reminded = 0
    for uid in session.scalars(select(User.id).where(*_missing_where(session, day))):
        note = notifications.notify(
            session, user_id=uid, now=now, kind=NotificationKind.WORK_LOG,
            title=_l("您 %(d)s 的工作日志还未提交", d=day.isoformat()),
            link=ListLink.of(ListKind.WORK_LOG), dedupe_key=f"work_log_missing:{day.isoformat()}")
        reminded += note is not None
    return reminded


def people_filter(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """The 员工 drop-down of the list: staff in scope (the report's own list of them)."""
    return reports.people_in_scope(session, actor)

