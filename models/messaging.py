"""短信中心 / 邮件群发: templates, the outbox (one row per message, the idempotency key of the
jobs that send it), bulk-send batches, mail accounts, replies, holiday greetings and SFA plans."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow
from models.customer import Contact, Customer
from models.org import User


class Channel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"      # written with the request; waiting for a job (or its scheduled time)
    SENDING = "sending"      # a job claimed it and is talking to the provider
    SENT = "sent"            # the provider accepted it
    FAILED = "failed"        # the provider refused it, or attempts ran out
    UNKNOWN = "unknown"      # a job died while sending and the provider cannot say: check by hand
    CANCELLED = "cancelled"


class MessageTemplate(TimestampMixin, db.Model):
    """短信模板 / 邮件模板: text with a fixed set of {placeholders} (never Jinja)."""

    __tablename__ = "message_templates"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), nullable=False, default=Channel.SMS)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    __table_args__ = (UniqueConstraint("channel", "name", name="uq_message_templates_channel_name"),)

    def __str__(self) -> str:
        return self.name


class MailAccount(TimestampMixin, db.Model):
    """邮件配置: one SMTP sender account with a daily quota (a guarded counter)."""

    __tablename__ = "mail_accounts"
    __audited__ = True
    __audit_ignored__ = frozenset({"password", "used_today", "used_day", "success_count", "failure_count"})

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    host: Mapped[str] = mapped_column(String(128), nullable=False)
    port: Mapped[int] = mapped_column(Integer, nullable=False, default=465)
    security: Mapped[str] = mapped_column(String(8), nullable=False, default="ssl")  # ssl / starttls / none
    username: Mapped[str | None] = mapped_column(String(128))
    password: Mapped[str | None] = mapped_column(String(255))
    from_address: Mapped[str] = mapped_column(String(128), nullable=False)
    from_name: Mapped[str | None] = mapped_column(String(64))
    daily_quota: Mapped[int] = mapped_column(Integer, nullable=False, default=200)
    used_day: Mapped[date | None] = mapped_column(Date)
    used_today: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    success_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failure_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __str__(self) -> str:
        return f"{self.name} <{self.from_address}>"


class MessageBatch(db.Model):
    """群发任务: one send to many recipients, with counts the progress bar reads."""

    __tablename__ = "message_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="manual")
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("message_templates.id"))
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    user: Mapped[User | None] = relationship()
    template: Mapped[MessageTemplate | None] = relationship()

    def __str__(self) -> str:
        return self.title


class Outbox(db.Model):
    """One message. Written in the request's transaction; jobs move it pending → sending →
    sent/failed with a conditional UPDATE, so a job that runs twice sends it once."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=OutboxStatus.PENDING)
    # The idempotency key, also given to the provider (SMS out id, email Message-ID).
    key: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("message_batches.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(128), nullable=False)
    to_name: Mapped[str | None] = mapped_column(String(128))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    segments: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # Scheduled sends wait for their time; quiet hours hold night-time SMS until morning.
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    respect_quiet_hours: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(128), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("mail_accounts.id"))
    error: Mapped[str | None] = mapped_column(String(500))
    delivery_status: Mapped[str | None] = mapped_column(String(32))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    user: Mapped[User | None] = relationship()
    account: Mapped[MailAccount | None] = relationship()
    batch: Mapped[MessageBatch | None] = relationship()

    __table_args__ = (
        Index("ix_outbox_status_scheduled", "status", "scheduled_at"),
        Index("ix_outbox_channel_claimed", "channel", "claimed_at"),
    )

    def __repr__(self) -> str:
        return format_repr(self, "id", "channel", "status", "to_address")


class SmsReply(db.Model):
    """客户回复短信: a reply that arrived through the provider callback."""

    __tablename__ = "sms_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    provider_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))

    customer: Mapped[Customer | None] = relationship()
    contact: Mapped[Contact | None] = relationship()


class HolidayGreeting(db.Model):
    """节日问候: on a date the administrator sets, a template to every customer in the audience."""

    __tablename__ = "holiday_greetings"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), nullable=False)
    on_date: Mapped[date] = mapped_column(Date, nullable=False)
    template_id: Mapped[int] = mapped_column(ForeignKey("message_templates.id"), nullable=False)
    send_hour: Mapped[int] = mapped_column(Integer, nullable=False, default=9)
    include_contacts: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    template: Mapped[MessageTemplate] = relationship()

    def __str__(self) -> str:
        return self.name


class SfaPlan(db.Model):
    """销售自动化方案: every N days, an SMS to the customer or a reminder to the salesperson."""

    __tablename__ = "sfa_plans"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    action: Mapped[str] = mapped_column(String(8), nullable=False, default="sms")  # sms / remind
    template_id: Mapped[int | None] = mapped_column(ForeignKey("message_templates.id"))
    remind_text: Mapped[str | None] = mapped_column(String(200))
    interval_days: Mapped[int] = mapped_column(Integer, nullable=False, default=30)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    template: Mapped[MessageTemplate | None] = relationship()

    def __str__(self) -> str:
        return self.name


class SfaEnrollment(db.Model):
    """A customer following an SFA plan; `next_run_on` moves by a guarded UPDATE."""

    __tablename__ = "sfa_enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("sfa_plans.id"), nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    paused: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    next_run_on: Mapped[date] = mapped_column(Date, nullable=False)
    runs: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    plan: Mapped[SfaPlan] = relationship()
    customer: Mapped[Customer] = relationship()
    started_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("plan_id", "customer_id", name="uq_sfa_enrollments_plan_customer"),
        Index("ix_sfa_enrollments_due", "paused", "next_run_on"),
    )


class OptOut(db.Model):
    """拒收: a customer (every number and address of it), one contact, or a bare number/address
    (someone who replied "TD") that is never messaged."""

    __tablename__ = "message_opt_outs"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    address: Mapped[str | None] = mapped_column(String(128), index=True)
    reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    customer: Mapped[Customer | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    created_by: Mapped[User | None] = relationship()
