"""The working calendar SLA targets are counted in: hours per weekday (one or two periods, a lunch
break between), holidays (休息日) and 调休 make-up workdays, in the firm's time zone.

`load()` reads the whole calendar once (a week of hours and a few hundred days), so a job over
200k tickets asks the database once, not per ticket; `add_working` and
`working_seconds_between` are then pure arithmetic on it.

China's official holidays and make-up workdays come from the `chinesecalendar` package
(`import_official`); it knows only the years published when it was released, and for a year it
does not know the administrator enters the days by hand. Days the administrator entered are
never overwritten by an import."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.sla import Holiday, HolidayKind, HolidaySource, WorkingHours
from rules.errors import CalendarRefused

DEFAULT_TZ = "Asia/Shanghai"  # config.Config.TIMEZONE
DAY = 24 * 60
# A calendar that has working hours finds one within this many days (a year of holidays at most).
SEARCH_DAYS = 800
# A new installation's week: Monday to Friday, 09:00–12:00 and 13:30–18:00.
DEFAULT_WEEK = {d: ((9 * 60, 12 * 60), (13 * 60 + 30, 18 * 60)) for d in range(5)}

Period = tuple[int, int]  # minutes after local midnight, start < end


@dataclass(frozen=True)
class Calendar:
    """Working periods per weekday (0 = Monday) and the days that differ from their weekday."""

    week: dict[int, tuple[Period, ...]]
    holidays: dict[date, HolidayKind] = field(default_factory=dict)
    tz: str = DEFAULT_TZ

    def periods(self, day: date) -> tuple[Period, ...]:
        kind = self.holidays.get(day)
        if kind == HolidayKind.OFF:
            return ()
        if kind == HolidayKind.WORKDAY and not self.week.get(day.weekday()):
            # A 调休 Saturday is worked as an ordinary weekday: the hours of the first day that has any.
            return next((p for d, p in sorted(self.week.items()) if p), ())
        return self.week.get(day.weekday(), ())

    def spans(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working spans (UTC instants) from `start` on, the first clipped at `start`."""
        zone = ZoneInfo(self.tz)
        local = start.astimezone(zone)
        day = local.date()
        for _ in range(SEARCH_DAYS):
            midnight = datetime.combine(day, time(), zone)
            for begin, end in self.periods(day):
                a = midnight + timedelta(minutes=begin)
                b = midnight + timedelta(minutes=end)
                if b > local:
                    yield max(a, local).astimezone(start.tzinfo), b.astimezone(start.tzinfo)
            day += timedelta(days=1)


def add_working(calendar: Calendar, start: datetime, seconds: int) -> datetime:
    """The instant when `seconds` of working time have passed after `start` (a start outside the
    working hours counts from the next period; 0 seconds is `start` itself)."""
    if seconds <= 0:
        return start
    left = timedelta(seconds=seconds)
    for a, b in calendar.spans(start):
        if b - a >= left:
            return a + left
        left -= b - a
    raise CalendarRefused(_l("工作时间不能全部为空"))


def working_seconds_between(calendar: Calendar, a: datetime, b: datetime) -> int:
    """Working seconds from `a` to `b` (0 when `b` is not after `a`)."""
    total = timedelta()
    if b <= a:
        return 0
    for x, y in calendar.spans(a):
        if x >= b:
            break
        total += min(y, b) - x
    return int(total.total_seconds())


def load(session: Session, tz: str = DEFAULT_TZ) -> Calendar:
    """The calendar as the administrator set it, read once."""
    with session.no_autoflush:  # called from the SLA hooks on a ticket being built
        week = {row.weekday: _periods_of(row) for row in session.scalars(select(WorkingHours))}
        holidays = {day: HolidayKind(kind) for day, kind in session.execute(select(Holiday.day, Holiday.kind))}
    return Calendar(week=week, holidays=holidays, tz=tz)


def _periods_of(row: WorkingHours) -> tuple[Period, ...]:
    pairs = ((row.start1, row.end1), (row.start2, row.end2))
    return tuple((a, b) for a, b in pairs if a is not None and b is not None)


# ---- the administrator's changes ----

def check_week(week: dict[int, Sequence[Period]]) -> dict[int, tuple[Period, ...]]:
    """A week the calendar can hold: every period inside the day and forward, the second after
    the first, and some working time in the week (else no target could ever be met)."""
    clean: dict[int, tuple[Period, ...]] = {}
    for weekday in range(7):
        periods = tuple(week.get(weekday, ()))
        last_end = -1
        for begin, end in periods:
            if not (0 <= begin < end <= DAY) or begin < last_end:
                raise CalendarRefused(_l("工作时间段有误：结束须晚于开始，下午须在上午之后"))
            last_end = end
        clean[weekday] = periods
    if not any(clean.values()):
        raise CalendarRefused(_l("工作时间不能全部为空"))
    return clean


def minutes_of(text: str | None) -> int | None:
    """"09:00" → 540, "24:00" → 1440 (a period may run to midnight), blank → None."""
    text = (text or "").strip().replace("：", ":")
    if not text:
        return None
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and (minutes or "0").isdigit()):
        raise CalendarRefused(_l("时间格式应为 09:00：%(text)s", text=text[:20]))
    value = int(hours) * 60 + int(minutes or 0)
    if int(minutes or 0) >= 60 or value > DAY:
        raise CalendarRefused(_l("时间格式应为 09:00：%(text)s", text=text[:20]))
    return value


