"""订单 on the phone: the orders I may see (rules/scope.order_clause, as the admin's 订单综合查询),
by state, and one order's lines, state and payment."""
from __future__ import annotations

from typing import Any

from flask import abort, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from admin_views import params
from admin_views.context import current_actor
from admin_views.formatters import fmt_money
from admin_views.mobile.base import MobileView
from models import Order, OrderLine, OrderStatus, db
from rules import orders, receivables, scope
from rules.errors import OutOfScope

PAGE_SIZE = 30
S = OrderStatus
STATE_BADGES = {S.PENDING_REVIEW: "m-badge-amber", S.PICKING: "m-badge-amber", S.SHIPPED: "",
                S.COMPLETED: "m-badge-green", S.CANCELLED: "", S.RETURNED: "m-badge-red"}


def payment_state(order: Order) -> tuple[str, str]:
    """收款情况 in a few words, with its badge: what is owed (receivables.outstanding), or paid up."""
    owed = receivables.outstanding(order)
    if owed > 0:
        return gettext("欠款 %(a)s", a=fmt_money(owed)), "m-badge-red"
    if receivables.receivable(order) > 0:
        return gettext("已收清"), "m-badge-green"
    return gettext("未计应收"), ""


class OrdersView(MobileView):
    permission = "order.view"  # as the admin's 订单
    mobile_url = "/orders"
    tab = "m_me.index"

    @expose("/")
    def index(self) -> Any:
        actor = current_actor()
        state = request.args.get("state", "")
        if state not in orders.STATE_LABELS:
            state = ""
        page = params.page_number(request.args.get("page"))
        stmt = select(Order).where(scope.order_clause(actor)).options(joinedload(Order.customer))
        if state:
            stmt = stmt.where(Order.state == state)
        rows = list(db.session.scalars(stmt.order_by(Order.order_date.desc(), Order.id.desc())
                                       .limit(PAGE_SIZE + 1).offset(page * PAGE_SIZE)))
        more = len(rows) > PAGE_SIZE
        return self.render("mobile/orders.html", title=_l("我的订单"), back=url_for("m_me.index"),
                           rows=rows[:PAGE_SIZE], state=state, states=orders.STATE_LABELS, badges=STATE_BADGES,
                           page=page, more=more)

    @expose("/<int:order_id>/")
    def detail(self, order_id: int) -> Any:
        try:
            order = scope.get_in_scope(db.session, Order, order_id, current_actor())
        except OutOfScope:
            abort(404)
        lines = list(db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                                        .options(joinedload(OrderLine.product)).order_by(OrderLine.id)))
        return self.render("mobile/order_detail.html", title=order.number, back=url_for(".index"), model=order,
                           lines=lines, states=orders.STATE_LABELS, badges=STATE_BADGES,
                           money=receivables.figures(order), kept=receivables.kept_amount(order),
                           payment=payment_state(order), admin_url=url_for("order.details_view", id=order.id))


def views() -> list[BaseView]:
    return [OrdersView(_l("我的订单"), endpoint="m_orders")]
