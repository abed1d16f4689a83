"""What a new installation needs before anyone logs in: the default roles."""
from __future__ import annotations

from sqlalchemy.orm import Session

from models.org import DataScope, Role
from rules import org
from rules.permissions import DEFAULT_ROLES


def ensure_default_roles(session: Session) -> dict[str, Role]:
    roles = {}
    for name, scope, permissions, description in DEFAULT_ROLES:
        role = org.ensure_role(session, name, data_scope=DataScope(scope), permissions=permissions)
        role.description = role.description or description
        roles[name] = role
    session.flush()
    return roles
