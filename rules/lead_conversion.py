"""转化: one action turns an open lead into a customer with its primary contact (and, if asked,
a first opportunity), once.

The customer is checked by the rules the customer form uses (rules/customers.validate: the
entry policy's duplicates and formats, protection collisions), so a conversion that would
collide with a protected customer is refused or asks for confirmation exactly as entering that
customer by hand would. Everything is checked before anything is written.

Once and only once: the guarded UPDATE `... WHERE status IN (new, following) AND customer_id IS
NULL` decides. Two people converting the same lead at the same moment both get that far; one
UPDATE changes the row, the other finds nothing to change (PostgreSQL re-reads the row after
the winner commits; SQLite serialises the writers) and is refused, and its transaction, customer
included, is rolled back by the caller. No rule here commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session

from models.customer import Contact, Customer, CustomerKind, FollowUp
from models.lead import OPEN_LEAD_STATES, Lead, LeadEvent, LeadFollowUp, LeadStatus
from models.opportunity import Opportunity
from models.org import User
from rules import custom_fields, customers, normalize, opportunities, scope, stage_groups
from rules.actor import Actor
from rules.entry import EntryIssue
from rules.errors import ConversionRefused, InvalidValue, PermissionDenied

STATUS_REASON = "status"  # LeadEvent.reason of a status change

# What the customer and its primary contact take from the lead (the conversion page shows them
# pre-filled and lets the user correct them).
CUSTOMER_FIELDS = ("name", "kind", "phone", "mobile", "email", "wechat", "source_id", "industry_id", "province",
                   "city", "district", "address", "notes")
CONTACT_FIELDS = ("name", "position", "phone", "mobile", "email", "wechat")


@dataclass
class Conversion:
    lead: Lead
    customer: Customer
    contact: Contact | None
    opportunity: Opportunity | None
    follow_ups: int  # how many follow-ups were carried over
    warnings: list[EntryIssue] = field(default_factory=list)  # confirmed duplicates, for the record


def customer_values(lead: Lead) -> dict[str, Any]:
    """The customer a lead becomes, before the user's corrections: the company when the lead
    names one, else the lead's own name (a person)."""
    company = normalize.text(lead.company)
    return {"name": company or normalize.text(lead.name),
            "kind": CustomerKind.COMPANY.value if company or not lead.contact_name else CustomerKind.PERSON.value,
            "phone": lead.phone, "mobile": lead.mobile, "email": lead.email, "wechat": lead.wechat,
            "source_id": lead.source_id, "industry_id": lead.industry_id, "province": lead.province,
            "city": lead.city, "district": lead.district, "address": lead.address, "notes": lead.notes}


def contact_values(lead: Lead) -> dict[str, Any]:
    """The primary contact: the lead's contact person, else the lead's own name when it names a
    person rather than the company (a web form's "李女士" of 云帆文化传媒)."""
    own = normalize.text(lead.name)
    name = normalize.text(lead.contact_name) or (own if own != normalize.text(lead.company) else "")
    return {"name": name, "position": lead.position, "phone": lead.phone, "mobile": lead.mobile,
            "email": lead.email, "wechat": lead.wechat}


