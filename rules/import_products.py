"""产品导入: products through the customers' import pipeline (rules/importing.py reads the
sheet, jobs/excel.py runs the batches, admin_views/excel.py is the wizard).

Each row is checked by the rules the product form uses: `products.validate` (name and code
required, codes unique, no negative cost or points, tidying and the mnemonic),
`products.set_prices` (one price per price level) and `custom_fields.validate`. What the form
gets from its widgets is read here: the category by its path (办公设备/打印机) or by its own
name, numbers typed as text, 是/否.

A category the tree does not hold rejects the row with the reason: the product form only offers
existing categories, and creating them from a sheet would turn every typo into a new branch.
Duplicates are by product code (case-insensitive, as the form compares them): a repeat within
the file is skipped (the first row wins); an existing code is skipped or updated, as the wizard
asks. A same-name product with another code is imported, as the form allows after its 同名提示.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.job import RowOutcome
from models.product import Product, ProductCategory
from rules import custom_fields, normalize, products
from rules.actor import Actor
from rules.errors import DuplicateEntry, RuleViolation
from rules.import_batch import Options, Outcome
from rules.importing import Column, Parsed, Reader

PERMISSION = "product.manage"
PRICE_PREFIX = "price:"
ON_DUPLICATE = {"skip": _l("跳过（不导入）"), "update": _l("更新已有产品（按产品编号）")}
TEXT_FIELDS = ("name", "code", "spec", "unit", "notes")
NUMBER_FIELDS = ("cost", "points", "safety_stock")
_SEPARATORS = ("／", "/", "＞", ">", "\\", "｜", "|")
_TRUE = {"是", "在售", "上架", "有效", "启用", "y", "yes", "true", "1", "√"}
_FALSE = {"否", "停售", "下架", "无效", "停用", "n", "no", "false", "0", "×"}

BASE_COLUMNS: list[Column] = [
    Column("code", _l("产品编号"), ("产品编号", "编号", "产品编码", "编码", "产品代码", "货号", "商品编号", "商品编码",
                                 "sku", "code", "product code", "item no"), required=True),
    Column("name", _l("产品名称"), ("产品名称", "名称", "品名", "产品", "商品名称", "商品", "name", "product",
                                 "product name"), required=True),
    Column("spec", _l("规格（含量/包装）"), ("规格（含量/包装）", "规格", "型号", "规格型号", "包装规格", "含量", "spec",
                                       "specification", "model")),
    Column("unit", _l("单位"), ("单位", "计量单位", "unit", "uom")),
    Column("category", _l("产品类别"), ("产品类别", "类别", "分类", "产品分类", "类目", "商品类别", "category")),
    Column("cost", _l("成本价"), ("成本价", "成本", "进价", "采购价", "cost", "cost price")),
    Column("points", _l("积分（每单位）"), ("积分（每单位）", "积分", "points")),
    Column("safety_stock", _l("安全库存"), ("安全库存", "最低库存", "库存下限", "safety stock")),
    Column("active", _l("在售"), ("在售", "是否在售", "状态", "active")),
    Column("notes", _l("备注"), ("备注", "说明", "notes", "remark", "remarks")),
]
EXAMPLES = {"code": "P-0001", "name": "激光打印机", "spec": "A4 黑白", "unit": "台", "category": "办公设备/打印机",
            "cost": "899.00", "points": "10", "safety_stock": "5", "active": "是"}
TEMPLATE_NOTE = _l("带 * 的列必须填写。\n第一行是表头，请不要修改表头文字；示例行可以删除。\n"
                   "产品编号不能重复；已有的编号可选择“跳过”或“更新已有产品”。\n"
                   "产品类别须是“产品类别”中已有的类别，可写完整路径（如 办公设备/打印机）或类别名称。\n"
                   "价格、成本价填写数字（如 1234.50）；积分、安全库存填写整数；在售填写“是”或“否”。")


def base_columns(session: Session) -> list[Column]:
    """The product columns: the fixed ones and one price column per active price level; the
    first level also answers to 价格/售价/单价/price."""
    cols = list(BASE_COLUMNS)
    for index, level in enumerate(products.levels(session)):
        aliases = (level.name,) + (("价格", "售价", "单价", "销售价", "price") if index == 0 else ())
        cols.insert(6 + index, Column(f"{PRICE_PREFIX}{level.id}", level.name, aliases))
    return cols


class CategoryIndex:
    """Every category by the names on its path, so 打印机, 办公设备/打印机 and a full path all
    find it; a name shared by two branches asks for the path."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(ProductCategory.id, ProductCategory.name, ProductCategory.parent_id)).all()
        by_id = {cid: (name, parent) for cid, name, parent in rows}
        self.paths: dict[int, tuple[str, ...]] = {}
        for cid in by_id:
            names, node, hops = [], cid, 0
            while node is not None and hops < 64:
                name, parent = by_id[node]
                names.append(normalize.text(name).lower())
                node, hops = parent, hops + 1
            self.paths[cid] = tuple(reversed(names))

    def find(self, text: str) -> int:
        """The category id for what the sheet says; ValueError with the reason otherwise."""
        for sep in _SEPARATORS[1:]:
            text = text.replace(sep, _SEPARATORS[0])
        wanted = tuple(normalize.text(p).lower() for p in text.split(_SEPARATORS[0]) if normalize.text(p))
        if not wanted:
            raise ValueError(str(_l("产品类别不能为空")))
        exact = [cid for cid, path in self.paths.items() if path == wanted]
        if exact:
            return exact[0]
        found = [cid for cid, path in self.paths.items() if path[-len(wanted):] == wanted]
        if len(found) == 1:
            return found[0]
        shown = "/".join(wanted)
        if not found:
            raise ValueError(str(_l("产品类别“%(c)s”不存在，请先在“产品类别”中添加", c=shown)))
        raise ValueError(str(_l("有多个名为“%(c)s”的产品类别，请写完整路径（如 %(p)s）", c=shown,
                                p="/".join(self.paths[found[0]]))))


