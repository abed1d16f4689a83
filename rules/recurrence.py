"""Repeating events: an RFC 5545 RRULE (python-dateutil's rrule) read in the firm's local time.

A rule is expanded from the event's local start, never from UTC: "every day at 09:00" stays at
09:00 local, and BYMONTHDAY counts local days. Month ends follow RFC 5545: BYMONTHDAY=31 skips
the months without a 31st (and FREQ=MONTHLY from the 31st does the same); BYMONTHDAY=-1 is the
last day of every month (28/29 February included). A series must end (COUNT or UNTIL) and may
not exceed MAX_OCCURRENCES, so every expansion is bounded."""
from __future__ import annotations

import enum
import functools
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr
from flask_babel import lazy_gettext as _l

from rules.errors import InvalidValue

MAX_OCCURRENCES = 2000  # five and a half years of a daily event


class RuleRefused(InvalidValue):
    """A repeat rule that cannot be kept: unreadable, endless or too long."""


def _strip(text: str) -> str:
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    return body.strip().rstrip(";").upper()


def _parts(body: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for piece in body.split(";"):
        if "=" not in piece:
            raise RuleRefused(_l("重复规则“%(r)s”无法识别", r=body))
        key, value = piece.split("=", 1)
        parts[key.strip()] = value.strip()
    return parts


def _local_until(value: str, tz: ZoneInfo) -> str:
    """UNTIL as a local wall time: RFC 5545 writes it in UTC ("…Z") when DTSTART has a zone; the
    expansion runs on local wall times, so a UTC bound is moved into the firm's zone."""
    if not value.endswith("Z"):
        return value
    instant = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    return instant.astimezone(tz).strftime("%Y%m%dT%H%M%S")


def _build(body: str, local_start: datetime, tz: ZoneInfo) -> rrule:
    return _built(body, local_start, tz.key)


@functools.lru_cache(maxsize=1024)
def _built(body: str, local_start: datetime, tz: str) -> rrule:
    """A series' rule, kept with the occurrences dateutil has produced (cache=True): a calendar
    re-reads the same series on every page, and walking a rule from its start is the costly
    part of a team's month. Keyed on the rule text and its start, so an edit is a new entry."""
    parts = _parts(body)
    if "DTSTART" in parts:
        raise RuleRefused(_l("重复规则不需要 DTSTART，开始时间以日程为准"))
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise RuleRefused(_l("重复规则必须设置结束日期或次数"))
    if "UNTIL" in parts:
        parts["UNTIL"] = _local_until(parts["UNTIL"], ZoneInfo(tz))
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        rule = rrulestr(text, dtstart=local_start, forceset=False, ignoretz=True, cache=True)
    except (ValueError, TypeError, KeyError) as exc:
        raise RuleRefused(_l("重复规则“%(r)s”无法识别", r=body)) from exc
    if not isinstance(rule, rrule):
        raise RuleRefused(_l("重复规则“%(r)s”无法识别", r=body))
    return rule


def normalize(text: str | None, local_start: datetime, tz: str) -> str | None:
    """The rule as stored (dateutil's canonical text, UNTIL in local time), or None for a one-off.
    Refuses (RuleRefused) an unreadable rule, one without COUNT or UNTIL, one with no occurrence
    and one with more than MAX_OCCURRENCES."""
    if text is None or not text.strip():
        return None
    zone = ZoneInfo(tz)
    rule = _build(_strip(text), local_start, zone)
    count = 0
    for _ in rule:
        count += 1
        if count > MAX_OCCURRENCES:
            raise RuleRefused(_l("重复次数不能超过 %(n)d 次，请缩短结束日期或减少次数", n=MAX_OCCURRENCES))
    if count == 0:
        raise RuleRefused(_l("按此重复规则一次日程也不会发生，请检查开始日期和规则"))
    line = [ln for ln in str(rule).splitlines() if ln.startswith("RRULE:")][0]
    return line[len("RRULE:"):]


def local_start(starts_at: datetime, tz: str) -> datetime:
    """The naive local wall time a series is expanded from."""
    return starts_at.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def exdate_key(local: datetime) -> str:
    return local.isoformat(timespec="seconds")


def occurrences(*, starts_at: datetime, ends_at: datetime, rule: str | None, exdates: list[str] | None, tz: str,
                window_start: datetime | None = None, window_end: datetime | None = None,
                ) -> Iterator[tuple[datetime, datetime, str]]:
    """(start, end, key) in UTC of each occurrence overlapping [window_start, window_end) (the
    whole series without a window), in order; `key` is the local start (what an exdate names and
    what a reminder's dedupe key uses). All-day events keep their length in local days."""
    zone = ZoneInfo(tz)
    duration = ends_at - starts_at
    first = local_start(starts_at, tz)
    skipped = set(exdates or [])
    if rule is None:
        candidates: Iterator[datetime] = iter([first])
    else:
        series = _build(rule, first, zone)
        if window_start is not None:
            # Occurrences that started up to one duration before the window still overlap it.
            after = (window_start - duration).astimezone(zone).replace(tzinfo=None)
            candidates = series.xafter(after, inc=True)
        else:
            candidates = iter(series)
    for local in candidates:
        start = local.replace(tzinfo=zone).astimezone(timezone.utc)
        if window_end is not None and start >= window_end:
            break
        end = start + duration
        if window_start is not None and end <= window_start:
            continue
        key = exdate_key(local)
        if key in skipped:
            continue
        yield start, end, key


def last_end(*, starts_at: datetime, ends_at: datetime, rule: str | None, tz: str) -> datetime:
    """The end of the series' last occurrence (exdates ignored: the bound only has to be safe)."""
    if rule is None:
        return ends_at
    last = None
    for last in _build(rule, local_start(starts_at, tz), ZoneInfo(tz)):
        pass
    assert last is not None  # normalize() refused rules without occurrences
    return last.replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc) + (ends_at - starts_at)


