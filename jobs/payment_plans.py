"""回款计划's daily runs: instalments past due → 逾期, and the owners' 回款提醒."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from flask import current_app
from sqlalchemy.orm import Session

from jobs.queue import job_app_context
from models import db
from rules import clock, payment_plans, periodic
from rules.clock import local_date


def _daily(name: str, work: Callable[..., int], label: str) -> int:
    """Run `work(session, today, now=now)` at the process clock's local day, record the run."""
    with job_app_context():
        now: datetime = clock.now()
        today: date = local_date(now, current_app.config["TIMEZONE"])
        session: Session = db.session
        count = work(session, today, now=now)
        periodic.record_run(session, name, now=now, result=f"{label} {count}")
        session.commit()
        return count


def mark_overdue_plans() -> int:
    """Instalments past their due date and not paid → 逾期 (set-based; a second run moves nothing)."""
    return _daily("mark_overdue_plans", payment_plans.mark_overdue, "overdue")


def send_plan_reminders() -> int:
    """回款提醒 before due (each instalment's remind_days) and on 逾期, once each."""
    return _daily("send_plan_reminders", payment_plans.send_reminders, "sent")