def _number(text: str, label: Any, *, integer: bool) -> Decimal | int:
    clean = normalize.text(text).replace(",", "").replace("¥", "")
    try:
        value = Decimal(clean)
    except InvalidOperation:
        raise ValueError(str(_l("%(f)s“%(v)s”不是数字", f=label, v=text))) from None
    if integer:
        if value != value.to_integral_value():
            raise ValueError(str(_l("%(f)s应为整数", f=label)))
        return int(value)
    return value


def _limit_problems(values: dict[str, Any]) -> list[str]:
    """Texts longer than their column, refused as the form's length check refuses them."""
    out = []
    labels = {c.key: c.label for c in BASE_COLUMNS}
    for name in TEXT_FIELDS:
        length = getattr(Product.__table__.c[name].type, "length", None)
        if length and len(values.get(name) or "") > length:
            out.append(str(_l("%(f)s不能超过 %(n)d 个字", f=labels[name], n=length)))
    return out


class _BatchLookup:
    """The products a batch's codes and names could collide with, read in two queries and
    answered to `products.duplicates` through its `lookup` hook (as one query per row would)."""

    def __init__(self, session: Session, *, codes: set[str], names: set[str]) -> None:
        self.found: dict[tuple[str, str], list[Any]] = {}
        for field, column, values in (("code", func.lower(Product.code), codes), ("name", Product.name, names)):
            if not values:
                continue
            stmt = (select(column.label("match"), Product.id, Product.name, Product.code, Product.spec)
                    .where(column.in_(values)).order_by(Product.id))
            for row in session.execute(stmt):
                self.found.setdefault((field, row.match), []).append(row)

    def lookup(self, field: str, value: str, own_id: int | None) -> Any:
        return next((row for row in self.found.get((field, value), []) if row.id != own_id), None)


