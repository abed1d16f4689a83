"""产品管理 in the panel: products (named prices, custom fields, 再次录入提醒), the category
tree, price levels, warehouses, stock with its movement log and the low-stock list."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_admin.helpers import is_form_submitted
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import BooleanField, StringField
from wtforms.validators import NumberRange, Optional, ValidationError

from admin_views import params
from admin_views.base import SecureModelView
from admin_views.context import current_actor, now
from admin_views.custom_fields import CustomFieldsMixin
from admin_views.filters import IdEqual, LazyOptions
from admin_views.formatters import choice_label, fmt_money, indented
from admin_views.forms import CsrfForm
from admin_views.menu import PRODUCTS, fa
from admin_views.transaction import commit_or_explain
from models import (
    OrderLine, PriceLevel, Product, ProductCategory, ProductPrice, Stock, StockMovement, Warehouse, db,
)
from rules import products, stock
from rules.errors import NeedsConfirmation, RuleViolation

LABELS = {"code": _l("产品编号"), "name": _l("产品名称"), "spec": _l("规格（含量/包装）"), "unit": _l("单位"),
          "category": _l("产品类别"), "cost": _l("成本价"), "points": _l("积分（每单位）"), "safety_stock": _l("安全库存"),
          "warranty_months": _l("保修期（月）"),
          "active": _l("在售"), "notes": _l("备注"), "prices": _l("价格"), "stock_total": _l("总库存"),
          "mnemonic": _l("助记码")}
PRICE = "price_"


def _categories_by_path() -> Any:
    return db.session.scalars(select(ProductCategory).order_by(ProductCategory.path))


def _stock_total(view: Any, context: Any, model: Product, name: str) -> int:
    """Total stock of the products on the page, read in one query per page."""
    if "kechi_stock_totals" not in g:
        g.kechi_stock_totals = stock.totals(db.session, g.get("kechi_page_ids") or [model.id])
    return g.kechi_stock_totals.get(model.id, 0)


def _remember_page(rows: list[Any]) -> None:
    g.kechi_page_ids = [r.id for r in rows]
    g.pop("kechi_stock_totals", None)


class CategoryFilter(BaseSQLAFilter):
    """A category and everything below it."""

    def operation(self) -> Any:
        return _l("属于")

    def validate(self, value: Any) -> bool:
        return str(value).isdigit()

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(products.subtree_clause(int(value), db.session))


class ProductView(CustomFieldsMixin, SecureModelView):
    custom_entity = "product"
    permission_view = "product.view"
    permission_create = permission_edit = permission_delete = permission_export = "product.manage"
    export_entity = "product"

    list_template = "admin/products/list.html"
    create_template = "admin/products/create.html"
    edit_template = "admin/products/edit.html"
    column_list = ["code", "name", "spec", "unit", "category", "prices", "cost", "stock_total", "active"]
    column_labels = LABELS
    column_export_list = ["code", "name", "spec", "unit", "category", "prices", "cost", "points", "safety_stock",
                          "stock_total", "active", "notes"]
    column_default_sort = "code"
    column_sortable_list = ["code", "name", "cost"]
    column_searchable_list = ["code", "name", "mnemonic"]
    column_formatters = {
        "prices": lambda v, c, m, n: "；".join(f"{p.level.name} {fmt_money(p.price)}" for p in m.prices),
        "cost": lambda v, c, m, n: fmt_money(m.cost),
        "stock_total": _stock_total,
    }
    column_formatters_export = {
        "prices": lambda v, c, m, n: "；".join(f"{p.level.name} {p.price}" for p in m.prices),
        "stock_total": lambda v, c, m, n: stock.totals(db.session, [m.id]).get(m.id, 0),
    }
    column_filters = [
        CategoryFilter(Product.category_id, _l("产品类别"), options=LazyOptions(
            lambda: [(str(c.id), indented(c)) for c in _categories_by_path()])),
        FilterEqual(Product.active, _l("在售"), options=[("1", _l("是")), ("0", _l("否"))]),
    ]
    form_columns = ["code", "name", "spec", "unit", "category", "cost", "points", "safety_stock", "warranty_months",
                    "active", "notes",
                    "confirm_duplicates"]
    form_args = {"category": {"query_factory": _categories_by_path, "get_label": indented, "label": _l("产品类别"),
                              "allow_blank": True, "blank_text": "—"},
                 "code": {"label": _l("产品编号")},
                 "warranty_months": {"validators": [Optional(), NumberRange(0, 240, _l("保修期请填写 0–240 个月"))],
                                     "description": _l("发货之日起计算；留空表示不保修")}}
    form_extra_fields = {"confirm_duplicates": BooleanField(_l("同名提示已知晓，仍然保存"))}

    def search_placeholder(self) -> str:
        return gettext("编号、名称或助记码")

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Product.category),
                                           selectinload(Product.prices).joinedload(ProductPrice.level))

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str) -> Any:
        where = products.search_clause(search)
        if where is not None:
            query = query.filter(where)
            count_query = count_query.filter(where) if count_query is not None else None
        return query, count_query, joins, count_joins

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        count, rows = super().get_list(*args, **kwargs)
        _remember_page(rows)
        return count, rows

    # --- the form: one price field per level, defined by the administrator -------------------------
    def _form_class_with(self, base_cls: Any, defs: list) -> Any:
        cls = super()._form_class_with(base_cls, defs)
        attrs: dict[str, Any] = {f"{PRICE}{level.id}": StringField(level.name, render_kw={"inputmode": "decimal"})
                                 for level in products.levels(db.session)}
        attrs["confirm_duplicates"] = BooleanField(_l("同名提示已知晓，仍然保存"))  # made last: shown last
        return type(cls.__name__, (cls,), attrs)

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        if obj is not None and not is_form_submitted():
            for price in obj.prices:
                if f"{PRICE}{price.level_id}" in form:
                    form[f"{PRICE}{price.level_id}"].data = f"{price.price:.2f}"
        return form

    def apply_rules(self, form: Any, model: Product, is_created: bool) -> None:
        with db.session.no_autoflush:
            self.apply_custom_fields(form, model)
            try:
                products.validate(db.session, model, confirmed=bool(form.confirm_duplicates.data))
            except NeedsConfirmation as exc:
                raise ValidationError(gettext("请确认：%(m)s。如确需保存，请勾选“同名提示已知晓，仍然保存”后再次提交。",
                                              m=str(exc))) from exc
            prices = {int(name[len(PRICE):]): field.data for name, field in form._fields.items()
                      if name.startswith(PRICE)}
            products.set_prices(db.session, model, prices)

    def check_delete(self, model: Product) -> None:
        used = db.session.scalar(select(OrderLine.id).where(OrderLine.product_id == model.id).limit(1))
        if used is not None:
            raise RuleViolation(_l("产品“%(n)s”已有订单使用，不能删除；可以把它设为停售", n=model.name))


class ProductCategoryView(SecureModelView):
    """产品类别: a tree of any depth; choosing another parent moves the whole branch."""

    permission_view = "product.view"
    permission_create = permission_edit = permission_delete = "product.manage"
    column_list = ["name", "parent", "product_count"]
    column_labels = {"name": _l("类别名称"), "parent": _l("上级类别"), "product_count": _l("产品数"),
                     "sort_order": _l("排序")}
    column_default_sort = "path"
    column_sortable_list = []
    column_searchable_list = ["name"]
    form_columns = ["name", "parent", "sort_order"]
    form_args = {"parent": {"query_factory": _categories_by_path, "get_label": indented, "label": _l("上级类别"),
                            "allow_blank": True, "blank_text": _l("（顶级类别）")}}
    column_formatters = {"name": lambda v, c, m, n: indented(m),
                         "product_count": lambda v, c, m, n: ProductCategoryView._counts().get(m.id, 0)}

    @staticmethod
    def _counts() -> dict[int, int]:
        if "kechi_category_counts" not in g:
            g.kechi_category_counts = dict(db.session.execute(
                select(Product.category_id, func.count(Product.id)).group_by(Product.category_id)).all())
        return g.kechi_category_counts

    def apply_rules(self, form: Any, model: ProductCategory, is_created: bool) -> None:
        products.place_category(db.session, model, model.parent)

    def check_delete(self, model: ProductCategory) -> None:
        products.check_category_delete(db.session, model)


class PriceLevelView(SecureModelView):
    """价格等级: the names of the prices every product carries (零售价, 批发价, VIP价 ...)."""

    permission_view = permission_create = permission_edit = "product.manage"
    column_list = ["name", "sort_order", "active"]
    column_labels = {"name": _l("价格名称"), "sort_order": _l("排序"), "active": _l("启用")}
    column_default_sort = "sort_order"
    form_columns = ["name", "sort_order", "active"]


class WarehouseView(SecureModelView):
    permission_view = permission_create = permission_edit = "product.manage"
    column_list = ["name", "region", "active"]
    column_labels = {"name": _l("仓库名称"), "region": _l("地区"), "active": _l("启用")}
    form_columns = ["name", "region", "active"]


class StockView(SecureModelView):
    """库存: quantity per product and warehouse; 入库/出库/盘点 through rules/stock.py."""

    permission_view = "product.view"
    list_template = "admin/products/stock_list.html"
    column_display_actions = False
    column_list = ["product", "warehouse", "quantity"]
    column_labels = {"product": _l("产品"), "warehouse": _l("仓库"), "quantity": _l("数量")}
    column_default_sort = [("product_id", False), ("warehouse_id", False)]
    column_filters = [IdEqual(Stock.warehouse_id, _l("仓库"), options=LazyOptions(
        lambda: [(str(w.id), w.name) for w in db.session.scalars(select(Warehouse).order_by(Warehouse.id))]))]

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Stock.product), joinedload(Stock.warehouse))

    @expose("/adjust/", methods=["GET", "POST"])
    def adjust_view(self) -> Any:
        actor = current_actor()
        if not actor.can("product.manage"):
            abort(403)
        form = request.form
        if request.method == "POST":
            if not CsrfForm(form).validate():
                abort(400)
            try:
                quantity = params.optional_int(form.get("quantity"), name=gettext("数量"), minimum=-params.MAX_SETTING,
                                               maximum=params.MAX_SETTING)
                if quantity is None:
                    raise params.BadParameter(gettext("数量应为整数"))
            except params.BadParameter:
                flash(gettext("数量应为整数"), "error")
            else:
                if commit_or_explain(
                        lambda: stock.adjust(db.session, product_id=params.id_or_none(form.get("product_id")) or 0,
                                             warehouse_id=params.id_or_none(form.get("warehouse_id")) or 0, quantity=quantity,
                                             reason=form.get("reason", ""), note=form.get("note"), actor=actor,
                                             now=now()),
                        lambda m: gettext("已记录库存变动，现有 %(b)d", b=m.balance)):
                    return redirect(url_for(".index_view"))
        items = list(db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code)))
        warehouses = list(db.session.scalars(select(Warehouse).where(Warehouse.active.is_(True))
                                             .order_by(Warehouse.id)))
        return self.render("admin/products/adjust.html", products=items, warehouses=warehouses, form=form,
                           reasons={k: stock.REASONS[k] for k in ("in", "out", "adjust")})


class StockMovementView(SecureModelView):
    """库存变动记录: read-only."""

    permission_view = "product.view"
    column_list = ["at", "product", "warehouse", "reason", "change", "balance", "order", "actor", "note"]
    column_labels = {"at": _l("时间"), "product": _l("产品"), "warehouse": _l("仓库"), "reason": _l("类型"),
                     "change": _l("变动"), "balance": _l("结存"), "order": _l("订单"), "actor": _l("操作人"),
                     "note": _l("备注")}
    column_default_sort = [("at", True), ("id", True)]
    column_formatters = {"reason": choice_label(stock.REASONS)}
    column_filters = [FilterEqual(StockMovement.reason, _l("类型"), options=list(stock.REASONS.items()))]

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(StockMovement.product), joinedload(StockMovement.warehouse),
                                           joinedload(StockMovement.actor))


class LowStockView(SecureModelView):
    """库存不足: in-sale products whose total stock is below their safety stock."""

    permission_view = "product.view"
    list_template = "admin/products/low_stock.html"
    column_list = ["code", "name", "spec", "safety_stock", "stock_total"]
    column_labels = LABELS
    column_default_sort = "code"
    column_formatters = {"stock_total": _stock_total}

    def get_query(self) -> Any:
        return super().get_query().filter(stock.low_stock_clause())

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(stock.low_stock_clause())

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        count, rows = super().get_list(*args, **kwargs)
        _remember_page(rows)
        return count, rows


def views() -> list[Any]:
    return [
        ProductView(Product, name=_l("产品列表"), category=PRODUCTS, endpoint="product", **fa("fa-cubes")),
        ProductCategoryView(ProductCategory, name=_l("产品类别"), category=PRODUCTS, endpoint="product_category",
                            **fa("fa-sitemap")),
        StockView(Stock, name=_l("库存"), category=PRODUCTS, endpoint="stock", **fa("fa-archive")),
        LowStockView(Product, name=_l("库存不足"), category=PRODUCTS, endpoint="low_stock",
                     **fa("fa-exclamation-triangle")),
        StockMovementView(StockMovement, name=_l("库存变动记录"), category=PRODUCTS, endpoint="stock_movement",
                          **fa("fa-history")),
        PriceLevelView(PriceLevel, name=_l("价格等级"), category=PRODUCTS, endpoint="price_level", **fa("fa-tags")),
        WarehouseView(Warehouse, name=_l("仓库"), category=PRODUCTS, endpoint="warehouse", **fa("fa-building")),
    ]
