"""Excel exports of every list that offers one (客户、联系人、联系记录、订单、产品): exactly the records
an actor may see, row by row in chunks, so 100k rows never sit in memory at once
(adapters/spreadsheet.py writes them, with formula-like text kept as text), times in the firm's
zone, money as numbers shown ¥1,234.50; and the import template's header.

Customer headers are the importer's labels (rules/importing.py), so an exported sheet imports
back unchanged."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session, aliased

from models.contract import Contract
from models.customer import Contact, Customer, FollowUp
from models.dictionary import DictItem
from models.invoice import Invoice
from models.org import Department, User
from models.product import PriceLevel, Product, ProductCategory, ProductPrice
from models.payment_plan import PaymentPlan
from models.sales import Order, OrderLine, Payment
from rules import custom_fields, importing, invoice_export, scope
from rules.contracts import CUSTOM_ENTITY as CONTRACT_ENTITY
from rules.contracts import STATE_LABELS as CONTRACT_STATES
from rules.orders import STATE_LABELS
from rules.actor import Actor

CHUNK = 1000


# Excel's number format for money: the cell stays a number (sums, sorting), shown ¥1,234.50.
MONEY_FORMAT = '"¥"#,##0.00'


@dataclass(frozen=True)
class ExportColumn:
    key: str
    label: Any
    get: Callable[[dict[str, Any]], Any]
    number_format: str | None = None


KIND_NAMES = {"company": _l("企业"), "person": _l("个人")}
GENDER_NAMES = {"male": _l("男"), "female": _l("女")}
FOLLOW_UP_KINDS = {"phone": _l("电话"), "visit": _l("拜访"), "wechat": _l("微信"), "email": _l("邮件"),
                   "sms": _l("短信"), "other": _l("其他")}


def _plain(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row.get(key)


def _named(key: str, names: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
    return lambda row: str(names[row[key]]) if row.get(key) in names else row.get(key)


def _custom(definition: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda row: custom_fields.display(definition, (row.get("custom") or {}).get(definition.key)) or None


def customer_columns(session: Session) -> list[ExportColumn]:
    """Every exportable customer column: the import catalogue (so exports import back), then
    who owns it and when, then custom fields."""
    cols = []
    for col in importing.CUSTOMER_COLUMNS:
        if col.kind == "kind":
            getter = _named("kind", KIND_NAMES)
        elif col.kind == "gender":
            getter = _named("gender", GENDER_NAMES)
        elif col.kind == "dict":
            getter = _plain(col.key + "_name")
        else:
            getter = _plain(col.key)
        cols.append(ExportColumn(col.key, col.label, getter))
    cols += [ExportColumn("owner", _l("业务员"), _plain("owner")),
             ExportColumn("department", _l("部门"), _plain("department")),
             ExportColumn("created_at", _l("创建时间"), _plain("created_at")),
             ExportColumn("last_follow_up_at", _l("最后联系"), _plain("last_follow_up_at")),
             ExportColumn("next_contact_at", _l("下次联系"), _plain("next_contact_at"))]
    for definition in custom_fields.definitions(session, "customer"):
        cols.append(ExportColumn(importing.CUSTOM_PREFIX + definition.key, definition.label, _custom(definition)))
    return cols


def contact_columns(session: Session) -> list[ExportColumn]:
    cols = [ExportColumn("customer", _l("所属客户"), _plain("customer")),
            ExportColumn("customer_code", _l("客户编号"), _plain("customer_code"))]
    for col in importing.CONTACT_COLUMNS[1:]:
        if col.kind == "id_number":
            continue  # 身份证号 is personal data: shown masked in lists, whole only to who may edit, never exported
        if col.kind == "gender":
            getter = _named("gender", GENDER_NAMES)
        elif col.kind == "bool":
            getter = lambda row, k=col.key: str(_l("是")) if row.get(k) else str(_l("否"))  # noqa: E731
        else:
            getter = _plain(col.key)
        cols.append(ExportColumn(col.key, col.label, getter))
    for definition in custom_fields.definitions(session, "contact"):
        cols.append(ExportColumn(importing.CUSTOM_PREFIX + definition.key, definition.label, _custom(definition)))
    return cols


def follow_up_columns(session: Session) -> list[ExportColumn]:
    return [ExportColumn("happened_at", _l("联系时间"), _plain("happened_at")),
            ExportColumn("customer", _l("客户名称"), _plain("customer")),
            ExportColumn("customer_code", _l("客户编号"), _plain("customer_code")),
            ExportColumn("contact", _l("联系人"), _plain("contact")),
            ExportColumn("kind", _l("联系方式"), _named("kind", FOLLOW_UP_KINDS)),
            ExportColumn("content", _l("联系内容"), _plain("content")),
            ExportColumn("user", _l("业务员"), _plain("user")),
            ExportColumn("next_contact_at", _l("下次联系"), _plain("next_contact_at"))]


def _money(key: str, label: Any) -> ExportColumn:
    return ExportColumn(key, label, _plain(key), MONEY_FORMAT)


def order_columns(session: Session) -> list[ExportColumn]:
    return [ExportColumn("number", _l("订单编号"), _plain("number")),
            ExportColumn("order_date", _l("订单日期"), _plain("order_date")),
            ExportColumn("customer", _l("客户名称"), _plain("customer")),
            ExportColumn("customer_code", _l("客户编号"), _plain("customer_code")),
            ExportColumn("salesperson", _l("业务员"), _plain("salesperson")),
            ExportColumn("state", _l("状态"), _named("state", STATE_LABELS)),
            ExportColumn("consignee", _l("收货人"), _plain("consignee")),
            ExportColumn("phone", _l("收货电话"), _plain("phone")),
            ExportColumn("province", _l("省份"), _plain("province")),
            ExportColumn("city", _l("城市"), _plain("city")),
            ExportColumn("district", _l("区县"), _plain("district")),
            ExportColumn("address", _l("收货地址"), _plain("address")),
            _money("gross", _l("原价合计")), _money("discount", _l("折扣金额")), _money("total", _l("订单金额")),
            _money("amount_ex_tax", _l("不含税金额")), _money("tax", _l("税额")), _money("cost", _l("成本")),
            _money("margin", _l("毛利")),
            ExportColumn("returned_quantity", _l("退货数量"), _plain("returned_quantity")),
            _money("returned_amount", _l("退货金额")), _money("received", _l("已收")), _money("refunded", _l("已退")),
            ExportColumn("carrier", _l("物流公司"), _plain("carrier")),
            ExportColumn("tracking_no", _l("物流单号"), _plain("tracking_no")),
            ExportColumn("approved_at", _l("审核时间"), _plain("approved_at")),
            ExportColumn("shipped_at", _l("发货时间"), _plain("shipped_at")),
            ExportColumn("completed_at", _l("完成时间"), _plain("completed_at")),
            ExportColumn("created_by", _l("录入人"), _plain("created_by")),
            ExportColumn("notes", _l("备注"), _plain("notes"))]


def product_columns(session: Session) -> list[ExportColumn]:
    """A product's price at each 价格等级 is a column of its own: numbers, not "零售价 12.00；…"."""
    cols = [ExportColumn("code", _l("产品编号"), _plain("code")), ExportColumn("name", _l("产品名称"), _plain("name")),
            ExportColumn("spec", _l("规格"), _plain("spec")), ExportColumn("unit", _l("单位"), _plain("unit")),
            ExportColumn("category", _l("产品类别"), _plain("category"))]
    for level in session.scalars(select(PriceLevel).order_by(PriceLevel.sort_order, PriceLevel.id)):
        cols.append(ExportColumn(f"price_{level.id}", level.name, _plain(f"price_{level.id}"), MONEY_FORMAT))
    cols += [_money("cost", _l("成本价")), ExportColumn("points", _l("积分"), _plain("points")),
             ExportColumn("safety_stock", _l("安全库存"), _plain("safety_stock")),
             ExportColumn("stock_total", _l("库存合计"), _plain("stock_total")),
             ExportColumn("active", _l("在售"), lambda row: str(_l("是")) if row.get("active") else str(_l("否"))),
             ExportColumn("notes", _l("备注"), _plain("notes"))]
    for definition in custom_fields.definitions(session, "product"):
        cols.append(ExportColumn(importing.CUSTOM_PREFIX + definition.key, definition.label, _custom(definition)))
    return cols


