"""工作请示 pages as people use them: a leave typed into its form and submitted, found by the
superior under 我的审批 with a readable summary (and counted by the workbench's 待我审批),
approved there; a refused form keeps what was typed; someone outside the request's scope gets
404; a file attached to a request is listed on its page."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from approval_fake import actor
import attachment_files as sample
from conftest import FIXED_NOW
from models import ApprovalRequest, OfficeRequest, db
from rules import office_requests
from rules.office_requests import RequestInput

LEAVE_FORM = {"start_day": "2026-11-24", "start_half": "am", "end_day": "2026-11-25", "end_half": "pm",
              "content": "回老家办理房产手续", "action": "submit"}


@pytest.fixture
def office(app, make_user):
    make_user("boss", role="经理", department=("销售部",), display_name="王经理")
    make_user("lead", role="主管", superior="boss", display_name="李主管")
    make_user("rep", superior="lead", display_name="张三")
    make_user("rep2", department=("销售部", "销售二部"), display_name="二部小钱")
    make_user("fin", role="财务", department=("财务部",), display_name="钱会计")
    with app.app_context():  # 销售一部's named manager is 王经理 (else its head by reporting line, 李主管)
        from models import Department, User
        team = db.session.scalar(select(Department).where(Department.name == "销售一部"))
        team.manager_id = db.session.scalar(select(User.id).where(User.username == "boss"))
        db.session.commit()
    return app


def status_of(page: str) -> str:
    return re.search(r'data-testid="request-status">([^<]+)<', page).group(1)


def signed_in(new_client, username):
    client = new_client()
    client.login(username)
    return client


def leave_type_id(app, name="年假") -> str:
    from models import DictItem
    with app.app_context():
        return str(db.session.scalar(select(DictItem.id).where(DictItem.kind == "leave_type", DictItem.name == name)))


def the_request(app) -> OfficeRequest:
    with app.app_context():
        found = db.session.scalar(select(OfficeRequest).order_by(OfficeRequest.id.desc()))
        db.session.expunge(found)
        return found


@pytest.mark.both_dbs
def test_a_leave_is_submitted_and_the_superior_approves_it_on_my_approvals(office, new_client):
    rep = signed_in(new_client, "rep")
    empty = rep.get("/admin/office_request/").get_data(as_text=True)
    assert "您还没有提交过申请" in empty and 'data-testid="new-leave"' in empty
    page = rep.post_form("/admin/office_request/new/leave/", {**LEAVE_FORM, "leave_type_id": leave_type_id(office)},
                         follow=True).get_data(as_text=True)
    assert "已提交审批" in page and "年假 2 天" in page and "审批中" in page
    assert "2026-11-24 上午 至 2026-11-25 下午" in page and 'data-testid="approval-panel"' in page
    req = the_request(office)
    lead = signed_in(new_client, "lead")
    workbench = lead.get("/admin/").get_data(as_text=True)
    widget = re.search(r'data-widget="waiting_approvals".*?kechi-widget-value"><a href="[^"]*">(\d+)<', workbench, re.S)
    assert widget is not None and widget.group(1) == "1", "the workbench's 待我审批 counts the leave"
    listing = lead.get("/admin/approval/").get_data(as_text=True)
    assert "请假申请" in listing
    assert "张三 请假：年假，2026-11-24 上午 至 2026-11-25 下午，共 2 天" in listing
    with office.app_context():
        approval_id = db.session.scalar(select(ApprovalRequest.id).where(ApprovalRequest.doc_id == req.id))
    approval_page = lead.get(f"/admin/approval/{approval_id}/").get_data(as_text=True)
    assert f'href="/admin/office_request/{req.id}/"' in approval_page, "查看单据 opens the request"
    own_page = lead.get(f"/admin/office_request/{req.id}/").get_data(as_text=True)
    assert 'data-testid="approval-approve"' in own_page, "the approver decides on the request's page too"
    lead.post_form(f"/admin/approval/{approval_id}/", {"comment": "同意，注意交接"},
                   to=f"/admin/approval/{approval_id}/approve/")
    halfway = rep.get(f"/admin/office_request/{req.id}/").get_data(as_text=True)
    assert status_of(halfway) == "审批中", "上级同意 → 部门负责人 next"
    boss = signed_in(new_client, "boss")
    boss.post_form(f"/admin/approval/{approval_id}/", {}, to=f"/admin/approval/{approval_id}/approve/")
    done = rep.get(f"/admin/office_request/{req.id}/").get_data(as_text=True)
    assert status_of(done) == "已通过" and "李主管：已同意 · 同意,注意交接" in done and "王经理：已同意" in done
    assert req.number in rep.get("/admin/office_request/?status=approved").get_data(as_text=True)
    with office.app_context():
        from models import AuditLog
        logged = db.session.execute(select(AuditLog.action, AuditLog.actor_name, AuditLog.changes).where(
            AuditLog.entity == "OfficeRequest", AuditLog.entity_id == str(req.id)).order_by(AuditLog.id)).all()
    moves = sorted((action, who, tuple(c["status"])) for action, who, c in logged)
    assert moves == [("create", "张三", (None, "draft")), ("update", "张三", ("draft", "pending")),
                     ("update", "王经理", ("pending", "approved"))]


def test_a_refused_form_keeps_what_was_typed(office, new_client):
    rep = signed_in(new_client, "rep")
    form = {"title": "十一月差旅报销", "content": "拜访华东客户", "action": "submit",
            "line_date": ["2026-11-20", "2026-11-21"], "line_category": ["交通", "住宿"],
            "line_amount": ["35.50", "一千二"], "line_note": ["打车", "如家"]}
    page = rep.post_form("/admin/office_request/new/expense/", form, follow=True).get_data(as_text=True)
    assert "第2条明细的金额“一千二”不是有效的数字" in page
    assert 'value="十一月差旅报销"' in page and 'value="一千二"' in page and 'value="如家"' in page
    assert "拜访华东客户" in page
    with office.app_context():
        assert db.session.scalar(select(OfficeRequest.id)) is None
    form["line_amount"] = ["35.50", "1200"]
    done = rep.post_form("/admin/office_request/new/expense/", form, follow=True).get_data(as_text=True)
    assert "已提交审批" in done and "¥1,235.50" in done
    # an overlapping leave: refused, the form as typed
    with office.app_context():
        office_requests.submit(db.session, office_requests.create(
            db.session, "leave", RequestInput(leave_type_id=leave_type_id(office), start_day="2026-11-25",
                                              end_day="2026-11-25"),
            actor=actor(db.session, "rep"), now=FIXED_NOW, tz="Asia/Shanghai").id,
            actor=actor(db.session, "rep"), now=FIXED_NOW)
        db.session.commit()
    clash = rep.post_form("/admin/office_request/new/leave/",
                          {**LEAVE_FORM, "leave_type_id": leave_type_id(office, "事假")},
                          follow=True).get_data(as_text=True)
    assert "时间重叠" in clash and 'value="2026-11-24"' in clash and "回老家办理房产手续" in clash
    with office.app_context():
        assert db.session.query(OfficeRequest).count() == 2


@pytest.mark.both_dbs
def test_a_request_outside_ones_scope_is_404_and_a_file_can_be_attached(office, new_client):
    rep = signed_in(new_client, "rep")
    rep.post_form("/admin/office_request/new/general/", {"title": "申请样机", "content": "演示用", "action": "save"})
    req = the_request(office)
    assert req.status == "draft"
    assert signed_in(new_client, "rep2").get(f"/admin/office_request/{req.id}/").status_code == 404
    assert signed_in(new_client, "lead").get(f"/admin/office_request/{req.id}/").status_code == 200
    data = {"csrf_token": rep.token("/admin/"), "entity": "office_request", "record_id": str(req.id), "note": "报价单",
            "url": f"/admin/office_request/{req.id}/", "files": [(io.BytesIO(sample.pdf()), "样机报价.pdf")]}
    rep.post("/admin/attachment/upload/", data=data, content_type="multipart/form-data")
    page = rep.get(f"/admin/office_request/{req.id}/").get_data(as_text=True)
    assert "样机报价.pdf" in page
    assert "样机报价.pdf" in signed_in(new_client, "lead").get(f"/admin/office_request/{req.id}/").get_data(
        as_text=True)
    rep2 = signed_in(new_client, "rep2")
    refused = rep2.post("/admin/attachment/upload/", content_type="multipart/form-data",
                        data={**data, "csrf_token": rep2.token("/admin/"),
                              "files": [(io.BytesIO(sample.pdf()), "偷放.pdf")]})
    assert refused.status_code in (302, 403, 404)
    assert "偷放.pdf" not in rep.get(f"/admin/office_request/{req.id}/").get_data(as_text=True)


def test_a_draft_is_changed_and_a_stale_form_is_refused_as_typed(office, new_client):
    rep = signed_in(new_client, "rep")
    rep.post_form("/admin/office_request/new/general/", {"title": "申请样机", "content": "演示用", "action": "save"})
    req = the_request(office)
    edit = f"/admin/office_request/{req.id}/edit/"
    form_page = rep.get(edit).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', form_page).group(1)
    assert 'value="申请样机"' in form_page
    first = rep.post_form(edit, {"title": "申请两台样机", "content": "演示用", "version": version, "action": "save"},
                          follow=True).get_data(as_text=True)
    assert "已保存草稿" in first and "申请两台样机" in first
    stale = rep.post_form(edit, {"title": "申请三台样机", "content": "另一个窗口", "version": version,
                                 "action": "submit"}, follow=True).get_data(as_text=True)
    assert "该记录已被他人修改" in stale and 'value="申请三台样机"' in stale and "另一个窗口" in stale
    assert the_request(office).title == "申请两台样机" and the_request(office).status == "draft"
    sent = rep.post_form(f"/admin/office_request/{req.id}/", {}, to=f"/admin/office_request/{req.id}/submit/",
                         follow=True).get_data(as_text=True)
    assert "已提交审批" in sent and status_of(sent) == "审批中"
    assert rep.get(edit, follow_redirects=True).get_data(as_text=True).count('name="version"') == 0, \
        "a pending request is no longer edited"


def test_an_english_user_reads_the_leave_form_and_its_refusal_in_english(office, new_client):
    from models import User
    with office.app_context():
        db.session.scalar(select(User).where(User.username == "rep")).locale = "en"
        db.session.commit()
    rep = signed_in(new_client, "rep")
    page = rep.get("/admin/office_request/new/leave/").get_data(as_text=True)
    assert "Leave type" in page and "Save draft" in page and "weekends are not counted" in page
    refused = rep.post_form("/admin/office_request/new/leave/",
                            {**LEAVE_FORM, "end_day": "2026-11-23", "leave_type_id": leave_type_id(office)},
                            follow=True).get_data(as_text=True)
    assert "The end cannot be earlier than the start" in refused
