"""销售机会 (opportunities): stage groups with ordered stages, the opportunity with its product
lines, collaborators and project parties (项目型跟单), and its stage history."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.customer import Contact, Customer
from models.dictionary import DictItem
from models.lead import Lead
from models.org import Department, User
from models.product import MONEY, PriceLevel, Product


class StageGroup(TimestampMixin, db.Model):
    """阶段组: an administrator's ordered stages for one department (and those below it) or, with
    no department, for everyone else."""

    __tablename__ = "stage_groups"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    department: Mapped[Department | None] = relationship()
    stages: Mapped[list[Stage]] = relationship(back_populates="group", order_by="Stage.sort_order")

    def __str__(self) -> str:
        return self.name


class Stage(db.Model):
    """A stage of a group with its win probability (赢率 %) and the fields an opportunity must
    have to enter it (e.g. ["amount", "expected_close_on"] at 方案报价)."""

    __tablename__ = "opportunity_stages"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("stage_groups.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    probability: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    required_fields: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    group: Mapped[StageGroup] = relationship(back_populates="stages")

    __table_args__ = (UniqueConstraint("group_id", "name", name="uq_opportunity_stages_group_name"),)

    def __str__(self) -> str:
        return self.name


class Outcome(enum.StrEnum):
    OPEN = "open"        # 进行中
    WON = "won"          # 赢单
    LOST = "lost"        # 输单 (with a loss reason)
    INVALID = "invalid"  # 无效


# What the board's sums and the forecast read of each open opportunity.
_SUMMED = ("expected_close_on", "group_id", "stage_id", "deleted_at", "amount")


class Opportunity(TimestampMixin, db.Model):
    """销售机会. Stage, outcome and owner change only through rules/ (a guarded UPDATE plus an
    OpportunityEvent). `stage_id` stays on the last stage reached when the outcome closes it."""

    __tablename__ = "opportunities"
    __audited__ = True
    __audit_ignored__ = frozenset({"last_follow_up_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(128), nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    is_project: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    group_id: Mapped[int] = mapped_column(ForeignKey("stage_groups.id"), nullable=False)
    stage_id: Mapped[int] = mapped_column(ForeignKey("opportunity_stages.id"), nullable=False)
    stage_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[Outcome] = mapped_column(String(16), nullable=False, default=Outcome.OPEN)
    loss_reason_id: Mapped[int | None] = mapped_column(ForeignKey("dict_items.id"))
    outcome_note: Mapped[str | None] = mapped_column(String(255))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    expected_close_on: Mapped[date | None] = mapped_column(Date)
    price_level_id: Mapped[int | None] = mapped_column(ForeignKey("price_levels.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    source_lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("dict_items.id"))
    last_follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 赢单 creates the order (once; contracts take this place when they exist).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    notes: Mapped[str | None] = mapped_column(Text)
    custom: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship(foreign_keys=[customer_id])
    contact: Mapped[Contact | None] = relationship()
    group: Mapped[StageGroup] = relationship()
    stage: Mapped[Stage] = relationship()
    loss_reason: Mapped[DictItem | None] = relationship(foreign_keys=[loss_reason_id])
    source: Mapped[DictItem | None] = relationship(foreign_keys=[source_id])
    price_level: Mapped[PriceLevel | None] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    department: Mapped[Department | None] = relationship()
    source_lead: Mapped[Lead | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    lines: Mapped[list[OpportunityLine]] = relationship(back_populates="opportunity", cascade="all, delete-orphan",
                                                        order_by="OpportunityLine.id")

    __table_args__ = (
        # The board and the forecast: open opportunities by stage, per owner and for everyone.
        Index("ix_opportunities_owner_outcome_stage", "owner_id", "outcome", "stage_id", "id"),
        Index("ix_opportunities_outcome_stage", "outcome", "stage_id", "id"),
        Index("ix_opportunities_outcome_close", "outcome", "expected_close_on"),
        Index("ix_opportunities_owner_created", "owner_id", "created_at", "id"),
        Index("ix_opportunities_created", "created_at", "id"),
        # The pipeline reports (rules/pipeline_reports.py): each reads one range of one of these and
        # finds every column it groups, sums and scopes by in it (covering; migration fd7a141155e4).
        # The id last: PostgreSQL's index-only scans need it (collaborator check, the funnel's join).
        Index("ix_opportunities_forecast", "outcome", "expected_close_on", "owner_id", "department_id", "stage_id",
              "amount", "deleted_at", "id"),
        Index("ix_opportunities_closed", "outcome", "closed_at", "owner_id", "department_id", "source_id",
              "loss_reason_id", "amount", "created_at", "deleted_at", "id"),
        Index("ix_opportunities_group_created", "group_id", "created_at", "stage_id", "outcome", "amount", "owner_id",
              "department_id", "deleted_at", "id"),
        # The board's column sums from the index alone (no row reads): everyone's open
        # opportunities by group and stage; the owned part of a salesperson's or a department's
        # board and forecast (everyone's forecast reads ix_opportunities_forecast).
        Index("ix_opportunities_board_sums", "outcome", "group_id", "stage_id", "deleted_at", "amount"),
        Index("ix_opportunities_owner_outcome_sums", "owner_id", "outcome", *_SUMMED),
        # The board's GROUP BY over the group's stages (no group_id in it) for a 主管 and the
        # 总经理: covering, owner_id for the 主管's scope (migration 9cc8a0d1b8ca).
        Index("ix_opportunities_stage_sums", "outcome", "stage_id", "deleted_at", "owner_id", "amount", "id"),
    )

    def __str__(self) -> str:
        return self.title

    def __repr__(self) -> str:
        return format_repr(self, "id", "number", "outcome", "stage_id")


class OpportunityLine(db.Model):
    __tablename__ = "opportunity_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"), nullable=False, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    unit_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    # 折扣 as a rate: 1 = none, 0.9 = 九折 (as order lines)
    discount_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), nullable=False, default=Decimal("1"))
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))

    opportunity: Mapped[Opportunity] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class OpportunityCollaborator(db.Model):
    """协作人: a colleague who sees the opportunity (and may follow it up) whatever their scope."""

    __tablename__ = "opportunity_collaborators"

    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class OpportunityParty(db.Model):
    """项目型跟单: a customer taking part in a project opportunity in a role (甲方, 设计方, 施工方,
    供货方, 总包, 监理, ... a dictionary), with its contact there."""

    __tablename__ = "opportunity_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"), nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    role_id: Mapped[int | None] = mapped_column(ForeignKey("dict_items.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    notes: Mapped[str | None] = mapped_column(String(255))

    customer: Mapped[Customer] = relationship()
    role: Mapped[DictItem | None] = relationship()
    contact: Mapped[Contact | None] = relationship()

    __table_args__ = (UniqueConstraint("opportunity_id", "customer_id", "role_id",
                                       name="uq_opportunity_parties_customer_role"),)


class OpportunityAction(enum.StrEnum):
    """OpportunityEvent.action: what happened (stored keys; labels in rules/opportunities.EVENT_LABELS)."""

    CREATE = "create"    # 新建
    STAGE = "stage"      # 推进阶段
    WON = "won"          # 赢单
    LOST = "lost"        # 输单
    INVALID = "invalid"  # 标记无效
    REOPEN = "reopen"    # 重新打开
    ASSIGN = "assign"    # 转移负责人
    FOLLOW = "follow"    # 随客户转移
    ORDER = "order"      # 生成订单


class OpportunityEvent(db.Model):
    """机会流转: every stage move, outcome (赢单/输单/无效/重新打开) and change of owner, with
    who/when/from/to."""

    __tablename__ = "opportunity_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity_stages.id"))
    to_stage_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity_stages.id"))
    from_outcome: Mapped[str | None] = mapped_column(String(16))
    to_outcome: Mapped[str | None] = mapped_column(String(16))
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    from_stage: Mapped[Stage | None] = relationship(foreign_keys=[from_stage_id])
    to_stage: Mapped[Stage | None] = relationship(foreign_keys=[to_stage_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])

    __table_args__ = (
        Index("ix_opportunity_events_action_at", "action", "at"),
        # 销售机会漏斗: the backward moves, which alone tell a furthest stage from the current one.
        Index("ix_opportunity_events_from_to", "from_stage_id", "to_stage_id", "opportunity_id"),
    )
