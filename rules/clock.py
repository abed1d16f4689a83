"""Local calendar arithmetic. Times are stored in UTC; "today" is the firm's local day."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo


def local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def local_day_start(moment: datetime, tz: str) -> datetime:
    """The UTC instant at which the local day containing `moment` began."""
    zone = ZoneInfo(tz)
    return datetime.combine(local_date(moment, tz), time.min, tzinfo=zone).astimezone(timezone.utc)
