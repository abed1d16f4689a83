"""合同 in the panel: the list (quick search by number, name or customer; filters; xlsx export),
the 即将到期 list, the contract page (lines with what is already ordered, money 应收/已收/抹零/
已开票/未收, the approvals panel, instalments and invoices, history, versions, and the moves this
contract allows: 提交审批 / 完成 / 作废 / 新版本 / 生成订单 / 转移负责人), the entry form with its
lines, 合同设置, the customer page's 合同 tab, and 新建合同 / 转合同 on the opportunity and quote
pages. Every change is a call into rules/contracts.py."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import DateBetweenFilter, FilterEqual, FilterLike
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.validators import Optional

from admin_views.printing import PrintActionsMixin  # issue 20
from models.printing import PrintDocType  # issue 20
from admin_views import params
from admin_views.base import PermissionView, ScopedModelView
from admin_views.context import current_actor, local_today, now
from admin_views.custom_fields import CustomFieldsMixin, request_definitions
from admin_views.finance_drill import FinanceDrillMixin
from admin_views.filters import AmountGreater, AmountSmaller, IdEqual, LazyOptions, OneOf, StaffInDepartment
from admin_views.forms import CsrfForm
from admin_views.line_documents import LineDocumentEntry
from admin_views.links import drill
from admin_views.loaders import ScopedAjaxModelLoader
from admin_views.menu import SALES, fa
from admin_views.navigation import back_url
# The quote pages' field helpers fit a contract as they are (customer, owner, products, money).
from admin_views.quotes import (
    BlankUntilTyped, _active_products, _customer_link, _money, _owner_options, _owners,
)
from admin_views.transaction import commit_or_explain
from models import Contact, Customer, Opportunity, Order, PriceLevel, User, db
from models.contract import Contract, ContractEvent, ContractLine
from rules import contracts, custom_fields, numbering, quotes, scope
from rules.clock import local_date
from rules.errors import OutOfScope
from rules.links import DrillFilter as F
from rules.links import ListKind

LABELS = {
    "number": _l("合同编号"), "title": _l("合同名称"), "customer": _l("客户"), "opportunity": _l("销售机会"),
    "quote": _l("报价单"), "contact": _l("联系人"), "status": _l("状态"), "total": _l("合同金额"),
    "received": _l("已收"), "signed_on": _l("签订日期"), "start_on": _l("开始日期"), "end_on": _l("结束日期"),
    "remind_days": _l("到期提前提醒（天）"), "owner": _l("负责人"), "price_level": _l("价格等级"),
    "tax_rate": _l("税率"), "our_signatory": _l("我方签约人"), "their_signatory": _l("客户签约人"),
    "terms": _l("合同条款"), "notes": _l("备注"), "gross": _l("原价合计"), "discount": _l("折扣金额"),
    "amount_ex_tax": _l("不含税金额"), "tax": _l("税额"), "lines": _l("产品明细"), "department": _l("部门"),
}
LINE_LABELS = {"product": _l("产品"), "quantity": _l("数量"), "unit_price": _l("单价（留空按价格等级）"),
               "discount_rate": _l("折扣（1=不打折，0.9=9折）"), "notes": _l("说明")}


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def _number_link(view: Any, context: Any, model: Contract, name: str) -> Markup:
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(url_for('contract.details_view', id=model.id))}'>{escape(str(model))}</a>")


def _status_badge(view: Any, context: Any, model: Contract, name: str) -> Markup:
    label = contracts.STATE_LABELS.get(model.status, model.status)
    css = contracts.STATE_CSS.get(model.status, "light")
    # Markup is safe here: the css class comes from STATE_CSS, the label passes through escape().
    return Markup(f"<span class='badge badge-{css}'>{escape(str(label))}</span>")


class ContractView(PrintActionsMixin, FinanceDrillMixin, LineDocumentEntry, CustomFieldsMixin, ScopedModelView):
    """合同: every contract the user may see (rules/scope.contract_clause on every path; changes
    through contract_write_clause)."""
    print_doc_types = (PrintDocType.CONTRACT,)  # issue 20: 批量打印/导出PDF
    drill_kind = ListKind.CONTRACT  # a finance report's figure opens the rows it counted

    permission_view = "contract.view"
    permission_create = "contract.create"
    permission_edit = "contract.create"
    permission_delete = None
    permission_export = "contract.view"
    export_entity = "contract"
    custom_entity = contracts.CUSTOM_ENTITY

    can_view_details = True
    capped_count = True  # "10000+" rather than counting every contract in scope on each page
    list_template = "admin/contracts/list.html"
    details_template = "admin/contracts/details.html"
    create_template = "admin/contracts/create.html"
    edit_template = "admin/contracts/edit.html"

    column_list = ["number", "title", "customer", "status", "total", "received", "signed_on", "end_on", "owner"]
    column_labels = LABELS
    column_sortable_list = ["number", "signed_on", "end_on", "total"]
    column_default_sort = [("signed_on", True), ("id", True)]
    column_searchable_list = ["number", "title", "customer.name"]
    column_formatters = {"number": _number_link, "status": _status_badge, "total": _money, "received": _money,
                         "customer": _customer_link}
    column_filters = [
        FilterEqual(Contract.status, _l("状态"), options=list(contracts.STATE_LABELS.items())),
        FilterLike(Contract.number, _l("合同编号")),
        FilterLike(Contract.title, _l("合同名称")),
        drill(F.OWNER, IdEqual(Contract.owner_id, _l("负责人"), options=LazyOptions(_owner_options))),
        DateBetweenFilter(Contract.signed_on, _l("签订日期")),
        DateBetweenFilter(Contract.end_on, _l("结束日期")),
        AmountGreater(Contract.total, _l("合同金额")),
        AmountSmaller(Contract.total, _l("合同金额")),
        IdEqual(Contract.customer_id, _l("客户")),
        IdEqual(Contract.opportunity_id, _l("销售机会")),
        drill(F.STATE_IN, OneOf(Contract.status, _l("状态范围"), allowed=list(contracts.STATE_LABELS),
                                options=[("active,completed", _l("已生效（执行中、已完成）"))])),
        drill(F.OWNER_DEPARTMENT_TREE, StaffInDepartment(Contract.owner_id, _l("负责人部门"))),
    ]
    form_columns = ["title", "customer", "opportunity", "contact", "owner", "signed_on", "start_on", "end_on",
                    "remind_days", "price_level", "tax_rate", "our_signatory", "their_signatory", "terms", "notes"]
    form_args = {
        "title": {"label": _l("合同名称")},
        "customer": {"label": _l("客户"), "validators": [Optional()]},
        "opportunity": {"label": _l("销售机会"), "validators": [Optional()],
                        "description": _l("从销售机会签约时，客户取该机会的客户")},
        "contact": {"label": _l("联系人"), "validators": [Optional()]},
        "owner": {"query_factory": _owners, "label": _l("负责人"), "allow_blank": True,
                  "blank_text": _l("（我）"), "validators": [Optional()]},
        "signed_on": {"label": _l("签订日期"), "description": _l("留空为今天"), "validators": [Optional()]},
        "start_on": {"label": _l("开始日期"), "validators": [Optional()]},
        "end_on": {"label": _l("结束日期"), "validators": [Optional()],
                   "description": _l("执行中的合同在结束日期前按“到期提前提醒”天数提醒负责人")},
        "remind_days": {"label": _l("到期提前提醒（天）"), "validators": [Optional()],
                        "description": _l("留空按合同设置")},
        "price_level": {"query_factory": lambda: db.session.scalars(
            select(PriceLevel).where(PriceLevel.active.is_(True)).order_by(PriceLevel.sort_order, PriceLevel.id)),
            "label": _l("价格等级"), "allow_blank": True, "blank_text": "—"},
        "tax_rate": {"label": _l("税率"), "description": _l("如 0.13 表示 13%；留空按订单设置"),
                     "validators": [Optional()]},
        "our_signatory": {"query_factory": lambda: db.session.scalars(
            select(User).where(User.active.is_(True)).order_by(User.display_name)),
            "label": _l("我方签约人"), "allow_blank": True, "blank_text": "—"},
        "their_signatory": {"label": _l("客户签约人")},
        "terms": {"label": _l("合同条款")},
        "notes": {"label": _l("备注")},
    }
    form_overrides = {"tax_rate": BlankUntilTyped, "remind_days": BlankUntilTyped}
    form_ajax_refs = {
        "customer": ScopedAjaxModelLoader("customer", db, Customer, fields=["name", "code", "mnemonic"], page_size=10,
                                          placeholder=_l("输入客户名称、编号或助记码搜索"), minimum_input_length=1),
        "opportunity": ScopedAjaxModelLoader("opportunity", db, Opportunity, fields=["title", "number"],
                                             page_size=10, placeholder=_l("输入机会名称或编号搜索"),
                                             minimum_input_length=1),
        "contact": ScopedAjaxModelLoader("contact", db, Contact, fields=["name", "mobile"], page_size=10,
                                         placeholder=_l("输入联系人姓名或手机搜索"), minimum_input_length=1),
    }
    inline_models = [(ContractLine, {
        "form_columns": ["id", "product", "quantity", "unit_price", "discount_rate", "notes"],
        "column_labels": LINE_LABELS,
        "form_label": _l("产品明细"),
        "form_args": {"product": {"query_factory": _active_products, "label": _l("产品")},
                      "quantity": {"default": 1}, "discount_rate": {"default": Decimal("1")},
                      "unit_price": {"validators": [Optional()]}},
        "form_overrides": {"unit_price": BlankUntilTyped},
    })]

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Contract.customer), joinedload(Contract.owner))

    def search_placeholder(self) -> str:
        return gettext("合同编号、名称或客户")

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str) -> Any:
        by_number = contracts.number_search_clause(search)
        if by_number is None:
            return super()._apply_search(query, count_query, joins, count_joins, search)
        query = query.filter(by_number)
        return query, (count_query.filter(by_number) if count_query is not None else None), joins, count_joins

    # --- entry ------------------------------------------------------------------------------------
    filled_by_rules = ("customer", "signed_on", "owner", "tax_rate", "remind_days")

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        if request.method == "GET":
            try:
                if request.args.get("customer_id"):
                    form.customer.data = scope.get_in_scope(db.session, Customer, request.args["customer_id"],
                                                            current_actor())
            except OutOfScope:
                abort(404)
        return form

    def apply_rules(self, form: Any, model: Contract, is_created: bool) -> None:
        actor = current_actor()
        self.apply_custom_fields(form, model)
        with db.session.no_autoflush:
            self.keep_filled_lines(model)
            if is_created:
                self.hand_to_rules(model)
                contracts.create(db.session, model, actor=actor, now=now(), tz=_tz())
            else:
                contracts.edit(db.session, model, actor=actor, now=now(), tz=_tz())

    def after_model_change(self, form: Any, model: Contract, is_created: bool) -> None:
        if is_created:
            flash(gettext("合同 %(n)s 已保存为草稿；确认无误后“提交审批”", n=str(model)), "success")

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self) -> Any:
        contract = self.get_one(request.args.get("id"))
        reason = contracts.locked_reason(contract, contract.status)
        if reason is not None:
            flash(str(reason), "error")
            return redirect(url_for(".details_view", id=contract.id))
        return super().edit_view()

    # --- the contract page --------------------------------------------------------------------------
    @expose("/details/")
    def details_view(self) -> Any:
        contract = self.get_one(request.args.get("id"))
        actor = current_actor()
        events = list(db.session.scalars(select(ContractEvent).where(ContractEvent.contract_id == contract.id)
                                         .options(joinedload(ContractEvent.actor)).order_by(ContractEvent.id)))
        custom = [(d.label, custom_fields.display(d, (contract.custom or {}).get(d.key)))
                  for d in request_definitions(contracts.CUSTOM_ENTITY)]
        moves = contracts.allowed_moves(db.session, contract, actor)
        return self.render(self.details_template, model=contract, events=events, versions=_versions(contract),
                           moves=moves, labels=LABELS, state_labels=contracts.STATE_LABELS,
                           state_css=contracts.STATE_CSS, event_labels=contracts.EVENT_LABELS, zhe=quotes.zhe,
                           percent_off=quotes.percent_off, remaining=contracts.remaining,
                           balances=contracts.balances(contract), custom=custom, orders=_orders(contract),
                           assignees=[u for u in _owners() if u.id != contract.owner_id] if moves.assign else [],
                           return_url=back_url(request.values.get("url"), url_for(".index_view")))

    @expose("/move/<move>/", methods=["POST"])
    def move_view(self, move: str) -> Any:
        """One contract, one move, from the buttons on the contract page."""
        if move not in ("submit", "complete", "void", "revise", "order", "assign") \
                or not CsrfForm(request.form).validate():
            abort(400)
        contract = self.get_one(request.args.get("id"))
        actor, when, form = current_actor(), now(), request.form
        made: list[Any] = []

        def keep(result: Any) -> Any:
            made.append(result)
            return result

        if move == "submit":
            commit_or_explain(lambda: contracts.submit(db.session, contract.id, actor=actor, now=when),
                              lambda _e: _submitted_message(contract.id))
        elif move == "complete":
            commit_or_explain(lambda: contracts.complete(db.session, contract.id, actor=actor, now=when,
                                                         note=form.get("note")),
                              lambda _e: gettext("合同 %(n)s 已完成", n=str(contract)))
        elif move == "void":
            commit_or_explain(lambda: contracts.void(db.session, contract.id, reason=form.get("reason", ""),
                                                     actor=actor, now=when),
                              lambda _e: gettext("合同 %(n)s 已作废；如需变更可生成新版本", n=str(contract)))
        elif move == "revise":
            if commit_or_explain(lambda: keep(contracts.revise(db.session, contract.id, actor=actor, now=when,
                                                               tz=_tz())),
                                 lambda new: gettext("已生成新版本 %(n)s（草稿），请修改后提交审批", n=str(new))):
                return redirect(url_for(".details_view", id=made[0].id))
        elif move == "order":
            quantities = {key.removeprefix("qty-"): value for key, value in form.items() if key.startswith("qty-")}
            if commit_or_explain(lambda: keep(contracts.create_order(db.session, contract.id, actor=actor, now=when,
                                                                     tz=_tz(), quantities=quantities or None)),
                                 lambda order: gettext("已生成订单 %(n)s，等待审核", n=order.number)):
                return redirect(url_for("order.details_view", id=made[0].id))
        else:
            commit_or_explain(lambda: contracts.assign(db.session, contract.id, to_user_id=form.get("to_user_id"),
                                                       actor=actor, now=when),
                              lambda _e: gettext("合同 %(n)s 已转移负责人", n=str(contract)))
        return redirect(url_for(".details_view", id=contract.id))

    @expose("/from_opportunity/", methods=["POST"])
    def from_opportunity_view(self) -> Any:
        """新建合同 on a won opportunity's page: a draft with its lines, then its form."""
        return self._made_from(lambda actor, when: contracts.from_opportunity(
            db.session, params.int_id(request.form.get("opportunity_id")), actor=actor, now=when, tz=_tz()))

    @expose("/from_quote/", methods=["POST"])
    def from_quote_view(self) -> Any:
        """转合同 on an accepted quote's page: a draft with the quote's lines and money."""
        return self._made_from(lambda actor, when: contracts.from_quote(
            db.session, params.int_id(request.form.get("quote_id")), actor=actor, now=when, tz=_tz()))

    def _made_from(self, make: Any) -> Any:
        self.require("contract.create")
        if not CsrfForm(request.form).validate():
            abort(400)
        made: list[Contract] = []
        if commit_or_explain(lambda: made.append(make(current_actor(), now())) or made[0],
                             lambda c: gettext("已生成合同草稿 %(n)s，请补全签订信息后提交审批", n=str(c))):
            return redirect(url_for(".edit_view", id=made[0].id, url=url_for(".details_view", id=made[0].id)))
        return redirect(back_url(request.form.get("url"), url_for(".index_view")))


