"""The SLA watch (jobs/sla.py, every 5 minutes): assignees hear of their tickets about to miss a
due (即将超时; a leader of the unassigned ones in the team's queue), team leaders of those that
missed it (已超时, escalated), each ticket once.

Set-based on the indexed category and due columns (rules/sla.state_clause): a run over 200k open
tickets reads only those near or past a due that were not told yet, marks them with one UPDATE
per batch guarded on the mark still being empty, so a second run, or two runs at once, tell
nobody twice. The marks are cleared when a clock restarts (rules/sla.py), so a resumed or
reopened ticket is watched again."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from models.office import NotificationKind
from models.service import ACTIVE_CATEGORIES, EntryKind, ServiceTeam, Ticket, TicketEntry
from rules import notifications
from rules.links import ListKind, ListLink, RecordLink
from rules.notifications import Notice
from rules.sla import SlaState, state_clause

BATCH = 500  # ids per UPDATE (SQLite's parameter limit)
ESCALATED = "已超时，已升级给组长"  # the timeline line (stored text, like every entry body)
BREACHED_NO_LEADER = "已超时"


@dataclass(frozen=True)
class Watched:
    warned: int
    escalated: int


def _mark(session: Session, column: Any, ids: Sequence[int], now: datetime) -> list[int]:
    """Set `column` on those of `ids` where it is still empty; the ids this run marked (a run
    beside this one that marked a ticket first keeps it)."""
    marked: list[int] = []
    for start in range(0, len(ids), BATCH):
        chunk = list(ids[start:start + BATCH])
        # updated_at kept as it was: a mark is the system's bookkeeping, not a change to the ticket.
        # RETURNING names only the rows this UPDATE changed: a run beside this one that selected
        # the same tickets finds them marked and tells nobody.
        marked += session.scalars(update(Ticket).where(Ticket.id.in_(chunk), column.is_(None))
                                  .values({column.key: now, "updated_at": Ticket.updated_at})
                                  .returning(Ticket.id).execution_options(synchronize_session=False)).all()
    return sorted(marked)


def _tell(session: Session, per_user: dict[int, list[Notice]], *, many, now: datetime, tz: str) -> None:
    for user_id, notices in per_user.items():
        notifications.notify_grouped(session, user_id=user_id, kind=NotificationKind.SLA, notices=notices,
                                     summary=many, now=now, link=ListLink(ListKind.TICKET), tz=tz)


def warn_soon(session: Session, now: datetime, tz: str) -> int:
    """即将超时: the assignee of each open ticket due within WARN_BEFORE (the team's leader for one
    still waiting in the team's queue), once."""
    rows = session.execute(
        select(Ticket.id, Ticket.number, Ticket.subject, Ticket.assignee_id, ServiceTeam.leader_id)
        .outerjoin(ServiceTeam, ServiceTeam.id == Ticket.team_id)
        .where(state_clause(SlaState.SOON, now), Ticket.sla_warned_at.is_(None),
               or_(Ticket.assignee_id.is_not(None), ServiceTeam.leader_id.is_not(None)))
        .order_by(Ticket.id)).all()
    marked = set(_mark(session, Ticket.sla_warned_at, [r.id for r in rows], now))
    per_user: dict[int, list[Notice]] = defaultdict(list)
    for r in rows:
        if r.id in marked:
            per_user[r.assignee_id or r.leader_id].append(Notice(
                title=_l("工单即将超时：%(number)s %(subject)s", number=r.number, subject=r.subject),
                link=RecordLink(ListKind.TICKET, r.id)))
    _tell(session, per_user, many=lambda n: _l("%(n)d 张工单即将超时", n=n), now=now, tz=tz)
    return len(marked)


def escalate_breached(session: Session, now: datetime, tz: str) -> int:
    """已超时: each active ticket past a due goes to its team's leader (its assignee when the team
    has none), once, with a line on its timeline."""
    rows = session.execute(
        select(Ticket.id, Ticket.number, Ticket.subject, Ticket.assignee_id, ServiceTeam.leader_id)
        .outerjoin(ServiceTeam, ServiceTeam.id == Ticket.team_id)
        .where(Ticket.status_category.in_(ACTIVE_CATEGORIES), state_clause(SlaState.BREACHED, now),
               Ticket.sla_escalated_at.is_(None)).order_by(Ticket.id)).all()
    marked = set(_mark(session, Ticket.sla_escalated_at, [r.id for r in rows], now))
    per_user: dict[int, list[Notice]] = defaultdict(list)
    entries = []
    for r in rows:
        if r.id not in marked:
            continue
        entries.append({"ticket_id": r.id, "kind": EntryKind.SLA.value, "author_id": None, "at": now,
                        "body": ESCALATED if r.leader_id else BREACHED_NO_LEADER})
        told = r.leader_id or r.assignee_id
        if told is not None:
            per_user[told].append(Notice(
                title=_l("工单已超时：%(number)s %(subject)s", number=r.number, subject=r.subject),
                link=RecordLink(ListKind.TICKET, r.id)))
    for start in range(0, len(entries), BATCH):
        session.execute(insert(TicketEntry), entries[start:start + BATCH])
    _tell(session, per_user, many=lambda n: _l("%(n)d 张工单已超时", n=n), now=now, tz=tz)
    return len(marked)


def watch(session: Session, now: datetime, tz: str) -> Watched:
    return Watched(warned=warn_soon(session, now, tz), escalated=escalate_breached(session, now, tz))
