"""Sending SMS and email, and the periodic greetings. Every job takes ids and may run twice:
the outbox row is claimed with a conditional UPDATE and committed before the provider is
called, so a second run finds it taken, sent, or (if a worker died mid-send) asks the provider
by the row's key instead of sending again."""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta, timezone
from time import monotonic
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from jobs.queue import QueueUnavailable, enqueue, job_app_context
from models import db
from models.messaging import Channel, HolidayGreeting, MessageBatch, MessageTemplate, Outbox, OutboxStatus
from rules import clock, i18n, messaging, periodic, providers, sfa
from rules.clock import local_date
from rules.errors import RuleViolation

log = logging.getLogger(__name__)
BULK_TIMEOUT = 6 * 3600   # a bulk send may take hours under the per-minute rate
DISPATCH_SECONDS = 50     # the every-minute dispatch stops in time for the next one


def _now() -> datetime:
    return clock.now()


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def send_message(outbox_id: int) -> str:
    """Send one outbox row (or find out what happened to it)."""
    with job_app_context():
        return deliver(outbox_id)


def send_batch(batch_id: int) -> int:
    """A bulk send: every due message of the batch, one after another. Messages held back by
    rates or quiet hours get a later time and go out with dispatch_pending."""
    with job_app_context():
        return _send_due(batch_id=batch_id)


def send_messages(outbox_ids: list[int]) -> int:
    """重新发送: these messages, each once."""
    with job_app_context():
        return sum(1 for outbox_id in outbox_ids if deliver(outbox_id) == OutboxStatus.SENT)


def dispatch_pending() -> int:
    """Every minute: recover messages whose worker died, then send whatever is due (scheduled
    sends, retries, messages written while Redis was down)."""
    with job_app_context():
        now = _now()
        for outbox_id in messaging.stale_ids(db.session, now=now):
            deliver(outbox_id)
        sent = _send_due(batch_id=None, deadline=monotonic() + DISPATCH_SECONDS)
        periodic.record_run(db.session, "dispatch_pending", now=now, result=f"sent {sent}")
        db.session.commit()
        return sent


def _send_due(batch_id: int | None, deadline: float | None = None) -> int:
    """Send what is due, oldest first; stop at `deadline` (the next run goes on from there)."""
    sent, seen = 0, set()
    while deadline is None or monotonic() < deadline:
        ids = [i for i in messaging.pending_ids(db.session, batch_id=batch_id, now=_now()) if i not in seen]
        if not ids:
            return sent
        for outbox_id in ids:
            seen.add(outbox_id)
            if deliver(outbox_id) == OutboxStatus.SENT:
                sent += 1
            if deadline is not None and monotonic() >= deadline:
                break
    return sent


def deliver(outbox_id: int) -> str:
    session = db.session
    now, tz = _now(), _tz()
    row = session.get(Outbox, outbox_id)
    if row is None:
        return "missing"
    if row.status == OutboxStatus.SENDING:
        return _recover(row, now)
    if row.status != OutboxStatus.PENDING:
        return row.status
    if row.scheduled_at is not None and row.scheduled_at > now:
        return "scheduled"
    config = messaging.load_settings(session)
    account = None
    if row.channel == Channel.SMS:
        if row.respect_quiet_hours:
            until = messaging.quiet_until(now, config, tz)
            if until is not None:
                messaging.defer(session, row.id, until=until)
                session.commit()
                return "quiet"
        wait = messaging.rate_wait(session, now=now, config=config, tz=tz)
        if wait is not None:
            messaging.defer(session, row.id, until=wait, reason=i18n.source_text(_l("已达发送速率上限，稍后自动发送")))
            session.commit()
            return "rate"
    else:
        account = providers.take_account(session, today=local_date(now, tz))
        if account is None:
            session.rollback()
            zone = ZoneInfo(tz)
            tomorrow = datetime.combine(local_date(now, tz) + timedelta(days=1), time.min, tzinfo=zone)
            messaging.defer(session, outbox_id, until=tomorrow.astimezone(timezone.utc),
                            reason=i18n.source_text(_l("所有邮件账户今日额度已用完，明天自动发送")))
            session.commit()
            return "quota"
    if not messaging.claim(session, outbox_id, now=now, account_id=account.id if account else None):
        session.rollback()
        return "taken"
    session.commit()  # claimed for good before anything leaves the building
    row = session.get(Outbox, outbox_id)
    if row.channel == Channel.SMS:
        provider = providers.sms_provider(config)
        name = provider.name
        result = provider.send(row.to_address, row.body, row.key)
    else:
        account = session.get(type(account), account.id)
        name = f"smtp:{account.id}"
        message = providers.build_email(account, to_address=row.to_address, to_name=row.to_name,
                                        subject=row.subject or "", html=row.body,
                                        text=messaging.html_to_text(row.body), key=row.key)
        result = providers.send_email(account, message)
        providers.count_result(session, account.id, result.ok)
    if result.ok:
        messaging.mark_sent(session, row, provider=name, provider_id=result.provider_id, now=now, tz=tz)
        outcome = OutboxStatus.SENT.value
    else:
        outcome = messaging.mark_failed(session, row, error=result.error or "", retryable=result.retryable, now=now,
                                        provider=name)
    session.commit()
    return outcome