def convert(session: Session, lead_id: int, *, actor: Actor, now: datetime, opportunity: dict | None = None,
            customer: dict | None = None, contact: dict | None = None, confirmed: bool = False,
            tz: str = "Asia/Shanghai") -> Conversion:
    """转化 the lead `lead_id` (in the actor's scope) into a customer of the lead's owner.

    `customer` / `contact` override the values taken from the lead (the conversion page's
    corrections); `opportunity` ({"title", "amount", "expected_close_on"}) also opens a first
    opportunity at the first stage of the owner's stage group. `confirmed` accepts the entry
    policy's warnings (duplicates to confirm), as the customer form's tick box does."""
    if not actor.can("lead.convert"):
        raise PermissionDenied(_l("您没有转化线索的权限"))
    lead = scope.get_in_scope(session, Lead, lead_id, actor)
    _refuse_closed(lead)
    owner = session.get(User, lead.owner_id)
    new = _customer(session, lead, customer or {})
    person = _contact(lead, contact or {})
    contacts = [person] if person is not None else []
    new.contacts = contacts
    with session.no_autoflush:
        plan = _opportunity_plan(session, opportunity, owner=owner, lead=lead) if opportunity is not None else None
        new.owner_id = owner.id  # the owner's own customers are no collision (as on the form)
        warnings = customers.validate(session, new, contacts, confirmed=confirmed, now=now)
    won = session.execute(
        update(Lead)
        .where(Lead.id == lead.id, Lead.status.in_([s.value for s in OPEN_LEAD_STATES]), Lead.customer_id.is_(None),
               Lead.deleted_at.is_(None))
        .values(status=LeadStatus.CONVERTED.value, converted_at=now, converted_by_id=actor.user_id)
        .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        session.refresh(lead)
        _refuse_closed(lead)
        raise ConversionRefused(_l("线索“%(n)s”已被他人处理，请刷新后再试", n=lead.name))
    note = str(_l("由线索“%(n)s”（编号 %(id)d）转化", n=lead.name, id=lead.id))[:255]
    customers.take_new(session, new, actor=actor, now=now, tz=tz, owner=(owner.id, owner.department_id), note=note)
    customers.arrange_primary(session, new)
    customers.reindex(session, new)
    session.execute(update(Lead).where(Lead.id == lead.id).values(customer_id=new.id)
                    .execution_options(synchronize_session=False))
    carried = _carry_follow_ups(session, lead, new)
    session.add(LeadEvent(lead_id=lead.id, from_user_id=lead.owner_id, to_user_id=lead.owner_id,
                          actor_id=actor.user_id, reason=STATUS_REASON, from_status=str(lead.status),
                          to_status=LeadStatus.CONVERTED.value, note=note, at=now))
    made = _open_opportunity(session, plan, lead=lead, customer=new, contact=person, owner=owner, actor=actor,
                             now=now, tz=tz) if plan is not None else None
    session.flush()
    session.refresh(lead)
    return Conversion(lead, new, person, made, carried, warnings)


def _refuse_closed(lead: Lead) -> None:
    if lead.status == LeadStatus.INVALID:
        raise ConversionRefused(_l("无效线索不能转化"))
    if lead.status == LeadStatus.CONVERTED or lead.customer_id is not None:
        raise ConversionRefused(_l("线索“%(n)s”已转化为客户，不能重复转化", n=lead.name))


def _customer(session: Session, lead: Lead, overrides: dict[str, Any]) -> Customer:
    values = customer_values(lead)
    values.update({k: v for k, v in overrides.items() if k in CUSTOMER_FIELDS})
    if values.get("kind") not in {k.value for k in CustomerKind}:
        values["kind"] = CustomerKind.COMPANY.value
    new = Customer(**values)
    # Custom values travel where the customer has a field of the same key.
    keys = {d.key for d in custom_fields.definitions(session, "customer")}
    new.custom = {k: v for k, v in (lead.custom or {}).items() if k in keys}
    return new


def _contact(lead: Lead, overrides: dict[str, Any]) -> Contact | None:
    values = contact_values(lead)
    values.update({k: v for k, v in overrides.items() if k in CONTACT_FIELDS})
    values["name"] = normalize.text(values.get("name"))
    if not values["name"]:
        if any(normalize.text(overrides.get(k)) for k in ("phone", "mobile", "email")):
            raise InvalidValue(_l("请填写联系人姓名"))  # typed a contact's numbers, but no name
        return None
    return Contact(is_primary=True, custom={}, **{k: (normalize.text(v) or None) if isinstance(v, str) else v
                                                 for k, v in values.items()})


def _carry_follow_ups(session: Session, lead: Lead, customer: Customer) -> int:
    """The lead's follow-ups copied onto the customer (same person, kind, content and time), in
    one INSERT … SELECT; the lead keeps its own."""
    copied = session.execute(
        insert(FollowUp).from_select(
            ["customer_id", "user_id", "kind", "content", "happened_at", "next_contact_at", "created_at",
             "updated_at"],
            select(literal(customer.id), LeadFollowUp.user_id, LeadFollowUp.kind, LeadFollowUp.content,
                   LeadFollowUp.happened_at, LeadFollowUp.next_contact_at, LeadFollowUp.created_at,
                   LeadFollowUp.created_at)
            .where(LeadFollowUp.lead_id == lead.id).order_by(LeadFollowUp.happened_at, LeadFollowUp.id)),
        execution_options={"preserve_rowcount": True}).rowcount
    latest = session.scalar(select(func.max(LeadFollowUp.happened_at)).where(LeadFollowUp.lead_id == lead.id))
    if latest is not None:
        customer.last_follow_up_at = latest
        customer.next_contact_at = lead.next_contact_at
    return max(copied or 0, 0)


# --- the first opportunity -------------------------------------------------------------------

@dataclass(frozen=True)
class _Plan:
    title: str
    amount: Decimal
    expected_close_on: date | None


def _opportunity_plan(session: Session, values: dict, *, owner: User, lead: Lead) -> _Plan:
    """The opportunity asked for, checked before anything is written."""
    if not normalize.text(values.get("title")):
        raise InvalidValue(_l("请填写销售机会名称"))
    title = normalize.text(values["title"])[:128]
    raw = values.get("amount")
    try:
        amount = Decimal(str(raw).replace(",", "").replace("¥", "").strip()) if normalize.text(str(raw or "")) \
            else Decimal("0")
    except InvalidOperation:
        raise InvalidValue(_l("预计金额“%(v)s”不是数字", v=raw)) from None
    if amount < 0:
        raise InvalidValue(_l("预计金额不能为负数"))
    close = values.get("expected_close_on")
    if close is not None and not isinstance(close, date):
        try:
            close = date.fromisoformat(str(close)) if normalize.text(str(close)) else None
        except ValueError:
            raise InvalidValue(_l("预计成交日期“%(v)s”无法识别（如 2026-12-31）", v=close)) from None
    try:
        stage_groups.first_stage(stage_groups.group_for(session, owner))
    except InvalidValue:
        raise ConversionRefused(_l("尚未设置销售阶段（阶段组），无法同时创建销售机会；请管理员先在“阶段组”中设置，"
                                   "或不勾选“同时创建销售机会”")) from None
    return _Plan(title, amount.quantize(Decimal("0.01")), close)


def _open_opportunity(session: Session, plan: _Plan, *, lead: Lead, customer: Customer, contact: Contact | None,
                      owner: User, actor: Actor, now: datetime, tz: str) -> Opportunity:
    """The first opportunity, made the way the 销售机会 form makes one (rules/opportunities.py)."""
    return opportunities.create(session, opportunities.OpportunityInput(
        title=plan.title, customer_id=customer.id, contact_id=contact.id if contact else None, amount=plan.amount,
        expected_close_on=plan.expected_close_on, source_id=lead.source_id, source_lead_id=lead.id,
        owner_id=owner.id), actor=actor, now=now, tz=tz)
