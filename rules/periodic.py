"""Book-keeping of periodic job runs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models.system import PeriodicRun


def record_run(session: Session, name: str, *, now: datetime, result: str | None = None) -> None:
    row = session.get(PeriodicRun, name)
    if row is None:
        row = PeriodicRun(name=name, last_run_at=now, runs=0)
        session.add(row)
    row.last_run_at = now
    row.runs = (row.runs or 0) + 1
    row.last_result = (result or "")[:255]
    session.flush()
