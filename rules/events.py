"""日程: create, change, move and delete events; who has a conflict; what a calendar shows for
a range (events and 下次联系 of one's customers); reminders before each occurrence.

Times are UTC instants; repeats are read in the firm's local time (rules/recurrence.py), so every
rule that reads a repeat takes `tz`. A conflict is a warning the user confirms (NeedsConfirmation
naming who has what when), not a refusal: people do double-book on purpose."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from bisect import bisect_left
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, cast, delete as sql_delete, func, literal_column, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from models.calendar import Event, EventDay, EventParticipant
from models.customer import Contact, Customer
from models.dictionary import DictItem, DictKind
from models.office import NotificationKind
from models.opportunity import Opportunity
from models.org import User
from rules import notifications, recurrence, scope
from rules.actor import Actor
from rules.errors import ChangedMeanwhile, InvalidValue, NeedsConfirmation, NotEditable
from rules.links import ListKind, RecordLink

# Events longer than a day (and every series) are found by their end, the rest by their start
# (at most a day before the range): both reads stay a short index range whatever month is asked
# for, and a week read touches hardly more rows than it shows.
SHORT_SPAN = timedelta(days=1)
MAX_REMIND_MINUTES = 7 * 24 * 60  # 提前提醒 at most a week
MAX_RANGE = timedelta(days=62)    # one feed request: a month view with its spill-over weeks
MAX_CONFLICTS_SHOWN = 5


@dataclass
class EventInput:
    """What the form (or a drag) asks for. All-day events give local dates in `first_day` and
    `last_day` (inclusive); timed ones give `starts_at`/`ends_at` (UTC)."""

    title: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    all_day: bool = False
    first_day: date | None = None
    last_day: date | None = None
    place: str | None = None
    event_type_id: int | None = None
    customer_id: int | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None
    description: str | None = None
    rrule: str | None = None
    remind_minutes: int | None = None
    participant_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Occurrence:
    """One item of a calendar: an occurrence of an event, or a customer's 下次联系 (read-only)."""

    kind: str                 # "event" | "next_contact"
    id: int                   # the event's id or the customer's
    key: str                  # the occurrence's local start (events) or the date
    title: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    user_ids: list[int]
    version: int = 0
    repeating: bool = False
    editable: bool = False
    event_type: str | None = None
    place: str | None = None


@dataclass(frozen=True)
class Conflict:
    user_name: str
    title: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    tz: str

    @property
    def message(self) -> str:
        zone = ZoneInfo(self.tz)
        start = self.starts_at.astimezone(zone)
        if self.all_day:
            when = gettext("%(d)s 全天", d=start.strftime("%Y-%m-%d"))
        else:
            when = f"{start:%Y-%m-%d %H:%M}–{self.ends_at.astimezone(zone):%H:%M}"
        return gettext("%(who)s 在 %(when)s 已有日程“%(what)s”", who=self.user_name, when=when, what=self.title)


class EventConflict(NeedsConfirmation):
    """Participants already busy then: the user sees who and what, and may save anyway."""

    def __init__(self, conflicts: list[Conflict], more: int) -> None:
        super().__init__(conflicts)
        if more:
            self.args = (self.args[0] + "；" + gettext("另有 %(n)d 处冲突", n=more),)
        self.conflicts = conflicts


# --- scope -----------------------------------------------------------------------------------

def team(session: Session, actor: Actor) -> list[User]:
    """The colleagues whose calendars the actor may see (team view): active staff in scope."""
    return list(session.scalars(select(User).where(scope.owner_clause(User.id, actor), User.active.is_(True))
                                .order_by(User.display_name)))


# --- checks ----------------------------------------------------------------------------------

def _span(data: EventInput, tz: str) -> tuple[datetime, datetime]:
    if data.all_day:
        if data.first_day is None:
            raise InvalidValue(_l("请填写日程的开始日期"))
        last = data.last_day or data.first_day
        if last < data.first_day:
            raise InvalidValue(_l("结束日期不能早于开始日期"))
        return recurrence.day_span(data.first_day, last, tz)
    if data.starts_at is None or data.ends_at is None:
        raise InvalidValue(_l("请填写日程的开始和结束时间"))
    if data.ends_at <= data.starts_at:
        raise InvalidValue(_l("结束时间必须晚于开始时间"))
    return data.starts_at, data.ends_at


