"""满意度回访: a resolved ticket gets one survey and one SMS however often the job runs; the link
opens a one-question page without signing in, takes one answer (a second changes nothing and
says 您已评价过), expires after 7 days, and a wrong token is a 404; only a hash of the token is
kept. The agent may enter the score instead, on the ticket page; both land on
Ticket.satisfaction_score and the timeline, and a low score tells the assignee."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import func, select

from conftest import FIXED_NOW
from jobs import care as care_jobs
from models import AuditLog, Contact, Notification, Outbox, User, db
from models.care import SatisfactionSurvey
from models.service import EntryKind, StatusCategory, Ticket, TicketEntry, TicketStatus
from rules import care_settings

BASE = "https://crm.example.com/"


def make_ticket(app, *, customer_id: int, assignee_id: int, category: StatusCategory = StatusCategory.RESOLVED,
                number: str = "GD202611230001", resolved_ago: timedelta = timedelta(hours=1),
                contact_mobile: str | None = "13900001111") -> int:
    with app.app_context():
        status = db.session.scalar(select(TicketStatus).where(TicketStatus.category == category.value).limit(1))
        contact = None
        if contact_mobile:
            contact = Contact(customer_id=customer_id, name="王女士", mobile=contact_mobile, is_primary=True)
            db.session.add(contact)
            db.session.flush()
        done = category in (StatusCategory.RESOLVED, StatusCategory.CLOSED)
        ticket = Ticket(number=number, customer_id=customer_id, contact_id=contact.id if contact else None,
                        subject="净水器漏水", created_by_id=assignee_id, assignee_id=assignee_id, status_id=status.id,
                        status_category=category.value, resolved_at=FIXED_NOW - resolved_ago if done else None,
                        created_at=FIXED_NOW - timedelta(days=1), updated_at=FIXED_NOW - timedelta(days=1))
        db.session.add(ticket)
        care_settings.save(db.session, {**care_settings.load(db.session), "link_base": BASE, "survey_auto": "1"})
        db.session.commit()
        return ticket.id


@pytest.fixture
def desk(app, make_user, make_customer):
    agent = make_user("agent", role="客服", department=("客服部",), display_name="小林")
    rep = make_user("rep", role="业务员", display_name="业务员甲")
    customer = make_customer("清泉科技", rep)
    ticket = make_ticket(app, customer_id=customer, assignee_id=agent)
    return {"agent": agent, "rep": rep, "customer": customer, "ticket": ticket}


def run_job(app) -> int:
    with app.app_context():
        return care_jobs.send_satisfaction_surveys()


def survey_sms(app, ticket_id: int) -> list[Outbox]:
    with app.app_context():
        rows = list(db.session.scalars(select(Outbox).where(Outbox.key.like(f"survey:{ticket_id}%"))))
        for row in rows:
            db.session.expunge(row)
        return rows


def the_survey(app) -> SatisfactionSurvey:
    with app.app_context():
        survey = db.session.scalar(select(SatisfactionSurvey))
        db.session.expunge(survey)
        return survey


def ticket_facts(app, ticket_id: int) -> tuple[int | None, list[str]]:
    with app.app_context():
        score = db.session.get(Ticket, ticket_id).satisfaction_score
        visits = list(db.session.scalars(select(TicketEntry.body).where(
            TicketEntry.ticket_id == ticket_id, TicketEntry.kind == EntryKind.VISIT.value)))
        return score, visits


def token_from(sms: Outbox) -> str:
    return re.search(r"/s/([A-Za-z0-9_-]+)", sms.body).group(1)


def answer(client, token: str, score: str, comment: str = ""):
    page = client.get(f"/s/{token}").get_data(as_text=True)
    data = {"score": score, "comment": comment}
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    if found:
        data["csrf_token"] = found.group(1)
    return client.post(f"/s/{token}", data=data)


@pytest.mark.both_dbs
def test_the_job_sends_one_sms_and_the_link_takes_one_answer(app, desk, new_client, clock):
    assert run_job(app) == 1
    clock.advance(minutes=10)
    assert run_job(app) == 0  # the second run finds the survey made
    sms = survey_sms(app, desk["ticket"])
    assert [s.key for s in sms] == [f"survey:{desk['ticket']}"] and sms[0].to_address == "13900001111"
    assert f"{BASE}s/" in sms[0].body and "GD202611230001" in sms[0].body and "7天内有效" in sms[0].body
    token = token_from(sms[0])
    survey = the_survey(app)
    # Only the hash is kept: no column of the survey holds the token itself.
    assert survey.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr([getattr(survey, c.key) for c in SatisfactionSurvey.__table__.columns])
    assert survey.expires_at == FIXED_NOW + timedelta(days=7) and survey.agent_id == desk["agent"]

    customer = new_client()
    page = customer.get(f"/s/{token}")
    assert page.status_code == 200 and "您对本次服务满意吗？" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and "<script" not in page.get_data(as_text=True)
    refused = answer(customer, token, "9")
    assert refused.status_code == 422 and "请选择 1 到 5 分" in refused.get_data(as_text=True)
    done = answer(customer, token, "2", "等了三天才上门")
    assert "感谢您的评价" in done.get_data(as_text=True)
    assert ticket_facts(app, desk["ticket"]) == (2, ["客户短信评价：2 分。等了三天才上门"])
    with app.app_context():  # a low score tells the assignee under the bell
        told = db.session.scalars(select(Notification.title).where(Notification.user_id == desk["agent"],
                                                                   Notification.kind == "care")).all()
    assert told == ["工单 GD202611230001 的满意度只有 2 分，请跟进"]

    again = answer(new_client(), token, "5", "改个好评")
    assert "您已评价过，感谢您的反馈" in again.get_data(as_text=True)
    assert ticket_facts(app, desk["ticket"]) == (2, ["客户短信评价：2 分。等了三天才上门"])
    assert the_survey(app).comment == "等了三天才上门"
    assert new_client().get("/s/" + "x" * 32).status_code == 404  # a wrong token
    assert new_client().get("/s/" + token[:-1] + ("A" if token[-1] != "A" else "B")).status_code == 404


def test_an_expired_link_says_so_and_takes_nothing(app, desk, new_client, clock):
    run_job(app)
    token = token_from(survey_sms(app, desk["ticket"])[0])
    clock.advance(days=7, minutes=1)
    customer = new_client()
    page = customer.get(f"/s/{token}")
    assert page.status_code == 410 and "链接已过期" in page.get_data(as_text=True)
    late = customer.post(f"/s/{token}", data={"score": "5"})
    assert "链接已过期" in late.get_data(as_text=True)
    assert ticket_facts(app, desk["ticket"]) == (None, [])


def test_the_agent_enters_the_score_on_the_ticket_page(app, desk, new_client):
    agent = new_client()
    agent.login("agent")
    run_job(app)
    token = token_from(survey_sms(app, desk["ticket"])[0])
    response = agent.post_form("/admin/satisfaction_survey/", {"score": "4", "comment": "电话回访，客户满意"},
                               to=f"/admin/care_visit/{desk['ticket']}/score/", follow=True)
    assert "已记录满意度 4 分" in response.get_data(as_text=True)
    assert ticket_facts(app, desk["ticket"]) == (4, ["电话回访录入：4 分。电话回访，客户满意"])
    with app.app_context():  # the guarded UPDATEs are in the audit log all the same
        logged = {(a.entity, a.actor_name, str(a.changes)) for a in db.session.scalars(
            select(AuditLog).where(AuditLog.entity.in_(["Ticket", "SatisfactionSurvey"])))}
    assert ("Ticket", "小林", "{'satisfaction_score': [None, 4]}") in logged
    assert any(e == "SatisfactionSurvey" and "'score': [None, 4]" in c for e, _n, c in logged)
    # The box on the ticket page shows it (the tickets view includes this template).
    with app.test_request_context("/admin/"):
        login_user(db.session.get(User, desk["agent"]))
        box = render_template("admin/care/_visit_for_ticket.html", ticket=db.session.get(Ticket, desk["ticket"]))
    assert "4 分" in box and "小林 电话回访录入" in box and "电话回访，客户满意" in box and "录入评分" not in box
    listed = agent.get("/admin/satisfaction_survey/?state=answered").get_data(as_text=True)
    assert "GD202611230001" in listed and "★★★★☆" in listed and "客服录入" in listed
    # The customer's link now says it was answered, and a second entry is refused.
    assert "您已评价过" in new_client().get(f"/s/{token}").get_data(as_text=True)
    again = agent.post_form("/admin/satisfaction_survey/", {"score": "1"},
                            to=f"/admin/care_visit/{desk['ticket']}/score/", follow=True)
    assert "该工单已有满意度评价" in again.get_data(as_text=True)
    assert ticket_facts(app, desk["ticket"])[0] == 4


def test_visits_wait_for_resolution_and_keep_to_scope(app, desk, make_user, make_customer, new_client):
    open_ticket = make_ticket(app, customer_id=desk["customer"], assignee_id=desk["agent"], number="GD202611230002",
                              category=StatusCategory.OPEN, contact_mobile=None)
    agent = new_client()
    agent.login("agent")
    refused = agent.post_form("/admin/satisfaction_survey/", {"score": "5"},
                              to=f"/admin/care_visit/{open_ticket}/send/", follow=True)
    assert "工单解决后才能回访" in refused.get_data(as_text=True)
    assert survey_sms(app, open_ticket) == []
    # Whoever may not handle tickets gets 403; a salesperson who does not see the ticket, 404.
    make_user("rep2", role="业务员")
    make_user("cashier", role="财务")
    for who, status in (("rep2", 404), ("cashier", 403)):
        other = new_client()
        other.login(who)
        assert other.post_form("/admin/", {"score": "5"},
                               to=f"/admin/care_visit/{desk['ticket']}/score/").status_code == status, who
    assert ticket_facts(app, desk["ticket"]) == (None, [])
    # The manual send queues the SMS, and a resend makes a new link (the old one stops working).
    sent = agent.post_form("/admin/satisfaction_survey/", {}, to=f"/admin/care_visit/{desk['ticket']}/send/", follow=True)
    assert "评价短信已排队发送" in sent.get_data(as_text=True)
    first = token_from(survey_sms(app, desk["ticket"])[0])
    # While that SMS still waits in the outbox, a resend would send it out with a dead link.
    waiting = agent.post_form("/admin/satisfaction_survey/", {}, to=f"/admin/care_visit/{desk['ticket']}/send/",
                              follow=True).get_data(as_text=True)
    assert "上一条评价短信还没有发出" in waiting and len(survey_sms(app, desk["ticket"])) == 1
    with app.app_context():  # the SMS centre's dispatcher hands it to the provider
        from models import Outbox
        db.session.scalar(select(Outbox).where(Outbox.key == f"survey:{desk['ticket']}")).status = "sent"
        db.session.commit()
    agent.post_form("/admin/satisfaction_survey/", {}, to=f"/admin/care_visit/{desk['ticket']}/send/")
    sms = survey_sms(app, desk["ticket"])
    assert sorted(s.key for s in sms) == [f"survey:{desk['ticket']}", f"survey:{desk['ticket']}:2"]
    assert new_client().get(f"/s/{first}").status_code == 404
    second = token_from([s for s in sms if s.key.endswith(":2")][0])
    assert new_client().get(f"/s/{second}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(SatisfactionSurvey.id))) == 1
