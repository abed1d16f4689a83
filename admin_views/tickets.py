"""工单 in the panel: 我的工单 / 我组的工单 / 全部工单 (filters by SLA state, status, category, type,
priority, channel, team, assignee, created date; search by number, subject or customer; batch
分派 and 关闭), the entry form, and the ticket page (timeline, reply / note, status buttons,
assignment, the SLA / repair / visit / knowledge partials of the other service modules,
attachments and tasks). Every change is a call into rules/tickets.py."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, jsonify, redirect, request, url_for
from flask import session as http_session
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectField, TextAreaField
from wtforms.validators import Optional

from admin_views import params
from admin_views.base import SEARCH_COUNT_CAP, ScopedModelView
from admin_views.context import current_actor, now
from admin_views.custom_fields import CustomFieldsMixin, request_definitions
from admin_views.filters import IdEqual, LazyOptions, LocalDateBetween, OneOf
from admin_views.forms import CsrfForm
from admin_views.links import drill
from admin_views.loaders import ScopedAjaxModelLoader
from admin_views.menu import SERVICE, fa
from admin_views.navigation import back_url
from admin_views.transaction import commit_or_explain
from models import Contact, Customer, User, db
from models.contract import Contract
from models.dictionary import DictItem, DictKind
from models.product import Product
from models.sales import Order
from models.service import ServiceTeam, Ticket, TicketEntry
from rules import custom_fields, scope, sla, tickets
from rules.errors import OutOfScope
from rules.links import DrillFilter as F

LABELS = {
    "number": _l("工单编号"), "subject": _l("主题"), "customer": _l("客户"), "contact": _l("联系人"),
    "channel": _l("受理渠道"), "ticket_type": _l("工单类型"), "priority": _l("优先级"), "status": _l("状态"),
    "sla": _l("SLA"), "assignee": _l("处理人"), "team_id": _l("服务组"), "created_at": _l("创建时间"),
    "description": _l("问题描述"), "order_id": _l("关联订单"), "contract_id": _l("关联合同"),
    "product_id": _l("产品"), "serial_no": _l("序列号"), "assignee_id": _l("处理人"), "created_by": _l("创建人"),
    "resolution_due_at": _l("解决期限"), "satisfaction_score": _l("满意度"),
}


class BlankId(SelectField):
    """A drop-down of ids where the first option (blank) means none."""

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        super().__init__(label, coerce=lambda v: int(v) if v not in (None, "", "None") else None,
                         validators=[Optional()], validate_choice=False, **kwargs)


class CustomerLoader(ScopedAjaxModelLoader):
    """Offers the customers in scope; a submitted id is handed to the rules as it is, so a
    customer outside scope is refused with the reason and the form stays as typed."""

    def get_one(self, pk: Any) -> Any:
        try:
            return db.session.get(Customer, int(pk))
        except (TypeError, ValueError):
            return None

    def format(self, model: Any) -> Any:
        """The form shown again after a refusal names only a customer the actor may see: a typed
        id must not reveal the name of anyone else's customer."""
        if model is None:
            return None
        seen = db.session.scalar(select(Customer.id).where(Customer.id == model.id,
                                                           scope.clause_for(Customer, current_actor())))
        return (model.id, str(model) if seen is not None else gettext("（不在您数据范围内的客户）"))


class SlaStateFilter(BaseSQLAFilter):
    """The SLA state now (rules/sla.state_clause: the same truth as each row's badge)."""

    def validate(self, value: Any) -> bool:
        return value in {s.value for s in sla.SlaState}

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(sla.state_clause(sla.SlaState(value), now()))

    def operation(self) -> Any:
        return _l("等于")


class DueTodayFilter(BaseSQLAFilter):
    """今日将超时 (rules/tickets.due_today_clause: the workbench widget's own count)."""

    def validate(self, value: Any) -> bool:
        return value == "1"

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(tickets.due_today_clause(now(), current_app.config["TIMEZONE"]))

    def operation(self) -> Any:
        return _l("是")


