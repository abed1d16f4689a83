"""SLA settings of 客户服务: the targets per priority (optionally per ticket type and customer
value level) and the working calendar they are counted in (hours per weekday, holidays and
调休 make-up workdays). The arithmetic is rules/working_calendar.py; the hooks rules/sla.py."""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, format_repr
from models.dictionary import DictItem


class SlaPolicy(db.Model):
    """A first-response and a resolution target in working minutes. The most specific active
    policy wins (type + level > type > level > priority only); a priority with none has no due."""

    __tablename__ = "sla_policies"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[str] = mapped_column(String(8), nullable=False)  # models.service.TicketPriority
    type_id: Mapped[int | None] = mapped_column(ForeignKey("dict_items.id"))         # DictKind.TICKET_TYPE
    value_level_id: Mapped[int | None] = mapped_column(ForeignKey("dict_items.id"))  # DictKind.VALUE_LEVEL
    first_response_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    resolution_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    ticket_type: Mapped[DictItem | None] = relationship(foreign_keys=[type_id])
    value_level: Mapped[DictItem | None] = relationship(foreign_keys=[value_level_id])

    def __str__(self) -> str:  # the audit log's label
        return f"SLA {self.priority} {self.first_response_minutes}/{self.resolution_minutes} min"

    def __repr__(self) -> str:
        return format_repr(self, "id", "priority", "type_id", "value_level_id")


class WorkingHours(db.Model):
    """One weekday (0 = Monday … 6 = Sunday) of the working week: up to two periods, in minutes
    after local midnight (09:00–12:00 and 13:30–18:00 = 540–720, 810–1080); none = a day off."""

    __tablename__ = "sla_working_hours"
    __audited__ = True

    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    start1: Mapped[int | None] = mapped_column(SmallInteger)
    end1: Mapped[int | None] = mapped_column(SmallInteger)
    start2: Mapped[int | None] = mapped_column(SmallInteger)
    end2: Mapped[int | None] = mapped_column(SmallInteger)

    def __str__(self) -> str:
        return f"weekday {self.weekday}"

    def __repr__(self) -> str:
        return format_repr(self, "weekday", "start1", "end1", "start2", "end2")


class HolidayKind(enum.StrEnum):
    OFF = "off"          # 休息日 (a holiday, even on a weekday)
    WORKDAY = "workday"  # 调休上班 (a weekend day worked to make up for a holiday)


class HolidaySource(enum.StrEnum):
    LIBRARY = "library"  # 从国家日历导入 (the chinesecalendar package)
    ADMIN = "admin"      # 管理员录入 (never overwritten by an import)


class Holiday(db.Model):
    __tablename__ = "sla_holidays"
    __audited__ = True

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[HolidayKind] = mapped_column(String(8), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    source: Mapped[HolidaySource] = mapped_column(String(8), nullable=False, default=HolidaySource.ADMIN)

    def __str__(self) -> str:
        return f"{self.day.isoformat() if self.day else ''} {self.name}".strip()

    def __repr__(self) -> str:
        return format_repr(self, "day", "kind", "source")
