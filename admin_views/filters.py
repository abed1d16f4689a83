"""List filters that understand the firm's calendar (a date range picked on screen is local
days, while timestamps are stored in UTC), and the filters a report's drill-down needs: a
person's department and a set of states. Which filter a drill-down uses is declared on the list
view (admin_views/links.drill), not here."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, DateBetweenFilter, FilterEqual, FilterGreater, FilterSmaller
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from models import Department, Order, OrderLine, Product, ProductCategory, User, db


def _utc_start(day: date) -> datetime:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone)


class LocalDateBetween(DateBetweenFilter):
    """Between two local dates, both days included."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        start, end = value
        column = self.get_column(alias)
        return query.filter(column >= _utc_start(start), column < _utc_start(end + timedelta(days=1)))


class LazyOptions:
    """Filter options read from the database on each page view, not once at start-up
    (Flask-Admin builds filters when the view is constructed)."""

    def __init__(self, factory) -> None:
        self.factory = factory

    def __iter__(self):
        return iter(self.factory())

    def __bool__(self) -> bool:
        return True


class _Amount:
    """A money filter's value as a number (1,200.50 too): compared as text, PostgreSQL refuses
    numeric > varchar and the list failed."""

    def validate(self, value: Any) -> bool:
        try:
            Decimal(str(value).replace(",", "").strip())
        except InvalidOperation:
            return False
        return True

    def clean(self, value: Any) -> Decimal:
        return Decimal(str(value).replace(",", "").strip())


class AmountGreater(_Amount, FilterGreater):
    pass


class AmountSmaller(_Amount, FilterSmaller):
    pass


class IdEqual(FilterEqual):
    """Equality on an integer id chosen from a drop-down."""

    def validate(self, value: Any) -> bool:
        return str(value).isdigit()

    def clean(self, value: Any) -> int:
        return int(value)


class ContactedBefore(BaseSQLAFilter):
    """最后联系 before an instant, or never: the customers 客户跟进报表 counts as not followed
    up for N days. The value is the report's own cut-off (an ISO time with its offset), so the
    list shows exactly the customers it counted, however much later it is opened."""

    def validate(self, value: Any) -> bool:
        return self._parse(value) is not None

    def clean(self, value: Any) -> datetime:
        return self._parse(value)

    @staticmethod
    def _parse(value: Any) -> datetime | None:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        column = self.get_column(alias)
        return query.filter(or_(column.is_(None), column < value))

    def operation(self) -> Any:
        return _l("早于（含从未联系）")


def department_options() -> list[tuple[str, str]]:
    """Every department, indented by depth, for a department drop-down: read once per page
    view, however many filters of the page offer it."""
    if "kechi_department_options" not in g:
        rows = db.session.execute(select(Department.id, Department.name, Department.path).order_by(Department.path))
        g.kechi_department_options = [(str(r.id), "\u3000" * max(r.path.strip("/").count("/"), 0) + r.name)
                                      for r in rows]
    return g.kechi_department_options


class StaffInDepartment(IdEqual):
    """People columns (业务员, writer) whose user works in the chosen department, or with
    `subtree` in it and its sub-departments: the report pages' department choice, carried into
    the lists a chart opens."""

    def __init__(self, column: Any, name: Any, *, subtree: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("options", LazyOptions(department_options))
        super().__init__(column, name, **kwargs)
        self.subtree = subtree

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        if self.subtree:
            path = select(Department.path).where(Department.id == value).scalar_subquery()
            members = (select(User.id).join(Department, User.department_id == Department.id)
                       .where(Department.path.startswith(path)))
        else:
            members = select(User.id).where(User.department_id == value)
        return query.filter(self.get_column(alias).in_(members))

    def operation(self) -> Any:
        return _l("属于（含下属部门）") if self.subtree else _l("等于")


class OneOf(BaseSQLAFilter):
    """The column takes one of a named set of values (e.g. order states past review); the
    options are the sets, each a comma-joined value list with a label."""

    def __init__(self, column: Any, name: Any, *, allowed: Any, **kwargs: Any) -> None:
        super().__init__(column, name, **kwargs)
        self.allowed = {str(v) for v in allowed}

    def validate(self, value: Any) -> bool:
        parts = [p.strip() for p in str(value).split(",") if p.strip()]
        return bool(parts) and all(p in self.allowed for p in parts)

    def clean(self, value: Any) -> list[str]:
        return [p.strip() for p in str(value).split(",") if p.strip()]

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(self.get_column(alias).in_(value))

    def operation(self) -> Any:
        return _l("属于")


class IdsIn(BaseSQLAFilter):
    """An id column in a set of ids given as "3,4,5", each option one such set (e.g. a stage and
    every later one: the customers 销售漏斗 counts as having reached it)."""

    def __init__(self, column: Any, name: Any, *, operation: Any, **kwargs: Any) -> None:
        super().__init__(column, name, **kwargs)
        self.operation_label = operation

    def validate(self, value: Any) -> bool:
        parts = [p.strip() for p in str(value).split(",") if p.strip()]
        return bool(parts) and all(p.isdigit() for p in parts)

    def clean(self, value: Any) -> list[int]:
        return [int(p) for p in str(value).split(",") if p.strip()]

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(self.get_column(alias).in_(value))

    def operation(self) -> Any:
        return self.operation_label


def product_options() -> list[tuple[str, str]]:
    rows = db.session.execute(select(Product.id, Product.code, Product.name).order_by(Product.code))
    return [(str(r.id), f"{r.code} {r.name}") for r in rows]


def category_options() -> list[tuple[str, str]]:
    rows = db.session.execute(select(ProductCategory.id, ProductCategory.name, ProductCategory.path)
                              .order_by(ProductCategory.path, ProductCategory.name))
    return [(str(r.id), r.name) for r in rows]


class OrderHasProduct(IdEqual):
    """Orders with a line of the chosen product (by id, exactly as 产品销售报表 groups)."""

    def __init__(self, name: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options", LazyOptions(product_options))
        super().__init__(Order.id, name, **kwargs)

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        line = select(OrderLine.id).where(OrderLine.order_id == Order.id, OrderLine.product_id == value)
        return query.filter(line.exists())

    def operation(self) -> Any:
        return _l("包含")


class OrderHasCategory(IdEqual):
    """Orders with a line of a product of the chosen category (that category itself, as
    产品销售报表 by category groups)."""

    def __init__(self, name: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options", LazyOptions(category_options))
        super().__init__(Order.id, name, **kwargs)

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        line = (select(OrderLine.id).join(Product, OrderLine.product_id == Product.id)
                .where(OrderLine.order_id == Order.id, Product.category_id == value))
        return query.filter(line.exists())

    def operation(self) -> Any:
        return _l("包含")