def _badge(css: str, label: Any) -> Markup:
    # Markup is safe here: css comes from our own tables, the label passes through escape().
    return Markup(f"<span class='badge badge-{css}'>{escape(str(label))}</span>")


def sla_badge(ticket: Ticket) -> Markup:
    state = sla.state(ticket, now())
    return _badge(tickets.SLA_CSS[state.value], sla.LABELS[state])


def _number_link(view: Any, context: Any, model: Ticket, name: str) -> Markup:
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(url_for('ticket.details_view', id=model.id))}'>{escape(model.number)}</a>")


def _customer_link(view: Any, context: Any, model: Ticket, name: str) -> Markup:
    return Markup(f"<a href='{escape(url_for('customer.details_view', id=model.customer_id))}'>"
                  f"{escape(model.customer.name)}</a>")


def _teams() -> list[ServiceTeam]:
    return list(db.session.scalars(select(ServiceTeam).where(ServiceTeam.active.is_(True)).order_by(ServiceTeam.name)))


def _agents() -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name)))


def _type_options() -> list[tuple[str, str]]:
    return [(str(i.id), i.name) for i in db.session.scalars(
        select(DictItem).where(DictItem.kind == DictKind.TICKET_TYPE.value).order_by(DictItem.sort_order, DictItem.id))]


def _status_options() -> list[tuple[str, str]]:
    return [(str(s.id), s.name) for s in tickets.statuses(db.session, active_only=False)]


def _label_of(table: dict) -> Any:
    return lambda v, c, m, n: table.get(getattr(m, n), getattr(m, n))


