"""工单: entry for a customer in scope (outside: refused with the reason, the form as typed), the
first response recorded once, status moves with a stale one refused, reopening within / after the
administrator's days, the scope truth table over list, page, edit, reply, move and batch actions,
and the customer page's 服务 tab."""
from __future__ import annotations

import json

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import list_table
from models import db
from models.office import Notification
from models.service import EntryKind, Ticket, TicketEntry, TicketStatus


@pytest.fixture
def desk(app, make_user, make_customer):
    """A 客服 agent (scope all), a 客服主管, two salespeople each with a customer."""
    ids = {"agent": make_user("agent", role="客服", department=("客服部",), display_name="小周"),
           "boss": make_user("boss", role="客服主管", department=("客服部",), display_name="周主管"),
           "rep1": make_user("rep1", display_name="李一"), "rep2": make_user("rep2", display_name="王二")}
    ids["c1"] = make_customer("华星茶叶", ids["rep1"], phone="13800138000")
    ids["c2"] = make_customer("远大科技", ids["rep2"])
    with app.app_context():
        ids["statuses"] = {s.name: s.id for s in db.session.scalars(select(TicketStatus))}
    return ids


def login(new_client, username):
    client = new_client()
    client.login(username)
    return client


def ticket_form(customer_id, **extra):
    data = {"customer": str(customer_id), "contact": "", "channel": "phone", "ticket_type": "", "priority": "high",
            "subject": "净水器漏水", "description": "厨房净水器底部渗水", "order_id": "", "contract_id": "",
            "product_id": "", "serial_no": "SN-001", "team_id": "", "assignee_id": ""}
    data.update(extra)
    return data


def new_ticket(client, customer_id, **extra) -> int:
    client.post_form("/admin/ticket/new/", ticket_form(customer_id, **extra), follow=True)
    return db.session.scalar(select(func.max(Ticket.id)))


def test_a_customer_outside_scope_is_refused_and_the_form_keeps_what_was_typed(app, desk, new_client):
    rep1 = login(new_client, "rep1")
    html = rep1.post_form("/admin/ticket/new/", ticket_form(desk["c2"], subject="别人的客户"),
                          follow=True).get_data(as_text=True)
    assert "该客户不在您的数据范围内" in html and "别人的客户" in html and "厨房净水器底部渗水" in html
    # the form shown again does not name a customer one may not see (the select carries it as JSON)
    assert "远大科技" not in html and json.dumps("远大科技")[1:-1] not in html.replace("\\\\", "\\")
    with app.app_context():
        assert db.session.scalar(select(func.count(Ticket.id))) == 0
    html = rep1.post_form("/admin/ticket/new/", ticket_form(desk["c1"]), follow=True).get_data(as_text=True)
    assert "GD202611230001" in html and "净水器漏水" in html and "新建" in html


def test_the_first_reply_is_the_first_response_and_the_assignee_hears(app, desk, new_client, clock):
    boss = login(new_client, "boss")
    with app.app_context():
        ticket_id = new_ticket(boss, desk["c1"], assignee_id=str(desk["agent"]))
        assert db.session.get(Ticket, ticket_id).assignee_id == desk["agent"]
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == desk["agent"], Notification.kind == "ticket")) == 1
    agent = login(new_client, "agent")
    page = f"/admin/ticket/details/?id={ticket_id}"
    html = agent.post_form(page, {"kind": "note", "body": "先查保修"}, to=f"/admin/ticket/reply/?id={ticket_id}",
                           follow=True).get_data(as_text=True)
    assert "内部备注已保存" in html and "先查保修" in html
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).first_responded_at is None  # a note is not a response
    clock.advance(minutes=30)
    first = clock.now
    agent.post_form(page, {"kind": "reply", "body": "师傅明天上门"}, to=f"/admin/ticket/reply/?id={ticket_id}")
    clock.advance(minutes=30)
    html = agent.post_form(page, {"kind": "reply", "body": "已约好上午十点"}, to=f"/admin/ticket/reply/?id={ticket_id}",
                           follow=True).get_data(as_text=True)
    assert "师傅明天上门" in html and "已约好上午十点" in html
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).first_responded_at == first
        kinds = db.session.scalars(select(TicketEntry.kind).where(TicketEntry.ticket_id == ticket_id)
                                   .order_by(TicketEntry.id)).all()
        assert kinds == ["assign", "note", "reply", "reply"]
    # A colleague's note on it reaches the assignee.
    boss = login(new_client, "boss")
    boss.post_form(page, {"kind": "note", "body": "客户是老客户，优先处理"}, to=f"/admin/ticket/reply/?id={ticket_id}")
    with app.app_context():
        titles = db.session.scalars(select(Notification.title).where(Notification.user_id == desk["agent"])).all()
        assert "工单 GD202611230001 有新的内部备注" in titles
    # An empty reply is refused and changes nothing.
    html = agent.post_form(page, {"kind": "reply", "body": "  "}, to=f"/admin/ticket/reply/?id={ticket_id}",
                           follow=True).get_data(as_text=True)
    assert "请填写内容" in html


