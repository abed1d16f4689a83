"""客服控制台 (service.view): type the caller's number or name → the customer(s); one customer's
card shows the caller's contact, open tickets, recent orders, contracts and follow-ups, and
新建工单 prefilled with the customer and the contact the number belongs to."""
from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_admin import expose
from flask_babel import lazy_gettext as _l

from admin_views import params
from admin_views.base import PermissionView
from admin_views.context import current_actor
from admin_views.menu import SERVICE, fa
from admin_views.tickets import sla_badge
from models import db
from rules import service_console, tickets
from rules.errors import OutOfScope


class ServiceConsoleView(PermissionView):
    permission = "service.view"

    @expose("/")
    def index(self) -> Any:
        actor = current_actor()
        term = params.clean_text(request.args.get("q") or "").strip()[:64]
        found = service_console.find(db.session, term, actor) if term else []
        chosen = request.args.get("customer_id") or (str(found[0].id) if len(found) == 1 else None)
        card = None
        if chosen:
            try:
                card = service_console.card(db.session, chosen, actor, term=term)
            except OutOfScope:
                abort(404)
        return self.render("admin/tickets/console.html", term=term, found=found, card=card, t=tickets,
                           sla_badge=sla_badge, can_create=actor.can(tickets.HANDLE),
                           listing={"tickets": card.open_tickets if card else [], "t": tickets,
                                    "sla_badge": sla_badge})


def views() -> list[Any]:
    return [ServiceConsoleView(name=_l("客服控制台"), category=SERVICE, endpoint="service_console",
                               url="/admin/service_console", **fa("fa-headphones"))]
