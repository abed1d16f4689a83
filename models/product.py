"""Products: categories (a tree of any depth), products with named price levels, warehouses,
stock per warehouse and the log of every stock movement."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.org import User

MONEY = Numeric(14, 2)


class ProductCategory(TimestampMixin, db.Model):
    """产品类别: a node of the category tree; `path` is "/1/4/9/" so a subtree is one prefix."""

    __tablename__ = "product_categories"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("product_categories.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), nullable=False, default="/", index=True)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    parent: Mapped[ProductCategory | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[ProductCategory]] = relationship(back_populates="parent")

    @property
    def depth(self) -> int:
        return self.path.strip("/").count("/")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "name", "path")


class PriceLevel(db.Model):
    """价格等级: a named price the administrator defines (零售价, 批发价, VIP价 ...)."""

    __tablename__ = "price_levels"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __str__(self) -> str:
        return self.name


class Product(TimestampMixin, db.Model):
    __tablename__ = "products"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    mnemonic: Mapped[str | None] = mapped_column(String(64), index=True)
    spec: Mapped[str | None] = mapped_column(String(64))  # 含量/包装规格
    unit: Mapped[str | None] = mapped_column(String(16))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("product_categories.id"), index=True)
    cost: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # 积分 per unit sold
    safety_stock: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # below: 库存不足
    warranty_months: Mapped[int | None] = mapped_column(Integer)  # 保修期（月）: sets a sold line's warranty end
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    notes: Mapped[str | None] = mapped_column(Text)
    custom: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    category: Mapped[ProductCategory | None] = relationship()
    prices: Mapped[list[ProductPrice]] = relationship(back_populates="product", cascade="all, delete-orphan",
                                                      order_by="ProductPrice.level_id")
    stocks: Mapped[list[Stock]] = relationship(back_populates="product", order_by="Stock.warehouse_id")

    def __str__(self) -> str:
        return f"{self.code} {self.name}" + (f"（{self.spec}）" if self.spec else "")

    def __repr__(self) -> str:
        return format_repr(self, "id", "code", "name")


class ProductPrice(db.Model):
    __tablename__ = "product_prices"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    level_id: Mapped[int] = mapped_column(ForeignKey("price_levels.id"), nullable=False)
    price: Mapped[Decimal] = mapped_column(MONEY, nullable=False)

    product: Mapped[Product] = relationship(back_populates="prices")
    level: Mapped[PriceLevel] = relationship()

    __table_args__ = (UniqueConstraint("product_id", "level_id", name="uq_product_prices_product_level"),)

    def __str__(self) -> str:
        return f"{self.level}: {self.price}"


class Warehouse(db.Model):
    """仓库 (or sales region holding stock)."""

    __tablename__ = "warehouses"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    region: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __str__(self) -> str:
        return self.name


class Stock(db.Model):
    """库存: quantity of one product in one warehouse. Changed only by rules/stock.py."""

    __tablename__ = "stocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), nullable=False, index=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    product: Mapped[Product] = relationship(back_populates="stocks")
    warehouse: Mapped[Warehouse] = relationship()

    __table_args__ = (UniqueConstraint("product_id", "warehouse_id", name="uq_stocks_product_warehouse"),)


class StockMovement(db.Model):
    """库存变动: every change of a stock quantity, with why and who."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), nullable=False)
    change: Mapped[int] = mapped_column(Integer, nullable=False)
    balance: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)  # in / out / adjust / ship / return
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    product: Mapped[Product] = relationship()
    warehouse: Mapped[Warehouse] = relationship()
    actor: Mapped[User | None] = relationship()
    order: Mapped["Order | None"] = relationship(viewonly=True)  # noqa: F821 - models/sales.py

    __table_args__ = (Index("ix_stock_movements_product_at", "product_id", "at"),)