def _recover(row: Outbox, now: datetime) -> str:
    """A row left in `sending`: ask the provider by our key; resend only when it says it never
    got the message, and mark it 状态未知 when it cannot tell."""
    session = db.session
    config = messaging.load_settings(session)
    found = providers.sms_provider(config).lookup(row.key) if row.channel == Channel.SMS else None
    if found is not None and found.ok:
        messaging.mark_sent(session, row, provider=providers.sms_provider(config).name,
                            provider_id=found.provider_id, now=now, tz=_tz())
        session.commit()
        return OutboxStatus.SENT.value
    if row.claimed_at is not None and row.claimed_at > now - messaging.LEASE:
        return "in_progress"
    if found is not None:
        messaging.release_stale(session, row)
        session.commit()
        return deliver(row.id)
    messaging.mark_unknown(session, row)
    session.commit()
    return OutboxStatus.UNKNOWN.value


# --- periodic greetings ------------------------------------------------------------------------
def birthday_greetings() -> int:
    """Hourly: from the configured hour on, greet customers and contacts born on this day.
    Keys carry the date, so later runs of the same day add nobody twice."""
    with job_app_context():
        now, tz = _now(), _tz()
        config = messaging.load_settings(db.session)
        local = messaging.local_now(now, tz)
        added = 0
        template = db.session.get(MessageTemplate, config["birthday_template_id"] or 0)
        if config["birthday_enabled"] and template is not None and template.active \
                and local.hour >= int(config["birthday_hour"]):
            customers, contacts = messaging.birthday_people(db.session, local.date(),
                                                            include_contacts=bool(config["birthday_contacts"]))
            day = local.date().isoformat()
            batch, added = _greet(template, customers, contacts, include_contacts=False, source="birthday",
                                  title=f"生日祝福 {day}",
                                  key=lambda r: f"birthday:{day}:{r.customer.id}:{r.contact.id if r.contact else 0}:"
                                                f"{r.address}")
            _start_sending(batch)
        periodic.record_run(db.session, "birthday_greetings", now=now, result=f"added {added}")
        db.session.commit()
        return added


def holiday_greetings() -> int:
    """Hourly: on a holiday's date, from its hour on, greet every customer (and contacts if set)."""
    with job_app_context():
        now, tz = _now(), _tz()
        local = messaging.local_now(now, tz)
        added = 0
        holidays = db.session.scalars(select(HolidayGreeting).where(
            HolidayGreeting.active.is_(True), HolidayGreeting.on_date == local.date(),
            HolidayGreeting.send_hour <= local.hour))
        for holiday in list(holidays):
            if not holiday.template.active:
                continue
            day = local.date().isoformat()
            batch = None
            for chunk in messaging.customer_chunks(db.session):
                # one message per number: customers sharing a mobile get one greeting
                batch, n = _greet(holiday.template, chunk, [], include_contacts=holiday.include_contacts,
                                  source="holiday", title=f"{holiday.name} {day}", batch=batch,
                                  key=lambda r, h=holiday: f"holiday:{h.id}:{day}:{r.address}")
                added += n
            _start_sending(batch)
        periodic.record_run(db.session, "holiday_greetings", now=now, result=f"added {added}")
        db.session.commit()
        return added


def _greet(template: MessageTemplate, customers: list, contacts: list, *, include_contacts: bool, source: str,
           title: str, key, batch: MessageBatch | None = None) -> tuple[MessageBatch | None, int]:
    """Write the greetings of these recipients (keys already present are left out) and commit."""
    recipients = messaging.collect(db.session, customers, channel=template.channel,
                                   include_contacts=include_contacts, contacts=contacts)
    if not recipients.send:
        return batch, 0
    try:
        messaging.check_text(db.session, template.body, template.subject)
    except RuleViolation as exc:  # e.g. a custom field renamed since the template was saved
        log.warning("template %s not sent: %s", template.name, exc)
        return batch, 0
    before = batch.total if batch is not None else 0
    batch = messaging.queue_messages(db.session, recipients.send, channel=template.channel, body=template.body,
                                     subject=template.subject, sender=None, now=_now(), title=title,
                                     template_id=template.id, respect_quiet_hours=True, source=source,
                                     skipped=len(recipients.skipped), key=key, owner_as_sender=True, batch=batch)
    added = batch.total - before
    if batch.total == 0:
        db.session.delete(batch)
        db.session.commit()
        return None, 0
    db.session.commit()
    return batch, added


def _start_sending(batch: MessageBatch | None) -> None:
    """A bulk job of its own (long timeout); if Redis is down, dispatch_pending sends later."""
    if batch is None:
        return
    try:
        enqueue(send_batch, batch.id, job_timeout=BULK_TIMEOUT)
    except QueueUnavailable:
        log.warning("queue unavailable: batch %s waits for dispatch_pending", batch.id)


def run_sfa() -> int:
    """Hourly: SFA plans whose next day has come (an SMS to the customer or a reminder to the
    salesperson), each step taken once by a guarded UPDATE of the enrollment."""
    with job_app_context():
        now, tz = _now(), _tz()
        done = sfa.run_due(db.session, now=now, today=local_date(now, tz))
        periodic.record_run(db.session, "run_sfa", now=now, result=f"steps {len(done)}")
        db.session.commit()
        for batch_id in done:
            if batch_id:
                _start_sending(db.session.get(MessageBatch, batch_id))
        return len(done)


# Periodic jobs that may outlast rq's default 180 s (read by jobs/cron_config.py).
birthday_greetings.job_timeout = BULK_TIMEOUT  # type: ignore[attr-defined]
holiday_greetings.job_timeout = BULK_TIMEOUT  # type: ignore[attr-defined]
run_sfa.job_timeout = BULK_TIMEOUT  # type: ignore[attr-defined]
dispatch_pending.job_timeout = 120  # type: ignore[attr-defined]
