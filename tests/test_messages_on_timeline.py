"""Issue 16 items 9 and 10: a bulk SMS or email reaches the customer's timeline as a message,
not as its sender's follow-up, so it neither makes the sender the top follower-up of 业务员业绩
nor moves 最后联系 (the recycle clock); only the owner's own send counts. {业务员} and
{业务员手机} name the customer's salesperson, not whoever pressed 发送."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from conftest import FIXED_NOW
from models import Customer, FollowUp, User, db
from models.messaging import Outbox
from rules import followups, messaging, reports
from rules.actor import Actor
from rules.clock import local_date

BODY = "{客户名称}您好，新品到货，详情请致电{业务员} {业务员手机}"


def salesperson_with_customers(app, make_user, make_customer, names: list[str]) -> tuple[int, list[int]]:
    uid = make_user("chenxm", display_name="陈晓明")
    ids = [make_customer(name, uid) for name in names]
    with app.app_context():
        db.session.get(User, uid).mobile = "13800130001"
        for n, cid in enumerate(ids):
            db.session.get(Customer, cid).mobile = f"1390000000{n}"
            followups.record(db.session, FollowUp(customer_id=cid, user_id=uid, kind="phone", content="电话沟通",
                                                  happened_at=FIXED_NOW - timedelta(days=20)),
                             actor=Actor.from_user(db.session.get(User, uid)), now=FIXED_NOW,
                             today=local_date(FIXED_NOW, "Asia/Shanghai"))
        db.session.commit()
    return uid, ids


def send(client, ids: list[int]) -> None:
    url = "/admin/message_send/?ids=" + ",".join(map(str, ids))
    form = {"channel": "sms", "ids": ",".join(map(str, ids)), "audience": "selected", "body": BODY,
            "step": "confirm"}
    text = client.post_form(url, form, to="/admin/message_send/", follow=True).get_data(as_text=True)
    assert f"已提交发送 {len(ids)} 条消息" in text


def test_an_administrators_bulk_send_is_a_message_on_the_timeline_not_his_follow_up(
        app, client, make_user, make_customer, admin_id):
    uid, ids = salesperson_with_customers(app, make_user, make_customer, ["和泰商贸", "瑞和科技", "东方电子"])
    with app.app_context():
        db.session.get(User, admin_id).mobile = "13800130000"
        db.session.commit()
    client.login("admin")
    send(client, ids)
    with app.app_context():
        for cid in ids:
            customer = db.session.get(Customer, cid)
            assert customer.last_follow_up_at == FIXED_NOW - timedelta(days=20)   # the recycle clock stands
        today = local_date(FIXED_NOW, "Asia/Shanghai")
        table = reports.salesperson_performance(db.session, Actor.from_user(db.session.get(User, admin_id)),
                                                reports.Filters(start=today - timedelta(days=1), end=today))
        follow_ups = {row["name"]: row["follow_ups"] for row in table.rows}
        assert follow_ups.get("管理员", 0) == 0
    page = client.get(f"/admin/customer/details/?id={ids[0]}").get_data(as_text=True)
    assert "消息（不计入跟进）" in page and "和泰商贸您好，新品到货" in page
    follow_up_list = client.get("/admin/follow_up/").get_data(as_text=True)
    assert "新品到货" not in follow_up_list


def test_the_owners_own_send_is_his_follow_up_and_moves_last_contact(app, client, make_user, make_customer):
    uid, ids = salesperson_with_customers(app, make_user, make_customer, ["和泰商贸"])
    client.login("chenxm")
    send(client, ids)
    with app.app_context():
        assert db.session.get(Customer, ids[0]).last_follow_up_at == FIXED_NOW
        kinds = list(db.session.scalars(select(FollowUp.kind).where(FollowUp.customer_id == ids[0])
                                        .order_by(FollowUp.id)))
        assert kinds == ["phone", "sms"]


def test_a_setting_lets_every_send_count_as_contact(app, client, make_user, make_customer, admin_id):
    uid, ids = salesperson_with_customers(app, make_user, make_customer, ["和泰商贸"])
    with app.app_context():
        messaging.save_settings(db.session, {"messages_count_as_contact": True})
        db.session.commit()
    client.login("admin")
    send(client, ids)
    with app.app_context():
        assert db.session.get(Customer, ids[0]).last_follow_up_at == FIXED_NOW


def test_salesperson_placeholders_name_the_customers_owner_not_the_sender(
        app, client, make_user, make_customer, admin_id):
    uid, ids = salesperson_with_customers(app, make_user, make_customer, ["和泰商贸"])
    pool_customer = make_customer("公海客户", None)
    with app.app_context():
        db.session.get(User, admin_id).mobile = "13800130000"
        db.session.get(Customer, pool_customer).mobile = "13900000009"
        db.session.commit()
    client.login("admin")
    send(client, ids + [pool_customer])
    with app.app_context():
        bodies = {row.customer_id: row.body for row in db.session.scalars(select(Outbox))}
    assert bodies[ids[0]].endswith("和泰商贸您好，新品到货，详情请致电陈晓明 13800130001")
    # A pool customer has no salesperson: the sender stands in (the template help says so).
    assert bodies[pool_customer].endswith("公海客户您好，新品到货，详情请致电管理员 13800130000")
