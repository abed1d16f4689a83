"""短信邮件 pages: templates refused on save, the send page with its confirmation, scope on
every path, the outbox and retry, 拒收, and the provider callback."""
from __future__ import annotations

import hashlib
import hmac
import json

from sqlalchemy import func, select

from conftest import FIXED_NOW, list_table
from models import Customer, FollowUp, Notification, db
from models.messaging import MessageTemplate, OptOut, Outbox, SmsReply
from rules import messaging


def customers_with_mobiles(app, make_customer, owner_id: int, rows: list[tuple[str, str | None]]) -> list[int]:
    ids = [make_customer(name, owner_id) for name, _m in rows]
    with app.app_context():
        for cid, (_n, mobile) in zip(ids, rows):
            db.session.get(Customer, cid).mobile = mobile
        db.session.commit()
    return ids


def test_a_template_with_an_unknown_placeholder_is_refused_and_the_form_kept(app, client, admin_id):
    client.login("admin")
    response = client.post_form("/admin/message_template/new/", {
        "channel": "sms", "name": "发货通知", "body": "{称呼}您好，您的{订单号}已发货", "active": "y"}, follow=True)
    html = response.get_data(as_text=True)
    assert "不支持的占位符：{订单号}" in html
    assert "{称呼}您好，您的{订单号}已发货" in html  # what the user typed is still there
    with app.app_context():
        assert db.session.scalar(select(func.count(MessageTemplate.id))) == 0
    response = client.post_form("/admin/message_template/new/", {
        "channel": "sms", "name": "发货通知", "body": "{称呼}您好，您的订单已发货，{业务员}", "active": "y"}, follow=True)
    assert "不支持的占位符" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(MessageTemplate.id))) == 1


def test_send_page_confirms_counts_then_writes_the_outbox(app, client, make_user, make_customer):
    uid = make_user("chenxm", display_name="陈晓明")
    ids = customers_with_mobiles(app, make_customer, uid, [("甲公司", "13900000001"), ("乙公司", "13900000001"),
                                                           ("丙公司", None), ("丁公司", "13900000004")])
    with app.app_context():
        messaging.mark_opt_out(db.session, customer_ids=[ids[3]], now=FIXED_NOW)
        db.session.commit()
    client.login("chenxm")
    url = "/admin/message_send/?ids=" + ",".join(map(str, ids))
    page = client.get(url).get_data(as_text=True)
    assert "4 位客户" in page
    form = {"channel": "sms", "ids": ",".join(map(str, ids)), "audience": "selected",
            "body": "{客户名称}您好，" + "新品到货" * 20, "step": "preview"}
    confirm = client.post_form(url, form, to="/admin/message_send/").get_data(as_text=True)
    assert 'data-testid="recipient-count">1<' in confirm
    assert 'data-testid="segment-count">2<' in confirm   # 84 characters: two parts
    assert 'data-testid="skipped-count">3<' in confirm
    assert "重复号码 1" in confirm and "拒收 1" in confirm and "无手机号/邮箱 1" in confirm
    with app.app_context():
        assert db.session.scalar(select(func.count(Outbox.id))) == 0  # nothing before confirming
    done = client.post_form(url, dict(form, step="confirm"), to="/admin/message_send/", follow=True)
    text = done.get_data(as_text=True)
    assert "已提交发送 1 条消息" in text and "群发进度" in text
    with app.app_context():
        rows = list(db.session.scalars(select(Outbox)))
        assert [(r.to_address, r.status, r.segments) for r in rows] == [("13900000001", "sent", 2)]
        assert db.session.scalar(select(func.count(FollowUp.id)).where(FollowUp.customer_id == ids[0])) == 1
    outbox = client.get("/admin/outbox/").get_data(as_text=True)
    assert "甲公司" in list_table(outbox) and "已发送" in list_table(outbox)


def test_a_forged_id_outside_scope_is_refused(app, client, make_user, make_customer):
    mine = make_user("chenxm")
    other = make_user("liufang")
    a = make_customer("甲公司", mine)
    b = make_customer("别人的公司", other)
    client.login("chenxm")
    assert client.get(f"/admin/message_send/?ids={a}").status_code == 200
    assert client.get(f"/admin/message_send/?ids={a},{b}").status_code == 404
    response = client.post_form(f"/admin/message_send/?ids={a}", {
        "channel": "sms", "ids": f"{a},{b}", "audience": "selected", "body": "你好", "step": "confirm"},
        to="/admin/message_send/")
    assert response.status_code == 404


