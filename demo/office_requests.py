"""Demo 工作请示 / 申请: a week of leave, trips, expense claims and requests around the demo's
day, through the same rules and approval flows as the pages (some waiting for a decision, some
approved, one rejected, one draft), so 我的审批, 待我审批 and 工作请示 show something."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import DictItem, OfficeRequest, User
from models.dictionary import DictKind
from rules import approvals, office_requests
from rules.actor import Actor
from rules.clock import local_date
from rules.office_requests import ExpenseLine, RequestInput

TZ = "Asia/Shanghai"


def _leave(kind: str, start: date, start_half: str, end: date, end_half: str, why: str) -> dict:
    return {"leave_type": kind, "start_day": start.isoformat(), "start_half": start_half,
            "end_day": end.isoformat(), "end_half": end_half, "content": why}


def _plan(today: date) -> list[tuple[str, str, dict, int, list[tuple[str, str]]]]:
    """(submitter, kind, values, days ago written, decisions in turn: (approve|reject, comment)).
    No decisions and days ago < 0: left as a draft."""
    monday = today - timedelta(days=today.weekday())
    return [
        ("liufang", "leave", _leave("病假", monday - timedelta(days=6), "am", monday - timedelta(days=6), "pm",
                                    "发烧就医，附医院证明。"), 7, [("approve", "好好休息")]),
        ("zhaozg", "leave", _leave("调休", monday - timedelta(days=3), "am", monday - timedelta(days=3), "pm",
                                   "上周六加班参加展会，申请调休一天。"), 5, [("approve", "")]),
        ("sunwei", "leave", _leave("事假", today + timedelta(days=1), "am", today + timedelta(days=2), "pm",
                                   "家中有事。"), 2, [("reject", "月底冲刺，请改到下月初")]),
        ("chenxm", "leave", _leave("年假", monday + timedelta(days=10), "am", monday + timedelta(days=11), "pm",
                                   "年假两天，客户工作已交接给刘芳。"), 1, []),
        ("sunwei", "trip", {"destination": "广州 天河区", "start_day": (monday + timedelta(days=8)).isoformat(),
                            "start_half": "am", "end_day": (monday + timedelta(days=10)).isoformat(),
                            "end_half": "pm", "content": "拜访华南区三家重点客户，洽谈明年框架协议。"}, 1, []),
        ("chenxm", "expense", {"title": "十一月客户拜访差旅费", "content": "苏州、无锡客户拜访", "lines": [
            ExpenseLine((today - timedelta(days=9)).isoformat(), "交通", "186.50", "高铁 上海—苏州往返"),
            ExpenseLine((today - timedelta(days=9)).isoformat(), "餐饮", "96.00", "午餐"),
            ExpenseLine((today - timedelta(days=8)).isoformat(), "住宿", "420.00", "无锡 一晚")]},
         3, [("approve", "情况属实")]),
        ("lizg", "general", {"title": "申请增加十二月展会预算", "content":
                             "十二月上海工业展，销售一部计划增设一个标准展位，预计费用 ¥18,000，"
                             "请领导审批。"}, 1, []),
        ("liufang", "trip", {"destination": "杭州", "start_day": (monday + timedelta(days=15)).isoformat(),
                             "start_half": "am", "end_day": (monday + timedelta(days=15)).isoformat(),
                             "end_half": "pm", "content": "陪同技术部给客户做现场演示。"}, -1, []),
    ]


def seed_office_requests(session: Session, users: dict[str, User], *, now: datetime) -> None:
    """Idempotent: does nothing once any request exists."""
    if session.scalar(select(func.count(OfficeRequest.id))):
        return
    leave_types = {item.name: item.id for item in session.scalars(
        select(DictItem).where(DictItem.kind == DictKind.LEAVE_TYPE.value))}
    for username, kind, values, days_ago, decisions in _plan(local_date(now, TZ)):
        who = Actor.from_user(users[username])
        written = now - timedelta(days=max(days_ago, 0), hours=3)
        values = dict(values)
        if "leave_type" in values:
            values["leave_type_id"] = str(leave_types[values.pop("leave_type")])
        req = office_requests.create(session, kind, RequestInput(**values), actor=who, now=written, tz=TZ)
        if days_ago < 0:
            continue
        office_requests.submit(session, req.id, actor=who, now=written)
        for move, comment in decisions:
            running = approvals.current(session, office_requests.doc_type(kind), req.id)
            if running is None:
                break
            approver = next(t.approver for t in running.tasks
                            if t.step_index == running.step_index and t.status == "waiting")
            decider = Actor.from_user(approver)
            at = written + timedelta(hours=5)
            if move == "approve":
                approvals.approve(session, running.id, actor=decider, now=at, comment=comment or None)
            else:
                approvals.reject(session, running.id, actor=decider, now=at, reason=comment)
    session.flush()