def _linked(session: Session, data: EventInput, actor: Actor) -> None:
    """Linked records must be ones the actor sees (an id typed into the form is not trusted)."""
    for model, ident in ((Customer, data.customer_id), (Contact, data.contact_id),
                         (Opportunity, data.opportunity_id)):
        if ident is not None:
            scope.get_in_scope(session, model, ident, actor)
    if data.event_type_id is not None:
        item = session.get(DictItem, data.event_type_id)
        if item is None or item.kind != DictKind.EVENT_TYPE:
            raise InvalidValue(_l("请选择有效的日程类型"))
    if data.remind_minutes is not None and not 0 <= data.remind_minutes <= MAX_REMIND_MINUTES:
        raise InvalidValue(_l("提前提醒最多 7 天"))


def _people(session: Session, owner_id: int, wanted: list[int]) -> list[int]:
    ids = [owner_id] + [i for i in dict.fromkeys(wanted) if i != owner_id]
    active = set(session.scalars(select(User.id).where(User.id.in_(ids), User.active.is_(True))))
    missing = [i for i in ids[1:] if i not in active]
    if missing:
        raise InvalidValue(_l("参与人不存在或已离职"))
    return ids


_BUSY_COLUMNS = (EventParticipant.user_id, Event.id.label("event_id"), Event.title, Event.starts_at, Event.ends_at,
                 Event.all_day, Event.rrule, Event.exdates, Event.version, Event.owner_id, Event.event_type_id,
                 Event.place)


def _busy_rows(session: Session, user_ids: list[int], start: datetime, end: datetime,
               exclude_event_id: int | None, *, long_only: bool = False) -> list:
    """The events of `user_ids` that may overlap [start, end), one row per person and event, as
    plain rows (a month of a team is thousands): the two index ranges of event_participants."""
    if not user_ids:
        return []
    near = and_(EventParticipant.long_span.is_(False), EventParticipant.starts_at >= start - SHORT_SPAN,
                EventParticipant.starts_at < end, EventParticipant.series_ends_at > start)
    far = and_(EventParticipant.long_span.is_(True), EventParticipant.series_ends_at > start,
               EventParticipant.starts_at < end)
    stmt = (select(*_BUSY_COLUMNS).join(Event, Event.id == EventParticipant.event_id)
            .where(EventParticipant.user_id.in_(user_ids), far if long_only else or_(near, far),
                   Event.deleted_at.is_(None)))
    if exclude_event_id is not None:
        stmt = stmt.where(Event.id != exclude_event_id)
    return list(session.execute(stmt))


def _spans(row, tz: str, start: datetime | None, end: datetime | None):
    """(start, end, key) of each occurrence of a busy row within [start, end); a one-off needs no
    expansion (its key is empty: one occurrence)."""
    if row.rrule is None:
        if (start is None or row.ends_at > start) and (end is None or row.starts_at < end):
            yield row.starts_at, row.ends_at, ""
        return
    yield from recurrence.occurrences(starts_at=row.starts_at, ends_at=row.ends_at, rule=row.rrule,
                                      exdates=row.exdates, tz=tz, window_start=start, window_end=end)


def conflicts(session: Session, *, user_ids: list[int], spans: list[tuple[datetime, datetime]], tz: str,
              exclude_event_id: int | None = None) -> list[Conflict]:
    """Every occurrence of another event, for any of `user_ids`, overlapping one of `spans`
    (touching ends do not overlap; an all-day event fills its local days)."""
    if not spans:
        return []
    lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
    names = {i: n for i, n in session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))}
    ordered = sorted(spans)
    latest_end = []
    for _, e in ordered:
        latest_end.append(max(e, latest_end[-1]) if latest_end else e)
    found: list[Conflict] = []
    for row in _busy_rows(session, user_ids, lo, hi, exclude_event_id):
        for start, end, _key in _spans(row, tz, lo, hi):
            if _overlaps(ordered, latest_end, start, end):
                found.append(Conflict(names.get(row.user_id, "?"), row.title, start, end, row.all_day, tz))
    found.sort(key=lambda c: (c.starts_at, c.user_name))
    return found


def _overlaps(ordered: list[tuple[datetime, datetime]], latest_end: list[datetime], start: datetime,
              end: datetime) -> bool:
    """Whether [start, end) overlaps one of the spans sorted by start; `latest_end[i]` is the
    latest end among the first i + 1 of them."""
    i = bisect_left(ordered, (end,))  # the spans that start before `end`
    return i > 0 and latest_end[i - 1] > start


