"""What to do with one outbox row right now: send it, hold it until a later time (quiet hours
for scheduled SMS, the SMS rate limits, every mail account's daily quota used up), recover it (a
worker died while sending it), or leave it (not pending any more, or scheduled later).

`decide` is a pure function of the row and the state of the channels, which the job
(jobs/messaging.deliver) reads from the database and then carries the decision out. The order of
the checks is the order in which a user would explain a late message: not due yet, then quiet
hours, then the rate limit; an email waits for tomorrow's quota.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from models.messaging import Channel, OutboxStatus
from rules import i18n


class Act(enum.StrEnum):
    SEND = "send"
    DEFER = "defer"  # stays pending, scheduled for `until` (with a reason the outbox shows)
    RECOVER = "recover"  # left in `sending`: ask the provider before anything is sent again
    LEAVE = "leave"  # nothing to do now


@dataclass(frozen=True)
class Row:
    """The outbox row's facts that matter here."""

    status: str
    channel: str
    scheduled_at: datetime | None = None
    respect_quiet_hours: bool = False


@dataclass(frozen=True)
class Channels:
    """How busy the channels are now: SMS claimed since local midnight and in the last minute,
    and whether any mail account has quota left today."""

    sms_today: int = 0
    sms_last_minute: int = 0
    mail_quota_left: bool = True


@dataclass(frozen=True)
class Decision:
    act: Act
    outcome: str  # what the job reports: sent/quiet/rate/quota/scheduled, or the row's status
    until: datetime | None = None
    reason: str | None = None  # stored in the default language, shown translated (rules.i18n)


def decide(row: Row, channels: Channels, *, config: dict[str, Any], now: datetime, tz: str) -> Decision:
    if row.status == OutboxStatus.SENDING:
        return Decision(Act.RECOVER, "recover")
    if row.status != OutboxStatus.PENDING:
        return Decision(Act.LEAVE, str(row.status))
    if row.scheduled_at is not None and row.scheduled_at > now:
        return Decision(Act.LEAVE, "scheduled")
    if row.channel == Channel.SMS:
        if row.respect_quiet_hours:
            until = quiet_until(now, config, tz)
            if until is not None:
                return Decision(Act.DEFER, "quiet", until=until)
        free_at = rate_free_at(channels, config=config, now=now, tz=tz)
        if free_at is not None:
            return Decision(Act.DEFER, "rate", until=free_at,
                            reason=i18n.source_text(_l("已达发送速率上限，稍后自动发送")))
        return Decision(Act.SEND, "send")
    if not channels.mail_quota_left:
        return Decision(Act.DEFER, "quota", until=_local_midnight(now, tz, days=1),
                        reason=i18n.source_text(_l("所有邮件账户今日额度已用完，明天自动发送")))
    return Decision(Act.SEND, "send")


def in_quiet_hours(local: datetime, config: dict[str, Any]) -> bool:
    start, end = int(config["quiet_start"]), int(config["quiet_end"])
    if start == end:
        return False
    hour = local.hour
    return start <= hour or hour < end if start > end else start <= hour < end


def quiet_until(now: datetime, config: dict[str, Any], tz: str) -> datetime | None:
    """When a scheduled SMS held by quiet hours may go, or None if it may go now."""
    local = now.astimezone(ZoneInfo(tz))
    if not in_quiet_hours(local, config):
        return None
    end = int(config["quiet_end"])
    day = local.date() if local.hour < end else local.date() + timedelta(days=1)
    return datetime.combine(day, time(end), tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def rate_free_at(channels: Channels, *, config: dict[str, Any], now: datetime, tz: str) -> datetime | None:
    """None if another SMS may go now; otherwise when the per-day or per-minute limit frees up."""
    if channels.sms_today >= int(config["per_day"]):
        return _local_midnight(now, tz, days=1)
    if channels.sms_last_minute >= int(config["per_minute"]):
        return now + timedelta(minutes=1)
    return None


def local_day_start(now: datetime, tz: str) -> datetime:
    """Local midnight of `now`'s day, in UTC: where the per-day SMS count starts."""
    return _local_midnight(now, tz, days=0)


def _local_midnight(now: datetime, tz: str, *, days: int) -> datetime:
    zone = ZoneInfo(tz)
    day = now.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)
