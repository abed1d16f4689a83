"""Per-request helpers shared by the views: the acting user as a rules Actor, the audit
context, the current time."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app, g, request
from flask_login import current_user

from rules.actor import Actor
from rules.audit import AuditContext
from rules import clock
from rules.clock import local_date


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is None or actor.user_id != current_user.id:
        from models import db
        from rules.scope import has_active_shares

        today = local_date(now(), current_app.config["TIMEZONE"])
        actor = g.actor = Actor.from_user(current_user, today=today,
                                          has_shares=has_active_shares(db.session, current_user.id, today))
    return actor


def client_ip() -> str | None:
    # Behind a reverse proxy, set TRUSTED_PROXIES (ProxyFix) so remote_addr is the client's address.
    return request.remote_addr


def audit_context() -> AuditContext:
    if current_user.is_authenticated:
        return AuditContext(current_user.id, current_user.display_name, client_ip())
    return AuditContext(None, None, client_ip())


def now() -> datetime:
    """The current UTC time: the process clock (rules.clock), which tests pin and move."""
    return clock.now()


def local_today() -> date:
    """Today in the firm's time zone (TIMEZONE), by the same clock as now()."""
    return local_date(now(), current_app.config["TIMEZONE"])
