"""报价单 in the panel: the list, the quote page (lines with 9折, money, versions, history, the
moves this quote allows, 转订单, 打印), the entry form with its lines, a print page, the customer
page's 报价单 tab and the opportunity page's 报价 section, and 报价设置. Every change is a call
into rules/quotes.py."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import DateBetweenFilter, FilterEqual, FilterLike
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from werkzeug.routing import BuildError
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields import DecimalField
from wtforms.validators import Optional

from admin_views.printing import PrintActionsMixin  # issue 20
from models.printing import PrintDocType  # issue 20
from admin_views.base import PermissionView, ScopedModelView
from admin_views.context import current_actor, now
from admin_views.filters import AmountGreater, AmountSmaller, IdEqual, LazyOptions
from admin_views.formatters import fmt_datetime, fmt_money
from admin_views.forms import CsrfForm
from admin_views.line_documents import LineDocumentEntry
from admin_views.loaders import ScopedAjaxModelLoader
from admin_views.menu import SALES, fa
from admin_views.navigation import back_url
from admin_views.transaction import commit_or_explain
from models import Customer, Opportunity, Order, PriceLevel, Product, Quote, QuoteEvent, QuoteLine, Role, User, db
from models.quote import QuoteStatus
from rules import amount_words, messaging, numbering, quotes, scope
from rules.clock import local_date
from rules.errors import OutOfScope

LABELS = {
    "number": _l("报价单号"), "customer": _l("客户"), "opportunity": _l("销售机会"), "contact": _l("联系人"),
    "status": _l("状态"), "total": _l("金额"), "quote_date": _l("报价日期"), "valid_until": _l("有效期至"),
    "owner": _l("负责人"), "price_level": _l("价格等级"), "tax_rate": _l("税率"), "terms": _l("条款"),
    "notes": _l("备注"), "gross": _l("原价合计"), "discount": _l("折扣金额"), "amount_ex_tax": _l("不含税金额"),
    "tax": _l("税额"), "lines": _l("产品明细"), "viewed_at": _l("客户最近查看"),
}
LINE_LABELS = {"product": _l("产品"), "quantity": _l("数量"), "unit_price": _l("单价（留空按价格等级）"),
               "discount_rate": _l("折扣（1=不打折，0.9=9折）"), "notes": _l("说明")}


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def _number_link(view: Any, context: Any, model: Quote, name: str) -> Markup:
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(url_for('quote.details_view', id=model.id))}'>{escape(str(model))}</a>")


def _status_badge(view: Any, context: Any, model: Quote, name: str) -> Markup:
    label = quotes.STATE_LABELS.get(model.status, model.status)
    css = quotes.STATE_CSS.get(model.status, "light")
    extra = ""
    if model.superseded_by_id:
        extra = f" <span class='badge badge-light border'>{escape(gettext('已修订'))}</span>"
    if model.order_id:
        extra += f" <span class='badge badge-info'>{escape(gettext('已转订单'))}</span>"
    # Markup is safe here: the css class comes from STATE_CSS, the labels pass through escape().
    return Markup(f"<span class='badge badge-{css}'>{escape(str(label))}</span>{extra}")


def _customer_link(view: Any, context: Any, model: Quote, name: str) -> Markup:
    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(url_for('customer.details_view', id=model.customer_id))}'>"
                  f"{escape(model.customer.name)}</a>")


def _opportunity_title(view: Any, context: Any, model: Quote, name: str) -> str:
    return model.opportunity.title if model.opportunity else "—"


def _money(view: Any, context: Any, model: Any, name: str) -> str:
    return fmt_money(getattr(model, name))


def _viewed(view: Any, context: Any, model: Quote, name: str) -> str:
    """客户最近查看: when the customer last opened a share link of the quote."""
    return fmt_datetime(model.viewed_at) if model.viewed_at else "—"


def _active_products() -> Any:
    return db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code))


def _owners() -> Any:
    return db.session.scalars(select(User).where(User.active.is_(True), scope.owner_clause(User.id, current_actor()))
                              .order_by(User.display_name))


def _owner_options() -> list[tuple[str, str]]:
    return [(str(u.id), u.display_name) for u in _owners()]


class BlankUntilTyped(DecimalField):
    """A number the rules fill when left empty (税率, 单价): shown empty, not as the column's
    stored default of 0, which would quote the goods for nothing."""

    def __init__(self, *args: Any, default: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


class QuoteView(PrintActionsMixin, LineDocumentEntry, ScopedModelView):
    """报价单: every quote the user may see (rules/scope.quote_clause on every path)."""
    print_doc_types = (PrintDocType.QUOTE,)  # issue 20: 批量打印/导出PDF

    permission_view = "quote.view"
    permission_create = "quote.create"
    permission_edit = "quote.create"
    permission_delete = None

    can_view_details = True
    capped_count = True  # "10000+" rather than counting every quote in scope on each page
    list_template = "admin/quotes/list.html"
    details_template = "admin/quotes/details.html"
    create_template = "admin/quotes/create.html"
    edit_template = "admin/quotes/edit.html"

    column_list = ["number", "customer", "opportunity", "status", "total", "quote_date", "valid_until", "owner",
                   "viewed_at"]
    column_labels = LABELS
    column_sortable_list = ["number", "quote_date", "valid_until", "total"]
    column_default_sort = [("quote_date", True), ("id", True)]
    column_searchable_list = ["number"]
    column_formatters = {"number": _number_link, "status": _status_badge, "total": _money,
                         "customer": _customer_link, "opportunity": _opportunity_title, "viewed_at": _viewed}
    column_filters = [
        FilterEqual(Quote.status, _l("状态"), options=list(quotes.STATE_LABELS.items())),
        FilterLike(Quote.number, _l("报价单号")),
        IdEqual(Quote.owner_id, _l("负责人"), options=LazyOptions(_owner_options)),
        DateBetweenFilter(Quote.quote_date, _l("报价日期")),
        DateBetweenFilter(Quote.valid_until, _l("有效期至")),
        AmountGreater(Quote.total, _l("金额")),
        AmountSmaller(Quote.total, _l("金额")),
        IdEqual(Quote.customer_id, _l("客户")),
        IdEqual(Quote.opportunity_id, _l("销售机会")),
    ]
    form_columns = ["customer", "opportunity", "owner", "quote_date", "valid_until", "price_level", "tax_rate",
                    "terms", "notes"]
    form_args = {
        "customer": {"label": _l("客户"), "validators": [Optional()]},
        "opportunity": {"label": _l("销售机会"), "validators": [Optional()],
                        "description": _l("从销售机会报价时，客户取该机会的客户；明细留空则带入机会的产品")},
        "owner": {"query_factory": _owners, "label": _l("负责人"), "allow_blank": True,
                  "blank_text": _l("（我）"), "validators": [Optional()]},
        "quote_date": {"label": _l("报价日期"), "description": _l("留空为今天"), "validators": [Optional()]},
        "valid_until": {"label": _l("有效期至"), "description": _l("留空按报价设置的有效天数"),
                        "validators": [Optional()]},
        "price_level": {"query_factory": lambda: db.session.scalars(
            select(PriceLevel).where(PriceLevel.active.is_(True)).order_by(PriceLevel.sort_order, PriceLevel.id)),
            "label": _l("价格等级"), "allow_blank": True, "blank_text": "—"},
        "tax_rate": {"label": _l("税率"), "description": _l("如 0.13 表示 13%；留空按订单设置"),
                     "validators": [Optional()]},
        "terms": {"label": _l("条款")},
        "notes": {"label": _l("备注")},
    }
    form_overrides = {"tax_rate": BlankUntilTyped}
    form_ajax_refs = {
        "customer": ScopedAjaxModelLoader("customer", db, Customer, fields=["name", "code", "mnemonic"], page_size=10,
                                          placeholder=_l("输入客户名称、编号或助记码搜索"), minimum_input_length=1),
        "opportunity": ScopedAjaxModelLoader("opportunity", db, Opportunity, fields=["title", "number"],
                                             page_size=10, placeholder=_l("输入机会名称或编号搜索"),
                                             minimum_input_length=1),
    }
    inline_models = [(QuoteLine, {
        "form_columns": ["id", "product", "quantity", "unit_price", "discount_rate", "notes"],
        "column_labels": LINE_LABELS,
        "form_label": _l("产品明细"),
        "form_args": {"product": {"query_factory": _active_products, "label": _l("产品")},
                      "quantity": {"default": 1}, "discount_rate": {"default": Decimal("1")},
                      # left empty: the price of the chosen price level (rules/orders.check_lines)
                      "unit_price": {"validators": [Optional()]}},
        "form_overrides": {"unit_price": BlankUntilTyped},
    })]

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Quote.customer), joinedload(Quote.owner),
                                           joinedload(Quote.opportunity))

    def search_placeholder(self) -> str:
        return gettext("报价单号")

    # --- entry ------------------------------------------------------------------------------------
    filled_by_rules = ("customer", "quote_date", "owner", "tax_rate")

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        if request.method == "GET":
            try:
                if request.args.get("customer_id"):
                    form.customer.data = scope.get_in_scope(db.session, Customer, request.args["customer_id"],
                                                            current_actor())
                if request.args.get("opportunity_id"):
                    opportunity = scope.get_in_scope(db.session, Opportunity, request.args["opportunity_id"],
                                                     current_actor())
                    form.opportunity.data = opportunity
                    form.customer.data = db.session.get(Customer, opportunity.customer_id)
            except OutOfScope:
                abort(404)
        return form

    def apply_rules(self, form: Any, model: Quote, is_created: bool) -> None:
        actor = current_actor()
        with db.session.no_autoflush:
            self.keep_filled_lines(model)
            if is_created:
                self.hand_to_rules(model)
                quotes.create(db.session, model, actor=actor, now=now(), tz=_tz())
            else:
                quotes.edit(db.session, model, actor=actor, now=now(), tz=_tz())

    def after_model_change(self, form: Any, model: Quote, is_created: bool) -> None:
        if is_created:
            flash(gettext("报价单 %(n)s 已保存为草稿", n=str(model)), "success")

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self) -> Any:
        quote = self.get_one(request.args.get("id"))
        if not quotes.allowed_moves(quote, current_actor())["edit"]:
            flash(gettext("报价单 %(n)s 当前状态为“%(s)s”，只有最新版本的草稿可以修改；已发送的报价请“修订”出新版本",
                          n=str(quote), s=quotes.STATE_LABELS.get(quote.status)), "error")
            return redirect(url_for(".details_view", id=quote.id))
        return super().edit_view()

    # --- the quote page -----------------------------------------------------------------------------
    @expose("/details/")
    def details_view(self) -> Any:
        quote = self.get_one(request.args.get("id"))
        actor = current_actor()
        events = list(db.session.scalars(select(QuoteEvent).where(QuoteEvent.quote_id == quote.id)
                                         .options(joinedload(QuoteEvent.actor)).order_by(QuoteEvent.id)))
        contracted = quote.status == QuoteStatus.ACCEPTED and quotes.live_contract(db.session, quote.id) is not None
        return self.render(self.details_template, model=quote, events=events,
                           versions=_versions(quote), moves=quotes.allowed_moves(quote, actor, contracted=contracted),
                           labels=LABELS,
                           state_labels=quotes.STATE_LABELS, state_css=quotes.STATE_CSS,
                           event_labels=quotes.EVENT_LABELS, zhe=quotes.zhe, percent_off=quotes.percent_off,
                           order_number=_order_number(quote), opportunity_url=_opportunity_url(quote),
                           return_url=back_url(request.values.get("url"), url_for(".index_view")))

    @expose("/print/")
    def print_view(self) -> Any:
        quote = self.get_one(request.args.get("id"))
        return self.render("admin/quotes/print.html", model=quote, zhe=quotes.zhe, percent_off=quotes.percent_off,
                           company=messaging.load_settings(db.session).get("company_name") or "",
                           in_words=amount_words.rmb_upper(quote.total), labels=LABELS,
                           state_labels=quotes.STATE_LABELS, printed_at=now())

    @expose("/move/<move>/", methods=["POST"])
    def move_view(self, move: str) -> Any:
        """One quote, one move, from the buttons on the quote page."""
        if move not in (*quotes.TRANSITIONS, "revise", "convert") or not CsrfForm(request.form).validate():
            abort(400)
        quote = self.get_one(request.args.get("id"))
        actor, when, note = current_actor(), now(), request.form.get("note")
        if move == "revise":
            revised = commit_or_explain(
                lambda: quotes.revise(db.session, quote.id, actor=actor, now=when, tz=_tz()),
                lambda new: gettext("已修订为新版本 %(n)s（草稿），旧版本保留", n=str(new)))
            if revised:
                newest = db.session.scalar(select(Quote.superseded_by_id).where(Quote.id == quote.id))
                return redirect(url_for(".details_view", id=newest))
        elif move == "convert":
            commit_or_explain(lambda: quotes.convert(db.session, quote.id, actor=actor, now=when, tz=_tz()),
                              lambda order: gettext("已转为订单 %(n)s，等待审核", n=order.number))
        else:
            commit_or_explain(lambda: quotes.move(db.session, quote.id, move, actor=actor, now=when, note=note),
                              lambda _e: gettext("报价单 %(n)s 已%(a)s", n=str(quote),
                                                 a=quotes.TRANSITIONS[move].label))
        return redirect(url_for(".details_view", id=quote.id))


def _versions(quote: Quote) -> list[Quote]:
    """The quote's versions the reader may see, newest first."""
    found = select(Quote).where(Quote.number == quote.number).order_by(Quote.revision.desc())
    return list(db.session.scalars(scope.scoped(found, Quote, current_actor())))


