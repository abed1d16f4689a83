"""审批 as a truth table on SQLite and PostgreSQL: 或签 / 会签, reject (reason required), withdraw
(only before a decision), 转交, a step with no eligible approver refused at submit (nothing
written), self-approval only where both the step and the document allow it, decisions on an
ended request refused; and, on PostgreSQL, two approvers deciding one step at the same instant
→ exactly one decision."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from approval_fake import DOC, actor, doc_state, make_doc, make_flow, user_id
from conftest import FIXED_NOW, run_at_once
from models import Department, Notification, Outbox, User, db
from models.approval import ApprovalFlow, ApprovalEvent, ApprovalRequest, ApprovalStatus, ApprovalTask, TaskStatus
from rules import approvals, settings
from rules.approvals import AlreadyDecided, ApprovalRefused, NoEligibleApprover
from rules.errors import InvalidValue, PermissionDenied

pytestmark = pytest.mark.both_dbs
NOW = FIXED_NOW


@pytest.fixture
def team(app, make_user):
    """boss (总经理) ← mgr (经理, heads 销售部) ← lead (主管, heads 销售一部) ← rep; rep2 beside rep;
    fin1, fin2 (财务); gone (财务, 离职)."""
    make_user("boss", role="总经理", department=("总经办",))
    make_user("mgr", role="经理", department=("销售部",), superior="boss")
    make_user("lead", role="主管", superior="mgr")
    make_user("rep", superior="lead")
    make_user("rep2", superior="lead")
    for name in ("fin1", "fin2", "gone"):
        make_user(name, role="财务", department=("财务部",))
    with app.app_context():
        s = db.session
        s.get(User, user_id(s, "gone")).active = False
        s.get(User, user_id(s, "rep")).mobile = "13800000001"
        for dept_name, boss in (("销售部", "mgr"), ("销售一部", "lead")):
            s.scalar(select(Department).where(Department.name == dept_name)).manager_id = user_id(s, boss)
        make_doc(s, 1, title="测试单 1", owner_id=user_id(s, "rep"))
        s.commit()
    return app


def submit(who: str = "rep", doc: int = 1):
    return approvals.submit(db.session, DOC, doc, actor=actor(db.session, who), now=NOW)


def tasks(request_id: int) -> dict[str, str]:
    rows = db.session.execute(select(User.username, ApprovalTask.status, ApprovalTask.step_index)
                              .join(User, User.id == ApprovalTask.approver_id)
                              .where(ApprovalTask.request_id == request_id).order_by(ApprovalTask.id)).all()
    return {f"{step}:{name}": status for name, status, step in rows}


def events(request_id: int) -> list[str]:
    return list(db.session.scalars(select(ApprovalEvent.action).where(ApprovalEvent.request_id == request_id)
                                   .order_by(ApprovalEvent.id)))


def notes_of(username: str) -> list[str]:
    return list(db.session.scalars(select(Notification.title).join(User, User.id == Notification.user_id)
                                   .where(User.username == username).order_by(Notification.id)))


# --- 或签 / 会签 ---------------------------------------------------------------------------------------

def test_any_one_of_a_role_decides_the_step(team):
    with team.app_context():
        make_flow(db.session, {"kind": "role", "role": "财务", "name": "财务确认"})
        request = submit()
        assert tasks(request.id) == {"0:fin1": "waiting", "0:fin2": "waiting"}, "离职的 gone is never an approver"
        assert notes_of("fin1") == ["待审批：测试单 1（rep 提交）"]
        assert approvals.waiting_count(db.session, actor(db.session, "fin2")) == 1
        approvals.approve(db.session, request.id, actor=actor(db.session, "fin2"), now=NOW, comment="好")
        db.session.commit()
        assert request.status == ApprovalStatus.APPROVED and request.open_key is None
        assert tasks(request.id) == {"0:fin1": "skipped", "0:fin2": "approved"}
        assert doc_state(db.session, 1)["state"] == "approved"
        assert notes_of("rep") == ["审批已通过：测试单 1"]
        assert approvals.waiting_count(db.session, actor(db.session, "fin1")) == 0
        with pytest.raises(AlreadyDecided, match="已通过"):
            approvals.approve(db.session, request.id, actor=actor(db.session, "fin1"), now=NOW)


def test_all_must_approve_a_countersigned_step(team):
    with team.app_context():
        make_flow(db.session, {"kind": "users", "users": ["fin1", "fin2"], "mode": "all"})
        request = submit()
        approvals.approve(db.session, request.id, actor=actor(db.session, "fin1"), now=NOW)
        db.session.commit()
        assert request.status == ApprovalStatus.PENDING and doc_state(db.session, 1)["state"] == "draft"
        with pytest.raises(ApprovalRefused, match="不是.*当前步骤的审批人"):
            approvals.approve(db.session, request.id, actor=actor(db.session, "fin1"), now=NOW)
        db.session.rollback()
        approvals.approve(db.session, request.id, actor=actor(db.session, "fin2"), now=NOW)
        db.session.commit()
        assert request.status == ApprovalStatus.APPROVED
        assert doc_state(db.session, 1)["approved"] == 1
        assert events(request.id) == ["submit", "approve", "approve"]


def test_one_reject_rejects_a_countersigned_request_with_its_reason(team):
    with team.app_context():
        make_flow(db.session, {"kind": "users", "users": ["fin1", "fin2"], "mode": "all"},
                  {"kind": "superior"})
        request = submit()
        approvals.approve(db.session, request.id, actor=actor(db.session, "fin1"), now=NOW)
        with pytest.raises(InvalidValue, match="请填写驳回原因"):
            approvals.reject(db.session, request.id, actor=actor(db.session, "fin2"), now=NOW, reason="  ")
        approvals.reject(db.session, request.id, actor=actor(db.session, "fin2"), now=NOW, reason="金额不对")
        db.session.commit()
        assert request.status == ApprovalStatus.REJECTED and request.open_key is None
        assert tasks(request.id) == {"0:fin1": "approved", "0:fin2": "rejected", "1:lead": "skipped"}
        assert doc_state(db.session, 1)["state"] == "draft" and doc_state(db.session, 1)["returned"] == "reject"
        assert notes_of("rep")[-1] == "审批被驳回：测试单 1（原因：金额不对）"
        assert notes_of("lead") == [], "a later step's approver hears nothing of a request that never reached them"
        again = submit()  # a rejected document may be submitted again
        assert again.id != request.id and again.status == ApprovalStatus.PENDING


def test_steps_follow_one_another_and_an_approver_is_not_asked_twice(team):
    """上级 (2 levels up = mgr), then 部门负责人 of the owner's department (销售一部 = lead), then
    上级 (1 level = lead again): lead approves once and the third step passes with it."""
    with team.app_context():
        make_flow(db.session, {"kind": "superior", "levels": 2}, {"kind": "dept_manager"}, {"kind": "superior"})
        request = submit()
        assert tasks(request.id) == {"0:mgr": "waiting", "1:lead": "queued", "2:lead": "queued"}
        approvals.approve(db.session, request.id, actor=actor(db.session, "mgr"), now=NOW)
        db.session.commit()
        assert request.step_index == 1 and notes_of("lead") == ["待审批：测试单 1（rep 提交）"]
        approvals.approve(db.session, request.id, actor=actor(db.session, "lead"), now=NOW)
        db.session.commit()
        assert request.status == ApprovalStatus.APPROVED
        assert tasks(request.id) == {"0:mgr": "approved", "1:lead": "approved", "2:lead": "approved"}


def test_department_manager_defers_to_the_parent_department(team):
    """The lead submits his own document: 销售一部's manager is himself, so 销售部's (mgr) decides.
    A department without a named manager is headed by the top of its own reporting line; the
    boss's own document finds nobody above him and is refused."""
    with team.app_context():
        make_doc(db.session, 2, title="主管的单", owner_id=user_id(db.session, "lead"))
        make_doc(db.session, 3, title="老板的单", owner_id=user_id(db.session, "boss"))
        make_flow(db.session, {"kind": "dept_manager", "name": "部门负责人审批"})
        db.session.commit()
        request = submit("lead", 2)
        assert tasks(request.id) == {"0:mgr": "waiting"}
        db.session.rollback()
        for dept in db.session.scalars(select(Department)):
            dept.manager_id = None
        db.session.flush()
        assert tasks(submit("rep", 1).id) == {"0:lead": "waiting"}, "销售一部's head by the reporting line"
        assert tasks(submit("lead", 2).id) == {"0:mgr": "waiting"}
        with pytest.raises(NoEligibleApprover, match="审批步骤“部门负责人审批”没有可审批的人"):
            submit("boss", 3)


