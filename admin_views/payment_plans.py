"""回款计划 in the panel: the list of instalments (with the quick lists 逾期 and 本周应回款), and
the instalments of one contract or order with their editor (templates/admin/payment_plans/
_for_document.html, included by the contract and order pages). Every change is a call into
rules/payment_plans.py; every list path goes through rules/scope.payment_plan_clause."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, current_app, redirect, request, session, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import DateBetweenFilter, FilterEqual
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import and_, select, true
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from admin_views.base import ScopedModelView
from admin_views.context import current_actor, local_today, now
from admin_views.finance_drill import FinanceDrillMixin
from admin_views.filters import AmountGreater, AmountSmaller, IdEqual, LazyOptions, OneOf
from admin_views.formatters import choice_label, fmt_money
from admin_views.forms import CsrfForm
from admin_views.links import drill
from admin_views.menu import SALES, fa
from admin_views.navigation import back_url
from admin_views.transaction import commit_or_explain
from models import PaymentPlan, User, db
from rules import custom_fields, payment_plans, scope
from rules.errors import OutOfScope
from rules.links import DrillFilter as F
from rules.links import ListKind
from rules.payment_plans import STATUS_CSS, STATUS_LABELS

LABELS = {"contract": _l("合同/订单"), "customer": _l("客户"), "period": _l("期次"), "due_on": _l("应收日期"),
          "amount": _l("应收金额"), "received": _l("已收"), "outstanding": _l("未收"), "status": _l("状态"),
          "owner": _l("负责人"), "remind_days": _l("提前提醒（天）"), "note": _l("备注")}
DRAFT_KEY = "kechi_plan_draft"  # the rows of a refused plan, shown again as typed
DRAFT_ROWS = 36


def document_url(kind: str, doc_id: int) -> str | None:
    """The contract's or order's page (the contract pages arrive with their own module)."""
    try:
        return url_for("contract.details_view" if kind == "contract" else "order.details_view", id=doc_id)
    except BuildError:
        return None


def receipt_url(plan_id: int) -> str | None:
    """登记回款 on one instalment: the 回款 list's create form (the receipts module's), offered
    only where that list takes new receipts from this reader."""
    for view in current_app.extensions["admin"][0]._views:
        if getattr(view, "endpoint", None) == "payment":
            return url_for("payment.create_view", plan_id=plan_id) if view.can_create else None
    return None


def _doc_link(view: Any, context: Any, model: PaymentPlan, name: str) -> Markup:
    kind, doc = ("contract", model.contract) if model.contract_id else ("order", model.order)
    label = gettext("合同") if kind == "contract" else gettext("订单")
    href = document_url(kind, doc.id)
    text = f"{escape(label)} {escape(doc.number)}"
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(href)}'>{text}</a>" if href else text)


def _status_badge(view: Any, context: Any, model: PaymentPlan, name: str) -> Markup:
    label = STATUS_LABELS.get(model.status, model.status)
    # Markup is safe here: the css class comes from STATUS_CSS, the label passes through escape().
    return Markup(f"<span class='badge badge-{STATUS_CSS.get(model.status, 'light')}'>{escape(str(label))}</span>")


def _money(view: Any, context: Any, model: PaymentPlan, name: str) -> str:
    return fmt_money(getattr(model, name))


def _outstanding(view: Any, context: Any, model: PaymentPlan, name: str) -> str:
    return fmt_money(Decimal("0") if model.status == "void" else model.amount - model.received)


def _period(view: Any, context: Any, model: PaymentPlan, name: str) -> str:
    return gettext("第%(p)d期", p=model.period) if model.period > 0 else "—"


def _owner_options() -> list[tuple[str, str]]:
    users = db.session.scalars(select(User).where(User.active.is_(True), scope.owner_clause(User.id, current_actor()))
                               .order_by(User.display_name))
    return [(str(u.id), u.display_name) for u in users]


class PaymentPlanView(FinanceDrillMixin, ScopedModelView):
    """回款计划: every instalment the user may see (rules/scope.payment_plan_clause on the list,
    the count and the export); each row leads to its contract or order."""
    drill_kind = ListKind.PAYMENT_PLAN  # a finance report's figure opens the rows it counted

    permission_view = "payment.view"
    permission_export = "payment.view"
    export_entity = "payment_plan"
    can_view_details = False
    column_display_actions = False  # a row's actions are on its contract's or order's page
    capped_count = True
    list_template = "admin/payment_plans/list.html"
    quick: str | None = None  # the quick lists: "overdue" (逾期), "week" (本周应回款)

    column_list = ["contract", "customer", "period", "due_on", "amount", "received", "outstanding", "status", "owner",
                   "note"]
    column_labels = LABELS
    column_sortable_list = ["due_on", "amount", "period"]
    column_default_sort = [("due_on", False), ("id", False)]
    column_formatters = {"contract": _doc_link, "status": _status_badge, "amount": _money, "received": _money,
                         "outstanding": _outstanding, "period": _period}
    column_filters = [
        FilterEqual(PaymentPlan.status, _l("状态"), options=list(STATUS_LABELS.items())),
        drill(F.DUE_ON, DateBetweenFilter(PaymentPlan.due_on, _l("应收日期"))),
        drill(F.OWNER, IdEqual(PaymentPlan.owner_id, _l("负责人"), options=LazyOptions(_owner_options))),
        AmountGreater(PaymentPlan.amount, _l("应收金额")),
        AmountSmaller(PaymentPlan.amount, _l("应收金额")),
        IdEqual(PaymentPlan.customer_id, _l("客户")),
        IdEqual(PaymentPlan.contract_id, _l("合同")),
        IdEqual(PaymentPlan.order_id, _l("订单")),
        drill(F.PLAN_STATUS_IN, OneOf(PaymentPlan.status, _l("状态范围"), allowed=list(STATUS_LABELS),
                                      options=[(",".join(payment_plans.UNPAID), _l("未回清（待回款、部分回款、逾期）"))])),
    ]
    column_formatters_export = {"status": choice_label(STATUS_LABELS)}

    def quick_clause(self) -> Any:
        if self.quick == "overdue":
            return payment_plans.overdue_clause()
        if self.quick == "week":
            return payment_plans.due_this_week_clause(local_today())
        return true()

    def scope_clause(self) -> Any:
        return and_(super().scope_clause(), self.quick_clause())

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(PaymentPlan.contract), joinedload(PaymentPlan.order),
                                           joinedload(PaymentPlan.customer), joinedload(PaymentPlan.owner))

    def record_url(self, plan_id: int) -> str:
        """Where a 回款提醒 leads: the instalment's contract or order page (404 outside scope)."""
        try:
            plan = scope.get_in_scope(db.session, PaymentPlan, plan_id, current_actor())
        except OutOfScope:
            return url_for(f"{self.endpoint}.index_view")
        kind, doc_id = ("contract", plan.contract_id) if plan.contract_id else ("order", plan.order_id)
        return (document_url(kind, doc_id) or url_for(f"{self.endpoint}.index_view")) + "#payment-plan"

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.list_template:
            kwargs.update(week=payment_plans.week_of(local_today()))
        return super().render(template, **kwargs)

    @expose("/save/<kind>/<int:doc_id>/", methods=["POST"])
    def save_view(self, kind: str, doc_id: int) -> Any:
        """The editor's 保存: the whole plan of one contract or order, through rules/payment_plans."""
        if kind not in ("contract", "order") or not CsrfForm(request.form).validate():
            abort(400)
        actor = current_actor()
        try:
            payment_plans.load_doc(db.session, actor=actor, **{f"{kind}_id": doc_id})
        except OutOfScope:
            abort(404)
        rows = _typed_rows(request.form)
        target = back_url(request.form.get("url"), document_url(kind, doc_id) or url_for(".index_view"))
        saved = commit_or_explain(
            lambda: payment_plans.set_plan(db.session, actor=actor, now=now(), today=local_today(), instalments=rows,
                                           version=_seen_version(request.form), **{f"{kind}_id": doc_id}),
            lambda plans: gettext("回款计划已保存，共 %(n)d 期", n=len(plans)) if plans else gettext("回款计划已清空"))
        if not saved:
            # kept in the (cookie) session for the page to show again, as long as it fits one
            session[DRAFT_KEY] = {"doc": f"{kind}:{doc_id}", "rows": rows[:DRAFT_ROWS]}
        return redirect(target.split("#")[0] + "#payment-plan")


