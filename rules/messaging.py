"""短信中心 / 邮件群发: placeholders, rendering, segments, recipients, opt-outs, quiet hours,
rates, and the outbox state machine (pending → sending → sent / failed / unknown).

Templates take a fixed set of {placeholders}, never Jinja (DESIGN §12). Email HTML is cleaned
with nh3 after the (escaped) values are put in, so neither the template nor a customer's name
can carry a script.
"""
from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import nh3
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import and_, extract, func, insert, or_, select, update
from sqlalchemy.orm import Session

from models.customer import Contact, Customer, FollowUp, FollowUpKind
from models.messaging import Channel, MessageBatch, MessageTemplate, OptOut, Outbox, OutboxStatus
from models.office import NotificationKind
from models.org import User
from models.system import CustomField
from rules import contact_identity, custom_fields, followups, i18n, normalize, settings
from rules.actor import Actor
from rules.clock import local_date
from rules.delivery import local_day_start
from rules.errors import InvalidValue
from rules.links import ListKind, RecordLink

# The placeholders every template may use; custom fields add their labels.
FIXED_PLACEHOLDERS: tuple[str, ...] = ("客户名称", "联系人", "称呼", "业务员", "业务员手机", "公司名称")
_PLACEHOLDER = re.compile(r"\{([^{}\s]{1,32})\}")
_MOBILE = re.compile(r"^1\d{10}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

SEGMENT_SINGLE = 70   # one SMS carries 70 characters
SEGMENT_LONG = 67     # a long SMS is cut into parts of 67 (the rest carries the join header)
MAX_ATTEMPTS = 3
LEASE = timedelta(minutes=10)  # a job holding a message longer than this is presumed dead

SETTINGS_KEY = "messaging"
DEFAULT_SETTINGS: dict[str, Any] = {
    "company_name": "",
    "signature": "",            # e.g. 【客池科技】, added to every SMS and counted in its length
    "quiet_start": 21,          # no scheduled SMS from 21:00 ...
    "quiet_end": 8,             # ... to 08:00 (local time)
    "per_minute": 60,
    "per_day": 5000,
    "birthday_enabled": False,
    "birthday_hour": 9,
    "birthday_template_id": None,
    "birthday_contacts": True,
    "callback_secret": "",
    "messages_count_as_contact": False,  # see counts_as_contact
    "provider": {"kind": "log"},
}

SKIP_REASONS = {
    "no_address": _l("无手机号/邮箱"),
    "invalid": _l("号码或邮箱格式不对"),
    "opted_out": _l("拒收"),
    "duplicate": _l("重复号码"),
}
STATUS_LABELS = {
    OutboxStatus.PENDING.value: _l("待发送"), OutboxStatus.SENDING.value: _l("发送中"),
    OutboxStatus.SENT.value: _l("已发送"), OutboxStatus.FAILED.value: _l("发送失败"),
    OutboxStatus.UNKNOWN.value: _l("状态未知"), OutboxStatus.CANCELLED.value: _l("已取消"),
}
CHANNEL_LABELS = {Channel.SMS.value: _l("短信"), Channel.EMAIL.value: _l("邮件")}
UNSENT_STATUSES = (OutboxStatus.PENDING.value, OutboxStatus.FAILED.value, OutboxStatus.UNKNOWN.value)


# --- settings ----------------------------------------------------------------------------------
def load_settings(session: Session) -> dict[str, Any]:
    stored = settings.get(session, SETTINGS_KEY) or {}
    merged = dict(DEFAULT_SETTINGS)
    merged.update({k: v for k, v in stored.items() if k in DEFAULT_SETTINGS})
    return merged


def save_settings(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    merged = load_settings(session)
    merged.update({k: v for k, v in values.items() if k in DEFAULT_SETTINGS})
    for key in ("quiet_start", "quiet_end", "birthday_hour"):
        if not 0 <= int(merged[key]) <= 23:
            raise InvalidValue(_l("时间请填写 0 到 23 之间的整点"))
    for key in ("per_minute", "per_day"):
        if int(merged[key]) < 1:
            raise InvalidValue(_l("发送速率至少为 1"))
    settings.put(session, SETTINGS_KEY, merged)
    return merged


# --- templates ---------------------------------------------------------------------------------
def allowed_placeholders(session: Session) -> list[str]:
    labels = session.scalars(select(CustomField.label).where(CustomField.active.is_(True))
                             .order_by(CustomField.entity, CustomField.sort_order, CustomField.id))
    extra = [label for label in labels if label not in FIXED_PLACEHOLDERS]
    return list(FIXED_PLACEHOLDERS) + list(dict.fromkeys(extra))


def unknown_placeholders(text: str | None, allowed: Iterable[str]) -> list[str]:
    allowed = set(allowed)
    return list(dict.fromkeys(name for name in _PLACEHOLDER.findall(text or "") if name not in allowed))


def check_template(session: Session, template: MessageTemplate) -> None:
    """Refuse a template that names a placeholder outside the allowed set (a typo would
    otherwise go out to every customer as literal braces)."""
    template.name = normalize.text(template.name)
    if not template.name:
        raise InvalidValue(_l("请填写模板名称"))
    if template.channel not in CHANNEL_LABELS:
        raise InvalidValue(_l("请选择短信或邮件"))
    if not (template.body or "").strip():
        raise InvalidValue(_l("请填写模板内容"))
    if template.channel == Channel.EMAIL and not normalize.text(template.subject):
        raise InvalidValue(_l("请填写邮件主题"))
    check_text(session, template.body, template.subject)


def check_text(session: Session, body: str | None, subject: str | None = None) -> None:
    allowed = allowed_placeholders(session)
    bad = unknown_placeholders(f"{subject or ''}\n{body or ''}", allowed)
    if bad:
        raise InvalidValue(_l("不支持的占位符：%(bad)s。可用：%(ok)s",
                              bad="、".join("{%s}" % b for b in bad), ok="、".join("{%s}" % a for a in allowed)))


def salutation(name: str | None, gender: str | None) -> str:
    """称呼: 张先生 / 李女士, or the full name when the gender is not known."""
    name = normalize.text(name)
    if not name:
        return ""
    if gender == "male":
        return f"{name[0]}先生"
    if gender == "female":
        return f"{name[0]}女士"
    return name


def active_fields(session: Session) -> list[CustomField]:
    return list(session.scalars(select(CustomField).where(CustomField.active.is_(True))))


def salesperson_for(customer: Customer | None, sender: User | None) -> User | None:
    """{业务员}/{业务员手机} name the customer's own salesperson, whoever sends: the customer calls
    back the person who looks after them. A pool customer has none, so the sender stands in."""
    owner = customer.owner if customer is not None else None
    return owner if owner is not None else sender


def values_for(session: Session, customer: Customer | None, contact: Contact | None, sender: User | None,
               config: dict[str, Any] | None = None, fields: list[CustomField] | None = None) -> dict[str, str]:
    """The placeholder values for one recipient; pass `config` and `fields` when rendering many."""
    config = config or load_settings(session)
    salesperson = salesperson_for(customer, sender)
    if contact is None and customer is not None:
        contact = next((c for c in customer.contacts if c.is_primary), None)
    person_name = contact.name if contact else (customer.name if customer is not None and customer.kind == "person"
                                                else "")
    gender = contact.gender if contact else (customer.gender if customer is not None else None)
    values = {
        "客户名称": customer.name if customer is not None else "",
        "联系人": contact.name if contact else "",
        "称呼": salutation(person_name, gender) or (customer.name if customer is not None else ""),
        "业务员": salesperson.display_name if salesperson else "",
        "业务员手机": (salesperson.mobile or "") if salesperson else "",
        "公司名称": config.get("company_name") or "",
    }
    for definition in (fields if fields is not None else active_fields(session)):
        if definition.label in values:
            continue
        owner = customer if definition.entity == "customer" else contact
        raw = (getattr(owner, "custom", None) or {}).get(definition.key) if owner is not None else None
        values[definition.label] = custom_fields.display(definition, raw) if raw not in (None, "") else ""
    return values


def fill(text: str | None, values: dict[str, str], *, html: bool = False) -> str:
    def one(match: re.Match) -> str:
        value = values.get(match.group(1))
        if value is None:
            return match.group(0)
        return str(escape(value)) if html else value

    return _PLACEHOLDER.sub(one, text or "")


def render_sms(body: str, values: dict[str, str], config: dict[str, Any]) -> str:
    text = fill(body, values).strip()
    signature = (config.get("signature") or "").strip()
    return f"{signature}{text}" if signature and not text.startswith(signature) else text


def clean_html(html: str) -> str:
    """Only harmless markup survives: no script, style, event handlers or javascript: links."""
    return nh3.clean(html or "", link_rel="noopener noreferrer")


def render_email(subject: str | None, body: str, values: dict[str, str]) -> tuple[str, str]:
    """(subject, sanitised HTML body). Values are escaped before they enter the HTML."""
    return normalize.one_line(fill(subject, values)), clean_html(fill(body, values, html=True))


def html_to_text(html: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</h\d>", "\n", html or "")
    text = nh3.clean(text, tags=set())
    import html as html_lib

    return re.sub(r"\n{3,}", "\n\n", html_lib.unescape(text)).strip()


def segments(text: str | None) -> int:
    """Billing parts of an SMS: 70 characters fit one; longer ones go in parts of 67."""
    length = len(text or "")
    if length == 0:
        return 0
    return 1 if length <= SEGMENT_SINGLE else math.ceil(length / SEGMENT_LONG)


# --- recipients --------------------------------------------------------------------------------
@dataclass
class Recipient:
    customer: Customer
    contact: Contact | None
    address: str
    name: str
    skip: str | None = None


@dataclass
class RecipientList:
    send: list[Recipient] = field(default_factory=list)
    skipped: list[Recipient] = field(default_factory=list)

    def skipped_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.skipped:
            counts[r.skip] = counts.get(r.skip, 0) + 1
        return counts


def normalize_address(channel: str, raw: str | None) -> str:
    if channel == Channel.SMS:
        return normalize.phone(raw)
    return normalize.text(raw).lower()


def _valid(channel: str, address: str) -> bool:
    return bool(_MOBILE.match(address)) if channel == Channel.SMS else bool(_EMAIL.match(address))


def opted_out(session: Session, customer_ids: list[int], addresses: list[str]) -> tuple[set[int], set[int], set[str]]:
    """(customers, contacts, bare addresses) marked 拒收 among these customers and addresses."""
    if not customer_ids and not addresses:
        return set(), set(), set()
    rows = session.execute(select(OptOut.customer_id, OptOut.contact_id, OptOut.address).where(or_(
        OptOut.customer_id.in_(customer_ids), OptOut.address.in_(addresses)))).all()
    customers = {c for c, k, a in rows if c is not None and k is None}
    contacts = {k for c, k, a in rows if k is not None}
    found = {a for c, k, a in rows if a}
    return customers, contacts, found


def collect(session: Session, customers: list[Customer], *, channel: str, include_contacts: bool = False,
            contacts: list[Contact] | None = None) -> RecipientList:
    """Who gets the message, and who is skipped and why (no number, 拒收, duplicate number).
    A customer goes to its own mobile/email, or its primary contact's when it has none;
    `include_contacts` adds every contact; `contacts` lists chosen contacts instead."""
    column = "mobile" if channel == Channel.SMS else "email"
    targets: list[tuple[Customer, Contact | None, str | None, str]] = []
    if contacts is not None:
        for c in contacts:
            targets.append((c.customer, c, getattr(c, column), c.name))
    for customer in customers:
        own = getattr(customer, column)
        primary = next((c for c in customer.contacts if c.is_primary), None)
        if own or not include_contacts:
            fallback = primary if not own and primary is not None and getattr(primary, column) else None
            targets.append((customer, fallback, own or (getattr(fallback, column) if fallback else None),
                            fallback.name if fallback else customer.name))
        if include_contacts:
            for c in customer.contacts:
                targets.append((customer, c, getattr(c, column), c.name))
    ids = list({t[0].id for t in targets})
    out_customers, out_contacts, out_addresses = opted_out(
        session, ids, list({normalize_address(channel, t[2]) for t in targets if t[2]}))
    result = RecipientList()
    seen: set[str] = set()
    for customer, contact, raw, name in targets:
        address = normalize_address(channel, raw)
        r = Recipient(customer=customer, contact=contact, address=address, name=name)
        if not address:
            r.skip = "no_address"
        elif not _valid(channel, address):
            r.skip = "invalid"
        elif customer.id in out_customers or (contact is not None and contact.id in out_contacts) \
                or address in out_addresses:
            r.skip = "opted_out"
        elif address in seen:
            r.skip = "duplicate"
        (result.skipped if r.skip else result.send).append(r)
        if not r.skip:
            seen.add(address)
    return result


# --- writing the outbox ------------------------------------------------------------------------
def queue_messages(session: Session, recipients: list[Recipient], *, channel: str, body: str,
                   subject: str | None = None, sender: User | None, now: datetime, title: str,
                   template_id: int | None = None, scheduled_at: datetime | None = None,
                   respect_quiet_hours: bool = False, source: str = "manual", skipped: int = 0,
                   key: Any = None, owner_as_sender: bool = False, batch: MessageBatch | None = None) -> MessageBatch:
    """One batch and one outbox row per recipient, flushed in the caller's transaction.
    `key(recipient)` gives each row its idempotency key (scheduled greetings use the date, so
    running the schedule twice adds nothing); rows whose key exists are left out."""
    check_text(session, body, subject)
    config = load_settings(session)
    fields = active_fields(session)
    if batch is None:
        batch = MessageBatch(channel=channel, source=source, title=title[:200], total=0, skipped=0,
                             user_id=sender.id if sender else None, template_id=template_id,
                             scheduled_at=scheduled_at, created_at=now)
        session.add(batch)
        session.flush()
    batch.skipped = (batch.skipped or 0) + skipped
    wanted = [(r, key(r) if key else uuid.uuid4().hex) for r in recipients]
    existing = set()
    if key:
        existing = set(session.scalars(select(Outbox.key).where(Outbox.key.in_([k for _r, k in wanted]))))
    rows: list[dict[str, Any]] = []
    for r, row_key in wanted:
        if row_key in existing:
            continue
        existing.add(row_key)
        who = r.customer.owner if owner_as_sender else sender
        values = values_for(session, r.customer, r.contact, who, config, fields)
        if channel == Channel.SMS:
            text, mail_subject = render_sms(body, values, config), None
        else:
            mail_subject, text = render_email(subject, body, values)
        rows.append({"channel": channel, "status": OutboxStatus.PENDING.value, "key": row_key, "batch_id": batch.id,
                     "customer_id": r.customer.id, "contact_id": r.contact.id if r.contact else None,
                     "user_id": who.id if who else None, "to_address": r.address, "to_name": r.name,
                     "subject": mail_subject, "body": text,
                     "segments": segments(text) if channel == Channel.SMS else 1, "scheduled_at": scheduled_at,
                     "respect_quiet_hours": respect_quiet_hours, "created_at": now, "attempts": 0})
    if rows:  # one executemany: the unit of work would cost ~20x more per row at bulk sizes
        session.execute(insert(Outbox), rows)
    total = len(rows)
    batch.total = (batch.total or 0) + total
    session.flush()
    return batch


def pending_ids(session: Session, *, batch_id: int | None = None, now: datetime, limit: int = 500) -> list[int]:
    """Messages waiting whose time has come, oldest first."""
    stmt = select(Outbox.id).where(Outbox.status == OutboxStatus.PENDING,
                                   or_(Outbox.scheduled_at.is_(None), Outbox.scheduled_at <= now))
    if batch_id is not None:
        stmt = stmt.where(Outbox.batch_id == batch_id)
    return list(session.scalars(stmt.order_by(Outbox.id).limit(limit)))


def stale_ids(session: Session, *, now: datetime) -> list[int]:
    """Messages a job claimed and never finished (the worker died)."""
    return list(session.scalars(select(Outbox.id).where(Outbox.status == OutboxStatus.SENDING,
                                                        Outbox.claimed_at < now - LEASE).order_by(Outbox.id)))


def send_interrupted(row: Outbox, *, now: datetime, abandoned_after: timedelta) -> bool:
    """A message claimed longer ago than a running job goes unconfirmed (JOB_ABANDONED_SECONDS):
    its job died mid-send. It still waits for LEASE (the gateway call may have gone out), then is
    looked up by its key, resent only if the provider never got it, or marked 状态未知."""
    return row.status == OutboxStatus.SENDING and row.claimed_at is not None and row.claimed_at < now - abandoned_after


def batch_progress(session: Session, batch_id: int) -> dict[str, int]:
    rows = session.execute(select(Outbox.status, func.count(Outbox.id)).where(Outbox.batch_id == batch_id)
                           .group_by(Outbox.status)).all()
    counts = {s.value: 0 for s in OutboxStatus}
    counts.update({status: n for status, n in rows})
    counts["total"] = sum(n for _s, n in rows)
    counts["done"] = counts["sent"] + counts["failed"] + counts["unknown"] + counts["cancelled"]
    return counts


# --- the outbox state machine ------------------------------------------------------------------
def claim(session: Session, outbox_id: int, *, now: datetime, account_id: int | None = None) -> bool:
    """pending → sending, once: a second job (or a second worker) finds nothing to claim."""
    values: dict[str, Any] = {"status": OutboxStatus.SENDING.value, "claimed_at": now,
                              "attempts": Outbox.attempts + 1}
    if account_id is not None:
        values["account_id"] = account_id
    result = session.execute(update(Outbox).where(
        Outbox.id == outbox_id, Outbox.status == OutboxStatus.PENDING,
        or_(Outbox.scheduled_at.is_(None), Outbox.scheduled_at <= now)).values(**values)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def defer(session: Session, outbox_id: int, *, until: datetime, reason: str | None = None) -> None:
    session.execute(update(Outbox).where(Outbox.id == outbox_id, Outbox.status == OutboxStatus.PENDING)
                    .values(scheduled_at=until, error=reason).execution_options(synchronize_session=False))


def mark_sent(session: Session, row: Outbox, *, provider: str, provider_id: str | None, now: datetime,
              tz: str) -> bool:
    """sending → sent, and the message joins the customer's follow-up timeline."""
    result = session.execute(update(Outbox).where(Outbox.id == row.id, Outbox.status == OutboxStatus.SENDING)
                             .values(status=OutboxStatus.SENT.value, sent_at=now, provider=provider,
                                     provider_id=provider_id, error=None)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    session.refresh(row)
    record_timeline(session, row, now=now, tz=tz)
    return True


def mark_failed(session: Session, row: Outbox, *, error: str, retryable: bool, now: datetime,
                provider: str | None = None) -> str:
    """A refusal the provider may accept later goes back to pending with a pause (up to
    MAX_ATTEMPTS); anything else fails for good."""
    again = retryable and row.attempts < MAX_ATTEMPTS
    status = OutboxStatus.PENDING if again else OutboxStatus.FAILED
    session.execute(update(Outbox).where(Outbox.id == row.id, Outbox.status == OutboxStatus.SENDING)
                    .values(status=status.value, error=(error or "")[:500], provider=provider,
                            scheduled_at=now + timedelta(minutes=2 ** row.attempts) if again else row.scheduled_at)
                    .execution_options(synchronize_session=False))
    return status.value


def mark_unknown(session: Session, row: Outbox) -> None:
    session.execute(update(Outbox).where(Outbox.id == row.id, Outbox.status == OutboxStatus.SENDING)
                    .values(status=OutboxStatus.UNKNOWN.value,
                            error=i18n.source_text(_l("发送过程中断，无法确认对方是否收到；请核实后再决定是否重发")))
                    .execution_options(synchronize_session=False))


def release_stale(session: Session, row: Outbox) -> None:
    """The provider said it never got the message: it may be sent again."""
    session.execute(update(Outbox).where(Outbox.id == row.id, Outbox.status == OutboxStatus.SENDING)
                    .values(status=OutboxStatus.PENDING.value).execution_options(synchronize_session=False))


def retry(session: Session, ids: list[int]) -> list[int]:
    """重新发送 from 未发出的短信: failed or unknown messages go back to pending, now."""
    ids = [int(i) for i in ids]
    session.execute(update(Outbox).where(Outbox.id.in_(ids), Outbox.status.in_(
        [OutboxStatus.FAILED.value, OutboxStatus.UNKNOWN.value, OutboxStatus.PENDING.value]))
        .values(status=OutboxStatus.PENDING.value, scheduled_at=None, error=None)
        .execution_options(synchronize_session=False))
    return list(session.scalars(select(Outbox.id).where(Outbox.id.in_(ids),
                                                        Outbox.status == OutboxStatus.PENDING.value)))


def cancel(session: Session, ids: list[int]) -> int:
    return session.execute(update(Outbox).where(Outbox.id.in_([int(i) for i in ids]), Outbox.status.in_(
        UNSENT_STATUSES)).values(status=OutboxStatus.CANCELLED.value)
        .execution_options(synchronize_session=False)).rowcount


def counts_as_contact(session: Session, row: Outbox, config: dict[str, Any]) -> bool:
    """A message is the salesperson's own contact only when the customer's owner sent it in
    person (not a greeting sent in his name, not somebody else's bulk send); the setting
    群发消息计入最后联系 makes every sent message count, as the sender's follow-up."""
    if config.get("messages_count_as_contact"):
        return True
    batch = session.get(MessageBatch, row.batch_id) if row.batch_id is not None else None
    owner_id = session.scalar(select(Customer.owner_id).where(Customer.id == row.customer_id))
    return (batch is not None and batch.source == "manual" and batch.user_id is not None
            and batch.user_id == owner_id == row.user_id)


def record_timeline(session: Session, row: Outbox, *, now: datetime, tz: str) -> None:
    """A sent message joins the customer's timeline: as the owner's follow-up (kind SMS or
    EMAIL) when he sent it himself, otherwise as a message that neither counts as a follow-up
    nor moves 最后联系 (see counts_as_contact)."""
    if row.customer_id is None or row.user_id is None:
        return
    user = session.get(User, row.user_id)
    if user is None:
        return
    label = "短信" if row.channel == Channel.SMS else "邮件"
    text = row.body if row.channel == Channel.SMS else f"{row.subject}\n{html_to_text(row.body)}"
    content = f"[{label}→{row.to_name or ''} {row.to_address}] {text}"[:4000]
    if counts_as_contact(session, row, load_settings(session)):
        kind = FollowUpKind.SMS if row.channel == Channel.SMS else FollowUpKind.EMAIL
    else:
        kind = FollowUpKind.MESSAGE
    followups.record(session, FollowUp(customer_id=row.customer_id, contact_id=row.contact_id, user_id=user.id,
                                       kind=kind.value, content=content, happened_at=now),
                     actor=Actor.from_user(user), now=now, today=local_date(now, tz))


# --- rates ------------------------------------------------------------------------------------
def sms_load(session: Session, *, now: datetime, tz: str) -> tuple[int, int]:
    """SMS claimed for sending since local midnight, and in the last minute: what the rate
    limits (rules.delivery) count."""
    claimed = (Outbox.channel == Channel.SMS, Outbox.claimed_at.is_not(None),
               Outbox.status.in_([OutboxStatus.SENDING.value, OutboxStatus.SENT.value, OutboxStatus.UNKNOWN.value]))
    today = session.scalar(select(func.count(Outbox.id)).where(*claimed, Outbox.claimed_at >= local_day_start(now, tz)))
    minute = session.scalar(select(func.count(Outbox.id)).where(*claimed, Outbox.claimed_at > now - timedelta(minutes=1)))
    return today or 0, minute or 0


# --- scheduled greetings -----------------------------------------------------------------------
def _month_day(column: Any, day: date) -> Any:
    """Birthdays on this calendar day; those born on 29 February are greeted on the 28th in
    years without one."""
    same = and_(extract("month", column) == day.month, extract("day", column) == day.day)
    if day.month == 2 and day.day == 28 and not _is_leap(day.year):
        return or_(same, and_(extract("month", column) == 2, extract("day", column) == 29))
    return same


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def birthday_people(session: Session, day: date, *, include_contacts: bool) -> tuple[list[Customer], list[Contact]]:
    """Live customers (with an owner) and contacts whose birthday is `day` (for a contact
    greeted by the lunar calendar, whose lunar birthday falls on `day`: rules/lunar.py)."""
    live = and_(Customer.deleted_at.is_(None), Customer.owner_id.is_not(None))
    from sqlalchemy.orm import joinedload, selectinload

    customers = list(session.scalars(select(Customer).where(live, Customer.birthday.is_not(None),
                                                            _month_day(Customer.birthday, day))
                                     .options(selectinload(Customer.contacts)).order_by(Customer.id)))
    contacts: list[Contact] = []
    if include_contacts:
        solar = and_(~contact_identity.greets_by_lunar(), Contact.birthday.is_not(None),
                     _month_day(Contact.birthday, day))
        contacts = list(session.scalars(select(Contact).join(Customer, Contact.customer_id == Customer.id).where(
            live, or_(solar, contact_identity.lunar_birthday_on(day)))
            .options(joinedload(Contact.customer)).order_by(Contact.id)))
    return customers, contacts


def customer_chunks(session: Session, *, size: int = 1000) -> Iterable[list[Customer]]:
    """Live customers with an owner, a chunk at a time (contacts loaded with them), so a
    greeting to every customer neither holds them all in memory nor asks once per customer."""
    from sqlalchemy.orm import selectinload

    last = 0
    while True:
        chunk = list(session.scalars(select(Customer).where(
            Customer.deleted_at.is_(None), Customer.owner_id.is_not(None), Customer.id > last)
            .options(selectinload(Customer.contacts)).order_by(Customer.id).limit(size)))
        if not chunk:
            return
        last = chunk[-1].id
        yield chunk


def local_now(now: datetime, tz: str) -> datetime:
    return now.astimezone(ZoneInfo(tz))


def mark_opt_out(session: Session, *, customer_ids: Iterable[int] = (), contact_ids: Iterable[int] = (),
                 address: str | None = None, reason: str | None = None, actor_id: int | None = None,
                 now: datetime) -> int:
    """拒收: idempotent; returns how many new marks were made."""
    added = 0
    for cid in customer_ids:
        if session.scalar(select(OptOut.id).where(OptOut.customer_id == cid, OptOut.contact_id.is_(None))) is None:
            session.add(OptOut(customer_id=cid, reason=reason, created_by_id=actor_id, created_at=now))
            added += 1
    for kid in contact_ids:
        if session.scalar(select(OptOut.id).where(OptOut.contact_id == kid)) is None:
            contact = session.get(Contact, kid)
            session.add(OptOut(customer_id=contact.customer_id if contact else None, contact_id=kid, reason=reason,
                               created_by_id=actor_id, created_at=now))
            added += 1
    if address:
        if session.scalar(select(OptOut.id).where(OptOut.address == address)) is None:
            session.add(OptOut(address=address, reason=reason, created_by_id=actor_id, created_at=now))
            added += 1
    session.flush()
    return added


def clear_opt_out(session: Session, *, customer_ids: Iterable[int] = (), contact_ids: Iterable[int] = ()) -> int:
    from sqlalchemy import delete

    removed = 0
    customer_ids, contact_ids = list(customer_ids), list(contact_ids)
    if customer_ids:
        removed += session.execute(delete(OptOut).where(OptOut.customer_id.in_(customer_ids),
                                                        OptOut.contact_id.is_(None))).rowcount
    if contact_ids:
        removed += session.execute(delete(OptOut).where(OptOut.contact_id.in_(contact_ids))).rowcount
    return removed


# --- who sees which messages -------------------------------------------------------------------
# --- provider callbacks: delivery receipts and replies -------------------------------------------
OPT_OUT_WORDS = frozenset({"td", "t", "n", "退订", "退", "0000"})


def receive_receipt(session: Session, *, key: str | None, provider_id: str | None, status: str,
                    now: datetime) -> bool:
    if not key and not provider_id:
        return False
    where = Outbox.key == key if key else Outbox.provider_id == provider_id
    result = session.execute(update(Outbox).where(where).values(delivery_status=(status or "")[:32],
                                                                 delivered_at=now)
                             .execution_options(synchronize_session=False))
    return result.rowcount > 0


def receive_reply(session: Session, *, mobile: str, content: str, provider_id: str | None, now: datetime,
                  tz: str) -> Any:
    """客户回复短信: matched to the last message sent to that number (or to the customer or
    contact with that mobile), shown on the customer's timeline and under the owner's bell.
    "TD"/"退订" marks the number 拒收. The provider's id makes a repeated callback harmless."""
    from models.messaging import SmsReply
    from rules import notifications

    mobile = normalize.phone(mobile)
    content = (content or "").strip()
    if provider_id and session.scalar(select(SmsReply.id).where(SmsReply.provider_id == provider_id)):
        return None
    last = session.scalar(select(Outbox).where(Outbox.channel == Channel.SMS, Outbox.to_address == mobile,
                                               Outbox.status == OutboxStatus.SENT)
                          .order_by(Outbox.sent_at.desc(), Outbox.id.desc()).limit(1))
    customer_id = last.customer_id if last else None
    contact_id = last.contact_id if last else None
    if customer_id is None:
        contact = session.scalar(select(Contact).join(Customer, Contact.customer_id == Customer.id).where(
            Contact.mobile == mobile, Customer.deleted_at.is_(None)).limit(1))
        if contact is not None:
            customer_id, contact_id = contact.customer_id, contact.id
        else:
            customer_id = session.scalar(select(Customer.id).where(Customer.mobile == mobile,
                                                                   Customer.deleted_at.is_(None)).limit(1))
    reply = SmsReply(mobile=mobile, content=content, received_at=now, provider_id=provider_id,
                     customer_id=customer_id, contact_id=contact_id, outbox_id=last.id if last else None)
    session.add(reply)
    session.flush()
    if normalize.text(content).lower() in OPT_OUT_WORDS:
        mark_opt_out(session, address=mobile, reason=i18n.source_text(_l("短信回复退订")), now=now)
    customer = session.get(Customer, customer_id) if customer_id else None
    user_id = (last.user_id if last else None) or (customer.owner_id if customer else None)
    if customer is not None and user_id is not None:
        user = session.get(User, user_id)
        followups.record(session, FollowUp(customer_id=customer.id, contact_id=contact_id, user_id=user_id,
                                           kind=FollowUpKind.SMS.value, content=f"[客户回复短信 {mobile}] {content}",
                                           happened_at=now),
                         actor=Actor.from_user(user), now=now, today=local_date(now, tz))
        notifications.notify(session, kind=NotificationKind.CUSTOMER, user_id=user_id, now=now, link=RecordLink(ListKind.CUSTOMER, customer.id),
                             title=_l("%(c)s 回复短信：%(t)s", c=customer.name, t=content[:40]))
    return reply


def seed_demo(session: Session, *, today: date) -> None:
    """Demo templates, a holiday greeting, an SFA plan and birthday greetings switched on."""
    from models.messaging import HolidayGreeting, SfaPlan

    if session.scalar(select(MessageTemplate.id).limit(1)) is not None:
        return
    birthday = MessageTemplate(channel=Channel.SMS, name="生日祝福",
                               body="{称呼}，今天是您的生日，{公司名称}{业务员}祝您生日快乐、万事如意！")
    news = MessageTemplate(channel=Channel.SMS, name="新品通知",
                           body="{称呼}您好，{客户名称}关注的新品已到货，详情请致电{业务员} {业务员手机}。回T退订")
    holiday = MessageTemplate(channel=Channel.SMS, name="春节问候",
                              body="{称呼}，{公司名称}恭祝您新春快乐、阖家幸福！{业务员}")
    quote = MessageTemplate(channel=Channel.EMAIL, name="报价单", subject="{客户名称}：本月报价",
                            body="<p>{称呼}您好：</p><p>附上本月报价，如有疑问请随时联系。</p><p>{业务员}<br>{业务员手机}</p>")
    session.add_all([birthday, news, holiday, quote])
    session.flush()
    spring = date(today.year + 1, 2, 6) if today.month > 2 else date(today.year, 2, 6)
    session.add(HolidayGreeting(name="春节", on_date=spring, template_id=holiday.id, send_hour=9))
    session.add(SfaPlan(name="每30天问候一次", action="sms", template_id=news.id, interval_days=30))
    session.add(SfaPlan(name="每7天提醒回访", action="remind", remind_text="给客户打个电话", interval_days=7))
    save_settings(session, {"company_name": "客池科技", "signature": "【客池科技】", "birthday_enabled": True,
                            "birthday_template_id": birthday.id})