# --- withdraw ----------------------------------------------------------------------------------------

def test_submitter_withdraws_before_any_decision_and_late_approvers_are_refused(team):
    with team.app_context():
        make_flow(db.session, {"kind": "role", "role": "财务"})
        request = submit()
        with pytest.raises(PermissionDenied, match="只有提交人可以撤回"):
            approvals.withdraw(db.session, request.id, actor=actor(db.session, "rep2"), now=NOW)
        approvals.withdraw(db.session, request.id, actor=actor(db.session, "rep"), now=NOW)
        db.session.commit()
        assert request.status == ApprovalStatus.WITHDRAWN and doc_state(db.session, 1)["returned"] == "withdraw"
        assert set(tasks(request.id).values()) == {"skipped"}
        with pytest.raises(AlreadyDecided, match="已撤回"):
            approvals.approve(db.session, request.id, actor=actor(db.session, "fin1"), now=NOW)
        with pytest.raises(AlreadyDecided, match="已撤回"):
            approvals.reject(db.session, request.id, actor=actor(db.session, "fin1"), now=NOW, reason="晚了")
        assert events(request.id) == ["submit", "withdraw"]


def test_no_withdrawal_after_the_first_decision(team):
    with team.app_context():
        make_flow(db.session, {"kind": "superior"}, {"kind": "role", "role": "财务"})
        request = submit()
        approvals.approve(db.session, request.id, actor=actor(db.session, "lead"), now=NOW)
        db.session.commit()
        with pytest.raises(ApprovalRefused, match="已有审批人处理，不能撤回"):
            approvals.withdraw(db.session, request.id, actor=actor(db.session, "rep"), now=NOW)
        db.session.rollback()
        assert request.status == ApprovalStatus.PENDING and request.step_index == 1


