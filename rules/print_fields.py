"""The fields a print template may use, per document type: what rules/print_data.py builds, with
a Chinese label, a group for the designer's field picker and a sample value for previews without
a record. The catalogue is the contract between the data builders, the template check on save
(rules/print_templates.py) and the picker: a path here is exactly a key in the built data.

Paths: "customer.name" is data["customer"]["name"]; "lines[].amount" is a key of every item of
the list data["lines"]."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from models.printing import PrintDocType as T


@dataclass(frozen=True)
class Field:
    path: str
    label: LazyString
    group: LazyString
    sample: Any = ""
    snippet: str = ""  # what the picker inserts; "{{ path }}" unless a filter reads better

    def insert(self) -> str:
        return self.snippet or "{{ %s }}" % self.path.replace("[]", "")


@dataclass(frozen=True)
class Column:
    """A line-item column a template may show (PrintTemplate.columns holds the chosen keys)."""

    key: str
    label: LazyString
    numeric: bool = False


COLUMNS = (
    Column("index", _l("序号"), True), Column("product_name", _l("产品名称")), Column("product_code", _l("编码")),
    Column("spec", _l("规格")), Column("unit", _l("单位")), Column("quantity", _l("数量"), True),
    Column("unit_price", _l("单价"), True), Column("discount", _l("折扣"), True),
    Column("amount", _l("金额"), True), Column("tax_rate", _l("税率"), True), Column("notes", _l("备注")),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
PRICE_COLUMNS = frozenset({"unit_price", "discount", "amount", "tax_rate"})
WITH_LINES = (T.ORDER, T.DELIVERY, T.QUOTE, T.CONTRACT)


def columns_for(doc_type: T | str) -> tuple[Column, ...]:
    """The columns a document type offers: a 发货单 shows goods, never prices."""
    if T(doc_type) not in WITH_LINES:
        return ()
    if T(doc_type) is T.DELIVERY:
        return tuple(c for c in COLUMNS if c.key not in PRICE_COLUMNS)
    return COLUMNS


def default_columns(doc_type: T | str) -> list[str]:
    keys = [c.key for c in columns_for(doc_type)]
    return [k for k in keys if k not in ("tax_rate", "notes")] if T(doc_type) is not T.DELIVERY else keys


LINE_TABLE = (
    '<table class="kechi-lines">\n<thead><tr>{% for c in columns %}<th>{{ c.label }}</th>{% endfor %}</tr></thead>\n'
    '<tbody>{% for line in lines %}<tr>{% for cell in line.cells %}'
    '<td class="{{ columns[loop.index0].align }}">{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody>\n</table>')

G_COMPANY, G_PRINT = _l("本公司"), _l("打印")
G_CUSTOMER, G_LINES = _l("客户"), _l("明细表")


def _f(path: str, label: LazyString, group: LazyString, sample: Any = "", snippet: str = "") -> Field:
    return Field(path, label, group, sample, snippet)


COMMON = (
    _f("company.name", _l("公司名称"), G_COMPANY, "上海客池信息科技有限公司"),
    _f("company.address", _l("公司地址"), G_COMPANY, "上海市浦东新区张江路 88 号 5 楼"),
    _f("company.zip_code", _l("公司邮编"), G_COMPANY, "201203"),
    _f("company.phone", _l("公司电话"), G_COMPANY, "021-50801234"),
    _f("company.fax", _l("公司传真"), G_COMPANY, "021-50801235"),
    _f("company.email", _l("公司邮箱"), G_COMPANY, "sales@kechi.example"),
    _f("company.website", _l("公司网址"), G_COMPANY, "www.kechi.example"),
    _f("company.bank", _l("开户银行"), G_COMPANY, "招商银行上海张江支行"),
    _f("company.account", _l("银行账号"), G_COMPANY, "1219 0876 5432 101"),
    _f("company.tax_no", _l("纳税人识别号"), G_COMPANY, "91310115MA1K4XXXXX"),
    _f("printed_at", _l("打印时间"), G_PRINT, "2026-11-23 10:00"),
    _f("printed_by", _l("打印人"), G_PRINT, "王经理"),
    _f("record_url", _l("二维码"), G_PRINT, "https://crm.example/admin/", "{{ record_url|qrcode }}"),
    _f("title", _l("单据名称"), G_PRINT, "订单"),
)

CUSTOMER = (
    _f("customer.name", _l("客户名称"), G_CUSTOMER, "杭州青禾贸易有限公司"),
    _f("customer.code", _l("客户编号"), G_CUSTOMER, "KH202600012"),
    _f("customer.contact", _l("联系人"), G_CUSTOMER, "李明"),
    _f("customer.mobile", _l("手机"), G_CUSTOMER, "138 0571 2345"),
    _f("customer.phone", _l("电话"), G_CUSTOMER, "0571-8765 4321"),
    _f("customer.fax", _l("传真"), G_CUSTOMER, ""),
    _f("customer.email", _l("邮箱"), G_CUSTOMER, "liming@qinghe.example"),
    _f("customer.address", _l("地址"), G_CUSTOMER, "浙江省 杭州市 西湖区 文三路 100 号"),
    _f("customer.zip_code", _l("邮编"), G_CUSTOMER, "310012"),
    _f("customer.website", _l("网址"), G_CUSTOMER, ""),
    _f("customer.owner", _l("业务员"), G_CUSTOMER, "张伟"),
)

CUSTOMER_PROFILE = CUSTOMER + (
    _f("customer.kind", _l("客户类型"), G_CUSTOMER, "企业客户"),
    _f("customer.industry", _l("行业"), G_CUSTOMER, "批发零售"),
    _f("customer.category", _l("客户类别"), G_CUSTOMER, "重点客户"),
    _f("customer.source", _l("客户来源"), G_CUSTOMER, "展会"),
    _f("customer.level", _l("价值等级"), G_CUSTOMER, "A"),
    _f("customer.stage", _l("客户阶段"), G_CUSTOMER, "成交客户"),
    _f("customer.legal_representative", _l("法人代表"), G_CUSTOMER, "李青禾"),
    _f("customer.registered_capital", _l("注册资本"), G_CUSTOMER, Decimal("500000.00"),
       "{{ customer.registered_capital|money }}"),
    _f("customer.wechat", _l("微信"), G_CUSTOMER, "qinghe_li"),
    _f("customer.qq", _l("QQ"), G_CUSTOMER, ""),
    _f("customer.notes", _l("备注"), G_CUSTOMER, "每月初集中采购"),
    _f("customer.created_on", _l("建档日期"), G_CUSTOMER, date(2026, 3, 2)),
    _f("custom[].label", _l("自定义字段名称"), _l("自定义字段"), "开票要求",
       "{% for f in custom %}{{ f.label }}：{{ f.value }} {% endfor %}"),
    _f("custom[].value", _l("自定义字段内容"), _l("自定义字段"), "月结 30 天"),
    _f("contacts[].name", _l("联系人姓名"), _l("联系人"), "李明",
       "{% for c in contacts %}{{ c.name }} {{ c.mobile }}{% endfor %}"),
    _f("contacts[].position", _l("职务"), _l("联系人"), "采购经理"),
    _f("contacts[].mobile", _l("联系人手机"), _l("联系人"), "138 0571 2345"),
    _f("contacts[].phone", _l("联系人电话"), _l("联系人"), ""),
    _f("contacts[].email", _l("联系人邮箱"), _l("联系人"), "liming@qinghe.example"),
    _f("contacts[].primary", _l("首要联系人"), _l("联系人"), True),
    _f("follow_ups[].time", _l("联系时间"), _l("联系记录"), "2026-11-20 15:30",
       "{% for f in follow_ups %}{{ f.time }} {{ f.content }}{% endfor %}"),
    _f("follow_ups[].kind", _l("联系方式"), _l("联系记录"), "电话"),
    _f("follow_ups[].user", _l("联系人员"), _l("联系记录"), "张伟"),
    _f("follow_ups[].content", _l("联系内容"), _l("联系记录"), "确认了下月的采购计划"),
)

LINES = (
    _f("lines[].index", _l("序号"), G_LINES, 1, LINE_TABLE),
    _f("lines[].product_name", _l("产品名称"), G_LINES, "青花瓷茶具套装"),
    _f("lines[].product_code", _l("编码"), G_LINES, "CP-0012"),
    _f("lines[].spec", _l("规格"), G_LINES, "8 件套"),
    _f("lines[].unit", _l("单位"), G_LINES, "套"),
    _f("lines[].quantity", _l("数量"), G_LINES, 10),
    _f("lines[].unit_price", _l("单价"), G_LINES, Decimal("123.45")),
    _f("lines[].discount", _l("折扣"), G_LINES, "9折"),
    _f("lines[].amount", _l("金额"), G_LINES, Decimal("1111.05")),
    _f("lines[].tax_rate", _l("税率"), G_LINES, "13%"),
    _f("lines[].notes", _l("备注"), G_LINES, ""),
    _f("lines[].cells", _l("本行各列（按所选列）"), G_LINES, []),
    _f("columns[].key", _l("列代码"), G_LINES, "product_name"),
    _f("columns[].label", _l("列名称"), G_LINES, "产品名称"),
    _f("columns[].align", _l("列对齐"), G_LINES, "num"),
)


def _money(prefix: str, group: LazyString) -> tuple[Field, ...]:
    """The totals every priced document carries, 金额大写 included."""
    return (
        _f(f"{prefix}.gross", _l("原价合计"), group, Decimal("1234.50"), "{{ %s.gross|money }}" % prefix),
        _f(f"{prefix}.discount", _l("优惠"), group, Decimal("0.00"), "{{ %s.discount|money }}" % prefix),
        _f(f"{prefix}.total", _l("合计金额"), group, Decimal("1234.50"), "{{ %s.total|money }}" % prefix),
        _f(f"{prefix}.total_words", _l("金额大写"), group, "壹仟贰佰叁拾肆元伍角整"),
        _f(f"{prefix}.amount_ex_tax", _l("不含税金额"), group, Decimal("1092.48"),
           "{{ %s.amount_ex_tax|money }}" % prefix),
        _f(f"{prefix}.tax", _l("税额"), group, Decimal("142.02"), "{{ %s.tax|money }}" % prefix),
        _f(f"{prefix}.tax_rate", _l("税率"), group, "13%"),
    )


G_ORDER, G_QUOTE, G_CONTRACT = _l("订单"), _l("报价单"), _l("合同")
G_RECEIPT, G_INVOICE, G_REPAIR = _l("收款单"), _l("开票申请"), _l("维修工单")

ORDER = (
    _f("order.number", _l("订单号"), G_ORDER, "DD20261123001"),
    _f("order.date", _l("订单日期"), G_ORDER, date(2026, 11, 22), "{{ order.date|date }}"),
    _f("order.state", _l("订单状态"), G_ORDER, "正在配货"),
    _f("order.salesperson", _l("业务员"), G_ORDER, "张伟"),
    _f("order.consignee", _l("收货人"), G_ORDER, "李明"),
    _f("order.phone", _l("收货电话"), G_ORDER, "138 0571 2345"),
    _f("order.address", _l("收货地址"), G_ORDER, "浙江省 杭州市 西湖区 文三路 100 号"),
    _f("order.warehouse", _l("发货仓库"), G_ORDER, "杭州仓"),
    _f("order.carrier", _l("承运商"), G_ORDER, "顺丰速运"),
    _f("order.tracking_no", _l("运单号"), G_ORDER, "SF1234567890"),
    _f("order.shipped_on", _l("发货日期"), G_ORDER, date(2026, 11, 23), "{{ order.shipped_on|date }}"),
    _f("order.notes", _l("订单备注"), G_ORDER, "请工作日送货"),
    _f("order.received", _l("已收款"), G_ORDER, Decimal("500.00"), "{{ order.received|money }}"),
    _f("order.quantity", _l("总数量"), G_ORDER, 10),
) + _money("order", G_ORDER)

QUOTE = (
    _f("quote.number", _l("报价单号"), G_QUOTE, "BJ20261123001"),
    _f("quote.date", _l("报价日期"), G_QUOTE, date(2026, 11, 22), "{{ quote.date|date }}"),
    _f("quote.valid_until", _l("有效期至"), G_QUOTE, date(2026, 12, 22), "{{ quote.valid_until|date }}"),
    _f("quote.state", _l("报价状态"), G_QUOTE, "已发送"),
    _f("quote.owner", _l("报价人"), G_QUOTE, "张伟"),
    _f("quote.owner_mobile", _l("报价人手机"), G_QUOTE, "139 1234 5678"),
    _f("quote.contact", _l("客户联系人"), G_QUOTE, "李明"),
    _f("quote.terms", _l("报价条款"), G_QUOTE, "款到发货，运费由我方承担。"),
    _f("quote.notes", _l("报价备注"), G_QUOTE, ""),
) + _money("quote", G_QUOTE)

CONTRACT = (
    _f("contract.number", _l("合同编号"), G_CONTRACT, "HT20261123001"),
    _f("contract.title", _l("合同名称"), G_CONTRACT, "2027 年度茶具采购合同"),
    _f("contract.signed_on", _l("签订日期"), G_CONTRACT, date(2026, 11, 22), "{{ contract.signed_on|date }}"),
    _f("contract.start_on", _l("开始日期"), G_CONTRACT, date(2027, 1, 1), "{{ contract.start_on|date }}"),
    _f("contract.end_on", _l("结束日期"), G_CONTRACT, date(2027, 12, 31), "{{ contract.end_on|date }}"),
    _f("contract.state", _l("合同状态"), G_CONTRACT, "执行中"),
    _f("contract.owner", _l("负责人"), G_CONTRACT, "张伟"),
    _f("contract.our_signatory", _l("我方签约人"), G_CONTRACT, "王经理"),
    _f("contract.their_signatory", _l("客户签约人"), G_CONTRACT, "李青禾"),
    _f("contract.contact", _l("客户联系人"), G_CONTRACT, "李明"),
    _f("contract.terms", _l("合同条款"), G_CONTRACT, "一、交货期：签约后 15 日内。\n二、付款方式：货到 30 日内付清。"),
    _f("contract.notes", _l("合同备注"), G_CONTRACT, ""),
    _f("contract.received", _l("已回款"), G_CONTRACT, Decimal("0.00"), "{{ contract.received|money }}"),
    _f("contract.invoiced", _l("已开票"), G_CONTRACT, Decimal("0.00"), "{{ contract.invoiced|money }}"),
) + _money("contract", G_CONTRACT)

RECEIPT = (
    _f("receipt.number", _l("收款单号"), G_RECEIPT, "SK00000012"),
    _f("receipt.kind", _l("类型"), G_RECEIPT, "回款"),
    _f("receipt.amount", _l("金额"), G_RECEIPT, Decimal("1234.50"), "{{ receipt.amount|money }}"),
    _f("receipt.amount_words", _l("金额大写"), G_RECEIPT, "壹仟贰佰叁拾肆元伍角整"),
    _f("receipt.paid_on", _l("收款日期"), G_RECEIPT, date(2026, 11, 22), "{{ receipt.paid_on|date }}"),
    _f("receipt.method", _l("收款方式"), G_RECEIPT, "银行转账"),
    _f("receipt.write_off", _l("抹零"), G_RECEIPT, Decimal("0.00"), "{{ receipt.write_off|money }}"),
    _f("receipt.status", _l("状态"), G_RECEIPT, "已确认"),
    _f("receipt.owner", _l("业务员"), G_RECEIPT, "张伟"),
    _f("receipt.recorded_by", _l("登记人"), G_RECEIPT, "赵会计"),
    _f("receipt.order_number", _l("关联订单"), G_RECEIPT, "DD20261123001"),
    _f("receipt.contract_number", _l("关联合同"), G_RECEIPT, "HT20261123001"),
    _f("receipt.note", _l("摘要"), G_RECEIPT, "11 月货款"),
)

INVOICE = (
    _f("invoice.number", _l("申请编号"), G_INVOICE, "KP20261123001"),
    _f("invoice.invoice_type", _l("发票类型"), G_INVOICE, "增值税专用发票"),
    _f("invoice.title_name", _l("发票抬头"), G_INVOICE, "杭州青禾贸易有限公司"),
    _f("invoice.tax_no", _l("纳税人识别号"), G_INVOICE, "91330106MA2XXXXXXX"),
    _f("invoice.bank", _l("开户银行"), G_INVOICE, "中国银行杭州文三路支行"),
    _f("invoice.account", _l("银行账号"), G_INVOICE, "3612 5896 0012"),
    _f("invoice.address", _l("注册地址"), G_INVOICE, "杭州市西湖区文三路 100 号"),
    _f("invoice.phone", _l("注册电话"), G_INVOICE, "0571-87654321"),
    _f("invoice.amount", _l("开票金额"), G_INVOICE, Decimal("1234.50"), "{{ invoice.amount|money }}"),
    _f("invoice.amount_words", _l("金额大写"), G_INVOICE, "壹仟贰佰叁拾肆元伍角整"),
    _f("invoice.amount_ex_tax", _l("不含税金额"), G_INVOICE, Decimal("1092.48"),
       "{{ invoice.amount_ex_tax|money }}"),
    _f("invoice.tax", _l("税额"), G_INVOICE, Decimal("142.02"), "{{ invoice.tax|money }}"),
    _f("invoice.tax_rate", _l("税率"), G_INVOICE, "13%"),
    _f("invoice.status", _l("状态"), G_INVOICE, "待开票"),
    _f("invoice.invoice_no", _l("发票号码"), G_INVOICE, ""),
    _f("invoice.issued_on", _l("开票日期"), G_INVOICE, None, "{{ invoice.issued_on|date }}"),
    _f("invoice.requested_on", _l("申请日期"), G_INVOICE, date(2026, 11, 22), "{{ invoice.requested_on|date }}"),
    _f("invoice.owner", _l("申请人"), G_INVOICE, "张伟"),
    _f("invoice.order_number", _l("关联订单"), G_INVOICE, "DD20261123001"),
    _f("invoice.contract_number", _l("关联合同"), G_INVOICE, "HT20261123001"),
    _f("invoice.notes", _l("备注"), G_INVOICE, ""),
)

REPAIR = (
    _f("ticket.number", _l("工单号"), G_REPAIR, "WX20261123001"),
    _f("ticket.date", _l("报修日期"), G_REPAIR, date(2026, 11, 22), "{{ ticket.date|date }}"),
    _f("ticket.product", _l("维修产品"), G_REPAIR, "商用净水器 KC-300"),
    _f("ticket.serial_no", _l("序列号"), G_REPAIR, "SN2026000123"),
    _f("ticket.fault", _l("故障描述"), G_REPAIR, "出水量明显减小"),
    _f("ticket.solution", _l("处理结果"), G_REPAIR, "更换滤芯，测试正常"),
    _f("ticket.engineer", _l("维修人员"), G_REPAIR, "陈师傅"),
    _f("ticket.status", _l("工单状态"), G_REPAIR, "已完成"),
    _f("ticket.fee", _l("维修费用"), G_REPAIR, Decimal("180.00"), "{{ ticket.fee|money }}"),
    _f("ticket.fee_words", _l("费用大写"), G_REPAIR, "壹佰捌拾元整"),
    _f("ticket.notes", _l("备注"), G_REPAIR, ""),
)

G_RECIPIENT, G_SENDER = _l("收件人"), _l("寄件人")
ENVELOPE = (
    _f("recipient.zip_code", _l("收件人邮编"), G_RECIPIENT, "310012"),
    _f("recipient.zip_boxes", _l("收件人邮编方格"), G_RECIPIENT, list("310012"),
       '{% for d in recipient.zip_boxes %}<span class="zip-box">{{ d }}</span>{% endfor %}'),
    _f("recipient.address", _l("收件人地址"), G_RECIPIENT, "浙江省杭州市西湖区文三路 100 号"),
    _f("recipient.company", _l("收件单位"), G_RECIPIENT, "杭州青禾贸易有限公司"),
    _f("recipient.name", _l("收件人"), G_RECIPIENT, "李明"),
    _f("recipient.title", _l("收件人职务"), G_RECIPIENT, "采购经理"),
    _f("recipient.phone", _l("收件人电话"), G_RECIPIENT, "138 0571 2345"),
    _f("sender.name", _l("寄件单位"), G_SENDER, "上海客池信息科技有限公司"),
    _f("sender.address", _l("寄件地址"), G_SENDER, "上海市浦东新区张江路 88 号 5 楼"),
    _f("sender.zip_code", _l("寄件邮编"), G_SENDER, "201203"),
    _f("sender.zip_boxes", _l("寄件邮编方格"), G_SENDER, list("201203"),
       '{% for d in sender.zip_boxes %}<span class="zip-box">{{ d }}</span>{% endfor %}'),
    _f("sender.phone", _l("寄件电话"), G_SENDER, "021-50801234"),
)

_BY_TYPE: dict[T, tuple[Field, ...]] = {
    T.CUSTOMER: CUSTOMER_PROFILE,
    T.ORDER: CUSTOMER + ORDER + LINES,
    T.DELIVERY: CUSTOMER + ORDER + LINES,
    T.QUOTE: CUSTOMER + QUOTE + LINES,
    T.CONTRACT: CUSTOMER + CONTRACT + LINES,
    T.RECEIPT: CUSTOMER + RECEIPT,
    T.INVOICE: CUSTOMER + INVOICE,
    T.REPAIR: CUSTOMER + REPAIR,
    T.ENVELOPE: ENVELOPE,
}

DOC_LABELS = {T.CUSTOMER: _l("客户资料"), T.ORDER: _l("订单"), T.DELIVERY: _l("发货单"), T.QUOTE: _l("报价单"),
              T.CONTRACT: _l("合同"), T.RECEIPT: _l("收款单"), T.INVOICE: _l("开票申请"), T.REPAIR: _l("维修工单"),
              T.ENVELOPE: _l("信封")}


def fields(doc_type: T | str) -> tuple[Field, ...]:
    """Every field a template of this type may use, the common ones (company, 打印时间…) first."""
    return COMMON + _BY_TYPE[T(doc_type)]


@cache
def known_paths(doc_type: T) -> frozenset[str]:
    """The paths a template may read, and every prefix of them ("customer" for "customer.name")."""
    out: set[str] = set()
    for f in fields(doc_type):
        parts = f.path.split(".")
        for n in range(1, len(parts) + 1):
            out.add(".".join(parts[:n]))
            out.add(".".join(parts[:n]).removesuffix("[]"))
    return frozenset(out)


def groups(doc_type: T | str) -> list[tuple[str, list[Field]]]:
    """The field picker's groups, in catalogue order (list items: one entry per list)."""
    out: dict[str, list[Field]] = {}
    for f in fields(doc_type):
        out.setdefault(str(f.group), []).append(f)
    return list(out.items())


def sample(doc_type: T | str) -> dict[str, Any]:
    """Data shaped exactly like a built record, from the catalogue's sample values (two lines
    for documents with a 明细表)."""
    data: dict[str, Any] = {}
    lists: dict[str, dict[str, Any]] = {}
    for f in fields(doc_type):
        head, _, rest = f.path.partition("[].")
        if rest:
            lists.setdefault(head, {})[rest] = f.sample
            continue
        node = data
        *parents, leaf = f.path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = f.sample
    for name, item in lists.items():
        data[name] = [dict(item)] if name in ("columns", "custom", "contacts", "follow_ups") else [
            dict(item), {**item, "index": 2, "product_name": "紫砂壶", "product_code": "CP-0031", "spec": "300ml",
                         "unit": "把", "quantity": 1, "unit_price": Decimal("123.45"), "discount": "",
                         "amount": Decimal("123.45")}]
    data["title"] = str(DOC_LABELS[T(doc_type)])
    if "columns" in data:
        data["columns"] = []
    return data
