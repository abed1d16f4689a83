"""SLA 策略: which targets a ticket gets. A policy names a priority and, optionally, a ticket type
and a customer value level; the most specific active policy that fits wins (type + level > type >
level > priority only). A priority without any policy has no due times."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.customer import Customer
from models.service import Ticket, TicketPriority
from models.sla import SlaPolicy
from rules.errors import SlaPolicyRefused

PRIORITY_LABELS = {TicketPriority.LOW.value: _l("低"), TicketPriority.NORMAL.value: _l("普通"),
                   TicketPriority.HIGH.value: _l("高"), TicketPriority.URGENT.value: _l("紧急")}
PRIORITY_ORDER = (TicketPriority.URGENT.value, TicketPriority.HIGH.value, TicketPriority.NORMAL.value,
                  TicketPriority.LOW.value)
# The longest target anyone could mean (a year of working minutes); beyond it is a typing slip.
MAX_MINUTES = 365 * 24 * 60


@dataclass(frozen=True)
class Targets:
    first_response_seconds: int
    resolution_seconds: int


def _specificity(policy: SlaPolicy) -> int:
    return (2 if policy.type_id is not None else 0) + (1 if policy.value_level_id is not None else 0)


def match(session: Session, *, priority: str, type_id: int | None, value_level_id: int | None) -> SlaPolicy | None:
    candidates = session.scalars(select(SlaPolicy).where(
        SlaPolicy.active.is_(True), SlaPolicy.priority == str(priority),
        (SlaPolicy.type_id.is_(None)) | (SlaPolicy.type_id == type_id),
        (SlaPolicy.value_level_id.is_(None)) | (SlaPolicy.value_level_id == value_level_id)))
    return max(candidates, key=lambda p: (_specificity(p), -p.id), default=None)


def targets_for(session: Session, ticket: Ticket) -> Targets | None:
    # No autoflush: the hooks run on a ticket being built, perhaps not complete enough to insert yet.
    with session.no_autoflush:
        level = session.scalar(select(Customer.value_level_id).where(Customer.id == ticket.customer_id))
        policy = match(session, priority=ticket.priority, type_id=ticket.type_id, value_level_id=level)
    if policy is None:
        return None
    return Targets(policy.first_response_minutes * 60, policy.resolution_minutes * 60)


def check(session: Session, policy: SlaPolicy) -> None:
    """Refuse a policy the matching could not use: targets that are not positive minutes, an
    unknown priority, or a second active policy for the same priority, type and level."""
    if str(policy.priority) not in {p.value for p in TicketPriority}:
        raise SlaPolicyRefused(_l("请选择优先级"))
    for minutes in (policy.first_response_minutes, policy.resolution_minutes):
        if minutes is None or not 0 < minutes <= MAX_MINUTES:
            raise SlaPolicyRefused(_l("响应和解决时限须为大于 0 的分钟数（最多一年）"))
    if policy.first_response_minutes > policy.resolution_minutes:
        raise SlaPolicyRefused(_l("首次响应时限不能长于解决时限"))
    if not policy.active:
        return
    session.flush()  # a new policy gets its id, so the look-up below does not find it as its own twin
    twin = select(SlaPolicy.id).where(
        SlaPolicy.active.is_(True), SlaPolicy.priority == str(policy.priority),
        SlaPolicy.type_id.is_(None) if policy.type_id is None else SlaPolicy.type_id == policy.type_id,
        SlaPolicy.value_level_id.is_(None) if policy.value_level_id is None
        else SlaPolicy.value_level_id == policy.value_level_id)
    if policy.id is not None:
        twin = twin.where(SlaPolicy.id != policy.id)
    if session.scalar(twin.limit(1)) is not None:
        raise SlaPolicyRefused(_l("已有相同优先级、工单类型和客户价值的启用策略"))
