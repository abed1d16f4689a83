"""线索 (leads): entering and changing them, follow-ups, and the status moves that are not the
pool's (rules/pool.py moves owners) nor conversion's (rules/lead_conversion.py).

    新线索 new → 跟进中 following (the first follow-up) → 已转化 converted (lead_conversion)
                                                      ↘ 无效 invalid (with a reason)

Every status move is one `UPDATE leads ... WHERE id = :id AND status IN (:allowed)` checked by
its row count, plus one LeadEvent (reason "status", from/to). A lead is checked against leads,
customers (owned and in the pool) and protected customers with the customer's own entry policy
and normalisation (rules/lead_duplicates.py). Nothing here commits."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from models.customer import FollowUpKind, OwnershipReason, PoolReason
from models.lead import Lead, LeadEvent, LeadFollowUp, LeadKey, LeadStatus
from rules import custom_fields, lead_duplicates, normalize, regions, scope
from rules.actor import Actor
from rules.customers import tidy_phones
from rules.entry import EntryIssue
from rules.errors import EntryRefused, InvalidValue, NeedsConfirmation, OutOfScope, PermissionDenied, RuleViolation

STATUS_REASON = "status"  # LeadEvent.reason of a status move (owner moves use OwnershipReason keys)

STATUS_LABELS = {
    LeadStatus.NEW.value: _l("新线索"),
    LeadStatus.FOLLOWING.value: _l("跟进中"),
    LeadStatus.CONVERTED.value: _l("已转化"),
    LeadStatus.INVALID.value: _l("无效"),
}

# What a person types on the lead form (and the web form and the importer hand in).
FIELDS = ("name", "company", "contact_name", "position", "phone", "mobile", "email", "wechat", "source_id",
          "industry_id", "province", "city", "district", "address", "notes", "next_contact_at")
_TEXT_FIELDS = ("name", "company", "contact_name", "position", "phone", "mobile", "email", "wechat", "province",
                "city", "district", "address")
# Status moves that are not follow-ups: to 无效 from any open state.
INVALIDATE_FROM = (LeadStatus.NEW, LeadStatus.FOLLOWING)


class StatusRefused(RuleViolation):
    """The lead is not in a state this move starts from (or another user moved it first)."""


def status_label(status: str | None) -> str:
    return str(STATUS_LABELS.get(status or "", status or ""))


# --- entering and changing --------------------------------------------------------------------
def create_lead(session: Session, values: dict[str, Any], *, actor: Actor | None, now: datetime,
                pool_id: int | None = None, confirmed: bool = False) -> Lead:
    """A new lead. With an actor and no pool it is the actor's (新线索, their department);
    with `pool_id` (a web form, an import into the pool; `actor` None) it waits in that lead
    pool, unowned, 入池原因 "new". The entry policy's errors raise EntryRefused; its warnings
    raise NeedsConfirmation unless `confirmed` (nobody can confirm for a web form: a lead
    without an actor is taken with its warnings, which the "created" event keeps as its note).
    `values["custom"]` holds raw custom-field values (rules/custom_fields.clean)."""
    if actor is None and pool_id is None:
        raise InvalidValue(_l("没有负责人的线索必须进入线索池"))
    if actor is not None and not actor.can("lead.create"):
        raise PermissionDenied(_l("您没有新建线索的权限"))
    unknown = set(values) - set(FIELDS) - {"custom"}
    if unknown:
        raise InvalidValue(_l("未知的线索字段：%(f)s", f="、".join(sorted(unknown))))
    lead = Lead(**{k: v for k, v in values.items() if k != "custom"})
    lead.custom = custom_fields.clean(session, "lead", values.get("custom") or {})
    return enter(session, lead, actor=actor, now=now, pool_id=pool_id, confirmed=confirmed or actor is None)


def enter(session: Session, lead: Lead, *, actor: Actor | None, now: datetime, pool_id: int | None = None,
          confirmed: bool = False) -> Lead:
    """Save a lead built from a form (`create_lead` builds it from a dict): checked, given its
    owner or pool, its duplicate-check keys and its "created" event."""
    warnings = check(session, lead, actor=actor, now=now, confirmed=confirmed)
    lead.status = LeadStatus.NEW
    lead.created_by_id = actor.user_id if actor else None
    if pool_id is not None:
        lead.owner_id, lead.department_id = None, None
        lead.pool_id, lead.pool_reason, lead.pool_entered_at = pool_id, PoolReason.NEW.value, now
    else:
        lead.owner_id, lead.department_id, lead.claimed_at = actor.user_id, actor.department_id, now
    lead.created_at = lead.updated_at = now
    session.add(lead)
    session.flush()
    note = "；".join(i.message for i in warnings)[:255] or None
    session.add(LeadEvent(lead_id=lead.id, from_user_id=None, to_user_id=lead.owner_id,
                          actor_id=actor.user_id if actor else None, reason=OwnershipReason.CREATED.value,
                          to_status=LeadStatus.NEW.value, note=note, at=now))
    refresh_keys(session, lead)
    lead.entry_warnings = warnings  # for a caller that lists them (the importer's preview)
    return lead


def update_lead(session: Session, lead: Lead, *, actor: Actor, now: datetime, confirmed: bool = False) -> Lead:
    """The edit form's save: `lead` carries the typed values. Status, owner and pool never change
    here (follow-ups, 标记无效, 转化 and the pool move them)."""
    if not actor.can("lead.edit"):
        raise PermissionDenied(_l("您没有编辑线索的权限"))
    with session.no_autoflush:  # the stored status, not the one a form may have filled in
        if lead.id is None or lead.deleted_at is not None:
            raise OutOfScope(_l("记录不存在"))
        status = session.scalar(select(Lead.status).where(Lead.id == lead.id))
    if lead.status != status:
        raise StatusRefused(_l("线索状态只能通过跟进、转化或标记无效改变"))
    if status == LeadStatus.CONVERTED:
        raise StatusRefused(_l("线索“%(n)s”已转化为客户，请到客户资料中修改", n=lead.name))
    check(session, lead, actor=actor, now=now, confirmed=confirmed)
    lead.updated_at = now
    session.flush()
    refresh_keys(session, lead)
    return lead


def tidy(lead: Lead) -> None:
    """Values as the customer form stores them: trimmed, half-width, phones canonical."""
    for field in _TEXT_FIELDS:
        setattr(lead, field, normalize.text(getattr(lead, field)) or None)
    lead.name = lead.name or ""
    lead.notes = (lead.notes or "").strip() or None
    tidy_phones(lead, ("phone", "mobile"))


def check(session: Session, lead: Lead, *, actor: Actor | None, now: datetime, confirmed: bool) -> list:
    """Tidy and check a lead; returns the warnings it was taken with."""
    tidy(lead)
    if not lead.name:
        raise EntryRefused([EntryIssue("name", "error", str(_l("请填写线索名称")))])
    if not regions.is_valid(lead.province, lead.city, lead.district):
        raise InvalidValue(_l("省、市、区县不匹配，请重新选择"))
    with session.no_autoflush:
        issues = lead_duplicates.issues(session, lead, actor=actor, now=now)
    errors = [i for i in issues if i.is_error]
    if errors:
        raise EntryRefused(errors)
    if issues and not confirmed:
        raise NeedsConfirmation(issues)
    return issues


def keys_for(lead: Lead) -> set[tuple[str, str]]:
    """The (field, normalised value) pairs a lead is found by: its name and company (both as
    "name", as a customer's name), contact name, phones and email."""
    keys: set[tuple[str, str]] = set()
    for field, value in (("name", lead.name), ("name", lead.company), ("contact_name", lead.contact_name),
                         ("phone", lead.phone), ("mobile", lead.mobile), ("email", lead.email)):
        if normalize.text(value):
            keys.add((field, normalize.key(field, value)[:128]))
    return keys


def refresh_keys(session: Session, lead: Lead) -> None:
    session.flush()
    session.execute(delete(LeadKey).where(LeadKey.lead_id == lead.id))
    keys = keys_for(lead)
    if keys:
        session.execute(insert(LeadKey), [{"lead_id": lead.id, "field": f, "value": v} for f, v in sorted(keys)])


# --- follow-ups and status --------------------------------------------------------------------
def add_follow_up(session: Session, lead_id: int, *, actor: Actor, kind: str, content: str, now: datetime,
                  next_contact_at: date | None = None) -> LeadFollowUp:
    """跟进 a lead in the actor's scope: the first one moves 新线索 → 跟进中; each moves 最近跟进
    on. A converted or invalid lead is not followed up any more (the customer is, once converted)."""
    lead = scope.get_in_scope(session, Lead, lead_id, actor)
    if not actor.can("lead.edit"):
        raise PermissionDenied(_l("您没有跟进线索的权限"))
    if not normalize.text(content):
        raise InvalidValue(_l("请填写联系内容"))
    if kind not in set(FollowUpKind) or kind == FollowUpKind.MESSAGE:
        raise InvalidValue(_l("请选择联系方式"))
    if next_contact_at is not None and next_contact_at < actor.today:
        raise InvalidValue(_l("下次联系日期不能早于今天"))
    if lead.status not in (LeadStatus.NEW, LeadStatus.FOLLOWING):
        raise StatusRefused(_l("线索“%(n)s”%(s)s，不能再跟进", n=lead.name, s=status_label(lead.status)))
    follow_up = LeadFollowUp(lead_id=lead.id, user_id=actor.user_id, kind=str(kind), content=content.strip(),
                             happened_at=now, next_contact_at=next_contact_at, created_at=now)
    session.add(follow_up)
    session.flush()
    _move(session, lead, to=LeadStatus.FOLLOWING, allowed=(LeadStatus.NEW,), actor=actor, now=now, required=False)
    # Newest first wins; a late-arriving older follow-up never moves 最近跟进 back.
    session.execute(update(Lead).where(Lead.id == lead.id, or_(Lead.last_follow_up_at.is_(None),
                                                                Lead.last_follow_up_at <= now))
                    .values(last_follow_up_at=now, next_contact_at=next_contact_at, updated_at=Lead.updated_at)
                    .execution_options(synchronize_session=False))
    session.expire(lead)
    return follow_up


def mark_invalid(session: Session, lead_id: int, *, actor: Actor, reason: str, now: datetime) -> LeadEvent:
    """标记无效 with the reason why; a converted lead stays converted."""
    lead = scope.get_in_scope(session, Lead, lead_id, actor)
    if not actor.can("lead.edit"):
        raise PermissionDenied(_l("您没有编辑线索的权限"))
    reason = normalize.one_line(reason)
    if not reason:
        raise InvalidValue(_l("请填写无效原因"))
    if lead.status == LeadStatus.CONVERTED:
        raise StatusRefused(_l("线索“%(n)s”已转化为客户，不能标记为无效", n=lead.name))
    if lead.status == LeadStatus.INVALID:
        raise StatusRefused(_l("线索“%(n)s”已是无效线索", n=lead.name))
    return _move(session, lead, to=LeadStatus.INVALID, allowed=INVALIDATE_FROM, actor=actor, now=now,
                 note=reason[:255], values={"invalid_reason": reason[:255]})


def _move(session: Session, lead: Lead, *, to: LeadStatus, allowed: Iterable[LeadStatus], actor: Actor | None,
          now: datetime, note: str | None = None, values: dict[str, Any] | None = None,
          required: bool = True) -> LeadEvent | None:
    """One guarded UPDATE and its event. `required`: a move that matched no row (someone moved
    the lead first) is refused; otherwise it is simply not made (a second follow-up)."""
    before = session.scalar(select(Lead.status).where(Lead.id == lead.id))
    allowed = [s.value for s in allowed]
    result = session.execute(update(Lead).where(Lead.id == lead.id, Lead.status.in_(allowed),
                                                Lead.status == before)
                             .values(status=to.value, updated_at=now, **(values or {}))
                             .execution_options(synchronize_session=False))
    session.expire(lead)
    if result.rowcount != 1:
        if required:
            raise StatusRefused(_l("线索“%(n)s”刚被他人改变了状态，请刷新后重试", n=lead.name))
        return None
    event = LeadEvent(lead_id=lead.id, from_user_id=lead.owner_id, to_user_id=lead.owner_id,
                      actor_id=actor.user_id if actor else None, reason=STATUS_REASON, from_status=before,
                      to_status=to.value, note=note, at=now)
    session.add(event)
    session.flush()
    return event


def to_bin(session: Session, lead_id: int, *, actor: Actor, now: datetime) -> None:
    """删除 sends a lead to the recycle bin (deleted_at); its keys go, so it no longer 撞单."""
    lead = scope.get_in_scope(session, Lead, lead_id, actor)
    if lead.status == LeadStatus.CONVERTED:
        raise StatusRefused(_l("线索“%(n)s”已转化为客户，不能删除", n=lead.name))
    result = session.execute(update(Lead).where(Lead.id == lead.id, Lead.deleted_at.is_(None))
                             .values(deleted_at=now, updated_at=Lead.updated_at)
                             .execution_options(synchronize_session=False))
    session.expire(lead)
    if result.rowcount == 1:
        session.execute(delete(LeadKey).where(LeadKey.lead_id == lead.id))


def follow_ups(session: Session, lead: Lead, *, limit: int = 100) -> list[LeadFollowUp]:
    return list(session.scalars(select(LeadFollowUp).where(LeadFollowUp.lead_id == lead.id)
                                .order_by(LeadFollowUp.happened_at.desc(), LeadFollowUp.id.desc()).limit(limit)))


def events(session: Session, lead: Lead, *, limit: int = 100) -> list[LeadEvent]:
    return list(session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead.id)
                                .order_by(LeadEvent.at.desc(), LeadEvent.id.desc()).limit(limit)))


def follow_up_count(session: Session, lead: Lead) -> int:
    return session.scalar(select(func.count()).select_from(LeadFollowUp).where(LeadFollowUp.lead_id == lead.id)) or 0