def test_outbox_is_scoped_and_failed_messages_can_be_retried(app, client, new_client, make_user, make_customer):
    mine = make_user("chenxm")
    make_user("liufang")
    cid = customers_with_mobiles(app, make_customer, mine, [("甲公司", "13900000001")])[0]
    with app.app_context():
        customer = db.session.get(Customer, cid)
        recipients = messaging.collect(db.session, [customer], channel="sms")
        messaging.queue_messages(db.session, recipients.send, channel="sms", body="你好", sender=customer.owner,
                                 now=FIXED_NOW,
                                 title="t")
        row = db.session.scalar(select(Outbox))
        row.status, row.error = "failed", "网关拒绝"
        db.session.commit()
        row_id = row.id
    other = new_client()
    other.login("liufang")
    assert "甲公司" not in list_table(other.get("/admin/outbox/").get_data(as_text=True))
    assert other.get(f"/admin/outbox/details/?id={row_id}").status_code == 404
    client.login("chenxm")
    unsent = client.get("/admin/unsent_sms/").get_data(as_text=True)
    assert "网关拒绝" in list_table(unsent)
    response = client.action("/admin/unsent_sms/", "retry", [row_id])
    assert "已重新提交 1 条消息" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Outbox, row_id).status == "sent"
    assert "甲公司" not in list_table(client.get("/admin/unsent_sms/").get_data(as_text=True))


def test_opt_out_page_marks_customers_and_sends_skip_them(app, client, make_user, make_customer):
    uid = make_user("chenxm")
    cid = customers_with_mobiles(app, make_customer, uid, [("甲公司", "13900000001")])[0]
    client.login("chenxm")
    response = client.post_form(f"/admin/message_send/optout/?ids={cid}", {"mark": "1", "reason": "客户要求"},
                                follow=True)
    assert "已标记 1 项拒收" in response.get_data(as_text=True)
    confirm = client.post_form(f"/admin/message_send/?ids={cid}", {
        "channel": "sms", "ids": str(cid), "audience": "selected", "body": "你好", "step": "preview"},
        to="/admin/message_send/").get_data(as_text=True)
    assert 'data-testid="recipient-count">0<' in confirm and "拒收 1" in confirm
    page = client.get(f"/admin/customer/details/?id={cid}").get_data(as_text=True)
    assert 'data-testid="opt-out"' in page and f"/admin/message_send/?ids={cid}" in page


def _callback(client, payload, secret: str | None = "s3cret"):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Kechi-Signature"] = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/sms/callback", data=body, headers=headers)


def test_callback_needs_the_secret_and_records_replies_and_receipts(app, client, make_user, make_customer):
    uid = make_user("chenxm", display_name="陈晓明")
    cid = customers_with_mobiles(app, make_customer, uid, [("甲公司", "13900000001")])[0]
    with app.app_context():
        messaging.save_settings(db.session, {"callback_secret": "s3cret"})
        customer = db.session.get(Customer, cid)
        recipients = messaging.collect(db.session, [customer], channel="sms")
        messaging.queue_messages(db.session, recipients.send, channel="sms", body="新品到货", sender=customer.owner,
                                 now=FIXED_NOW,
                                 title="t")
        db.session.commit()
        from jobs import messaging as jobs

        row = db.session.scalar(select(Outbox))
        jobs.send_message(row.id)
        key = row.key
    assert _callback(client, {"type": "reply", "mobile": "13900000001", "content": "收到"}, secret="wrong").status_code == 403
    assert _callback(client, {"type": "reply", "mobile": "13900000001", "content": "收到"}, secret=None).status_code == 403
    answer = _callback(client, [{"type": "receipt", "key": key, "status": "DELIVRD"},
                                {"type": "reply", "mobile": "+86 139 0000 0001", "content": "收到，谢谢", "id": "r1"},
                                {"type": "reply", "mobile": "13900000001", "content": "收到，谢谢", "id": "r1"}])
    assert answer.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Outbox.delivery_status)) == "DELIVRD"
        replies = list(db.session.scalars(select(SmsReply)))
        assert [(r.customer_id, r.content) for r in replies] == [(cid, "收到，谢谢")]
        contents = list(db.session.scalars(select(FollowUp.content).where(FollowUp.customer_id == cid)))
        assert any("收到，谢谢" in c for c in contents)
        assert db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == uid)) == 1
    client.login("chenxm")
    assert "收到，谢谢" in list_table(client.get("/admin/sms_reply/").get_data(as_text=True))
    _callback(client, {"type": "reply", "mobile": "13900000001", "content": "TD", "id": "r2"})
    with app.app_context():
        assert db.session.scalar(select(OptOut.address)) == "13900000001"


