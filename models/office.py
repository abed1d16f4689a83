"""Office: notifications (the bell and the 提醒中心). Calendar, tasks, work logs and requests have
modules of their own (models/calendar.py, models/task.py, models/work_log.py, models/office_request.py)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, format_repr, utcnow
from models.org import User


class NotificationKind(enum.StrEnum):
    """What a notification is about: the 提醒中心 filters by it, and each user chooses per kind
    whether it pops up (弹屏) and whether it is also sent by SMS."""

    FOLLOW_UP_DUE = "follow_up_due"          # 待回访客户
    EVENT = "event"                          # 日程
    TASK = "task"                            # 待办
    WORK_LOG = "work_log"                    # 工作日志 (submitted to me, commented on)
    ANNOUNCEMENT = "announcement"            # 公告
    APPROVAL = "approval"                    # 审批
    PAYMENT_DUE = "payment_due"              # 回款到期
    CONTRACT_EXPIRING = "contract_expiring"  # 合同到期
    RECYCLE_WARNING = "recycle_warning"      # 客户即将被回收
    CUSTOMER = "customer"                    # 客户转交、共享、领取申请
    TICKET = "ticket"                        # 工单 (assigned to me, the customer replied, reopened)
    SLA = "sla"                              # 工单即将超时 / 已超时
    CARE = "care"                            # 客户关怀 / 回访
    OTHER = "other"                          # 其他


class Notification(db.Model):
    """A message to one user, shown under the bell until read."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False, default=NotificationKind.OTHER.value,
                                      server_default=NotificationKind.OTHER.value)
    title: Mapped[str] = mapped_column(String(200), nullable=False)  # as written, in the default language
    # The message and its values, translated for whoever reads it (rules.notifications.title_of);
    # None for titles that are not a message of the catalogue.
    title_key: Mapped[str | None] = mapped_column(String(200))
    title_params: Mapped[dict | None] = mapped_column(JSON)
    body: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set for reminders a job may raise more than once (e.g. "due:2026-11-23"): one per user.
    dedupe_key: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()

    __table_args__ = (
        # The bell and the 未读 list: one's unread ones, newest (highest id) first, without a sort.
        Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
        # The 提醒中心 filtered by kind, newest first.
        Index("ix_notifications_user_kind_id", "user_id", "kind", "id"),
        Index("uq_notifications_user_dedupe", "user_id", "dedupe_key", unique=True),
        # The pop-up poll: one's notifications after the last one the page has seen.
        Index("ix_notifications_user_id_id", "user_id", "id"),
    )

    def __repr__(self) -> str:
        return format_repr(self, "id", "user_id", "title")