def _check_conflicts(session: Session, *, event_id: int | None, starts_at: datetime, ends_at: datetime,
                     rule: str | None, exdates: list[str], user_ids: list[int], tz: str, confirmed: bool) -> None:
    if confirmed:
        return
    spans = [(s, e) for s, e, _ in recurrence.occurrences(starts_at=starts_at, ends_at=ends_at, rule=rule,
                                                          exdates=exdates, tz=tz)]
    found = conflicts(session, user_ids=user_ids, spans=spans, tz=tz, exclude_event_id=event_id)
    if found:
        more = len(found) - MAX_CONFLICTS_SHOWN if len(found) > MAX_CONFLICTS_SHOWN else 0
        raise EventConflict(found[:MAX_CONFLICTS_SHOWN], more)


def _check_event(session: Session, event: Event, user_ids: list[int], tz: str, confirmed: bool) -> None:
    _check_conflicts(session, event_id=event.id, starts_at=event.starts_at, ends_at=event.ends_at, rule=event.rrule,
                     exdates=event.exdates or [], user_ids=user_ids, tz=tz, confirmed=confirmed)


# --- writes ----------------------------------------------------------------------------------

def _apply(session: Session, event: Event, data: EventInput, tz: str) -> None:
    title = (data.title or "").strip()
    if not title:
        raise InvalidValue(_l("请填写日程标题"))
    starts_at, ends_at = _span(data, tz)
    rule = recurrence.normalize(data.rrule, recurrence.local_start(starts_at, tz), tz)
    event.title = title[:120]
    event.starts_at, event.ends_at, event.all_day = starts_at, ends_at, data.all_day
    event.rrule = rule
    event.series_ends_at = recurrence.last_end(starts_at=starts_at, ends_at=ends_at, rule=rule, tz=tz)
    event.place = (data.place or "").strip() or None
    event.event_type_id = data.event_type_id
    event.customer_id, event.contact_id, event.opportunity_id = data.customer_id, data.contact_id, data.opportunity_id
    event.description = (data.description or "").strip() or None
    event.remind_minutes = data.remind_minutes
    if event.exdates is None:
        event.exdates = []


def _long(event: Event) -> bool:
    return event.rrule is not None or event.series_ends_at - event.starts_at > SHORT_SPAN


def _sync_participants(session: Session, event: Event, user_ids: list[int]) -> list[int]:
    """Make the participant rows match `user_ids` with the event's current span; returns the
    users newly added."""
    current = {p.user_id: p for p in event.participants}
    for user_id, row in current.items():
        if user_id not in user_ids:
            event.participants.remove(row)
    added = []
    for user_id in user_ids:
        row = current.get(user_id)
        if row is None:
            row = EventParticipant(user_id=user_id, notified=False)
            event.participants.append(row)
            added.append(user_id)
        row.starts_at, row.series_ends_at, row.long_span = event.starts_at, event.series_ends_at, _long(event)
    return added


# --- daily counts (EventDay) ----------------------------------------------------------------

def _start_days(starts_at: datetime, ends_at: datetime, rule: str | None, exdates: list[str] | None,
                tz: str) -> Counter[date]:
    """The local day of each occurrence's start (a series expanded whole: at most
    recurrence.MAX_OCCURRENCES), what the team month view counts."""
    zone = ZoneInfo(tz)
    return Counter(s.astimezone(zone).date() for s, _e, _k in recurrence.occurrences(
        starts_at=starts_at, ends_at=ends_at, rule=rule, exdates=exdates, tz=tz))


@dataclass(frozen=True)
class _Footprint:
    """What one event adds to EventDay: each of `user_ids` gets `days`."""

    user_ids: frozenset[int]
    days: Counter

    @classmethod
    def of(cls, event: Event, tz: str) -> _Footprint:
        if event.deleted_at is not None or not event.participants:
            return cls(frozenset(), Counter())
        return cls(frozenset(p.user_id for p in event.participants),
                   _start_days(event.starts_at, event.ends_at, event.rrule, list(event.exdates or []), tz))


