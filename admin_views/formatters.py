"""How values look on screen: dates as 2026-11-22 in the firm's time zone, money as ¥1,234.50."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext
from flask_admin.model import typefmt
from markupsafe import Markup, escape

from rules import phone_region, phones


def local(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


def fmt_datetime(value: datetime | None) -> str:
    return local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def fmt_date(value: date | None) -> str:
    """2026-11-22; a moment (a datetime) is dated where the firm is, not in UTC: a follow-up
    written at 07:30 in Shanghai is on that day, though it is still yesterday in UTC."""
    if isinstance(value, datetime):
        value = local(value).date()
    return value.strftime("%Y-%m-%d") if value else ""


def fmt_location(record: Any) -> str:
    """位置 of a record that has latitude, longitude and location_accuracy: "位置: 31.230400,
    121.473700 (±35 米)", or "" when it has none."""
    if getattr(record, "latitude", None) is None or getattr(record, "longitude", None) is None:
        return ""
    place = f"{Decimal(record.latitude):.6f}, {Decimal(record.longitude):.6f}"
    if record.location_accuracy is None:
        return gettext("位置: %(p)s", p=place)
    return gettext("位置: %(p)s (±%(m)d 米)", p=place, m=record.location_accuracy)


def fmt_money(value: Decimal | float | int | None) -> str:
    if value is None:
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def fmt_phone(value: str | None) -> str:
    """A stored number as people read it: 138 1234 5678, 0317-71490681 转 8001 (rules/phones.py)."""
    return phones.display(value)


def phone_cell(view: Any, context: Any, model: Any, name: str) -> str:
    return fmt_phone(getattr(model, name))


def fmt_mobile(value: str | None) -> Markup | str:
    """A mobile number with its 手机归属地 beside it: 138 0013 8000 北京 中国移动 (looked up once per
    号段, so a list page costs nothing noticeable)."""
    shown = fmt_phone(value)
    found = phone_region.lookup(value) if shown else None
    if not found:
        return shown
    return Markup('{} <small class="text-muted text-nowrap kechi-mobile-region" title="{}">{}</small>').format(
        shown, gettext("手机归属地"), found.label)


def mobile_cell(view: Any, context: Any, model: Any, name: str) -> Markup | str:
    """In a list the place goes under the number (the carrier in its tooltip), so the column
    stays as narrow as the number and every column still fits at 1280 pixels."""
    value = getattr(model, name)
    shown = fmt_phone(value)
    found = phone_region.lookup(value) if shown else None
    if not found:
        return shown
    return Markup('{}<small class="d-block text-muted kechi-mobile-region" title="{}">{}</small>').format(
        shown, found.label, found.place or found.carrier)


PHONE_CELLS = {"phone": phone_cell, "mobile": mobile_cell, "fax": phone_cell}


def fmt_discount(rate: Decimal | float | str | None) -> Markup:
    """A discount rate as Chinese shops say it: 0.9 → 9折, 0.95 → 9.5折, 1 → 不打折; the
    percentage of the price is the tooltip."""
    if rate is None or rate == "":
        return Markup("")
    rate = Decimal(str(rate))
    percent = f"{(rate * 100).normalize():f}%"
    text = gettext("不打折") if rate >= 1 else gettext("%(tenths)s折", tenths=f"{(rate * 10).normalize():f}")
    # Markup is safe here: both values pass through escape().
    return Markup(f"<span title='{escape(percent)}' data-discount='{escape(rate)}'>{escape(text)}</span>")


def _type_datetime(view: Any, value: datetime, name: str) -> str:
    return fmt_datetime(value)


def _type_date(view: Any, value: date, name: str) -> str:
    return fmt_date(value)


DEFAULT_FORMATTERS = dict(typefmt.BASE_FORMATTERS)
DEFAULT_FORMATTERS.update({datetime: _type_datetime, date: _type_date})


def day_with_time_on_hover(view: Any, context: Any, model: Any, name: str) -> Markup:
    """A list cell showing the day; the time is in the tooltip (lists are wide enough already)."""
    value = getattr(model, name)
    if not value:
        return Markup("")
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<span title='{escape(fmt_datetime(value))}'>{escape(local(value).strftime('%Y-%m-%d'))}</span>")


def choice_label(choices: dict[str, Any]):
    """A list formatter showing the translated label of a stored code."""

    def formatter(view: Any, context: Any, model: Any, name: str) -> str:
        value = getattr(model, name)
        return str(choices.get(str(value), value or ""))

    formatter.choices = choices  # type: ignore[attr-defined]  # the audit log names stored codes with it
    return formatter


def indented(node: Any) -> str:
    """A department or product category in a tree-ordered list: indented by its depth."""
    return "　" * node.depth + ("└ " if node.depth else "") + node.name
