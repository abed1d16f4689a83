"""客户关怀: care records (done now, or planned for a day and shown in 待关怀 until recorded), the
upcoming birthdays of the customers and contacts one sees, and the scheduled birthday care SMS
through the existing outbox (rules/messaging.py): the template the administrator picked, once
per person a year (the outbox key carries the year), each one written down as a care record.
Nothing here commits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import extract, select, update
from sqlalchemy.orm import Session, joinedload

from models.care import CareChannel, CareKind, CareRecord
from models.customer import Contact, Customer
from models.messaging import Channel, MessageTemplate, Outbox
from rules import care_settings, contact_identity, lunar, messaging, scope
from rules.actor import Actor
from rules.errors import InvalidValue, RuleViolation

PERMISSION = "care.manage"

KIND_LABELS = {CareKind.BIRTHDAY.value: _l("生日"), CareKind.HOLIDAY.value: _l("节日"),
               CareKind.AFTER_SALE.value: _l("售后回访"), CareKind.OTHER.value: _l("其他")}
CHANNEL_LABELS = {CareChannel.PHONE.value: _l("电话"), CareChannel.SMS.value: _l("短信"),
                  CareChannel.VISIT.value: _l("上门"), CareChannel.WECHAT.value: _l("微信")}


class CareRefused(RuleViolation):
    """A care record cannot be completed (done already)."""


def check(session: Session, record: CareRecord, *, actor: Actor, now: datetime) -> CareRecord:
    """A record as the form filled it: the customer one sees, a contact of that customer, the
    content of what was done (a plan may say only what to do). A record without a planned day is
    done now, by the actor; a planned one waits in 待关怀."""
    if record.customer_id is None and record.customer is None:
        raise InvalidValue(_l("请选择客户"))
    # The form sets the relationship; customer_id still holds the one before an edit.
    customer = scope.get_in_scope(session, Customer,
                                  record.customer.id if record.customer is not None else record.customer_id, actor)
    contact = record.contact
    if contact is None and record.contact_id is not None:
        contact = session.get(Contact, record.contact_id)
    if contact is not None and contact.customer_id != customer.id:
        raise InvalidValue(_l("所选联系人不属于该客户"))
    if record.kind not in KIND_LABELS:
        raise InvalidValue(_l("请选择关怀类型"))
    if record.channel not in CHANNEL_LABELS:
        raise InvalidValue(_l("请选择关怀方式"))
    record.content = _words(record.content) or None
    if record.planned_for is None:
        record.done = True
    if record.done:
        if not record.content:
            raise InvalidValue(_l("请填写关怀内容"))
        record.at = record.at or now
        record.by_id = record.by_id or actor.user_id
    else:
        record.at = None
    session.flush()
    return record


def _words(raw: Any) -> str:
    """What someone wrote, as written: trimmed, with its Chinese punctuation kept (no NFKC)."""
    return str(raw if raw is not None else "").strip()


def complete(session: Session, record_id: Any, *, content: Any, actor: Actor, now: datetime) -> CareRecord:
    """完成 a planned care: what was done, by whom, when (once: a guarded UPDATE)."""
    record = scope.get_in_scope(session, CareRecord, record_id, actor)
    text = _words(content) or record.content
    if not text:
        raise InvalidValue(_l("请填写关怀内容"))
    done = session.execute(update(CareRecord).where(CareRecord.id == record.id, CareRecord.done.is_(False))
                           .values(done=True, at=now, by_id=actor.user_id, content=text)
                           .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise CareRefused(_l("这条关怀已经完成了"))
    session.refresh(record)
    return record


# --- 待关怀 --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Upcoming:
    day: date
    customer: Customer
    contact: Contact | None
    kind: str                   # CareKind value
    record: CareRecord | None   # a planned care; None for a birthday


def _greeted_on(born: date, today: date, days: int) -> date | None:
    """The day in [today, today + days) a person born on `born` is greeted (29 February: the
    28th in other years, as messaging.birthday_people does)."""
    for offset in range(days):
        day = today + timedelta(days=offset)
        if (born.month, born.day) == (day.month, day.day) or (
                (born.month, born.day) == (2, 29) and (day.month, day.day) == (2, 28)
                and not messaging._is_leap(day.year)):
            return day
    return None


def _soonest_first(column: Any, today: date) -> Any:
    """Month and day as a number counted from today's (23 November → 0, 1 December → 78), so one
    comparison finds the window's birthdays and the database orders them by their coming day,
    across New Year too (numbers that are no date, like 1132, belong to nobody)."""
    key = extract("month", column) * 100 + extract("day", column)
    return (key - (today.month * 100 + today.day) + 1300) % 1300


def _last_key(today: date, days: int) -> int:
    last = today + timedelta(days=days - 1)
    key = (last.month * 100 + last.day - (today.month * 100 + today.day) + 1300) % 1300
    if (last.month, last.day) == (2, 28) and not messaging._is_leap(last.year):
        key += 1  # those born on 29 February are greeted on the 28th
    return key


def upcoming(session: Session, *, actor: Actor, today: date, days: int | None = None,
             limit: int = 200) -> list[Upcoming]:
    """Birthdays of the customers and contacts the actor sees in the next `days` days (today
    included), and the planned care due by then (overdue ones too), soonest first, at most
    `limit` of each kind: one scan each, ordered by the coming day, so a long list is cut at its
    latest days, never at random ones."""
    days = days or care_settings.load(session)["upcoming_days"]
    end = today + timedelta(days=days)
    seen = scope.clause_for(Customer, actor)
    last = _last_key(today, days)
    rows: list[Upcoming] = []
    coming = _soonest_first(Customer.birthday, today)
    for c in session.scalars(select(Customer).where(seen, Customer.birthday.is_not(None), coming <= last)
                             .order_by(coming, Customer.id).limit(limit)):
        rows.append(Upcoming(_greeted_on(c.birthday, today, days) or today, c, None, CareKind.BIRTHDAY.value, None))
    coming = _soonest_first(Contact.birthday, today)
    for k in session.scalars(select(Contact).join(Customer, Contact.customer_id == Customer.id)
                             .where(seen, ~contact_identity.greets_by_lunar(), Contact.birthday.is_not(None),
                                    coming <= last)
                             .options(joinedload(Contact.customer)).order_by(coming, Contact.id).limit(limit)):
        rows.append(Upcoming(_greeted_on(k.birthday, today, days) or today, k.customer, k, CareKind.BIRTHDAY.value,
                             None))
    lunar_days = lunar.keys_between(today, days)
    for k in session.scalars(select(Contact).join(Customer, Contact.customer_id == Customer.id)
                             .where(seen, contact_identity.lunar_keys_clause(lunar_days))
                             .options(joinedload(Contact.customer)).order_by(Contact.id).limit(limit)):
        key = (k.lunar_birth_month, k.lunar_birth_day, bool(k.lunar_birth_leap))
        rows.append(Upcoming(lunar_days[key], k.customer, k, CareKind.BIRTHDAY.value, None))
    planned = session.scalars(select(CareRecord).where(
        scope.clause_for(CareRecord, actor), CareRecord.done.is_(False), CareRecord.planned_for < end)
        .options(joinedload(CareRecord.customer), joinedload(CareRecord.contact))
        .order_by(CareRecord.planned_for, CareRecord.id).limit(limit))
    rows.extend(Upcoming(r.planned_for, r.customer, r.contact, r.kind, r) for r in planned)
    rows.sort(key=lambda u: (u.day, u.record is not None, u.customer.name, u.contact.name if u.contact else ""))
    return rows


# --- scheduled birthday care ---------------------------------------------------------------------

def birthday_care(session: Session, *, now: datetime, tz: str) -> int:
    """From the set hour on, the birthday care SMS to the customers and contacts born on this
    day, keyed by year and person: repeated runs (and the same day next hour) add nobody twice.
    Off while 短信中心's own 生日祝福 is on (the settings refuse both; this is the second guard).
    Returns how many messages were queued."""
    config = care_settings.load(session)
    template = session.get(MessageTemplate, config["birthday_template_id"] or 0)
    local = messaging.local_now(now, tz)
    if (not config["birthday_enabled"] or template is None or not template.active
            or template.channel != Channel.SMS or local.hour < int(config["birthday_hour"])
            or messaging.load_settings(session).get("birthday_enabled")):
        return 0
    try:
        messaging.check_text(session, template.body, template.subject)
    except InvalidValue:  # a placeholder renamed since the template was picked: nothing goes out
        return 0
    customers, contacts = messaging.birthday_people(session, local.date(), include_contacts=True)
    recipients = messaging.collect(session, customers, channel=Channel.SMS, contacts=contacts)
    if not recipients.send:
        return 0
    day = local.date().isoformat()
    batch = messaging.queue_messages(
        session, recipients.send, channel=Channel.SMS, body=template.body, sender=None, now=now,
        title=f"生日关怀 {local.date().isoformat()}", template_id=template.id, respect_quiet_hours=True,
        source="care", skipped=len(recipients.skipped), owner_as_sender=True,
        # Keyed by the day greeted: a lunar birthday in 冬月 or 腊月 can fall twice in one solar year.
        key=lambda r: f"care:birthday:{day}:{r.customer.id}:{r.contact.id if r.contact else 0}")
    if batch.total == 0:
        session.delete(batch)
        session.flush()
        return 0
    for customer_id, contact_id, body in session.execute(
            select(Outbox.customer_id, Outbox.contact_id, Outbox.body).where(Outbox.batch_id == batch.id)):
        session.add(CareRecord(customer_id=customer_id, contact_id=contact_id, kind=CareKind.BIRTHDAY.value,
                               channel=CareChannel.SMS.value, content=body, by_id=None, at=now, done=True,
                               created_at=now))
    session.flush()
    return batch.total