class TicketListView(CustomFieldsMixin, ScopedModelView):
    """One of the three lists; `which` narrows the actor's scope (mine / my teams' queue / all)."""

    which = "all"
    permission_view = "service.view"
    permission_create = "service.handle"
    permission_edit = "service.handle"
    permission_delete = None
    custom_entity = tickets.CUSTOM_ENTITY
    action_permissions = {"assign": "service.assign", "close": "service.handle"}

    can_view_details = True
    capped_count = True
    list_template = "admin/tickets/list.html"
    details_template = "admin/tickets/details.html"
    create_template = "admin/tickets/create.html"
    edit_template = "admin/tickets/edit.html"

    column_list = ["number", "subject", "customer", "ticket_type", "priority", "status", "sla", "assignee",
                   "created_at"]
    column_labels = LABELS
    column_sortable_list = ["number", "created_at", "priority"]
    column_default_sort = [("id", True)]
    column_searchable_list = ["number", "subject", "customer.name"]
    column_formatters = {
        "number": _number_link, "customer": _customer_link,
        "priority": lambda v, c, m, n: _badge(tickets.PRIORITY_CSS.get(m.priority, "light"),
                                              tickets.PRIORITY_LABELS.get(m.priority, m.priority)),
        "status": lambda v, c, m, n: _badge(tickets.CATEGORY_CSS.get(m.status_category, "light"), m.status.name),
        "sla": lambda v, c, m, n: sla_badge(m),
        "channel": _label_of(tickets.CHANNEL_LABELS),
    }
    column_filters = [
        drill(F.SLA_STATE, SlaStateFilter(Ticket.id, _l("SLA状态"),
                                          options=[(s.value, label) for s, label in sla.LABELS.items()])),
        drill(F.DUE_TODAY, DueTodayFilter(Ticket.id, _l("今日将超时"), options=[("1", _l("今日将超时"))])),
        drill(F.TICKET_STATUS, IdEqual(Ticket.status_id, _l("状态"), options=LazyOptions(_status_options))),
        drill(F.TICKET_CATEGORY, OneOf(Ticket.status_category, _l("状态分类"), allowed=list(tickets.CATEGORY_LABELS),
                                       options=[(",".join(tickets.ACTIVE_CATEGORIES), _l("未结（处理中、暂停）")),
                                                *tickets.CATEGORY_LABELS.items()])),
        drill(F.TICKET_TYPE, IdEqual(Ticket.type_id, _l("工单类型"), options=LazyOptions(_type_options))),
        drill(F.TICKET_PRIORITY, FilterEqual(Ticket.priority, _l("优先级"),
                                             options=list(tickets.PRIORITY_LABELS.items()))),
        drill(F.TICKET_CHANNEL, FilterEqual(Ticket.channel, _l("受理渠道"),
                                            options=list(tickets.CHANNEL_LABELS.items()))),
        drill(F.TEAM, IdEqual(Ticket.team_id, _l("服务组"),
                              options=LazyOptions(lambda: [(str(t.id), t.name) for t in _teams()]))),
        drill(F.ASSIGNEE, IdEqual(Ticket.assignee_id, _l("处理人"),
                                  options=LazyOptions(lambda: [(str(u.id), u.display_name) for u in _agents()]))),
        drill(F.CREATED_ON, LocalDateBetween(Ticket.created_at, _l("创建日期"))),
        drill(F.CUSTOMER, IdEqual(Ticket.customer_id, _l("客户"))),
    ]

    form_columns = ["customer", "contact", "channel", "ticket_type", "priority", "subject", "description",
                    "order_id", "contract_id", "product_id", "serial_no", "team_id", "assignee_id"]
    form_overrides = {"description": TextAreaField}
    form_extra_fields = {
        "channel": SelectField(_l("受理渠道"), choices=list(tickets.CHANNEL_LABELS.items()), default="phone"),
        "priority": SelectField(_l("优先级"), choices=list(tickets.PRIORITY_LABELS.items()), default="normal"),
        "order_id": BlankId(_l("关联订单")),
        "contract_id": BlankId(_l("关联合同")),
        "product_id": BlankId(_l("产品")),
        "team_id": BlankId(_l("服务组"), description=_l("选了服务组而处理人留空时，按该组的分派方式自动分派")),
        "assignee_id": BlankId(_l("处理人")),
    }
    form_args = {
        "customer": {"label": _l("客户")},
        "contact": {"label": _l("联系人"), "validators": [Optional()]},
        "ticket_type": {"label": _l("工单类型"), "query_factory": lambda: db.session.scalars(
            select(DictItem).where(DictItem.kind == DictKind.TICKET_TYPE.value, DictItem.active.is_(True))
            .order_by(DictItem.sort_order, DictItem.id)), "allow_blank": True, "blank_text": "—"},
        "subject": {"label": _l("主题")},
        "description": {"label": _l("问题描述"), "render_kw": {"rows": 5}},
        "serial_no": {"label": _l("序列号"), "description": _l("产品机身或保修卡上的序列号")},
    }
    form_ajax_refs = {
        "customer": CustomerLoader("customer", db, Customer, fields=["name", "code", "mnemonic"], page_size=10,
                                   placeholder=_l("输入客户名称、编号或助记码搜索"), minimum_input_length=1),
        "contact": ScopedAjaxModelLoader("contact", db, Contact, fields=["name", "mobile", "phone"], page_size=10,
                                         placeholder=_l("输入联系人姓名或电话搜索"), minimum_input_length=1),
    }

    # --- which rows -------------------------------------------------------------------------------
    def scope_clause(self) -> Any:
        clause = scope.clause_for(Ticket, current_actor())
        actor = current_actor()
        if self.which == "mine":
            return clause & (Ticket.assignee_id == actor.user_id)
        if self.which == "team":
            return clause & Ticket.team_id.in_(tickets.my_team_ids(db.session, actor)) \
                & Ticket.assignee_id.is_(None) & Ticket.status_category.in_(tickets.ACTIVE_CATEGORIES)
        return clause

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Ticket.customer), joinedload(Ticket.assignee),
                                           joinedload(Ticket.status), joinedload(Ticket.ticket_type))

    def search_placeholder(self) -> str:
        return gettext("工单编号、主题或客户名称")

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str) -> Any:
        found = tickets.search_clause(db.session, search)
        if found is None:
            return query, count_query, joins, count_joins
        g.kechi_count_cap = SEARCH_COUNT_CAP  # "1000+" hits says enough
        return query.filter(found), (count_query.filter(found) if count_query is not None else None), joins, count_joins

    def render(self, template: str, **kwargs: Any) -> Any:
        kwargs.update(ticket_tabs=TABS, ticket_which=self.which)
        return super().render(template, **kwargs)

    # --- the form ----------------------------------------------------------------------------------
    def _fill_choices(self, form: Any, ticket: Ticket | None) -> None:
        blank = [("", "—")]
        customer_id = None
        if "customer" in form and form.customer.data is not None:
            customer_id = getattr(form.customer.data, "id", None)
        customer_id = customer_id or (ticket.customer_id if ticket is not None else None)
        found = _customer_documents(customer_id) if customer_id else {"orders": [], "contracts": []}
        form.order_id.choices = blank + found["orders"]
        form.contract_id.choices = blank + found["contracts"]
        form.product_id.choices = blank + [(p.id, f"{p.code} {p.name}") for p in db.session.scalars(
            select(Product).where(Product.active.is_(True)).order_by(Product.code))]
        form.team_id.choices = blank + [(t.id, t.name) for t in _teams()]
        form.assignee_id.choices = [("", gettext("（暂不分派）"))] + [(u.id, u.display_name) for u in _agents()]

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        if request.method == "GET":
            actor = current_actor()
            try:
                if request.args.get("customer_id"):
                    form.customer.data = scope.get_in_scope(db.session, Customer, request.args["customer_id"], actor)
                if request.args.get("contact_id"):
                    contact = scope.get_in_scope(db.session, Contact, request.args["contact_id"], actor)
                    if form.customer.data is not None and contact.customer_id == form.customer.data.id:
                        form.contact.data = contact
            except OutOfScope:
                abort(404)
            if request.args.get("subject"):
                form.subject.data = params.clean_text(request.args["subject"])
        self._fill_choices(form, None)
        return form

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        self._fill_choices(form, obj)
        return form

    def apply_rules(self, form: Any, model: Ticket, is_created: bool) -> None:
        actor = current_actor()
        self.apply_custom_fields(form, model)
        with db.session.no_autoflush:
            if is_created:
                tickets.create(db.session, model, actor=actor, now=now(), tz=current_app.config["TIMEZONE"])
            else:
                old = db.session.scalar(select(Ticket.priority).where(Ticket.id == model.id))
                tickets.edit(db.session, model, actor=actor, now=now(), old_priority=old)

    def get_save_return_url(self, model: Any, is_created: bool = False) -> str:
        return url_for("ticket.details_view", id=model.id)

    # --- batch actions -------------------------------------------------------------------------------
    @action("close", _l("关闭"), _l("所选工单将改为“已关闭”，确定吗？"))
    def action_close(self, ids: list[str]) -> None:
        actor = current_actor()
        self.scoped_batch(ids)
        commit_or_explain(lambda: tickets.close_many(db.session, list(ids), actor=actor, now=now()),
                          lambda n: gettext("已关闭 %(n)d 张工单", n=n))

    @action("assign", _l("分派"))
    def action_assign(self, ids: list[str]) -> Any:
        self.scoped_batch(ids)
        return redirect(url_for("ticket.assign_view", ids=",".join(ids), url=request.referrer or ""))

    # --- the ticket page -------------------------------------------------------------------------------
    @expose("/details/")
    def details_view(self) -> Any:
        if self.endpoint != "ticket":
            return redirect(url_for("ticket.details_view", id=request.args.get("id")))
        ticket = self.get_one(request.args.get("id"))
        actor, when = current_actor(), now()
        entries = list(db.session.scalars(select(TicketEntry).where(TicketEntry.ticket_id == ticket.id)
                                          .options(joinedload(TicketEntry.author)).order_by(TicketEntry.id)))
        names = {s.id: s.name for s in tickets.statuses(db.session, active_only=False)}
        custom = [(d.label, custom_fields.display(d, (ticket.custom or {}).get(d.key)))
                  for d in request_definitions(tickets.CUSTOM_ENTITY)]
        links = _linked(ticket)
        draft = http_session.pop("ticket_reply_draft", None)
        draft_body = draft["body"] if isinstance(draft, dict) and draft.get("id") == ticket.id else ""
        return self.render(
            self.details_template, model=ticket, ticket=ticket, entries=entries, status_names=names, custom=custom,
            labels=LABELS, linked=links, sla_badge=sla_badge(ticket), sla_state=sla.state(ticket, when),
            next_statuses=tickets.next_statuses(db.session, ticket, actor, when),
            reopen_deadline=tickets.reopen_deadline(db.session, ticket),
            reopen_days=int(tickets.setting(db.session, "ticket_reopen_days")),
            can_handle=actor.can(tickets.HANDLE), can_assign=actor.can(tickets.ASSIGN),
            can_take=tickets.can_take(db.session, ticket, actor), agents=_agents() if actor.can(tickets.ASSIGN) else [],
            team=db.session.get(ServiceTeam, ticket.team_id) if ticket.team_id else None,
            draft_body=draft_body, t=tickets, return_url=back_url(request.values.get("url"), url_for(".index_view")))

    def _back(self, ticket_id: int) -> Any:
        return redirect(url_for("ticket.details_view", id=ticket_id))

    def _posted(self) -> Ticket:
        if not CsrfForm(request.form).validate():
            abort(400)
        return self.get_one(request.args.get("id"))

    @expose("/customer_documents/")
    def customer_documents_view(self) -> Any:
        """The chosen customer's orders and contracts for the form's drop-downs (404 outside scope)."""
        try:
            customer = scope.get_in_scope(db.session, Customer, request.args.get("customer_id"), current_actor())
        except OutOfScope:
            abort(404)
        return jsonify(_customer_documents(customer.id))

    @expose("/reply/", methods=["POST"])
    def reply_view(self) -> Any:
        ticket = self._posted()
        internal = request.form.get("kind") == "note"
        body = request.form.get("body", "")
        ok = commit_or_explain(lambda: tickets.reply(db.session, ticket.id, body, actor=current_actor(), now=now(),
                                                     internal=internal),
                               lambda _e: gettext("内部备注已保存") if internal else gettext("已回复客户"))
        if not ok:
            # The text stays in the box (the page reads it back from the session) to try again.
            http_session["ticket_reply_draft"] = {"id": ticket.id, "body": body[:20000]}
        return self._back(ticket.id)

    @expose("/move/", methods=["POST"])
    def move_view(self) -> Any:
        ticket = self._posted()
        form = request.form
        commit_or_explain(lambda: tickets.move(db.session, ticket.id, form.get("to_status_id"), actor=current_actor(),
                                               now=now(), seen_status_id=form.get("seen_status_id"),
                                               note=form.get("note")),
                          lambda t: gettext("工单状态已改为“%(s)s”", s=t.status.name))
        return self._back(ticket.id)

    @expose("/assign_one/", methods=["POST"])
    def assign_one_view(self) -> Any:
        ticket = self._posted()
        commit_or_explain(lambda: tickets.assign(db.session, ticket.id, request.form.get("assignee_id"),
                                                 actor=current_actor(), now=now()),
                          lambda t: gettext("工单已分派给 %(u)s", u=t.assignee.display_name))
        return self._back(ticket.id)

    @expose("/assign/", methods=["GET", "POST"])
    def assign_view(self) -> Any:
        """批量分派: the selected tickets (all in scope, or 404) to one colleague."""
        self.require("service.assign")
        ids = [i for i in (request.values.get("ids") or "").split(",") if i]
        records = self.scoped_batch(ids) if ids else []
        if not records:
            abort(404)
        back = back_url(request.values.get("url"), url_for(".index_view"))
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            who = request.form.get("assignee_id")
            if commit_or_explain(lambda: tickets.assign_many(db.session, ids, who, actor=current_actor(), now=now()),
                                 lambda n: gettext("已分派 %(n)d 张工单", n=n)):
                return redirect(back)
        return self.render("admin/tickets/assign.html", records=records, ids=",".join(ids), agents=_agents(),
                           return_url=back)


