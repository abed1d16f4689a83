"""Who gets a team's new ticket (round robin fair over 30 tickets, least open, nobody away or
disabled) and the SLA watch job: an assignee warned once before the due, the leader told once
after it, however often the job runs."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW, run_at_once
from jobs.sla import watch_sla
from models import (
    AssignMode, EntryKind, Notification, NotificationKind, ServiceTeam, ServiceTeamMember, StatusCategory, Ticket,
    TicketEntry, TicketStatus, User, db,
)
from rules import sla
from rules.ticket_assignment import pick_assignee


@pytest.fixture
def team(app, make_user):
    """售后一组: leader 组长, agents 甲 乙 丙."""
    ids = {name: make_user(name, role="客服", department=("客服部",)) for name in ("组长", "甲", "乙", "丙")}
    with app.app_context():
        group = ServiceTeam(name="售后一组", leader_id=ids["组长"], assign_mode=AssignMode.ROUND_ROBIN)
        group.members = [ServiceTeamMember(user_id=ids[n]) for n in ("甲", "乙", "丙")]
        db.session.add(group)
        db.session.commit()
        ids["team"] = group.id
    return ids


def _ticket(customer_id, team, *, assignee=None, category=StatusCategory.OPEN, n=0, **columns) -> Ticket:
    status = db.session.scalar(select(TicketStatus).where(TicketStatus.category == category).limit(1))
    ticket = Ticket(number=f"GD{n:04d}", customer_id=customer_id, created_by_id=team["组长"], status_id=status.id,
                    status_category=category, subject=f"净水器漏水{n}", team_id=team["team"], assignee_id=assignee,
                    **columns)
    db.session.add(ticket)
    return ticket


def test_round_robin_is_fair_and_skips_away_and_disabled(app, team):
    with app.app_context():
        picks = [pick_assignee(db.session, team["team"], FIXED_NOW + timedelta(minutes=i)) for i in range(30)]
        assert Counter(picks) == {team["甲"]: 10, team["乙"]: 10, team["丙"]: 10}
        assert picks[:6] == [team["甲"], team["乙"], team["丙"]] * 2  # by turns, not in bursts
        db.session.scalar(select(ServiceTeamMember).where(ServiceTeamMember.user_id == team["乙"])).away = True
        db.session.get(User, team["丙"]).active = False  # 离职
        later = FIXED_NOW + timedelta(hours=1)
        assert {pick_assignee(db.session, team["team"], later + timedelta(minutes=i)) for i in range(5)} == {team["甲"]}
        db.session.scalar(select(ServiceTeamMember).where(ServiceTeamMember.user_id == team["甲"])).away = True
        assert pick_assignee(db.session, team["team"], later) is None  # nobody takes tickets now
        db.session.get(ServiceTeam, team["team"]).assign_mode = AssignMode.MANUAL
        assert pick_assignee(db.session, team["team"], later) is None


@pytest.mark.both_dbs
def test_two_tickets_at_the_same_moment_go_to_two_people(app, team):
    """The turn is a guarded UPDATE: the request that loses it takes the next member."""
    picked: list[int | None] = []
    results = run_at_once(app, [lambda session: picked.append(pick_assignee(session, team["team"], FIXED_NOW))] * 3)
    assert results == ["ok"] * 3
    assert sorted(picked) == sorted([team["甲"], team["乙"], team["丙"]])


def test_least_open_picks_the_least_loaded(app, team, make_customer):
    customer = make_customer("杭州瑞和科技有限公司", team["甲"])
    with app.app_context():
        db.session.get(ServiceTeam, team["team"]).assign_mode = AssignMode.LEAST_OPEN
        load = [("甲", StatusCategory.OPEN)] * 3 + [("乙", StatusCategory.PAUSED), ("乙", StatusCategory.OPEN)] \
            + [("丙", StatusCategory.OPEN)] * 2 + [("丙", StatusCategory.CLOSED)] * 5  # done tickets do not count
        for n, (name, category) in enumerate(load):
            _ticket(customer, team, assignee=team[name], category=category, n=n)
        db.session.flush()
        assert pick_assignee(db.session, team["team"], FIXED_NOW) in (team["乙"], team["丙"])
        _ticket(customer, team, assignee=team["乙"], n=99)
        assert pick_assignee(db.session, team["team"], FIXED_NOW) == team["丙"]


def _sla_notices(user_id: int) -> list[str]:
    return list(db.session.scalars(select(Notification.title).where(
        Notification.user_id == user_id, Notification.kind == NotificationKind.SLA).order_by(Notification.id)))


def test_the_watch_warns_once_and_escalates_once(app, team, make_customer, clock):
    customer = make_customer("上海某某", team["甲"])
    with app.app_context():
        ticket = _ticket(customer, team, assignee=team["甲"], n=1, first_response_due_at=FIXED_NOW - timedelta(hours=2),
                         first_responded_at=FIXED_NOW - timedelta(hours=3), resolution_due_at=FIXED_NOW + timedelta(hours=1))
        calm = _ticket(customer, team, assignee=team["乙"], n=2, resolution_due_at=FIXED_NOW + timedelta(days=2))
        _ticket(customer, team, n=3, resolution_due_at=FIXED_NOW + timedelta(hours=1))  # still in the team's queue
        db.session.commit()
        ticket_id, calm_id, touched = ticket.id, calm.id, ticket.updated_at

    with app.app_context():
        assert watch_sla() == {"warned": 2, "escalated": 0}
        assert watch_sla() == {"warned": 0, "escalated": 0}
        assert _sla_notices(team["甲"]) == ["工单即将超时：GD0001 净水器漏水1"]
        assert _sla_notices(team["组长"]) == ["工单即将超时：GD0003 净水器漏水3"]  # nobody took it yet
        assert _sla_notices(team["乙"]) == []

    clock.advance(hours=2)  # the due passed
    with app.app_context():
        assert watch_sla() == {"warned": 0, "escalated": 2}
        assert watch_sla() == {"warned": 0, "escalated": 0}
        assert _sla_notices(team["组长"])[1:] == ["工单已超时：GD0001 净水器漏水1", "工单已超时：GD0003 净水器漏水3"]
        assert len(_sla_notices(team["甲"])) == 1
        lines = db.session.execute(select(TicketEntry.ticket_id, TicketEntry.body, TicketEntry.author_id)
                                   .where(TicketEntry.kind == EntryKind.SLA)).all()
        assert lines[0] == (ticket_id, "已超时，已升级给组长", None) and len(lines) == 2
        assert db.session.get(Ticket, ticket_id).updated_at == touched  # the marks are not an edit of the ticket
        assert db.session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.id == calm_id, Ticket.sla_warned_at.is_(None))) == 1

    with app.app_context():  # reopened, but its first reply came late: the same breach, told once
        late = db.session.get(Ticket, ticket_id)
        late.first_responded_at = late.first_response_due_at + timedelta(hours=1)
        late.status_category = StatusCategory.OPEN
        sla.on_category_change(db.session, late, StatusCategory.RESOLVED, StatusCategory.OPEN, clock.now)
        db.session.commit()
        assert watch_sla()["escalated"] == 0
        assert len(_sla_notices(team["组长"])) == 3
