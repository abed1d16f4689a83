"""农历 (万年历) from lunar-python: a contact's lunar birthday placed on its solar day each year,
and the lunar names of solar days for pages and the calendar.

A lunar birthday has no fixed solar day, and not every lunar year has every day of it:
- a birthday in a leap month (闰六月) falls, in a year without that leap month, on the same day
  of the ordinary month (六月);
- the 30th of a month falls, in a year whose month has 29 days, on the 29th.
The greeting jobs ask the other way round (who has a lunar birthday on this solar day?):
`keys_on` answers with the few (month, day, leap) values to match, so the database compares
three columns instead of converting every contact's birthday."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from lunar_python import Lunar, LunarMonth, LunarYear, Solar
from lunar_python.util import LunarUtil

from rules.errors import InvalidValue

# The library's tables cover these lunar years; a year outside has no answer.
FIRST_YEAR, LAST_YEAR = 1901, 2099


class LunarDateRefused(InvalidValue):
    pass


@dataclass(frozen=True)
class LunarBirthday:
    month: int     # 1..12
    day: int       # 1..30
    leap: bool = False

    def __str__(self) -> str:
        return month_name(self.month, self.leap) + day_name(self.day)


@dataclass(frozen=True)
class Placed:
    """Where a lunar birthday falls in one lunar year, and why it moved if it did."""
    day: date
    lunar_year: int
    note: str | None = None


def month_name(month: int, leap: bool = False) -> str:
    return ("闰" if leap else "") + LunarUtil.MONTH[month] + "月"


def day_name(day: int) -> str:
    return LunarUtil.DAY[day]


def check(month: int | None, day: int | None, leap: bool) -> LunarBirthday | None:
    """The typed lunar birthday, or None when neither month nor day was given."""
    if month is None and day is None:
        if leap:
            raise LunarDateRefused(_l("勾选了闰月，请同时填写农历生日的月和日"))
        return None
    if month is None or day is None:
        raise LunarDateRefused(_l("农历生日请同时填写月和日"))
    if not 1 <= month <= 12:
        raise LunarDateRefused(_l("农历月份应为 1 到 12"))
    if not 1 <= day <= 30:
        raise LunarDateRefused(_l("农历日期应为 1 到 30（农历每月最多三十天）"))
    return LunarBirthday(month, day, leap)


def solar_date(birthday: LunarBirthday, lunar_year: int) -> Placed:
    """The solar day of `birthday` in `lunar_year` (a lunar year begins at 春节, so a 腊月
    birthday of lunar 2026 falls in January or February 2027)."""
    note = None
    month = birthday.month
    if birthday.leap:
        if LunarYear.fromYear(lunar_year).getLeapMonth() == birthday.month:
            month = -birthday.month
        else:
            note = str(_l("本年无%(leap)s，按%(month)s", leap=month_name(birthday.month, True),
                          month=month_name(birthday.month)))
    length = LunarMonth.fromYm(lunar_year, month).getDayCount()
    day = birthday.day
    if day > length:
        day = length
        moved = str(_l("本年农历%(month)s无三十，按二十九日", month=month_name(abs(month), month < 0)))
        note = f"{note}；{moved}" if note else moved
    solar = Lunar.fromYmd(lunar_year, month, day).getSolar()
    return Placed(date(solar.getYear(), solar.getMonth(), solar.getDay()), lunar_year, note)


def next_birthday(birthday: LunarBirthday, today: date) -> Placed:
    """The coming solar day of a lunar birthday, today included."""
    this_year = _lunar(today).getYear()
    for year in (this_year - 1, this_year, this_year + 1):
        placed = solar_date(birthday, year)
        if placed.day >= today:
            return placed
    return solar_date(birthday, this_year + 2)  # unreachable: a lunar year is shorter than two


def keys_on(day: date) -> list[tuple[int, int, bool]]:
    """The (month, day, leap) lunar birthdays greeted on solar `day`: its own lunar day, the
    30th too when its month ends on the 29th, and the leap-month birthdays of that month in a
    year without the leap month."""
    lunar = _lunar(day)
    month, number, year = lunar.getMonth(), lunar.getDay(), lunar.getYear()
    days = [number]
    if number == 29 and LunarMonth.fromYm(year, month).getDayCount() == 29:
        days.append(30)
    if month < 0:
        return [(-month, d, True) for d in days]
    keys = [(month, d, False) for d in days]
    if LunarYear.fromYear(year).getLeapMonth() != month:
        keys += [(month, d, True) for d in days]
    return keys


def keys_between(first: date, days: int) -> dict[tuple[int, int, bool], date]:
    """The lunar birthdays greeted in the `days` days from `first`, each with its solar day."""
    found: dict[tuple[int, int, bool], date] = {}
    for offset in range(days):
        day = first + timedelta(days=offset)
        for key in keys_on(day):
            found.setdefault(key, day)
    return found


def text(day: date) -> str:
    """The lunar date of a solar day: "十月初四", "闰六月十五"."""
    lunar = _lunar(day)
    return month_name(abs(lunar.getMonth()), lunar.getMonth() < 0) + day_name(lunar.getDay())


def cell_label(day: date) -> str:
    """What a calendar's day cell shows under the number: a lunar festival or solar term when
    there is one, the month's name on its first day ("闰六月"), else the day ("初四")."""
    lunar = _lunar(day)
    festivals = lunar.getFestivals()
    if festivals:
        return festivals[0]
    term = lunar.getJieQi()
    if term:
        return term
    if lunar.getDay() == 1:
        return month_name(abs(lunar.getMonth()), lunar.getMonth() < 0)
    return day_name(lunar.getDay())


def _lunar(day: date) -> Lunar:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise LunarDateRefused(_l("农历只支持 %(a)d 到 %(b)d 年", a=FIRST_YEAR, b=LAST_YEAR))
    return Solar.fromYmd(day.year, day.month, day.day).getLunar()
