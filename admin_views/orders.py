"""订单 in the panel: entry, 订单综合查询, one list per state, the order page with its
history, and every move (single and batch) as a call into rules/orders.py."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, current_app, flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, DateBetweenFilter, FilterEqual, FilterLike
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from wtforms.validators import Optional

from admin_views.printing import PrintActionsMixin  # issue 20
from models.printing import PrintDocType  # issue 20
from admin_views import params
from admin_views.base import PermissionView, ScopedModelView
from admin_views.context import current_actor, now
from admin_views.filters import (
    AmountGreater, AmountSmaller, IdEqual, LazyOptions, LocalDateBetween, OneOf, OrderHasCategory, OrderHasProduct, StaffInDepartment,
)
from admin_views.formatters import choice_label, fmt_money
from admin_views.links import drill
from admin_views.forms import REGION_FIELD_ARGS, CsrfForm
from admin_views.line_documents import LineDocumentEntry
from admin_views.loaders import ScopedAjaxModelLoader
from admin_views.menu import SALES, fa
from admin_views.navigation import back_url
from admin_views.transaction import commit_or_explain
from models import (
    Customer, Order, OrderEvent, OrderLine, OrderReturn, OrderStatus, Payment, PaymentStatus, PointsEntry, PriceLevel,
    Product, ProductPrice, User, Warehouse,
    DataScope, db,
)
from rules import approvals, dictionaries, numbering, orders, payments, receivables, regions, reports, scope
from rules.clock import local_date
from rules.errors import OutOfScope, RuleViolation
from rules.links import DrillFilter as F

S = OrderStatus
STATE_CSS = {S.PENDING_REVIEW: "warning", S.PICKING: "info", S.SHIPPED: "primary", S.COMPLETED: "success",
             S.CANCELLED: "secondary", S.RETURNED: "danger"}
CARRIERS = ["顺丰速运", "中通快递", "圆通速递", "申通快递", "韵达快递", "京东物流", "EMS", "德邦物流", "自提", "送货上门"]
LABELS = {
    "number": _l("订单编号"), "order_date": _l("订单日期"), "customer": _l("客户"), "salesperson": _l("业务员"),
    "state": _l("状态"), "consignee": _l("收货人"), "phone": _l("收货电话"), "province": _l("省份"),
    "city": _l("城市"), "district": _l("区县"), "address": _l("收货地址"), "region": _l("地区"),
    "price_level": _l("价格等级"), "warehouse": _l("发货仓库"), "notes": _l("备注"), "total": _l("订单金额"),
    "gross": _l("原价合计"), "discount": _l("折扣金额"), "amount_ex_tax": _l("不含税金额"), "tax": _l("税额"),
    "tax_rate": _l("税率"), "cost": _l("成本"), "margin": _l("毛利"), "received": _l("已收"),
    "outstanding": _l("欠款"), "refunded": _l("已退"), "carrier": _l("物流公司"), "tracking_no": _l("物流单号"),
    "approved_at": _l("审核时间"), "shipped_at": _l("发货时间"), "completed_at": _l("完成时间"),
    "created_by": _l("录入人"), "lines": _l("产品明细"), "close_reason": _l("取消/退货原因"),
}
PARTLY_RETURNED = _l("部分退货")
POINTS_REASONS = {"order": _l("订单完成"), "return": _l("退货扣回"), "redeem": _l("兑换"), "adjust": _l("调整")}
LINE_LABELS = {"product": _l("产品"), "quantity": _l("数量"), "unit_price": _l("单价（留空按价格等级）"),
               "discount_rate": _l("折扣（1=不打折，0.9=九折）")}


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def _money(view: Any, context: Any, model: Any, name: str) -> str:
    return fmt_money(getattr(model, name))


def _state_badge(view: Any, context: Any, model: Order, name: str) -> Markup:
    label = orders.STATE_LABELS.get(model.state, model.state)
    # Markup is safe here: the css class comes from STATE_CSS, the label passes through escape().
    return Markup(f"<span class='badge badge-{STATE_CSS.get(model.state, 'light')}'>{escape(str(label))}</span>")


def _number_link(view: Any, context: Any, model: Order, name: str) -> Markup:
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(url_for('order.details_view', id=model.id))}'>{escape(model.number)}</a>")


def _region(view: Any, context: Any, model: Order, name: str) -> str:
    return " ".join(p for p in (model.province, model.city if model.city != model.province else None) if p)


def _outstanding(view: Any, context: Any, model: Order, name: str) -> Markup | str:
    owed = receivables.outstanding(model)
    if not owed:
        return ""
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<span class='text-danger'>{escape(fmt_money(owed))}</span>")


def _kept_total(view: Any, context: Any, model: Order, name: str) -> Markup | str:
    """订单金额 of what the customer kept; a partly returned order says so."""
    amount = fmt_money(receivables.kept_amount(model))
    if not model.returned_amount or model.state == S.RETURNED:
        return amount
    # Markup is safe here: the amount and the label pass through escape().
    return Markup(f"{escape(amount)} <span class='badge badge-warning'>{escape(str(PARTLY_RETURNED))}</span>")


def _kept(field: str) -> Any:
    return lambda view, context, model, name: getattr(orders.kept(model), field)


def _active_products() -> Any:
    return db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code))


def _salespeople() -> Any:
    return db.session.scalars(select(User).where(User.active.is_(True), scope.owner_clause(User.id, current_actor()))
                              .order_by(User.display_name))


class ProductOrdered(BaseSQLAFilter):
    """订单综合查询 by product: orders with a line whose product code or name matches."""

    def operation(self) -> Any:
        return _l("包含")

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        like = f"%{value}%"
        products = select(Product.id).where(or_(Product.code == value.upper(), Product.name.like(like)))
        return query.filter(Order.id.in_(select(OrderLine.order_id).where(OrderLine.product_id.in_(products))))


def _salesperson_options() -> list[tuple[str, str]]:
    return [(str(u.id), u.display_name) for u in _salespeople()]


class OrderView(PrintActionsMixin, LineDocumentEntry, ScopedModelView):
    """订单 / 订单综合查询: every order the user may see, any filter combination."""
    print_doc_types = (PrintDocType.ORDER, PrintDocType.DELIVERY)  # issue 20: 批量打印/导出PDF

    permission_view = "order.view"
    permission_create = "order.create"
    permission_edit = "order.create"
    permission_delete = None
    permission_export = "order.view"
    export_entity = "order"
    # Each move's action is offered to those the state machine lets make it (rules/orders.py).
    action_permissions = {name: move.permissions for name, move in orders.TRANSITIONS.items()}
    state: str | None = None  # the per-state lists narrow to one state
    money_definition = receivables.DEFINITION  # under the list, which shows 欠款

    can_view_details = True
    capped_count = True
    list_template = "admin/orders/list.html"
    details_template = "admin/orders/details.html"
    create_template = "admin/orders/create.html"
    edit_template = "admin/orders/edit.html"

    column_list = ["number", "order_date", "customer", "consignee", "phone", "region", "total", "outstanding",
                   "salesperson", "state"]
    column_labels = LABELS
    column_export_list = ["number", "order_date", "customer", "salesperson", "state", "consignee", "phone",
                          "province", "city", "district", "address", "gross", "discount", "total", "amount_ex_tax",
                          "tax", "cost", "margin", "received", "refunded", "carrier", "tracking_no", "approved_at",
                          "shipped_at", "completed_at", "notes"]
    column_sortable_list = ["number", "order_date", "total"]
    column_default_sort = [("order_date", True), ("id", True)]
    column_searchable_list = ["number", "consignee", "phone"]
    column_formatters = {"number": _number_link, "state": _state_badge, "total": _kept_total, "region": _region,
                         "outstanding": _outstanding}
    # 订单金额, 税额, 成本, 毛利 of what the customer kept, as on the order page.
    column_formatters_export = {"state": choice_label(orders.STATE_LABELS), "total": _kept("amount"),
                                "amount_ex_tax": _kept("amount_ex_tax"), "tax": _kept("tax"), "cost": _kept("cost"),
                                "margin": _kept("margin")}
    column_filters = [
        FilterEqual(Order.state, _l("状态"), options=list(orders.STATE_LABELS.items())),
        FilterLike(Order.number, _l("订单编号")),
        FilterLike(Order.consignee, _l("收货人")),
        FilterLike(Order.phone, _l("收货电话")),
        FilterEqual(Order.province, _l("省份"), options=LazyOptions(lambda: [(p, p) for p in regions.tree()])),
        FilterLike(Order.city, _l("城市")),
        drill(F.OWNER, IdEqual(Order.salesperson_id, _l("业务员"), options=LazyOptions(_salesperson_options))),
        drill(F.ORDER_DATE, DateBetweenFilter(Order.order_date, _l("订单日期"))),
        LocalDateBetween(Order.approved_at, _l("审核/配货日期")),
        LocalDateBetween(Order.shipped_at, _l("发货日期")),
        LocalDateBetween(Order.completed_at, _l("完成日期")),
        AmountGreater(Order.total, _l("订单金额")),
        AmountSmaller(Order.total, _l("订单金额")),
        ProductOrdered(Order.id, _l("产品（编号或名称）")),
        # appended last so the positions of saved filter links stay
        drill(F.STATE_IN, OneOf(Order.state, _l("状态范围"),
                                allowed=reports.REVIEWED_STATES + (S.PENDING_REVIEW.value,),
                                options=[(",".join(reports.REVIEWED_STATES), _l("已审核")),
                                         (",".join(reports.SOLD_STATES), _l("已成交（不含取消）"))])),
        drill(F.OWNER_DEPARTMENT_TREE, StaffInDepartment(Order.salesperson_id, _l("业务员部门"))),
        drill(F.PRODUCT, OrderHasProduct(_l("产品"))),
        drill(F.PRODUCT_CATEGORY, OrderHasCategory(_l("产品类别"))),
    ]
    form_columns = ["customer", "salesperson", "order_date", "price_level", "warehouse", "consignee", "phone",
                    "province", "city", "district", "address", "notes"]
    form_args = {
        "customer": {"label": _l("客户")},
        "salesperson": {"query_factory": _salespeople, "label": _l("业务员"), "allow_blank": True,
                        "blank_text": _l("（客户的业务员）"), "validators": [Optional()]},
        "price_level": {"query_factory": lambda: db.session.scalars(
            select(PriceLevel).where(PriceLevel.active.is_(True)).order_by(PriceLevel.sort_order, PriceLevel.id)),
            "label": _l("价格等级"), "allow_blank": True, "blank_text": "—"},
        "warehouse": {"query_factory": lambda: db.session.scalars(
            select(Warehouse).where(Warehouse.active.is_(True)).order_by(Warehouse.id)),
            "label": _l("发货仓库"), "allow_blank": True, "blank_text": _l("（默认仓库）")},
        "order_date": {"label": _l("订单日期"), "description": _l("留空为今天"), "validators": [Optional()]},
        "consignee": {"description": _l("留空则取客户的首要联系人")},
        **REGION_FIELD_ARGS,
    }
    form_ajax_refs = {
        "customer": ScopedAjaxModelLoader("customer", db, Customer, fields=["name", "code", "mnemonic"], page_size=10,
                                          placeholder=_l("输入客户名称、编号或助记码搜索"), minimum_input_length=1),
    }
    inline_models = [(OrderLine, {
        "form_columns": ["id", "product", "quantity", "unit_price", "discount_rate"],
        "column_labels": LINE_LABELS,
        "form_label": _l("产品明细"),
        "form_args": {"product": {"query_factory": _active_products, "label": _l("产品")},
                      "quantity": {"default": 1}, "discount_rate": {"default": Decimal("1")}},
    })]

    # --- the query --------------------------------------------------------------------------------
    def narrow(self, query: Any) -> Any:
        return query.filter(Order.state == self.state) if self.state else query

    def get_query(self) -> Any:
        return self.narrow(super().get_query()).options(joinedload(Order.customer), joinedload(Order.salesperson))

    def get_count_query(self) -> Any:
        return self.narrow(super().get_count_query())

    @property
    def simple_list_pager(self) -> bool:  # type: ignore[override]
        """Someone who sees part of the orders pages without a total: counting their orders
        means checking every order of the state against their scope (hundreds of ms at a
        million orders), while a page of them takes one index walk."""
        return has_request_context() and current_user.is_authenticated and \
            current_actor().data_scope != DataScope.ALL

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self.state is None and self._allowed(self.permission_create)

    def search_placeholder(self) -> str:
        return gettext("订单编号、收货人或电话")

    # --- entry ----------------------------------------------------------------------------------
    filled_by_rules = ("order_date", "salesperson")

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        wanted = request.args.get("customer_id")
        if request.method == "GET" and wanted:
            try:
                form.customer.data = scope.get_in_scope(db.session, Customer, wanted, current_actor())
            except OutOfScope:
                abort(404)
        return form

    def apply_rules(self, form: Any, model: Order, is_created: bool) -> None:
        actor = current_actor()
        with db.session.no_autoflush:
            self.keep_filled_lines(model)
            if is_created:
                self.hand_to_rules(model)
                orders.submit(db.session, model, actor=actor, now=now(), tz=_tz())
            else:
                orders.revise(db.session, model, actor=actor)

    def after_model_change(self, form: Any, model: Order, is_created: bool) -> None:
        if is_created:
            flash(gettext("订单 %(n)s 已提交，等待审核", n=model.number), "success")

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self) -> Any:
        order = self.get_one(request.args.get("id"))
        if order.state != S.PENDING_REVIEW:
            flash(gettext("订单 %(n)s 当前状态为“%(s)s”，只有“等待审核”的订单可以修改", n=order.number,
                          s=orders.STATE_LABELS.get(order.state)), "error")
            return redirect(url_for(".details_view", id=order.id))
        return super().edit_view()

    # --- the order page ---------------------------------------------------------------------------
    @expose("/details/")
    def details_view(self) -> Any:
        order = self.get_one(request.args.get("id"))
        actor = current_actor()
        events = list(db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)
                                         .options(joinedload(OrderEvent.actor)).order_by(OrderEvent.id)))
        paid = list(db.session.scalars(select(Payment).where(Payment.order_id == order.id)
                                       .options(joinedload(Payment.recorded_by), joinedload(Payment.approved_by))
                                       .order_by(Payment.id)))
        moves = {name: order.state in t.sources and t.allows(actor) for name, t in orders.TRANSITIONS.items()}
        returned = {}
        for row in db.session.scalars(select(OrderReturn).where(OrderReturn.order_id == order.id)
                                      .options(joinedload(OrderReturn.line)).order_by(OrderReturn.id)):
            returned.setdefault(row.event_id, []).append(row)
        return self.render(self.details_template, model=order, events=events, payments=paid, moves=moves,
                           money=receivables.figures(order), kept=orders.kept(order), returns=returned,
                           payable=payments.order_room(db.session, order), definition=receivables.DEFINITION,
                           partly_returned=bool(order.returned_amount) and order.state != S.RETURNED,
                           labels=LABELS, state_labels=orders.STATE_LABELS, event_labels=orders.EVENT_LABELS,
                           state_css=STATE_CSS, carriers=CARRIERS, methods=payments.METHODS, method_labels=payments.METHOD_LABELS,
                           payment_kinds=payments.KIND_LABELS, payment_status=payments.STATUS_LABELS,
                           can_pay=payments.may_record(actor), can_edit=order.state == S.PENDING_REVIEW and self.can_edit
                           and approvals.current(db.session, orders.DISCOUNT, order.id) is None,
                           discount=_discount(order),
                           today=local_date(now(), _tz()), return_url=back_url(request.values.get("url"), url_for(".index_view")))

    @expose("/move/<move>/", methods=["POST"])
    def move_view(self, move: str) -> Any:
        """One order, one move, from the buttons on the order page."""
        name = move
        if name not in orders.TRANSITIONS or not CsrfForm(request.form).validate():
            abort(400)
        order = self.get_one(request.args.get("id"))
        actor, form = current_actor(), request.form
        back = url_for(".details_view", id=order.id)
        partial = name == "return" and bool(form.get("partial"))

        def change() -> Any:
            quantities = {line.id: _int(form.get(f"qty_{line.id}")) for line in order.lines} if partial else None
            return _apply(name, order.id, actor, form, quantities)

        commit_or_explain(change, lambda _e: _done_message(name, 1))
        return redirect(back)

    @expose("/discount_approval/", methods=["POST"])
    def discount_approval_view(self) -> Any:
        """提交折扣审批 from the order page (approvals: the 订单折扣 flow)."""
        if not CsrfForm(request.form).validate():
            abort(400)
        order = self.get_one(request.args.get("id"))
        commit_or_explain(lambda: orders.submit_discount(db.session, order.id, actor=current_actor(), now=now(),
                                                         note=request.form.get("note")),
                          lambda _r: gettext("已提交折扣审批"))
        return redirect(url_for(".details_view", id=order.id))

    @expose("/pay/", methods=["POST"])
    def pay_view(self) -> Any:
        """登记回款/退款 from the order page."""
        if not CsrfForm(request.form).validate():
            abort(400)
        order = self.get_one(request.args.get("id"))
        actor, form = current_actor(), request.form
        back = url_for(".details_view", id=order.id, _anchor="payments")
        try:
            paid_on = params.date_param(form.get("paid_on"), name=gettext("回款日期")) or local_date(now(), _tz())
            amount = params.money_param(form.get("amount"), name=gettext("金额"))
        except params.BadParameter as exc:
            flash(str(exc.description), "error")
            return redirect(back)
        commit_or_explain(
            lambda: payments.record(db.session, order.id, kind=form.get("kind", "receipt"), amount=amount,
                                    paid_on=paid_on, method=form.get("method"), note=form.get("note"), actor=actor,
                                    now=now()),
            lambda p: gettext("已登记 %(k)s %(a)s", k=payments.KIND_LABELS[p.kind], a=fmt_money(p.amount))
            + (gettext("，等待其他同事确认后计入实收") if p.status == PaymentStatus.PENDING else ""))
        return redirect(back)

    @expose("/redeem/", methods=["POST"])
    def redeem_view(self) -> Any:
        """积分兑换 from the customer page's 订单 tab."""
        if not CsrfForm(request.form).validate():
            abort(400)
        customer_id = request.args.get("customer_id")
        back = url_for("customer.details_view", id=customer_id, _anchor="tab-orders")
        try:
            points = params.optional_int(request.form.get("points"), name=gettext("兑换积分"), minimum=-MAX_QUANTITY,
                                         maximum=MAX_QUANTITY) or 0
        except params.BadParameter:
            flash(gettext("兑换积分应为整数"), "error")
            return redirect(back)
        actor = current_actor()
        commit_or_explain(lambda: orders.redeem_points(db.session, customer_id, points, note=request.form.get("note", ""),
                                                       actor=actor, now=now()),
                          lambda entry: gettext("已兑换 %(n)d 积分，剩余 %(b)d 分", n=points, b=entry.balance))
        return redirect(back)

    # --- batch moves from the lists ---------------------------------------------------------------
    def _batch(self, name: str, ids: list[str], form: Any = None) -> bool:
        records = self.scoped_batch(ids)  # any forged id → 404, nothing applied
        actor = current_actor()
        return commit_or_explain(lambda: [_apply(name, r.id, actor, form or {}, None, tracking=_tracking(form, r))
                                          for r in records],
                                 lambda done: _done_message(name, len(done)))

    @action("approve", _l("审核通过"), _l("确定审核通过所选订单吗？审核后进入配货。"))
    def action_approve(self, ids: list[str]) -> None:
        self._batch("approve", ids)

    @action("sign", _l("签收完成"), _l("确定所选订单已被客户签收吗？"))
    def action_sign(self, ids: list[str]) -> None:
        self._batch("sign", ids)

    @action("ship", _l("发货"))
    def action_ship(self, ids: list[str]) -> Any:
        self.scoped_batch(ids)
        return redirect(url_for(".batch_view", move="ship", ids=",".join(ids), url=request.referrer))

    @action("cancel", _l("取消订单"))
    def action_cancel(self, ids: list[str]) -> Any:
        self.scoped_batch(ids)
        return redirect(url_for(".batch_view", move="cancel", ids=",".join(ids), url=request.referrer))

    @action("return", _l("退货"))
    def action_return(self, ids: list[str]) -> Any:
        self.scoped_batch(ids)
        return redirect(url_for(".batch_view", move="return", ids=",".join(ids), url=request.referrer))

    @expose("/batch/<move>/", methods=["GET", "POST"])
    def batch_view(self, move: str) -> Any:
        """The second step of 发货 (carrier and tracking numbers), 取消 and 退货 (a reason)."""
        name = move
        if name not in ("ship", "cancel", "return"):
            abort(404)
        if not self.is_action_allowed(name):
            abort(403)
        ids = [i for i in (request.values.get("ids") or "").split(",") if i]
        records = self.scoped_batch(ids) if ids else []
        if not records:
            abort(404)
        back = back_url(request.values.get("url"), url_for(".index_view"))
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            if self._batch(name, ids, request.form):
                return redirect(back)
        return self.render("admin/orders/batch.html", name=name, records=records, ids=",".join(ids), back=back,
                           carriers=CARRIERS, form=request.form, title=orders.TRANSITIONS[name].label,
                           state_labels=orders.STATE_LABELS)


