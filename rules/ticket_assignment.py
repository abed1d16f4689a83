"""Who gets a new ticket of a team (服务组): by turns (轮流分派) or whoever has the fewest open
tickets (分给未结工单最少的人), never a member marked 暂停接单 or a disabled (离职) user. A team
set to 手动分派 leaves the choice to a person.

Round robin's turn is each member's `last_assigned_at`: the one who waited longest is next, and
taking the turn is a guarded UPDATE on that value, so two tickets created at the same moment go
to two people on SQLite and PostgreSQL alike."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.org import User
from models.service import ACTIVE_CATEGORIES, AssignMode, ServiceTeam, ServiceTeamMember, Ticket
from rules.actor import Actor
from rules.errors import OutOfScope, RuleViolation

MANAGE = "service.manage"
MODE_LABELS = {AssignMode.MANUAL.value: _l("手动分派"), AssignMode.ROUND_ROBIN.value: _l("轮流分派"),
               AssignMode.LEAST_OPEN.value: _l("分给未结工单最少的人")}
# Two requests taking the same turn: the loser tries the next member; a handful of rounds is plenty.
ATTEMPTS = 5


def _available(session: Session, team_id: int) -> list[ServiceTeamMember]:
    """The team's members who take tickets now, longest waiting first (never assigned = first)."""
    return list(session.scalars(
        select(ServiceTeamMember).join(User, User.id == ServiceTeamMember.user_id)
        .where(ServiceTeamMember.team_id == team_id, ServiceTeamMember.away.is_(False), User.active.is_(True))
        .order_by(ServiceTeamMember.last_assigned_at.is_not(None), ServiceTeamMember.last_assigned_at,
                  ServiceTeamMember.id)))


def _open_counts(session: Session, user_ids: list[int]) -> dict[int, int]:
    rows = session.execute(select(Ticket.assignee_id, func.count(Ticket.id)).where(
        Ticket.assignee_id.in_(user_ids), Ticket.status_category.in_(ACTIVE_CATEGORIES)).group_by(Ticket.assignee_id))
    return {user_id: n for user_id, n in rows}


def _take_turn(session: Session, member: ServiceTeamMember, now: datetime) -> bool:
    seen = member.last_assigned_at
    guard = (ServiceTeamMember.last_assigned_at.is_(None) if seen is None
             else ServiceTeamMember.last_assigned_at == seen)
    taken = session.execute(update(ServiceTeamMember).where(ServiceTeamMember.id == member.id, guard)
                            .values(last_assigned_at=now).execution_options(synchronize_session=False)).rowcount
    session.refresh(member)
    return taken == 1


def pick_assignee(session: Session, team_id: int | None, now: datetime) -> int | None:
    """The user a new ticket of `team_id` goes to, or None (a manual or inactive team, nobody
    available). The pick is recorded as that member's turn."""
    team = session.get(ServiceTeam, team_id) if team_id is not None else None
    if team is None or not team.active or team.assign_mode == AssignMode.MANUAL:
        return None
    for _ in range(ATTEMPTS):
        members = _available(session, team.id)
        if not members:
            return None
        if team.assign_mode == AssignMode.LEAST_OPEN:
            counts = _open_counts(session, [m.user_id for m in members])
            # min() keeps the first of equals: among the least loaded, the one who waited longest.
            members = [min(members, key=lambda m: counts.get(m.user_id, 0))]
        for member in members[:1]:
            if _take_turn(session, member, now):
                return member.user_id
    return None


def set_away(session: Session, *, team_id: int, user_id: int, away: bool, actor: Actor) -> ServiceTeamMember:
    """暂停接单 / 恢复接单: a member for themselves, or whoever manages the service settings."""
    member = session.scalar(select(ServiceTeamMember).where(ServiceTeamMember.team_id == team_id,
                                                            ServiceTeamMember.user_id == user_id))
    if member is None:
        raise OutOfScope(_l("记录不存在"))
    if user_id != actor.user_id and not actor.can(MANAGE):
        raise RuleViolation(_l("只能设置自己的接单状态"))
    member.away = bool(away)
    session.flush()
    return member


def set_members(session: Session, team: ServiceTeam, user_ids: list[int]) -> None:
    """The team's members as chosen on the 服务组 form; those who stay keep their away flag and
    their turn (a new member's first turn comes before everyone who already had one)."""
    wanted = list(dict.fromkeys(user_ids))
    known = set(session.scalars(select(User.id).where(User.id.in_(wanted)))) if wanted else set()
    if len(known) != len(wanted):
        raise RuleViolation(_l("成员中有不存在的员工"))
    team.members = [m for m in team.members if m.user_id in known]
    have = {m.user_id for m in team.members}
    team.members += [ServiceTeamMember(user_id=u) for u in wanted if u not in have]
    session.flush()


def check_delete(session: Session, team: ServiceTeam) -> None:
    if session.scalar(select(Ticket.id).where(Ticket.team_id == team.id).limit(1)) is not None:
        raise RuleViolation(_l("该服务组已有工单，不能删除；可以停用"))


def memberships(session: Session, user_id: int) -> list[ServiceTeamMember]:
    return list(session.scalars(select(ServiceTeamMember).join(ServiceTeam).where(
        ServiceTeamMember.user_id == user_id).order_by(ServiceTeam.name)))
