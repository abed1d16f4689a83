"""我的审批 and 审批流程 as people use them: the approver finds the request under 待我审批 (and
in the bell), decides on its page (the panel every document page includes), in a batch with
confirmation, or hands it on; the submitter withdraws; someone unrelated gets 404; the pop-up's
poll answers JSON; the administrator edits a flow and a bad step is refused with the form kept."""
from __future__ import annotations

import re

import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import select

from approval_fake import DOC, actor, doc_state, make_doc, make_flow, user_id
from conftest import FIXED_NOW
from models import User, db
from models.approval import ApprovalFlow, ApprovalRequest, ApprovalStatus
from rules import approvals


@pytest.fixture
def desk(app, make_user, make_customer):
    make_user("admin", role="系统管理员", department=("总经办",))
    make_user("lead", role="主管")
    make_user("rep", superior="lead")
    make_user("rep2", department=("销售部", "销售二部"))
    make_user("fin1", role="财务", department=("财务部",), display_name="钱会计")
    make_user("fin2", role="财务", department=("财务部",), display_name="孙出纳")
    with app.app_context():
        for n in (1, 2):
            make_doc(db.session, n, title=f"测试单 {n}", owner_id=user_id(db.session, "rep"))
        make_flow(db.session, {"kind": "role", "role": "财务", "name": "财务确认"})
        db.session.commit()
    return app


def submit(app, doc=1):
    with app.app_context():
        request = approvals.submit(db.session, DOC, doc, actor=actor(db.session, "rep"), now=FIXED_NOW)
        db.session.commit()
        return request.id


def signed_in(new_client, username):
    client = new_client()
    client.login(username)
    return client


def test_the_approver_finds_the_request_and_approves_it_on_its_page(desk, new_client):
    request_id = submit(desk)
    fin1 = signed_in(new_client, "fin1")
    listing = fin1.get("/admin/approval/").get_data(as_text=True)
    assert "测试单 1" in listing and "财务确认" in listing and 'data-testid="tab-waiting"' in listing
    assert "待审批：测试单 1（rep 提交）" in listing, "the bell says it too"
    page = fin1.get(f"/admin/approval/{request_id}/").get_data(as_text=True)
    assert 'data-testid="approval-approve"' in page and 'data-testid="approval-withdraw"' not in page
    assert "钱会计：待审批" in page and "孙出纳：待审批" in page
    done = fin1.post_form(f"/admin/approval/{request_id}/", {"comment": "没问题", "next": "/admin/approval/"},
                          to=f"/admin/approval/{request_id}/approve/", follow=True).get_data(as_text=True)
    assert "已同意" in done and "没有等待您审批的单据" in done
    with desk.app_context():
        assert doc_state(db.session, 1)["state"] == "approved"
    decided = fin1.get("/admin/approval/?tab=decided").get_data(as_text=True)
    assert "测试单 1" in decided and "已通过" in decided
    mine = signed_in(new_client, "rep").get("/admin/approval/?tab=mine").get_data(as_text=True)
    assert "测试单 1" in mine and "已通过" in mine


def test_reject_needs_a_reason_and_a_late_decision_is_explained(desk, new_client):
    request_id = submit(desk)
    fin1, fin2 = signed_in(new_client, "fin1"), signed_in(new_client, "fin2")
    url = f"/admin/approval/{request_id}/"
    page = fin1.post_form(url, {"reason": " "}, to=url + "reject/", follow=True).get_data(as_text=True)
    assert "请填写驳回原因" in page
    fin1.post_form(url, {"reason": "金额有误"}, to=url + "reject/")
    late = fin2.post_form(url, {}, to=url + "approve/", follow=True).get_data(as_text=True)
    assert "审批已驳回，无需再处理" in late
    with desk.app_context():
        assert db.session.get(ApprovalRequest, request_id).status == ApprovalStatus.REJECTED
        assert doc_state(db.session, 1)["state"] == "draft"


