"""库存: quantities per warehouse, changed only here, each change logged as a StockMovement.

A deduction is one guarded UPDATE (`quantity >= n` unless negative stock is allowed), so two
shipments of the last units cannot both succeed, on SQLite or PostgreSQL."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.product import Product, Stock, StockMovement, Warehouse
from rules import settings
from rules.actor import Actor
from rules.errors import InvalidValue, PermissionDenied, RuleViolation

ALLOW_NEGATIVE = "allow_negative_stock"
REASONS = {"in": _l("入库"), "out": _l("出库"), "adjust": _l("盘点调整"), "ship": _l("订单发货"),
           "return": _l("退货入库"), "repair": _l("维修领用"), "repair_back": _l("维修退回")}


class StockShort(RuleViolation):
    """Not enough stock and negative stock is not allowed."""


def negative_allowed(session: Session) -> bool:
    return bool(settings.get(session, ALLOW_NEGATIVE) or False)


def default_warehouse(session: Session) -> Warehouse:
    found = session.scalar(select(Warehouse).where(Warehouse.active.is_(True)).order_by(Warehouse.id).limit(1))
    if found is None:
        found = Warehouse(name="总仓")
        session.add(found)
        session.flush()
    return found


def change(session: Session, *, product_id: int, warehouse_id: int, quantity: int, reason: str,
           now: datetime, actor: Actor | None = None, order_id: int | None = None, note: str | None = None,
           allow_negative: bool | None = None) -> StockMovement:
    """Add (positive) or take (negative) `quantity`; raises StockShort rather than go below 0."""
    if quantity == 0:
        raise InvalidValue(_l("数量不能为 0"))
    if allow_negative is None:
        allow_negative = negative_allowed(session)
    guard = [Stock.product_id == product_id, Stock.warehouse_id == warehouse_id]
    if quantity < 0 and not allow_negative:
        guard.append(Stock.quantity >= -quantity)
    for _attempt in range(3):
        balance = session.execute(update(Stock).where(*guard).values(quantity=Stock.quantity + quantity)
                                  .returning(Stock.quantity).execution_options(synchronize_session=False)).scalar()
        if balance is not None:
            break
        have = session.scalar(select(Stock.quantity).where(Stock.product_id == product_id,
                                                           Stock.warehouse_id == warehouse_id))
        short = quantity < 0 and not allow_negative and (have or 0) < -quantity
        if short:
            product = session.get(Product, product_id)
            warehouse = session.get(Warehouse, warehouse_id)
            raise StockShort(_l("“%(p)s”在“%(w)s”库存不足：现有 %(h)d，需要 %(n)d",
                                p=product.name if product else product_id, w=warehouse.name if warehouse else "",
                                h=have or 0, n=-quantity))
        if have is not None:
            continue  # the row changed between our two statements: try again
        try:
            with session.begin_nested():
                session.execute(insert(Stock).values(product_id=product_id, warehouse_id=warehouse_id,
                                                     quantity=quantity))
            balance = quantity
            break
        except IntegrityError:
            continue  # someone created the row at the same moment
    else:
        raise RuleViolation(_l("系统繁忙，请稍后重试"))
    movement = StockMovement(product_id=product_id, warehouse_id=warehouse_id, change=quantity, balance=balance,
                             reason=reason, order_id=order_id, actor_id=actor.user_id if actor else None,
                             note=note, at=now)
    session.add(movement)
    session.flush()
    return movement


def adjust(session: Session, *, product_id: int, warehouse_id: int, quantity: int, reason: str, note: str | None,
           actor: Actor, now: datetime) -> StockMovement:
    """入库/出库/盘点 by someone who manages stock."""
    if not actor.can("product.manage"):
        raise PermissionDenied(_l("您没有管理库存的权限"))
    if reason not in ("in", "out", "adjust"):
        raise InvalidValue(_l("请选择变动类型"))
    if reason == "in" and quantity < 0 or reason == "out" and quantity > 0:
        quantity = -quantity
    return change(session, product_id=product_id, warehouse_id=warehouse_id, quantity=quantity, reason=reason,
                  now=now, actor=actor, note=note)


def total_clause() -> Select:
    """Total stock per product over every warehouse."""
    return select(Stock.product_id, func.sum(Stock.quantity).label("total")).group_by(Stock.product_id)


def totals(session: Session, product_ids: list[int]) -> dict[int, int]:
    if not product_ids:
        return {}
    rows = session.execute(total_clause().where(Stock.product_id.in_(product_ids)))
    return {pid: int(total or 0) for pid, total in rows}


def low_stock_clause() -> ColumnElement[bool]:
    """Active products whose total stock is below their safety stock (库存不足)."""
    total = (select(func.coalesce(func.sum(Stock.quantity), 0)).where(Stock.product_id == Product.id)
             .scalar_subquery())
    return (Product.active.is_(True)) & (Product.safety_stock > 0) & (total < Product.safety_stock)