def day_span(first: date, last: date, tz: str) -> tuple[datetime, datetime]:
    """An all-day event from `first` to `last` (local dates, inclusive) as UTC instants: local
    midnight to the midnight after `last`."""
    zone = ZoneInfo(tz)
    start = datetime.combine(first, time(0), zone).astimezone(timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(timezone.utc)
    return start, end


def ics_rule(rule: str, *, all_day: bool, tz: str) -> str:
    """The rule for an .ics file: RFC 5545 wants UNTIL in UTC when DTSTART names a zone, and as a
    date when DTSTART is a date (all-day)."""
    parts = _parts(rule)
    until = parts.get("UNTIL")
    if until:
        local = datetime.strptime(until[:15], "%Y%m%dT%H%M%S") if "T" in until else \
            datetime.strptime(until[:8], "%Y%m%d")
        if all_day:
            parts["UNTIL"] = local.strftime("%Y%m%d")
        else:
            parts["UNTIL"] = local.replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return ";".join(f"{k}={v}" for k, v in parts.items())


class Repeat(enum.StrEnum):
    """The repeats the form offers; CUSTOM takes an RRULE as typed."""

    NONE = "none"              # 不重复
    DAILY = "daily"            # 每天
    WEEKDAYS = "weekdays"      # 每个工作日（周一至周五）
    WEEKLY = "weekly"          # 每周
    MONTHLY = "monthly"        # 每月（没有这一天的月份跳过）
    MONTH_END = "month_end"    # 每月最后一天
    YEARLY = "yearly"          # 每年
    CUSTOM = "custom"          # 自定义（RRULE）


REPEAT_LABELS = {
    Repeat.NONE: _l("不重复"), Repeat.DAILY: _l("每天"), Repeat.WEEKDAYS: _l("每个工作日（周一至周五）"),
    Repeat.WEEKLY: _l("每周"), Repeat.MONTHLY: _l("每月（没有这一天的月份跳过）"), Repeat.MONTH_END: _l("每月最后一天"),
    Repeat.YEARLY: _l("每年"), Repeat.CUSTOM: _l("自定义（RRULE）"),
}
_PRESETS = {
    Repeat.DAILY: "FREQ=DAILY", Repeat.WEEKDAYS: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", Repeat.WEEKLY: "FREQ=WEEKLY",
    Repeat.MONTHLY: "FREQ=MONTHLY", Repeat.MONTH_END: "FREQ=MONTHLY;BYMONTHDAY=-1", Repeat.YEARLY: "FREQ=YEARLY",
}


def preset(kind: Repeat, *, until: date | None = None, count: int | None = None, custom: str | None = None) -> str | None:
    """The RRULE for what the form chose: a preset ended by `until` (a local date, inclusive) or
    `count`; a custom rule as typed, with the form's end added when it names none. Unchecked:
    normalize() refuses what cannot be kept."""
    if kind == Repeat.NONE:
        return None
    body = _strip(custom or "") if kind == Repeat.CUSTOM else _PRESETS[kind]
    if not body:
        raise RuleRefused(_l("请填写自定义重复规则，例如 FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"))
    if "COUNT=" not in body and "UNTIL=" not in body:
        if count:
            body += f";COUNT={count}"
        elif until:
            body += f";UNTIL={until:%Y%m%d}T235959"
    return body


def describe(rule: str | None) -> tuple[Repeat, date | None, int | None, str]:
    """What the form shows for a stored rule: the preset, its end date or count, and the rule
    text (for CUSTOM)."""
    if not rule:
        return Repeat.NONE, None, None, ""
    parts = _parts(rule)
    until_text, count_text = parts.pop("UNTIL", None), parts.pop("COUNT", None)
    until = datetime.strptime(until_text[:8], "%Y%m%d").date() if until_text else None
    count = int(count_text) if count_text else None
    rest = parts.copy()
    for kind, body in _PRESETS.items():
        if _parts(body) == rest or (kind == Repeat.WEEKLY and rest.keys() == {"FREQ", "BYDAY"}
                                    and rest["FREQ"] == "WEEKLY" and "," not in rest["BYDAY"]):
            return kind, until, count, rule
    return Repeat.CUSTOM, until, count, rule