def _seen_version(form: Any) -> int | None:
    """The document version the editor was opened on (an old page without it: none)."""
    text = (form.get("version") or "").strip()
    return int(text) if text.isdigit() else None


def _typed_rows(form: Any) -> list[dict[str, Any]]:
    """The editor's rows as typed (parallel lists; a row left wholly empty is no row), each with
    its 自定义字段 (cf_<key>)."""
    keys = [d.key for d in custom_fields.definitions(db.session, payment_plans.CUSTOM_ENTITY)]
    names = ("id", "due_on", "amount", "remind_days", "note", *(f"cf_{k}" for k in keys))
    columns = {name: form.getlist(name) for name in names}
    count = max((len(v) for v in columns.values()), default=0)
    found = []
    for i in range(min(count, payment_plans.MAX_INSTALMENTS + 1)):
        row = {name: (values[i] if i < len(values) else "") for name, values in columns.items()}
        if any((row[k] or "").strip() for k in ("due_on", "amount", "note")) or row["id"]:
            custom = {k: row.pop(f"cf_{k}") for k in keys}
            found.append({**row, "custom": custom} if keys else row)
    return found


class QuickPlanList(PaymentPlanView):
    """A quick list: reached by the tabs above 回款计划 and by the workbench, not the menu."""

    def is_visible(self) -> bool:
        return False