# --- 转交 ------------------------------------------------------------------------------------------------

def test_transfer_hands_the_task_to_a_colleague(team):
    with team.app_context():
        make_flow(db.session, {"kind": "users", "users": ["fin1"]})
        request = submit()
        fin1 = actor(db.session, "fin1")
        for target, message in (("fin1", "不能转交给自己"), ("rep", "不能转交给提交人"), ("gone", "在职")):
            with pytest.raises(InvalidValue, match=message):
                approvals.transfer(db.session, request.id, actor=fin1, to_user_id=user_id(db.session, target), now=NOW)
        approvals.transfer(db.session, request.id, actor=fin1, to_user_id=user_id(db.session, "boss"), now=NOW,
                           note="我休假")
        db.session.commit()
        assert tasks(request.id) == {"0:fin1": "transferred", "0:boss": "waiting"}
        assert notes_of("boss") == ["待审批：测试单 1（rep 提交）"]
        with pytest.raises(ApprovalRefused, match="不是.*当前步骤的审批人"):
            approvals.approve(db.session, request.id, actor=fin1, now=NOW)
        approvals.approve(db.session, request.id, actor=actor(db.session, "boss"), now=NOW)
        db.session.commit()
        assert request.status == ApprovalStatus.APPROVED
        assert events(request.id) == ["submit", "transfer", "approve"]


# --- nobody to approve, self-approval --------------------------------------------------------------

@pytest.mark.parametrize("step, who, why", [
    ({"kind": "superior", "name": "上级审批"}, "boss", "提交人没有在职的上级"),
    ({"kind": "users", "users": ["gone"], "name": "指定人审批"}, "rep", "已离职"),
    ({"kind": "users", "users": ["rep"], "name": "指定人审批"}, "rep", "就是提交人"),
    ({"kind": "role", "role": "系统管理员", "name": "管理员审批"}, "rep", "该角色下没有其他在职员工"),
])
def test_a_step_with_no_eligible_approver_is_refused_at_submit(team, step, who, why):
    with team.app_context():
        make_doc(db.session, 3, title="无人可批", owner_id=user_id(db.session, who))
        make_flow(db.session, {"kind": "role", "role": "财务"}, step)
        with pytest.raises(NoEligibleApprover, match=f"审批步骤“{step['name']}”没有可审批的人.*{why}"):
            submit(who, 3)
        db.session.rollback()
        assert db.session.scalar(select(func.count(ApprovalRequest.id))) == 0
        assert db.session.scalar(select(func.count(ApprovalTask.id))) == 0
        assert db.session.scalar(select(func.count(Notification.id))) == 0


