"""Sending SMS and email, and the periodic greetings. Every job takes ids and may run twice:
the outbox row is claimed with a conditional UPDATE and committed before the provider is
called, so a second run finds it taken, sent, or (if a worker died mid-send) asks the provider
by the row's key instead of sending again. Whether a message goes now is rules.delivery's
decision; the SMS gateways and SMTP are adapters/sms.py and adapters/mail.py."""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from time import monotonic

from flask import current_app
from sqlalchemy import select

from adapters import mail, sms
from jobs.queue import QueueUnavailable, enqueue, job_app_context
from models import db
from models.messaging import Channel, HolidayGreeting, MessageBatch, MessageTemplate, Outbox, OutboxStatus
from rules import clock, delivery, mail_accounts, messaging, periodic, sfa
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
    """Carry out rules.delivery's decision for one row: send it, hold it, or recover it."""
    session = db.session
    now, tz = _now(), _tz()
    row = session.get(Outbox, outbox_id)
    if row is None:
        return "missing"
    config = messaging.load_settings(session)
    facts = delivery.Row(status=row.status, channel=row.channel, scheduled_at=row.scheduled_at,
                         respect_quiet_hours=row.respect_quiet_hours)
    channels = _channels(row.channel, now, tz)
    decision = delivery.decide(facts, channels, config=config, now=now, tz=tz)
    account = None
    if decision.act == delivery.Act.SEND and row.channel == Channel.EMAIL:
        account = mail_accounts.take_account(session, today=local_date(now, tz))
        if account is None:  # a parallel job took the last of the quota since we looked
            session.rollback()
            decision = delivery.decide(facts, replace(channels, mail_quota_left=False), config=config, now=now,
                                       tz=tz)
    if decision.act == delivery.Act.RECOVER:
        return _recover(row, now)
    if decision.act == delivery.Act.LEAVE:
        return decision.outcome
    if decision.act == delivery.Act.DEFER:
        messaging.defer(session, outbox_id, until=decision.until, reason=decision.reason)
        session.commit()
        return decision.outcome
    if not messaging.claim(session, outbox_id, now=now, account_id=account.id if account else None):
        session.rollback()
        return "taken"
    session.commit()  # claimed for good before anything leaves the building
    row = session.get(Outbox, outbox_id)
    if row.channel == Channel.SMS:
        provider = sms.sms_provider(config)
        name = provider.name
        result = provider.send(row.to_address, row.body, row.key)
    else:
        account = session.get(type(account), account.id)
        name = f"smtp:{account.id}"
        message = mail.build_email(account, to_address=row.to_address, to_name=row.to_name,
                                   subject=row.subject or "", html=row.body,
                                   text=messaging.html_to_text(row.body), key=row.key)
        result = mail.send_email(account, message)
        mail_accounts.count_result(session, account.id, result.ok)
    if result.ok:
        messaging.mark_sent(session, row, provider=name, provider_id=result.provider_id, now=now, tz=tz)
        outcome = OutboxStatus.SENT.value
    else:
        outcome = messaging.mark_failed(session, row, error=result.error or "", retryable=result.retryable, now=now,
                                        provider=name)
    session.commit()
    return outcome


def _channels(channel: str, now: datetime, tz: str) -> delivery.Channels:
    """What rules.delivery needs to know about the channel this message takes."""
    if channel == Channel.SMS:
        today, last_minute = messaging.sms_load(db.session, now=now, tz=tz)
        return delivery.Channels(sms_today=today, sms_last_minute=last_minute)
    return delivery.Channels(mail_quota_left=mail_accounts.quota_left(db.session, today=local_date(now, tz)))


def _recover(row: Outbox, now: datetime) -> str:
    """A row left in `sending`: ask the provider by our key; resend only when it says it never
    got the message, and mark it 状态未知 when it cannot tell."""
    session = db.session
    config = messaging.load_settings(session)
    found = sms.sms_provider(config).lookup(row.key) if row.channel == Channel.SMS else None
    if found is not None and found.ok:
        messaging.mark_sent(session, row, provider=sms.sms_provider(config).name,
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