def test_send_to_everything_the_customer_list_search_matches(app, client, make_user, make_customer):
    mine = make_user("chenxm")
    other = make_user("liufang")
    customers_with_mobiles(app, make_customer, mine, [("西湖茶业", "13900000001"), ("龙井茶业", "13900000002"),
                                                      ("宁波物流", "13900000003")])
    customers_with_mobiles(app, make_customer, other, [("别人的茶业", "13900000004")])
    client.login("chenxm")
    url = "/admin/message_send/?search=茶业"
    page = client.get(url).get_data(as_text=True)
    assert "列表当前的搜索和筛选结果" in page and "2 位客户" in page
    confirm = client.post_form(url, {"channel": "sms", "audience": "filter", "body": "{客户名称}您好",
                                     "step": "preview"}, to=url).get_data(as_text=True)
    assert 'data-testid="recipient-count">2<' in confirm
    assert "西湖茶业您好" in confirm and "别人的茶业" not in confirm


def test_send_to_contacts_chosen_in_the_contact_list(app, client, make_user, make_customer):
    from models import Contact

    uid = make_user("chenxm")
    cid = make_customer("西湖茶业", uid)
    with app.app_context():
        contacts = [Contact(customer_id=cid, name="龙井", mobile="13900000011", is_primary=True),
                    Contact(customer_id=cid, name="碧螺", mobile="13900000012")]
        db.session.add_all(contacts)
        db.session.commit()
        ids = [c.id for c in contacts]
    client.login("chenxm")
    url = f"/admin/message_send/?contact_ids={ids[1]}"
    assert "1 位联系人" in client.get(url).get_data(as_text=True)
    confirm = client.post_form(url, {"channel": "sms", "audience": "selected", "contact_ids": str(ids[1]),
                                     "body": "{联系人}您好", "step": "preview"}, to="/admin/message_send/")
    text = confirm.get_data(as_text=True)
    assert 'data-testid="recipient-count">1<' in text and "碧螺您好" in text and "13900000012" in text


def test_every_messaging_page_opens_for_the_administrator_and_settings_save(app, client, admin_id, make_customer):
    cid = make_customer("甲公司", admin_id)
    client.login("admin")
    for url in ["/admin/message_send/", "/admin/outbox/", "/admin/unsent_sms/", "/admin/sms_reply/",
                "/admin/message_template/", "/admin/message_template/new/", "/admin/holiday_greeting/",
                "/admin/holiday_greeting/new/", "/admin/sfa_plan/", "/admin/sfa_plan/new/", "/admin/sfa_enrollment/",
                f"/admin/sfa_enrollment/start/?ids={cid}", "/admin/opt_out/", "/admin/mail_account/",
                "/admin/mail_account/new/", "/admin/messaging_settings/", f"/admin/message_send/optout/?ids={cid}"]:
        assert client.get(url).status_code == 200, url
    response = client.post_form("/admin/messaging_settings/", {
        "company_name": "客池科技", "signature": "【客池科技】", "quiet_start": "22", "quiet_end": "8",
        "per_minute": "30", "per_day": "1000", "birthday_hour": "9", "provider_kind": "http",
        "provider_url": "https://sms.example.cn/send", "provider_method": "POST", "provider_format": "json",
        "provider_params": "mobile={mobile}\ncontent={content}", "provider_secret": "abc",
        "callback_secret": "cb"}, follow=True)
    assert "短信邮件设置已保存" in response.get_data(as_text=True)
    with app.app_context():
        config = messaging.load_settings(db.session)
        assert (config["quiet_start"], config["per_minute"], config["provider"]["url"], config["provider"]["secret"],
                config["callback_secret"]) == (22, 30, "https://sms.example.cn/send", "abc", "cb")
    bad = client.post_form("/admin/messaging_settings/", {"quiet_start": "25", "quiet_end": "8", "per_minute": "1",
                                                          "per_day": "1", "birthday_hour": "9"}, follow=True)
    assert "0 到 23" in bad.get_data(as_text=True)


def test_a_salesperson_cannot_open_the_administration_pages(app, client, make_user):
    make_user("chenxm")
    client.login("chenxm")
    assert client.get("/admin/message_send/").status_code == 200
    for url in ["/admin/messaging_settings/", "/admin/mail_account/", "/admin/opt_out/"]:
        assert client.get(url).status_code == 403, url
    assert client.get("/admin/message_template/new/").status_code in (302, 403)


