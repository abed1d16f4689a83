"""公海 on the phone: the customers of the pools I may claim from, 领用 and 释放 — the same
rules.pool calls as the admin's 公共客户 list and 放弃 page, with the same refusals."""
from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from admin_views import params
from admin_views.context import current_actor, local_today, now
from admin_views.forms import CsrfForm
from admin_views.mobile.base import MobileView
from admin_views.pool import POOL_REASONS
from admin_views.navigation import back_url
from admin_views.transaction import commit_or_explain
from models import Customer, db
from rules import pool as pool_rules
from rules import scope
from rules.errors import OutOfScope
from rules.pool_subject import CUSTOMERS

PAGE_SIZE = 30


class PoolView(MobileView):
    permission = "pool.view"  # as the admin's 公共客户
    mobile_url = "/pool"
    tab = "m_me.index"

    def _handle_view(self, name: str, **kwargs: Any) -> Any:
        # The pool switch is read when a page of it opens, not in is_accessible: the admin's menu
        # asks every view that on each of its pages, and a phone page has no menu entry to earn it.
        refused = super()._handle_view(name, **kwargs)
        if refused is None and not pool_rules.enabled(db.session):
            abort(403)
        return refused

    @expose("/")
    def index(self) -> Any:
        actor = current_actor()
        q = params.clean_text(request.args.get("q"))[:64]
        stmt = select(Customer).where(pool_rules.pool_clause(db.session, actor, now=now(), subject=CUSTOMERS))
        if q:
            stmt = stmt.where(Customer.name.contains(q, autoescape=True))
        rows = list(db.session.scalars(stmt.order_by(Customer.pool_entered_at.desc(), Customer.id.desc())
                                       .limit(PAGE_SIZE)))
        return self.render("mobile/pool.html", title=_l("公海"), rows=rows, q=q, reasons=POOL_REASONS,
                           my_pools=pool_rules.names(db.session, pool_rules.pools_of(db.session, actor.user_id)),
                           can_claim=actor.can(CUSTOMERS.claim_permission), page_size=PAGE_SIZE,
                           csrf=CsrfForm())

    @expose("/<int:customer_id>/claim", methods=("POST",))
    def claim(self, customer_id: int) -> Any:
        """领用: the pool's limits (per day, owned, cool-down) refuse with their own words."""
        if not CsrfForm(request.form).validate():
            abort(400)
        actor = current_actor()
        if commit_or_explain(
                lambda: pool_rules.claim(db.session, customer_id, actor=actor, role_id=current_user.role_id,
                                         now=now(), today=local_today(), subject=CUSTOMERS),
                lambda _event: gettext("已领用 %(n)d 位客户，可在“客户列表”中查看", n=1)):
            return redirect(url_for("m_customers.detail", customer_id=customer_id))
        # Refused: back where the button was (the pool list, or the customer's 360 page).
        return redirect(back_url(request.referrer, url_for(".index")))

    @expose("/<int:customer_id>/release", methods=("GET", "POST"))
    def release(self, customer_id: int) -> Any:
        """释放 one's own customer back to the pool, with a reason (the admin's 放弃)."""
        self.require("pool.claim")
        actor = current_actor()
        try:
            customer = scope.get_in_scope(db.session, Customer, customer_id, actor,
                                          scope.write_clause_for(Customer, actor))
        except OutOfScope:
            abort(404)
        reason = params.clean_text(request.form.get("reason"))
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            if commit_or_explain(
                    lambda: pool_rules.release(db.session, customer.id, actor=actor, now=now(), reason=reason,
                                               subject=CUSTOMERS),
                    lambda _event: gettext("已将 %(n)d 位客户放弃到客户池", n=1)):
                return redirect(url_for("m_customers.index"))
        return self.render("mobile/pool_release.html", title=_l("释放到公海"),
                           back=url_for("m_customers.detail", customer_id=customer.id),
                           customer=customer, reason=reason, csrf=CsrfForm())


def views() -> list[BaseView]:
    return [PoolView(_l("公海"), endpoint="m_pool")]
