"""开票 in the panel: the list (scoped, filters, 导出Excel), the request form (against a contract,
an order or a customer), the invoice page with the approvals panel and its moves (提交审批 / 开票 /
寄出 / 作废 / 红冲), the 发票抬头 editor, the customer page's 开票 tab and the contract/order pages'
开票 section (templates/admin/invoices/_for_document.html). Every change is a call into
rules/invoices.py or rules/invoice_titles.py."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import DateBetweenFilter, FilterEqual, FilterLike
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError
from wtforms import SelectField, StringField, TextAreaField

from admin_views.printing import PrintActionsMixin  # issue 20
from models.printing import PrintDocType  # issue 20
from admin_views import params
from admin_views.base import PermissionView, ScopedModelView
from admin_views.context import current_actor, now
from admin_views.custom_fields import CustomFieldsMixin, request_definitions, store_custom_fields, with_custom_fields
from admin_views.filters import AmountGreater, AmountSmaller, IdEqual, LazyOptions
from admin_views.formatters import fmt_money
from admin_views.forms import CsrfForm
from admin_views.menu import SALES, fa
from admin_views.navigation import back_url
from admin_views.transaction import commit_or_explain, transaction
from models import Contract, Customer, Invoice, InvoiceEvent, InvoiceTitle, Order, User, db
from rules import contract_balances, custom_fields, invoice_titles, invoices, numbering, scope
from rules.clock import local_date
from rules.errors import OutOfScope
from rules.links import ListKind

from admin_views import finance_drill

LABELS = {
    "number": _l("申请编号"), "customer": _l("客户"), "document": _l("合同/订单"), "title_name": _l("发票抬头"),
    "invoice_type": _l("发票类型"), "tax_rate": _l("税率"), "amount": _l("开票金额"), "amount_ex_tax": _l("不含税金额"),
    "tax": _l("税额"), "status": _l("状态"), "invoice_no": _l("发票号码"), "issued_on": _l("开票日期"),
    "owner": _l("负责人"), "created_at": _l("申请时间"), "requested_by": _l("申请人"), "issued_by": _l("开票人"),
    "carrier": _l("快递公司"), "tracking_no": _l("快递单号"), "tax_no": _l("税号"), "bank": _l("开户行"),
    "account": _l("账号"), "address": _l("地址"), "phone": _l("电话"), "notes": _l("备注"),
    "void_reason": _l("作废原因"),
}
MOVE_MESSAGES = {"submit": lambda n: gettext("开票申请 %(n)s 已提交", n=n),
                 "issue": lambda n: gettext("开票申请 %(n)s 已开票", n=n),
                 "send": lambda n: gettext("发票 %(n)s 已登记寄出", n=n),
                 "void": lambda n: gettext("开票申请 %(n)s 已作废", n=n)}


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def _url(endpoint: str, **values: Any) -> str | None:
    """A page of another module (the contract page arrives with its own branch)."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def document_url(invoice: Invoice) -> str | None:
    if invoice.order_id:
        return _url("order.details_view", id=invoice.order_id)
    if invoice.contract_id:
        return _url("contract.details_view", id=invoice.contract_id)
    return None


def document_name(invoice: Invoice) -> str:
    if invoice.order_id:
        return gettext("订单 %(n)s", n=invoice.order.number)
    if invoice.contract_id:
        return gettext("合同 %(n)s", n=str(invoice.contract))
    return "—"


def _number_link(view: Any, context: Any, model: Invoice, name: str) -> Markup:
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(url_for('invoice.details_view', id=model.id))}'>{escape(model.number)}</a>")


def _status_badge(view: Any, context: Any, model: Invoice, name: str) -> Markup:
    label = invoices.STATE_LABELS.get(model.status, model.status)
    css = invoices.STATE_CSS.get(model.status, "light")
    extra = ""
    if model.reverses_id:
        extra = f" <span class='badge badge-danger'>{escape(gettext('红字'))}</span>"
    # Markup is safe here: the css class comes from STATE_CSS, the labels pass through escape().
    return Markup(f"<span class='badge badge-{css}'>{escape(str(label))}</span>{extra}")


def _customer_link(view: Any, context: Any, model: Invoice, name: str) -> Markup:
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(url_for('customer.details_view', id=model.customer_id))}'>"
                  f"{escape(model.customer.name)}</a>")


def _document(view: Any, context: Any, model: Invoice, name: str) -> Markup:
    link, text = document_url(model), document_name(model)
    if link is None:
        return Markup(escape(text))
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(link)}'>{escape(text)}</a>")


