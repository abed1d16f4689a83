"""Administrator-managed dictionaries (数据字典): customer category, source, industry, value
level, stage (跟进程度) and credit rating. One table; `kind` says which list an item is in."""
from __future__ import annotations

import enum

from sqlalchemy import Boolean, Integer, String, UniqueConstraint, true as sa_true
from sqlalchemy.orm import Mapped, mapped_column

from models.base import db, format_repr


class DictKind(enum.StrEnum):
    CATEGORY = "category"
    SOURCE = "source"
    INDUSTRY = "industry"
    VALUE_LEVEL = "value_level"
    STAGE = "stage"
    CREDIT_RATING = "credit_rating"
    LOSS_REASON = "loss_reason"     # 输单原因
    PROJECT_ROLE = "project_role"   # 项目角色 (甲方, 设计方, ...)
    EVENT_TYPE = "event_type"       # 日程类型 (拜访, 会议, 电话, 其他)
    LEAVE_TYPE = "leave_type"       # 请假类型 (年假, 事假, ...)
    TICKET_TYPE = "ticket_type"     # 工单类型 (投诉, 维修, 咨询, 建议, 退换货)


# The dictionaries a customer has a column for (customers.<kind>_id).
CUSTOMER_DICT_KINDS = (DictKind.CATEGORY, DictKind.SOURCE, DictKind.INDUSTRY, DictKind.VALUE_LEVEL, DictKind.STAGE,
                       DictKind.CREDIT_RATING)


class DictItem(db.Model):
    __tablename__ = "dict_items"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # 跟进程度 only: a step of the sales funnel (搁置 and 流失 are states beside it, not steps).
    funnel_step: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=sa_true())

    __table_args__ = (UniqueConstraint("kind", "name", name="uq_dict_items_kind_name"),)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "kind", "name")