def contract_columns(session: Session) -> list[ExportColumn]:
    cols = [ExportColumn("number", _l("合同编号"), lambda row: row["number"] if row["revision"] == 1
                         else f"{row['number']}-V{row['revision']}"),
            ExportColumn("title", _l("合同名称"), _plain("title")),
            ExportColumn("customer", _l("客户名称"), _plain("customer")),
            ExportColumn("customer_code", _l("客户编号"), _plain("customer_code")),
            ExportColumn("status", _l("状态"), _named("status", CONTRACT_STATES)),
            ExportColumn("signed_on", _l("签订日期"), _plain("signed_on")),
            ExportColumn("start_on", _l("开始日期"), _plain("start_on")),
            ExportColumn("end_on", _l("结束日期"), _plain("end_on")),
            ExportColumn("owner", _l("负责人"), _plain("owner")),
            _money("gross", _l("原价合计")), _money("discount", _l("折扣金额")), _money("total", _l("合同金额")),
            _money("amount_ex_tax", _l("不含税金额")), _money("tax", _l("税额")), _money("received", _l("已收")),
            _money("written_off", _l("抹零")), _money("invoiced", _l("已开票")),
            ExportColumn("their_signatory", _l("客户签约人"), _plain("their_signatory")),
            ExportColumn("approved_at", _l("生效时间"), _plain("approved_at")),
            ExportColumn("void_reason", _l("作废原因"), _plain("void_reason")),
            ExportColumn("notes", _l("备注"), _plain("notes"))]
    for definition in custom_fields.definitions(session, CONTRACT_ENTITY):
        cols.append(ExportColumn(importing.CUSTOM_PREFIX + definition.key, definition.label, _custom(definition)))
    return cols


