"""销售自动化方案 (SFA): a plan repeats every N days per customer — an SMS to the customer or a
reminder to the salesperson — and can be started for one customer or a batch, paused and resumed."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.customer import Customer
from models.messaging import SfaEnrollment, SfaPlan
from rules import messaging, normalize, notifications
from rules.actor import Actor
from rules.errors import InvalidValue
from rules.links import ListKind, RecordLink

ACTIONS = {"sms": _l("给客户发短信"), "remind": _l("提醒业务员")}


def check_plan(plan: SfaPlan) -> None:
    plan.name = normalize.text(plan.name)
    if not plan.name:
        raise InvalidValue(_l("请填写方案名称"))
    if plan.action not in ACTIONS:
        raise InvalidValue(_l("请选择方案动作"))
    if not plan.interval_days or plan.interval_days < 1:
        raise InvalidValue(_l("间隔天数至少为 1"))
    if plan.action == "sms" and plan.template_id is None and plan.template is None:
        raise InvalidValue(_l("发短信的方案需要选择短信模板"))
    if plan.action == "remind" and not normalize.text(plan.remind_text):
        raise InvalidValue(_l("请填写提醒内容"))


def enroll(session: Session, plan: SfaPlan, customers: list[Customer], *, actor: Actor, today: date,
           start_on: date | None = None) -> int:
    """Start the plan for these customers (the first step on `start_on`, default today);
    customers already on the plan are resumed instead of added twice."""
    if not plan.active:
        raise InvalidValue(_l("方案已停用"))
    first = start_on or today
    if first < today:
        raise InvalidValue(_l("开始日期不能早于今天"))
    existing = {e.customer_id: e for e in session.scalars(select(SfaEnrollment).where(
        SfaEnrollment.plan_id == plan.id, SfaEnrollment.customer_id.in_([c.id for c in customers])))}
    added = 0
    for customer in customers:
        enrollment = existing.get(customer.id)
        if enrollment is None:
            session.add(SfaEnrollment(plan_id=plan.id, customer_id=customer.id, next_run_on=first,
                                      started_by_id=actor.user_id))
            added += 1
        elif enrollment.paused:
            enrollment.paused = False
            enrollment.next_run_on = max(enrollment.next_run_on, first)
    session.flush()
    return added


def set_paused(session: Session, enrollments: list[SfaEnrollment], *, paused: bool, today: date) -> int:
    changed = 0
    for e in enrollments:
        if e.paused != paused:
            e.paused = paused
            if not paused and e.next_run_on < today:
                e.next_run_on = today  # resuming does not fire the missed steps all at once
            changed += 1
    session.flush()
    return changed


def run_due(session: Session, *, now: datetime, today: date) -> list[int | None]:
    """Take every due step once. Returns the batch id of each SMS step (None for reminders)."""
    due = list(session.scalars(select(SfaEnrollment).join(SfaPlan).join(Customer, SfaEnrollment.customer_id == Customer.id)
                               .where(SfaEnrollment.paused.is_(False), SfaPlan.active.is_(True),
                                      SfaEnrollment.next_run_on <= today, Customer.deleted_at.is_(None))
                               .order_by(SfaEnrollment.id)))
    done: list[int | None] = []
    for e in due:
        step_day = e.next_run_on
        moved = session.execute(update(SfaEnrollment).where(
            SfaEnrollment.id == e.id, SfaEnrollment.next_run_on == step_day, SfaEnrollment.paused.is_(False))
            .values(next_run_on=today + timedelta(days=e.plan.interval_days), runs=SfaEnrollment.runs + 1)
            .execution_options(synchronize_session=False))
        if moved.rowcount != 1:
            continue
        customer, plan = e.customer, e.plan
        if plan.action == "remind":
            if customer.owner_id:
                notifications.notify(session, user_id=customer.owner_id, now=now,
                                     title=_l("销售自动化：%(text)s（%(c)s）", text=plan.remind_text, c=customer.name),
                                     link=RecordLink(ListKind.CUSTOMER, customer.id),
                                     dedupe_key=f"sfa:{e.id}:{step_day.isoformat()}")
            done.append(None)
            continue
        template = plan.template
        if template is None or not template.active:
            continue
        try:
            messaging.check_text(session, template.body, template.subject)
        except InvalidValue:  # the template names a placeholder that no longer exists: skip the step
            continue
        recipients = messaging.collect(session, [customer], channel=template.channel)
        if not recipients.send:
            continue
        batch = messaging.queue_messages(session, recipients.send, channel=template.channel, body=template.body,
                                         subject=template.subject, sender=None, now=now,
                                         title=f"{plan.name} · {customer.name}", template_id=template.id,
                                         respect_quiet_hours=True, source="sfa", owner_as_sender=True,
                                         key=lambda r: f"sfa:{e.id}:{step_day.isoformat()}:{r.address}")
        done.append(batch.id)
    session.flush()
    return done
