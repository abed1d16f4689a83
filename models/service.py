"""客户服务: 工单 (tickets for complaints, repairs, questions) with administrator-defined statuses,
each in one category, and a timeline of replies, internal notes and moves (the 客服记录).
SLA clocks (rules/sla.py) run on the due columns here; repairs, the knowledge base and care
visits hang off a ticket from their own modules."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DDL, JSON, Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.customer import Contact, Customer
from models.dictionary import DictItem
from models.org import User


class StatusCategory(enum.StrEnum):
    """What an administrator's status means to the SLA and the lists (DESIGN §6)."""

    OPEN = "open"          # 处理中: the SLA clocks run
    PAUSED = "paused"      # 暂停 (等待客户, 等待配件): the clocks stop
    RESOLVED = "resolved"  # 已解决: resolution achieved; the customer may still reopen
    CLOSED = "closed"      # 已关闭: reopened within the administrator's N days, or never


# Categories a ticket is still being worked in (the "open tickets" of lists and the SLA job).
ACTIVE_CATEGORIES = (StatusCategory.OPEN.value, StatusCategory.PAUSED.value)


class TicketChannel(enum.StrEnum):
    PHONE = "phone"    # 电话
    WECHAT = "wechat"  # 微信
    EMAIL = "email"    # 邮件
    VISIT = "visit"    # 上门
    WEB = "web"        # 网页


class TicketPriority(enum.StrEnum):
    LOW = "low"        # 低
    NORMAL = "normal"  # 普通
    HIGH = "high"      # 高
    URGENT = "urgent"  # 紧急


class TicketStatus(db.Model):
    """A status the administrator defines (新建, 处理中, 等待客户, 已解决, 已关闭 …). Exactly one
    active status is the initial one; a ticket stores its status's category beside it so lists
    and the SLA job filter on an indexed column."""

    __tablename__ = "ticket_statuses"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    category: Mapped[StatusCategory] = mapped_column(String(12), nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    is_initial: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "name", "category")


