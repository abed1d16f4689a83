"""客户关怀: the care list keeps to the customers one sees (a truth table), a record without a
planned day is done now and one with a day waits in 待关怀 beside the coming birthdays, and the
scheduled birthday care SMS goes once per person a year (however often the job runs), each one
written down as a care record; it never doubles 短信中心's own birthday greeting."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from conftest import list_table
from jobs import care as care_jobs
from models import Contact, Customer, MessageTemplate, Outbox, db
from models.care import CareRecord
from rules import care_settings, messaging
from rules.errors import InvalidValue


@pytest.fixture
def book(app, make_user, make_customer):
    """Two salespeople's customers, each with a care record; a 客服 sees every customer."""
    ids = {"rep1": make_user("rep1", role="业务员"), "rep2": make_user("rep2", role="业务员"),
           "boss": make_user("boss", role="客服主管", department=("客服部",))}
    ids["mine"] = make_customer("甲方水务", ids["rep1"], phone="13800000001")
    ids["theirs"] = make_customer("乙方净水", ids["rep2"], phone="13800000002")
    with app.app_context():
        for name in ("mine", "theirs"):
            db.session.add(CareRecord(customer_id=ids[name], kind="holiday", channel="phone", done=True,
                                      content=f"中秋问候{name}", by_id=ids["boss"]))
        db.session.commit()
    return ids


@pytest.mark.parametrize("who, sees", [
    ("rep1", {"中秋问候mine"}),
    ("rep2", {"中秋问候theirs"}),
    ("boss", {"中秋问候mine", "中秋问候theirs"}),
])
def test_the_care_list_keeps_to_the_customers_one_sees(app, book, new_client, make_user, who, sees):
    # 业务员 have no care.manage by default; the table is about scope, so give it to them.
    with app.app_context():
        from models import Role

        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        role.permissions = sorted(set(role.permissions) | {"care.manage"})
        db.session.commit()
    client = new_client()
    client.login(who)
    table = list_table(client.get("/admin/care_record/").get_data(as_text=True))
    assert {t for t in ("中秋问候mine", "中秋问候theirs") if t in table} == sees
    with app.app_context():
        other = db.session.scalar(select(CareRecord.id).where(CareRecord.content == "中秋问候theirs"))
    if "中秋问候theirs" not in sees:
        assert client.get(f"/admin/care_record/edit/?id={other}").status_code == 404


@pytest.mark.both_dbs
def test_a_planned_care_waits_in_the_upcoming_list_with_the_birthdays(app, book, new_client):
    with app.app_context():
        db.session.get(Customer, book["mine"]).birthday = date(1980, 11, 25)      # in 2 days
        db.session.add(Contact(customer_id=book["theirs"], name="赵经理", birthday=date(1975, 11, 24)))
        db.session.get(Customer, book["theirs"]).birthday = date(1980, 12, 25)    # too far
        db.session.commit()
    boss = new_client()
    boss.login("boss")
    form = {"customer": str(book["mine"]), "kind": "after_sale", "channel": "visit", "content": "上门检查滤芯",
            "planned_for": "2026-11-26"}
    saved = boss.post_form("/admin/care_record/new/", form, follow=True).get_data(as_text=True)
    assert "上门检查滤芯" in list_table(saved)
    page = boss.get("/admin/care_upcoming/").get_data(as_text=True)
    rows = [r for r in page.split("</tr>") if "<td" in r]
    assert [("2026-11-24" in r, "赵经理" in r) for r in rows[:1]] == [(True, True)]
    assert "甲方水务" in rows[1] and "2026-11-25" in rows[1] and "上门检查滤芯" in rows[2]
    assert "2026-12-25" not in page
    with app.app_context():
        plan = db.session.scalar(select(CareRecord).where(CareRecord.content == "上门检查滤芯"))
        assert (plan.done, plan.at) == (False, None)
    boss.post_form("/admin/care_upcoming/", {"content": "已更换滤芯，客户满意"}, to=f"/admin/care_upcoming/{plan.id}/done/")
    assert "上门检查滤芯" not in boss.get("/admin/care_upcoming/").get_data(as_text=True)
    again = boss.post_form("/admin/care_upcoming/", {}, to=f"/admin/care_upcoming/{plan.id}/done/", follow=True)
    assert "这条关怀已经完成了" in again.get_data(as_text=True)
    # A record without content and without a plan is refused; what was typed stays.
    refused = boss.post_form("/admin/care_record/new/", {**form, "planned_for": "", "content": ""}).get_data(as_text=True)
    assert "请填写关怀内容" in refused and '<option selected value="after_sale">' in refused


def test_birthday_care_goes_once_per_person_a_year(app, book, clock):
    with app.app_context():
        template = MessageTemplate(name="生日关怀", channel="sms", body="{称呼}，祝您生日快乐！", active=True)
        db.session.add(template)
        mine = db.session.get(Customer, book["mine"])
        mine.birthday, mine.mobile = date(1980, 11, 23), "13800000001"  # today (10:00 in Beijing)
        db.session.flush()
        messaging.save_settings(db.session, {"birthday_enabled": True, "birthday_template_id": template.id})
        with pytest.raises(InvalidValue, match="短信中心已开启生日祝福"):  # never two greetings on one day
            care_settings.save(db.session, {**care_settings.load(db.session), "birthday_enabled": "1",
                                            "birthday_template_id": str(template.id)})
        messaging.save_settings(db.session, {"birthday_enabled": False})
        care_settings.save(db.session, {**care_settings.load(db.session), "birthday_enabled": "1",
                                        "birthday_template_id": str(template.id), "birthday_hour": "9"})
        db.session.commit()

    def run() -> int:
        with app.app_context():
            return care_jobs.send_birthday_care()

    assert run() == 1
    clock.advance(hours=1)
    assert run() == 0
    clock.advance(days=365)  # 2027-11-23: a year on, greeted again
    assert run() == 1
    with app.app_context():
        keys = db.session.scalars(select(Outbox.key).order_by(Outbox.id)).all()
        cares = db.session.scalars(select(CareRecord.content).where(CareRecord.kind == "birthday")).all()
    assert keys == [f"care:birthday:2026-11-23:{book['mine']}:0", f"care:birthday:2027-11-23:{book['mine']}:0"]
    assert cares == ["甲方水务，祝您生日快乐！"] * 2


def test_an_edit_moving_a_record_to_another_customer_refuses_the_old_customers_contact(app, book, clock):
    from models import User
    from rules import care
    from rules.actor import Actor

    with app.app_context():
        contact = Contact(customer_id=book["mine"], name="甲方联系人")
        db.session.add(contact)
        db.session.flush()
        record = db.session.scalar(select(CareRecord).where(CareRecord.customer_id == book["mine"]))
        record.contact_id = contact.id
        db.session.commit()
        record.customer = db.session.get(Customer, book["theirs"])  # as the edit form sets it
        with pytest.raises(InvalidValue, match="所选联系人不属于该客户"):
            care.check(db.session, record, actor=Actor.from_user(db.session.get(User, book["boss"])), now=clock.now)
