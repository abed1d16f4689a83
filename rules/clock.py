"""The one clock, and local calendar arithmetic. Times are stored in UTC; "today" is the firm's
local day.

Views, jobs and rules ask `now()` what time it is, never the wall clock, so a test (or a demo)
can pin the whole process to an instant and move it: `pin(...)`, `move(...)`, `unpin()`, or
`with pinned(...)`. Pinned, the clock stands still until moved, so an instant a test computes is
the instant the code stored. The state is process-wide (threads serving a browser test see it);
it sits in models.base because column defaults (created_at, ...) follow it and models import no
rules. The CLOCK setting (env KECHI_CLOCK, an ISO instant) pins it when the app starts, which is
how a test hands its instant to an `rq worker` process.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from models import base as _state


def now() -> datetime:
    """The current instant, aware UTC."""
    return _state.utcnow()


def is_pinned() -> bool:
    return _state.pinned_instant() is not None


def parse_instant(value: datetime | str) -> datetime:
    """An aware datetime or an ISO 8601 string with an offset ("2026-11-23T02:00:00+00:00", "...Z")."""
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(value.strip())
    if instant.tzinfo is None:
        raise ValueError(f"the clock needs an instant with a UTC offset, got {value!r}")
    return instant.astimezone(timezone.utc)


def pin(instant: datetime | str) -> datetime:
    """Stop the process clock at `instant` until moved or unpinned."""
    moment = parse_instant(instant)
    _state.set_pinned(moment)
    return moment


def move(delta: timedelta) -> datetime:
    """Move the pinned clock by `delta` (backwards too); returns the new instant."""
    if not is_pinned():
        raise RuntimeError("the clock is not pinned; pin it before moving it")
    return pin(now() + delta)


def unpin() -> None:
    """Back to the wall clock."""
    _state.set_pinned(None)


@contextmanager
def pinned(instant: datetime | str) -> Iterator[datetime]:
    """Pin for the duration of a block, then restore whatever was there before."""
    before = _state.pinned_instant()
    try:
        yield pin(instant)
    finally:
        _state.set_pinned(before)


def local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def local_day_start(moment: datetime, tz: str) -> datetime:
    """The UTC instant at which the local day containing `moment` began."""
    zone = ZoneInfo(tz)
    return datetime.combine(local_date(moment, tz), time.min, tzinfo=zone).astimezone(timezone.utc)
