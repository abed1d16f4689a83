"""The demo company's service desk (issue 22) as a new user finds it: tickets in every status
category with SLA due times from the demo policies (some 已超时, some 即将超时), replies on the
timeline, a repair with parts, answered satisfaction surveys, a published knowledge base, and the
客服 staff in their groups; and the desk's pages open for the 客服主管."""
from __future__ import annotations

from sqlalchemy import func, select

from conftest import seeded_demo
from models import (
    EntryKind, KbArticle, SatisfactionSurvey, ServiceTeamMember, Ticket, TicketEntry, TicketPart, db,
)
from models.knowledge import ArticleStatus
from rules import sla


def test_demo_service_desk_has_something_in_every_corner(app, tmp_path, new_client, clock):
    from demo import DEMO_PASSWORD

    seeded_demo(app, tmp_path)
    with app.app_context():
        tickets = db.session.scalars(select(Ticket)).all()
        assert {t.status_category for t in tickets} == {"open", "paused", "resolved", "closed"}
        states = {sla.state(t, clock.now) for t in tickets}
        assert {sla.SlaState.BREACHED, sla.SlaState.MET} <= states and len(states) >= 3, states
        assert [(t.subject, t.status_category, t.resolution_due_at) for t in tickets if not t.first_response_due_at] == []
        assert db.session.scalar(select(func.count(TicketEntry.id)).where(TicketEntry.kind == EntryKind.REPLY)) >= 5
        assert db.session.scalar(select(func.count(TicketPart.id))) >= 1
        assert db.session.scalar(select(func.count(SatisfactionSurvey.id))
                                 .where(SatisfactionSurvey.score.is_not(None))) >= 1
        assert db.session.scalar(select(func.count(KbArticle.id))
                                 .where(KbArticle.status == ArticleStatus.PUBLISHED.value)) >= 10
        assert db.session.scalar(select(func.count(ServiceTeamMember.id))) >= 3
    lead = new_client()
    lead.login("sunli", DEMO_PASSWORD)
    for url in ("/admin/", "/admin/ticket/", "/admin/service_console/?q=1", "/admin/kb_article/",
                "/admin/satisfaction_survey/", "/admin/care_record/"):
        response = lead.get(url)
        assert response.status_code == 200, url
    assert "GD2026" in lead.get("/admin/ticket/").get_data(as_text=True)