def hhmm(minutes: int | None) -> str:
    return "" if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def week_from_text(rows: dict[int, Sequence[str | None]]) -> dict[int, tuple[Period, ...]]:
    """The week typed on the 工作日历 page: per weekday the start and end of up to two periods
    ("09:00", "12:00", "13:30", "18:00"); a period needs both ends or neither."""
    week: dict[int, tuple[Period, ...]] = {}
    for weekday in range(7):
        values = [minutes_of(t) for t in (list(rows.get(weekday, ())) + [None] * 4)[:4]]
        periods = []
        for begin, end in (values[0:2], values[2:4]):
            if (begin is None) != (end is None):
                raise CalendarRefused(_l("每个时间段须同时填写开始和结束时间"))
            if begin is not None:
                periods.append((begin, end))
        week[weekday] = tuple(periods)
    return check_week(week)


def save_week(session: Session, week: dict[int, Sequence[Period]]) -> None:
    clean = check_week(week)
    rows = {row.weekday: row for row in session.scalars(select(WorkingHours))}
    for weekday, periods in clean.items():
        row = rows.get(weekday) or WorkingHours(weekday=weekday)
        first, second = (list(periods) + [(None, None), (None, None)])[:2]
        row.start1, row.end1 = first
        row.start2, row.end2 = second
        session.add(row)
    session.flush()


def ensure_defaults(session: Session) -> None:
    """A new installation's working week; one with any row keeps its own."""
    if session.scalar(select(WorkingHours.weekday).limit(1)) is None:
        save_week(session, DEFAULT_WEEK)


def week_of(session: Session) -> dict[int, tuple[Period, ...]]:
    return {row.weekday: _periods_of(row) for row in session.scalars(select(WorkingHours))}


def set_day(session: Session, day: date, kind: HolidayKind, name: str) -> Holiday:
    """An administrator's holiday or 调休 workday (it replaces an imported one of that day)."""
    row = session.get(Holiday, day) or Holiday(day=day)
    row.kind, row.name, row.source = HolidayKind(kind).value, (name or "").strip()[:64], HolidaySource.ADMIN.value
    session.add(row)
    session.flush()
    return row


def remove_day(session: Session, day: date) -> None:
    row = session.get(Holiday, day)
    if row is not None:
        session.delete(row)  # through the ORM, so the audit log records it
        session.flush()


def days_of_year(session: Session, year: int) -> list[Holiday]:
    return list(session.scalars(select(Holiday).where(Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31))
                                .order_by(Holiday.day)))


@dataclass(frozen=True)
class Imported:
    year: int
    added: int
    known: bool  # False: the package has no data for that year (enter the days by hand)


def official_days(year: int) -> list[tuple[date, HolidayKind, str]] | None:
    """China's official holidays on weekdays and the 调休 workdays of `year` from chinesecalendar;
    None for a year the package does not know. Ordinary weekends are left to the working week."""
    if not knows_year(year):
        return None
    import chinese_calendar  # a data package, read only when the administrator imports

    names = {h.value: h.chinese for h in chinese_calendar.Holiday}
    days = [(d, HolidayKind.OFF, names.get(n, n)) for d, n in chinese_calendar.holidays.items()
            if d.year == year and d.weekday() < 5]
    days += [(d, HolidayKind.WORKDAY, names.get(n, n)) for d, n in chinese_calendar.workdays.items()
             if d.year == year and d.weekday() >= 5]
    return sorted(days)


def official_span(first: date, last: date) -> dict[date, tuple[HolidayKind, str]]:
    """Every official holiday (weekends inside one included) and 调休 workday in [first, last]
    by name, for a calendar to show; years the package does not know give nothing."""
    if not all(knows_year(y) for y in {first.year, last.year}):
        return {}
    import chinese_calendar

    names = {h.value: h.chinese for h in chinese_calendar.Holiday}
    found: dict[date, tuple[HolidayKind, str]] = {}
    day = first
    while day <= last:
        off, name = chinese_calendar.get_holiday_detail(day)
        if name:
            found[day] = (HolidayKind.OFF if off else HolidayKind.WORKDAY, names.get(name, name))
        day += timedelta(days=1)
    return found


def knows_year(year: int) -> bool:
    """Whether the national calendar package has `year` (else the administrator enters it). An
    installation without the package (requirements.txt not yet installed) enters every year by hand."""
    try:
        import chinese_calendar
    except ImportError:
        return False
    try:
        chinese_calendar.is_holiday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def import_official(session: Session, year: int) -> Imported:
    """从国家日历导入: the year's official days, replacing earlier imports and leaving the
    administrator's own days as they are."""
    days = official_days(year)
    if days is None:
        return Imported(year, 0, False)
    own = {row.day: row for row in days_of_year(session, year)}
    added = 0
    for day, kind, name in days:
        row = own.get(day)
        if row is not None and row.source == HolidaySource.ADMIN:
            continue
        row = row or Holiday(day=day)
        row.kind, row.name, row.source = kind.value, name[:64], HolidaySource.LIBRARY.value
        session.add(row)
        added += 1
    session.flush()
    return Imported(year, added, True)
