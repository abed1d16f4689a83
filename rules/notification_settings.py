"""提醒设置: what each user chose for their reminders. Read by notify() (which kinds are also
texted, when a text waits for the end of the user's do-not-disturb hours), by the pop-up poll
(which kinds pop up, not during do-not-disturb) and by the jobs that remind ahead of a date
(`days_ahead`, 提醒信息弹屏天数). A user who never saved the page has `DEFAULTS`."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.notification_setting import NotificationSetting
from models.office import NotificationKind
from rules.errors import InvalidValue

ALL_KINDS = frozenset(kind.value for kind in NotificationKind)
K = NotificationKind
KIND_LABELS = {
    K.FOLLOW_UP_DUE.value: _l("待回访客户"), K.EVENT.value: _l("日程"), K.TASK.value: _l("待办"),
    K.WORK_LOG.value: _l("工作日志"), K.ANNOUNCEMENT.value: _l("公告"), K.APPROVAL.value: _l("审批"),
    K.PAYMENT_DUE.value: _l("回款到期"), K.CONTRACT_EXPIRING.value: _l("合同到期"),
    K.RECYCLE_WARNING.value: _l("客户回收预警"), K.CUSTOMER.value: _l("客户转交与共享"), K.OTHER.value: _l("其他"),
}
MAX_DAYS_AHEAD = 30
_HH_MM = re.compile(r"([01]?\d|2[0-3])[:：]([0-5]\d)")


@dataclass(frozen=True)
class Choices:
    popup_kinds: frozenset[str]
    sms_kinds: frozenset[str]
    days_ahead: int
    quiet_start: time | None = None
    quiet_end: time | None = None

    def pops_up(self, kind: str) -> bool:
        return kind in self.popup_kinds

    def texts(self, kind: str) -> bool:
        return kind in self.sms_kinds

    def quiet_at(self, now: datetime, tz: str) -> bool:
        return in_quiet_hours(self.quiet_start, self.quiet_end, now.astimezone(ZoneInfo(tz)).time())

    def quiet_until(self, now: datetime, tz: str) -> datetime | None:
        """When the do-not-disturb hours around `now` end (UTC), or None if `now` is not in them."""
        if not self.quiet_at(now, tz):
            return None
        local = now.astimezone(ZoneInfo(tz))
        end = datetime.combine(local.date(), self.quiet_end, tzinfo=local.tzinfo)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.quiet_end, tzinfo=local.tzinfo)
        return end.astimezone(timezone.utc)


# Everything pops up, nothing is texted (an SMS costs money: each user opts in), reminders start
# a day ahead, no do-not-disturb hours.
DEFAULTS = Choices(popup_kinds=ALL_KINDS, sms_kinds=frozenset(), days_ahead=1)


def in_quiet_hours(start: time | None, end: time | None, at: time) -> bool:
    """Start inclusive, end exclusive; a start later than the end runs over midnight."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= at < end
    return at >= start or at < end


def choices_of(row: NotificationSetting | None) -> Choices:
    if row is None:
        return DEFAULTS
    return Choices(popup_kinds=frozenset(row.popup_kinds or ()) & ALL_KINDS,
                   sms_kinds=frozenset(row.sms_kinds or ()) & ALL_KINDS, days_ahead=row.days_ahead,
                   quiet_start=stored_time(row.quiet_start), quiet_end=stored_time(row.quiet_end))


def stored_time(text: str | None) -> time | None:
    """"22:00" as saved (never malformed: `save` wrote it)."""
    return time.fromisoformat(text) if text else None


def settings_for(session: Session, user_id: int) -> Choices:
    return choices_of(session.get(NotificationSetting, user_id))


def days_ahead(session: Session, user_id: int) -> int:
    """提醒信息弹屏天数: how many days before a due date the user wants to be reminded (0 = on the day)."""
    value = session.scalar(select(NotificationSetting.days_ahead).where(NotificationSetting.user_id == user_id))
    return DEFAULTS.days_ahead if value is None else value


def parse_time(text: str | None, *, label: str) -> time | None:
    """"22:00" (or "7:30", or with a full-width colon) → a time; empty → None."""
    text = (text or "").strip()
    if not text:
        return None
    match = _HH_MM.fullmatch(text)
    if match is None:
        raise InvalidValue(_l("%(f)s“%(v)s”格式不对，请按 22:00 这样填写（时:分，24 小时制）", f=label, v=text))
    return time(int(match.group(1)), int(match.group(2)))


def parse_days(text: str | int | None) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_DAYS_AHEAD:
        raise InvalidValue(_l("提醒信息弹屏天数应为 0 到 %(n)d 之间的整数", n=MAX_DAYS_AHEAD))
    return value


def save(session: Session, user_id: int, *, popup_kinds: Iterable[str], sms_kinds: Iterable[str],
         days_ahead: str | int, quiet_start: str | None, quiet_end: str | None, now: datetime) -> Choices:
    """Check everything first, then write: a refusal changes nothing."""
    popup, sms = set(popup_kinds), set(sms_kinds)
    unknown = (popup | sms) - ALL_KINDS
    if unknown:
        raise InvalidValue(_l("未知的提醒类型：%(k)s", k="、".join(sorted(unknown))))
    days = parse_days(days_ahead)
    start = parse_time(quiet_start, label=_l("免打扰开始时间"))
    end = parse_time(quiet_end, label=_l("免打扰结束时间"))
    if (start is None) != (end is None):
        raise InvalidValue(_l("免打扰时段请同时填写开始和结束时间，或都不填"))
    if start is not None and start == end:
        raise InvalidValue(_l("免打扰的开始和结束时间不能相同"))
    row = session.get(NotificationSetting, user_id)
    if row is None:
        row = NotificationSetting(user_id=user_id)
        session.add(row)
    ordered = [kind.value for kind in NotificationKind]
    row.popup_kinds = [k for k in ordered if k in popup]
    row.sms_kinds = [k for k in ordered if k in sms]
    row.days_ahead, row.updated_at = days, now
    row.quiet_start, row.quiet_end = (start.strftime("%H:%M") if start else None), (end.strftime("%H:%M") if end else None)
    session.flush()
    return choices_of(row)
