"""销售机会 in the panel: the list (endpoint "opportunity"), the opportunity's page (lines,
parties, collaborators, follow-ups, stage history, the outcome buttons), its entry/edit form, and
the customer page's 销售机会 tab. Every path loads through rules/scope.opportunity_clause; every
change is a call into rules/opportunities.py (or rules/opportunity_stages.py for stages)."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import DateBetweenFilter, FilterEqual, FilterLike
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from admin_views import params, pipeline_drill
from admin_views.base import ScopedModelView
from admin_views.context import current_actor, local_today, now
from admin_views.customer_labels import FOLLOW_UP_KIND_LABELS
from admin_views.filters import AmountGreater, AmountSmaller, IdEqual, LazyOptions, StaffInDepartment
from admin_views.formatters import choice_label, fmt_date, fmt_money
from admin_views.forms import CsrfForm, FollowUpQuickForm
from admin_views.menu import SALES, fa
from admin_views.navigation import back_url
from admin_views.opportunity_actions import OpportunityActionsMixin
from admin_views.transaction import transaction
from models import Contact, Customer, FollowUp, FollowUpTemplate, User, db
from models.dictionary import DictKind
from models.opportunity import (
    Opportunity, OpportunityCollaborator, OpportunityEvent, OpportunityLine, OpportunityParty, Outcome, Stage,
    StageGroup,
)
from models.product import Product
from models.quote import Quote
from rules import custom_fields, dictionaries, opportunities, products, scope
from rules import opportunity_stages as stage_rules
from rules.opportunities import LineInput, OpportunityInput, PartyInput
from rules.stage_groups import REQUIRED_FIELDS

LABELS = {
    "number": _l("编号"), "title": _l("名称"), "customer": _l("客户"), "stage": _l("阶段"),
    "probability": _l("赢率"), "amount": _l("金额"), "expected_close_on": _l("预计成交"), "owner": _l("负责人"),
    "outcome": _l("状态"), "contact": _l("联系人"), "group": _l("所属阶段组"), "source": _l("来源"),
    "price_level": _l("价格等级"), "notes": _l("备注"), "created_at": _l("创建时间"),
    "last_follow_up_at": _l("最近跟进"), "department": _l("部门"), "is_project": _l("项目型跟单"),
}
OUTCOME_CSS = {Outcome.OPEN.value: "primary", Outcome.WON.value: "success", Outcome.LOST.value: "secondary",
               Outcome.INVALID.value: "light"}
BLANK_LINES = 3
BLANK_PARTIES = 2
CUSTOMER_CHOICES = 200


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def _number_link(view: Any, context: Any, model: Opportunity, name: str) -> Markup:
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(url_for('opportunity.details_view', id=model.id))}'>{escape(model.number)}</a>")


def _outcome_badge(view: Any, context: Any, model: Opportunity, name: str) -> Markup:
    label = opportunities.OUTCOME_LABELS.get(model.outcome, model.outcome)
    # Markup is safe here: the css class comes from OUTCOME_CSS, the label passes through escape().
    return Markup(f"<span class='badge badge-{OUTCOME_CSS.get(model.outcome, 'light')}'>{escape(str(label))}</span>")


def _probability(view: Any, context: Any, model: Opportunity, name: str) -> str:
    return f"{model.stage.probability}%"


def _money(view: Any, context: Any, model: Opportunity, name: str) -> str:
    return fmt_money(getattr(model, name))


def _owner_options() -> list[tuple[str, str]]:
    return [(str(u.id), u.display_name) for u in _colleagues_in_scope()]


def _colleagues_in_scope() -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True),
                                                      scope.owner_clause(User.id, current_actor()))
                                   .order_by(User.display_name)))


def _stage_options() -> list[tuple[str, str]]:
    rows = db.session.execute(select(Stage.id, Stage.name, StageGroup.name).join(StageGroup)
                              .order_by(StageGroup.sort_order, StageGroup.id, Stage.sort_order)).all()
    return [(str(i), f"{group} · {name}") for i, name, group in rows]


def _group_options() -> list[tuple[str, str]]:
    return [(str(g.id), g.name) for g in db.session.scalars(select(StageGroup).order_by(StageGroup.sort_order))]


class OpportunityView(OpportunityActionsMixin, ScopedModelView):
    """销售机会: every opportunity the reader may see (owned in scope, or as a collaborator)."""

    permission_view = "opportunity.view"
    permission_create = "opportunity.create"
    permission_edit = "opportunity.edit"
    permission_delete = None
    permission_export = None

    can_view_details = True
    capped_count = True
    list_template = "admin/opportunities/list.html"

    column_list = ["number", "title", "customer", "stage", "probability", "amount", "expected_close_on", "owner",
                   "outcome"]
    column_labels = LABELS
    column_sortable_list = ["number", "amount", "expected_close_on", "created_at"]
    column_default_sort = [("created_at", True), ("id", True)]
    column_searchable_list = ["number", "title"]
    column_formatters = {"number": _number_link, "outcome": _outcome_badge, "probability": _probability,
                         "amount": _money, "expected_close_on": lambda v, c, m, n: fmt_date(m.expected_close_on)}
    column_formatters_export = {"outcome": choice_label(opportunities.OUTCOME_LABELS)}
    column_filters = [
        FilterEqual(Opportunity.outcome, _l("状态"), options=[(k, v) for k, v in opportunities.OUTCOME_LABELS.items()]),
        IdEqual(Opportunity.stage_id, _l("阶段"), options=LazyOptions(_stage_options)),
        IdEqual(Opportunity.group_id, _l("阶段组"), options=LazyOptions(_group_options)),
        IdEqual(Opportunity.owner_id, _l("负责人"), options=LazyOptions(_owner_options)),
        StaffInDepartment(Opportunity.owner_id, _l("负责人部门")),
        DateBetweenFilter(Opportunity.expected_close_on, _l("预计成交")),
        AmountGreater(Opportunity.amount, _l("金额")),
        AmountSmaller(Opportunity.amount, _l("金额")),
        FilterLike(Opportunity.number, _l("编号")),
    ]

    def search_placeholder(self) -> str:
        return gettext("编号或名称")

    def scope_clause(self) -> Any:
        path = opportunities.list_path(db.session, current_actor())
        clause = super().scope_clause()
        return clause if path is None else and_(path, clause)

    def get_query(self) -> Any:
        # A pipeline report's figure opens the opportunities it counted (admin_views/pipeline_drill.py).
        return super().get_query().options(joinedload(Opportunity.customer), joinedload(Opportunity.stage),
                                           joinedload(Opportunity.owner)).filter(
            *pipeline_drill.opportunity_clauses(db.session))

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(*pipeline_drill.opportunity_clauses(db.session))

    # --- the opportunity's page -------------------------------------------------------------

    @expose("/details/")
    def details_view(self) -> Any:
        opportunity = self.get_one(request.args.get("id"))
        return self.render("admin/opportunities/details.html", **self._page_context(opportunity))

    def _page_context(self, opportunity: Opportunity) -> dict[str, Any]:
        actor = current_actor()
        lines = list(db.session.scalars(select(OpportunityLine).where(OpportunityLine.opportunity_id == opportunity.id)
                                        .options(joinedload(OpportunityLine.product)).order_by(OpportunityLine.id)))
        parties = list(db.session.scalars(select(OpportunityParty).where(
            OpportunityParty.opportunity_id == opportunity.id).options(
            joinedload(OpportunityParty.customer), joinedload(OpportunityParty.role),
            joinedload(OpportunityParty.contact)).order_by(OpportunityParty.id)))
        visible_parties = set(scope.ids_in_scope(db.session, Customer, [p.customer_id for p in parties], actor))
        collaborators = list(db.session.scalars(select(OpportunityCollaborator).where(
            OpportunityCollaborator.opportunity_id == opportunity.id).options(joinedload(OpportunityCollaborator.user))))
        follow_ups = list(db.session.scalars(select(FollowUp).where(FollowUp.opportunity_id == opportunity.id)
                                             .options(joinedload(FollowUp.user), joinedload(FollowUp.contact))
                                             .order_by(FollowUp.happened_at.desc(), FollowUp.id.desc()).limit(100)))
        history = list(db.session.scalars(select(OpportunityEvent).where(
            OpportunityEvent.opportunity_id == opportunity.id).options(
            joinedload(OpportunityEvent.from_stage), joinedload(OpportunityEvent.to_stage),
            joinedload(OpportunityEvent.actor)).order_by(OpportunityEvent.at.desc(), OpportunityEvent.id.desc())))
        people = {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(
            {e.from_user_id for e in history} | {e.to_user_id for e in history})))}
        is_open = opportunity.outcome == Outcome.OPEN.value
        can_edit = actor.can("opportunity.edit")
        quotes = self._quotes(opportunity)
        custom = [(d.label, custom_fields.display(d, (opportunity.custom or {}).get(d.key)))
                  for d in custom_fields.definitions(db.session, opportunities.CUSTOM_ENTITY)]
        return {
            "model": opportunity, "labels": LABELS, "lines": lines, "parties": parties,
            "visible_parties": visible_parties, "collaborators": collaborators, "follow_ups": follow_ups,
            "history": history, "people": people, "event_labels": opportunities.EVENT_LABELS,
            "outcome_labels": opportunities.OUTCOME_LABELS, "outcome_css": OUTCOME_CSS,
            "follow_up_kinds": FOLLOW_UP_KIND_LABELS, "custom": custom,
            "stages": [s for s in opportunity.group.stages if s.active],
            "customer_visible": bool(scope.ids_in_scope(db.session, Customer, [opportunity.customer_id], actor)),
            "show_stage_buttons": can_edit and is_open,
            "can_reopen": actor.can("opportunity.reopen") and not is_open,
            "can_edit": can_edit and is_open,
            "can_order": opportunity.outcome == Outcome.WON.value and opportunity.order_id is None
                         and actor.can("order.create")
                         and not opportunities.has_live_contract(db.session, opportunity.id),
            "can_assign": actor.can("opportunity.assign") and db.session.scalar(
                select(Opportunity.id).where(Opportunity.id == opportunity.id,
                                             opportunities.assign_clause(actor))) is not None,
            "assignees": _colleagues_in_scope() if actor.can("opportunity.assign") else [],
            "loss_reasons": dictionaries.items(db.session, DictKind.LOSS_REASON),
            "follow_up_form": self._follow_up_form(opportunity),
            "quotes": quotes,
            "return_url": back_url(request.values.get("url"), self.get_url(".index_view")),
        }

    def _quotes(self, opportunity: Opportunity) -> list[Any]:
        """The quotes of this opportunity the reader may see (the quotes section, when quotes exist)."""
        return list(db.session.scalars(select(Quote).where(Quote.opportunity_id == opportunity.id,
                                                           scope.quote_clause(current_actor()))
                                       .order_by(Quote.id.desc())))

    def _follow_up_form(self, opportunity: Opportunity, formdata: Any = None) -> FollowUpQuickForm:
        form = FollowUpQuickForm(formdata)
        form.kind.choices = list(FOLLOW_UP_KIND_LABELS.items())
        form.contact_id.choices = [("", "—")] + [
            (str(c.id), c.name) for c in db.session.scalars(select(Contact).where(
                Contact.customer_id == opportunity.customer_id).order_by(Contact.is_primary.desc(), Contact.id))]
        form.template_id.choices = [("", "—")] + [
            (str(t.id), t.name) for t in db.session.scalars(
                select(FollowUpTemplate).where(FollowUpTemplate.active.is_(True)).order_by(FollowUpTemplate.name))]
        return form

    def _back_to(self, opportunity_id: int, anchor: str | None = None) -> Any:
        return redirect(url_for(".details_view", id=opportunity_id, _anchor=anchor))

    def _posted(self) -> int:
        """The opportunity a POST names, checked for CSRF and scope (404 outside)."""
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            abort(redirect(self.get_url(".index_view")))
        return self.get_one(request.args.get("id")).id

    @expose("/follow-up/", methods=["POST"])
    def add_follow_up(self) -> Any:
        opportunity = self.get_one(request.args.get("id"))
        form = self._follow_up_form(opportunity, request.form)
        if not form.validate():
            for errors in form.errors.values():
                for error in errors:
                    flash(str(error), "error")
            return self._back_to(opportunity.id, "follow-ups")
        with transaction(gettext("已添加联系记录")):
            opportunities.add_follow_up(db.session, opportunity.id, actor=current_actor(), kind=form.kind.data,
                                        content=form.content.data, now=now(), today=local_today(),
                                        contact_id=form.contact_id.data, next_contact_at=form.next_contact_at.data,
                                        template_id=form.template_id.data)
        return self._back_to(opportunity.id, "follow-ups")

    @expose("/stage/", methods=["POST"])
    def stage_view(self) -> Any:
        """推进阶段 / 赢单 / 输单 / 无效 / 重新打开: rules/opportunity_stages.py decides."""
        opportunity_id = self._posted()
        kind = request.form.get("do")
        note = params.clean_text(request.form.get("note")) or None
        common = {"actor": current_actor(), "now": now()}
        calls = {
            "move": lambda: stage_rules.move(db.session, opportunity_id,
                                             params.optional_int(request.form.get("stage_id"), name="stage_id"),
                                             note=note, **common),
            "win": lambda: stage_rules.win(db.session, opportunity_id, note=note, **common),
            "lose": lambda: stage_rules.lose(db.session, opportunity_id,
                                             reason_id=params.optional_int(request.form.get("reason_id"),
                                                                           name="reason_id"),
                                             note=note, **common),
            "invalid": lambda: stage_rules.mark_invalid(db.session, opportunity_id, note=note, **common),
            "reopen": lambda: stage_rules.reopen(db.session, opportunity_id, note=note, **common),
        }
        if kind not in calls:
            abort(400)
        with transaction(gettext("已保存")):
            calls[kind]()
        return self._back_to(opportunity_id, "history")

    @expose("/order/", methods=["POST"])
    def order_view(self) -> Any:
        """生成订单 of a won opportunity (once)."""
        opportunity_id = self._posted()
        self.require("order.create")
        with transaction() as outcome:
            order = opportunities.create_order(db.session, opportunity_id, actor=current_actor(), now=now(), tz=_tz())
            outcome.done(gettext("已生成订单 %(n)s，等待审核", n=order.number))
        if outcome.ok:
            return redirect(url_for("order.details_view", id=order.id))
        return self._back_to(opportunity_id)

    @expose("/assign/", methods=["POST"])
    def assign_view(self) -> Any:
        """转移负责人: stage, lines, follow-ups and history stay."""
        opportunity_id = self._posted()
        self.require("opportunity.assign")
        with transaction(gettext("已转移负责人")):
            opportunities.assign(db.session, [opportunity_id], to_user_id=request.form.get("to_user_id"),
                                 actor=current_actor(), now=now(), note=params.clean_text(request.form.get("note")))
        return self._back_to(opportunity_id, "history")

    # --- entry and edit ---------------------------------------------------------------------

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self) -> Any:
        if not self.can_create:
            abort(403)
        values = self._form_values() if request.method == "POST" else self._blank_values()
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
            else:
                with transaction() as outcome:
                    created = opportunities.create(db.session, values, actor=current_actor(), now=now(), tz=_tz())
                    outcome.done(gettext("已新建销售机会 %(n)s", n=created.number))
                if outcome.ok:
                    return redirect(url_for(".details_view", id=created.id))
        return self.render("admin/opportunities/form.html", **self._form_context(values, None))

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self) -> Any:
        if not self.can_edit:
            abort(403)
        opportunity = self.get_one(request.args.get("id"))
        values = self._form_values() if request.method == "POST" else self._values_of(opportunity)
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
            else:
                with transaction(gettext("已保存")) as outcome:
                    opportunities.update(db.session, opportunity.id, values, actor=current_actor(), now=now())
                if outcome.ok:
                    return redirect(url_for(".details_view", id=opportunity.id))
        return self.render("admin/opportunities/form.html", **self._form_context(values, opportunity))

    def _blank_values(self) -> OpportunityInput:
        customer_id = params.id_or_none(request.args.get("customer_id"))
        return OpportunityInput(customer_id=customer_id, owner_id=current_actor().user_id)

    def _values_of(self, opportunity: Opportunity) -> OpportunityInput:
        return OpportunityInput(
            title=opportunity.title, customer_id=opportunity.customer_id, contact_id=opportunity.contact_id,
            expected_close_on=opportunity.expected_close_on, amount=opportunity.amount,
            price_level_id=opportunity.price_level_id, source_id=opportunity.source_id, notes=opportunity.notes,
            is_project=opportunity.is_project,
            lines=[LineInput(line.product_id, line.quantity, line.unit_price, line.discount_rate)
                   for line in opportunity.lines],
            parties=[PartyInput(p.customer_id, p.role_id, p.contact_id, p.notes) for p in db.session.scalars(
                select(OpportunityParty).where(OpportunityParty.opportunity_id == opportunity.id)
                .order_by(OpportunityParty.id))],
            collaborator_ids=list(db.session.scalars(select(OpportunityCollaborator.user_id).where(
                OpportunityCollaborator.opportunity_id == opportunity.id))),
            custom=dict(opportunity.custom or {}), owner_id=opportunity.owner_id)

    def _form_values(self) -> OpportunityInput:
        """What was typed, as typed (the form shows it again when the save is refused)."""
        form = request.form
        lines = [LineInput(form.get(f"line-{i}-product_id") or None, form.get(f"line-{i}-quantity", ""),
                           form.get(f"line-{i}-unit_price") or None, form.get(f"line-{i}-discount_rate") or None)
                 for i in range(params.positive_int(form.get("line_rows"), name="line_rows", default=0, maximum=200))]
        parties = [PartyInput(form.get(f"party-{i}-customer_id") or None, form.get(f"party-{i}-role_id") or None,
                              form.get(f"party-{i}-contact_id") or None, form.get(f"party-{i}-notes") or None)
                   for i in range(params.positive_int(form.get("party_rows"), name="party_rows", default=0,
                                                      maximum=100))]
        return OpportunityInput(
            title=form.get("title", ""), customer_id=form.get("customer_id") or None,
            contact_id=form.get("contact_id") or None,
            expected_close_on=params.date_param(form.get("expected_close_on"), name="expected_close_on"),
            amount=form.get("amount") or None, price_level_id=form.get("price_level_id") or None,
            source_id=form.get("source_id") or None, notes=form.get("notes"),
            is_project=bool(form.get("is_project")), lines=[line for line in lines if line.product_id],
            parties=[p for p in parties if p.customer_id], collaborator_ids=form.getlist("collaborator_ids"),
            custom={d.key: (form.getlist(f"custom-{d.key}") if d.field_type == "multi_choice"
                            else form.get(f"custom-{d.key}"))
                    for d in custom_fields.definitions(db.session, opportunities.CUSTOM_ENTITY)},
            owner_id=form.get("owner_id") or None, source_lead_id=form.get("source_lead_id") or None)

    def _form_context(self, values: OpportunityInput, opportunity: Opportunity | None) -> dict[str, Any]:
        actor = current_actor()
        term = params.clean_text(request.args.get("customer_q"))
        customers_stmt = select(Customer).where(scope.customer_clause(actor))
        if term:
            customers_stmt = customers_stmt.where(or_(Customer.name.contains(term, autoescape=True),
                                                      Customer.code == term))
        choices = list(db.session.scalars(customers_stmt.order_by(Customer.id.desc()).limit(CUSTOMER_CHOICES)))
        wanted = {params.id_or_none(values.customer_id)} | {params.id_or_none(p.customer_id) for p in values.parties}
        wanted.discard(None)
        present = {c.id for c in choices}
        # The chosen ones stay listed: those in scope, and on an edit the customers the
        # opportunity already names (a party its reader does not see is shown by name only there).
        linked = set()
        if opportunity is not None:
            linked = {opportunity.customer_id} | set(db.session.scalars(select(OpportunityParty.customer_id).where(
                OpportunityParty.opportunity_id == opportunity.id)))
        missing = wanted - present
        shown = (missing & linked) | set(scope.ids_in_scope(db.session, Customer, list(missing - linked), actor))
        if shown:
            choices = list(db.session.scalars(select(Customer).where(Customer.id.in_(shown)))) + choices
        wanted &= present | shown
        contacts = {}
        if wanted:
            for contact in db.session.scalars(select(Contact).where(Contact.customer_id.in_(wanted))
                                              .order_by(Contact.is_primary.desc(), Contact.id)):
                contacts.setdefault(contact.customer_id, []).append(contact)
        line_rows = list(values.lines) + [LineInput(None, "", None, None) for _ in range(BLANK_LINES)]
        party_rows = list(values.parties) + [PartyInput(None) for _ in range(BLANK_PARTIES)]
        return {
            "model": opportunity, "values": values, "labels": LABELS, "customers": choices, "customer_q": term,
            "contacts": contacts, "line_rows": line_rows, "party_rows": party_rows,
            "products": list(db.session.scalars(select(Product).where(Product.active.is_(True))
                                                .order_by(Product.code).limit(1000))),
            "levels": products.levels(db.session),
            "sources": dictionaries.items(db.session, DictKind.SOURCE),
            "roles": dictionaries.items(db.session, DictKind.PROJECT_ROLE),
            "colleagues": list(db.session.scalars(select(User).where(User.active.is_(True))
                                                  .options(joinedload(User.department)).order_by(User.display_name))),
            "owners": _colleagues_in_scope(),
            "custom_fields": custom_fields.definitions(db.session, opportunities.CUSTOM_ENTITY),
            "required_labels": REQUIRED_FIELDS,
            "selected": lambda value, current: str(value or "") == str(current or ""),
            "str": str,
            "return_url": back_url(request.values.get("url"), self.get_url(".index_view")),
        }


def customer_opportunities(customer_id: int) -> dict[str, Any]:
    """The customer page's 销售机会 tab: the opportunities its reader may see on which the customer
    is the main customer or a party of the project."""
    actor = current_actor()
    if not actor.can("opportunity.view"):
        return {"allowed": False}
    rows = list(db.session.scalars(select(Opportunity).where(opportunities.for_customer_clause(customer_id, actor))
                                   .options(joinedload(Opportunity.stage), joinedload(Opportunity.owner))
                                   .order_by(Opportunity.created_at.desc(), Opportunity.id.desc()).limit(200)))
    roles = {}
    party_rows = db.session.execute(select(OpportunityParty.opportunity_id, OpportunityParty.role_id).where(
        OpportunityParty.customer_id == customer_id, OpportunityParty.opportunity_id.in_([o.id for o in rows]))).all()
    names = {i.id: i.name for i in dictionaries.items(db.session, DictKind.PROJECT_ROLE, include_inactive=True)}
    for opportunity_id, role_id in party_rows:
        roles.setdefault(opportunity_id, []).append(names.get(role_id, ""))
    return {"allowed": True, "rows": rows, "roles": roles, "outcome_labels": opportunities.OUTCOME_LABELS,
            "outcome_css": OUTCOME_CSS, "can_create": actor.can("opportunity.create")}


def init_app(app: Any) -> None:
    """The customer 360 page's 销售机会 tab calls `kechi_customer_opportunities(customer_id)`."""
    app.add_template_global(customer_opportunities, "kechi_customer_opportunities")


def views() -> list[Any]:
    return [OpportunityView(Opportunity, name=_l("销售机会"), category=SALES, endpoint="opportunity",
                            **fa("fa-lightbulb-o"))]