class ProductImporter:
    """Checks and writes product rows batch by batch for one job (the pipeline's interface:
    `remember`, `check`, `write`)."""

    def __init__(self, session: Session, *, actor: Actor, options: Options, reader: Reader, now: datetime) -> None:
        self.session, self.actor, self.options, self.reader, self.now = session, actor, options, reader, now
        self.categories = CategoryIndex(session)
        self.labels = {c.key: c.label for c in reader.cols.values()}
        self.seen: dict[str, int] = {}  # product code (upper case) → the file row that holds it
        self.batch = _BatchLookup(session, codes=set(), names=set())  # filled by `check` per batch

    @staticmethod
    def _code(parsed: Parsed) -> str:
        return normalize.text(parsed.values.get("code")).upper()

    def remember(self, parsed: Parsed) -> None:
        """A row committed by an earlier run of this job: its code counts for in-file repeats."""
        code = self._code(parsed)
        if code:
            self.seen.setdefault(code, parsed.row_no)

    def check(self, rows: list[Parsed]) -> list[Outcome]:
        codes = {self._code(p) for p in rows if self._code(p)}
        existing: dict[str, Product] = {}
        if codes:
            for product in self.session.scalars(select(Product).where(func.upper(Product.code).in_(codes))):
                existing.setdefault(product.code.upper(), product)
        names = {normalize.text(p.values.get("name")) for p in rows} | {p.name for p in existing.values()}
        self.batch = _BatchLookup(self.session, codes={c.lower() for c in codes}, names=names - {""})
        return [self._check_one(p, existing) for p in rows]

    def _fields(self, parsed: Parsed, problems: list[str]) -> dict[str, Any]:
        """The row's values as the model holds them (only the cells the row fills)."""
        values = parsed.values
        out: dict[str, Any] = {name: values[name] for name in TEXT_FIELDS if name in values}
        for name in NUMBER_FIELDS:
            if values.get(name) not in (None, ""):
                try:
                    out[name] = _number(str(values[name]), self.labels.get(name, name), integer=name != "cost")
                except ValueError as exc:
                    problems.append(str(exc))
        if values.get("active") not in (None, ""):
            word = normalize.text(values["active"]).lower()
            if word in _TRUE or word in _FALSE:
                out["active"] = word in _TRUE
            else:
                problems.append(str(_l("在售应为“是”或“否”")))
        if values.get("category"):
            try:
                out["category_id"] = self.categories.find(str(values["category"]))
            except ValueError as exc:
                problems.append(str(exc))
        problems += _limit_problems(out)
        return out

    def _check_one(self, parsed: Parsed, existing: dict[str, Product]) -> Outcome:
        problems = list(parsed.problems)
        fields = self._fields(parsed, problems)
        custom_clean, custom_errors = custom_fields.validate(self.reader.custom_defs, parsed.custom)
        code = self._code(parsed)
        target = existing.get(code) if code else None
        updating = target is not None and self.options.on_duplicate == "update"
        if updating:  # as the edit form: the existing product with the row's cells over it
            product = Product(id=target.id, **{n: getattr(target, n) for n in (*TEXT_FIELDS, *NUMBER_FIELDS,
                                                                                 "category_id", "active")})
            product.custom = {**(target.custom or {}), **custom_clean}
            custom_errors = {k: v for k, v in custom_errors.items()
                             if k in parsed.custom or not (target.custom or {}).get(k)}
        else:
            product = Product(cost=Decimal("0"), points=0, safety_stock=0, active=True)
            product.custom = custom_clean
        for name, value in fields.items():
            setattr(product, name, value)
        problems += list(custom_errors.values())
        prices = {int(k[len(PRICE_PREFIX):]): v for k, v in parsed.values.items() if k.startswith(PRICE_PREFIX)}
        try:
            products.set_prices(self.session, product, prices)
        except RuleViolation as exc:
            problems.append(str(exc))
        duplicate = ""
        try:
            products.validate(self.session, product, confirmed=True, lookup=self.batch.lookup)
        except DuplicateEntry as exc:
            duplicate = str(exc)
        except RuleViolation as exc:
            problems.append(str(exc))
        if problems:
            return Outcome(parsed, RowOutcome.REJECTED, "；".join(problems))
        earlier = self.seen.get(product.code)
        if earlier is not None:
            return Outcome(parsed, RowOutcome.SKIPPED, str(_l("与文件第 %(n)s 行重复（产品编号 %(c)s）", n=earlier, c=product.code)))
        self.seen[product.code] = parsed.row_no
        if updating:
            return Outcome(parsed, RowOutcome.UPDATED, duplicate, customer=product, target_id=target.id)
        if duplicate:
            return Outcome(parsed, RowOutcome.SKIPPED, duplicate)
        return Outcome(parsed, RowOutcome.IMPORTED, "", customer=product)

    def write(self, outcomes: list[Outcome]) -> None:
        """One flush per batch (loading an updated product's prices must not flush the new ones
        row by row). Outcome names its checked record `customer`."""
        with self.session.no_autoflush:
            for outcome in outcomes:
                if outcome.result == RowOutcome.UPDATED:
                    self._update(outcome, outcome.customer)
            self.session.add_all(o.customer for o in outcomes if o.result == RowOutcome.IMPORTED)
        self.session.flush()

    def _update(self, outcome: Outcome, checked: Product) -> None:
        """The row's filled cells onto the existing product; prices only for filled price cells."""
        target = self.session.get(Product, outcome.target_id)
        values = outcome.row.values
        for name in (*TEXT_FIELDS, *NUMBER_FIELDS, "active"):
            if name in values:
                setattr(target, name, getattr(checked, name))
        if "category" in values:
            target.category_id = checked.category_id
        target.mnemonic = checked.mnemonic
        if outcome.row.custom:
            target.custom = dict(checked.custom)
        prices = {int(k[len(PRICE_PREFIX):]): v for k, v in values.items() if k.startswith(PRICE_PREFIX)}
        products.set_prices(self.session, target, prices)


def missing_required(missing: list[Column], options: dict[str, Any]) -> list[Column]:
    """Required columns a product file must map: updating by code needs only the code (a row
    that turns out to be new is still refused without a name)."""
    if options.get("on_duplicate") == "update":
        return [c for c in missing if c.key != "name"]
    return missing