class OverduePlanView(QuickPlanList):
    """逾期: instalments past their due date and not paid (the daily job marks them)."""

    quick = "overdue"


class WeekPlanView(QuickPlanList):
    """本周应回款: instalments not yet paid that fall due Monday to Sunday of this week."""

    quick = "week"


def plans_for(kind: str, doc_id: int) -> dict[str, Any]:
    """The document page's 回款计划 section (a template global): its instalments, the total they
    must add up to, and whether the reader may change them."""
    actor = current_actor()
    if kind not in ("contract", "order") or not actor.can("payment.view"):
        return {"allowed": False}
    try:
        doc = payment_plans.load_doc(db.session, actor=actor, **{f"{kind}_id": doc_id})
    except OutOfScope:
        return {"allowed": False}
    plans = payment_plans.instalments_of(db.session, **{f"{kind}_id": doc_id})
    every = payment_plans.instalments_of(db.session, with_void=True, **{f"{kind}_id": doc_id})
    money = payment_plans.booked(db.session, [p.id for p in plans])
    refusal = payment_plans.plannable_refusal(doc)
    draft = session.get(DRAFT_KEY)
    typed = None
    if draft and draft.get("doc") == f"{kind}:{doc_id}":
        typed = session.pop(DRAFT_KEY)["rows"]
    total = payment_plans.plan_total(doc)
    planned = sum((p.amount for p in plans), Decimal("0"))
    return {"allowed": True, "kind": kind, "doc": doc, "plans": plans, "booked": money, "total": total,
            "planned": planned, "difference": total - planned if plans else Decimal("0"),
            "editable": refusal is None and payment_plans.may_plan(actor), "refusal": refusal, "typed": typed,
            "save_url": url_for("payment_plan.save_view", kind=kind, doc_id=doc_id),
            "receipt_url": receipt_url, "status_labels": STATUS_LABELS, "status_css": STATUS_CSS,
            "today": local_today(), "can_record": actor.can("payment.record"),
            "fields": custom_fields.definitions(db.session, payment_plans.CUSTOM_ENTITY),
            "show_custom": custom_fields.display,
            "history": payment_plans.history(db.session, every), "periods": {p.id: p.period for p in every},
            "action_labels": payment_plans.ACTION_LABELS}


def init_app(app: Any) -> None:
    app.add_template_global(plans_for, "kechi_payment_plans")


def views() -> list[Any]:
    return [
        PaymentPlanView(PaymentPlan, name=_l("回款计划"), category=SALES, endpoint="payment_plan",
                        **fa("fa-calendar-check-o")),
        OverduePlanView(PaymentPlan, name=_l("逾期回款"), category=SALES, endpoint="payment_plan_overdue",
                        **fa("fa-exclamation-circle")),
        WeekPlanView(PaymentPlan, name=_l("本周应回款"), category=SALES, endpoint="payment_plan_week",
                     **fa("fa-calendar")),
    ]
