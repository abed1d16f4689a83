"""Who is acting: a plain value built once per request (or job) from the user row."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from models.org import DataScope, User
from rules import clock


@dataclass(frozen=True)
class Actor:
    user_id: int
    display_name: str
    department_id: int | None
    department_path: str | None
    report_path: str
    data_scope: DataScope
    permissions: frozenset[str]
    # The actor's local calendar day: shares "until" a date end when it has passed.
    today: date = field(default_factory=lambda: clock.now().date())
    # Whether anything is shared with the actor today. Most users have no shares, and leaving
    # the share branch out of the scope clause lets the database walk one index in order.
    has_shares: bool = True
    role_id: int | None = None

    @classmethod
    def from_user(cls, user: User, *, today: date | None = None, has_shares: bool = True) -> Actor:
        return cls(
            user_id=user.id,
            display_name=user.display_name,
            department_id=user.department_id,
            department_path=user.department.path if user.department else None,
            report_path=user.report_path,
            data_scope=DataScope(user.role.data_scope),
            permissions=frozenset(user.role.permissions or ()),
            has_shares=has_shares,
            role_id=user.role_id,
            **({"today": today} if today else {}),
        )

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def can_any(self, permissions: tuple[str, ...] | frozenset[str]) -> bool:
        """Holds at least one of `permissions` (a move several roles may make)."""
        return not self.permissions.isdisjoint(permissions)
