"""导出Excel of the 开票 list: the columns and the rows' statement (rules/exporting.py calls
them), exactly the invoices the actor may see."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from models.contract import Contract
from models.customer import Customer
from models.invoice import Invoice
from models.sales import Order
from rules import custom_fields, invoice_titles, invoices


def columns(session: Session, column: Any, plain: Any, named: Any, money: Any, custom: Any) -> list[Any]:
    """`column` builds an ExportColumn; `plain` / `named` / `money` / `custom` are exporting's getters."""
    cols = [column("number", _l("申请编号"), plain("number")),
            column("customer", _l("客户名称"), plain("customer")),
            column("customer_code", _l("客户编号"), plain("customer_code")),
            column("contract", _l("合同编号"), plain("contract")),
            column("order", _l("订单编号"), plain("order")),
            column("title_name", _l("发票抬头"), plain("title_name")),
            column("title_kind", _l("抬头类型"), named("title_kind", invoice_titles.KIND_LABELS)),
            column("tax_no", _l("税号"), plain("tax_no")),
            column("bank", _l("开户行"), plain("bank")), column("account", _l("账号"), plain("account")),
            column("address", _l("地址"), plain("address")), column("phone", _l("电话"), plain("phone")),
            column("invoice_type", _l("发票类型"), named("invoice_type", invoices.TYPE_LABELS)),
            column("tax_rate", _l("税率"), plain("tax_rate")),
            money("amount", _l("开票金额")), money("amount_ex_tax", _l("不含税金额")), money("tax", _l("税额")),
            column("status", _l("状态"), named("status", invoices.STATE_LABELS)),
            column("invoice_no", _l("发票号码"), plain("invoice_no")),
            column("issued_on", _l("开票日期"), plain("issued_on")),
            column("carrier", _l("快递公司"), plain("carrier")),
            column("tracking_no", _l("快递单号"), plain("tracking_no")),
            column("owner", _l("负责人"), plain("owner")),
            column("created_at", _l("申请时间"), plain("created_at")),
            column("void_reason", _l("作废原因"), plain("void_reason")),
            column("notes", _l("备注"), plain("notes"))]
    for definition in custom_fields.definitions(session, invoices.CUSTOM_ENTITY):
        cols.append(column("cf_" + definition.key, definition.label, custom(definition)))
    return cols


def rows(where: Any) -> Select:
    """Plain columns with the customer, contract and order numbers beside them."""
    buyer = aliased(Customer)  # the scope's own sub-selects over customers stay uncorrelated
    return (select(*Invoice.__table__.columns, buyer.name.label("customer"), buyer.code.label("customer_code"),
                   Contract.number.label("contract"), Order.number.label("order"))
            .join(buyer, buyer.id == Invoice.customer_id)
            .outerjoin(Contract, Contract.id == Invoice.contract_id)
            .outerjoin(Order, Order.id == Invoice.order_id).where(where))