def _money(view: Any, context: Any, model: Any, name: str) -> str:
    return fmt_money(getattr(model, name))


def _type(view: Any, context: Any, model: Invoice, name: str) -> str:
    return str(invoices.TYPE_LABELS.get(model.invoice_type, model.invoice_type))


def _id(target: dict[str, Any], kind: str) -> int | None:
    """The request's document: an order (its contract follows in the rules) or else a contract."""
    if kind == "contract" and target.get("order") is not None:
        return None
    document = target.get(kind)
    return document.id if document is not None else None


def _owner_options() -> list[tuple[str, str]]:
    return [(str(u.id), u.display_name) for u in db.session.scalars(
        select(User).where(User.active.is_(True), scope.owner_clause(User.id, current_actor()))
        .order_by(User.display_name))]


class InvoiceRequestForm(CsrfForm):
    title_id = SelectField(_l("发票抬头"), choices=[], validate_choice=False)
    invoice_type = SelectField(_l("发票类型"), choices=[(k, v) for k, v in invoices.TYPE_LABELS.items()],
                               default="special", validate_choice=False)
    amount = StringField(_l("开票金额（含税）"), render_kw={"inputmode": "decimal"})
    tax_rate = StringField(_l("税率"), description=_l("如 13 或 0.13 表示 13%；留空按合同/订单的税率"))
    notes = TextAreaField(_l("备注"), description=_l("给财务的说明，如开票内容、寄送地址"))


class TitleForm(CsrfForm):
    kind = SelectField(_l("抬头类型"), choices=[(k, v) for k, v in invoice_titles.KIND_LABELS.items()],
                       validate_choice=False)  # rules/invoice_titles checks it, with its own message
    name = StringField(_l("抬头名称"))
    tax_no = StringField(_l("税号"), description=_l("统一社会信用代码 18 位（旧税号 15 或 20 位）；个人可不填"))
    bank = StringField(_l("开户行"))
    account = StringField(_l("账号"))
    address = StringField(_l("地址"))
    phone = StringField(_l("电话"))
    is_default = SelectField(_l("默认抬头"), choices=[("", _l("否")), ("1", _l("是"))], validate_choice=False)


