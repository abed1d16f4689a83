"""客户 on the phone: the admin's quick search (rules/search.py: name, pinyin initials, phone
fragment) over the same data scope (rules/scope.py), and the compact 360 page with the buttons a
salesperson at the door needs: call, text, navigate, write a follow-up, check in."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, request, url_for
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from admin_views import params
from admin_views.context import current_actor, now
from admin_views.customer_labels import FOLLOW_UP_KIND_LABELS
from admin_views.mobile.base import MobileView
from admin_views.navigation import back_url
from admin_views.pool import POOL_REASONS
from models import Contact, Customer, FollowUp, Opportunity, Order, db
from models.opportunity import Outcome
from rules import orders, phones, pool, scope
from rules import search as search_rules
from rules.errors import OutOfScope
from rules.pool_subject import CUSTOMERS

PAGE = 20
MAX_PAGE = 50  # "更多" stops here: beyond a thousand rows, a sharper search finds it faster
TERM_LENGTH = 64


def _order() -> list[Any]:
    # The admin list's default order (last follow-up, newest first; empty last on both databases),
    # so the owner indexes ix_customers_owner_last_follow_up(_pg) serve both.
    return [Customer.last_follow_up_at.desc().nulls_last() if db.engine.dialect.name == "postgresql"
            else Customer.last_follow_up_at.desc(), Customer.id.desc()]


def _sort_key(row: Customer) -> tuple[bool, float, int]:
    stamp = row.last_follow_up_at
    return stamp is not None, stamp.timestamp() if stamp else 0.0, row.id


def customer_page(term: str, page: int) -> tuple[list[Customer], bool]:
    """One page of the customers in scope matching `term` (all of them without one), and whether
    more follow. Each scope branch (rules/scope.customer_branches: owned in scope, shared with me)
    reads its own index in order and stops at the page, as the admin list does; the shared part
    is searched row by row (search.clause_among_few), as there."""
    actor = current_actor()
    branches = scope.customer_branches(actor)
    wanted = (page + 1) * PAGE + 1 if len(branches) > 1 else PAGE + 1
    rows: list[Customer] = []
    for number, branch in enumerate(branches):
        stmt = select(Customer).where(branch).options(joinedload(Customer.owner)).order_by(*_order())
        found = search_rules.clause_among_few(term) if number else search_rules.clause(db.session, term)
        if found is not None:
            stmt = stmt.where(found)
        stmt = stmt.limit(wanted) if len(branches) > 1 else stmt.offset(page * PAGE).limit(wanted)
        rows += db.session.scalars(stmt).unique()
    if len(branches) > 1:
        rows.sort(key=_sort_key, reverse=True)
        rows = rows[page * PAGE:]
    return rows[:PAGE], len(rows) > PAGE


class CustomerMobileView(MobileView):
    permission = "customer.view"  # as the admin's 客户列表; which customers, the data scope decides
    mobile_url = "/customers"
    tab = "m_customers.index"

    @expose("/")
    def index(self) -> Any:
        term = params.clean_text(request.args.get("q"))[:TERM_LENGTH]
        page = params.positive_int(request.args.get("page"), name="page", default=1, maximum=MAX_PAGE) - 1
        rows, more = customer_page(term, page)
        return self.render("mobile/customers.html", title=_l("客户"), term=term, rows=rows,
                           more_url=url_for(".index", q=term or None, page=page + 2) if more else None)

    @expose("/<int:customer_id>/")
    def detail(self, customer_id: int) -> Any:
        actor = current_actor()
        try:
            customer = scope.get_in_scope(db.session, Customer, customer_id, actor)
        except OutOfScope:
            return self._pool_customer(customer_id)
        contacts = list(db.session.scalars(select(Contact).where(Contact.customer_id == customer.id)
                                           .order_by(Contact.is_primary.desc(), Contact.id)))
        follow_ups = list(db.session.scalars(
            select(FollowUp).where(FollowUp.customer_id == customer.id).options(joinedload(FollowUp.user))
            .order_by(FollowUp.happened_at.desc(), FollowUp.id.desc()).limit(10)))
        deals = list(db.session.scalars(
            scope.scoped(select(Opportunity), Opportunity, actor)
            .where(Opportunity.customer_id == customer.id, Opportunity.outcome == Outcome.OPEN)
            .options(joinedload(Opportunity.stage)).order_by(Opportunity.id.desc()).limit(10)))
        recent_orders = list(db.session.scalars(
            scope.scoped(select(Order), Order, actor).where(Order.customer_id == customer.id)
            .order_by(Order.order_date.desc(), Order.id.desc()).limit(5)))
        return self.render(
            "mobile/customer_detail.html", title=customer.name, back=_back(), customer=customer,
            contacts=contacts, follow_ups=follow_ups, deals=deals, orders=recent_orders,
            can_contribute=scope.may_contribute(db.session, actor, customer.id),
            can_release=(customer.owner_id == actor.user_id and actor.can("pool.claim")
                         and pool.enabled(db.session)),
            address=_address(customer),
            follow_up_kinds=FOLLOW_UP_KIND_LABELS, order_states=orders.STATE_LABELS)


    def _pool_customer(self, customer_id: int) -> Any:
        """A pool customer the user may claim (rules/pool.pool_clause), as the admin's 公共客户 list
        shows it: the name and why it is in the pool, with 领取 — not its numbers, contacts or
        history, which the pool keeps until it is claimed."""
        actor = current_actor()
        if not (actor.can("pool.view") and pool.enabled(db.session)):
            abort(404)
        try:
            customer = scope.get_in_scope(db.session, Customer, customer_id, actor,
                                          clause=pool.pool_clause(db.session, actor, now=now()))
        except OutOfScope:
            abort(404)
        return self.render("mobile/pool_customer.html", title=customer.name, back=_back(), customer=customer,
                           reasons=POOL_REASONS, can_claim=actor.can(CUSTOMERS.claim_permission))


def _back() -> str:
    """‹ returns to the list the customer was opened from (今日, or the search as typed); after a
    form of this page (a follow-up, a check-in) to the customer list, not to the form."""
    came_from = back_url(request.referrer, "")
    if urlsplit(came_from).path in (url_for("m_home.index"), url_for(".index")):
        return came_from
    return url_for(".index")


def _address(customer: Customer) -> str:
    """Province, city, district and street for the map app, each said once (上海市 is province and
    city; a street address often starts with its city already)."""
    street = (customer.address or "").strip()
    regions = dict.fromkeys(p.strip() for p in (customer.province, customer.city, customer.district)
                            if p and p.strip() and p.strip() not in street)
    return "".join(regions) + street


def views() -> list[BaseView]:
    return [CustomerMobileView(_l("客户"), endpoint="m_customers")]


def init_app(app: Flask) -> None:
    app.jinja_env.filters["dial"] = phones.dial
