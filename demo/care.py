"""Demo 客户关怀 and 回访: greetings and after-sale visits already made, two planned ones (one
overdue), a few birthdays in the coming days for 待关怀, and satisfaction surveys on the resolved
demo tickets (answered by SMS, entered by an agent, still waiting). Runs after the tickets
(demo/service.py); without resolved tickets it makes no surveys."""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Customer, User
from models.care import CareRecord, SatisfactionSurvey
from models.service import Ticket
from rules import care, satisfaction
from rules.actor import Actor
from rules.clock import local_date

TZ = "Asia/Shanghai"
# (kind, channel, content, days ago (None: planned), planned in days)
DEMO_CARE = [
    ("holiday", "wechat", "中秋节微信问候，客户回复感谢，顺便问了新款净水器的价格。", 60, None),
    ("holiday", "phone", "国庆前电话问候，提醒假期期间售后电话照常。", 55, None),
    ("birthday", "phone", "生日当天电话祝福，客户很高兴，约了下月拜访。", 20, None),
    ("after_sale", "visit", "上门回访：滤芯已用五个月，水质正常，建议下月更换。", 12, None),
    ("after_sale", "phone", "安装一周后电话回访，客户对安装师傅评价很好。", 6, None),
    ("other", "wechat", "发送了冬季设备保养小贴士。", 3, None),
    ("after_sale", "visit", "上门检查饮水机制冷效果", None, -2),
    ("after_sale", "phone", "滤芯到期提醒，确认是否需要上门更换", None, 3),
]
# (score, comment, how) for the resolved demo tickets, in order; how: sms / agent / wait
DEMO_SURVEYS = [
    (5, "师傅很专业，一次就修好了", "sms"),
    (4, "响应及时，就是配件等了两天", "agent"),
    (2, "来回跑了三次才解决", "sms"),
    (None, None, "wait"),
    (5, None, "agent"),
]


def seed_care(session: Session, users: dict[str, User], *, now: datetime) -> None:
    """Idempotent: does nothing once any care record exists."""
    if session.scalar(select(func.count(CareRecord.id))):
        return
    today = local_date(now, TZ)
    reps = [users[name] for name in ("chenxm", "liufang", "sunwei") if name in users]
    owned = {rep.id: list(session.scalars(select(Customer).where(
        Customer.owner_id == rep.id, Customer.deleted_at.is_(None)).order_by(Customer.id).limit(10))) for rep in reps}
    for i, (kind, channel, content, ago, planned) in enumerate(DEMO_CARE):
        rep = reps[i % len(reps)]
        if not owned[rep.id]:
            continue
        customer = owned[rep.id][(i // len(reps)) % len(owned[rep.id])]
        record = CareRecord(customer_id=customer.id, kind=kind, channel=channel, content=content,
                            planned_for=today + timedelta(days=planned) if planned is not None else None,
                            at=now - timedelta(days=ago) if ago is not None else None, created_at=now, done=False)
        session.add(record)
        care.check(session, record, actor=Actor.from_user(rep, today=today), now=now)
    _birthdays_ahead(session, reps, today)
    _surveys(session, users, now)
    session.flush()


def _birthdays_ahead(session: Session, reps: list[User], today: date) -> None:
    """Three of the salespeople's customers have a birthday in the next days (待关怀 shows them)."""
    for days, rep in zip((0, 2, 5), reps):
        customer = session.scalar(select(Customer).where(Customer.owner_id == rep.id, Customer.deleted_at.is_(None))
                                  .order_by(Customer.id.desc()).limit(1))
        if customer is not None:
            day = today + timedelta(days=days)
            customer.birthday = date(1975 + days, day.month, min(day.day, 28))


def _surveys(session: Session, users: dict[str, User], now: datetime) -> None:
    agent = next((u for u in users.values() if u.role is not None and u.role.data_scope == "all"
                  and "service.handle" in (u.role.permissions or [])), None)
    tickets = session.scalars(select(Ticket).where(Ticket.status_category.in_(satisfaction.DONE_CATEGORIES),
                                                   Ticket.resolved_at.is_not(None))
                              .order_by(Ticket.resolved_at.desc(), Ticket.id).limit(len(DEMO_SURVEYS)))
    for ticket, (score, comment, how) in zip(list(tickets), DEMO_SURVEYS):
        survey = satisfaction.ensure_survey(session, ticket, ticket.resolved_at)
        if session.get(SatisfactionSurvey, survey.id).answered_at is not None:
            continue
        # The link as the job would have sent it (its token is thrown away: only the hash stays).
        token = secrets.token_urlsafe(satisfaction.TOKEN_BYTES)
        survey.token_hash, survey.sent_at, survey.sends = satisfaction.hash_token(token), ticket.resolved_at, 1
        survey.expires_at = ticket.resolved_at + timedelta(days=7)
        session.flush()
        when = min(now, ticket.resolved_at + timedelta(hours=3))  # answered soon after the SMS
        if how == "sms":
            satisfaction.answer(session, token, score=score, comment=comment, now=when)
        elif how == "agent" and agent is not None:
            satisfaction.record_by_agent(session, ticket.id, score=score, comment=comment,
                                         actor=Actor.from_user(agent), now=when)