def _opportunity_url(quote: Quote) -> str | None:
    """The opportunity page, once the opportunity module is installed beside this one."""
    if not quote.opportunity_id:
        return None
    try:
        return url_for("opportunity.details_view", id=quote.opportunity_id)
    except BuildError:
        return None


def _order_number(quote: Quote) -> str | None:
    return db.session.scalar(select(Order.number).where(Order.id == quote.order_id)) if quote.order_id else None


def _listing(where: Any) -> dict[str, Any]:
    actor = current_actor()
    if not actor.can("quote.view"):
        return {"allowed": False, "quotes": []}
    found = list(db.session.scalars(
        scope.scoped(select(Quote), Quote, actor).where(where)
        .options(joinedload(Quote.owner), joinedload(Quote.opportunity))
        .order_by(Quote.quote_date.desc(), Quote.id.desc()).limit(100)))
    return {"allowed": True, "quotes": found, "state_labels": quotes.STATE_LABELS, "state_css": quotes.STATE_CSS,
            "can_create": actor.can("quote.create")}


def customer_quotes(customer_id: int) -> dict[str, Any]:
    """The customer 360 page's 报价单 tab (a template global): the quotes the reader may see."""
    return _listing(Quote.customer_id == customer_id)


def opportunity_quotes(opportunity_id: int) -> dict[str, Any]:
    """The opportunity page's 报价 section: the opportunity's quotes the reader may see."""
    return _listing(Quote.opportunity_id == opportunity_id)