# Quantities and points beyond this are typing mistakes (and past it, SQL integer overflow).
MAX_QUANTITY = 1_000_000_000


def _discount(order: Order) -> dict[str, Any]:
    """The order page's 折扣审批 box: shown when the discount needs approval or one was asked."""
    needs = orders.discount_needs_approval(db.session, order)
    asked = approvals.latest(db.session, orders.DISCOUNT, order.id) is not None
    rate = orders.discount_rate(order)
    return {"show": needs or asked, "needs": needs, "rate": rate.quantize(Decimal("0.01")) if rate is not None else None,
            "cleared": orders.discount_cleared(db.session, order),
            "can_submit": needs and order.state == S.PENDING_REVIEW and not orders.discount_cleared(db.session, order)
            and approvals.current(db.session, orders.DISCOUNT, order.id) is None}


def _int(raw: Any) -> int:
    try:
        number = params.optional_int(raw, name="", minimum=-MAX_QUANTITY, maximum=MAX_QUANTITY)
    except params.BadParameter:
        raise RuleViolation(_l("退货数量应为整数")) from None
    return number or 0


def _tracking(form: Any, order: Order) -> str | None:
    if not form:
        return None
    return form.get(f"tracking_{order.id}") or form.get("tracking_no")


def _apply(name: str, order_id: int, actor: Any, form: Any, quantities: Any, tracking: str | None = None) -> Any:
    session, when = db.session, now()
    if name == "approve":
        return orders.approve(session, order_id, actor=actor, now=when, note=form.get("note"))
    if name == "ship":
        return orders.ship(session, order_id, carrier=form.get("carrier", ""),
                           tracking_no=tracking or form.get("tracking_no", ""), actor=actor, now=when)
    if name == "sign":
        return orders.sign(session, order_id, actor=actor, now=when, note=form.get("note"))
    if name == "cancel":
        return orders.cancel(session, order_id, reason=form.get("reason", ""), actor=actor, now=when)
    return orders.return_order(session, order_id, reason=form.get("reason", ""), quantities=quantities,
                               actor=actor, now=when)