def start_day_counts(rows: Iterable, tz: str) -> Counter[tuple[int, date]]:
    """EventDay from scratch: rows of (event_id, user_id, starts_at, ends_at, rrule, exdates), one
    per live event and participant (the migration that adds the table fills it with this)."""
    counts: Counter[tuple[int, date]] = Counter()
    days_of: dict[int, Counter] = {}
    for event_id, user_id, starts_at, ends_at, rule, exdates in rows:
        days = days_of.get(event_id)
        if days is None:
            days = days_of[event_id] = _start_days(starts_at, ends_at, rule, exdates, tz)
        for day, n in days.items():
            counts[(user_id, day)] += n
    return counts


def rebuild_day_counts(session: Session, tz: str) -> int:
    """Refill EventDay from the events (after a bulk load that bypassed the rules, or a change of
    the firm's TIMEZONE). Returns the rows written."""
    rows = session.execute(select(Event.id, EventParticipant.user_id, Event.starts_at, Event.ends_at, Event.rrule,
                                  Event.exdates).join(EventParticipant, EventParticipant.event_id == Event.id)
                           .where(Event.deleted_at.is_(None)).execution_options(yield_per=10_000))
    counts = start_day_counts(rows, tz)
    session.execute(sql_delete(EventDay))
    _add_counts(session, counts)
    return len(counts)


def _add_counts(session: Session, delta: dict[tuple[int, date], int]) -> None:
    """Adds `delta` to EventDay in one upsert (concurrent writers add to the same row safely);
    rows falling to nought go."""
    values = [{"user_id": u, "day": d, "count": n} for (u, d), n in delta.items() if n]
    if not values:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(EventDay)
    stmt = stmt.on_conflict_do_update(index_elements=[EventDay.user_id, EventDay.day],
                                      set_={"count": EventDay.count + stmt.excluded["count"]})
    session.execute(stmt, values)
    if any(v["count"] < 0 for v in values):
        session.execute(sql_delete(EventDay).where(EventDay.user_id.in_({v["user_id"] for v in values}),
                                                   EventDay.count <= 0))


def _recount(session: Session, before: _Footprint, event: Event, tz: str) -> None:
    """Moves EventDay from what the event added before a change to what it adds now."""
    after = _Footprint.of(event, tz)
    delta: Counter[tuple[int, date]] = Counter()
    for footprint, sign in ((before, -1), (after, 1)):
        for user_id in footprint.user_ids:
            for day, n in footprint.days.items():
                delta[(user_id, day)] += sign * n
    _add_counts(session, delta)


def _notify(session: Session, event: Event, user_ids: list[int], title, now: datetime, *, linked: bool = True) -> None:
    for user_id in user_ids:
        if user_id == event.owner_id:
            continue
        notifications.notify(session, user_id=user_id, title=title, now=now, kind=NotificationKind.EVENT,
                             link=RecordLink(ListKind.EVENT, event.id) if linked else None)
    session.execute(update(EventParticipant).where(EventParticipant.event_id == event.id,
                                                   EventParticipant.user_id.in_(user_ids))
                    .values(notified=True).execution_options(synchronize_session=False))


def when_text(event: Event, tz: str) -> str:
    start = event.starts_at.astimezone(ZoneInfo(tz))
    return start.strftime("%Y-%m-%d") if event.all_day else start.strftime("%Y-%m-%d %H:%M")


def create(session: Session, data: EventInput, *, actor: Actor, now: datetime, tz: str,
           confirmed: bool = False) -> Event:
    _linked(session, data, actor)
    event = Event(owner_id=actor.user_id, exdates=[])
    _apply(session, event, data, tz)
    people = _people(session, actor.user_id, data.participant_ids)
    _check_event(session, event, people, tz, confirmed)
    session.add(event)
    _sync_participants(session, event, people)
    session.flush()
    _recount(session, _Footprint(frozenset(), Counter()), event, tz)
    _notify(session, event, people, _l("%(who)s 邀请您参加日程“%(t)s”（%(when)s）", who=actor.display_name,
                                      t=event.title, when=when_text(event, tz)), now)
    return event


def load_for_change(session: Session, event_id: int, actor: Actor, expected_version: int | None) -> Event:
    """The event, if the actor may change it (else OutOfScope, or NotEditable for a participant
    who only sees it) and it is still the version the page showed."""
    event = scope.get_in_scope(session, Event, event_id, actor)
    if session.scalar(select(Event.id).where(Event.id == event.id, scope.write_clause_for(Event, actor))) is None:
        raise NotEditable(_l("只有日程的创建人或其上级可以修改此日程"))
    if expected_version is not None and event.version != expected_version:
        raise ChangedMeanwhile(_l("该日程已被他人修改，请刷新后再改"))
    return event


