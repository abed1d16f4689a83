"""The 客户服务 settings pages as the service manager uses them: a working week with no hours is
refused and the page keeps what was typed, holidays entered and imported, an SLA policy that
duplicates another refused, a member set 暂停接单 (by the manager, or by themselves only), who
may open the pages, and the ticket page's SLA panel."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import render_template
from sqlalchemy import select

from conftest import FIXED_NOW
from models import (
    Holiday, ServiceTeam, ServiceTeamMember, SlaPolicy, StatusCategory, Ticket, TicketStatus, WorkingHours, db,
)


@pytest.fixture
def staff(make_user):
    return {"boss": make_user("boss", role="客服主管", department=("客服部",)),
            "agent": make_user("agent", role="客服", department=("客服部",)),
            "rep": make_user("rep")}


def _week(**days) -> dict[str, str]:
    form = {f"w{d}-{i}": "" for d in range(7) for i in range(4)}
    form.update(days)
    return form


def test_the_working_week_refused_empty_and_kept_as_typed(app, client, staff):
    client.login("boss")
    page = client.get("/admin/working_calendar/").get_data(as_text=True)
    assert 'value="09:00"' in page and 'value="13:30"' in page  # the default week
    empty = client.post_form("/admin/working_calendar/", _week(), to="/admin/working_calendar/week/?year=2026",
                             follow=True).get_data(as_text=True)
    assert "工作时间不能全部为空" in empty
    typo = client.post_form("/admin/working_calendar/", _week(**{"w0-0": "08:30", "w0-1": "12:00", "w5-0": "9:00"}),
                            to="/admin/working_calendar/week/", follow=True).get_data(as_text=True)
    assert "每个时间段须同时填写开始和结束时间" in typo
    assert 'name="w0-0" value="08:30"' in typo and 'name="w5-0" value="9:00"' in typo  # nothing lost
    with app.app_context():
        assert db.session.get(WorkingHours, 0).start1 == 9 * 60  # unchanged
    saved = client.post_form("/admin/working_calendar/", _week(**{"w5-0": "09:00", "w5-1": "12:00"}),
                             to="/admin/working_calendar/week/", follow=True).get_data(as_text=True)
    assert "工作时间已保存" in saved
    with app.app_context():
        assert db.session.get(WorkingHours, 5).start1 == 9 * 60 and db.session.get(WorkingHours, 0).start1 is None

    day = client.post_form("/admin/working_calendar/", {"day": "2026-12-31", "kind": "off", "name": "公司年会"},
                           to="/admin/working_calendar/day/", follow=True).get_data(as_text=True)
    assert "2026-12-31" in day and "公司年会" in day and "手动录入" in day
    unknown = client.post_form("/admin/working_calendar/?year=2099", {}, to="/admin/working_calendar/import/?year=2099",
                               follow=True).get_data(as_text=True)
    assert "请手动录入2099年节假日" in unknown
    assert "请手动录入2099年节假日" in client.get("/admin/working_calendar/?year=2099").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Holiday.name)) == "公司年会"
    gone = client.post_form("/admin/working_calendar/", {"day": "2026-12-31"}, to="/admin/working_calendar/day/delete/",
                            follow=True).get_data(as_text=True)
    assert "2026-12-31 已删除" in gone
    with app.app_context():
        assert db.session.scalar(select(Holiday.name)) is None


def test_policy_form_refuses_a_twin_and_pages_are_for_the_manager(app, client, staff):
    client.login("boss")
    data = {"priority": "urgent", "first_response_minutes": "30", "resolution_minutes": "240", "active": "y"}
    saved = client.post_form("/admin/sla_policy/new/", data, follow=True).get_data(as_text=True)
    assert "紧急" in saved and "30 分钟" in saved and "4 小时" in saved
    twin = client.post_form("/admin/sla_policy/new/", dict(data, first_response_minutes="10"),
                            follow=True).get_data(as_text=True)
    assert "已有相同优先级、工单类型和客户价值的启用策略" in twin and 'value="10"' in twin
    with app.app_context():
        assert db.session.scalar(select(SlaPolicy.first_response_minutes)) == 30
    client.logout()
    client.login("agent")
    for url in ("/admin/sla_policy/", "/admin/working_calendar/", "/admin/service_team/"):
        assert client.get(url).status_code == 403, url
    assert "您还不属于任何服务组" in client.get("/admin/my_service_status/").get_data(as_text=True)


def test_away_set_by_the_manager_or_the_member_only(app, client, new_client, staff):
    with app.app_context():
        team = ServiceTeam(name="投诉组", leader_id=staff["boss"], assign_mode="least_open")
        team.members = [ServiceTeamMember(user_id=staff["agent"]), ServiceTeamMember(user_id=staff["boss"])]
        db.session.add(team)
        db.session.commit()
        team_id = team.id

    def away_of(user):
        with app.app_context():
            return db.session.scalar(select(ServiceTeamMember.away).where(ServiceTeamMember.user_id == staff[user],
                                                                          ServiceTeamMember.team_id == team_id))

    client.login("boss")
    made = client.post_form("/admin/service_team/new/", {"name": "售后二组", "assign_mode": "round_robin",
                                                         "member_ids": [str(staff["agent"]), str(staff["rep"])],
                                                         "active": "y"}, follow=True)
    assert made.status_code == 200
    with app.app_context():
        second = db.session.scalar(select(ServiceTeam).where(ServiceTeam.name == "售后二组"))
        assert sorted(m.user_id for m in second.members) == sorted([staff["agent"], staff["rep"]])
        second_id = second.id
    assert "售后二组" in client.get(f"/admin/service_team/edit/?id={second_id}").get_data(as_text=True)
    listed = client.get("/admin/service_team/").get_data(as_text=True)
    assert "投诉组" in listed and "分给未结工单最少的人" in listed
    client.post_form("/admin/service_team/", {"team_id": team_id, "user_id": staff["agent"], "away": "1"},
                     to="/admin/service_team/away/")
    assert away_of("agent") is True
    agent = new_client()
    agent.login("agent")
    page = agent.get("/admin/my_service_status/").get_data(as_text=True)
    assert "投诉组" in page and "恢复接单" in page
    agent.post_form("/admin/my_service_status/", {"team_id": team_id, "user_id": staff["agent"], "away": "0"})
    assert away_of("agent") is False
    # someone else's flag from the member's own page: not theirs to set
    assert agent.post_form("/admin/my_service_status/", {"team_id": team_id, "user_id": staff["boss"], "away": "1"}
                           ).status_code == 404
    assert away_of("boss") is False


def test_the_sla_panel_on_the_ticket_page(app, staff, make_customer):
    customer = make_customer("杭州瑞和科技有限公司", staff["rep"])
    with app.app_context():
        status = db.session.scalar(select(TicketStatus).where(TicketStatus.category == StatusCategory.PAUSED))
        ticket = Ticket(number="GD0001", customer_id=customer, created_by_id=staff["agent"], status_id=status.id,
                        status_category=StatusCategory.PAUSED, subject="净水器漏水",
                        first_response_due_at=FIXED_NOW - timedelta(hours=1),
                        first_responded_at=FIXED_NOW - timedelta(hours=2),
                        sla_paused_at=FIXED_NOW - timedelta(minutes=30), sla_remaining_seconds=3 * 3600 + 20 * 60)
        with app.test_request_context("/admin/ticket/details/"):
            html = render_template("admin/service/_sla_panel.html", ticket=ticket)
        assert "暂停计时" in html and "2026-11-23 09:30" in html and "3 小时 20 分钟" in html
        assert "已于 2026-11-23 08:00 响应" in html
        ticket.status_category = StatusCategory.OPEN
        ticket.sla_paused_at = ticket.sla_remaining_seconds = None
        ticket.resolution_due_at = FIXED_NOW + timedelta(hours=1)  # 11:00 Shanghai, Monday
        with app.test_request_context("/admin/ticket/details/"):
            html = render_template("admin/service/_sla_panel.html", ticket=ticket)
        assert "即将超时" in html and "2026-11-23 11:00" in html and "工作时间还剩 1 小时" in html
