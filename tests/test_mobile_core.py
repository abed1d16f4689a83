"""手机版 core (/m/): 今日, 客户 search and the 360 page, the PWA files. What the phone shows is
what the admin shows the same user (the same scope and search rules)."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from conftest import list_table
from models import Contact, Customer, Notification, Task, User, db
from models.office import NotificationKind
from rules import customers, normalize, notifications
from rules.links import ListKind, RecordLink

NAMES = ("华为技术有限公司", "华润置地有限公司", "华联商厦有限公司")


@pytest.fixture
def team(make_user, make_customer):
    """A 主管 over rep1 and rep2 (销售一部), and rep3 of another department, each owning one
    customer whose name starts with 华."""
    make_user("sup1", role="主管")
    rep1 = make_user("rep1", superior="sup1")
    rep2 = make_user("rep2", superior="sup1")
    rep3 = make_user("rep3", department=("销售部", "销售二部"))
    return {name: make_customer(name, owner) for name, owner in zip(NAMES, (rep1, rep2, rep3))}


def shown(html: str) -> set[str]:
    return {name for name in NAMES if name in html}


@pytest.mark.both_dbs
@pytest.mark.parametrize("user, sees", [
    ("rep1", {NAMES[0]}),                 # own only
    ("sup1", {NAMES[0], NAMES[1]}),       # own team's, not the other department's
    ("rep3", {NAMES[2]}),
])
def test_list_search_and_360_answer_as_the_admin_does(client, team, user, sees):
    client.login(user)
    admin_list = shown(list_table(client.get("/admin/customer/").get_data(as_text=True)))
    admin_search = shown(list_table(client.get("/admin/customer/?search=华").get_data(as_text=True)))
    assert shown(client.get("/m/customers/").get_data(as_text=True)) == admin_list == sees
    assert shown(client.get("/m/customers/?q=华").get_data(as_text=True)) == admin_search == sees
    for name, cid in team.items():
        admin = client.get(f"/admin/customer/details/?id={cid}").status_code
        mobile = client.get(f"/m/customers/{cid}/")
        assert mobile.status_code == admin == (200 if name in sees else 404)
        if mobile.status_code == 404:
            assert name not in mobile.get_data(as_text=True)


def test_search_by_pinyin_initials_and_by_a_phone_fragment(app, client, make_user, make_customer):
    rep = make_user("rep1")
    make_customer("北京华宇科技有限公司", rep, phone="13812345678")
    make_customer("上海东方贸易有限公司", rep, phone="13900001111")
    client.login("rep1")
    by_initials = client.get("/m/customers/?q=bjhy").get_data(as_text=True)
    assert "北京华宇科技有限公司" in by_initials and "上海东方贸易有限公司" not in by_initials
    by_phone = client.get("/m/customers/?q=5678").get_data(as_text=True)
    assert "北京华宇科技有限公司" in by_phone and "上海东方贸易有限公司" not in by_phone
    assert 'href="tel:13812345678"' in by_phone  # each row dials with one tap
    nothing = client.get("/m/customers/?q=zzzz").get_data(as_text=True)
    assert "没有找到“zzzz”" in nothing and "拼音首字母" in nothing


def test_the_360_page_calls_texts_and_navigates_without_the_internet(app, client, make_user, make_customer):
    rep = make_user("rep1")
    cid = make_customer("北京华宇科技有限公司", rep, phone="010-62345678")
    with app.app_context():
        customer = db.session.get(Customer, cid)
        customer.province, customer.city, customer.address = "北京市", "北京市", "海淀区中关村大街1号"
        db.session.add(Contact(customer_id=cid, name="王经理", mobile="13812345678", is_primary=True))
        customers.reindex(db.session, customer)
        db.session.commit()
    client.login("rep1")
    html = client.get(f"/m/customers/{cid}/").get_data(as_text=True)
    assert 'href="tel:01062345678"' in html                      # 打电话: the customer's phone
    assert 'href="sms:13812345678"' in html                      # 发短信: a mobile (the contact's)
    assert 'href="tel:13812345678"' in html                      # the contact, each with tel:/sms:
    assert 'href="geo:0,0?q=%E5%8C%97%E4%BA%AC%E5%B8%82%E6%B5%B7%E6%B7%80' in html  # 北京市海淀…, once
    assert "amap.com" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert "还没有跟进记录" in html and "没有进行中的商机" in html and "还没有订单" in html


def test_more_pages_the_list_without_repeating_a_row(app, client, make_user, make_customer):
    rep = make_user("rep1")
    for i in range(23):
        make_customer(f"客户{i:02d}", rep)
    client.login("rep1")
    first = client.get("/m/customers/").get_data(as_text=True)
    assert "/m/customers/?page=2" in first
    second = client.get("/m/customers/?page=2").get_data(as_text=True)
    names = [f"客户{i:02d}" for i in range(23)]
    on_first = {n for n in names if n in first}
    on_second = {n for n in names if n in second}
    assert len(on_first) == 20 and on_first | on_second == set(names) and not on_first & on_second
    assert "?page=3" not in second


def test_today_shows_what_is_due_and_says_what_to_do_when_nothing_is(app, client, make_user, make_customer):
    rep = make_user("rep1")
    client.login("rep1")
    empty = client.get("/m/").get_data(as_text=True)
    assert "今天没有到期的回访" in empty and "今天没有到期或逾期的待办" in empty
    assert "今天没有待参加的日程" in empty and "没有等待您审批的单据" in empty and "没有未读提醒" in empty
    assert "您还没有客户" in client.get("/m/customers/").get_data(as_text=True)
    cid = make_customer("华为技术有限公司", rep)
    later = make_customer("华润置地有限公司", rep)
    with app.app_context():
        db.session.get(Customer, cid).next_contact_at = date(2026, 11, 23)
        db.session.get(Customer, later).next_contact_at = date(2026, 11, 25)
        db.session.add(Task(title="给华为寄样品", assignee_id=rep, assigner_id=rep,
                            due_at=datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)))
        db.session.add(Task(title="下周的事", assignee_id=rep, assigner_id=rep,
                            due_at=datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)))
        notifications.notify(db.session, user_id=rep, title="华为技术有限公司 需要回访", now=datetime(
            2026, 11, 23, 1, 0, tzinfo=timezone.utc), link=RecordLink(ListKind.CUSTOMER, cid),
            kind=NotificationKind.FOLLOW_UP_DUE)
        db.session.commit()
        note = db.session.scalar(select(Notification.id))
    today = client.get("/m/").get_data(as_text=True)
    due = today.split('data-testid="m-due"')[1].split("</section>")[0]
    assert "华为技术有限公司" in due and "华润置地有限公司" not in due
    assert "给华为寄样品" in today and "下周的事" not in today
    assert f"/m/reminders/{note}" in today
    opened = client.get(f"/m/reminders/{note}")  # opens the customer's mobile page, marked read
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/m/customers/{cid}/")
    assert "没有未读提醒" in client.get("/m/").get_data(as_text=True)


def test_a_reminder_of_someone_else_answers_404(app, client, make_user):
    make_user("rep1")
    other = make_user("rep2")
    with app.app_context():
        note = notifications.notify(db.session, user_id=other, title="别人的提醒",
                                    now=datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))
        db.session.commit()
        note_id = note.id
    client.login("rep1")
    assert client.get(f"/m/reminders/{note_id}").status_code == 404


def test_manifest_worker_and_offline_page_are_served_without_login_and_hold_no_data(client, make_user,
                                                                                      make_customer):
    make_customer("华为技术有限公司", make_user("rep1"))
    manifest = client.get("/m/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    body = json.loads(manifest.get_data(as_text=True))
    assert body["name"] == "客池CRM" and body["start_url"] == "/m/" and body["display"] == "standalone"
    icons = {icon["sizes"]: icon["src"] for icon in body["icons"]}
    assert set(icons) == {"192x192", "512x512"}
    icon = client.get(icons["512x512"])
    assert icon.data[:8] == b"\x89PNG\r\n\x1a\n"
    icon.close()
    worker = client.get("/m/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Service-Worker-Allowed"] == "/m/"
    script = worker.get_data(as_text=True)
    assert "/static/css/kechi-mobile.css" in script and '"/m/offline"' in script and "华为" not in script
    offline = client.get("/m/offline")
    assert offline.status_code == 200 and "网络不可用" in offline.get_data(as_text=True)
    client.login("rep1")
    assert 'rel="manifest"' in client.get("/m/").get_data(as_text=True)
    logout = client.logout()
    assert logout.headers["Clear-Site-Data"] == '"cache"'


def test_a_pool_customer_shows_only_what_the_pool_shows_and_the_page_needs_customer_view(
        app, client, new_client, make_user, make_customer):
    from conftest import FIXED_NOW
    from models import Role
    from rules import pool

    make_user("rep1")
    cid = make_customer("北京华宇科技有限公司", None, phone="010-62345678")
    with app.app_context():
        customer = db.session.get(Customer, cid)
        waiting = pool.default_pool(db.session)
        waiting.hidden_fields = ["mobile", "phone"]
        customer.mobile, customer.address = "13812345678", "海淀区中关村大街1号"
        customer.pool_id, customer.pool_reason, customer.pool_entered_at = waiting.id, "released", FIXED_NOW
        db.session.add(Contact(customer_id=cid, name="王经理", mobile="13912345678", is_primary=True))
        db.session.add(Role(name="仓管", data_scope="all", permissions=["order.view"]))
        db.session.commit()
    make_user("clerk", role="仓管")
    client.login("rep1")
    html = client.get(f"/m/customers/{cid}/").get_data(as_text=True)
    assert "北京华宇科技有限公司" in html and "领取" in html
    for hidden in ("13812345678", "62345678", "王经理", "13912345678", "中关村"):
        assert hidden not in html  # what the pool keeps until the customer is claimed
    clerk = new_client()
    clerk.login("clerk")
    assert clerk.get("/admin/customer/").status_code == clerk.get("/m/customers/").status_code == 403
    assert clerk.get(f"/m/customers/{cid}/").status_code == 403