@pytest.mark.parametrize("step_allows, doc_allows, can_self_approve", [
    (False, False, False), (True, False, False), (False, True, False), (True, True, True),
])
def test_self_approval_only_where_the_step_and_the_document_allow_it(team, step_allows, doc_allows,
                                                                      can_self_approve):
    with team.app_context():
        make_doc(db.session, 4, title="自批", owner_id=user_id(db.session, "fin1"), self_ok=doc_allows)
        make_flow(db.session, {"kind": "role", "role": "财务", "allow_self": step_allows})
        request = submit("fin1", 4)
        assert ("0:fin1" in tasks(request.id)) is can_self_approve
        if can_self_approve:
            approvals.approve(db.session, request.id, actor=actor(db.session, "fin1"), now=NOW)
            assert request.status == ApprovalStatus.APPROVED
        else:
            with pytest.raises(ApprovalRefused):
                approvals.approve(db.session, request.id, actor=actor(db.session, "fin1"), now=NOW)
            assert tasks(request.id) == {"0:fin2": "waiting"}


# --- the document's side --------------------------------------------------------------------------

def test_one_running_request_per_document_and_cancel_for(team):
    with team.app_context():
        make_flow(db.session, {"kind": "role", "role": "财务"})
        request = submit()
        db.session.commit()
        with pytest.raises(ApprovalRefused, match="已在审批中"):
            submit()
        db.session.rollback()
        assert approvals.current(db.session, DOC, 1).id == request.id
        cancelled = approvals.cancel_for(db.session, DOC, 1, actor=actor(db.session, "rep"), now=NOW, reason="作废")
        db.session.commit()
        assert cancelled.status == ApprovalStatus.CANCELLED and approvals.current(db.session, DOC, 1) is None
        assert approvals.latest(db.session, DOC, 1).id == request.id
        assert doc_state(db.session, 1)["state"] == "draft", "a voided document is not called back"
        assert approvals.cancel_for(db.session, DOC, 1, actor=actor(db.session, "rep"), now=NOW, reason="x") is None
        with pytest.raises(AlreadyDecided, match="已取消"):
            approvals.approve(db.session, request.id, actor=actor(db.session, "fin1"), now=NOW)


@pytest.mark.parametrize("doc_type, threshold, figure, enabled, needed", [
    ("order_discount", Decimal("0.85"), Decimal("0.80"), True, True),
    ("order_discount", Decimal("0.85"), Decimal("0.85"), True, False),
    ("order_discount", Decimal("0.85"), Decimal("0.80"), False, False),
    (DOC, Decimal("10000"), Decimal("9999.99"), True, False),
    (DOC, Decimal("10000"), Decimal("10000"), True, True),
    (DOC, None, Decimal("1"), True, True),
])
def test_requires_approval_follows_the_flow_and_its_threshold(team, doc_type, threshold, figure, enabled, needed):
    with team.app_context():
        make_flow(db.session, {"kind": "superior"}, doc_type=doc_type, threshold=threshold, enabled=enabled)
        assert approvals.requires_approval(db.session, doc_type, figure=figure) is needed


def test_default_flows_are_seeded(team):
    with team.app_context():
        flows = {f.doc_type: f for f in db.session.scalars(select(ApprovalFlow))}
        assert [s.kind for s in flows["contract"].steps] == ["superior", "dept_manager"]
        assert [s.role.name for s in flows["receipt"].steps] == ["财务"] == [s.role.name for s in flows["invoice"].steps]
        assert not flows["order_discount"].enabled and flows["order_discount"].threshold == Decimal("0.85")


def test_sms_goes_through_the_outbox_only_when_turned_on(team):
    with team.app_context():
        make_flow(db.session, {"kind": "role", "role": "财务"})
        db.session.get(User, user_id(db.session, "fin1")).mobile = "13900000002"
        request = submit()
        approvals.withdraw(db.session, request.id, actor=actor(db.session, "rep"), now=NOW)
        assert db.session.scalar(select(func.count(Outbox.id))) == 0
        settings.put(db.session, "approval_sms", True)
        request = submit()
        approvals.approve(db.session, request.id, actor=actor(db.session, "fin1"), now=NOW)
        db.session.commit()
        sent = db.session.execute(select(Outbox.to_address, Outbox.body).order_by(Outbox.id)).all()
        assert sent == [("13900000002", "【审批】测试单 1 等待您审批，请登录系统处理。"),
                        ("13800000001", "【审批】测试单 1 已通过。")], "fin2 has no mobile: no SMS"