def _customer_documents(customer_id: int) -> dict[str, list[tuple[int, str]]]:
    """The customer's latest orders and contracts the reader sees, as (id, label)."""
    actor = current_actor()
    orders_ = db.session.scalars(scope.scoped(select(Order), Order, actor).where(Order.customer_id == customer_id)
                                 .order_by(Order.id.desc()).limit(50))
    contracts_ = db.session.scalars(scope.scoped(select(Contract), Contract, actor)
                                    .where(Contract.customer_id == customer_id).order_by(Contract.id.desc()).limit(50))
    return {"orders": [(o.id, f"{o.number} {o.order_date:%Y-%m-%d}") for o in orders_],
            "contracts": [(c.id, f"{c} {c.title}") for c in contracts_]}


def _linked(ticket: Ticket) -> dict[str, Any]:
    """The order, contract and product the ticket is about (the order and contract as far as
    the reader sees them)."""
    actor = current_actor()
    found: dict[str, Any] = {}
    if ticket.order_id:
        found["order"] = db.session.scalar(scope.scoped(select(Order).where(Order.id == ticket.order_id), Order, actor))
    if ticket.contract_id:
        found["contract"] = db.session.scalar(scope.scoped(select(Contract).where(Contract.id == ticket.contract_id),
                                                           Contract, actor))
    if ticket.product_id:
        found["product"] = db.session.get(Product, ticket.product_id)
    return found