def _submitted_message(contract_id: int) -> str:
    status = db.session.scalar(select(Contract.status).where(Contract.id == contract_id))
    if status == contracts.C.ACTIVE:
        return gettext("合同已生效（无需审批），状态为“执行中”")
    return gettext("合同已提交审批，审批期间不能修改")


def _versions(contract: Contract) -> list[Contract]:
    """The contract's versions the reader may see, newest first."""
    found = select(Contract).where(Contract.number == contract.number).order_by(Contract.revision.desc())
    return list(db.session.scalars(scope.scoped(found, Contract, current_actor())))


def _orders(contract: Contract) -> list[Order]:
    """Orders produced from the contract that the reader may see."""
    found = select(Order).where(Order.contract_id == contract.id).order_by(Order.id)
    return list(db.session.scalars(scope.scoped(found, Order, current_actor())))


class ExpiringContractView(ContractView):
    """即将到期: contracts in force ending within the next N days (合同设置), soonest first."""

    permission_create = None
    list_template = "admin/contracts/expiring.html"
    column_default_sort = [("end_on", False), ("id", False)]

    def expiring_days(self) -> int:
        return int(contracts.setting(db.session, "contract_expiring_days"))

    def _expiring(self) -> Any:
        return contracts.expiring_clause(local_today(), self.expiring_days())

    def get_query(self) -> Any:
        return super().get_query().filter(self._expiring())

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(self._expiring())

    @expose("/details/")
    def details_view(self) -> Any:
        return redirect(url_for("contract.details_view", id=request.args.get("id")))