def _done_message(name: str, count: int) -> str:
    return {
        "approve": gettext("已审核 %(n)d 个订单，进入配货", n=count),
        "ship": gettext("已发货 %(n)d 个订单，库存已扣减", n=count),
        "sign": gettext("已签收 %(n)d 个订单", n=count),
        "cancel": gettext("已取消 %(n)d 个订单", n=count),
        "return": gettext("已办理 %(n)d 个订单的退货，退回的货物已入库", n=count),
    }[name]


class OrderStateView(OrderView):
    """One list per state (等待审核, 正在配货, ...). The moves offered are those the state allows."""

    list_template = "admin/orders/state_list.html"
    moves: tuple[str, ...] = ()

    def is_action_allowed(self, name: str) -> bool:
        return name in self.moves and super().is_action_allowed(name)


def state_view(state: str, moves: tuple[str, ...]) -> type[OrderStateView]:
    return type(f"Order{state.title().replace('_', '')}View", (OrderStateView,), {"state": state, "moves": moves})


PendingOrderView = state_view(S.PENDING_REVIEW, ("approve", "cancel"))
PickingOrderView = state_view(S.PICKING, ("ship", "cancel"))
ShippedOrderView = state_view(S.SHIPPED, ("sign", "return"))
CompletedOrderView = state_view(S.COMPLETED, ("return",))
CancelledOrderView = state_view(S.CANCELLED, ())
ReturnedOrderView = state_view(S.RETURNED, ())