# --- at the same instant (PostgreSQL: real concurrency) --------------------------------------------

def _postgres_only(app) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite serialises writers; the race is shown on PostgreSQL")


def test_two_approvers_racing_on_one_step_give_exactly_one_decision(team):
    _postgres_only(team)
    with team.app_context():
        make_flow(db.session, {"kind": "role", "role": "财务"})
        request_id = submit().id
        db.session.commit()

    def decide(who: str):
        return lambda s: approvals.approve(s, request_id, actor=actor(s, who), now=NOW)

    results = run_at_once(team, [decide("fin1"), decide("fin2")])
    assert sorted(r == "ok" for r in results) == [False, True], results
    loser = next(r for r in results if r != "ok")
    assert "已被他人处理" in loser or "已通过" in loser  # at the same instant, or just after
    with team.app_context():
        assert db.session.scalar(select(func.count(ApprovalEvent.id)).where(
            ApprovalEvent.request_id == request_id, ApprovalEvent.action == "approve")) == 1
        assert doc_state(db.session, 1)["approved"] == 1, "on_approved ran once"
        assert sorted(tasks(request_id).values()) == ["approved", "skipped"]


def test_the_approver_whose_task_a_colleague_just_decided_is_told_so(team):
    """The window the race above can fall into: fin2 read the request while it was pending, fin1's
    decision commits, then fin2 decides. fin2 hears it was just handled, not "not your step"."""
    _postgres_only(team)
    with team.app_context():
        make_flow(db.session, {"kind": "role", "role": "财务"})
        request_id = submit().id
        db.session.commit()
        with Session(db.engine) as late:
            seen = late.get(ApprovalRequest, request_id)
            assert seen.status == ApprovalStatus.PENDING
            approvals.approve(db.session, request_id, actor=actor(db.session, "fin1"), now=NOW)
            db.session.commit()
            with pytest.raises(AlreadyDecided, match="已被他人处理"):
                approvals._claim_task(late, seen, actor(late, "fin2"), TaskStatus.APPROVED, now=NOW, comment=None)


def test_a_withdrawal_and_a_decision_at_the_same_instant_give_one_outcome(team):
    _postgres_only(team)
    with team.app_context():
        make_flow(db.session, {"kind": "role", "role": "财务"})
        request_id = submit().id
        db.session.commit()
    results = run_at_once(team, [
        lambda s: approvals.withdraw(s, request_id, actor=actor(s, "rep"), now=NOW),
        lambda s: approvals.reject(s, request_id, actor=actor(s, "fin1"), now=NOW, reason="不行")])
    assert results.count("ok") == 1, results
    with team.app_context():
        request = db.session.get(ApprovalRequest, request_id)
        assert request.status in (ApprovalStatus.WITHDRAWN, ApprovalStatus.REJECTED)
        assert len(events(request_id)) == 2


def test_countersigners_at_the_same_instant_never_lose_an_approval(team):
    """会签: both approve at once. Either both decisions count, or the later one is told to retry
    (and its retry completes the step): never two approvals with the request still waiting."""
    _postgres_only(team)
    with team.app_context():
        make_flow(db.session, {"kind": "users", "users": ["fin1", "fin2"], "mode": "all"})
        request_id = submit().id
        db.session.commit()

    def decide(who: str):
        return lambda s: approvals.approve(s, request_id, actor=actor(s, who), now=NOW)

    results = run_at_once(team, [decide("fin1"), decide("fin2")])
    assert "ok" in results, results
    with team.app_context():
        for who, result in zip(("fin1", "fin2"), results):
            if result != "ok":
                assert "已被他人处理" in result, result
                assert db.session.get(ApprovalRequest, request_id).status == ApprovalStatus.PENDING
                approvals.approve(db.session, request_id, actor=actor(db.session, who), now=NOW)
                db.session.commit()
        assert db.session.get(ApprovalRequest, request_id).status == ApprovalStatus.APPROVED
        assert tasks(request_id) == {"0:fin1": "approved", "0:fin2": "approved"}
        assert doc_state(db.session, 1)["approved"] == 1