class InvoiceView(PrintActionsMixin, CustomFieldsMixin, ScopedModelView):
    """开票: every invoice the user may see (rules/scope.invoice_clause on every path)."""
    print_doc_types = (PrintDocType.INVOICE,)  # issue 20: 批量打印/导出PDF

    custom_entity = invoices.CUSTOM_ENTITY
    permission_view = "invoice.view"
    permission_create = "invoice.create"
    permission_edit = None      # an invoice changes only through its moves
    permission_delete = None    # 作废 / 红冲, never deleted
    permission_export = "invoice.view"
    export_entity = "invoice"

    can_view_details = True
    capped_count = True
    list_template = "admin/invoices/list.html"
    details_template = "admin/invoices/details.html"

    column_list = ["number", "customer", "document", "title_name", "invoice_type", "amount", "status", "invoice_no",
                   "issued_on", "owner", "created_at"]
    column_labels = LABELS
    column_sortable_list = ["number", "amount", "issued_on", "created_at"]
    column_default_sort = [("created_at", True), ("id", True)]
    column_searchable_list = ["number", "invoice_no", "title_name"]
    column_formatters = {"number": _number_link, "status": _status_badge, "amount": _money,
                         "customer": _customer_link, "document": _document, "invoice_type": _type}
    column_filters = [
        FilterEqual(Invoice.status, _l("状态"), options=list(invoices.STATE_LABELS.items())),
        FilterEqual(Invoice.invoice_type, _l("发票类型"), options=list(invoices.TYPE_LABELS.items())),
        FilterLike(Invoice.invoice_no, _l("发票号码")),
        IdEqual(Invoice.owner_id, _l("负责人"), options=LazyOptions(_owner_options)),
        DateBetweenFilter(Invoice.issued_on, _l("开票日期")),
        AmountGreater(Invoice.amount, _l("开票金额")),
        AmountSmaller(Invoice.amount, _l("开票金额")),
        IdEqual(Invoice.customer_id, _l("客户")),
        IdEqual(Invoice.contract_id, _l("合同")),
        IdEqual(Invoice.order_id, _l("订单")),
    ]

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        """No 创建 tab on the list: a request starts from its contract, order or customer page."""
        return False

    @staticmethod
    def drill_clauses() -> list[Any]:
        """A finance report's figure opens exactly the invoices it counted (?status=issued&issued_from=…)."""
        return finance_drill.clauses(ListKind.INVOICE)

    def get_query(self) -> Any:
        return super().get_query().filter(*self.drill_clauses()).options(
            joinedload(Invoice.customer), joinedload(Invoice.owner), joinedload(Invoice.contract),
            joinedload(Invoice.order))

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(*self.drill_clauses())

    def search_placeholder(self) -> str:
        return gettext("申请编号、发票号码或抬头")

    # --- 申请开票 ------------------------------------------------------------------------------------
    def _target(self) -> dict[str, Any]:
        """The document the request is for, from the address (?contract_id= / ?order_id= /
        ?customer_id=), loaded through the reader's scope (else 404)."""
        actor, found = current_actor(), {}
        try:
            if params.id_or_none(request.args.get("order_id")):
                order = scope.get_in_scope(db.session, Order, request.args["order_id"], actor)
                found = {"order": order, "customer_id": order.customer_id,
                         "contract": db.session.get(Contract, order.contract_id) if order.contract_id else None}
            elif params.id_or_none(request.args.get("contract_id")):
                contract = scope.get_in_scope(db.session, Contract, request.args["contract_id"], actor)
                found = {"contract": contract, "customer_id": contract.customer_id}
            elif params.id_or_none(request.args.get("customer_id")):
                customer = scope.get_in_scope(db.session, Customer, request.args["customer_id"], actor)
                found = {"customer_id": customer.id}
        except OutOfScope:
            abort(404)
        if not found:
            flash(gettext("请从合同、订单或客户页面的“申请开票”进入"), "error")
            abort(redirect(url_for(".index_view")))
        found["customer"] = db.session.get(Customer, found["customer_id"])
        found["room"] = invoices.room(db.session, contract=found.get("contract"), order=found.get("order"))
        return found

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self) -> Any:
        self.require(self.permission_create)
        target = self._target()
        form = with_custom_fields(InvoiceRequestForm, invoices.CUSTOM_ENTITY)(request.form)
        titles = invoice_titles.titles(db.session, target["customer_id"])
        form.title_id.choices = [(str(t.id), f"{t.name}（{invoice_titles.KIND_LABELS[t.kind]}）") for t in titles]
        if request.method == "GET" and target["room"] is not None and target["room"] > 0:
            form.amount.data = f"{target['room']:.2f}"
        if request.method == "POST" and form.validate():
            holder = SimpleNamespace(custom={})
            with transaction() as outcome:
                store_custom_fields(form, holder, request_definitions(invoices.CUSTOM_ENTITY))
                invoice = invoices.request(
                    db.session, actor=current_actor(), now=now(), tz=_tz(), title_id=form.title_id.data,
                    amount=form.amount.data, invoice_type=form.invoice_type.data, tax_rate=form.tax_rate.data,
                    customer_id=target["customer_id"], contract_id=_id(target, "contract"),
                    order_id=_id(target, "order"), notes=form.notes.data, custom=holder.custom)
                outcome.done(gettext("开票申请 %(n)s 已提交（%(s)s）", n=invoice.number,
                                     s=invoices.STATE_LABELS[invoice.status]))
            if outcome.ok:
                return redirect(url_for(".details_view", id=invoice.id))
        return self.render("admin/invoices/create.html", form=form, target=target, titles=titles,
                           title_url=url_for(".title_view", customer_id=target["customer_id"], url=request.url),
                           return_url=back_url(request.values.get("url"), url_for(".index_view")))

    # --- the invoice page ------------------------------------------------------------------------------
    @expose("/details/")
    def details_view(self) -> Any:
        invoice = self.get_one(request.args.get("id"))
        actor = current_actor()
        events = list(db.session.scalars(select(InvoiceEvent).where(InvoiceEvent.invoice_id == invoice.id)
                                         .options(joinedload(InvoiceEvent.actor)).order_by(InvoiceEvent.id)))
        reversal = invoices.reversal_of(db.session, invoice.id)
        moves = invoices.allowed_moves(invoice, actor)
        moves["reverse"] = moves["reverse"] and reversal is None
        reversed_of = db.session.get(Invoice, invoice.reverses_id) if invoice.reverses_id else None
        custom = [(d.label, custom_fields.display(d, (invoice.custom or {}).get(d.key)))
                  for d in custom_fields.definitions(db.session, invoices.CUSTOM_ENTITY)]
        return self.render(self.details_template, model=invoice, events=events, moves=moves, labels=LABELS,
                           reversal=reversal, reversed_of=reversed_of, custom=custom,
                           state_labels=invoices.STATE_LABELS, state_css=invoices.STATE_CSS,
                           type_labels=invoices.TYPE_LABELS, kind_labels=invoice_titles.KIND_LABELS,
                           event_labels=invoices.EVENT_LABELS, document_url=document_url(invoice),
                           document_name=document_name(invoice), today=local_date(now(), _tz()),
                           return_url=back_url(request.values.get("url"), url_for(".index_view")))

    @expose("/move/<move>/", methods=["POST"])
    def move_view(self, move: str) -> Any:
        """One invoice, one move, from the forms on the invoice page."""
        if move not in (*invoices.TRANSITIONS, "send", "reverse") or not CsrfForm(request.form).validate():
            abort(400)
        invoice = self.get_one(request.args.get("id"))
        actor, when, form = current_actor(), now(), request.form
        try:
            day = params.date_param(form.get("issued_on"), name=gettext("开票日期"))
        except params.BadParameter as exc:
            flash(exc.description, "error")
            return redirect(url_for(".details_view", id=invoice.id))
        if move == "reverse":
            if commit_or_explain(lambda: invoices.reverse(db.session, invoice.id, reason=form.get("reason"),
                                                          invoice_no=form.get("invoice_no"), issued_on=day,
                                                          actor=actor, now=when, tz=_tz()),
                                 lambda red: gettext("已红冲，红字发票 %(n)s", n=red.number)):
                return redirect(url_for(".details_view", id=invoices.reversal_of(db.session, invoice.id).id))
            return redirect(url_for(".details_view", id=invoice.id))
        calls = {
            "submit": lambda: invoices.submit(db.session, invoice.id, actor=actor, now=when),
            "issue": lambda: invoices.issue(db.session, invoice.id, invoice_no=form.get("invoice_no"),
                                            issued_on=day, actor=actor, now=when, tz=_tz()),
            "send": lambda: invoices.send(db.session, invoice.id, carrier=form.get("carrier"),
                                          tracking_no=form.get("tracking_no"), actor=actor, now=when),
            "void": lambda: invoices.void(db.session, invoice.id, reason=form.get("reason"), actor=actor, now=when),
        }
        commit_or_explain(calls[move], lambda _e: MOVE_MESSAGES[move](invoice.number))
        return redirect(url_for(".details_view", id=invoice.id))

    # --- 发票抬头 --------------------------------------------------------------------------------------
    def _title_customer(self) -> Customer:
        if not current_actor().can(invoice_titles.PERMISSION):
            abort(403)
        try:
            return scope.get_in_scope(db.session, Customer, request.args.get("customer_id"), current_actor())
        except OutOfScope:
            abort(404)

    @expose("/title/", methods=("GET", "POST"))
    def title_view(self) -> Any:
        """新增 or 修改 one 发票抬头 of a customer (?customer_id=, &title_id= to change one)."""
        customer = self._title_customer()
        title_id = params.id_or_none(request.args.get("title_id"))
        title = None
        if title_id:
            title = db.session.scalar(invoice_titles.live(customer.id).where(InvoiceTitle.id == title_id))
            if title is None:
                abort(404)
        form = TitleForm(request.form, obj=title)
        if title is not None and request.method == "GET":
            form.is_default.data = "1" if title.is_default else ""
        back = back_url(request.values.get("url"), url_for("customer.details_view", id=customer.id))
        if request.method == "POST" and form.validate():
            if commit_or_explain(lambda: invoice_titles.save(db.session, customer.id, request.form, actor=current_actor(),
                                                             now=now(), title_id=title_id),
                                 lambda saved: gettext("发票抬头“%(n)s”已保存", n=saved.name)):
                return redirect(back)
        return self.render("admin/invoices/title.html", form=form, customer=customer, title=title, return_url=back)

    @expose("/title/<move>/", methods=["POST"])
    def title_move(self, move: str) -> Any:
        """删除 or 设为默认 one title, from the customer page."""
        if move not in ("delete", "default") or not CsrfForm(request.form).validate():
            abort(400)
        customer = self._title_customer()
        title_id = params.id_or_none(request.form.get("title_id"))
        title = db.session.scalar(invoice_titles.live(customer.id).where(InvoiceTitle.id == title_id)) \
            if title_id else None
        if title is None:
            abort(404)
        if move == "delete":
            commit_or_explain(lambda: invoice_titles.remove(db.session, customer.id, title.id, actor=current_actor(),
                                                            now=now()),
                              lambda removed: gettext("发票抬头“%(n)s”已删除", n=removed.name))
        else:
            values = {field: getattr(title, field) for field in invoice_titles.FIELDS}
            commit_or_explain(lambda: invoice_titles.save(db.session, customer.id, {**values, "is_default": "1"},
                                                          actor=current_actor(), now=now(), title_id=title.id),
                              lambda saved: gettext("“%(n)s”已设为默认抬头", n=saved.name))
        return redirect(back_url(request.form.get("url"), url_for("customer.details_view", id=customer.id)))


