"""工作请示 / 申请 through the real approval mechanism (rules/approvals.py): each kind submitted,
approved or rejected or withdrawn by the approvers its default flow names, the request's status
following; leave days in half days (weekends not counted; a trip counts them); a person's
overlapping leave refused; the data scope of a request."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from approval_fake import actor, user_id
from conftest import FIXED_NOW
from models import ApprovalFlow, ApprovalRequest, ApprovalStatus, DictItem, OfficeRequest, db
from models.office_request import DayHalf, RequestKind, RequestState
from rules import approvals, office_requests, scope
from rules.errors import InvalidValue, OutOfScope, RuleViolation
from rules.office_requests import ExpenseLine, LeaveOverlaps, RequestInput

TZ = "Asia/Shanghai"
AM, PM = DayHalf.AM, DayHalf.PM
MON = date(2026, 11, 23)  # the fixed clock's Monday


def day(n: int) -> date:
    return date.fromordinal(MON.toordinal() + n)


@pytest.mark.parametrize(("kind", "start", "start_half", "end", "end_half", "days"), [
    (RequestKind.LEAVE, day(0), AM, day(0), PM, "1"),
    (RequestKind.LEAVE, day(0), AM, day(0), AM, "0.5"),
    (RequestKind.LEAVE, day(0), PM, day(1), AM, "1"),
    (RequestKind.LEAVE, day(0), AM, day(4), PM, "5"),
    (RequestKind.LEAVE, day(4), PM, day(7), AM, "1"),    # 周五下午 to 下周一上午: the weekend is not leave
    (RequestKind.LEAVE, day(0), AM, day(13), PM, "10"),  # two working weeks
    (RequestKind.TRIP, day(4), PM, day(7), AM, "3"),     # a trip counts Saturday and Sunday
    (RequestKind.TRIP, day(5), AM, day(6), PM, "2"),
])
def test_days_count_half_days_and_a_leave_skips_the_weekend(kind, start, start_half, end, end_half, days):
    assert office_requests.span_days(kind, start, start_half, end, end_half) == Decimal(days)


@pytest.mark.parametrize(("start", "start_half", "end", "end_half", "message"), [
    (day(0), PM, day(0), AM, "结束时间不能早于开始时间"),
    (day(1), AM, day(0), PM, "结束时间不能早于开始时间"),
    (day(5), AM, day(6), PM, "所选时间都在周末，不需要请假"),
])
def test_impossible_leave_times_are_refused(start, start_half, end, end_half, message):
    with pytest.raises(InvalidValue, match=message):
        office_requests.span_days(RequestKind.LEAVE, start, start_half, end, end_half)


@pytest.fixture
def office(app, make_user):
    make_user("boss", role="经理", department=("销售部",), display_name="王经理")
    make_user("lead", role="主管", superior="boss", display_name="李主管")
    make_user("rep", superior="lead", display_name="张三")
    make_user("peer", superior="lead", display_name="同组小赵")
    make_user("rep2", department=("销售部", "销售二部"), display_name="二部小钱")
    make_user("fin", role="财务", department=("财务部",), display_name="钱会计")
    return app


def leave_type(session, name="年假") -> int:
    return session.scalar(select(DictItem.id).where(DictItem.kind == "leave_type", DictItem.name == name))


def leave_input(session, start: date, start_half=AM, end: date | None = None, end_half=PM, kind="年假"):
    return RequestInput(leave_type_id=str(leave_type(session, kind)), start_day=start.isoformat(),
                        start_half=start_half.value, end_day=(end or start).isoformat(), end_half=end_half.value,
                        content="家中有事")


def inputs(session) -> dict[RequestKind, RequestInput]:
    return {
        RequestKind.GENERAL: RequestInput(title="申请采购演示样机", content="客户需要现场演示，申请采购两台样机。"),
        RequestKind.LEAVE: leave_input(session, day(1), AM, day(2), PM),
        RequestKind.TRIP: RequestInput(destination="上海", start_day=day(2).isoformat(), start_half="am",
                                       end_day=day(4).isoformat(), end_half="pm", content="拜访华东客户"),
        RequestKind.EXPENSE: RequestInput(lines=[
            ExpenseLine(day="2026-11-20", category="交通", amount="35.50", note="打车"),
            ExpenseLine(),
            ExpenseLine(day="2026-11-21", category="住宿", amount="1,200"),
        ]),
    }


def create(session, username: str, kind: RequestKind, data: RequestInput) -> OfficeRequest:
    return office_requests.create(session, kind.value, data, actor=actor(session, username), now=FIXED_NOW, tz=TZ)


def submit(session, username: str, request_id: int) -> OfficeRequest:
    return office_requests.submit(session, request_id, actor=actor(session, username), now=FIXED_NOW)


def approve_through(session, req: OfficeRequest) -> list[str]:
    """Every waiting approver approves in turn, as on 我的审批; who decided, in order."""
    decided = []
    found = approvals.latest(session, office_requests.doc_type(req.kind), req.id)
    while found.status == ApprovalStatus.PENDING:
        task = next(t for t in found.tasks if t.step_index == found.step_index and t.status == "waiting")
        approver = task.approver.username
        approvals.approve(session, found.id, actor=actor(session, approver), now=FIXED_NOW)
        decided.append(approver)
        session.refresh(found)
    return decided


@pytest.mark.both_dbs
def test_each_kind_goes_through_its_flow_and_is_approved(office):
    with office.app_context():
        session = db.session
        flows = {f.doc_type: [s.name for s in f.steps] for f in session.scalars(select(ApprovalFlow))}
        assert flows["office_leave"] == ["上级审批", "部门负责人审批"]
        assert flows["office_expense"] == ["上级审批", "财务审核"]
        for kind, data in inputs(session).items():
            req = create(session, "rep", kind, data)
            assert req.status == RequestState.DRAFT and req.number.startswith("SQ2026")
            submit(session, "rep", req.id)
            assert req.status == RequestState.PENDING
            running = approvals.current(session, office_requests.doc_type(kind), req.id)
            assert running is not None and running.submitter_id == user_id(session, "rep")
            decided = approve_through(session, req)
            session.refresh(req)
            assert req.status == RequestState.APPROVED, kind
            assert decided[0] == "lead", "the submitter's 上级 decides first"
            if kind is RequestKind.EXPENSE:
                assert decided == ["lead", "fin"] and req.amount == Decimal("1235.50")
                assert [line["amount"] for line in req.lines] == ["35.50", "1200.00"]
            if kind is RequestKind.LEAVE:
                assert req.days == Decimal("2") and req.title == "年假 2 天"
        session.commit()


@pytest.mark.both_dbs
def test_rejected_and_withdrawn_requests_go_back_to_the_submitter(office):
    with office.app_context():
        session = db.session
        req = create(session, "rep", RequestKind.TRIP, inputs(session)[RequestKind.TRIP])
        submit(session, "rep", req.id)
        running = approvals.current(session, "office_trip", req.id)
        with pytest.raises(RuleViolation, match="不能审批自己提交的单据|不是"):
            approvals.approve(session, running.id, actor=actor(session, "rep"), now=FIXED_NOW)
        approvals.reject(session, running.id, actor=actor(session, "lead"), now=FIXED_NOW, reason="时间冲突")
        session.refresh(req)
        assert req.status == RequestState.REJECTED
        assert office_requests.may_edit(req, actor(session, "rep"))
        changed = inputs(session)[RequestKind.TRIP]
        changed.destination = "杭州"
        office_requests.update_draft(session, req, changed, actor=actor(session, "rep"), now=FIXED_NOW, tz=TZ)
        submit(session, "rep", req.id)
        assert req.status == RequestState.PENDING and "杭州" in approvals.current(session, "office_trip", req.id).title
        approvals.withdraw(session, approvals.current(session, "office_trip", req.id).id,
                           actor=actor(session, "rep"), now=FIXED_NOW)
        session.refresh(req)
        assert req.status == RequestState.WITHDRAWN
        with pytest.raises(RuleViolation, match="只有申请人可以提交申请"):
            submit(session, "lead", req.id)
        submit(session, "rep", req.id)
        with pytest.raises(RuleViolation, match="当前为“审批中”，不能修改"):
            office_requests.update_draft(session, req, changed, actor=actor(session, "rep"), now=FIXED_NOW, tz=TZ)
        with pytest.raises(RuleViolation, match="当前为“审批中”，不能提交审批"):
            submit(session, "rep", req.id)


@pytest.mark.both_dbs
def test_overlapping_leave_of_the_same_person_is_refused(office):
    with office.app_context():
        session = db.session
        first = create(session, "rep", RequestKind.LEAVE, leave_input(session, day(1), AM, day(2), AM))
        submit(session, "rep", first.id)
        clash = create(session, "rep", RequestKind.LEAVE, leave_input(session, day(0), PM, day(1), PM, kind="事假"))
        session.commit()
        with pytest.raises(LeaveOverlaps, match=f"与已有的请假申请 {first.number}（2026-11-24 上午 至 2026-11-25 上午，审批中）"):
            submit(session, "rep", clash.id)
        session.rollback()
        # the clash stays a draft, the first one untouched
        session.refresh(clash)
        assert clash.status == RequestState.DRAFT
        touching = create(session, "rep", RequestKind.LEAVE, leave_input(session, day(2), PM, day(2), PM))
        submit(session, "rep", touching.id)
        assert touching.status == RequestState.PENDING, "the afternoon after a morning's leave does not overlap"
        other_person = create(session, "peer", RequestKind.LEAVE, leave_input(session, day(1), AM, day(2), PM))
        submit(session, "peer", other_person.id)
        assert other_person.status == RequestState.PENDING
        approvals.reject(session, approvals.current(session, "office_leave", first.id).id,
                         actor=actor(session, "lead"), now=FIXED_NOW, reason="项目上线，请改期")
        submit(session, "rep", clash.id)
        assert clash.status == RequestState.PENDING, "a rejected leave holds no days"


def test_bad_input_is_refused_with_a_clear_message(office):
    with office.app_context():
        session = db.session
        cases = [
            (RequestKind.GENERAL, RequestInput(content="内容"), "请填写请示标题"),
            (RequestKind.GENERAL, RequestInput(title="标题"), "请填写请示内容"),
            (RequestKind.LEAVE, RequestInput(start_day="2026-11-24", end_day="2026-11-24"), "请选择请假类型"),
            (RequestKind.LEAVE, RequestInput(leave_type_id=str(leave_type(session)), start_day="11月24日",
                                             end_day="2026-11-24"), "开始日期“11月24日”不是有效的日期"),
            (RequestKind.TRIP, RequestInput(start_day="2026-11-24", end_day="2026-11-25", content="x"),
             "请填写出差地点"),
            (RequestKind.EXPENSE, RequestInput(lines=[ExpenseLine()]), "请至少填写一条费用明细"),
            (RequestKind.EXPENSE, RequestInput(lines=[ExpenseLine(day="2026-11-20", category="餐饮", amount="abc")]),
             "第1条明细的金额“abc”不是有效的数字"),
            (RequestKind.EXPENSE, RequestInput(lines=[ExpenseLine(day="2026-11-20", category="餐饮", amount="-5")]),
             "第1条明细的金额必须大于 0"),
            (RequestKind.EXPENSE, RequestInput(lines=[ExpenseLine(day="2026-12-20", category="餐饮", amount="5")]),
             "第1条明细的日期不能晚于今天"),
        ]
        for kind, data, message in cases:
            with pytest.raises(InvalidValue, match=message):
                create(session, "rep", kind, data)
        assert session.scalar(select(OfficeRequest.id)) is None


@pytest.mark.both_dbs
def test_a_kind_whose_flow_is_switched_off_is_approved_at_once(office):
    with office.app_context():
        session = db.session
        flow = approvals.flow_for(session, "office_general")
        flow.enabled = False
        req = create(session, "rep", RequestKind.GENERAL, inputs(session)[RequestKind.GENERAL])
        submit(session, "rep", req.id)
        assert req.status == RequestState.APPROVED
        assert session.scalar(select(ApprovalRequest.id)) is None


@pytest.mark.both_dbs
def test_scope_of_a_request(office, make_user):
    make_user("outsider", department=("财务部",), superior="fin", display_name="外部门")
    with office.app_context():
        session = db.session
        req = create(session, "rep", RequestKind.LEAVE, inputs(session)[RequestKind.LEAVE])
        submit(session, "rep", req.id)
        # A flow naming someone outside the team: they see the request they decide on.
        flow = approvals.flow_for(session, "office_general")
        flow.steps[0].kind, flow.steps[0].user_ids = "users", [user_id(session, "rep2")]
        general = create(session, "peer", RequestKind.GENERAL, inputs(session)[RequestKind.GENERAL])
        submit(session, "peer", general.id)
        session.commit()
        expected = {  # who sees rep's leave, who sees peer's request
            "rep": (True, False),      # one's own; not a colleague's (数据范围: 本人)
            "peer": (False, True),
            "lead": (True, True),      # 主管: his department; and the leave's first approver
            "boss": (True, True),      # 经理: the department tree; the leave's second approver
            "rep2": (False, True),     # another department, but the approver of peer's request
            "fin": (True, True),       # 财务: 全公司
            "outsider": (False, False),
        }
        for username, (sees_leave, sees_general) in expected.items():
            who = actor(session, username)
            for record, sees in ((req, sees_leave), (general, sees_general)):
                if sees:
                    assert scope.get_in_scope(session, OfficeRequest, record.id, who).id == record.id, username
                else:
                    with pytest.raises(OutOfScope):
                        scope.get_in_scope(session, OfficeRequest, record.id, who)


@pytest.mark.parametrize("kind", list(RequestKind))
def test_each_kind_rejected_goes_back_rejected(office, kind):
    with office.app_context():
        session = db.session
        req = create(session, "rep", kind, inputs(session)[kind])
        submit(session, "rep", req.id)
        running = approvals.current(session, office_requests.doc_type(kind), req.id)
        approvals.reject(session, running.id, actor=actor(session, "lead"), now=FIXED_NOW, reason="请补充说明")
        session.refresh(req)
        assert req.status == RequestState.REJECTED and req.decided_at == FIXED_NOW
        assert approvals.latest(session, office_requests.doc_type(kind), req.id).status == ApprovalStatus.REJECTED
