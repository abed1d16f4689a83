"""The administrator's ticket statuses: each belongs to one category (处理中 / 暂停 / 已解决 /
已关闭, models.service.StatusCategory), one is where every new ticket starts."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.service import StatusCategory, TicketStatus

C = StatusCategory
DEFAULTS = [("新建", C.OPEN, True), ("处理中", C.OPEN, False), ("等待客户", C.PAUSED, False),
            ("等待配件", C.PAUSED, False), ("已解决", C.RESOLVED, False), ("已关闭", C.CLOSED, False)]


def ensure_defaults(session: Session) -> None:
    """A new installation's statuses; an installation with any status keeps its own."""
    if session.scalar(select(TicketStatus.id).limit(1)) is not None:
        return
    for order, (name, category, initial) in enumerate(DEFAULTS):
        session.add(TicketStatus(name=name, category=category, sort_order=order * 10, is_initial=initial))
    session.flush()


def initial(session: Session) -> TicketStatus:
    return session.scalars(select(TicketStatus).where(TicketStatus.is_initial.is_(True), TicketStatus.active.is_(True))
                           .order_by(TicketStatus.sort_order, TicketStatus.id).limit(1)).one()