def init_app(app: Any) -> None:
    app.add_template_global(customer_quotes, "kechi_customer_quotes")
    app.add_template_global(opportunity_quotes, "kechi_opportunity_quotes")
    app.add_template_filter(amount_words.rmb_upper, "rmb_upper")


class QuoteSettingsView(PermissionView):
    """报价设置 (settings.manage): number pattern, validity, default terms, each role's lowest discount."""

    permission = "settings.manage"

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        roles = list(db.session.scalars(select(Role).order_by(Role.id)))
        values = {key: quotes.setting(db.session, key) for key in quotes.DEFAULTS}
        limits = {role.id: (values["quote_min_discount_rate"] or {}).get(str(role.id), "") for role in roles}
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            values = {key: request.form.get(key, "") for key in quotes.DEFAULTS}
            limits = {role.id: request.form.get(f"limit_{role.id}", "") for role in roles}
            if commit_or_explain(lambda: quotes.save_settings(db.session, request.form, limits),
                                 lambda _r: gettext("报价设置已保存")):
                return redirect(url_for(".index"))
        try:
            preview = numbering.peek(db.session, quotes.NUMBER_SEQUENCE, values["quote_number_pattern"],
                                     today=local_date(now(), _tz()))
        except (KeyError, ValueError, IndexError):
            preview = ""
        return self.render("admin/quotes/settings.html", values=values, roles=roles, limits=limits, preview=preview,
                           zhe=quotes.zhe, to_rate=_as_rate)


def _as_rate(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except ArithmeticError:
        return None


def views() -> list[Any]:
    return [
        QuoteView(Quote, name=_l("报价单"), category=SALES, endpoint="quote", **fa("fa-file-text-o")),
        QuoteSettingsView(name=_l("报价设置"), category=SALES, endpoint="quote_settings", **fa("fa-percent")),
    ]
