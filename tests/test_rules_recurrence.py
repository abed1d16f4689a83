"""Repeats are expanded in Asia/Shanghai local time, month ends follow RFC 5545, a series must end."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from rules import recurrence
from rules.recurrence import RuleRefused

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(timezone.utc)


def expand(start: datetime, rule: str, hours: int = 1, exdates: list[str] | None = None) -> list[datetime]:
    stored = recurrence.normalize(rule, recurrence.local_start(start, TZ), TZ)
    return [s for s, _e, _k in recurrence.occurrences(starts_at=start, ends_at=start + timedelta(hours=hours),
                                                      rule=stored, exdates=exdates, tz=TZ)]


def local_days(instants: list[datetime]) -> list[str]:
    return [i.astimezone(SH).strftime("%Y-%m-%d %H:%M") for i in instants]


def test_the_31st_of_each_month_skips_the_months_without_one():
    starts = expand(local(2027, 1, 31, 9, 0), "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=4")
    assert local_days(starts) == ["2027-01-31 09:00", "2027-03-31 09:00", "2027-05-31 09:00", "2027-07-31 09:00"]


def test_the_last_day_of_each_month_includes_february_the_29th_of_a_leap_year():
    starts = expand(local(2028, 1, 31, 9, 0), "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=4")
    assert local_days(starts) == ["2028-01-31 09:00", "2028-02-29 09:00", "2028-03-31 09:00", "2028-04-30 09:00"]
    starts = expand(local(2027, 1, 31, 9, 0), "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=2")
    assert local_days(starts) == ["2027-01-31 09:00", "2027-02-28 09:00"]


def test_a_series_just_after_local_midnight_counts_local_days_not_utc_days():
    # 00:30 on the 31st in Shanghai is 16:30 on the 30th in UTC: expanding in UTC would land on the 30th.
    start = local(2027, 1, 31, 0, 30)
    assert start.day == 30
    starts = expand(start, "FREQ=MONTHLY;COUNT=3")
    assert local_days(starts) == ["2027-01-31 00:30", "2027-03-31 00:30", "2027-05-31 00:30"]


def test_a_yearly_series_on_the_29th_of_february_comes_every_leap_year():
    starts = expand(local(2028, 2, 29, 9, 0), "FREQ=YEARLY;COUNT=2")
    assert local_days(starts) == ["2028-02-29 09:00", "2032-02-29 09:00"]


def test_until_in_utc_is_read_as_the_local_moment_it_names():
    # 2026-12-02T16:00Z is 2026-12-03 00:00 in Shanghai: the 3rd at 09:00 is after it.
    starts = expand(local(2026, 11, 30, 9, 0), "FREQ=DAILY;UNTIL=20261202T160000Z")
    assert local_days(starts) == ["2026-11-30 09:00", "2026-12-01 09:00", "2026-12-02 09:00"]


def test_an_exdate_takes_one_occurrence_out():
    starts = expand(local(2026, 11, 30, 9, 0), "FREQ=DAILY;COUNT=3", exdates=["2026-12-01T09:00:00"])
    assert local_days(starts) == ["2026-11-30 09:00", "2026-12-02 09:00"]


def test_a_window_expands_only_what_overlaps_it():
    start = local(2026, 1, 1, 9, 0)
    stored = recurrence.normalize("FREQ=DAILY;COUNT=1500", recurrence.local_start(start, TZ), TZ)
    inside = list(recurrence.occurrences(starts_at=start, ends_at=start + timedelta(hours=1), rule=stored, exdates=[],
                                         tz=TZ, window_start=local(2027, 3, 1), window_end=local(2027, 3, 8)))
    assert [k for _s, _e, k in inside] == [f"2027-03-0{d}T09:00:00" for d in range(1, 8)]
    assert recurrence.last_end(starts_at=start, ends_at=start + timedelta(hours=1), rule=stored, tz=TZ) \
        == local(2030, 2, 8, 10, 0)


@pytest.mark.parametrize("rule", ["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO,WE", "RRULE:FREQ=MONTHLY;BYMONTHDAY=-1"])
def test_a_rule_that_never_ends_is_refused(app, rule):
    with app.test_request_context(), pytest.raises(RuleRefused) as refused:
        recurrence.normalize(rule, datetime(2026, 11, 23, 9, 0), TZ)
    assert str(refused.value) == "重复规则必须设置结束日期或次数"


def test_a_series_too_long_and_an_unreadable_rule_are_refused(app):
    with app.test_request_context():
        with pytest.raises(RuleRefused) as refused:
            recurrence.normalize("FREQ=DAILY;COUNT=100000", datetime(2026, 11, 23, 9, 0), TZ)
        assert "重复次数不能超过" in str(refused.value)
        with pytest.raises(RuleRefused) as refused:
            recurrence.normalize("FREQ=SOMETIMES;COUNT=3", datetime(2026, 11, 23, 9, 0), TZ)
        assert "无法识别" in str(refused.value)


def test_the_ics_rule_writes_until_in_utc_or_as_a_date():
    assert recurrence.ics_rule("FREQ=DAILY;UNTIL=20261203T090000", all_day=False, tz=TZ) == \
        "FREQ=DAILY;UNTIL=20261203T010000Z"
    assert recurrence.ics_rule("FREQ=DAILY;UNTIL=20261203T000000", all_day=True, tz=TZ) == "FREQ=DAILY;UNTIL=20261203"