# --- sections other pages include ------------------------------------------------------------------

def _rows(where: Any, actor: Any) -> list[Invoice]:
    return list(db.session.scalars(
        scope.scoped(select(Invoice), Invoice, actor).where(where)
        .options(joinedload(Invoice.contract), joinedload(Invoice.order))
        .order_by(Invoice.created_at.desc(), Invoice.id.desc()).limit(100)))


def _common(rows: list[Invoice], actor: Any) -> dict[str, Any]:
    return {"allowed": True, "invoices": rows, "reversed": invoices.reversed_ids(db.session, [r.id for r in rows]),
            "state_labels": invoices.STATE_LABELS, "state_css": invoices.STATE_CSS,
            "type_labels": invoices.TYPE_LABELS, "balance_labels": contract_balances.LABELS,
            "definition": contract_balances.DEFINITION, "can_create": actor.can(invoices.REQUEST),
            "document_name": document_name, "document_url": document_url}


def for_document(kind: str, ident: int) -> dict[str, Any]:
    """The contract or order page's 开票 section (a template global): its invoices the reader
    may see, its balances and what may still be requested."""
    actor = current_actor()
    model = {"contract": Contract, "order": Order}.get(kind)
    if model is None or not actor.can("invoice.view"):
        return {"allowed": False}
    try:
        document = scope.get_in_scope(db.session, model, ident, actor)
    except OutOfScope:
        return {"allowed": False}
    if kind == "contract":
        balances = contract_balances.of_contract(document)
        room = invoices.room(db.session, contract=document)
    else:
        balances = contract_balances.of_order(db.session, document)
        contract = db.session.get(Contract, document.contract_id) if document.contract_id else None
        room = invoices.room(db.session, contract=contract, order=document)
    found = _common(_rows(invoices.documents_where(kind, document.id), actor), actor)
    found.update(balances=balances, room=room, kind=kind, part_of_contract=kind == "order" and document.contract_id,
                 create_url=url_for("invoice.create_view", **{f"{kind}_id": document.id}, url=request.url))
    return found


