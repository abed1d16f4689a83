"""提醒设置: each user's choices of what pops up (弹屏), what is also texted (短信), how many days
ahead reminders start (提醒信息弹屏天数) and their do-not-disturb hours (免打扰). A user without a
row has the defaults (rules/notification_settings.DEFAULTS)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, db, format_repr, utcnow


class NotificationSetting(db.Model):
    __tablename__ = "notification_settings"
    __audited__ = True

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    popup_kinds: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # NotificationKind values
    sms_kinds: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    days_ahead: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    # Local wall-clock times "HH:MM"; both set or both empty; start > end runs over midnight (22:00–07:30).
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return format_repr(self, "user_id", "days_ahead")