def _listing(where: Any) -> dict[str, Any]:
    actor = current_actor()
    if not actor.can("contract.view"):
        return {"allowed": False, "contracts": []}
    found = list(db.session.scalars(
        scope.scoped(select(Contract), Contract, actor).where(where).options(joinedload(Contract.owner))
        .order_by(Contract.signed_on.desc(), Contract.id.desc()).limit(100)))
    return {"allowed": True, "contracts": found, "state_labels": contracts.STATE_LABELS,
            "state_css": contracts.STATE_CSS, "can_create": actor.can("contract.create")}


def customer_contracts(customer_id: int) -> dict[str, Any]:
    """The customer 360 page's 合同 tab (a template global): the contracts the reader may see."""
    return _listing(Contract.customer_id == customer_id)


def opportunity_contracts(opportunity: Any) -> dict[str, Any]:
    """The opportunity page's 合同 buttons: its contracts, and 新建合同 once it is won."""
    listing = _listing(Contract.opportunity_id == opportunity.id)
    live = [c for c in listing["contracts"] if c.status != contracts.C.VOID]
    listing["can_make"] = listing.get("can_create", False) and opportunity.outcome == "won" and not live \
        and bool(opportunity.lines)
    return listing


def quote_contracts(quote: Any) -> dict[str, Any]:
    """The quote page's 转合同 button (an accepted, newest quote not already an order) and its contract."""
    listing = _listing(Contract.quote_id == quote.id)
    live = [c for c in listing["contracts"] if c.status != contracts.C.VOID]
    listing["can_make"] = listing.get("can_create", False) and quote.status == "accepted" and not live \
        and quote.superseded_by_id is None and quote.order_id is None
    return listing


