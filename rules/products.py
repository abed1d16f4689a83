"""产品管理: the category tree, product entry (再次录入提醒), named prices and search."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from models.product import PriceLevel, Product, ProductCategory, ProductPrice
from rules import normalize
from rules.errors import DuplicateEntry, InvalidValue, NeedsConfirmation, RuleViolation
from rules.org import move_in_tree


def place_category(session: Session, category: ProductCategory, parent: ProductCategory | None) -> None:
    """Put a category under `parent` (or at the top); its whole subtree moves with it."""
    category.name = normalize.text(category.name)
    if not category.name:
        raise InvalidValue(_l("请填写类别名称"))
    move_in_tree(session, category, parent, path=ProductCategory.path, parent_id="parent_id",
                 refusal=_l("不能把类别移到它自己或它的下级类别之下"))


def ensure_category_path(session: Session, names: list[str]) -> ProductCategory:
    parent: ProductCategory | None = None
    for name in names:
        found = session.scalar(select(ProductCategory).where(
            ProductCategory.name == name,
            ProductCategory.parent_id.is_(None) if parent is None else ProductCategory.parent_id == parent.id))
        if found is None:
            found = ProductCategory(name=name)
            place_category(session, found, parent)
        parent = found
    assert parent is not None
    return parent


def check_category_delete(session: Session, category: ProductCategory) -> None:
    children = session.scalar(select(func.count(ProductCategory.id)).where(ProductCategory.parent_id == category.id))
    used = session.scalar(select(func.count(Product.id)).where(Product.category_id == category.id))
    if children or used:
        raise RuleViolation(_l("类别“%(n)s”下还有下级类别或产品，请先调整后再删除", n=category.name))


def subtree_clause(category_id: int, session: Session) -> ColumnElement[bool]:
    """Products in a category or any category below it."""
    path = session.scalar(select(ProductCategory.path).where(ProductCategory.id == category_id)) or "/-/"
    return Product.category_id.in_(select(ProductCategory.id).where(ProductCategory.path.startswith(path)))


Lookup = Callable[[str, str, int | None], Any]  # (field, value, own id) → another product or None


def duplicates(session: Session, product: Product, *, lookup: Lookup | None = None) -> list[tuple[str, str]]:
    """再次录入提醒: (field, message) for other products with the same code or name. `lookup`
    answers from rows read for a whole batch (the importer) instead of a query per product."""
    messages = []
    others = select(Product).where(Product.id != (product.id or -1))
    if product.code:
        same = (lookup("code", product.code.lower(), product.id) if lookup is not None else
                session.scalar(others.where(func.lower(Product.code) == product.code.lower()).limit(1)))
        if same is not None:
            messages.append(("code", str(_l("产品编号“%(c)s”已被“%(n)s”使用", c=product.code, n=same.name))))
    same_name = (lookup("name", product.name, product.id) if lookup is not None else
                 session.scalar(others.where(Product.name == product.name).limit(1)))
    if same_name is not None:
        messages.append(("name", str(_l("已有同名产品“%(n)s”（编号 %(c)s%(s)s）", n=same_name.name,
                                        c=same_name.code, s=f"，{same_name.spec}" if same_name.spec else ""))))
    return messages


def validate(session: Session, product: Product, *, confirmed: bool, lookup: Lookup | None = None) -> None:
    """Tidy and check a product before it is saved. A duplicate code is refused (codes are
    unique); a duplicate name is a warning the user may confirm."""
    with session.no_autoflush:
        product.name = normalize.text(product.name)
        product.code = normalize.text(product.code).upper()
        product.spec = normalize.text(product.spec) or None
        product.unit = normalize.text(product.unit) or None
        if not product.name:
            raise InvalidValue(_l("请填写产品名称"))
        if not product.code:
            raise InvalidValue(_l("请填写产品编号"))
        if product.cost is not None and Decimal(product.cost) < 0:
            raise InvalidValue(_l("成本价不能为负数"))
        if (product.points or 0) < 0:
            raise InvalidValue(_l("积分不能为负数"))
        product.mnemonic = normalize.mnemonic(product.name)
        found = duplicates(session, product, lookup=lookup)
    for field, message in found:
        if field == "code":
            raise DuplicateEntry(message)
    if found and not confirmed:
        raise NeedsConfirmation([_Issue(message) for _field, message in found])


class _Issue:
    """The shape NeedsConfirmation expects (an entry issue with a message)."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.is_error = False


def set_prices(session: Session, product: Product, prices: dict[int, Any]) -> None:
    """Named prices by level id; empty removes the price for that level."""
    existing = {p.level_id: p for p in product.prices}
    for level_id, raw in prices.items():
        text = normalize.text(raw).replace(",", "").replace("¥", "")
        if not text:
            if level_id in existing:
                product.prices.remove(existing[level_id])
            continue
        try:
            value = Decimal(text)
        except ArithmeticError:
            raise InvalidValue(_l("价格格式不正确：%(v)s", v=text)) from None
        if value < 0:
            raise InvalidValue(_l("价格不能为负数"))
        if level_id in existing:
            existing[level_id].price = value
        else:
            product.prices.append(ProductPrice(level_id=level_id, price=value))


def levels(session: Session, *, include_inactive: bool = False) -> list[PriceLevel]:
    stmt = select(PriceLevel)
    if not include_inactive:
        stmt = stmt.where(PriceLevel.active.is_(True))
    return list(session.scalars(stmt.order_by(PriceLevel.sort_order, PriceLevel.id)))


def ensure_default_levels(session: Session) -> list[PriceLevel]:
    if session.scalar(select(PriceLevel.id).limit(1)) is None:
        session.add_all(PriceLevel(name=n, sort_order=i) for i, n in enumerate(["零售价", "批发价", "VIP价"]))
        session.flush()
    return levels(session)


def search_clause(term: str) -> ColumnElement[bool] | None:
    """产品 quick search: code, name or mnemonic (拼音首字母), any fragment."""
    text = normalize.text(term)
    if not text:
        return None
    like = f"%{text.lower()}%"
    return or_(func.lower(Product.code).like(like), func.lower(Product.name).like(like),
               Product.mnemonic.like(like))
