"""What a new installation needs before anyone logs in: default roles and dictionaries."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.org import DataScope, Role
from rules import (
    approval_flows, clock, dictionaries, office_requests, org, print_defaults, settings, stage_groups, ticket_statuses,
)
from rules import working_calendar  # SLA (issue 22)
from rules.permissions import ALL_PERMISSIONS, DEFAULT_ROLES

# The permissions this installation has already offered to its administrators. A release that
# adds permissions grants them to the default roles that list them, once; a permission the
# administrator took away from a role after it was offered stays away.
SEEN_KEY = "permissions_seen"


def ensure_default_roles(session: Session) -> dict[str, Role]:
    seen = settings.get(session, SEEN_KEY)
    if seen is None:
        # An installation from before this record: a permission some role holds was offered;
        # one no role holds arrived with this release. A new installation has no roles yet.
        seen = {p for role in session.scalars(select(Role)) for p in (role.permissions or [])} or ALL_PERMISSIONS
    arrived = ALL_PERMISSIONS - set(seen)
    roles = {}
    for name, scope, permissions, description in DEFAULT_ROLES:
        role = org.ensure_role(session, name, data_scope=DataScope(scope), permissions=permissions)
        role.description = role.description or description
        granted = [p for p in permissions if p in arrived and p not in (role.permissions or [])]
        if granted:
            role.permissions = [*(role.permissions or []), *granted]
        roles[name] = role
    settings.put(session, SEEN_KEY, sorted(ALL_PERMISSIONS))
    session.flush()
    return roles


def ensure_defaults(session: Session) -> dict[str, Role]:
    """Everything a new installation starts with; safe to run on every start."""
    roles = ensure_default_roles(session)
    dictionaries.ensure_defaults(session)
    stage_groups.ensure_default(session)  # opp-core: 标准销售流程 for new and upgraded installations
    approval_flows.ensure_default_flows(session)  # approvals: 合同/回款/开票/订单折扣 flows, for the types without one
    office_requests.ensure_default_flows(session)  # requests: 工作请示/请假/出差/报销 flows, for the kinds without one
    print_defaults.ensure_defaults(session, now=clock.now())  # templates: a default print template per document type
    ticket_statuses.ensure_defaults(session)  # service: 新建 … 已关闭, for an installation without statuses
    working_calendar.ensure_defaults(session)  # SLA: a Mon–Fri working week, for an installation without one
    return roles