def update_event(session: Session, event_id: int, data: EventInput, *, actor: Actor, now: datetime, tz: str,
                 expected_version: int | None, confirmed: bool = False) -> Event:
    event = load_for_change(session, event_id, actor, expected_version)
    _linked(session, data, actor)
    before = {p.user_id for p in event.participants}
    counted = _Footprint.of(event, tz)
    with session.no_autoflush:
        _apply(session, event, data, tz)
        people = _people(session, event.owner_id, data.participant_ids)
        _check_event(session, event, people, tz, confirmed)
    added = _sync_participants(session, event, people)
    # A change of participants alone still bumps the version, so of two edits made at once the
    # second is refused (ChangedMeanwhile) instead of moving the daily counts twice.
    flag_modified(event, "title")
    session.flush()
    _recount(session, counted, event, tz)
    _notify(session, event, added, _l("%(who)s 邀请您参加日程“%(t)s”（%(when)s）", who=actor.display_name,
                                     t=event.title, when=when_text(event, tz)), now)
    _notify(session, event, [u for u in people if u in before],
            _l("日程“%(t)s”已变更：%(when)s", t=event.title, when=when_text(event, tz)), now)
    return event


def move(session: Session, event_id: int, *, starts_at: datetime, ends_at: datetime | None, all_day: bool,
         actor: Actor, now: datetime, tz: str, expected_version: int, confirmed: bool = False) -> Event:
    """A drag on the calendar (move or resize), refused unless the event is still at the version
    the page had, so a drag on a stale page does not undo someone else's change."""
    event = load_for_change(session, event_id, actor, None)
    if event.rrule is not None:
        raise InvalidValue(_l("重复日程请打开编辑页修改"))
    if all_day:
        first = starts_at.astimezone(ZoneInfo(tz)).date()
        last = (ends_at.astimezone(ZoneInfo(tz)) - timedelta(days=1)).date() if ends_at else first
        new_start, new_end = recurrence.day_span(first, max(first, last), tz)
    else:
        new_end = ends_at if ends_at is not None else starts_at + (
            event.ends_at - event.starts_at if not event.all_day else timedelta(hours=1))
        new_start = starts_at
        if new_end <= new_start:
            raise InvalidValue(_l("结束时间必须晚于开始时间"))
    people = [p.user_id for p in event.participants]
    _check_conflicts(session, event_id=event.id, starts_at=new_start, ends_at=new_end, rule=None, exdates=[],
                     user_ids=people, tz=tz, confirmed=confirmed)
    if event.version != expected_version:
        raise ChangedMeanwhile(_l("该日程已被他人修改，请刷新后再改"))
    counted = _Footprint.of(event, tz)
    # Through the ORM: the version column makes its UPDATE say WHERE version = <loaded> (a change
    # landing in between is refused as StaleDataError), and the audit log records the move.
    event.starts_at, event.ends_at, event.series_ends_at, event.all_day = new_start, new_end, new_end, all_day
    _sync_participants(session, event, people)
    session.flush()
    _recount(session, counted, event, tz)
    _notify(session, event, people, _l("日程“%(t)s”已变更：%(when)s", t=event.title, when=when_text(event, tz)), now)
    return event


def delete(session: Session, event_id: int, *, actor: Actor, now: datetime, tz: str,
           expected_version: int | None, occurrence: str | None = None) -> Event:
    """删除 the event (kept, marked deleted, in the audit log), or with `occurrence` (its local
    start key) only that occurrence of a series. A deleted event leaves everyone's calendar: its
    participant rows go, so the calendar reads never have to look at the event row to skip it."""
    event = load_for_change(session, event_id, actor, expected_version)
    people = [p.user_id for p in event.participants]
    counted = _Footprint.of(event, tz)
    if occurrence and event.rrule is not None:
        event.exdates = sorted(set(event.exdates or []) | {occurrence})
        session.flush()
        _recount(session, counted, event, tz)
        return event
    event.deleted_at = now
    event.participants.clear()
    session.flush()
    _recount(session, counted, event, tz)
    _notify(session, event, people, _l("日程“%(t)s”（%(when)s）已取消", t=event.title, when=when_text(event, tz)), now,
            linked=False)  # its page is gone
    return event


# --- reads -----------------------------------------------------------------------------------

