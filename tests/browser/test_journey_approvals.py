"""An approver signs in, the pop-up tells her a request waits (no inline script: the page would
fail on a CSP refusal), she opens it from 我的审批, approves it on its page, and the submitter
sees the outcome under 我发起的; the administrator's flow editor is looked at too."""
from __future__ import annotations

import pytest

from approval_fake import DOC, actor, make_doc, make_flow, user_id
from conftest import FIXED_NOW, log_in, screenshot
from models import db
from rules import approvals

pytestmark = pytest.mark.browser


def test_popup_then_approve_from_my_approvals(app, page, make_user):
    from playwright.sync_api import expect

    make_user("admin", role="系统管理员", department=("总经办",), display_name="管理员")
    make_user("lead", role="主管", display_name="李主管")
    make_user("rep", superior="lead", display_name="陈晓明")
    make_user("fin", role="财务", department=("财务部",), display_name="钱会计")
    make_user("fin2", role="财务", department=("财务部",), display_name="孙出纳")
    with app.app_context():
        make_flow(db.session, {"kind": "superior", "name": "上级审批"},
                  {"kind": "role", "role": "财务", "name": "财务会签", "mode": "all"})
        for n, title in ((1, "华星贸易 年度服务合同"), (2, "远方公司 设备采购合同")):
            make_doc(db.session, n, title=title, owner_id=user_id(db.session, "rep"), amount="128000.00")
            request = approvals.submit(db.session, DOC, n, actor=actor(db.session, "rep"), now=FIXED_NOW)
            approvals.approve(db.session, request.id, actor=actor(db.session, "lead"), now=FIXED_NOW,
                              comment="同意，请财务核对")
        db.session.commit()
        first = approvals.current(db.session, DOC, 1).id

    log_in(page, "fin")
    popup = page.locator("#kechi-approval-popup")
    expect(popup).to_contain_text("您有新的待审批（2）")
    expect(popup).to_contain_text("远方公司 设备采购合同")
    screenshot(page, "approval-popup")
    page.goto(page.base + "/admin/approval/")
    expect(page.locator("table.kechi-approvals tbody tr")).to_have_count(2)
    screenshot(page, "approvals-waiting")
    expect(page.locator("#kechi-approval-popup")).to_have_count(0)  # shown once per new request, not per page

    page.click(f'tr[data-request="{first}"] a')
    expect(page.locator('[data-testid="approval-status"]')).to_have_text("审批中")
    page.fill('input[name="comment"]', "金额无误")
    screenshot(page, "approval-request")
    page.click('[data-testid="approval-approve"]')
    expect(page.locator(".alert-success")).to_contain_text("已同意")
    expect(page.locator('[data-approver="钱会计"]').last).to_contain_text("已同意 · 金额无误")
    expect(page.locator('[data-approver="孙出纳"]').last).to_contain_text("待审批")

    page.goto(page.base + "/admin/approval/?tab=decided")
    expect(page.locator("table.kechi-approvals")).to_contain_text("华星贸易 年度服务合同")

    page.context.clear_cookies()
    log_in(page, "admin")
    page.goto(page.base + "/admin/approval_flow/")
    expect(page.locator('tr[data-doc-type="contract"]')).to_contain_text("部门负责人审批")
    screenshot(page, "approval-flows")
    page.click('[data-testid="edit-contract"]')
    expect(page.locator('input[name="step-0-name"]')).to_have_value("上级审批")
    screenshot(page, "approval-flow-edit")