def customer_sales(customer_id: int) -> dict[str, Any]:
    """For the customer 360 page's 订单 and 回款 tabs (a template global): the orders the user
    may see, with the receivable/received/outstanding sums (the payments themselves:
    admin_views/receipts.customer_receipts)."""
    actor = current_actor()
    if not actor.can("order.view"):
        return {"allowed": False, "orders": [], "sums": {}}
    found = list(db.session.scalars(
        scope.scoped(select(Order), Order, actor).where(Order.customer_id == customer_id)
        .options(joinedload(Order.salesperson)).order_by(Order.order_date.desc(), Order.id.desc()).limit(100)))
    points_log = list(db.session.scalars(
        scope.scoped(select(PointsEntry), PointsEntry, actor).where(PointsEntry.customer_id == customer_id)
        .options(joinedload(PointsEntry.order), joinedload(PointsEntry.actor))
        .order_by(PointsEntry.id.desc()).limit(20)))
    money = {o.id: receivables.figures(o) for o in found}
    sums = {key: sum((m[key] for m in money.values()), Decimal("0"))
            for key in ("receivable", "received", "outstanding", "refundable", "refunded")}
    return {"allowed": True, "orders": found, "sums": sums, "money": money,
            "kept": {o.id: receivables.kept_amount(o) for o in found}, "definition": receivables.DEFINITION, "state_labels": orders.STATE_LABELS,
            "state_css": STATE_CSS, "kinds": payments.KIND_LABELS, "status": payments.STATUS_LABELS,
            "can_create": actor.can("order.create"), "points_log": points_log, "points_reasons": POINTS_REASONS,
            "can_redeem": actor.can("order.create") or actor.can("customer.edit")}


