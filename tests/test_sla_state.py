"""The SLA badge on a ticket and the list filtered by SLA state agree: for every combination of
category and due/done instants, the SQL clause selects exactly the tickets whose state is that."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW
from models import StatusCategory, Ticket, TicketStatus, db
from rules import sla
from rules.sla import SlaState

pytestmark = pytest.mark.both_dbs

H = timedelta(hours=1)
NOW = FIXED_NOW


def test_state_table(app, make_user, make_customer):
    """A few rows a person can check by eye, then every combination against the clause."""
    def t(category, fr_due=None, fr_done=None, due=None, done=None):
        return Ticket(status_category=category, first_response_due_at=fr_due, first_responded_at=fr_done,
                      resolution_due_at=due, resolved_at=done)
    O, P, R, C = StatusCategory.OPEN, StatusCategory.PAUSED, StatusCategory.RESOLVED, StatusCategory.CLOSED
    assert sla.state(t(O, due=NOW + 5 * H), NOW) is SlaState.NORMAL
    assert sla.state(t(O, due=NOW + H), NOW) is SlaState.SOON
    assert sla.state(t(O, fr_due=NOW + H, due=NOW + 9 * H), NOW) is SlaState.SOON          # first reply due soon
    assert sla.state(t(O, fr_due=NOW + H, fr_done=NOW - H, due=NOW + 9 * H), NOW) is SlaState.NORMAL
    assert sla.state(t(O, fr_due=NOW - H, due=NOW + 9 * H), NOW) is SlaState.BREACHED      # no reply in time
    assert sla.state(t(P, due=None), NOW) is SlaState.PAUSED
    assert sla.state(t(R, due=NOW - H, done=NOW - 2 * H), NOW) is SlaState.MET
    assert sla.state(t(C, due=NOW - 2 * H, done=NOW - H), NOW) is SlaState.BREACHED       # solved late

    owner = make_user("rep")
    customer = make_customer("上海某某", owner)
    instants = (None, NOW - 3 * H, NOW + H, NOW + 5 * H)
    with app.app_context():
        status = db.session.scalar(select(TicketStatus).limit(1))
        expected: dict[int, SlaState] = {}
        combos = itertools.product(StatusCategory, instants, (None, NOW - 2 * H), instants, (None, NOW - 4 * H, NOW))
        for n, (cat, fr_due, fr_done, due, done) in enumerate(combos):
            ticket = Ticket(number=f"T{n}", customer_id=customer, created_by_id=owner, status_id=status.id,
                            subject="测试", status_category=cat, first_response_due_at=fr_due,
                            first_responded_at=fr_done, resolution_due_at=due, resolved_at=done)
            db.session.add(ticket)
            db.session.flush()
            expected[ticket.id] = sla.state(ticket, NOW)
        db.session.commit()
        for wanted in SlaState:
            got = set(db.session.scalars(select(Ticket.id).where(sla.state_clause(wanted, NOW))))
            assert got == {i for i, s in expected.items() if s is wanted}, wanted
