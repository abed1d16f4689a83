"""A reminder under the bell opens the page it is about: the rules store what to open ("customer/3",
"list:due_customer"), the panel makes the URL when the reader clicks. Reminders stored as URLs by
earlier releases still open where they did (the migration converts them), and a stored link can
never send the reader off the site."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from app import MIGRATIONS_DIR
from conftest import FIXED_NOW, empty_database_app
from models import Announcement, Customer, Notification, User, db
from rules import announcements, followups, links, notifications, sharing
from rules.actor import Actor
from rules.links import ListKind, ListLink


def opened(client, note_id: int) -> str:
    """Where clicking the reminder leads (path and query)."""
    response = client.get(f"/admin/notification/open/{note_id}")
    assert response.status_code == 302
    location = response.headers["Location"]
    return location[location.index("/admin"):] if "/admin" in location else location


def newest_note(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(Notification.id).where(Notification.user_id == user_id)
                                 .order_by(Notification.id.desc()).limit(1))


@pytest.fixture
def staff(app, make_user):
    app.config["CLOCK"] = lambda: FIXED_NOW
    return {"boss": make_user("boss", role="总经理", department=("总经办",), display_name="张总"),
            "rep1": make_user("rep1", display_name="陈晓明"), "rep2": make_user("rep2", display_name="刘芳")}


def test_a_shared_customer_opens_that_customer(app, staff, make_customer, new_client):
    cid = make_customer("共享的茶庄", staff["rep1"])
    with app.app_context():
        actor = Actor.from_user(db.session.get(User, staff["rep1"]), today=FIXED_NOW.date())
        sharing.share(db.session, db.session.get(Customer, cid), to_user=db.session.get(User, staff["rep2"]),
                      mode="read_only", until=None, actor=actor, now=FIXED_NOW)
        db.session.commit()
        assert db.session.get(Notification, newest_note(app, staff["rep2"])).link == f"customer/{cid}"
    rep2 = new_client()
    rep2.login("rep2")
    target = opened(rep2, newest_note(app, staff["rep2"]))
    assert target == f"/admin/customer/details/?id={cid}"
    assert "共享的茶庄" in rep2.get(target).get_data(as_text=True)


def test_the_due_reminder_opens_the_due_list(app, staff, make_customer, new_client):
    cid = make_customer("该回访的茶庄", staff["rep1"])
    with app.app_context():
        db.session.get(Customer, cid).next_contact_at = FIXED_NOW.date() - timedelta(days=1)
        followups.remind_due(db.session, staff["rep1"], today=FIXED_NOW.date(), now=FIXED_NOW)
        db.session.commit()
    rep1 = new_client()
    rep1.login("rep1")
    target = opened(rep1, newest_note(app, staff["rep1"]))
    assert target == "/admin/due_customer/"
    assert "该回访的茶庄" in rep1.get(target).get_data(as_text=True)


def test_a_new_announcement_opens_itself(app, staff, new_client):
    with app.app_context():
        record = Announcement(title="年会通知", body="周五下午", author_id=staff["boss"], whole_company=True)
        db.session.add(record)
        db.session.flush()
        actor = Actor.from_user(db.session.get(User, staff["boss"]), today=FIXED_NOW.date())
        assert announcements.publish(db.session, record, actor=actor, now=FIXED_NOW) == 2
        db.session.commit()
        ident = record.id
    rep1 = new_client()
    rep1.login("rep1")
    target = opened(rep1, newest_note(app, staff["rep1"]))
    assert target == f"/admin/announcement/{ident}/"
    assert "周五下午" in rep1.get(target).get_data(as_text=True)


@pytest.mark.parametrize("kind, url", [
    (ListKind.CUSTOMER, "/admin/customer/"), (ListKind.DUE_CUSTOMER, "/admin/due_customer/"),
    (ListKind.SOON_RECYCLED, "/admin/recycle_soon/"), (ListKind.POOL, "/admin/pool/"),
    (ListKind.FOLLOW_UP, "/admin/follow_up/"), (ListKind.OWNERSHIP_EVENT, "/admin/ownership_event/"),
    (ListKind.ORDER, "/admin/order/"), (ListKind.ANNOUNCEMENT, "/admin/announcement/"),
    (ListKind.WORKBENCH, "/admin/"),
])
def test_a_list_reminder_opens_the_list_where_it_always_was(app, staff, new_client, kind, url):
    with app.app_context():
        note = notifications.notify(db.session, user_id=staff["boss"], title="看看", now=FIXED_NOW,
                                    link=ListLink(kind))
        db.session.commit()
        note_id = note.id
    boss = new_client()
    boss.login("boss")
    assert opened(boss, note_id) == url


@pytest.mark.parametrize("stored, url", [
    ("/admin/customer/", "/admin/customer/"),  # from before links were values
    ("/admin/", "/admin/"),
    ("//evil.example/", "/admin/notification/"),
    ("https://evil.example/", "/admin/notification/"),
    ("javascript:alert(1)", "/admin/notification/"),
    ("list:nowhere", "/admin/notification/"),
    (None, "/admin/notification/"),
])
def test_a_stored_link_never_leaves_the_site(app, staff, new_client, stored, url):
    with app.app_context():
        note = Notification(user_id=staff["rep1"], title="旧提醒", link=stored, created_at=FIXED_NOW)
        db.session.add(note)
        db.session.commit()
        note_id = note.id
    rep1 = new_client()
    rep1.login("rep1")
    assert opened(rep1, note_id) == url


# --- the migration: URLs stored by earlier releases become links ----------------------------------

BEFORE, AFTER = "d836b8f63f48", "c8d2e4f6a0b1"  # before and after links became values
OLD_LINKS = {
    "/admin/customer/details/?id=12": "customer/12",
    "/admin/announcement/7/": "announcement/7",
    "/admin/customer/": "list:customer",
    "/admin/pool/": "list:pool",
    "/admin/ownership_event/": "list:ownership_event",
    "/admin/recycle_soon/": "list:recycle_soon",
    "/admin/due_customer/": "list:due_customer",
    "/admin/": "list:admin",
    # not written by any release: left as they are
    "/admin/customer/details/?id=12&x=1": "/admin/customer/details/?id=12&x=1",
    "/admin/announcement/x/": "/admin/announcement/x/",
    "/admin/order/": "/admin/order/",
}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrading_turns_stored_urls_into_links_and_back(tmp_path, kind):
    with empty_database_app(tmp_path, kind):
        def stored() -> dict[str, str]:
            with db.engine.connect() as conn:
                return dict(conn.execute(text("SELECT title, link FROM notifications")).all())

        upgrade(directory=MIGRATIONS_DIR, revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO roles (id, name, data_scope, permissions, created_at, updated_at) VALUES "
                "(1, '业务员', 'self', '[]', :now, :now)"), {"now": FIXED_NOW})
            conn.execute(text(
                "INSERT INTO users (id, username, display_name, password_hash, role_id, report_path, active, "
                "locale, session_version, created_at, updated_at) VALUES "
                "(1, 'chenxm', '陈晓明', 'x', 1, '/1/', true, 'zh_CN', 1, :now, :now)"), {"now": FIXED_NOW})
            for url in OLD_LINKS:
                conn.execute(text("INSERT INTO notifications (user_id, title, link, created_at) "
                                  "VALUES (1, :url, :url, :now)"), {"url": url, "now": FIXED_NOW})
        upgrade(directory=MIGRATIONS_DIR, revision=AFTER)
        assert stored() == OLD_LINKS
        assert all(links.load(v) for k, v in OLD_LINKS.items() if v != k)
        downgrade(directory=MIGRATIONS_DIR, revision=BEFORE)
        assert stored() == {url: url for url in OLD_LINKS}
