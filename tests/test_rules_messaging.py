"""短信中心 rules: placeholders, segments, safe email HTML, recipients and skips, the outbox
state machine, and birthday / holiday / SFA schedules on a moved clock."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from jobs import messaging as jobs
from models import Contact, Customer, CustomField, FollowUp, Notification, User, db
from models.messaging import HolidayGreeting, MessageTemplate, Outbox, SfaEnrollment, SfaPlan
from rules import clock as process_clock
from rules import messaging, sfa
from rules.actor import Actor
from rules.errors import InvalidValue


def at(year, month, day, hour, minute=0) -> datetime:
    """A Beijing wall-clock time as UTC."""
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc)


def set_clock(moment: datetime) -> None:
    process_clock.pin(moment)


def person(owner_id: int, name: str, *, mobile: str | None = None, birthday: date | None = None,
           gender: str | None = None, email: str | None = None, **extra) -> int:
    customer = Customer(name=name, kind="person", owner_id=owner_id, mobile=mobile, birthday=birthday,
                        gender=gender, email=email, **extra)
    db.session.add(customer)
    db.session.commit()
    return customer.id


def template(body: str, *, channel: str = "sms", name: str = "t", subject: str | None = None) -> MessageTemplate:
    t = MessageTemplate(channel=channel, name=name, body=body, subject=subject)
    messaging.check_template(db.session, t)
    db.session.add(t)
    db.session.commit()
    return t


def outbox(**where) -> list[Outbox]:
    return list(db.session.scalars(select(Outbox).filter_by(**where).order_by(Outbox.id)))


# --- templates ---------------------------------------------------------------------------------
def test_placeholders_outside_the_allowed_set_are_refused(app):
    with app.app_context():
        t = MessageTemplate(channel="sms", name="问候", body="{称呼}您好，我是{业务员}，{客户名字}的订单已发货")
        with pytest.raises(InvalidValue) as refused:
            messaging.check_template(db.session, t)
        assert "{客户名字}" in str(refused.value) and "{客户名称}" in str(refused.value)
        # A custom field's label becomes a placeholder as soon as it exists.
        db.session.add(CustomField(entity="customer", key="vip", label="会员等级", field_type="text"))
        db.session.commit()
        messaging.check_template(db.session, MessageTemplate(channel="sms", name="x", body="{会员等级}会员您好"))


def test_values_salutation_and_custom_fields(app, make_user):
    uid = make_user("chenxm", display_name="陈晓明")
    with app.app_context():
        db.session.get(User, uid).mobile = "13800000001"
        db.session.add(CustomField(entity="customer", key="vip", label="会员等级", field_type="text"))
        cid = person(uid, "王芳", mobile="13900000001", gender="female", custom={"vip": "金卡"})
        messaging.save_settings(db.session, {"company_name": "客池科技", "signature": "【客池科技】"})
        customer, sender = db.session.get(Customer, cid), db.session.get(User, uid)
        values = messaging.values_for(db.session, customer, None, sender)
        text = messaging.render_sms("{称呼}您好，{会员等级}会员专享。{业务员} {业务员手机} {公司名称}", values,
                                    messaging.load_settings(db.session))
        assert text == "【客池科技】王女士您好，金卡会员专享。陈晓明 13800000001 客池科技"


def test_sms_segments_70_then_67():
    assert messaging.segments("") == 0
    assert messaging.segments("好" * 70) == 1
    assert messaging.segments("好" * 71) == 2
    assert messaging.segments("好" * 134) == 2
    assert messaging.segments("好" * 135) == 3


def test_email_html_with_a_script_is_rendered_inert(app):
    with app.app_context():
        body = ('<p onclick="steal()">{称呼}您好</p><script>alert(1)</script>'
                '<a href="javascript:alert(2)">点我</a><img src=x onerror="alert(3)"><b>报价见附件</b>')
        subject, html = messaging.render_email("{客户名称}的报价", body,
                                               {"称呼": "<script>alert(4)</script>", "客户名称": "华为"})
        assert subject == "华为的报价"
        assert "<script" not in html and "onclick" not in html and "onerror" not in html
        assert "javascript:" not in html
        assert "&lt;script&gt;alert(4)&lt;/script&gt;您好" in html  # a value cannot inject markup
        assert "<b>报价见附件</b>" in html


# --- recipients --------------------------------------------------------------------------------
def test_recipients_skip_no_mobile_opted_out_and_duplicates(app, make_user):
    uid = make_user("chenxm")
    with app.app_context():
        a = person(uid, "甲", mobile="13900000001")
        b = person(uid, "乙", mobile="139-0000-0001")   # the same number as 甲
        c = person(uid, "丙")                            # no mobile
        d = person(uid, "丁", mobile="13900000004")      # 拒收
        e = person(uid, "戊", mobile="12345")            # not a mobile number
        f = Customer(name="己公司", kind="company", owner_id=uid)  # falls back to its primary contact
        f.contacts = [Contact(name="小李", mobile="13900000006", is_primary=True)]
        db.session.add(f)
        messaging.mark_opt_out(db.session, customer_ids=[d], now=process_clock.now())
        db.session.commit()
        chosen = list(db.session.scalars(select(Customer).where(Customer.id.in_([a, b, c, d, e, f.id]))
                                         .order_by(Customer.id)))
        result = messaging.collect(db.session, chosen, channel="sms")
        assert [(r.name, r.address) for r in result.send] == [("甲", "13900000001"), ("小李", "13900000006")]
        assert result.skipped_by_reason() == {"duplicate": 1, "no_address": 1, "opted_out": 1, "invalid": 1}


# --- the outbox ----------------------------------------------------------------------------------
@pytest.mark.both_dbs
def test_a_message_is_sent_once_however_often_its_job_runs(app, make_user):
    uid = make_user("chenxm", display_name="陈晓明")
    with app.app_context():
        cid = person(uid, "王芳", mobile="13900000001")
        customer, sender = db.session.get(Customer, cid), db.session.get(User, uid)
        recipients = messaging.collect(db.session, [customer], channel="sms")
        batch = messaging.queue_messages(db.session, recipients.send, channel="sms", body="{称呼}您好",
                                         sender=sender, now=process_clock.now(), title="测试")
        db.session.commit()
        row_id = outbox()[0].id
        assert jobs.send_message(row_id) == "sent"
        assert jobs.send_message(row_id) == "sent"
        assert jobs.send_batch(batch.id) == 0
        row = db.session.get(Outbox, row_id)
        assert row.status == "sent" and row.attempts == 1 and row.provider == "log"
        timeline = list(db.session.scalars(select(FollowUp).where(FollowUp.customer_id == cid)))
        assert len(timeline) == 1 and timeline[0].kind == "sms" and "王芳您好" in timeline[0].content


# --- schedules on a moved clock ------------------------------------------------------------------
@pytest.fixture
def greeting_setup(app, make_user):
    uid = make_user("chenxm", display_name="陈晓明")
    with app.app_context():
        people = {
            "today": person(uid, "今天生日", mobile="13900000001", birthday=date(1990, 11, 23)),
            "tomorrow": person(uid, "明天生日", mobile="13900000002", birthday=date(1985, 11, 24)),
            "opted_out": person(uid, "今天生日但拒收", mobile="13900000003", birthday=date(1970, 11, 23)),
            "no_mobile": person(uid, "今天生日没手机", birthday=date(1991, 11, 23)),
            "leap": person(uid, "闰日生日", mobile="13900000005", birthday=date(1996, 2, 29)),
        }
        company = Customer(name="某公司", kind="company", owner_id=uid, mobile="13900000006")
        company.contacts = [Contact(name="联系人今天生日", mobile="13900000007", birthday=date(1980, 11, 23))]
        db.session.add(company)
        messaging.mark_opt_out(db.session, customer_ids=[people["opted_out"]], now=process_clock.now())
        t = template("{称呼}，生日快乐！", name="生日")
        messaging.save_settings(db.session, {"birthday_enabled": True, "birthday_hour": 9,
                                             "birthday_template_id": t.id, "birthday_contacts": True})
        db.session.commit()
    return people


@pytest.mark.both_dbs
def test_birthday_greetings_pick_exactly_todays_birthdays_at_the_configured_hour(app, greeting_setup):
    with app.app_context():
        set_clock(at(2026, 11, 23, 8, 30))
        assert jobs.birthday_greetings() == 0  # before 09:00
        set_clock(at(2026, 11, 23, 9, 5))
        assert jobs.birthday_greetings() == 2
        assert jobs.birthday_greetings() == 0  # the next hourly run adds nobody twice
        sent = outbox(status="sent")
        assert sorted(r.to_name for r in sent) == ["今天生日", "联系人今天生日"]
        assert sorted(r.body for r in sent) == ["今天生日，生日快乐！", "联系人今天生日，生日快乐！"]
        set_clock(at(2027, 2, 28, 10))  # no 29 February in 2027: greeted on the 28th
        assert jobs.birthday_greetings() == 1
        assert outbox()[-1].to_name == "闰日生日"


def test_quiet_hours_hold_scheduled_sms_until_morning(app, greeting_setup):
    with app.app_context():
        messaging.save_settings(db.session, {"birthday_hour": 0, "quiet_start": 21, "quiet_end": 8})
        db.session.commit()
        set_clock(at(2026, 11, 23, 6, 0))  # 06:00, inside quiet hours
        assert jobs.birthday_greetings() == 2
        held = outbox(status="pending")
        assert len(held) == 2 and all(r.scheduled_at == at(2026, 11, 23, 8) for r in held)
        set_clock(at(2026, 11, 23, 7, 59))
        assert jobs.dispatch_pending() == 0
        set_clock(at(2026, 11, 23, 8, 1))
        assert jobs.dispatch_pending() == 2
        assert len(outbox(status="sent")) == 2


@pytest.mark.both_dbs
def test_holiday_greetings_on_the_set_date_only(app, greeting_setup):
    with app.app_context():
        t = template("{称呼}，中秋快乐！", name="中秋")
        db.session.add(HolidayGreeting(name="中秋", on_date=date(2026, 9, 25), template_id=t.id, send_hour=10))
        db.session.commit()
        set_clock(at(2026, 9, 24, 12))
        assert jobs.holiday_greetings() == 0
        set_clock(at(2026, 9, 25, 9, 30))
        assert jobs.holiday_greetings() == 0  # before its hour
        set_clock(at(2026, 9, 25, 10, 10))
        # every customer with a mobile, minus the one who refuses messages
        assert jobs.holiday_greetings() == 4
        assert jobs.holiday_greetings() == 0
        names = sorted(r.to_name for r in outbox())
        assert names == ["今天生日", "明天生日", "某公司", "闰日生日"]


@pytest.mark.both_dbs
def test_sfa_plan_repeats_pauses_and_resumes(app, make_user):
    uid = make_user("chenxm", display_name="陈晓明")
    with app.app_context():
        cid = person(uid, "王芳", mobile="13900000001")
        t = template("{称呼}您好，好久不见", name="回访")
        greet = SfaPlan(name="每30天问候", action="sms", template_id=t.id, interval_days=30)
        remind = SfaPlan(name="每7天提醒", action="remind", remind_text="打个电话", interval_days=7)
        db.session.add_all([greet, remind])
        db.session.commit()
        actor = Actor.from_user(db.session.get(User, uid))
        customer = db.session.get(Customer, cid)
        sfa.enroll(db.session, greet, [customer], actor=actor, today=date(2026, 11, 23))
        sfa.enroll(db.session, remind, [customer], actor=actor, today=date(2026, 11, 23))
        db.session.commit()
        set_clock(at(2026, 11, 23, 10))
        assert jobs.run_sfa() == 2
        assert jobs.run_sfa() == 0
        assert [r.body for r in outbox(status="sent")] == ["王芳您好，好久不见"]
        assert db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == uid)) == 1
        enrollment = db.session.scalar(select(SfaEnrollment).where(SfaEnrollment.plan_id == greet.id))
        assert enrollment.next_run_on == date(2026, 12, 23)
        sfa.set_paused(db.session, [enrollment], paused=True, today=date(2026, 11, 23))
        db.session.commit()
        set_clock(at(2026, 12, 23, 10))
        assert jobs.run_sfa() == 1  # only the reminder; the greeting is paused
        set_clock(at(2027, 1, 5, 10))
        sfa.set_paused(db.session, [enrollment], paused=False, today=date(2027, 1, 5))
        db.session.commit()
        assert jobs.run_sfa() == 2
        assert len(outbox(status="sent")) == 2


def test_per_minute_rate_holds_the_rest_for_the_next_minute(app, make_user):
    uid = make_user("chenxm")
    with app.app_context():
        ids = [person(uid, f"客户{i}", mobile=f"1390000000{i}") for i in range(3)]
        messaging.save_settings(db.session, {"per_minute": 2, "per_day": 5000})
        db.session.commit()
        set_clock(at(2026, 11, 23, 10, 0))
        customers = list(db.session.scalars(select(Customer).where(Customer.id.in_(ids))))
        batch = messaging.queue_messages(db.session, messaging.collect(db.session, customers, channel="sms").send,
                                         channel="sms", body="你好", sender=db.session.get(User, uid),
                                         now=at(2026, 11, 23, 10, 0), title="t")
        db.session.commit()
        assert jobs.send_batch(batch.id) == 2
        held = outbox(status="pending")
        assert len(held) == 1 and held[0].scheduled_at == at(2026, 11, 23, 10, 1)
        set_clock(at(2026, 11, 23, 10, 1))
        assert jobs.dispatch_pending() == 1
        messaging.save_settings(db.session, {"per_minute": 100, "per_day": 3})
        db.session.commit()
        extra = messaging.queue_messages(db.session, messaging.collect(db.session, customers[:1], channel="sms").send,
                                         channel="sms", body="再见", sender=None, now=at(2026, 11, 23, 11), title="t")
        db.session.commit()
        set_clock(at(2026, 11, 23, 11))
        assert jobs.send_batch(extra.id) == 0  # three already went today: tomorrow 00:00 local
        assert outbox(status="pending")[0].scheduled_at == at(2026, 11, 24, 0)


def test_http_provider_signs_the_sorted_fields():
    import hashlib
    import hmac

    from adapters.sms import HttpSmsProvider

    provider = HttpSmsProvider({"secret": "k", "sign_field": "sign"})
    fields = provider._fields({"mobile": "{mobile}", "content": "{content}", "out_id": "{key}"},
                              {"mobile": "13900000001", "content": "你好", "key": "abc", "timestamp": "1"})
    plain = "content=你好&mobile=13900000001&out_id=abc"
    assert fields["sign"] == hmac.new(b"k", plain.encode(), hashlib.sha256).hexdigest()
    md5 = HttpSmsProvider({"secret": "k", "sign_field": "sign", "sign_method": "md5"})._fields(
        {"a": "1"}, {"mobile": "", "content": "", "key": "", "timestamp": ""})
    assert md5["sign"] == hashlib.md5(b"a=1k").hexdigest()


def test_a_message_left_sending_by_a_dead_worker_becomes_unknown_then_can_be_retried(app, make_user):
    """The log provider cannot say whether it got the message: rather than risk a second copy,
    the message is marked 状态未知 for a person to decide (重新发送)."""
    uid = make_user("chenxm")
    with app.app_context():
        cid = person(uid, "王芳", mobile="13900000001")
        set_clock(at(2026, 11, 23, 10))
        messaging.queue_messages(db.session, messaging.collect(db.session, [db.session.get(Customer, cid)],
                                                               channel="sms").send,
                                 channel="sms", body="你好", sender=db.session.get(User, uid),
                                 now=at(2026, 11, 23, 10), title="t")
        db.session.commit()
        row_id = outbox()[0].id
        assert messaging.claim(db.session, row_id, now=at(2026, 11, 23, 10))  # a worker took it, then died
        db.session.commit()
        set_clock(at(2026, 11, 23, 10, 5))
        assert jobs.dispatch_pending() == 0
        assert db.session.get(Outbox, row_id).status == "sending"  # maybe still at work: leave it
        set_clock(at(2026, 11, 23, 10, 11))
        jobs.dispatch_pending()
        db.session.expire_all()
        assert db.session.get(Outbox, row_id).status == "unknown"
        assert messaging.retry(db.session, [row_id]) == [row_id]
        db.session.commit()
        assert jobs.send_messages([row_id]) == 1
        assert db.session.get(Outbox, row_id).status == "sent"