def move(client, ticket_id, to_status, seen):
    return client.post_form(f"/admin/ticket/details/?id={ticket_id}",
                            {"to_status_id": str(to_status), "seen_status_id": str(seen)},
                            to=f"/admin/ticket/move/?id={ticket_id}", follow=True).get_data(as_text=True)


@pytest.mark.both_dbs
def test_moves_record_times_and_a_stale_move_says_what_the_status_is_now(app, desk, new_client):
    s = desk["statuses"]
    agent = login(new_client, "agent")
    with app.app_context():
        ticket_id = new_ticket(agent, desk["c1"])
    html = move(agent, ticket_id, s["处理中"], s["新建"])
    assert "工单状态已改为“处理中”" in html
    # A colleague's page still showed 新建: their click is refused, nothing moves.
    html = move(agent, ticket_id, s["等待客户"], s["新建"])
    assert "工单状态已被他人修改为“处理中”" in html
    html = move(agent, ticket_id, s["已解决"], s["处理中"])
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status_category == "resolved" and ticket.resolved_at is not None and ticket.closed_at is None
        moves = db.session.scalars(select(TicketEntry).where(TicketEntry.ticket_id == ticket_id,
                                                             TicketEntry.kind == EntryKind.STATUS.value)).all()
        assert [(m.from_status_id, m.to_status_id) for m in moves] == [(s["新建"], s["处理中"]),
                                                                       (s["处理中"], s["已解决"])]


def test_reopen_within_the_days_and_refused_after(app, desk, new_client, clock):
    s = desk["statuses"]
    agent = login(new_client, "agent")
    with app.app_context():
        ticket_id = new_ticket(agent, desk["c1"])
    move(agent, ticket_id, s["已关闭"], s["新建"])
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.closed_at == clock.now and ticket.resolved_at == clock.now
    clock.advance(days=6)
    agent = login(new_client, "agent")  # the idle timeout ended the session meanwhile
    html = move(agent, ticket_id, s["处理中"], s["已关闭"])
    assert "工单状态已改为“处理中”" in html
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.reopened_count == 1 and ticket.closed_at is None and ticket.resolved_at is None
    move(agent, ticket_id, s["已解决"], s["处理中"])
    clock.advance(days=7, minutes=1)
    agent = login(new_client, "agent")
    html = move(agent, ticket_id, s["处理中"], s["已解决"])
    assert "工单已超过 7 天的可重新打开期限，请新建工单" in html
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).status_category == "resolved"