def test_sfa_can_be_started_for_selected_customers_then_paused(app, client, make_user, make_customer, clock):
    from datetime import timedelta

    from models.messaging import SfaEnrollment, SfaPlan
    from rules.clock import local_date

    uid = make_user("chenxm")
    ids = [make_customer("甲公司", uid), make_customer("乙公司", uid)]
    with app.app_context():
        db.session.add(SfaPlan(name="每7天提醒", action="remind", remind_text="打电话", interval_days=7))
        db.session.commit()
        plan_id = db.session.scalar(select(SfaPlan.id))
    client.login("chenxm")
    url = f"/admin/sfa_enrollment/start/?ids={ids[0]},{ids[1]}"
    start_on = local_date(clock.now, app.config["TIMEZONE"]) + timedelta(days=8)  # the rule refuses a start in the past
    response = client.post_form(url, {"plan_id": str(plan_id), "start_on": start_on.isoformat()}, follow=True)
    assert "已为 2 位客户启动“每7天提醒”" in response.get_data(as_text=True)
    with app.app_context():
        enrollment_ids = list(db.session.scalars(select(SfaEnrollment.id)))
    response = client.action("/admin/sfa_enrollment/", "pause", enrollment_ids)
    assert "已暂停 2 项" in response.get_data(as_text=True)
    with app.app_context():
        assert all(e.paused for e in db.session.scalars(select(SfaEnrollment)))


def test_a_contact_can_refuse_messages_and_a_bare_number_can_be_listed(app, client, admin_id, make_customer):
    from models import Contact

    cid = make_customer("西湖茶业", admin_id)
    with app.app_context():
        contacts = [Contact(customer_id=cid, name="龙井", mobile="13900000011", is_primary=True),
                    Contact(customer_id=cid, name="碧螺", mobile="13900000012")]
        db.session.add_all(contacts)
        db.session.commit()
        ids = [c.id for c in contacts]
    client.login("admin")
    response = client.post_form(f"/admin/message_send/optout/?contact_ids={ids[0]}", {"mark": "1"}, follow=True)
    assert "已标记 1 项拒收" in response.get_data(as_text=True)
    client.post_form("/admin/opt_out/new/", {"address": "139 0000 0012", "reason": "电话里要求"}, follow=True)
    with app.app_context():
        assert db.session.scalar(select(OptOut.address).where(OptOut.address.is_not(None))) == "13900000012"
    confirm = client.post_form(f"/admin/message_send/?ids={cid}", {
        "channel": "sms", "ids": str(cid), "audience": "selected", "include_contacts": "1", "body": "你好",
        "step": "preview"}, to="/admin/message_send/").get_data(as_text=True)
    assert 'data-testid="recipient-count">0<' in confirm and "拒收 2" in confirm


def test_a_scheduled_send_waits_for_its_time_and_for_the_end_of_quiet_hours(app, client, make_user, make_customer,
                                                                             clock):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from jobs import messaging as jobs

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai"))

    uid = make_user("chenxm")
    ids = customers_with_mobiles(app, make_customer, uid, [("甲公司", "13900000001"), ("乙公司", "13900000002")])
    clock.set(at(23, 10))
    client.login("chenxm")
    for cid, when in ((ids[0], "2026-11-23T15:30"), (ids[1], "2026-11-23T22:30")):
        done = client.post_form(f"/admin/message_send/?ids={cid}", {
            "channel": "sms", "ids": str(cid), "audience": "selected", "body": "你好", "send_at": when,
            "step": "confirm"}, to="/admin/message_send/", follow=True)
        assert f"已安排 1 条消息在 {when.replace('T', ' ')} 发送" in done.get_data(as_text=True)
    past = client.post_form(f"/admin/message_send/?ids={ids[0]}", {
        "channel": "sms", "ids": str(ids[0]), "audience": "selected", "body": "你好", "send_at": "2026-11-22T09:00",
        "step": "preview"}, to="/admin/message_send/")
    assert "定时发送的时间已经过去" in past.get_data(as_text=True)

    def sent() -> list[str]:
        with app.app_context():
            return sorted(r.to_address for r in db.session.scalars(select(Outbox).where(Outbox.status == "sent")))

    with app.app_context():
        clock.set(at(23, 15, 29))
        jobs.dispatch_pending()
        assert sent() == []
        clock.set(at(23, 15, 30))
        jobs.dispatch_pending()
        assert sent() == ["13900000001"]
        clock.set(at(23, 22, 31))  # 22:30 falls in quiet hours (21:00–08:00)
        jobs.dispatch_pending()
        assert sent() == ["13900000001"]
        clock.set(at(24, 8, 0))
        jobs.dispatch_pending()
        assert sent() == ["13900000001", "13900000002"]


