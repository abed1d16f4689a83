"""Demo 提醒: a week of reminders of every kind under the salespeople's bells (some read, some
not, a grouped flood among them) and the 提醒设置 a salesperson and a manager chose."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from models import NotificationKind as K
from models import User
from rules import notification_settings, notifications
from rules.links import ListKind, ListLink

# (days before today, kind, title, read)
WEEK = [
    (6, K.FOLLOW_UP_DUE, _l("今天有 %(n)d 位客户需要回访", n=4), True),
    (5, K.APPROVAL, _l("审批已通过：%(t)s", t="华星贸易 年度服务合同"), True),
    (4, K.PAYMENT_DUE, _l("回款提醒：%(d)s 第%(p)d期 %(m)s 将于 %(on)s 到期", d="远方公司 设备采购合同", p=2,
                          m="¥36,000.00", on="2026-11-25"), True),
    (3, K.CUSTOMER, "李强把客户“杭州瑞和科技有限公司”转给了您", False),
    (2, K.CONTRACT_EXPIRING, "合同“远方公司 设备采购合同”将于 2026-12-20 到期", False),
    (1, K.FOLLOW_UP_DUE, _l("今天有 %(n)d 位客户需要回访", n=6), False),
    (0, K.OTHER, "客户“宁波海川贸易”已被共享给您（只读）", False),
]


def seed_reminders(session: Session, users: dict[str, User], *, now: datetime) -> None:
    for username in ("chenxm", "liufang", "sunwei"):
        user = users[username]
        for days, kind, title, read in WEEK:
            note = notifications.notify(session, user_id=user.id, title=title, now=now - timedelta(days=days, hours=2),
                                        kind=kind, dedupe_key=f"demo:{days}:{kind}")
            if note is not None and read:
                note.read_at = now - timedelta(days=days, hours=1)
        # A recycle warning over many customers arrives as one reminder, not one per customer.
        notifications.notify_grouped(
            session, user_id=user.id, kind=K.RECYCLE_WARNING, now=now - timedelta(hours=1),
            notices=[notifications.Notice(title=f"客户{i + 1}将在 3 天内被回收") for i in range(12)],
            summary=lambda n: _l("%(n)d 位客户即将被回收，请尽快跟进", n=n), link=ListLink(ListKind.SOON_RECYCLED),
            dedupe_key="demo:recycle")
    # Chosen after the week above, so the demo does not text anyone for it.
    notification_settings.save(session, users["chenxm"].id, popup_kinds=["follow_up_due", "event", "task", "approval",
                                                                          "announcement", "recycle_warning"],
                               sms_kinds=["task"], days_ahead=2, quiet_start="22:00", quiet_end="07:30", now=now)
    notification_settings.save(session, users["wangjl"].id, popup_kinds=sorted(notification_settings.ALL_KINDS),
                               sms_kinds=["approval"], days_ahead=3, quiet_start="", quiet_end="", now=now)