@pytest.mark.both_dbs
def test_scope_truth_table_list_page_edit_reply_move_batch(app, desk, new_client):
    s = desk["statuses"]
    agent = login(new_client, "agent")
    with app.app_context():
        t1 = new_ticket(agent, desk["c1"], subject="一号客户的工单")
        t2 = new_ticket(agent, desk["c2"], subject="二号客户的工单")
    rep1 = login(new_client, "rep1")
    listing = list_table(rep1.get("/admin/ticket/").get_data(as_text=True))
    assert "一号客户的工单" in listing and "二号客户的工单" not in listing
    assert rep1.get(f"/admin/ticket/details/?id={t1}").status_code == 200
    # The search box: a number prefix, the customer's name, words of the subject — within scope.
    for term, found in [("gd2026112300", "一号客户的工单"), ("华星", "一号客户的工单"), ("客户的工单", "一号客户的工单"),
                        ("1380013", "一号客户的工单")]:
        listing = list_table(rep1.get(f"/admin/ticket/?search={term}").get_data(as_text=True))
        assert found in listing and "二号客户的工单" not in listing, term
    assert "远大科技" not in list_table(rep1.get("/admin/ticket/?search=远大").get_data(as_text=True))
    page = f"/admin/ticket/details/?id={t1}"
    for url, data in [(f"/admin/ticket/reply/?id={t2}", {"kind": "reply", "body": "越权"}),
                      (f"/admin/ticket/move/?id={t2}", {"to_status_id": str(s["已关闭"])}),
                      (f"/admin/ticket/edit/?id={t2}", ticket_form(desk["c2"], subject="越权"))]:
        assert rep1.post_form(page, data, to=url).status_code == 404
    assert rep1.get(f"/admin/ticket/details/?id={t2}").status_code == 404
    # The form's order/contract look-up answers for customers in scope only.
    assert rep1.get(f"/admin/ticket/customer_documents/?customer_id={desk['c2']}").status_code == 404
    assert rep1.get(f"/admin/ticket/customer_documents/?customer_id={desk['c1']}").get_json() \
        == {"orders": [], "contracts": []}
    assert rep1.get(f"/admin/ticket/edit/?id={t2}").status_code == 404
    assert rep1.action("/admin/ticket/", "close", [t1, t2], follow=False).status_code == 404
    with app.app_context():
        assert db.session.get(Ticket, t2).status_id == s["新建"]
        assert db.session.scalar(select(func.count(TicketEntry.id)).where(TicketEntry.ticket_id == t2)) == 0
    # The 客服主管 closes both in one batch, with the confirmation the button asks for.
    boss = login(new_client, "boss")
    html = boss.action("/admin/ticket/", "close", [t1, t2]).get_data(as_text=True)
    assert "已关闭 2 张工单" in html


def test_the_customer_page_has_a_service_tab(app, desk, new_client):
    agent = login(new_client, "agent")
    with app.app_context():
        new_ticket(agent, desk["c1"], subject="滤芯更换咨询")
    rep1 = login(new_client, "rep1")
    html = rep1.get(f"/admin/customer/details/?id={desk['c1']}").get_data(as_text=True)
    tab = html.split('id="tab-service"', 1)[1].split('<div class="tab-pane', 1)[0]
    assert "滤芯更换咨询" in tab and "GD202611230001" in tab and "新建工单" in tab
    html = agent.get(f"/admin/customer/details/?id={desk['c2']}").get_data(as_text=True)
    assert "这位客户还没有工单" in html


