"""维修 on a ticket: the panel the ticket page includes (templates/admin/repair/_for_ticket.html),
the add-part form (which keeps what was typed when stock is short), labour and charge, 收费,
取消维修, and a page of its own for the repair. Everything is decided in rules/repairs.py; the
panel shows to whoever sees the ticket, the buttons to those with service.repair."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from admin_views import links
from admin_views.base import PermissionView
from admin_views.context import current_actor, now
from admin_views.navigation import back_url
from admin_views.transaction import transaction
from models import db
from models.product import Product
from models.repair import RepairState
from models.service import Ticket
from rules import repairs
from rules.errors import OutOfScope
from rules.links import ListKind, RecordLink

POST = ("POST",)


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def ticket_url(ticket_id: int) -> str:
    """The ticket's own page when the tickets view is there, else the repair page."""
    admin = current_app.extensions["admin"][0]
    return links.record_url(admin, RecordLink(ListKind.TICKET, ticket_id)) or url_for("repair.ticket_view",
                                                                                    ticket_id=ticket_id)


def panel(ticket: Ticket) -> dict[str, Any]:
    """What the ticket page's 维修 box shows (the page already checked the ticket's scope)."""
    actor = current_actor()
    repair = repairs.repair_of(db.session, ticket.id)
    parts = repairs.parts_of(db.session, ticket.id)
    is_repair_type = bool(ticket.ticket_type and ticket.ticket_type.name == "维修")
    can_change = actor.can(repairs.PERMISSION) and (repair is None or repair.state != RepairState.BILLED)
    begun = repair is not None or bool(parts)
    return {"show": begun or is_repair_type or actor.can(repairs.PERMISSION),
            # another type of ticket offers one line to start a repair, not the whole box
            "compact": not begun and not is_repair_type,
            "repair": repair, "parts": parts, "can_change": can_change,
            "state_label": repairs.STATE_LABELS[RepairState(repair.state)] if repair else None,
            "warehouses": repairs.warehouses(db.session) if can_change else [],
            "next": request.full_path.rstrip("?") if request else None}


class RepairView(PermissionView):
    """/admin/repair/<ticket>/…: reached from the ticket page, never from the menu."""

    permission = "service.view"

    def is_visible(self) -> bool:
        return False

    def _back(self, ticket_id: int) -> Response:
        return redirect(back_url(request.form.get("next"), ticket_url(ticket_id)))

    @expose("/")
    def index(self) -> Any:
        abort(404)  # a repair is always a ticket's: reached from the ticket page

    @expose("/<int:ticket_id>/")
    def ticket_view(self, ticket_id: int) -> Any:
        try:
            ticket = repairs.ticket_for(db.session, ticket_id, current_actor())
        except OutOfScope:
            abort(404)
        return self.render("admin/repair/ticket.html", ticket=ticket)

    @expose("/<int:ticket_id>/part/", methods=("GET", "POST"))
    def part_view(self, ticket_id: int) -> Any:
        """添加配件: a look-up by code/name, the warehouse, the quantity; a refusal keeps the input."""
        actor = current_actor()
        try:
            ticket = repairs.ticket_for(db.session, ticket_id, actor)
        except OutOfScope:
            abort(404)
        form = request.form if request.method == "POST" else request.args
        typed = {k: (form.get(k) or "").strip() for k in ("term", "product_id", "warehouse_id", "quantity",
                                                           "unit_price", "version")}
        typed["quantity"] = typed["quantity"] or "1"
        matches = repairs.find_products(db.session, typed["term"]) if typed["term"] and not typed["product_id"] else []
        if len(matches) == 1:
            typed["product_id"] = str(matches[0].id)
        if request.method == "POST" and typed["product_id"]:
            with transaction() as outcome:
                part = repairs.add_part(db.session, ticket.id, product_id=typed["product_id"],
                                        warehouse_id=typed["warehouse_id"], quantity=typed["quantity"],
                                        unit_price=typed["unit_price"] or None, version=typed["version"],
                                        actor=actor, now=now(), tz=_tz())
                outcome.done(gettext("已添加配件：%(p)s × %(n)d", p=part.product.name, n=part.quantity))
            if outcome.ok:
                return self._back(ticket.id)
        elif request.method == "POST" and typed["term"] and not matches:
            flash(gettext("没有找到编码或名称包含“%(t)s”的产品，请换个关键词", t=typed["term"]), "error")
        chosen = db.session.get(Product, int(typed["product_id"])) if typed["product_id"].isdigit() else None
        shown = [chosen] if chosen else matches
        return self.render("admin/repair/part_form.html", ticket=ticket, typed=typed, matches=shown,
                           chosen=chosen, warehouses=repairs.warehouses(db.session),
                           stock=repairs.stock_in(db.session, [p.id for p in shown]),
                           next=back_url(form.get("next"), ticket_url(ticket.id)))

    @expose("/<int:ticket_id>/part/<int:part_id>/remove/", methods=POST)
    def remove_part(self, ticket_id: int, part_id: int) -> Any:
        with transaction() as outcome:
            part = repairs.remove_part(db.session, ticket_id, part_id, actor=current_actor(), now=now(), tz=_tz())
            outcome.done(gettext("配件已退回仓库：%(p)s × %(n)d", p=part.product.name, n=part.quantity))
        return self._back(ticket_id)

    @expose("/<int:ticket_id>/labour/", methods=POST)
    def labour(self, ticket_id: int) -> Any:
        f = request.form
        with transaction(_l("维修工时与费用已保存")) as outcome:
            repairs.save_labour(db.session, ticket_id, labour_hours=f.get("labour_hours"),
                                labour_charge=f.get("labour_charge"), solution=f.get("solution"),
                                version=f.get("version"), actor=current_actor(), now=now(), tz=_tz())
        if outcome.ok:
            return self._back(ticket_id)
        # Refused (a wrong figure, or a colleague's change in between): the repair page again with
        # what was typed, so a long 处理结果 is not lost.
        try:
            ticket = repairs.ticket_for(db.session, ticket_id, current_actor())
        except OutOfScope:
            abort(404)
        typed = {k: f.get(k, "") for k in ("labour_hours", "labour_charge", "solution")}
        return self.render("admin/repair/ticket.html", ticket=ticket, labour_typed=typed)

    @expose("/<int:ticket_id>/bill/", methods=POST)
    def bill(self, ticket_id: int) -> Any:
        with transaction() as outcome:
            order = repairs.bill(db.session, ticket_id, actor=current_actor(), now=now(), tz=_tz())
            outcome.done(gettext("已收费：生成订单 %(o)s，金额 ¥%(t)s，计入应收", o=order.number, t=f"{order.total:,.2f}"))
        return self._back(ticket_id)

    @expose("/<int:ticket_id>/cancel/", methods=POST)
    def cancel(self, ticket_id: int) -> Any:
        with transaction(_l("维修已取消，配件已退回仓库")):
            repairs.cancel(db.session, ticket_id, reason=request.form.get("reason"), actor=current_actor(), now=now(),
                           tz=_tz())
        return self._back(ticket_id)


def init_app(app: Any) -> None:
    app.add_template_global(panel, "kechi_repair")


def views() -> list[Any]:
    return [RepairView(name=_l("维修"), endpoint="repair", url="/admin/repair")]
