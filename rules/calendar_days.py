"""What the 日程 calendar writes in its day cells: the lunar date (rules/lunar.py) and the day's
holiday or 调休 workday. The working calendar's own days (工作日历, as the administrator set or
imported them) come first; other days are China's official calendar (chinesecalendar), so the
calendar shows the holidays even where nobody imported them for SLA."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.sla import Holiday, HolidayKind
from rules import lunar, working_calendar
from rules.errors import InvalidValue

# FullCalendar's month view shows six weeks; a longer range is no calendar page.
MAX_DAYS = 62
KIND_LABELS = {HolidayKind.OFF.value: _l("休"), HolidayKind.WORKDAY.value: _l("班")}


@dataclass(frozen=True)
class DayLabel:
    day: date
    lunar: str                      # the cell's word: 初四, 闰六月, 重阳节, 立冬
    lunar_date: str                 # 九月初九
    holiday: str | None = None      # 国庆节
    kind: str | None = None         # HolidayKind value: off (休) or workday (班)


def labels(session: Session, first: date, last: date) -> list[DayLabel]:
    """One label per day in [first, last]."""
    if last < first or (last - first).days >= MAX_DAYS:
        raise InvalidValue(_l("日期范围应在 %(n)d 天以内", n=MAX_DAYS))
    official = working_calendar.official_span(first, last)
    own = {h.day: (HolidayKind(h.kind), h.name) for h in session.scalars(
        select(Holiday).where(Holiday.day >= first, Holiday.day <= last))}
    out = []
    day = first
    while day <= last:
        kind, name = own.get(day) or official.get(day) or (None, None)
        out.append(DayLabel(day, lunar.cell_label(day), lunar.text(day), name or None, kind.value if kind else None))
        day += timedelta(days=1)
    return out
