"""List filters that understand the firm's calendar: a date range picked on screen is local
days, while timestamps are stored in UTC."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_admin.contrib.sqla.filters import DateBetweenFilter, DateSmallerFilter, FilterEqual


def _utc_start(day: date) -> datetime:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone)


class LocalDateBetween(DateBetweenFilter):
    """Between two local dates, both days included."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        start, end = value
        column = self.get_column(alias)
        return query.filter(column >= _utc_start(start), column < _utc_start(end + timedelta(days=1)))


class LazyOptions:
    """Filter options read from the database on each page view, not once at start-up
    (Flask-Admin builds filters when the view is constructed)."""

    def __init__(self, factory) -> None:
        self.factory = factory

    def __iter__(self):
        return iter(self.factory())

    def __bool__(self) -> bool:
        return True


class IdEqual(FilterEqual):
    """Equality on an integer id chosen from a drop-down."""

    def validate(self, value: Any) -> bool:
        return str(value).isdigit()

    def clean(self, value: Any) -> int:
        return int(value)


