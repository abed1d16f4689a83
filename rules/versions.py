"""Optimistic locking of the records people edit in forms (customers, contacts, orders,
products): the form carries the row version it was opened with; a save whose version is no
longer the record's is refused with who changed it and when, instead of silently undoing
their change. The version itself is SQLAlchemy's version_id_col (models/base.version_column),
which also refuses the save when the other change lands between this check and the commit."""
from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, event, or_, select
from sqlalchemy.orm import Session

from models.customer import Contact, Customer
from models.system import AuditLog
from rules import clock
from rules.errors import ChangedMeanwhile


GENERIC = _l("该记录已被他人修改，请刷新后再改")
# A save's log row is written in the same transaction as its updated_at, a moment later.
LOGGED_WITHIN = timedelta(seconds=5)


def is_versioned(model: type) -> bool:
    mapper = getattr(model, "__mapper__", None)
    return mapper is not None and mapper.version_id_col is not None


def stale(session: Session, model: type, ident: Any, *, tz: str) -> ChangedMeanwhile:
    """The refusal of a stale save of `model` #`ident`: who changed it last and at what local
    time, from the audit log (every request's change is logged there, by display name)."""
    with session.no_autoflush:  # the refused save's values are on the record: never write them
        logged = and_(AuditLog.entity == model.__name__, AuditLog.entity_id == str(ident))
        if model is Customer:  # its contact rows are part of it (see below)
            contact_ids = [str(i) for i in session.scalars(select(Contact.id).where(Contact.customer_id == int(ident)))]
            logged = or_(logged, and_(AuditLog.entity == Contact.__name__, AuditLog.entity_id.in_(contact_ids)))
        last = session.execute(
            select(AuditLog.actor_name, AuditLog.at)
            .where(logged, AuditLog.action.in_(("create", "update", "delete")))
            .order_by(AuditLog.id.desc()).limit(1)).first()
        changed_at = session.scalar(select(model.updated_at).where(model.id == int(ident)))
    if last is None or last.at is None or (changed_at is not None and changed_at - last.at > LOGGED_WITHIN):
        # The last change was a set-based batch (one UPDATE, no row in the log): naming the
        # previous person who saved would be wrong.
        return ChangedMeanwhile(GENERIC)
    who = last.actor_name or _l("系统")
    return ChangedMeanwhile(_l("该记录已被 %(who)s 于 %(hm)s 修改，请刷新后再改", who=who,
                               hm=last.at.astimezone(ZoneInfo(tz)).strftime("%H:%M")))


def check_current(session: Session, record: Any, seen: Any, *, tz: str) -> None:
    """Refuse (ChangedMeanwhile) when the version the form was opened with, `seen`, is not the
    record's version now. A form without a version (an API client, a page from before this
    check) is left to version_id_col, which still catches a change in flight."""
    try:
        opened = int(seen)
    except (TypeError, ValueError):
        return
    if opened != record.version:
        raise stale(session, type(record), record.id, tz=tz)


def _contacts_are_part_of_their_customer(session: Session, _flush_context: Any, _instances: Any) -> None:
    """A contact is part of its customer's record (the customer form edits its contact rows):
    adding, changing or removing one moves the customer's version on, so a customer form opened
    before is refused instead of saving its old contact rows over the change."""
    touched: set[int] = set()
    for contact in [*session.new, *session.dirty, *session.deleted]:
        if not isinstance(contact, Contact) or contact.customer_id in touched:
            continue
        if contact in session.dirty and not session.is_modified(contact, include_collections=False):
            continue
        customer = contact.customer if contact.customer_id is None else session.get(Customer, contact.customer_id)
        if customer is None or customer in session.deleted or customer in session.new:
            continue
        touched.add(customer.id)
        customer.updated_at = clock.now()  # an UPDATE of the customer row: version_id_col moves it on


def install(session_class: type[Session]) -> None:
    if not event.contains(session_class, "before_flush", _contacts_are_part_of_their_customer):
        event.listen(session_class, "before_flush", _contacts_are_part_of_their_customer)
