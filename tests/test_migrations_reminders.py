"""The 提醒设置 migration keeps every notification: announcements' reminders (其他 before) become
公告 so the 提醒中心 filter finds them, the others keep their kind, read or unread as they were;
users start without settings (the defaults) and the settings table works after the upgrade."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import MIGRATIONS_DIR
from conftest import FIXED_NOW, empty_database_app
from models import Notification, Role, db
from rules import notification_settings, org

BEFORE = "9d4e2b7a61c3"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrading_keeps_notifications_and_names_announcements(tmp_path, kind):
    with empty_database_app(tmp_path, kind):
        upgrade(directory=MIGRATIONS_DIR, revision=BEFORE)
        db.session.add(Role(name="业务员", data_scope="self", permissions=[]))
        db.session.flush()
        user = org.create_user(db.session, username="chenxm", password="x-123456", display_name="陈晓明",
                               role=db.session.scalar(select(Role)))
        db.session.commit()
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO notifications (user_id, kind, title, created_at, read_at, dedupe_key) VALUES "
                "(:u, 'other', '新公告：年终盘点', :now, NULL, 'announcement:7'), "
                "(:u, 'approval', '审批已通过：合同A', :now, :now, 'approval:3:approved'), "
                "(:u, 'other', '欢迎使用客池CRM', :now, NULL, NULL)"), {"u": user.id, "now": FIXED_NOW.replace(tzinfo=None)})
        db.session.remove()
        upgrade(directory=MIGRATIONS_DIR)
        rows = db.session.execute(select(Notification.title, Notification.kind, Notification.read_at.is_not(None))
                                  .order_by(Notification.id)).all()
        assert [tuple(r) for r in rows] == [("新公告：年终盘点", "announcement", False),
                                            ("审批已通过：合同A", "approval", True), ("欢迎使用客池CRM", "other", False)]
        assert notification_settings.days_ahead(db.session, user.id) == 1
        notification_settings.save(db.session, user.id, popup_kinds=["task"], sms_kinds=[], days_ahead=3,
                                   quiet_start="22:00", quiet_end="07:30", now=FIXED_NOW)
        db.session.commit()
        assert notification_settings.days_ahead(db.session, user.id) == 3
