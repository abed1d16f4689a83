"""Who is acting: a plain value built once per request (or job) from the user row."""
from __future__ import annotations

from dataclasses import dataclass

from models.org import DataScope, User


@dataclass(frozen=True)
class Actor:
    user_id: int
    display_name: str
    department_id: int | None
    department_path: str | None
    report_path: str
    data_scope: DataScope
    permissions: frozenset[str]

    @classmethod
    def from_user(cls, user: User) -> Actor:
        return cls(
            user_id=user.id,
            display_name=user.display_name,
            department_id=user.department_id,
            department_path=user.department.path if user.department else None,
            report_path=user.report_path,
            data_scope=DataScope(user.role.data_scope),
            permissions=frozenset(user.role.permissions or ()),
        )

    def can(self, permission: str) -> bool:
        return permission in self.permissions
