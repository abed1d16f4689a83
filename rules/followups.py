"""联系记录, 点评 and the due-contact reminders (待回访)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from models.customer import Customer, FollowUp, FollowUpComment, FollowUpKind
from models.office import NotificationKind
from models.org import User
from rules import notifications, normalize
from rules.actor import Actor
from rules.errors import InvalidValue
from rules.links import ListKind, ListLink, RecordLink


# A message on the timeline is not a follow-up: reports, the follow-up list and 最后联系 (and so
# the recycle clock) count only the rows this clause admits.
COUNTED = FollowUp.kind != FollowUpKind.MESSAGE.value


def record(session: Session, follow_up: FollowUp, *, actor: Actor, now: datetime, today: date) -> FollowUp:
    """Save a follow-up and move the customer's last/next contact dates along (a message moves
    neither)."""
    if not normalize.text(follow_up.content):
        raise InvalidValue(_l("请填写联系内容"))
    follow_up.user_id = follow_up.user_id or actor.user_id
    follow_up.happened_at = follow_up.happened_at or now
    check_next_contact(follow_up.next_contact_at, today)
    session.add(follow_up)
    session.flush()
    if follow_up.kind == FollowUpKind.MESSAGE:
        return follow_up
    customer = session.get(Customer, follow_up.customer_id)
    latest = session.scalar(select(func.max(FollowUp.happened_at)).where(FollowUp.customer_id == customer.id,
                                                                         COUNTED))
    customer.last_follow_up_at = latest
    newest = session.scalar(select(FollowUp).where(FollowUp.customer_id == customer.id, COUNTED)
                            .order_by(FollowUp.happened_at.desc(), FollowUp.id.desc()).limit(1))
    customer.next_contact_at = newest.next_contact_at
    session.flush()
    if customer.next_contact_at is not None and customer.next_contact_at <= today and customer.owner_id:
        remind_due(session, customer.owner_id, today=today, now=now)
    return follow_up


def check_next_contact(day: date | None, today: date) -> None:
    if day is not None and day < today:
        raise InvalidValue(_l("下次联系日期不能早于今天"))


def set_next_contact(session: Session, customer: Customer, day: date | None, *, now: datetime,
                     today: date) -> None:
    """下次联系 set on its own (the phone's 360 page), without writing a follow-up: the same date
    a follow-up would set, under the same check; the next follow-up decides it again."""
    if day is None:
        raise InvalidValue(_l("请选择下次联系日期"))
    check_next_contact(day, today)
    customer.next_contact_at = day
    session.flush()
    if day <= today and customer.owner_id:
        remind_due(session, customer.owner_id, today=today, now=now)


@dataclass(frozen=True)
class Location:
    """Where a follow-up was written: degrees (6 decimals, about 0.1 m) and the accuracy radius."""

    latitude: Decimal
    longitude: Decimal
    accuracy: int | None


def location(latitude: Any, longitude: Any, accuracy: Any = None) -> Location | None:
    """The position a phone's browser reported, or None when there is none or it cannot be a
    place on Earth: a follow-up is then saved without it, never refused for it."""
    try:
        lat, lng = float(str(latitude).strip()), float(str(longitude).strip())
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    try:
        metres = float(str(accuracy).strip())
        radius = int(round(metres)) if math.isfinite(metres) and 0 <= metres < 10_000_000 else None
    except ValueError:
        radius = None
    return Location(Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}"), radius)


def comment(session: Session, follow_up: FollowUp, *, actor: Actor, content: str, now: datetime) -> FollowUpComment:
    """点评: several supervisors may remark; the author hears about each remark."""
    if not normalize.text(content):
        raise InvalidValue(_l("请填写点评内容"))
    remark = FollowUpComment(follow_up_id=follow_up.id, user_id=actor.user_id, content=content.strip(),
                             created_at=now)
    session.add(remark)
    session.flush()
    if follow_up.user_id != actor.user_id:
        notifications.notify(session, kind=NotificationKind.CUSTOMER, user_id=follow_up.user_id, now=now,
                             title=_l("%(who)s 点评了您对「%(c)s」的联系记录", who=actor.display_name,
                                      c=follow_up.customer.name),
                             body=content.strip()[:500], link=RecordLink(ListKind.CUSTOMER, follow_up.customer_id))
    return remark


def due_clause(today: date) -> ColumnElement[bool]:
    """待回访: customers whose next contact date has come."""
    return and_(Customer.next_contact_at.is_not(None), Customer.next_contact_at <= today)


def remind_due(session: Session, owner_id: int, *, today: date, now: datetime) -> None:
    """One reminder a day per owner, counting the customers due (raised again if more come due)."""
    count = session.scalar(select(func.count(Customer.id)).where(
        Customer.owner_id == owner_id, Customer.deleted_at.is_(None), due_clause(today))) or 0
    if count:
        notifications.notify(session, kind=NotificationKind.FOLLOW_UP_DUE, user_id=owner_id, now=now,
                             link=ListLink(ListKind.DUE_CUSTOMER),
                             title=_l("今天有 %(n)d 位客户需要回访", n=count),
                             dedupe_key=f"due:{today.isoformat()}:{count}")


def remind_all_due(session: Session, *, today: date, now: datetime) -> int:
    """The daily job's work: a reminder for every owner with customers due today."""
    owners = session.scalars(select(Customer.owner_id).join(User, User.id == Customer.owner_id).where(
        Customer.deleted_at.is_(None), due_clause(today), User.active.is_(True)).distinct())
    count = 0
    for owner_id in list(owners):
        remind_due(session, owner_id, today=today, now=now)
        count += 1
    return count
