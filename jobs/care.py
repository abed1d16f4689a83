"""客户关怀 and 回访 on a schedule: satisfaction surveys for tickets just resolved, and birthday
care SMS. Each job calls the rule, records its run and commits; the SMS rows it writes carry
idempotency keys, so a run repeated (or retried) sends nothing twice. The messages go out with
messaging.dispatch_pending, within the minute."""
from __future__ import annotations

from functools import partial

from flask import current_app

from jobs.queue import job_app_context
from models import db
from rules import care, care_settings, clock, periodic, satisfaction


def send_satisfaction_surveys() -> int:
    """Every 10 minutes: a survey (and its SMS) for each ticket resolved since the last runs."""
    with job_app_context():
        now = clock.now()
        base = care_settings.load(db.session)["link_base"]
        link = partial(care_settings.survey_link, base) if base else None  # no address: surveys, no SMS
        made = satisfaction.survey_due(db.session, now=now, link=link)
        periodic.record_run(db.session, "send_satisfaction_surveys", now=now, result=f"surveys {len(made)}")
        db.session.commit()
        return len(made)


def send_birthday_care() -> int:
    """Hourly: from the set hour on, the birthday care SMS of the day, once per person a year."""
    with job_app_context():
        now = clock.now()
        sent = care.birthday_care(db.session, now=now, tz=current_app.config["TIMEZONE"])
        periodic.record_run(db.session, "send_birthday_care", now=now, result=f"sent {sent}")
        db.session.commit()
        return sent
