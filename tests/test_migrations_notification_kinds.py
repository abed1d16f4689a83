"""Upgrading to notification kinds keeps every notification and files the reminders written
before it under the kind their key tells, so the 提醒中心's kind filter finds them."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import MIGRATIONS_DIR
from conftest import FIXED_NOW, app_at_revision
from models import Notification, NotificationKind, db

BEFORE = "c41f7a2e9b58"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_old_reminders_get_the_kind_their_key_tells(tmp_path, kind):
    with app_at_revision(kind, tmp_path, BEFORE):
        db.session.execute(text(
            "INSERT INTO roles (id, name, data_scope, permissions, created_at, updated_at) "
            "VALUES (1, '业务员', 'self', '[]', :now, :now)"), {"now": FIXED_NOW})
        db.session.execute(text(
            "INSERT INTO users (id, username, display_name, password_hash, role_id, report_path, active, locale, "
            "session_version, created_at, updated_at) "
            "VALUES (1, 'chen', '陈', 'x', 1, '/1/', true, 'zh_CN', 1, :now, :now)"), {"now": FIXED_NOW})
        rows = [("待审批：合同 HT-1", "approval:7:0:1"), ("今天有 3 位客户需要回访", "due:2026-11-23:3"),
                ("回款计划到期", "plan_due:4:2026-11-30"), ("回款计划逾期", "plan_overdue:4:2026-11-01"),
                ("合同将到期", "contract-expiry:9:2026-12-31"), ("3 位客户即将被回收", "recycle-warn:2026-11-23"),
                ("王经理把客户转给了您", None)]
        for title, key in rows:
            db.session.execute(text(
                "INSERT INTO notifications (user_id, title, dedupe_key, created_at) VALUES (1, :t, :k, :now)"),
                {"t": title, "k": key, "now": FIXED_NOW})
        db.session.commit()
        upgrade(directory=MIGRATIONS_DIR)
        kinds = dict(db.session.execute(select(Notification.title, Notification.kind)).all())
        assert kinds == {
            "待审批：合同 HT-1": NotificationKind.APPROVAL, "今天有 3 位客户需要回访": NotificationKind.FOLLOW_UP_DUE,
            "回款计划到期": NotificationKind.PAYMENT_DUE, "回款计划逾期": NotificationKind.PAYMENT_DUE,
            "合同将到期": NotificationKind.CONTRACT_EXPIRING, "3 位客户即将被回收": NotificationKind.RECYCLE_WARNING,
            "王经理把客户转给了您": NotificationKind.OTHER}