def payment_plan_columns(session: Session) -> list[ExportColumn]:
    from rules.payment_plans import STATUS_LABELS as PLAN_STATUS_LABELS

    cols = [ExportColumn("contract_number", _l("合同编号"), _plain("contract_number")),
            ExportColumn("order_number", _l("订单编号"), _plain("order_number")),
            ExportColumn("customer", _l("客户名称"), _plain("customer")),
            ExportColumn("period", _l("期次"), _plain("period")),
            ExportColumn("due_on", _l("应收日期"), _plain("due_on")),
            _money("amount", _l("应收金额")), _money("received", _l("已收")), _money("outstanding", _l("未收")),
            ExportColumn("status", _l("状态"), _named("status", PLAN_STATUS_LABELS)),
            ExportColumn("owner", _l("负责人"), _plain("owner")),
            ExportColumn("remind_days", _l("提前提醒（天）"), _plain("remind_days")),
            ExportColumn("note", _l("备注"), _plain("note"))]
    for definition in custom_fields.definitions(session, "payment_plan"):
        cols.append(ExportColumn(importing.CUSTOM_PREFIX + definition.key, definition.label, _custom(definition)))
    return cols


def payment_columns(session: Session) -> list[ExportColumn]:
    from rules.payments import KIND_LABELS, METHOD_LABELS, STATUS_LABELS
    cols = [ExportColumn("paid_on", _l("回款日期"), _plain("paid_on")),
            ExportColumn("customer", _l("客户名称"), _plain("customer")),
            ExportColumn("customer_code", _l("客户编号"), _plain("customer_code")),
            ExportColumn("contract_number", _l("合同编号"), _plain("contract_number")),
            ExportColumn("order_number", _l("订单编号"), _plain("order_number")),
            ExportColumn("period", _l("期次"), _plain("period")),
            ExportColumn("kind", _l("类型"), _named("kind", KIND_LABELS)),
            _money("amount", _l("金额")), _money("write_off", _l("抹零")),
            ExportColumn("method", _l("方式"), _named("method", METHOD_LABELS)),
            ExportColumn("status", _l("状态"), _named("status", STATUS_LABELS)),
            ExportColumn("owner", _l("业绩归属"), _plain("owner")),
            ExportColumn("recorded_by", _l("登记人"), _plain("recorded_by")),
            ExportColumn("approved_by", _l("确认人"), _plain("approved_by")),
            ExportColumn("approved_at", _l("确认时间"), _plain("approved_at")),
            ExportColumn("note", _l("备注"), _plain("note"))]
    for definition in custom_fields.definitions(session, "payment"):
        cols.append(ExportColumn(importing.CUSTOM_PREFIX + definition.key, definition.label, _custom(definition)))
    return cols


def invoice_columns(session: Session) -> list[ExportColumn]:
    return invoice_export.columns(session, ExportColumn, _plain, _named, _money, _custom)