class Ticket(TimestampMixin, db.Model):
    __tablename__ = "tickets"
    __audited__ = True
    __audit_ignored__ = frozenset({"sla_paused_at", "sla_remaining_seconds", "sla_warned_at", "sla_escalated_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[TicketChannel] = mapped_column(String(12), nullable=False, default=TicketChannel.PHONE)
    type_id: Mapped[int | None] = mapped_column(ForeignKey("dict_items.id"))  # DictKind.TICKET_TYPE
    priority: Mapped[TicketPriority] = mapped_column(String(8), nullable=False, default=TicketPriority.NORMAL)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    # What the ticket is about: a sale and the product (with its serial number) from it.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    serial_no: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("service_teams.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    status_id: Mapped[int] = mapped_column(ForeignKey("ticket_statuses.id"), nullable=False)
    status_category: Mapped[StatusCategory] = mapped_column(String(12), nullable=False, default=StatusCategory.OPEN)
    # SLA (rules/sla.py): due instants in UTC, computed in working hours. While paused the
    # resolution due is NULL and the working seconds left are kept to set it again on resume.
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_remaining_seconds: Mapped[int | None] = mapped_column(Integer)
    sla_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)     # 即将超时 told to the assignee
    sla_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 已超时 told to the team leader
    reopened_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    # 满意度 1–5 from the return visit (rules/satisfaction.py), kept here for lists and reports.
    satisfaction_score: Mapped[int | None] = mapped_column(SmallInteger)
    custom: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    ticket_type: Mapped[DictItem | None] = relationship()
    status: Mapped[TicketStatus] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    __table_args__ = (
        # 我的工单 by SLA state: one's active tickets by resolution due (soonest first).
        Index("ix_tickets_assignee_cat_due", "assignee_id", "status_category", "resolution_due_at", "id"),
        # 我的工单 newest first, whatever the state (migration cf51588d23a3).
        Index("ix_tickets_assignee_id", "assignee_id", "id"),
        # A team's queue and the SLA job over every active ticket.
        Index("ix_tickets_team_cat_due", "team_id", "status_category", "resolution_due_at", "id"),
        Index("ix_tickets_cat_due", "status_category", "resolution_due_at"),
        Index("ix_tickets_cat_first_due", "status_category", "first_response_due_at"),
        # The customer's 服务 tab and 客户服务次数排名, newest first.
        Index("ix_tickets_customer_id", "customer_id", "id"),
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_created_by", "created_by_id", "id"),
    )

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def __repr__(self) -> str:
        return format_repr(self, "id", "number", "status_category")


class EntryKind(enum.StrEnum):
    """A line of a ticket's timeline (客服记录)."""

    REPLY = "reply"    # 回复客户 (the first one is the first response)
    NOTE = "note"      # 内部备注 (agents only)
    STATUS = "status"  # 状态变更
    ASSIGN = "assign"  # 分派 / 改派
    REOPEN = "reopen"  # 重新打开
    SLA = "sla"        # 即将超时 / 已超时 / 升级
    REPAIR = "repair"  # 配件 / 工时 / 收费
    VISIT = "visit"    # 回访 / 满意度


class TicketEntry(db.Model):
    __tablename__ = "ticket_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False)
    kind: Mapped[EntryKind] = mapped_column(String(12), nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system (a job)
    body: Mapped[str | None] = mapped_column(Text)
    from_status_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_statuses.id"))
    to_status_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_statuses.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    author: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_ticket_entries_ticket_id", "ticket_id", "id"),)

    def __repr__(self) -> str:
        return format_repr(self, "id", "ticket_id", "kind")


class AssignMode(enum.StrEnum):
    MANUAL = "manual"            # 手动分派
    ROUND_ROBIN = "round_robin"  # 轮流分派
    LEAST_OPEN = "least_open"    # 分给未结工单最少的人


class ServiceTeam(db.Model):
    """服务组: agents who share a queue, a leader who hears of breaches, and how new tickets are
    handed out among the members (rules/ticket_assignment.py)."""

    __tablename__ = "service_teams"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assign_mode: Mapped[AssignMode] = mapped_column(String(16), nullable=False, default=AssignMode.MANUAL)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    leader: Mapped[User | None] = relationship()
    members: Mapped[list[ServiceTeamMember]] = relationship(back_populates="team", cascade="all, delete-orphan",
                                                            order_by="ServiceTeamMember.id")

    def __str__(self) -> str:
        return self.name


class ServiceTeamMember(db.Model):
    __tablename__ = "service_team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("service_teams.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    away: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 暂停接单 (leave, training)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)    # round robin's turn

    team: Mapped[ServiceTeam] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    __table_args__ = (Index("uq_service_team_members", "team_id", "user_id", unique=True),)


class TicketSearch(db.Model):
    """The search box's index of a ticket's subject: its tokens, cut the way customer search cuts
    them (rules/search.tokens_of). PostgreSQL keeps them as a stored array with a GIN index, SQLite
    mirrors them into the FTS5 table ticket_fts (DDL below; migration 7b1e4d9a2c61 makes the same).
    The subject itself (tickets.subject) makes each answer exact."""

    __tablename__ = "ticket_search"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    tokens: Mapped[str] = mapped_column(Text, nullable=False, default="")


PG_TICKET_SEARCH_DDL = [
    "ALTER TABLE ticket_search ADD COLUMN token_array text[] "
    "GENERATED ALWAYS AS (string_to_array(tokens, ' ')) STORED",
    "CREATE INDEX ix_ticket_search_token_array ON ticket_search USING gin (token_array)",
]
SQLITE_TICKET_FTS_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS ticket_fts USING fts5(tokens, content='ticket_search', "
    "content_rowid='ticket_id', tokenize='unicode61 remove_diacritics 0')",
    "INSERT INTO ticket_fts(ticket_fts, rank) VALUES ('automerge', 16)",
    "CREATE TRIGGER IF NOT EXISTS ticket_search_ai AFTER INSERT ON ticket_search BEGIN "
    "INSERT INTO ticket_fts(rowid, tokens) VALUES (new.ticket_id, new.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS ticket_search_ad AFTER DELETE ON ticket_search BEGIN "
    "INSERT INTO ticket_fts(ticket_fts, rowid, tokens) VALUES ('delete', old.ticket_id, old.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS ticket_search_au AFTER UPDATE ON ticket_search BEGIN "
    "INSERT INTO ticket_fts(ticket_fts, rowid, tokens) VALUES ('delete', old.ticket_id, old.tokens); "
    "INSERT INTO ticket_fts(rowid, tokens) VALUES (new.ticket_id, new.tokens); END",
]

for _statement in PG_TICKET_SEARCH_DDL:
    event.listen(TicketSearch.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_TICKET_FTS_DDL:
    event.listen(TicketSearch.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
