"""回款计划's daily runs: instalments past due → 逾期, and the owners' 回款提醒."""
from __future__ import annotations

from flask import current_app

from jobs.queue import job_app_context
from models import db
from rules import clock, payment_plans, periodic
from rules.clock import local_date


def mark_overdue_plans() -> int:
    """Instalments past their due date and not paid → 逾期 (set-based; a second run moves nothing)."""
    with job_app_context():
        now = clock.now()
        count = payment_plans.mark_overdue(db.session, local_date(now, current_app.config["TIMEZONE"]), now=now)
        periodic.record_run(db.session, "mark_overdue_plans", now=now, result=f"overdue {count}")
        db.session.commit()
        return count


def send_plan_reminders() -> int:
    """回款提醒 before due (each instalment's remind_days) and on 逾期, once each."""
    with job_app_context():
        now = clock.now()
        sent = payment_plans.send_reminders(db.session, local_date(now, current_app.config["TIMEZONE"]), now=now)
        periodic.record_run(db.session, "send_plan_reminders", now=now, result=f"sent {sent}")
        db.session.commit()
        return sent