def test_the_console_finds_the_caller_by_phone_and_prefills_the_new_ticket(app, desk, new_client):
    with app.app_context():
        from models import Contact
        contact = Contact(customer_id=desk["c1"], name="陈经理", mobile="13912345678")
        db.session.add(contact)
        db.session.flush()
        from rules import customers
        customers.reindex(db.session, db.session.get(__import__("models").Customer, desk["c1"]))
        db.session.commit()
        contact_id = contact.id
    agent = login(new_client, "agent")
    with app.app_context():
        new_ticket(agent, desk["c1"], subject="上次的漏水还没修好")
    html = agent.get("/admin/service_console/?q=139 1234 5678").get_data(as_text=True)
    card = html.split('data-testid="console-card"', 1)[1]
    assert "华星茶叶" in card and "来电联系人：陈经理" in card and "上次的漏水还没修好" in card
    new_url = card.split('id="kechi-console-new-ticket" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert f"customer_id={desk['c1']}" in new_url and f"contact_id={contact_id}" in new_url
    form = agent.get(new_url).get_data(as_text=True)
    assert f'name="customer" type="hidden" value="{desk["c1"]}"' in form
    assert f'name="contact" type="hidden" value="{contact_id}"' in form
    # A salesperson's console keeps to their own customers.
    rep2 = login(new_client, "rep2")
    html = rep2.get("/admin/service_console/?q=13912345678").get_data(as_text=True)
    assert "没有找到" in html and "华星茶叶" not in html
    assert rep2.get(f"/admin/service_console/?customer_id={desk['c1']}").status_code == 404


@pytest.mark.both_dbs
def test_workbench_counts_my_tickets_by_sla_state(app, desk, new_client, clock):
    boss = login(new_client, "boss")
    with app.app_context():
        late = new_ticket(boss, desk["c1"], assignee_id=str(desk["agent"]), subject="已经超时")
        soon = new_ticket(boss, desk["c1"], assignee_id=str(desk["agent"]), subject="快到期")
        ticket = db.session.get(Ticket, late)
        ticket.resolution_due_at = clock.now - timedelta(hours=1)
        db.session.get(Ticket, soon).resolution_due_at = clock.now + timedelta(hours=1)
        db.session.commit()
    agent = login(new_client, "agent")
    html = agent.get("/admin/").get_data(as_text=True)
    assert "已超时 · 1 张" in html and "即将超时 · 1 张" in html
    assert "今日将超时工单（1）" in html and "快到期" in html
    # one due this evening (not within two hours: 正常 still) is due today too, in the count and in its list
    with app.app_context():
        evening = new_ticket(boss, desk["c1"], assignee_id=str(desk["agent"]), subject="今晚到期")
        db.session.get(Ticket, evening).resolution_due_at = clock.now + timedelta(hours=8)
        db.session.commit()
    html = agent.get("/admin/").get_data(as_text=True)
    assert "今日将超时工单（2）" in html
    more = html.split('data-widget="tickets_due_today"', 1)[1].split('href="', 1)[1].split('"', 1)[0]
    listing = list_table(agent.get(more.replace("&amp;", "&")).get_data(as_text=True))
    assert "快到期" in listing and "今晚到期" in listing and "已经超时" not in listing
    # 已超时 · 1 张 opens the list of my open late tickets (a late one already closed is not counted).
    with app.app_context():
        done_late = new_ticket(boss, desk["c1"], assignee_id=str(desk["agent"]), subject="超时后已关闭")
        db.session.get(Ticket, done_late).resolution_due_at = clock.now - timedelta(hours=3)
        db.session.commit()
    closed = desk["statuses"]["已关闭"]
    move(boss, done_late, closed, desk["statuses"]["新建"])
    html = agent.get("/admin/").get_data(as_text=True)
    widget = html.split('data-widget="my_tickets"', 1)[1]
    late_url = widget.split("已超时 · 1 张", 1)[0].rsplit('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    listing = list_table(agent.get(late_url).get_data(as_text=True))
    assert "已经超时" in listing and "快到期" not in listing and "超时后已关闭" not in listing


def test_status_administration_one_initial_and_used_statuses_are_kept(app, desk, new_client):
    s = desk["statuses"]
    agent = login(new_client, "agent")
    with app.app_context():
        new_ticket(agent, desk["c1"])
    boss = login(new_client, "boss")
    html = boss.post_form("/admin/ticket_status/", {"id": str(s["新建"]), "url": "/admin/ticket_status/"},
                          to="/admin/ticket_status/delete/", follow=True).get_data(as_text=True)
    assert "状态“新建”已被工单使用，不能删除" in html
    html = boss.post_form("/admin/ticket_status/new/", {"name": "待上门", "category": "resolved", "sort_order": "5",
                                                        "active": "y", "is_initial": "y"},
                          follow=True).get_data(as_text=True)
    assert "初始状态必须属于“处理中”分类" in html and "待上门" in html
    boss.post_form("/admin/ticket_status/new/", {"name": "待上门", "category": "open", "sort_order": "5",
                                                 "active": "y", "is_initial": "y"})
    with app.app_context():
        initial = db.session.scalars(select(TicketStatus.name).where(TicketStatus.is_initial.is_(True))).all()
        assert initial == ["待上门"]
    html = boss.post_form("/admin/ticket_settings/", {"ticket_number_pattern": "GD{yyyy}{seq:05d}",
                                                      "ticket_reopen_days": "abc"}, follow=True).get_data(as_text=True)
    assert "可重新打开的天数请填写 0 到 365 之间的整数" in html
    assert agent.get("/admin/ticket_status/").status_code == 403


def test_an_agent_takes_an_unassigned_ticket_of_their_team_once(app, desk, new_client, make_user):
    from models.service import ServiceTeam, ServiceTeamMember
    other = make_user("agent2", role="客服", department=("客服部",), display_name="小吴")
    with app.app_context():
        team = ServiceTeam(name="售后一组")
        db.session.add(team)
        db.session.flush()
        db.session.add_all([ServiceTeamMember(team_id=team.id, user_id=desk["agent"]),
                            ServiceTeamMember(team_id=team.id, user_id=other)])
        db.session.commit()
        team_id = team.id
    boss = login(new_client, "boss")
    with app.app_context():
        ticket_id = new_ticket(boss, desk["c1"], team_id=str(team_id), subject="茶壶漏水请上门")
    agent, agent2 = login(new_client, "agent"), login(new_client, "agent2")
    assert "茶壶漏水请上门" in list_table(agent.get("/admin/ticket_team/").get_data(as_text=True))
    page = f"/admin/ticket/details/?id={ticket_id}"
    assert 'id="kechi-ticket-take"' in agent.get(page).get_data(as_text=True)
    token2 = agent2.token(page)  # 小吴 has the page open too
    html = agent.post_form(page, {"assignee_id": str(desk["agent"])}, to=f"/admin/ticket/assign_one/?id={ticket_id}",
                           follow=True).get_data(as_text=True)
    assert "工单已分派给 小周" in html
    html = agent2.client.post(f"/admin/ticket/assign_one/?id={ticket_id}",
                              data={"assignee_id": str(other), "csrf_token": token2},
                              follow_redirects=True).get_data(as_text=True)
    assert "您没有分派工单的权限（只能领取本组未分派的工单）" in html
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).assignee_id == desk["agent"]
    assert "茶壶漏水请上门" not in list_table(agent.get("/admin/ticket_team/").get_data(as_text=True))


def test_an_edit_from_a_stale_form_is_refused_and_a_new_priority_is_kept(app, desk, new_client):
    agent = login(new_client, "agent")
    with app.app_context():
        ticket_id = new_ticket(agent, desk["c1"])
    edit = f"/admin/ticket/edit/?id={ticket_id}"
    form = agent.get(edit).get_data(as_text=True)
    version = form.split('name="version" type="hidden" value="', 1)[1].split('"', 1)[0]
    html = agent.post_form(edit, ticket_form(desk["c1"], priority="urgent", version=version),
                           follow=True).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).priority == "urgent"
    html = agent.post_form(edit, ticket_form(desk["c1"], subject="旧页面的修改", version=version),
                           follow=True).get_data(as_text=True)
    assert "旧页面的修改" in html  # the form is shown again as typed
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).subject == "净水器漏水"