def init_app(app: Any) -> None:
    app.add_template_global(customer_contracts, "kechi_customer_contracts")
    app.add_template_global(opportunity_contracts, "kechi_opportunity_contracts")
    app.add_template_global(quote_contracts, "kechi_quote_contracts")


class ContractSettingsView(PermissionView):
    """合同设置 (settings.manage): number pattern, reminder days, the 即将到期 window."""

    permission = "settings.manage"

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        values = {key: contracts.setting(db.session, key) for key in contracts.DEFAULTS}
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            values = {key: request.form.get(key, "") for key in contracts.DEFAULTS}
            if commit_or_explain(lambda: contracts.save_settings(db.session, request.form),
                                 lambda _r: gettext("合同设置已保存")):
                return redirect(url_for(".index"))
        try:
            preview = numbering.peek(db.session, contracts.NUMBER_SEQUENCE, values["contract_number_pattern"],
                                     today=local_date(now(), _tz()))
        except (KeyError, ValueError, IndexError):
            preview = ""
        return self.render("admin/contracts/settings.html", values=values, preview=preview)


def views() -> list[Any]:
    return [
        ContractView(Contract, name=_l("合同"), category=SALES, endpoint="contract", **fa("fa-file-text")),
        ExpiringContractView(Contract, name=_l("即将到期合同"), category=SALES, endpoint="contract_expiring",
                             **fa("fa-hourglass-half")),
        ContractSettingsView(name=_l("合同设置"), category=SALES, endpoint="contract_settings", **fa("fa-cog")),
    ]
