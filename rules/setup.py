"""What a new installation needs before anyone logs in: default roles and dictionaries."""
from __future__ import annotations

from sqlalchemy.orm import Session

from models.org import DataScope, Role
from rules import dictionaries, org
from rules.permissions import DEFAULT_ROLES


def ensure_default_roles(session: Session) -> dict[str, Role]:
    roles = {}
    for name, scope, permissions, description in DEFAULT_ROLES:
        role = org.ensure_role(session, name, data_scope=DataScope(scope), permissions=permissions)
        role.description = role.description or description
        roles[name] = role
    session.flush()
    return roles


def ensure_defaults(session: Session) -> dict[str, Role]:
    """Everything a new installation starts with; safe to run on every start."""
    roles = ensure_default_roles(session)
    dictionaries.ensure_defaults(session)
    return roles
