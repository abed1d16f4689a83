"""rules.delivery.decide as a truth table: for each row and state of the channels, send now,
hold until when (and why), recover, or leave it. Quiet hours 21:00–08:00, at most 2 SMS a
minute and 3 a day, in Asia/Shanghai."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rules.delivery import Act, Channels, Row, decide

TZ = "Asia/Shanghai"
CONFIG = {"quiet_start": 21, "quiet_end": 8, "per_minute": 2, "per_day": 3}
MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 local
LATE = datetime(2026, 11, 23, 14, 30, tzinfo=timezone.utc)  # 22:30 local
EARLY = datetime(2026, 11, 22, 22, 0, tzinfo=timezone.utc)  # 06:00 local, 23 November
NEXT_8AM = datetime(2026, 11, 24, 0, 0, tzinfo=timezone.utc)  # 08:00 local, 24 November
SAME_8AM = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)  # 08:00 local, 23 November
MIDNIGHT = datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc)  # 00:00 local, 24 November
RATE = "已达发送速率上限，稍后自动发送"
QUOTA = "所有邮件账户今日额度已用完，明天自动发送"


def sms(status: str = "pending", *, quiet: bool = False, at: datetime | None = None) -> Row:
    return Row(status=status, channel="sms", scheduled_at=at, respect_quiet_hours=quiet)


def email(*, quiet: bool = False, at: datetime | None = None) -> Row:
    return Row(status="pending", channel="email", scheduled_at=at, respect_quiet_hours=quiet)


FREE = Channels()
BUSY_MINUTE = Channels(sms_today=2, sms_last_minute=2)
BUSY_DAY = Channels(sms_today=3, sms_last_minute=0)
BUSY_BOTH = Channels(sms_today=3, sms_last_minute=2)
NO_QUOTA = Channels(mail_quota_left=False)

CASES = [
    # row, channels, now → act, outcome, until, reason
    (sms("sending"), FREE, MORNING, Act.RECOVER, "recover", None, None),
    (sms("sent"), FREE, MORNING, Act.LEAVE, "sent", None, None),
    (sms("failed"), FREE, MORNING, Act.LEAVE, "failed", None, None),
    (sms("cancelled"), FREE, MORNING, Act.LEAVE, "cancelled", None, None),
    (sms("unknown"), FREE, MORNING, Act.LEAVE, "unknown", None, None),
    (sms(at=MORNING + timedelta(minutes=5)), FREE, MORNING, Act.LEAVE, "scheduled", None, None),
    (sms(at=MORNING), FREE, MORNING, Act.SEND, "send", None, None),
    (sms(), FREE, MORNING, Act.SEND, "send", None, None),
    (sms(quiet=True), FREE, MORNING, Act.SEND, "send", None, None),
    (sms(quiet=True), FREE, LATE, Act.DEFER, "quiet", NEXT_8AM, None),
    (sms(quiet=True), FREE, EARLY, Act.DEFER, "quiet", SAME_8AM, None),
    (sms(quiet=False), FREE, LATE, Act.SEND, "send", None, None),  # sent now on purpose: no quiet hours
    (sms(), BUSY_MINUTE, MORNING, Act.DEFER, "rate", MORNING + timedelta(minutes=1), RATE),
    (sms(), BUSY_DAY, MORNING, Act.DEFER, "rate", MIDNIGHT, RATE),
    (sms(), BUSY_BOTH, MORNING, Act.DEFER, "rate", MIDNIGHT, RATE),  # the day's limit outlasts the minute's
    (sms(quiet=True), BUSY_BOTH, LATE, Act.DEFER, "quiet", NEXT_8AM, None),  # quiet hours first
    (sms(), NO_QUOTA, MORNING, Act.SEND, "send", None, None),  # mail quota is no SMS business
    (email(), FREE, MORNING, Act.SEND, "send", None, None),
    (email(quiet=True), FREE, LATE, Act.SEND, "send", None, None),  # quiet hours hold SMS only
    (email(), BUSY_BOTH, MORNING, Act.SEND, "send", None, None),  # SMS rates do not hold email
    (email(), NO_QUOTA, MORNING, Act.DEFER, "quota", MIDNIGHT, QUOTA),
    (email(), NO_QUOTA, LATE, Act.DEFER, "quota", MIDNIGHT, QUOTA),
    (email(at=MORNING + timedelta(hours=1)), NO_QUOTA, MORNING, Act.LEAVE, "scheduled", None, None),
]


@pytest.mark.parametrize(("row", "channels", "now", "act", "outcome", "until", "reason"), CASES)
def test_decide(row: Row, channels: Channels, now: datetime, act: Act, outcome: str, until: datetime | None,
                reason: str | None):
    decision = decide(row, channels, config=CONFIG, now=now, tz=TZ)
    assert (decision.act, decision.outcome, decision.until, decision.reason) == (act, outcome, until, reason)


def test_equal_quiet_hours_mean_none():
    decision = decide(sms(quiet=True), FREE, config=dict(CONFIG, quiet_start=8, quiet_end=8), now=LATE, tz=TZ)
    assert decision.act == Act.SEND