def product_prices() -> dict[str, dict[str, str]]:
    """For the order form's script: every active product's price per level."""
    rows = db.session.execute(select(ProductPrice.product_id, ProductPrice.level_id, ProductPrice.price)
                              .join(Product, Product.id == ProductPrice.product_id).where(Product.active.is_(True)))
    out: dict[str, dict[str, str]] = {}
    for product_id, level_id, price in rows:
        out.setdefault(str(product_id), {})[str(level_id)] = f"{price:.2f}"
    return out


def init_app(app: Any) -> None:
    """The customer 360 page's 订单/回款 tabs call `kechi_customer_sales(customer_id)`; the
    order form calls `kechi_product_prices()`."""
    app.add_template_global(customer_sales, "kechi_customer_sales")
    app.add_template_global(product_prices, "kechi_product_prices")



class OrderSettingsView(PermissionView):
    """订单设置 (settings.manage): number pattern, tax rate, deal category, stock and payment policy."""

    permission = "settings.manage"

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        values = {key: orders.setting(db.session, key) for key in orders.DEFAULTS}
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            values = {key: request.form.get(key, "") for key in orders.DEFAULTS}
            if commit_or_explain(lambda: orders.save_settings(db.session, request.form),
                                 lambda _r: gettext("订单设置已保存")):
                return redirect(url_for(".index"))
        try:
            preview = numbering.peek(db.session, orders.NUMBER_SEQUENCE, values["order_number_pattern"],
                                     today=local_date(now(), _tz()))
        except (KeyError, ValueError, IndexError):
            preview = ""
        rate = values["order_tax_rate"]
        try:
            percent = f"{Decimal(str(rate)) * 100:g}" if Decimal(str(rate)) <= 1 else str(rate)
        except ArithmeticError:
            percent = str(rate)
        categories = [item.name for item in dictionaries.items(db.session, "category")]
        return self.render("admin/orders/settings.html", values=values, preview=preview, percent=percent,
                           categories=categories)


def views() -> list[Any]:
    return [
        OrderView(Order, name=_l("订单综合查询"), category=SALES, endpoint="order", **fa("fa-search")),
        PendingOrderView(Order, name=_l("等待审核"), category=SALES, endpoint="order_pending", **fa("fa-gavel")),
        PickingOrderView(Order, name=_l("正在配货"), category=SALES, endpoint="order_picking", **fa("fa-cube")),
        ShippedOrderView(Order, name=_l("已经发货"), category=SALES, endpoint="order_shipped", **fa("fa-truck")),
        CompletedOrderView(Order, name=_l("已经完成"), category=SALES, endpoint="order_completed",
                           **fa("fa-check-circle")),
        CancelledOrderView(Order, name=_l("已取消"), category=SALES, endpoint="order_cancelled", **fa("fa-ban")),
        ReturnedOrderView(Order, name=_l("退货"), category=SALES, endpoint="order_returned", **fa("fa-undo")),
        OrderSettingsView(name=_l("订单设置"), category=SALES, endpoint="order_settings", **fa("fa-sliders")),
    ]
