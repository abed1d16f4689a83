"""Customer records: entering, changing, contacts, the recycle bin and merging."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from models.checkin import CheckIn
from models.customer import (
    Contact, Customer, CustomerKey, CustomerKind, CustomerSearch, CustomerShare, FollowUp, OwnershipEvent,
    OwnershipReason,
)
from models.org import DataScope
from rules import (
    attachments, entry, normalize, numbering, opportunities, phone_region, phones, protection, regions, scope, search,
    settings,
)
from rules.actor import Actor
from rules.clock import local_date
from rules.errors import EntryRefused, InvalidValue, NeedsConfirmation, PurgeRefused, RuleViolation

CODE_SEQUENCE = "customer"


def take_new(session: Session, customer: Customer, *, actor: Actor, now: datetime, tz: str,
             owner: tuple[int, int | None] | None = None, note: str | None = None) -> None:
    """A customer entered by a salesperson belongs to them and their department, and gets
    its number and mnemonic. `owner` (user id, department id) gives it to someone else (a
    converted lead stays its owner's, whoever converts it); `note` says where it came from."""
    customer.owner_id, customer.department_id = owner or (actor.user_id, actor.department_id)
    customer.created_by_id = actor.user_id
    customer.claimed_at = now  # the owner's clock (recycle rules) starts when they take it on
    if not normalize.text(customer.code):
        pattern = settings.get(session, "customer_code_pattern")
        customer.code = numbering.next_number(session, CODE_SEQUENCE, pattern, today=local_date(now, tz))
    session.add(customer)
    session.flush()
    session.add(OwnershipEvent(customer_id=customer.id, from_user_id=None, to_user_id=customer.owner_id,
                               actor_id=actor.user_id, reason=OwnershipReason.CREATED, note=note, at=now))


def validate(session: Session, customer: Customer, contacts: Iterable[Contact], *,
             confirmed: bool, now: datetime | None = None) -> list[entry.EntryIssue]:
    """Tidy the values and apply the entry policy. Raises EntryRefused for errors and
    NeedsConfirmation for warnings the user has not confirmed; returns the confirmed warnings."""
    issues = entry_issues(session, customer, contacts, now=now)
    errors = [i for i in issues if i.is_error]
    if errors:
        raise EntryRefused(errors)
    if issues and not confirmed:
        raise NeedsConfirmation(issues)
    return issues


def entry_issues(session: Session, customer: Customer, contacts: Iterable[Contact], *,
                 now: datetime | None = None, policy: dict | None = None, lookup: entry.Lookup | None = None,
                 protected: protection.ProtectedLookup | None = None,
                 protection_policy: dict | None = None) -> list[entry.EntryIssue]:
    """Tidy the values and return every entry-policy issue (errors and warnings). The
    importer passes the policy once and look-ups answered from one query per batch."""
    contacts = [c for c in contacts if c is not None]
    customer.name = normalize.text(customer.name)
    for field in ("code", "phone", "mobile", "fax", "email", "qq", "zip_code", "website", "wechat"):
        value = getattr(customer, field)
        setattr(customer, field, normalize.text(value) or None)
    tidy_phones(customer, ("phone", "mobile", "fax"))
    phone_region.fill(customer)
    for contact in contacts:
        tidy_phones(contact, ("phone", "mobile"))
    customer.mnemonic = normalize.mnemonic(customer.name, person=customer.kind == CustomerKind.PERSON)
    if not regions.is_valid(customer.province, customer.city, customer.district):
        raise InvalidValue(_l("省、市、区县不匹配，请重新选择"))
    if customer.parent_id is not None and customer.parent_id == customer.id:
        raise InvalidValue(_l("上级客户不能是客户自己"))
    primaries = [c for c in contacts if c.is_primary]
    if len(primaries) > 1:
        raise InvalidValue(_l("只能有一个首要联系人"))
    values = {field: getattr(customer, field) for field in entry.FIELDS if field != "contact_name"}
    values["contact_name"] = [c.name for c in contacts]
    for field in ("phone", "mobile", "email", "qq"):
        values[field] = [values.get(field)] + [getattr(c, field) for c in contacts]
    # One customer may list the same number twice (company and contact): not a duplicate.
    values = {k: _unique(v) if isinstance(v, list) else v for k, v in values.items()}
    issues = entry.check(values, policy if policy is not None else entry.load_policy(session),
                         lookup=lookup or entry.database_lookup(session, exclude_id=customer.id))
    if now is not None:
        issues += protection.collisions(session, customer, now=now, find=protected, policy=protection_policy)
    return issues


def tidy_phones(record: object, fields: Iterable[str]) -> None:
    """Numbers are stored in their canonical form (rules/phones.py) however they were typed,
    imported or sent; one that does not parse is kept as typed for the format check to refuse
    (or, with format checks off, to keep)."""
    for field in fields:
        value = getattr(record, field, None)
        if normalize.text(value):
            setattr(record, field, phones.canonical(value))


def validate_contact(session: Session, contact: Contact) -> None:
    """A contact saved on its own (联系人 page): numbers tidied and checked as the customer form
    checks them."""
    tidy_phones(contact, ("phone", "mobile"))
    if not entry.load_policy(session)["check_formats"]:
        return
    issues = [entry.EntryIssue(f, "error", problem) for f in ("mobile", "phone", "email", "qq")
              if normalize.text(getattr(contact, f, None))
              and (problem := entry.format_problem(f, getattr(contact, f)))]
    if issues:
        raise EntryRefused(issues)


def _unique(values: list) -> list:
    seen, out = set(), []
    for v in values:
        k = normalize.text(v)
        if k and k not in seen:
            seen.add(k)
            out.append(v)
    return out


def visible_count(session: Session, actor: Actor) -> int:
    """How many live customers the actor sees. For everyone-scope it is all rows less the
    recycle bin: a bare count(*) reads the narrowest index and the bin has a partial index of
    its own, where `WHERE deleted_at IS NULL` makes SQLite read every customer row."""
    if actor.data_scope is DataScope.ALL:
        total = session.scalar(select(func.count()).select_from(Customer)) or 0
        binned = session.scalar(select(func.count()).select_from(Customer).where(Customer.deleted_at.is_not(None)))
        return total - (binned or 0)
    # Owned (with the staff written out: rules/scope.owner_clause_listed) and shared apart:
    # SQLite then counts a department's customers from the live-owner index alone (264k of
    # 1M: 220 → 30 ms) instead of reading every customer row.
    owned = and_(Customer.deleted_at.is_(None), scope.owner_clause_listed(session, Customer.owner_id, actor))
    count = session.scalar(select(func.count()).select_from(Customer).where(owned)) or 0
    for branch in scope.customer_branches(actor)[1:]:
        count += session.scalar(select(func.count()).select_from(Customer).where(branch)) or 0
    return count


def arrange_primary(session: Session, customer: Customer) -> None:
    """Exactly one primary contact when there are contacts: the one chosen, else the first.
    Clearing before setting keeps the one-primary index satisfied at every step."""
    contacts = [c for c in customer.contacts if c is not None]
    if not contacts:
        return
    chosen = next((c for c in contacts if c.is_primary), contacts[0])
    for contact in contacts:
        contact.is_primary = False
    session.flush()
    chosen.is_primary = True
    session.flush()


def make_primary(session: Session, contacts: list[Contact]) -> int:
    """设为首要联系人 for each chosen contact's customer. Two chosen contacts of one customer
    would leave it to chance which wins: refused."""
    customer_ids = [c.customer_id for c in contacts]
    if len(set(customer_ids)) != len(customer_ids):
        raise InvalidValue(_l("每位客户只能有一个首要联系人：同一客户请只选一位联系人"))
    for contact in contacts:
        set_primary(session, contact)
    return len(contacts)


def set_primary(session: Session, contact: Contact) -> None:
    """The one-primary index refuses a second primary, so the others are cleared first (a
    concurrent change to the same customer waits on those rows and ends with one primary)."""
    session.execute(update(Contact).where(Contact.customer_id == contact.customer_id)
                    .values(is_primary=False).execution_options(synchronize_session="fetch"))
    session.flush()
    contact.is_primary = True
    session.flush()


def reindex(session: Session, customer: Customer) -> None:
    """After any change to a customer or its contacts: duplicate-check keys and search row."""
    refresh_keys(session, customer)
    search.refresh(session, customer)


def reindex_chunk(session: Session, *, after: int, size: int = 500) -> int | None:
    """Work out again the 助记码 and quick-search row of the customers after id `after` (a
    chunk of `size`), as today's rules make them: for a rebuild after those rules change.
    Returns the last id done, or None when there are no more."""
    chunk = list(session.scalars(select(Customer).where(Customer.id > after).order_by(Customer.id).limit(size)
                                 .options(selectinload(Customer.contacts))))
    if not chunk:
        return None
    for customer in chunk:
        mnemonic = normalize.mnemonic(customer.name, person=customer.kind == CustomerKind.PERSON)
        if mnemonic != customer.mnemonic:
            # not a change anyone made: neither 更新时间 nor the row version (an open form stays valid)
            session.execute(update(Customer).where(Customer.id == customer.id)
                            .values(mnemonic=mnemonic, updated_at=Customer.updated_at)
                            .execution_options(synchronize_session=False))
            set_committed_value(customer, "mnemonic", mnemonic)
    ids = [c.id for c in chunk]
    session.execute(delete(CustomerSearch).where(CustomerSearch.customer_id.in_(ids)))
    session.execute(insert(CustomerSearch), [search.row_for(c, c.contacts) for c in chunk])
    return ids[-1]


def refresh_keys(session: Session, customer: Customer) -> None:
    """Rewrite the duplicate-check keys of one customer."""
    session.flush()
    session.execute(delete(CustomerKey).where(CustomerKey.customer_id == customer.id))
    keys = entry.keys_for(customer, session.scalars(select(Contact).where(Contact.customer_id == customer.id)),
                          entry.keyed_fields(session))
    if keys:
        session.execute(insert(CustomerKey), [{"customer_id": customer.id, "field": f, "value": v}
                                              for f, v in sorted(keys)])


def to_bin(session: Session, customer: Customer, *, actor: Actor, now: datetime) -> None:
    """删除 sends a customer to the recycle bin; contacts and follow-ups stay with it."""
    if customer.deleted_at is not None:
        return
    customer.deleted_at = now
    customer.deleted_by_id = actor.user_id
    session.flush()


def restore(session: Session, customer: Customer) -> None:
    if customer.deleted_at is None:
        raise RuleViolation(_l("该客户不在回收站中"))
    customer.deleted_at = None
    customer.deleted_by_id = None
    session.flush()


def purge(session: Session, customer: Customer) -> list[str]:
    """彻底删除 from the bin: the customer and everything that hangs off it, files included.
    Returns the storage keys of those files, for the caller to delete after the commit."""
    if customer.deleted_at is None:
        raise PurgeRefused(_l("只能彻底删除回收站中的客户"))
    from models.sales import Order

    if session.scalar(select(Order.id).where(Order.customer_id == customer.id).limit(1)) is not None:
        raise PurgeRefused(_l("客户“%(n)s”有订单，订单和回款记录需要保留，不能彻底删除", n=customer.name))
    from models.contract import Contract

    if session.scalar(select(Contract.id).where(Contract.customer_id == customer.id).limit(1)) is not None:
        raise PurgeRefused(_l("客户“%(n)s”有合同，合同需要保留，不能彻底删除", n=customer.name))
    if (refusal := opportunities.purge_refusal(session, customer)) is not None:
        raise refusal
    from models.customer import FollowUpComment

    follow_ups = select(FollowUp.id).where(FollowUp.customer_id == customer.id)
    files = [*attachments.drop_for_records(session, "customer", [customer.id]),
             *attachments.drop_for_records(session, "contact", select(Contact.id).where(Contact.customer_id == customer.id)),
             *attachments.drop_for_records(session, "follow_up", follow_ups)]
    session.execute(delete(FollowUpComment).where(FollowUpComment.follow_up_id.in_(follow_ups)))
    session.execute(delete(CheckIn).where(CheckIn.customer_id == customer.id))  # 外勤签到 point at its visits
    session.execute(delete(FollowUp).where(FollowUp.customer_id == customer.id))
    session.execute(delete(CustomerShare).where(CustomerShare.customer_id == customer.id))
    session.execute(delete(OwnershipEvent).where(OwnershipEvent.customer_id == customer.id))
    session.execute(delete(CustomerKey).where(CustomerKey.customer_id == customer.id))
    session.execute(delete(CustomerSearch).where(CustomerSearch.customer_id == customer.id))
    session.execute(delete(Contact).where(Contact.customer_id == customer.id))
    session.execute(update(Customer).where(Customer.parent_id == customer.id).values(parent_id=None))
    session.delete(customer)
    session.flush()
    return files


def merge(session: Session, keep: Customer, others: list[Customer], *, actor: Actor, now: datetime) -> int:
    """客户合并: move the others' contacts, follow-ups and shares onto `keep` and put the
    others in the recycle bin, marked as merged. Returns how many were merged."""
    others = [o for o in others if o.id != keep.id]
    if not others:
        raise RuleViolation(_l("请至少选择两个客户进行合并"))
    ids = [o.id for o in others]
    has_primary = session.scalar(select(Contact.id).where(Contact.customer_id == keep.id,
                                                          Contact.is_primary.is_(True))) is not None
    if has_primary:
        session.execute(update(Contact).where(Contact.customer_id.in_(ids)).values(is_primary=False))
    else:
        # keep one primary at most: the first of the merged customers' primaries
        first = session.scalar(select(Contact.id).where(Contact.customer_id.in_(ids), Contact.is_primary.is_(True))
                               .order_by(Contact.id).limit(1))
        session.execute(update(Contact).where(Contact.customer_id.in_(ids), Contact.id != (first or -1))
                        .values(is_primary=False))
    session.execute(update(Contact).where(Contact.customer_id.in_(ids)).values(customer_id=keep.id))
    session.execute(update(FollowUp).where(FollowUp.customer_id.in_(ids)).values(customer_id=keep.id))
    # A check-in goes where its 拜访 follow-up went, so the day's check-in lists keep it.
    session.execute(update(CheckIn).where(CheckIn.customer_id.in_(ids)).values(customer_id=keep.id))
    session.execute(update(CustomerShare).where(CustomerShare.customer_id.in_(ids)).values(customer_id=keep.id))
    attachments.move_records(session, "customer", ids, keep.id)  # issue 20: 附件 follow the kept customer
    _merge_sales(session, keep, others)
    opportunities.merge_customers(session, keep.id, ids)
    for other in others:
        for field in ("phone", "mobile", "fax", "email", "qq", "wechat", "website", "address", "zip_code"):
            if not getattr(keep, field) and getattr(other, field):
                setattr(keep, field, getattr(other, field))
        phone_region.fill(keep)
        other.merged_into_id = keep.id
        to_bin(session, other, actor=actor, now=now)
    session.flush()
    session.expire(keep, ["contacts"])
    reindex(session, keep)
    for other in others:
        reindex(session, other)
    return len(others)


def _merge_sales(session: Session, keep: Customer, others: list[Customer]) -> None:
    """Orders, payments and points of the merged customers move to the one kept, and so do
    their purchase totals."""
    from decimal import Decimal

    from models.contract import Contract
    from models.sales import Order, Payment, PointsEntry

    ids = [o.id for o in others]
    for model in (Order, Payment, PointsEntry, Contract):
        session.execute(update(model).where(model.customer_id.in_(ids)).values(customer_id=keep.id)
                        .execution_options(synchronize_session=False))
    everyone = [keep, *others]
    keep.purchase_count = sum(c.purchase_count or 0 for c in everyone)
    keep.purchase_total = sum((c.purchase_total or Decimal("0") for c in everyone), Decimal("0"))
    keep.points = sum(c.points or 0 for c in everyone)
    keep.last_purchase_on = max((c.last_purchase_on for c in everyone if c.last_purchase_on), default=None)
    keep.has_deal = any(c.has_deal for c in everyone)
    for other in others:
        other.purchase_count, other.purchase_total, other.points = 0, Decimal("0"), 0
