"""Demo SLA settings: the firm's working week and China's holidays, targets for the four
priorities (and a stricter one for complaints), the 客服部 staff and two service groups,
售后一组 (by turns) and 投诉组 (fewest open tickets). Runs before the demo tickets
(demo/service.py), so they get due times and assignees."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import DictItem, DictKind, Role, ServiceTeam, ServiceTeamMember, SlaPolicy, User
from models.service import AssignMode
from rules import org, working_calendar
from rules.clock import local_date

# (username, name, role); all in 客服部 under the manager 孙丽
SERVICE_STAFF = [
    ("sunli", "孙丽", "客服主管"),
    ("wangkf", "王芳", "客服"),
    ("liukf", "刘洋", "客服"),
    ("zhangkf", "张静", "客服"),
]
# priority → (first response, resolution) in working minutes
TARGETS = {"urgent": (30, 240), "high": (60, 480), "normal": (120, 960), "low": (240, 2400)}
COMPLAINT_HIGH = (30, 360)  # a complaint of high priority: answered within half an hour


def seed_sla(session: Session, users: dict[str, User], *, now: datetime) -> None:
    """Idempotent: adds what is missing (staff, policies, groups) and leaves the rest."""
    from demo import DEMO_PASSWORD  # the package imports this module first

    working_calendar.ensure_defaults(session)
    year = local_date(now, working_calendar.DEFAULT_TZ).year
    for y in (year, year + 1):
        if not working_calendar.days_of_year(session, y):
            working_calendar.import_official(session, y)  # a year the package does not know stays empty
    dept = org.ensure_department_path(session, ["客服部"])
    for username, name, role in SERVICE_STAFF:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = org.create_user(session, username=username, password=DEMO_PASSWORD, display_name=name,
                                   role=session.scalar(select(Role).where(Role.name == role)), department=dept,
                                   superior=users.get("sunli") if username != "sunli" else users.get("zhangzong"),
                                   mobile=f"1390013{len(users):04d}", email=f"{username}@demo.kechi.local")
        users[username] = user
    if not session.scalar(select(func.count(SlaPolicy.id))):
        for priority, (first, resolve) in TARGETS.items():
            session.add(SlaPolicy(priority=priority, first_response_minutes=first, resolution_minutes=resolve))
        complaint = session.scalar(select(DictItem).where(DictItem.kind == DictKind.TICKET_TYPE.value,
                                                          DictItem.name == "投诉"))
        if complaint is not None:
            session.add(SlaPolicy(priority="high", type_id=complaint.id, first_response_minutes=COMPLAINT_HIGH[0],
                                  resolution_minutes=COMPLAINT_HIGH[1]))
    if not session.scalar(select(func.count(ServiceTeam.id))):
        after_sale = ServiceTeam(name="售后一组", leader_id=users["sunli"].id, assign_mode=AssignMode.ROUND_ROBIN)
        after_sale.members = [ServiceTeamMember(user_id=users[u].id, away=(u == "zhangkf"))
                              for u in ("wangkf", "liukf", "zhangkf")]
        complaints = ServiceTeam(name="投诉组", leader_id=users["sunli"].id, assign_mode=AssignMode.LEAST_OPEN)
        complaints.members = [ServiceTeamMember(user_id=users[u].id) for u in ("sunli", "wangkf")]
        session.add_all([after_sale, complaints])
    session.flush()