def occurrences(session: Session, actor: Actor, start: datetime, end: datetime, *, tz: str,
                user_ids: list[int] | None = None) -> list[Occurrence]:
    """What the calendar shows in [start, end): the events on the calendars of `user_ids` (the
    actor's own without it; others only within the actor's scope) expanded into occurrences, one
    item per occurrence however many of them it is on, and the 下次联系 days of the customers
    they own, read-only."""
    if end <= start:
        return []
    if end - start > MAX_RANGE:
        raise InvalidValue(_l("一次最多查看 62 天的日程"))
    wanted = [actor.user_id] if not user_ids else list(dict.fromkeys(user_ids))
    in_scope = set(session.scalars(select(User.id).where(scope.owner_clause(User.id, actor))))
    allowed = [u for u in wanted if u in in_scope]
    if not allowed:
        return []
    types = {i: n for i, n in session.execute(select(DictItem.id, DictItem.name)
                                              .where(DictItem.kind == DictKind.EVENT_TYPE))}
    items: dict[tuple[int, str], Occurrence] = {}
    expanded: dict[int, list] = {}  # a series on several calendars is expanded once
    for row in _busy_rows(session, allowed, start, end, None):
        spans = expanded.get(row.event_id)
        if spans is None:
            spans = expanded[row.event_id] = list(_spans(row, tz, start, end))
        for s, e, key in spans:
            item = items.get((row.event_id, key))
            if item is None:
                item = items[(row.event_id, key)] = Occurrence(
                    "event", row.event_id, key, row.title, s, e, row.all_day, [], row.version,
                    repeating=row.rrule is not None, editable=row.rrule is None and row.owner_id in in_scope,
                    event_type=types.get(row.event_type_id), place=row.place)
            item.user_ids.append(row.user_id)
    out = list(items.values())
    for item in out:
        item.user_ids.sort()
    out.extend(_next_contacts(session, allowed, start, end, tz))
    out.sort(key=lambda o: (o.starts_at, o.kind, o.id))
    return out


@dataclass(slots=True)
class DayLoad:
    """How many events one person has on one local day (a team's month at a glance)."""

    user_id: int
    day: date
    count: int


def _local_day(session: Session, column: Any, tz: str) -> Any:
    """The local date of a UTC column in SQL, for a zone with one offset all year (the firm's
    Asia/Shanghai keeps no daylight saving time)."""
    offset = datetime(2000, 1, 1, tzinfo=ZoneInfo(tz)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column, f"{minutes:+d} minutes")
    return cast(column + literal_column(f"interval '{minutes} minutes'"), Date)


def day_loads(session: Session, actor: Actor, start: datetime, end: datetime, *, tz: str,
              user_ids: list[int]) -> list[DayLoad]:
    """团队月视图: per person (in the actor's scope) and local day in [start, end), how many events
    start that day. A month of fifty busy people is tens of thousands of events, too many to draw
    or send, or even to count on each request: whole local days read the counts the write rules
    keep (EventDay, 50 people × 42 days = 2,100 rows); a range cut inside a day counts the
    events themselves."""
    if end - start > MAX_RANGE:
        raise InvalidValue(_l("一次最多查看 62 天的日程"))
    in_scope = set(session.scalars(select(User.id).where(scope.owner_clause(User.id, actor))))
    allowed = [u for u in dict.fromkeys(user_ids) if u in in_scope]
    if not allowed:
        return []
    zone = ZoneInfo(tz)
    first, after = start.astimezone(zone), end.astimezone(zone)
    if first.time() != time(0) or after.time() != time(0):
        return _counted_day_loads(session, allowed, start, end, tz)
    rows = session.execute(select(EventDay.user_id, EventDay.day, EventDay.count)
                           .where(EventDay.user_id.in_(allowed), EventDay.day >= first.date(),
                                  EventDay.day < after.date(), EventDay.count > 0))
    return sorted((DayLoad(u, d, n) for u, d, n in rows), key=lambda load: (load.day, load.user_id))


