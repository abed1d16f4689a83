"""TEMPORARY — REMOVE AT MERGE. A minimal stand-in for rules/print_data.py and
rules/print_templates.py (the templates engineer's modules, not on the printing branch), used by
rules/printing.py ONLY when importing those fails, so preview, PDF and batches can be tested end
to end. Same names and call shapes as the contract: build, render_page, default_for, for_doc_type."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Contract, Customer, Order, Payment, Quote
from models.invoice import Invoice
from models.printing import Paper, PrintDocType, PrintTemplate
from rules import envelopes, print_render, scope
from rules.actor import Actor

_MODELS = {PrintDocType.CUSTOMER: Customer, PrintDocType.ENVELOPE: Customer, PrintDocType.ORDER: Order,
           PrintDocType.DELIVERY: Order, PrintDocType.QUOTE: Quote, PrintDocType.CONTRACT: Contract,
           PrintDocType.RECEIPT: Payment, PrintDocType.INVOICE: Invoice}
_TITLES = {PrintDocType.CUSTOMER: "客户资料", PrintDocType.ORDER: "订单", PrintDocType.DELIVERY: "发货单",
           PrintDocType.QUOTE: "报价单", PrintDocType.CONTRACT: "合同", PrintDocType.RECEIPT: "收款单",
           PrintDocType.INVOICE: "开票申请", PrintDocType.ENVELOPE: "信封"}


def _lines(record: Any, prices: bool) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(getattr(record, "lines", None) or [], 1):
        product = getattr(line, "product", None)
        out.append({"no": n, "name": getattr(line, "product_name", None) or (product.name if product else ""),
                    "quantity": line.quantity, "price": getattr(line, "unit_price", None) if prices else None,
                    "amount": line.amount if prices else None})
    return out


def build(session: Session, doc_type: str, record_id: int, *, actor: Actor, now: datetime) -> dict[str, Any]:
    doc_type = PrintDocType(doc_type)
    record = scope.get_in_scope(session, _MODELS[doc_type], record_id, actor)
    customer = record if isinstance(record, Customer) else getattr(record, "customer", None)
    data: dict[str, Any] = {"title": _TITLES[doc_type], "printed_at": now, "printed_by": actor.display_name or "",
                            "customer": {"name": customer.name if customer else "", "address": (customer.address or "") if customer else "",
                                         "phone": (customer.phone or customer.mobile or "") if customer else ""}}
    if doc_type == PrintDocType.ENVELOPE:
        contact = next((c for c in customer.contacts if c.is_primary), customer.contacts[0] if customer.contacts else None)
        place = "".join(p for p in (customer.province, customer.city, customer.district) if p and p not in (customer.address or ""))
        data["recipient"] = {"name": customer.name, "address": place + (customer.address or ""), "zip": customer.zip_code or "",
                             "zip_boxes": envelopes.zip_boxes(customer.zip_code), "contact": contact.name if contact else ""}
        data["sender"] = {"name": "客池CRM", "address": "", "zip": "", "zip_boxes": envelopes.zip_boxes(None)}
        return data
    data["number"] = getattr(record, "number", None) or getattr(record, "code", None) or str(record.id)
    total = getattr(record, "total", None) if doc_type != PrintDocType.DELIVERY else None
    data["total"] = total if total is not None else getattr(record, "amount", None) if doc_type != PrintDocType.DELIVERY else None
    data["lines"] = _lines(record, prices=doc_type != PrintDocType.DELIVERY)
    return data


_BODY = """<h2 style="text-align:center">{{ title }}</h2>
<p>客户名称：{{ customer.name }}　　编号：{{ number|default('') }}</p>
<p>地址：{{ customer.address }}　　电话：{{ customer.phone }}</p>
{% if lines %}<table class="kechi-lines"><thead><tr><th>序号</th><th>产品名称</th><th>数量</th>{% if total is not none %}<th>单价</th><th>金额</th>{% endif %}</tr></thead><tbody>
{% for l in lines %}<tr><td>{{ l.no }}</td><td>{{ l.name }}</td><td class="num">{{ l.quantity }}</td>{% if total is not none %}<td class="num">{{ l.price|money }}</td><td class="num">{{ l.amount|money }}</td>{% endif %}</tr>{% endfor %}
</tbody></table>{% endif %}
{% if total is not none %}<p>合计：{{ total|money }}　金额大写：{{ total|amount_words }}</p>{% endif %}
<p style="font-size:9pt">打印时间：{{ printed_at|date('%Y-%m-%d %H:%M') }}　打印人：{{ printed_by }}</p>
"""


def for_doc_type(session: Session, doc_type: str) -> list[PrintTemplate]:
    return list(session.scalars(select(PrintTemplate).where(
        PrintTemplate.doc_type == str(doc_type), PrintTemplate.active.is_(True), PrintTemplate.deleted_at.is_(None))
        .order_by(PrintTemplate.is_default.desc(), PrintTemplate.name)))


def default_for(session: Session, doc_type: str) -> PrintTemplate:
    found = for_doc_type(session, doc_type)
    if found:
        return found[0]
    envelope = str(doc_type) == PrintDocType.ENVELOPE
    return PrintTemplate(doc_type=str(doc_type), name="默认模板", is_default=True, active=True,
                         body=envelopes.ENVELOPE_BODY if envelope else _BODY, paper=Paper.DL if envelope else Paper.A4,
                         landscape=False, columns=[], options={},
                         margin_top=0 if envelope else 15, margin_right=0 if envelope else 15,
                         margin_bottom=0 if envelope else 15, margin_left=0 if envelope else 15)


def render_page(session: Session, template: PrintTemplate, data: dict[str, Any], *, files_root: str) -> str:
    body = print_render.render(template.body, data)
    envelope = str(template.doc_type) == PrintDocType.ENVELOPE
    page = print_render.Page(paper=str(template.paper or Paper.A4), landscape=bool(template.landscape),
                             width_mm=template.width_mm, height_mm=template.height_mm,
                             margins=(template.margin_top, template.margin_right, template.margin_bottom, template.margin_left),
                             header=print_render.render(template.header, data) if template.header else "",
                             footer=print_render.render(template.footer, data) if template.footer else "",
                             logo_data_uri=print_render.logo_data_uri(files_root, template.logo_key),
                             extra_css=envelopes.ENVELOPE_CSS if envelope else "", title=str(data.get("title", "")))
    return print_render.document(page, body)