def test_the_submitter_withdraws_and_strangers_get_404(desk, new_client):
    request_id = submit(desk)
    url = f"/admin/approval/{request_id}/"
    rep2 = signed_in(new_client, "rep2")
    assert rep2.get(url).status_code == 404
    assert rep2.post_form("/admin/approval/", {}, to=url + "approve/").status_code == 404
    rep = signed_in(new_client, "rep")
    page = rep.get(url).get_data(as_text=True)
    assert 'data-testid="approval-withdraw"' in page and 'data-testid="approval-approve"' not in page
    assert "data-kechi-confirm" in page
    page = rep.post_form(url, {}, to=url + "withdraw/", follow=True).get_data(as_text=True)
    assert "已撤回" in page
    assert signed_in(new_client, "lead").get(url).status_code == 200, "the submitter's superior follows it"


def test_transfer_from_the_panel(desk, new_client):
    request_id = submit(desk)
    url = f"/admin/approval/{request_id}/"
    fin1 = signed_in(new_client, "fin1")
    with desk.app_context():
        lead = user_id(db.session, "lead")
    page = fin1.post_form(url, {"to_user_id": str(lead), "note": "请代批"}, to=url + "transfer/",
                          follow=True).get_data(as_text=True)
    assert "已转交" in page and "lead：待审批" in page and "钱会计：已转交" in page
    assert signed_in(new_client, "lead").get("/admin/approval/").get_data(as_text=True).count("测试单 1") >= 1


def test_batch_approve_with_confirmation(desk, new_client):
    first, second = submit(desk, 1), submit(desk, 2)
    fin2 = signed_in(new_client, "fin2")
    listing = fin2.get("/admin/approval/").get_data(as_text=True)
    assert re.search(r'id="kechi-batch-approve"[^>]*data-kechi-confirm=', listing)
    page = fin2.post_form("/admin/approval/", {"request_id": [str(first), str(second)]},
                          to="/admin/approval/batch_approve/", follow=True).get_data(as_text=True)
    assert "已同意 2 项审批" in page
    with desk.app_context():
        assert [doc_state(db.session, n)["state"] for n in (1, 2)] == ["approved", "approved"]


def test_the_popup_polls_json(desk, new_client):
    fin1 = signed_in(new_client, "fin1")
    assert fin1.get("/admin/approval/poll/").get_json()["latest"] is None
    request_id = submit(desk)
    data = fin1.get("/admin/approval/poll/").get_json()
    assert data["count"] == 1 and data["latest"]["title"] == "测试单 1"
    assert data["latest"]["url"] == f"/admin/approval/{request_id}/"
    page = fin1.get("/admin/approval/").get_data(as_text=True)
    assert 'id="kechi-approval-poll"' in page and "js/kechi-approvals.js" in page


def test_the_panel_included_by_a_document_page(desk):
    submit(desk)
    template = "{% set approval_doc = ('test_doc', 1) %}{% include 'admin/approvals/_panel.html' %}"
    with desk.test_request_context("/admin/"):
        login_user(db.session.scalar(select(User).where(User.username == "fin1")))
        html = render_template_string(template)
        assert "审批中" in html and 'data-testid="approval-approve"' in html and "财务确认" in html
        untouched = render_template_string(template.replace("1)", "2)"))
        assert "尚未提交审批" in untouched


