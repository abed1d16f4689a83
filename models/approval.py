"""审批 (approvals): an administrator's flow of ordered steps per document type, and for every
submitted document a request with one task per approver per step, and its history.

The mechanism knows no document: a request names its document by `doc_type` + `doc_id`, and
rules/approvals.py calls the document's own hooks when a request ends."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.org import Role, User
from models.product import MONEY


class ApprovalDocType(enum.StrEnum):
    """The documents that may need approval. Office requests (issue 21) add theirs here."""

    CONTRACT = "contract"              # 合同
    RECEIPT = "receipt"                # 回款
    INVOICE = "invoice"                # 开票申请
    ORDER_DISCOUNT = "order_discount"  # 订单折扣超限
    OFFICE_GENERAL = "office_general"  # 工作请示
    OFFICE_LEAVE = "office_leave"      # 请假
    OFFICE_TRIP = "office_trip"        # 出差
    OFFICE_EXPENSE = "office_expense"  # 报销


class StepKind(enum.StrEnum):
    SUPERIOR = "superior"          # 提交人的上级 (`levels` up the 上级 chain)
    DEPT_MANAGER = "dept_manager"  # 负责人所在部门的负责人
    ROLE = "role"                  # 指定角色
    USERS = "users"                # 指定人员


class StepMode(enum.StrEnum):
    ANY = "any"  # 或签: one approval decides the step
    ALL = "all"  # 会签: every approver of the step must approve


class ApprovalFlow(TimestampMixin, db.Model):
    """审批流程: one per document type. A disabled flow lets documents through unapproved where
    the document allows it (rules/approvals.requires_approval)."""

    __tablename__ = "approval_flows"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # A figure of the document that decides whether the flow applies (订单折扣: a discount rate
    # below it); None: every document of the type goes through the flow.
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))

    steps: Mapped[list[ApprovalStep]] = relationship(back_populates="flow", cascade="all, delete-orphan",
                                                     order_by="ApprovalStep.position")

    def __str__(self) -> str:
        return self.name


class ApprovalStep(db.Model):
    __tablename__ = "approval_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("approval_flows.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[StepKind] = mapped_column(String(16), nullable=False)
    levels: Mapped[int] = mapped_column(Integer, nullable=False, default=1)  # SUPERIOR: how many levels up
    role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id"))
    user_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    mode: Mapped[StepMode] = mapped_column(String(8), nullable=False, default=StepMode.ANY)
    # Self-approval is refused unless the administrator ticks this for the step.
    allow_self: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    flow: Mapped[ApprovalFlow] = relationship(back_populates="steps")
    role: Mapped[Role | None] = relationship()

    __table_args__ = (UniqueConstraint("flow_id", "position", name="uq_approval_steps_flow_position"),)


class ApprovalStatus(enum.StrEnum):
    PENDING = "pending"      # 审批中
    APPROVED = "approved"    # 已通过
    REJECTED = "rejected"    # 已驳回 (back to the submitter)
    WITHDRAWN = "withdrawn"  # 已撤回 (by the submitter, before the first decision)
    CANCELLED = "cancelled"  # 已取消 (the document was voided or deleted meanwhile)


class ApprovalRequest(db.Model):
    """One submission of one document. The steps and their approvers are resolved at submit and
    kept (`steps` + the tasks), so a flow changed later does not move a running request."""

    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    doc_type: Mapped[str] = mapped_column(String(32), nullable=False)
    doc_id: Mapped[int] = mapped_column(Integer, nullable=False)
    # What the approver reads in the lists without opening the document.
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the document's owner (负责人)
    status: Mapped[ApprovalStatus] = mapped_column(String(16), nullable=False, default=ApprovalStatus.PENDING)
    step_index: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # the step deciding now
    steps: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # [{name, kind, mode, allow_self}]
    # "contract:12" while pending, NULL afterwards: at most one running request per document.
    open_key: Mapped[str | None] = mapped_column(String(48), unique=True)
    note: Mapped[str | None] = mapped_column(String(255))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    submitter: Mapped[User] = relationship(foreign_keys=[submitter_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    tasks: Mapped[list[ApprovalTask]] = relationship(back_populates="request", order_by="ApprovalTask.id")
    events: Mapped[list[ApprovalEvent]] = relationship(back_populates="request", order_by="ApprovalEvent.id")

    __table_args__ = (
        Index("ix_approval_requests_doc", "doc_type", "doc_id"),
        Index("ix_approval_requests_submitter", "submitter_id", "submitted_at"),
        Index("ix_approval_requests_status", "status", "submitted_at"),
    )

    def __repr__(self) -> str:
        return format_repr(self, "id", "doc_type", "doc_id", "status", "step_index")


class TaskStatus(enum.StrEnum):
    QUEUED = "queued"            # its step is not reached yet
    WAITING = "waiting"          # 待审批
    APPROVED = "approved"        # 已同意
    REJECTED = "rejected"        # 已驳回
    TRANSFERRED = "transferred"  # 已转交 (a new task for the colleague replaces it)
    SKIPPED = "skipped"          # 无需审批: 或签 decided by another, or the request ended


class ApprovalTask(db.Model):
    """One approver's part in one step of a request."""

    __tablename__ = "approval_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id"), nullable=False, index=True)
    step_index: Mapped[int] = mapped_column(Integer, nullable=False)
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    status: Mapped[TaskStatus] = mapped_column(String(16), nullable=False, default=TaskStatus.QUEUED)
    transferred_from_id: Mapped[int | None] = mapped_column(ForeignKey("approval_tasks.id"))
    comment: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[ApprovalRequest] = relationship(back_populates="tasks")
    approver: Mapped[User] = relationship()

    __table_args__ = (Index("ix_approval_tasks_approver", "approver_id", "status", "request_id"),)


class ApprovalAction(enum.StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    TRANSFER = "transfer"
    CANCEL = "cancel"


class ApprovalEvent(db.Model):
    __tablename__ = "approval_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id"), nullable=False, index=True)
    action: Mapped[ApprovalAction] = mapped_column(String(16), nullable=False)
    step_index: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # 转交 to
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    request: Mapped[ApprovalRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])