def for_customer(customer_id: int) -> dict[str, Any]:
    """The customer page's 开票 tab: its 发票抬头, its balances across contracts and orders, its invoices."""
    actor = current_actor()
    if not actor.can("invoice.view"):
        return {"allowed": False}
    found = _common(_rows(Invoice.customer_id == customer_id, actor), actor)
    found.update(titles=invoice_titles.titles(db.session, customer_id),
                 balances=contract_balances.of_customer(db.session, customer_id),
                 kind_labels=invoice_titles.KIND_LABELS, can_manage=actor.can(invoice_titles.PERMISSION),
                 create_url=url_for("invoice.create_view", customer_id=customer_id, url=request.url))
    return found


def init_app(app: Any) -> None:
    app.add_template_global(for_document, "kechi_invoices_for")
    app.add_template_global(for_customer, "kechi_customer_invoices")


class InvoiceSettingsView(PermissionView):
    """开票设置 (settings.manage): the 申请编号 pattern."""

    permission = "settings.manage"

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        pattern = invoices.setting(db.session, "invoice_number_pattern")
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            pattern = request.form.get("invoice_number_pattern", "")
            if commit_or_explain(lambda: invoices.save_settings(db.session, request.form),
                                 lambda _r: gettext("开票设置已保存")):
                return redirect(url_for(".index"))
        try:
            preview = numbering.peek(db.session, invoices.NUMBER_SEQUENCE, pattern, today=local_date(now(), _tz()))
        except (KeyError, ValueError, IndexError):
            preview = ""
        return self.render("admin/invoices/settings.html", pattern=pattern, preview=preview)


def views() -> list[Any]:
    return [InvoiceView(Invoice, name=_l("开票"), category=SALES, endpoint="invoice", **fa("fa-ticket")),
            InvoiceSettingsView(name=_l("开票设置"), category=SALES, endpoint="invoice_settings", **fa("fa-cog"))]

