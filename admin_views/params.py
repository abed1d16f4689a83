"""The one place request parameters become Python values: ids, whole numbers, dates, date
ranges, money and paging. Anything a person could not have typed into our pages (an id past
the database's integer range, a year 0001, NaN money, a NUL byte) is refused here with a
friendly 400 page (`BadParameter`) or, for ids, a 404 ("no such record") — before it reaches
SQL, where it would be a driver error and a 500."""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, abort, request
from flask_babel import gettext
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

from models.base import MAX_DB_INT, MAX_ID

# Dates outside these years are typing mistakes or attacks: date arithmetic on 0001-01-01 or
# 9999-12-31 overflows, and no report of a CRM spans them.
MIN_YEAR, MAX_YEAR = 1900, 2100
# Larger than any amount this CRM handles (Numeric(14, 2) columns hold < 10^12).
MAX_MONEY = Decimal("1000000000000")
MAX_PAGE = 100_000


class BadParameter(BadRequest):
    """A request parameter that cannot mean anything: 400 with the reason on a friendly page."""

    def __init__(self, message: str) -> None:
        super().__init__(description=message)


def clean_text(value: Any) -> str:
    """Text as typed; a NUL byte cannot be typed, and PostgreSQL refuses it in any string."""
    return str(value or "").replace("\x00", "").strip()


def _digits(value: Any) -> str | None:
    text = str(value if value is not None else "").strip()
    return text if text.isascii() and text.isdigit() else None


def id_or_none(value: Any) -> int | None:
    """A record id, or None when it is missing, not a number or beyond any stored id."""
    text = _digits(value)
    if text is None:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def int_id(value: Any) -> int:
    """A record id from the URL; anything else names no record: 404."""
    number = id_or_none(value)
    if number is None:
        abort(404)
    return number


def ids_list(raw: Any) -> list[int]:
    """The ids of "1,2,3" (or a list of strings), each once, in order; others are ignored."""
    parts = raw if isinstance(raw, (list, tuple)) else str(raw or "").replace(" ", "").split(",")
    return list(dict.fromkeys(i for i in (id_or_none(p) for p in parts) if i is not None))


def optional_int(value: Any, *, name: str, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """A whole number a person typed; empty → None, anything else out of range → 400."""
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        raise BadParameter(gettext("“%(name)s”应为整数", name=name)) from None
    if not minimum <= number <= maximum:
        raise BadParameter(gettext("“%(name)s”应在 %(lo)d 到 %(hi)d 之间", name=name, lo=minimum, hi=maximum))
    return number


def positive_int(value: Any, *, name: str, default: int, maximum: int = MAX_ID) -> int:
    number = optional_int(value, name=name, minimum=1, maximum=maximum)
    return default if number is None else number


def date_param(value: Any, *, name: str) -> date | None:
    """An ISO date (2026-01-01) within MIN_YEAR..MAX_YEAR; empty → None, else 400."""
    text = clean_text(value)
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadParameter(gettext("%(name)s“%(v)s”无法识别，请按 2026-01-01 的格式填写", name=name, v=text)) from None
    check_year(day, name=name)
    return day


def check_year(day: date, *, name: str) -> date:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise BadParameter(gettext("%(name)s应在 %(lo)d 年到 %(hi)d 年之间", name=name, lo=MIN_YEAR, hi=MAX_YEAR))
    return day


def money_param(value: Any, *, name: str) -> Decimal | None:
    """An amount of money: finite, at most two decimals' worth, below MAX_MONEY; empty → None."""
    text = clean_text(value).replace(",", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise BadParameter(gettext("%(name)s“%(v)s”不是金额", name=name, v=text)) from None
    if not amount.is_finite() or abs(amount) >= MAX_MONEY:
        raise BadParameter(gettext("%(name)s“%(v)s”不是金额", name=name, v=text))
    return amount


def finite_float(value: Any) -> float | None:
    """A number for a numeric filter, or None when it is not one a person could mean."""
    try:
        number = float(clean_text(value))
    except ValueError:
        return None
    return number if math.isfinite(number) and abs(number) < float(MAX_DB_INT) else None


def page_number(value: Any) -> int:
    """A list page (0-based); anything odd shows the first page rather than an error."""
    text = _digits(value)
    return min(int(text), MAX_PAGE) if text is not None and len(text) < 10 else 0


def ajax_window(offset: Any, limit: Any, *, max_limit: int = 100) -> tuple[int, int]:
    """offset/limit of a drop-down look-up: clamped to 0.. and 1..max_limit."""
    start = _digits(offset)
    size = _digits(limit)
    return (min(int(start), MAX_PAGE * 100) if start and len(start) < 10 else 0,
            max(1, min(int(size), max_limit)) if size and len(size) < 10 else 10)


def sane_filter_value(value: Any) -> bool:
    """A list filter's value a person could have chosen or typed: no NUL byte, no number beyond
    the database's integers, no NaN/infinity (which numeric filters would pass to SQL)."""
    text = str(value or "")
    if "\x00" in text:
        return False
    for part in text.replace(" ", ",").split(","):
        part = part.strip().lstrip("+-")
        if part.isdigit() and int(part) > MAX_DB_INT:
            return False
        if part.lower() in {"nan", "inf", "infinity"} or (part and _looks_numeric(part) and finite_float(part) is None):
            return False
    return True


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class BoundedIntConverter(IntegerConverter):
    """Flask's <int:…> with the database's range: /admin/excel/99999999999999999999/ is a 404
    from the router instead of an overflow in SQL."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = None, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)


def install_converters(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_nul_bytes)


def refuse_nul_bytes() -> None:
    """No keyboard types a NUL byte, and PostgreSQL refuses one in any text (a driver error, so
    a 500, wherever it reaches SQL): refuse it once, here, for every field of every page. The
    list search strips it instead (clean_text), as a paste can carry one."""
    for key, value in request.args.items(multi=True):
        if "\x00" in value and key != "search":
            raise BadParameter(gettext("请求中有无法识别的字符"))
    try:
        form = request.form
    except RequestEntityTooLarge:
        return  # the page itself explains an oversized upload
    for key, value in form.items(multi=True):
        if "\x00" in key or "\x00" in value:
            raise BadParameter(gettext("请求中有无法识别的字符"))


# A setting's count or number of days: beyond a billion it is a typing mistake, and beyond the
# database's integers a failed save.
MAX_SETTING = 1_000_000_000


def setting_number(value: Any) -> int | None:
    """A non-negative whole number typed into a settings form, or None if it is not one."""
    text = _digits(value)
    return int(text) if text is not None and len(text) <= 10 and int(text) <= MAX_SETTING else None