def _counted_day_loads(session: Session, allowed: list[int], start: datetime, end: datetime,
                       tz: str) -> list[DayLoad]:
    """day_loads from the events themselves (what EventDay must always agree with): one grouped
    index-only read of the one-off events plus the series expanded here."""
    day = _local_day(session, EventParticipant.starts_at, tz).label("day")
    counts: dict[tuple[int, date], int] = {}
    # Participant rows exist for live events only (delete() removes them): an index-only read.
    rows = session.execute(
        select(EventParticipant.user_id, day, func.count())
        .where(EventParticipant.user_id.in_(allowed), EventParticipant.long_span.is_(False),
               EventParticipant.starts_at >= start, EventParticipant.starts_at < end)
        .group_by(EventParticipant.user_id, day))
    for user_id, local, count in rows:
        local = local if isinstance(local, date) else date.fromisoformat(local)
        counts[(user_id, local)] = counts.get((user_id, local), 0) + count
    zone = ZoneInfo(tz)
    for row in _busy_rows(session, allowed, start, end, None, long_only=True):
        for s, _e, _key in _spans(row, tz, start, end):
            if s >= start:
                local = s.astimezone(zone).date()
                counts[(row.user_id, local)] = counts.get((row.user_id, local), 0) + 1
    return [DayLoad(u, d, n) for (u, d), n in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0]))]


def _next_contacts(session: Session, user_ids: list[int], start: datetime, end: datetime, tz: str) -> list[Occurrence]:
    zone = ZoneInfo(tz)
    first = start.astimezone(zone).date()
    last = (end.astimezone(zone) - timedelta(microseconds=1)).date()
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.owner_id, Customer.next_contact_at)
        .where(Customer.owner_id.in_(user_ids), Customer.next_contact_at >= first, Customer.next_contact_at <= last,
               Customer.deleted_at.is_(None))
        .order_by(Customer.next_contact_at, Customer.id)).all()
    out = []
    for cid, name, owner_id, day in rows:
        s, e = recurrence.day_span(day, day, tz)
        out.append(Occurrence("next_contact", cid, day.isoformat(), gettext("下次联系：%(n)s", n=name), s, e, True,
                              [owner_id]))
    return out


def upcoming_today(session: Session, actor: Actor, now: datetime, tz: str) -> list[Occurrence]:
    """今日日程: the actor's own events of the local day, from now on (and all-day ones)."""
    zone = ZoneInfo(tz)
    day = now.astimezone(zone).date()
    start, end = recurrence.day_span(day, day, tz)
    return [o for o in occurrences(session, actor, start, end, tz=tz) if o.kind == "event" and
            (o.all_day or o.ends_at > now)]


# --- reminders -------------------------------------------------------------------------------

def remind_upcoming(session: Session, now: datetime, *, tz: str) -> int:
    """提前提醒: each participant of an event hears of each occurrence once, `remind_minutes`
    before it starts (a run that comes late still reminds until the occurrence starts). The
    dedupe key names the occurrence, so a second run adds nothing. Returns the reminders added."""
    horizon = now + timedelta(minutes=MAX_REMIND_MINUTES)
    # One-offs starting within the longest lead (by their start), and the series still running:
    # two short index ranges, whatever the size of the calendar.
    reminded = and_(Event.remind_minutes.is_not(None), Event.deleted_at.is_(None))
    one_offs = session.scalars(select(Event).where(reminded, Event.rrule.is_(None), Event.starts_at > now,
                                                   Event.starts_at <= horizon))
    series = session.scalars(select(Event).where(reminded, Event.rrule.is_not(None), Event.series_ends_at > now,
                                                 Event.starts_at <= horizon))
    added = 0
    for event in [*one_offs, *series]:
        lead = timedelta(minutes=event.remind_minutes or 0)
        for s, _e, key in recurrence.occurrences(starts_at=event.starts_at, ends_at=event.ends_at, rule=event.rrule,
                                                 exdates=event.exdates, tz=tz, window_start=now,
                                                 window_end=now + lead + timedelta(seconds=1)):
            if not (now < s <= now + lead):
                continue
            local = s.astimezone(ZoneInfo(tz))
            when = local.strftime("%m-%d ") + (gettext("全天") if event.all_day else local.strftime("%H:%M"))
            for row in event.participants:
                note = notifications.notify(
                    session, user_id=row.user_id, title=_l("日程提醒：%(t)s（%(when)s）", t=event.title, when=when),
                    now=now, link=RecordLink(ListKind.EVENT, event.id), kind=NotificationKind.EVENT,
                    dedupe_key=f"event:{event.id}:{key}")
                added += note is not None
    session.flush()
    return added


def day_bounds(first: date, last: date, tz: str) -> tuple[datetime, datetime]:
    return recurrence.day_span(first, last, tz)


