"""iCalendar (RFC 5545) text of one's own calendar: what 导出日历 (.ics) downloads.

Written here rather than with the `icalendar` package because the file has one shape (VEVENTs
with a local DTSTART, an RRULE and EXDATEs) and the two rules that matter are few: text values
escaped (§3.3.11) and lines folded at 75 octets (§3.1)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.calendar import Event, EventParticipant
from rules import recurrence

PRODID = "-//Kechi CRM//日程//ZH"


def escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space, never inside a
    UTF-8 character (Chinese text is three octets a character)."""
    out, current, size = [], "", 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _vtimezone(tz: str) -> list[str]:
    """The firm's zone as a fixed offset (Asia/Shanghai keeps no daylight saving time)."""
    offset = datetime(2000, 1, 1, tzinfo=ZoneInfo(tz)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    text = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return ["BEGIN:VTIMEZONE", f"TZID:{tz}", "BEGIN:STANDARD", "DTSTART:19700101T000000", f"TZOFFSETFROM:{text}",
            f"TZOFFSETTO:{text}", "END:STANDARD", "END:VTIMEZONE"]


def vevent(event: Event, *, tz: str, host: str, stamp: datetime) -> list[str]:
    zone = ZoneInfo(tz)
    lines = ["BEGIN:VEVENT", f"UID:event-{event.id}@{host}", f"DTSTAMP:{_utc(stamp)}"]
    if event.all_day:
        lines += [f"DTSTART;VALUE=DATE:{event.starts_at.astimezone(zone):%Y%m%d}",
                  f"DTEND;VALUE=DATE:{event.ends_at.astimezone(zone):%Y%m%d}"]
    else:
        lines += [f"DTSTART;TZID={tz}:{event.starts_at.astimezone(zone):%Y%m%dT%H%M%S}",
                  f"DTEND;TZID={tz}:{event.ends_at.astimezone(zone):%Y%m%dT%H%M%S}"]
    if event.rrule:
        lines.append("RRULE:" + recurrence.ics_rule(event.rrule, all_day=event.all_day, tz=tz))
        for key in event.exdates or []:
            local = datetime.fromisoformat(key)
            lines.append(f"EXDATE;VALUE=DATE:{local:%Y%m%d}" if event.all_day
                         else f"EXDATE;TZID={tz}:{local:%Y%m%dT%H%M%S}")
    lines.append("SUMMARY:" + escape(event.title))
    if event.place:
        lines.append("LOCATION:" + escape(event.place))
    if event.description:
        lines.append("DESCRIPTION:" + escape(event.description))
    lines.append(f"SEQUENCE:{max(event.version - 1, 0)}")
    if event.remind_minutes is not None:
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:" + escape(event.title),
                  f"TRIGGER:-PT{event.remind_minutes}M", "END:VALARM"]
    lines.append("END:VEVENT")
    return lines


def calendar(events: Iterable[Event], *, tz: str, host: str, stamp: datetime, name: str) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "X-WR-CALNAME:" + escape(name), f"X-WR-TIMEZONE:{tz}", *_vtimezone(tz)]
    for event in events:
        lines += vevent(event, tz=tz, host=host, stamp=stamp)
    lines.append("END:VCALENDAR")
    return "\r\n".join(fold(line) for line in lines) + "\r\n"


def own_events(session: Session, user_id: int, since: datetime) -> list[Event]:
    """The events on the user's calendar not over before `since`."""
    return list(session.scalars(
        select(Event).join(EventParticipant, EventParticipant.event_id == Event.id)
        .where(EventParticipant.user_id == user_id, Event.deleted_at.is_(None), Event.series_ends_at > since)
        .order_by(Event.starts_at, Event.id)))
