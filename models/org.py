"""Organisation: departments (a tree), roles (permissions + data scope) and users."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr


class DataScope(enum.StrEnum):
    SELF = "self"
    SELF_AND_SUBORDINATES = "self_and_subordinates"
    DEPARTMENT = "department"
    DEPARTMENT_TREE = "department_tree"
    ALL = "all"


class Department(TimestampMixin, db.Model):
    """A node of the department tree. `path` is "/1/4/9/": a subtree is one prefix LIKE."""

    __tablename__ = "departments"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), nullable=False, default="/", index=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # 部门负责人: approves as "the manager of the owner's department" (rules/approvals.py); a
    # department without one defers to its parent department's.
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))

    parent: Mapped[Department | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Department]] = relationship(back_populates="parent")
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])

    @property
    def depth(self) -> int:
        return self.path.strip("/").count("/")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "name", "path")


class Role(TimestampMixin, db.Model):
    __tablename__ = "roles"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    data_scope: Mapped[DataScope] = mapped_column(
        String(32), nullable=False, default=DataScope.SELF
    )
    permissions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    description: Mapped[str | None] = mapped_column(String(255))
    # IP限制登录: CIDR networks, one per line; empty means any address (rules/auth.ip_allowed).
    allowed_networks: Mapped[str | None] = mapped_column(Text)

    users: Mapped[list[User]] = relationship(back_populates="role")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "name", "data_scope")


class User(UserMixin, TimestampMixin, db.Model):
    """A member of staff. `report_path` is "/<top>/.../<self>/" along the superior chain,
    so everyone below a user in the reporting line is one prefix LIKE."""

    __tablename__ = "users"
    __audited__ = True
    __audit_masked__ = frozenset({"password_hash"})
    __audit_ignored__ = frozenset({"last_seen_at", "last_ip", "last_login_at", "session_version"})

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(64), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), nullable=False, index=True)
    superior_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    report_path: Mapped[str] = mapped_column(String(255), nullable=False, default="/", index=True)
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    locale: Mapped[str] = mapped_column(String(8), nullable=False, default="zh_CN")
    # Bumped on logout, password change, disable and forced logout: every old cookie dies.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unlocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_ip: Mapped[str | None] = mapped_column(String(64))

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    role: Mapped[Role] = relationship(back_populates="users", lazy="joined")
    superior: Mapped[User | None] = relationship(remote_side=[id])

    __table_args__ = (Index("ix_users_active_name", "active", "display_name"),)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __str__(self) -> str:
        return self.display_name

    def __repr__(self) -> str:
        return format_repr(self, "id", "username")