COLUMNS = {"customer": customer_columns, "contact": contact_columns, "follow_up": follow_up_columns,
           "order": order_columns, "product": product_columns, "contract": contract_columns,
           "payment_plan": payment_plan_columns, "payment": payment_columns}
MODELS = {"customer": Customer, "contact": Contact, "follow_up": FollowUp, "order": Order, "product": Product,
          "contract": Contract, "payment_plan": PaymentPlan, "payment": Payment}
ENTITIES = {"customer": _l("客户"), "contact": _l("联系人"), "follow_up": _l("联系记录"), "order": _l("订单"),
            "product": _l("产品"), "contract": _l("合同"), "payment_plan": _l("回款计划"), "payment": _l("回款")}
COLUMNS["invoice"], MODELS["invoice"], ENTITIES["invoice"] = invoice_columns, Invoice, _l("发票")  # issue 19: 开票


def returned_quantity_of_orders() -> Any:
    """退货数量 of an order: the units its lines gave back (the column the order export shows)."""
    return (select(func.coalesce(func.sum(OrderLine.returned_quantity), 0)).where(OrderLine.order_id == Order.id)
            .correlate(Order).scalar_subquery())


def _local(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return value


class Rows:
    """Reads records by id in chunks, each re-checked against the actor's scope (a forged or
    stale id list can never widen what is exported), in the order of the ids."""

    def __init__(self, session: Session, entity: str, *, actor: Actor, tz: str) -> None:
        self.session, self.entity, self.actor, self.tz = session, entity, actor, ZoneInfo(tz)
        self.dicts = {i.id: i.name for i in session.scalars(select(DictItem))}
        self.users = {u.id: u.display_name for u in session.scalars(select(User))}
        self.departments = {d.id: d.name for d in session.scalars(select(Department))}

    def _select(self, ids: list[int]) -> Any:
        """Plain columns, not ORM objects: an export reads 100k rows and changes none."""
        model = MODELS[self.entity]
        # products are everyone's to see (rules/scope.py's UNSCOPED)
        seen = scope.clause_for(model, self.actor) if scope.is_scoped(model) else true()
        where: ColumnElement[bool] = and_(seen, model.id.in_(ids))
        columns = list(model.__table__.columns)
        if self.entity == "order":
            buyer = aliased(Customer)  # the scope's own sub-selects over customers stay uncorrelated
            return (select(*columns, buyer.name.label("customer"), buyer.code.label("customer_code"),
                           returned_quantity_of_orders().label("returned_quantity"))
                    .join(buyer, buyer.id == Order.customer_id).where(where))
        if self.entity == "payment_plan":
            buyer, contract, order = aliased(Customer), aliased(Contract), aliased(Order)
            return (select(*columns, buyer.name.label("customer"), contract.number.label("contract_number"),
                           order.number.label("order_number"))
                    .join(buyer, buyer.id == PaymentPlan.customer_id)
                    .outerjoin(contract, contract.id == PaymentPlan.contract_id)
                    .outerjoin(order, order.id == PaymentPlan.order_id).where(where))
        if self.entity == "payment":
            # aliases: the scope's sub-selects over customers, orders and contracts stay uncorrelated
            buyer, order, contract, plan = aliased(Customer), aliased(Order), aliased(Contract), aliased(PaymentPlan)
            return (select(*columns, buyer.name.label("customer"), buyer.code.label("customer_code"),
                           order.number.label("order_number"), contract.number.label("contract_number"),
                           plan.period.label("period"))
                    .join(buyer, buyer.id == Payment.customer_id).outerjoin(order, order.id == Payment.order_id)
                    .outerjoin(contract, contract.id == Payment.contract_id)
                    .outerjoin(plan, plan.id == Payment.plan_id).where(where))
        if self.entity == "invoice":
            return invoice_export.rows(where)
        if self.entity == "product":
            return (select(*columns, ProductCategory.name.label("category"))
                    .outerjoin(ProductCategory, ProductCategory.id == Product.category_id).where(where))
        if self.entity == "customer":
            primary = aliased(Contact)
            return (select(*columns, primary.name.label("contact_name"), primary.mobile.label("contact_mobile"),
                           primary.position.label("contact_position"))
                    .outerjoin(primary, and_(primary.customer_id == Customer.id, primary.is_primary.is_(True)))
                    .where(where))
        if self.entity == "contact":
            return (select(*columns, Customer.name.label("customer"), Customer.code.label("customer_code"))
                    .join(Customer, Customer.id == Contact.customer_id).where(where))
        if self.entity == "contract":
            party = aliased(Customer)  # the scope's own sub-selects over customers stay uncorrelated
            return (select(*columns, party.name.label("customer"), party.code.label("customer_code"))
                    .join(party, party.id == Contract.customer_id).where(where))
        contact = aliased(Contact)
        return (select(*columns, Customer.name.label("customer"), Customer.code.label("customer_code"),
                       contact.name.label("contact"))
                .join(Customer, Customer.id == FollowUp.customer_id)
                .outerjoin(contact, contact.id == FollowUp.contact_id).where(where))

    def _row(self, found: Any) -> tuple[int, dict[str, Any]]:
        values = dict(found._mapping)
        if self.entity == "customer":
            values.update(owner=self.users.get(values["owner_id"]),
                          department=self.departments.get(values["department_id"]))
            for key in ("category", "source", "industry", "value_level", "stage", "credit_rating"):
                values[key + "_name"] = self.dicts.get(values.get(key + "_id"))
        elif self.entity == "follow_up":
            values["user"] = self.users.get(values["user_id"])
        elif self.entity == "contract":
            values["owner"] = self.users.get(values["owner_id"])
        elif self.entity == "payment_plan":
            values.update(owner=self.users.get(values["owner_id"]),
                          outstanding=0 if values["status"] == "void" else values["amount"] - values["received"])
        elif self.entity == "invoice":
            values["owner"] = self.users.get(values["owner_id"])
        elif self.entity == "order":
            values.update(salesperson=self.users.get(values["salesperson_id"]),
                          created_by=self.users.get(values["created_by_id"]))
        elif self.entity == "payment":
            values.update(owner=self.users.get(values["owner_id"]), recorded_by=self.users.get(values["recorded_by_id"]),
                          approved_by=self.users.get(values["approved_by_id"]))
        return values["id"], {k: _local(v, self.tz) for k, v in values.items()}

    def __call__(self, ids: Iterable[int]) -> Iterator[dict[str, Any]]:
        chunk: list[int] = []
        for ident in ids:
            chunk.append(ident)
            if len(chunk) >= CHUNK:
                yield from self._chunk(chunk)
                chunk = []
        if chunk:
            yield from self._chunk(chunk)

    def _chunk(self, ids: list[int]) -> Iterator[dict[str, Any]]:
        by_id = dict(self._row(found) for found in self.session.execute(self._select(ids)))
        if self.entity == "product":
            self._add_prices_and_stock(by_id)
        for ident in ids:
            if ident in by_id:
                yield by_id[ident]


    def _add_prices_and_stock(self, by_id: dict[int, dict[str, Any]]) -> None:
        from rules import stock

        for product_id, level_id, price in self.session.execute(
                select(ProductPrice.product_id, ProductPrice.level_id, ProductPrice.price)
                .where(ProductPrice.product_id.in_(list(by_id)))):
            by_id[product_id][f"price_{level_id}"] = price
        for product_id, total in stock.totals(self.session, list(by_id)).items():
            by_id[product_id]["stock_total"] = total


def cell_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return str(value)
    return value


def table(columns: list[ExportColumn], rows: Iterable[dict[str, Any]]) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and the cell values of an export, row by row (written by adapters.spreadsheet)."""
    getters = [c.get for c in columns]
    return [str(c.label) for c in columns], ([cell_value(get(row)) for get in getters] for row in rows)


def number_formats(columns: list[ExportColumn]) -> list[str | None]:
    """Each column's Excel number format (money: ¥1,234.50), for adapters.spreadsheet."""
    return [c.number_format for c in columns]


def template_header(columns: list[importing.Column], required: set[str]) -> list[tuple[str, bool, str | None]]:
    """The import template's header cells: (text, required, comment). Required headers end in *
    and say 必填; a custom field with options lists them."""
    cells = []
    for col in columns:
        is_required = col.key in required
        comment = str(_l("必填")) if is_required else None
        if col.custom is not None and col.custom.options:
            comment = str(_l("可选：%(o)s", o="、".join(col.custom.options)))
        cells.append((str(col.label) + ("*" if is_required else ""), is_required, comment))
    return cells


def today_stamp(now: datetime, tz: str) -> str:
    return now.astimezone(ZoneInfo(tz)).strftime("%Y%m%d-%H%M")
