"""Customer records: entry policy, contacts, follow-ups and reminders, sharing, bin, merge."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW, list_table
from models import (
    AuditLog, Contact, Customer, CustomerShare, DictItem, FollowUp, FollowUpComment, Notification, OwnershipEvent, db,
)
from rules import entry, normalize, numbering, settings

TODAY = date(2026, 11, 23)  # FIXED_NOW in Asia/Shanghai


def new_customer(client, name: str, **fields):
    data = {"kind": "company", "name": name, **fields}
    return client.post_form("/admin/customer/new/", data, follow=True)


def customer_by_name(app, name: str) -> Customer | None:
    with app.app_context():
        row = db.session.scalar(select(Customer).where(Customer.name == name))
        if row is not None:
            db.session.expunge(row)
        return row


def set_policy(app, **duplicates):
    with app.app_context():
        policy = entry.load_policy(db.session)
        policy["duplicates"].update(duplicates)
        settings.put(db.session, "entry_policy", policy)
        db.session.commit()


# --- normalisation and numbering -------------------------------------------------------------

@pytest.mark.parametrize("field,raw,expected", [
    ("name", "  华为　技术 ", "华为 技术"),
    ("name", "ＡＢＣ科技", "abc科技"),
    ("mobile", "+86 138-0013-8000", "13800138000"),
    ("mobile", "0086１３８００１３８０００", "13800138000"),
    ("phone", "(0571) 8888-8888", "0571-88888888"),
])
def test_values_are_compared_normalised(field, raw, expected):
    assert normalize.key(field, raw) == expected


def test_mnemonic_is_pinyin_initials():
    assert normalize.mnemonic("北京华远科技有限公司") == "bjhykjyxgs"


@pytest.mark.both_dbs
def test_customer_codes_follow_the_pattern_and_restart_each_year(app):
    with app.app_context():
        numbers = [numbering.next_number(db.session, "customer", "KH{yyyy}{seq:05d}", today=TODAY) for _ in range(3)]
        next_year = numbering.next_number(db.session, "customer", "KH{yyyy}{seq:05d}", today=date(2027, 1, 1))
        db.session.commit()
    assert numbers == ["KH202600001", "KH202600002", "KH202600003"] and next_year == "KH202700001"


# --- entry policy through the form -----------------------------------------------------------

def test_forbidden_duplicate_name_is_refused_naming_the_existing_customer_not_its_owner(
        app, client, make_user, make_customer, clock):
    other = make_user("rep2", display_name="刘芳")
    make_user("rep1")
    existing = make_customer("华为技术有限公司", other)
    with app.app_context():
        from rules import customers
        c = db.session.get(Customer, existing)
        c.code = "KH202600099"
        customers.reindex(db.session, c)
        db.session.commit()
    set_policy(app, name="forbid")
    client.login("rep1")
    page = new_customer(client, " 华为技术有限公司 ", mobile="13912345678").get_data(as_text=True)
    assert "客户名称“华为技术有限公司”与已有客户「华为技术有限公司」（KH202600099）重复，不允许重复录入" in page
    assert "刘芳" not in page  # the owner of the existing customer stays private
    assert 'value="13912345678"' in page  # the form keeps what was typed
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id))) == 1


def test_warned_duplicate_needs_confirmation_then_saves(app, client, make_user, make_customer, clock):
    rep = make_user("rep1")
    client.login("rep1")
    new_customer(client, "腾讯科技", mobile="13800138000")
    page = new_customer(client, "腾讯科技", mobile="+86 138 0013 8000").get_data(as_text=True)
    assert "请确认" in page and "客户名称“腾讯科技”与已有客户「腾讯科技」" in page
    assert "手机“13800138000”与已有客户「腾讯科技」" in page  # quoted as it will be stored
    with app.app_context():
        assert db.session.scalar(select(func.count(Customer.id))) == 1
    new_customer(client, "腾讯科技", mobile="+86 138 0013 8000", confirm_duplicates="y")
    with app.app_context():
        rows = db.session.scalars(select(Customer).order_by(Customer.id)).all()
        assert len(rows) == 2 and all(r.owner_id == rep for r in rows)
        assert rows[1].code == "KH202600002" and rows[1].mnemonic == "txkj"


def test_format_checks_and_required_fields_explain_themselves(app, client, make_user, clock):
    make_user("rep1")
    client.login("rep1")
    page = new_customer(client, "格式测试", mobile="12345", email="not-an-email", zip_code="12").get_data(as_text=True)
    assert "手机号码格式不正确" in page and "邮箱格式不正确" in page and "邮编应为 6 位数字" in page
    assert customer_by_name(app, "格式测试") is None
    wrong_region = new_customer(client, "地区测试", province="浙江省", city="广州市").get_data(as_text=True)
    assert "省、市、区县不匹配" in wrong_region


def test_contacts_have_exactly_one_primary(app, client, make_user, clock):
    make_user("rep1")
    client.login("rep1")
    new_customer(client, "联系人测试", **{"contacts-0-name": "张三", "contacts-0-mobile": "13911112222",
                                       "contacts-1-name": "李四", "contacts-1-mobile": "13933334444"})
    customer = customer_by_name(app, "联系人测试")
    with app.app_context():
        contacts = db.session.scalars(select(Contact).where(Contact.customer_id == customer.id)
                                      .order_by(Contact.id)).all()
        assert [(c.name, c.is_primary) for c in contacts] == [("张三", True), ("李四", False)]
        second = contacts[1].id
    two = client.post_form(f"/admin/customer/edit/?id={customer.id}", {
        "kind": "company", "name": "联系人测试",
        "contacts-0-id": str(contacts[0].id), "contacts-0-name": "张三", "contacts-0-is_primary": "y",
        "contacts-1-id": str(second), "contacts-1-name": "李四", "contacts-1-is_primary": "y"}, follow=True)
    assert "只能有一个首要联系人" in two.get_data(as_text=True)
    client.post_form(f"/admin/customer/edit/?id={customer.id}", {
        "kind": "company", "name": "联系人测试",
        "contacts-0-id": str(contacts[0].id), "contacts-0-name": "张三",
        "contacts-1-id": str(second), "contacts-1-name": "李四", "contacts-1-is_primary": "y"})
    with app.app_context():
        primary = db.session.scalars(select(Contact.name).where(Contact.customer_id == customer.id,
                                                                Contact.is_primary.is_(True))).all()
        assert primary == ["李四"]


# --- follow-ups, reminders, comments ---------------------------------------------------------

def test_a_follow_up_moves_the_dates_and_a_due_date_reaches_the_list_and_the_bell(
        app, client, make_user, make_customer, clock):
    rep = make_user("rep1")
    cid = make_customer("回访测试", rep)
    other = make_customer("不需要回访", rep)
    client.login("rep1")
    client.post_form(f"/admin/customer/details/?id={cid}", {"kind": "phone", "content": "约好今天再打",
                                                             "next_contact_at": TODAY.isoformat()},
                     to=f"/admin/customer/follow-up/?id={cid}")
    with app.app_context():
        customer = db.session.get(Customer, cid)
        assert customer.next_contact_at == TODAY and customer.last_follow_up_at == FIXED_NOW
    due = client.get("/admin/due_customer/").get_data(as_text=True)
    assert "回访测试" in due and "不需要回访" not in due
    bell = client.get("/admin/").get_data(as_text=True)
    assert "今天有 1 位客户需要回访" in bell
    past = client.post_form(f"/admin/customer/details/?id={other}", {
        "kind": "phone", "content": "x", "next_contact_at": (TODAY - timedelta(days=1)).isoformat()},
        to=f"/admin/customer/follow-up/?id={other}", follow=True)
    assert "下次联系日期不能早于今天" in past.get_data(as_text=True)


def test_the_daily_reminder_job_notifies_each_owner_once(app, make_user, make_customer):
    from jobs.reminders import send_due_reminders

    rep = make_user("rep1")
    cid = make_customer("到期客户", rep)
    with app.app_context():
        db.session.get(Customer, cid).next_contact_at = TODAY - timedelta(days=1)
        db.session.commit()
        assert send_due_reminders() == 1
        send_due_reminders()
        notes = db.session.scalars(select(Notification).where(Notification.user_id == rep)).all()
        assert [n.title for n in notes] == ["今天有 1 位客户需要回访"]


def test_supervisors_comment_and_the_author_is_notified(app, client, new_client, make_user, make_customer, clock):
    make_user("sup1", role="主管")
    rep = make_user("rep1", superior="sup1")
    cid = make_customer("点评测试", rep)
    with app.app_context():
        follow_up = FollowUp(customer_id=cid, user_id=rep, content="拜访了客户", happened_at=FIXED_NOW)
        db.session.add(follow_up)
        db.session.commit()
        fid = follow_up.id
    client.login("sup1")
    team = client.get("/admin/follow_up/?who=team").get_data(as_text=True)
    assert "点评测试" in team
    client.post_form(f"/admin/follow_up/details/?id={fid}", {"content": "下次带上报价单"},
                     to=f"/admin/follow_up/comment/?id={fid}")
    with app.app_context():
        assert db.session.scalar(select(FollowUpComment.content)) == "下次带上报价单"
    rep_client = new_client()
    rep_client.login("rep1")
    assert "点评了您对「点评测试」的联系记录" in rep_client.get("/admin/").get_data(as_text=True)
    assert rep_client.post_form(f"/admin/follow_up/details/?id={fid}", {"content": "自己点评"},
                                to=f"/admin/follow_up/comment/?id={fid}").status_code == 403


# --- sharing ---------------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_sharing_then_revoking_changes_what_the_sharee_sees_and_the_sharee_cannot_delete(
        app, client, new_client, make_user, make_customer, clock):
    rep1 = make_user("rep1")
    rep2 = make_user("rep2")
    cid = make_customer("共享客户", rep1)
    sharee = new_client()
    sharee.login("rep2")
    assert sharee.get(f"/admin/customer/details/?id={cid}").status_code == 404
    client.login("rep1")
    client.post_form(f"/admin/customer/share/?ids={cid}", {"user_ids": [str(rep2)], "mode": "read_only"})
    listing = list_table(sharee.get("/admin/customer/").get_data(as_text=True))
    assert "共享客户" in listing and "badge-info" in listing
    assert sharee.get(f"/admin/customer/details/?id={cid}").status_code == 200
    assert "共享客户" in list_table(sharee.get("/admin/shared_with_me/").get_data(as_text=True))
    assert sharee.get(f"/admin/customer/edit/?id={cid}").status_code == 404
    assert sharee.action("/admin/customer/", "delete", [cid], follow=False).status_code == 404
    read_only = sharee.post_form(f"/admin/customer/details/?id={cid}", {"kind": "phone", "content": "只读不能写"},
                                 to=f"/admin/customer/follow-up/?id={cid}")
    assert read_only.status_code == 404
    with app.app_context():
        assert db.session.get(Customer, cid).deleted_at is None
        share_id = db.session.scalar(select(CustomerShare.id))
    client.action("/admin/shared_by_me/", "revoke", [share_id])
    assert "共享客户" not in list_table(sharee.get("/admin/customer/").get_data(as_text=True))
    assert sharee.get(f"/admin/customer/details/?id={cid}").status_code == 404


def test_collaborators_add_follow_ups_and_shares_end_by_themselves(app, client, new_client, make_user,
                                                                   make_customer, clock):
    rep1 = make_user("rep1")
    rep2 = make_user("rep2")
    cid = make_customer("协作客户", rep1)
    client.login("rep1")
    client.post_form(f"/admin/customer/share/?ids={cid}", {"user_ids": [str(rep2)], "mode": "collaborate",
                                                           "until": (TODAY + timedelta(days=1)).isoformat()})
    sharee = new_client()
    sharee.login("rep2")
    sharee.post_form(f"/admin/customer/details/?id={cid}", {"kind": "visit", "content": "协作拜访"},
                     to=f"/admin/customer/follow-up/?id={cid}")
    with app.app_context():
        assert db.session.scalar(select(FollowUp.user_id).where(FollowUp.customer_id == cid)) == rep2
    clock.advance(days=2)
    sharee.login("rep2")
    assert sharee.get(f"/admin/customer/details/?id={cid}").status_code == 404


# --- recycle bin and merge -------------------------------------------------------------------

@pytest.mark.both_dbs
def test_delete_bin_restore_returns_everything_and_purge_removes_it(app, client, make_user, make_customer, clock):
    make_user("mgr", role="经理", department=("销售部",))
    rep = make_user("rep1", superior="mgr")
    cid = make_customer("回收站客户", rep)
    with app.app_context():
        db.session.add_all([Contact(customer_id=cid, name="甲", is_primary=True), Contact(customer_id=cid, name="乙"),
                            FollowUp(customer_id=cid, user_id=rep, content="记录一", happened_at=FIXED_NOW)])
        db.session.commit()
    client.login("rep1")
    client.action("/admin/customer/", "delete", [cid])
    assert "回收站客户" not in list_table(client.get("/admin/customer/").get_data(as_text=True))
    assert client.get(f"/admin/customer/details/?id={cid}").status_code == 404
    assert client.get("/admin/customer_bin/").status_code == 403  # salespeople have no bin permission
    manager = client
    manager.logout()
    manager.login("mgr")
    assert "回收站客户" in manager.get("/admin/customer_bin/").get_data(as_text=True)
    manager.action("/admin/customer_bin/", "restore", [cid])
    page = manager.get(f"/admin/customer/details/?id={cid}").get_data(as_text=True)
    assert "甲" in page and "乙" in page and "记录一" in page
    manager.action("/admin/customer/", "delete", [cid])
    manager.action("/admin/customer_bin/", "purge", [cid])
    with app.app_context():
        assert db.session.get(Customer, cid) is None
        assert db.session.scalar(select(func.count(Contact.id))) == 0
        assert db.session.scalar(select(func.count(FollowUp.id))) == 0
        purged = db.session.scalars(select(AuditLog).where(AuditLog.entity == "Customer",
                                                           AuditLog.action == "delete")).one()
        assert purged.changes["name"] == ["回收站客户", None]


def test_merge_moves_contacts_follow_ups_and_shares_to_the_kept_customer(app, client, make_user, make_customer,
                                                                         clock):
    make_user("sup1", role="主管")
    rep = make_user("rep1", superior="sup1")
    other = make_user("rep2", superior="sup1")
    keep = make_customer("合并保留", rep, phone=None)
    dup = make_customer("合并重复", rep, phone="0571-88888888")
    with app.app_context():
        db.session.add_all([Contact(customer_id=keep, name="甲", is_primary=True),
                            Contact(customer_id=dup, name="乙", is_primary=True),
                            FollowUp(customer_id=dup, user_id=rep, content="旧记录", happened_at=FIXED_NOW),
                            CustomerShare(customer_id=dup, user_id=other, shared_by_id=rep, mode="read_only")])
        db.session.commit()
    client.login("sup1")
    page = client.action("/admin/customer/", "merge", [keep, dup]).get_data(as_text=True)
    assert "合并保留" in page and "合并重复" in page
    client.post_form(f"/admin/customer/merge/?ids={keep},{dup}", {"keep": str(keep)})
    with app.app_context():
        kept = db.session.get(Customer, keep)
        assert sorted((c.name, c.is_primary) for c in kept.contacts) == [("乙", False), ("甲", True)]
        assert db.session.scalar(select(FollowUp.customer_id)) == keep
        assert db.session.scalar(select(CustomerShare.customer_id)) == keep
        assert kept.phone == "0571-88888888"
        gone = db.session.get(Customer, dup)
        assert gone.deleted_at is not None and gone.merged_into_id == keep
        merge_log = db.session.scalars(select(AuditLog).where(AuditLog.action == "merge")).one()
        assert merge_log.entity_id == str(keep) and merge_log.changes["names"] == ["合并重复"]


def test_dictionaries_are_editable_and_feed_the_form_and_filters(app, client, admin_id, make_user, make_customer):
    client.login("admin")
    client.post_form("/admin/dict_item/new/", {"kind": "source", "name": "抖音", "sort_order": "9", "active": "y"})
    with app.app_context():
        douyin = db.session.scalar(select(DictItem).where(DictItem.name == "抖音"))
        assert douyin.kind == "source"
    form = client.get("/admin/customer/new/").get_data(as_text=True)
    assert "抖音" in form
    listing = client.get("/admin/customer/").get_data(as_text=True)
    # The filter's options come from the dictionary at each page view (JSON inside the page).
    assert json.dumps("抖音")[1:-1] in listing


def test_settings_page_saves_the_code_pattern_and_policy(app, client, admin_id, make_user):
    client.login("admin")
    bad = client.post_form("/admin/customer_settings/", {"customer_code_pattern": "KH{yyyy}"}).get_data(as_text=True)
    assert "编号规则必须且只能包含一个 {seq}" in bad
    client.post_form("/admin/customer_settings/", {"customer_code_pattern": "C{yy}{mm}-{seq:04d}", "dup_name": "forbid",
                                                   "dup_mobile": "warn", "req_mobile": "1", "check_formats": "1"})
    with app.app_context():
        assert settings.get(db.session, "customer_code_pattern") == "C{yy}{mm}-{seq:04d}"
        policy = entry.load_policy(db.session)
        assert policy["duplicates"]["name"] == "forbid" and "mobile" in policy["required"]


def test_ownership_history_starts_with_creation(app, client, make_user, clock):
    make_user("rep1", display_name="陈晓明")
    client.login("rep1")
    new_customer(client, "流转测试")
    customer = customer_by_name(app, "流转测试")
    with app.app_context():
        event = db.session.scalars(select(OwnershipEvent).where(OwnershipEvent.customer_id == customer.id)).one()
        assert event.reason == "created" and event.to_user_id == customer.owner_id
    page = client.get(f"/admin/customer/details/?id={customer.id}").get_data(as_text=True)
    assert "流转记录" in page and "新建" in page
    printable = client.get(f"/admin/customer/print/?id={customer.id}&noprint=1").get_data(as_text=True)
    assert "流转测试" in printable and "window.print" in printable


def test_personal_address_book_is_private(app, client, new_client, make_user):
    make_user("rep1")
    make_user("rep2")
    client.login("rep1")
    client.post_form("/admin/personal_contact/new/", {"name": "私人朋友", "mobile": "13700000000"})
    other = new_client()
    other.login("rep2")
    assert "私人朋友" not in other.get("/admin/personal_contact/").get_data(as_text=True)
    assert "私人朋友" in client.get("/admin/personal_contact/").get_data(as_text=True)