class TicketView(TicketListView):
    """全部工单: every ticket in the actor's scope (rules/scope.ticket_clause)."""


class MyTicketView(TicketListView):
    which = "mine"
    column_list = [c for c in TicketListView.column_list if c != "assignee"]


class TeamTicketView(TicketListView):
    which = "team"


TABS = [("mine", "ticket_mine.index_view", _l("我的工单")), ("team", "ticket_team.index_view", _l("我组的工单")),
        ("all", "ticket.index_view", _l("全部工单"))]


def customer_tickets(customer_id: int) -> dict[str, Any]:
    """The customer 360 page's 服务 tab: the customer's tickets the reader sees, newest first."""
    actor = current_actor()
    if not actor.can("service.view"):
        return {"allowed": False, "tickets": []}
    found = list(db.session.scalars(
        scope.scoped(select(Ticket), Ticket, actor).where(Ticket.customer_id == customer_id)
        .options(joinedload(Ticket.status), joinedload(Ticket.assignee), joinedload(Ticket.ticket_type))
        .order_by(Ticket.id.desc()).limit(100)))
    return {"allowed": True, "tickets": found, "can_create": actor.can("service.handle"), "t": tickets,
            "sla_badge": sla_badge}


def init_app(app: Any) -> None:
    app.add_template_global(customer_tickets, "kechi_customer_tickets")


def views() -> list[Any]:
    return [
        MyTicketView(Ticket, name=_l("我的工单"), category=SERVICE, endpoint="ticket_mine", url="/admin/ticket_mine",
                     **fa("fa-ticket")),
        TeamTicketView(Ticket, name=_l("我组的工单"), category=SERVICE, endpoint="ticket_team",
                       url="/admin/ticket_team", **fa("fa-users")),
        TicketView(Ticket, name=_l("全部工单"), category=SERVICE, endpoint="ticket", **fa("fa-list")),
    ]
