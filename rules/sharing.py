"""共享: showing a customer to colleagues, read-only or to collaborate, optionally until a date."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.customer import Customer, CustomerShare, ShareMode
from models.office import NotificationKind
from models.org import User
from rules import notifications
from rules.actor import Actor
from rules.errors import InvalidValue
from rules.links import ListKind, RecordLink


def share(session: Session, customer: Customer, *, to_user: User, mode: str, until: date | None,
          actor: Actor, now: datetime) -> CustomerShare:
    if mode not in (ShareMode.READ_ONLY, ShareMode.COLLABORATE):
        raise InvalidValue(_l("请选择共享方式"))
    if to_user.id == customer.owner_id:
        raise InvalidValue(_l("不能共享给客户的业务员本人"))
    if not to_user.active:
        raise InvalidValue(_l("%(n)s 已停用，不能共享", n=to_user.display_name))
    if until is not None and until < actor.today:
        raise InvalidValue(_l("共享截止日期不能早于今天"))
    current = session.scalar(select(CustomerShare).where(
        CustomerShare.customer_id == customer.id, CustomerShare.user_id == to_user.id,
        CustomerShare.revoked_at.is_(None)))
    if current is None:
        current = CustomerShare(customer_id=customer.id, user_id=to_user.id, created_at=now)
        session.add(current)
    current.shared_by_id = actor.user_id
    current.mode = mode
    current.until = until
    session.flush()
    notifications.notify(session, kind=NotificationKind.CUSTOMER, user_id=to_user.id, now=now,
                         title=_l("%(who)s 向您共享了客户「%(c)s」", who=actor.display_name, c=customer.name),
                         link=RecordLink(ListKind.CUSTOMER, customer.id))
    return current


def revoke(session: Session, record: CustomerShare, *, now: datetime) -> None:
    if record.revoked_at is None:
        record.revoked_at = now
        session.flush()