def test_the_administrator_edits_a_flow_and_bad_steps_are_refused(desk, new_client):
    admin = signed_in(new_client, "admin")
    listing = admin.get("/admin/approval_flow/").get_data(as_text=True)
    for label in ("合同", "回款", "开票申请", "订单折扣", "折扣低于"):
        assert label in listing
    with desk.app_context():
        fin1 = user_id(db.session, "fin1")
    form = {"step_rows": "3", "name": "新合同审批", "enabled": "1", "threshold": "50000",
            "step-0-name": "上级", "step-0-kind": "superior", "step-0-levels": "2", "step-0-mode": "any",
            "step-1-name": "财务会签", "step-1-kind": "role", "step-1-levels": "1", "step-1-mode": "all",
            "step-2-name": "", "step-2-kind": ""}
    page = admin.post_form("/admin/approval_flow/edit/?doc_type=contract", form, follow=True).get_data(as_text=True)
    assert "请为审批步骤“财务会签”选择角色" in page and 'value="新合同审批"' in page
    form.update({"step-1-kind": "users", "step-1-user_ids": [str(fin1)]})
    page = admin.post_form("/admin/approval_flow/edit/?doc_type=contract", form, follow=True).get_data(as_text=True)
    assert "审批流程已保存" in page
    with desk.app_context():
        flow = db.session.scalar(select(ApprovalFlow).where(ApprovalFlow.doc_type == "contract"))
        assert flow.name == "新合同审批" and str(flow.threshold.normalize()) == "5E+4"
        assert [(s.name, s.kind, s.levels, s.mode, s.user_ids) for s in flow.steps] == [
            ("上级", "superior", 2, "any", []), ("财务会签", "users", 1, "all", [fin1])]
    assert signed_in(new_client, "rep").get("/admin/approval_flow/").status_code == 403


def test_an_english_approver_reads_the_pages_in_english(desk, new_client):
    request_id = submit(desk)
    with desk.app_context():
        db.session.get(User, user_id(db.session, "fin1")).locale = "en"
        db.session.commit()
    fin1 = signed_in(new_client, "fin1")
    listing = fin1.get("/admin/approval/").get_data(as_text=True)
    for text in ("My Approvals", "Waiting for Me", "Decided by Me", "Submitted by Me", "Approve Selected",
                 "Waiting for approval: 测试单 1 (submitted by rep)"):
        assert text in listing, text
    page = fin1.get(f"/admin/approval/{request_id}/").get_data(as_text=True)
    for text in ("In Approval", "Any one (one approval decides)", "Reason for rejecting (required)", "Hand Over"):
        assert text in page, text


def test_the_bell_opens_the_request(desk, new_client):
    request_id = submit(desk)
    fin1 = signed_in(new_client, "fin1")
    with desk.app_context():
        from models import Notification
        note = db.session.scalar(select(Notification.id).where(Notification.user_id == user_id(db.session, "fin1")))
    response = fin1.get(f"/admin/notification/open/{note}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/approval/{request_id}/")


def test_the_administrator_names_a_department_manager_who_then_approves(desk, new_client):
    with desk.app_context():
        from models import Department
        dept = db.session.scalar(select(Department).where(Department.name == "销售一部"))
        dept_id, parent_id, fin1 = dept.id, dept.parent_id, user_id(db.session, "fin1")
        make_flow(db.session, {"kind": "dept_manager", "name": "部门负责人审批"})
        db.session.commit()
    admin = signed_in(new_client, "admin")
    form = admin.get(f"/admin/department/edit/?id={dept_id}").get_data(as_text=True)
    assert "部门负责人" in form
    admin.post_form(f"/admin/department/edit/?id={dept_id}",
                    {"name": "销售一部", "parent": str(parent_id), "manager": str(fin1), "sort_order": "0"})
    with desk.app_context():
        assert db.session.get(Department, dept_id).manager_id == fin1
    request_id = submit(desk)
    page = signed_in(new_client, "fin1").get(f"/admin/approval/{request_id}/").get_data(as_text=True)
    assert "钱会计：待审批" in page


def test_the_popups_poll_does_not_keep_an_idle_session_alive(desk, new_client, clock):
    """An open tab polls every minute; after 30 minutes without the user doing anything the
    session still ends (DESIGN §10 idle timeout)."""
    fin1 = signed_in(new_client, "fin1")
    assert fin1.get("/admin/approval/").status_code == 200
    for _ in range(35):
        clock.advance(minutes=1)
        fin1.get("/admin/approval/poll/")
    response = fin1.get("/admin/approval/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