def test_an_agent_without_assign_cannot_reassign_through_the_edit_form(app, desk, new_client, make_user):
    other = make_user("agent2", role="客服", department=("客服部",), display_name="小吴")
    agent = login(new_client, "agent")
    with app.app_context():
        ticket_id = new_ticket(agent, desk["c1"], assignee_id=str(desk["agent"]))
        version = str(db.session.get(Ticket, ticket_id).version)
    html = agent.post_form(f"/admin/ticket/edit/?id={ticket_id}",
                           ticket_form(desk["c1"], assignee_id=str(other), version=version),
                           follow=True).get_data(as_text=True)
    assert "您没有分派工单的权限" in html
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).assignee_id == desk["agent"]


def test_a_used_status_keeps_its_category(app, desk, new_client):
    agent = login(new_client, "agent")
    with app.app_context():
        new_ticket(agent, desk["c1"])
    boss = login(new_client, "boss")
    waiting = desk["statuses"]["新建"]
    html = boss.post_form(f"/admin/ticket_status/edit/?id={waiting}",
                          {"name": "新建", "category": "resolved", "sort_order": "0", "active": "y"},
                          follow=True).get_data(as_text=True)
    assert "已有工单，不能更改分类" in html
    with app.app_context():
        assert db.session.scalar(select(Ticket.status_category)) == "open"
