"""Generated numbers (客户编号, later order numbers) from an administrator's pattern.

A pattern such as "KH{yyyy}{seq:05d}" may use {yyyy} {yy} {mm} {dd} and must use {seq}; the
sequence restarts whenever the date part of the pattern changes (each year here).
"""
from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.system import Sequence
from rules.errors import InvalidValue

_SEQ = re.compile(r"\{seq(?::0?(\d+)d)?\}")


def validate_pattern(pattern: str) -> None:
    if len(_SEQ.findall(pattern or "")) != 1:
        raise InvalidValue(_l("编号规则必须且只能包含一个 {seq}，例如 KH{yyyy}{seq:05d}"))
    try:
        render(pattern, date(2026, 1, 1), 1)
    except (KeyError, ValueError, IndexError) as exc:
        raise InvalidValue(_l("编号规则无法识别：%(e)s", e=str(exc))) from exc


def render(pattern: str, day: date, seq: int) -> str:
    return pattern.format(yyyy=f"{day:%Y}", yy=f"{day:%y}", mm=f"{day:%m}", dd=f"{day:%d}", seq=seq)


def _period(pattern: str, day: date) -> str:
    """The date part of the pattern, so the counter restarts when it changes."""
    head = _SEQ.sub("", pattern)
    return head.format(yyyy=f"{day:%Y}", yy=f"{day:%y}", mm=f"{day:%m}", dd=f"{day:%d}")[:16] or "-"


def next_number(session: Session, name: str, pattern: str, *, today: date) -> str:
    """Reserve the next number: a guarded UPDATE ... value = value + 1 (row-locked on
    PostgreSQL, serialised writers on SQLite), creating the counter on first use."""
    period = _period(pattern, today)
    for _attempt in range(3):
        bumped = session.execute(
            update(Sequence).where(Sequence.name == name, Sequence.period == period)
            .values(value=Sequence.value + 1).returning(Sequence.value)
        ).scalar()
        if bumped is not None:
            return render(pattern, today, bumped)
        try:
            with session.begin_nested():
                session.execute(insert(Sequence).values(name=name, period=period, value=1))
            return render(pattern, today, 1)
        except IntegrityError:
            continue  # someone created it at the same moment: bump theirs
    raise RuntimeError("could not reserve a number")


def peek(session: Session, name: str, pattern: str, *, today: date) -> str:
    current = session.scalar(select(Sequence.value).where(Sequence.name == name,
                                                          Sequence.period == _period(pattern, today)))
    return render(pattern, today, (current or 0) + 1)


def reserve(session: Session, name: str, pattern: str, *, today: date, count: int) -> list[str]:
    """Reserve `count` consecutive numbers with one guarded UPDATE (bulk imports)."""
    if count <= 0:
        return []
    first = next_number(session, name, pattern, today=today)
    if count == 1:
        return [first]
    period = _period(pattern, today)
    last = session.execute(
        update(Sequence).where(Sequence.name == name, Sequence.period == period)
        .values(value=Sequence.value + (count - 1)).returning(Sequence.value)).scalar()
    return [render(pattern, today, seq) for seq in range(last - count + 1, last + 1)]