def test_the_customer_and_contact_lists_send_the_selection_to_the_send_page(app, client, make_user, make_customer):
    uid = make_user("chenxm")
    other = make_user("liufang")
    ids = customers_with_mobiles(app, make_customer, uid, [("甲公司", "13900000001"), ("乙公司", "13900000002")])
    theirs = make_customer("别人的公司", other)
    client.login("chenxm")
    listing = client.get("/admin/customer/").get_data(as_text=True)
    assert "发短信/发邮件" in listing and "群发给筛选结果" in listing
    chosen = client.action("/admin/customer/", "send_message", ids, follow=False)
    assert chosen.status_code == 302 and "/admin/message_send/" in chosen.headers["Location"]
    assert "2 位客户" in client.get(chosen.headers["Location"]).get_data(as_text=True)
    forged = client.action("/admin/customer/", "send_message", [ids[0], theirs], follow=True)
    assert forged.status_code == 404  # the send page re-checks the scope: nothing of the colleague's leaks
    with app.app_context():
        from models import Contact
        contact = Contact(customer_id=ids[0], name="王经理", is_primary=True, mobile="13900000003")
        db.session.add(contact)
        db.session.commit()
        contact_id = contact.id
    picked = client.action("/admin/contact/", "send_message", [contact_id], follow=False)
    assert picked.status_code == 302 and f"contact_ids={contact_id}" in picked.headers["Location"]


def test_a_clerk_without_the_send_permission_sees_no_send_action(app, client, make_user, make_customer):
    make_user("clerk", role="内勤", department=("总经办",))
    make_customer("甲公司", make_user("chenxm"))
    client.login("clerk")
    listing = client.get("/admin/customer/")
    assert listing.status_code == 200  # 内勤 may look customers up, not message them
    html = listing.get_data(as_text=True)
    assert "甲公司" in html and "群发给筛选结果" not in html and "发短信/发邮件" not in html


def test_the_live_preview_counts_and_explains_in_the_users_language(app, client, make_user, make_customer):
    uid = make_user("chenxm")
    customers_with_mobiles(app, make_customer, uid, [("甲公司", "13900000001")])
    client.login("chenxm")
    page = "/admin/message_send/"
    answer = client.post_form(page, {"channel": "sms", "body": "{客户名称}您好", "customer": "甲公司"},
                              to=page + "preview.json").get_json()
    assert answer["text"].startswith("甲公司您好") and answer["segments"] == 1
    assert answer["counter"] == f"共 {answer['length']} 字，计 1 条短信" and answer["problem"] == ""
    wrong = client.post_form(page, {"channel": "sms", "body": "{订单号}到了"}, to=page + "preview.json").get_json()
    assert wrong["problem"] == "不支持的占位符：{订单号}"
    with app.app_context():
        from models import User
        db.session.get(User, uid).locale = "en"
        db.session.commit()
    english = client.post_form(page, {"channel": "sms", "body": "{订单号}"}, to=page + "preview.json").get_json()
    assert str(english["length"]) in english["counter"] and "字" not in english["counter"]  # English now
    assert "{订单号}" in english["problem"] and "不支持" not in english["problem"]


def test_a_held_back_message_says_why_in_the_readers_language(app, make_user, make_customer, new_client):
    """The sending job writes why a message waits (rate limit) once, in the default language; the
    salesperson reads it in 未发出的短信 in Chinese, then in English after switching language."""
    from models import User

    uid = make_user("chenxm", display_name="陈晓明")
    ids = customers_with_mobiles(app, make_customer, uid, [("甲公司", "13900000001"), ("乙公司", "13900000002")])
    with app.app_context():
        messaging.save_settings(db.session, {"per_minute": 1})
        recipients = messaging.collect(db.session, [db.session.get(Customer, c) for c in ids], channel="sms")
        messaging.queue_messages(db.session, recipients.send, channel="sms", body="新品到货",
                                 sender=db.session.get(User, uid), now=FIXED_NOW, title="t")
        db.session.commit()
        from jobs import messaging as jobs

        outcomes = [jobs.send_message(row_id) for row_id in db.session.scalars(select(Outbox.id).order_by(Outbox.id))]
        assert outcomes[1] == "rate"
        assert db.session.scalar(select(Outbox.error).where(Outbox.id == max(db.session.scalars(select(Outbox.id))))) \
            == "已达发送速率上限，稍后自动发送"
    chinese = new_client()
    chinese.login("chenxm")
    assert "已达发送速率上限" in list_table(chinese.get("/admin/unsent_sms/").get_data(as_text=True))
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "chenxm")).locale = "en"
        db.session.commit()
    english = new_client()
    english.login("chenxm")
    table = list_table(english.get("/admin/unsent_sms/").get_data(as_text=True))
    assert "Sending rate limit reached" in table and "已达发送速率上限" not in table
