"""What a print template reads: one record turned into plain data (str, int, Decimal, date, lists
and dicts; never a model, so nothing in a template can reach the database or an object's
methods). Each builder loads its record through rules/scope.get_in_scope: a record the reader does
not see raises OutOfScope (the view answers 404). The keys are rules/print_fields.py's catalogue.

Tickets (维修工单) arrive with a later issue: their module calls `register(PrintDocType.REPAIR, ...)`."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from models.contract import Contract
from models.customer import Customer, FollowUp
from models.invoice import Invoice
from models.printing import PrintDocType as T
from models.product import Product
from models.quote import Quote
from models.sales import Order, OrderStatus, Payment
from rules import amount_words, custom_fields, envelopes, phones, print_fields, scope, settings
from rules.actor import Actor
from rules.errors import TemplateRefused

Builder = Callable[..., dict[str, Any]]
RECENT_FOLLOW_UPS = 20

COMPANY_KEY = "company_profile"
COMPANY_FIELDS = ("name", "address", "zip_code", "phone", "fax", "email", "website", "bank", "account", "tax_no")
CUSTOMER_KINDS = {"company": _l("企业客户"), "person": _l("个人客户")}


class _Setup:
    """What the web layer tells the builders (admin_views/print_templates.init_app): the firm's
    time zone for 打印时间, and how to write a record's address for the QR code (rules know no
    URLs; without it the code is left out)."""

    timezone = "Asia/Shanghai"
    record_link: Callable[[T, int], str] | None = None


def configure(*, timezone: str, record_link: Callable[[T, int], str] | None) -> None:
    _Setup.timezone, _Setup.record_link = timezone, record_link


# --- the company profile (本公司信息, printed on every document) -----------------------------------

def company_profile(session: Session) -> dict[str, str]:
    stored = settings.get(session, COMPANY_KEY) or {}
    profile = {key: str(stored.get(key) or "") for key in COMPANY_FIELDS}
    if not profile["name"]:
        from rules import messaging  # the name the SMS signature already uses
        profile["name"] = str(messaging.load_settings(session).get("company_name") or "")
    return profile


def save_company_profile(session: Session, values: dict[str, Any]) -> dict[str, str]:
    profile = {key: str(values.get(key) or "").strip()[:200] for key in COMPANY_FIELDS}
    zip_code = profile["zip_code"]
    if zip_code and not (zip_code.isdigit() and len(zip_code) == 6):
        from rules.errors import InvalidValue
        raise InvalidValue(_l("邮编请填写 6 位数字"))
    settings.put(session, COMPANY_KEY, profile)
    return profile


# --- small conversions ----------------------------------------------------------------------------

def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _name(obj: Any) -> str:
    return "" if obj is None else str(getattr(obj, "display_name", None) or getattr(obj, "name", None) or obj)


def _phone(value: Any) -> str:
    return phones.display(value) if value else ""


def _rate(value: Any) -> str:
    if value is None:
        return ""
    return f"{Decimal(value) * 100:.2f}".rstrip("0").rstrip(".") + "%"


def _zhe(rate: Any) -> str:
    """0.9 → 9折; a full price prints nothing."""
    if rate is None or Decimal(rate) >= 1:
        return ""
    return f"{(Decimal(rate) * 10).normalize():f}折"


def _local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(_Setup.timezone)).strftime(fmt) if moment.tzinfo else moment.strftime(fmt)


def _local_date(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(_Setup.timezone)).date() if moment.tzinfo else moment.date()


def _address(*parts: Any) -> str:
    return " ".join(str(p) for p in parts if p)


def _record_url(doc_type: T, record_id: int) -> str:
    """The record's page, for the QR code; empty where the web layer cannot tell (a batch job)."""
    return _Setup.record_link(doc_type, record_id) if _Setup.record_link else ""


def amount_in_words(value: Any) -> str:
    return amount_words.rmb_upper(value) if value is not None else ""


# --- the parts several documents share -----------------------------------------------------------

def _customer(c: Customer) -> dict[str, Any]:
    primary = next((p for p in c.contacts if p.is_primary), c.contacts[0] if c.contacts else None)
    return {
        "name": c.name, "code": _s(c.code), "contact": _name(primary) if primary else "",
        "mobile": _phone(c.mobile or (primary.mobile if primary else None)), "phone": _phone(c.phone),
        "fax": _phone(c.fax), "email": _s(c.email),
        "address": _address(c.province, c.city, c.district, c.address), "zip_code": _s(c.zip_code),
        "website": _s(c.website), "owner": _name(c.owner),
    }


def _customer_profile(session: Session, c: Customer) -> dict[str, Any]:
    return {**_customer(c), "kind": str(CUSTOMER_KINDS.get(c.kind, c.kind or "")),
            "industry": _name(c.industry), "category": _name(c.category), "source": _name(c.source),
            "level": _name(c.value_level), "stage": _name(c.stage),
            "legal_representative": _s(c.legal_representative), "registered_capital": c.registered_capital,
            "wechat": _s(c.wechat), "qq": _s(c.qq), "notes": _s(c.notes),
            "created_on": _local_date(c.created_at)}


def _lines(lines: list[Any], *, shipped_only: bool = False) -> list[dict[str, Any]]:
    wanted = {line.product_id for line in lines}
    # One query for the products of every line: each line's .product then finds its product in
    # the session (held here, since the session keeps only what someone refers to).
    products = list(object_session(lines[0]).scalars(select(Product).where(Product.id.in_(wanted)))) if wanted else []
    out = []
    for line in lines:
        quantity = line.quantity - (getattr(line, "returned_quantity", 0) or 0) if shipped_only else line.quantity
        if shipped_only and quantity <= 0:
            continue
        product = line.product
        out.append({"index": len(out) + 1, "product_name": product.name, "product_code": _s(product.code),
                    "spec": _s(product.spec), "unit": _s(product.unit), "quantity": quantity,
                    "unit_price": line.unit_price, "discount": _zhe(line.discount_rate), "amount": line.amount,
                    "tax_rate": "", "notes": _s(getattr(line, "notes", None)), "cells": []})
    del products
    return out


def _totals(doc: Any) -> dict[str, Any]:
    return {"gross": doc.gross, "discount": doc.discount, "total": doc.total,
            "total_words": amount_in_words(doc.total), "amount_ex_tax": doc.amount_ex_tax, "tax": doc.tax,
            "tax_rate": _rate(doc.tax_rate)}


def _with_tax(lines: list[dict[str, Any]], tax_rate: Any) -> list[dict[str, Any]]:
    for line in lines:
        line["tax_rate"] = _rate(tax_rate)
    return lines


# --- the builders ---------------------------------------------------------------------------------

def _build_customer(session: Session, record_id: Any, actor: Actor) -> dict[str, Any]:
    c = scope.get_in_scope(session, Customer, record_id, actor)
    definitions = custom_fields.definitions(session, "customer")
    follow_ups = session.scalars(select(FollowUp).where(FollowUp.customer_id == c.id)
                                 .order_by(FollowUp.happened_at.desc(), FollowUp.id.desc()).limit(RECENT_FOLLOW_UPS))
    from rules.exporting import FOLLOW_UP_KINDS
    return {
        "customer": _customer_profile(session, c),
        "custom": [{"label": d.label, "value": custom_fields.display(d, (c.custom or {}).get(d.key))}
                   for d in definitions],
        "contacts": [{"name": p.name, "position": _s(p.position), "mobile": _phone(p.mobile),
                      "phone": _phone(p.phone), "email": _s(p.email), "primary": bool(p.is_primary)}
                     for p in c.contacts],
        "follow_ups": [{"time": _local(f.happened_at), "kind": str(FOLLOW_UP_KINDS.get(f.kind, f.kind)),
                        "user": _name(f.user), "content": f.content} for f in follow_ups],
    }, c.id


def _order_data(o: Order, *, shipped_only: bool) -> dict[str, Any]:
    from rules.orders import STATE_LABELS
    lines = _with_tax(_lines(o.lines, shipped_only=shipped_only), o.tax_rate)
    return {
        "customer": _customer(o.customer),
        "order": {"number": o.number, "date": o.order_date, "state": str(STATE_LABELS.get(o.state, o.state)),
                  "salesperson": _name(o.salesperson), "consignee": _s(o.consignee), "phone": _phone(o.phone),
                  "address": _address(o.province, o.city, o.district, o.address), "warehouse": _name(o.warehouse),
                  "carrier": _s(o.carrier), "tracking_no": _s(o.tracking_no), "shipped_on": _local_date(o.shipped_at),
                  "notes": _s(o.notes), "received": o.received, "quantity": sum(x["quantity"] for x in lines),
                  **_totals(o)},
        "lines": lines,
    }


def _build_order(session: Session, record_id: Any, actor: Actor) -> tuple[dict[str, Any], int]:
    o = scope.get_in_scope(session, Order, record_id, actor)
    return _order_data(o, shipped_only=False), o.id


def _build_delivery(session: Session, record_id: Any, actor: Actor) -> tuple[dict[str, Any], int]:
    """发货单: the order's goods as they leave (returned quantities off once shipped)."""
    o = scope.get_in_scope(session, Order, record_id, actor)
    shipped = o.state in (OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.RETURNED)
    return _order_data(o, shipped_only=shipped), o.id


def _build_quote(session: Session, record_id: Any, actor: Actor) -> tuple[dict[str, Any], int]:
    from rules.quotes import STATE_LABELS
    q = scope.get_in_scope(session, Quote, record_id, actor)
    return {
        "customer": _customer(q.customer),
        "quote": {"number": str(q), "date": q.quote_date, "valid_until": q.valid_until,
                  "state": str(STATE_LABELS.get(q.status, q.status)), "owner": _name(q.owner),
                  "owner_mobile": _phone(q.owner.mobile if q.owner else None), "contact": _name(q.contact),
                  "terms": _s(q.terms), "notes": _s(q.notes), **_totals(q)},
        "lines": _with_tax(_lines(q.lines), q.tax_rate),
    }, q.id


def _build_contract(session: Session, record_id: Any, actor: Actor) -> tuple[dict[str, Any], int]:
    from rules.contracts import STATE_LABELS
    k = scope.get_in_scope(session, Contract, record_id, actor)
    return {
        "customer": _customer(k.customer),
        "contract": {"number": str(k), "title": k.title, "signed_on": k.signed_on, "start_on": k.start_on,
                     "end_on": k.end_on, "state": str(STATE_LABELS.get(k.status, k.status)), "owner": _name(k.owner),
                     "our_signatory": _name(k.our_signatory), "their_signatory": _s(k.their_signatory),
                     "contact": _name(k.contact), "terms": _s(k.terms), "notes": _s(k.notes),
                     "received": k.received, "invoiced": k.invoiced, **_totals(k)},
        "lines": _with_tax(_lines(k.lines), k.tax_rate),
    }, k.id


def _build_receipt(session: Session, record_id: Any, actor: Actor) -> tuple[dict[str, Any], int]:
    from rules.payments import KIND_LABELS, METHOD_LABELS, STATUS_LABELS
    p = scope.get_in_scope(session, Payment, record_id, actor)
    return {
        "customer": _customer(p.customer),
        "receipt": {"number": f"SK{p.id:08d}", "kind": str(KIND_LABELS.get(p.kind, p.kind)), "amount": p.amount,
                    "amount_words": amount_in_words(p.amount), "paid_on": p.paid_on,
                    "method": str(METHOD_LABELS.get(p.method, p.method or "")), "write_off": p.write_off,
                    "status": str(STATUS_LABELS.get(p.status, p.status)), "owner": _name(p.owner),
                    "recorded_by": _name(p.recorded_by), "order_number": p.order.number if p.order else "",
                    "contract_number": str(p.contract) if p.contract else "", "note": _s(p.note)},
    }, p.id


def _build_invoice(session: Session, record_id: Any, actor: Actor) -> tuple[dict[str, Any], int]:
    from rules.invoices import STATE_LABELS, TYPE_LABELS
    i = scope.get_in_scope(session, Invoice, record_id, actor)
    return {
        "customer": _customer(i.customer),
        "invoice": {"number": i.number, "invoice_type": str(TYPE_LABELS.get(i.invoice_type, i.invoice_type)),
                    "title_name": i.title_name, "tax_no": _s(i.tax_no), "bank": _s(i.bank),
                    "account": _s(i.account), "address": _s(i.address), "phone": _phone(i.phone),
                    "amount": i.amount, "amount_words": amount_in_words(i.amount), "amount_ex_tax": i.amount_ex_tax,
                    "tax": i.tax, "tax_rate": _rate(i.tax_rate), "status": str(STATE_LABELS.get(i.status, i.status)),
                    "invoice_no": _s(i.invoice_no), "issued_on": i.issued_on,
                    "requested_on": _local_date(i.created_at), "owner": _name(i.owner),
                    "order_number": i.order.number if i.order else "",
                    "contract_number": str(i.contract) if i.contract else "", "notes": _s(i.notes)},
    }, i.id


def _build_envelope(session: Session, record_id: Any, actor: Actor) -> tuple[dict[str, Any], int]:
    """信封: the customer's address and primary contact; the sender is the company profile."""
    c = scope.get_in_scope(session, Customer, record_id, actor)
    primary = next((p for p in c.contacts if p.is_primary), c.contacts[0] if c.contacts else None)
    company = company_profile(session)
    person = c.kind == "person"
    return {
        "recipient": {"zip_code": _s(c.zip_code), "zip_boxes": envelopes.zip_boxes(_s(c.zip_code)),
                      "address": "".join(_s(p) for p in (c.province, c.city, c.district, c.address)),
                      "company": "" if person else c.name,
                      "name": c.name if person else (_name(primary) if primary else ""),
                      "title": _s(primary.position) if primary and not person else "",
                      "phone": _phone(c.mobile or c.phone or (primary.mobile if primary else None))},
        "sender": {"name": company["name"], "address": company["address"], "zip_code": company["zip_code"],
                   "zip_boxes": envelopes.zip_boxes(company["zip_code"]), "phone": company["phone"]},
    }, c.id


_BUILDERS: dict[T, Builder] = {
    T.CUSTOMER: _build_customer, T.ORDER: _build_order, T.DELIVERY: _build_delivery, T.QUOTE: _build_quote,
    T.CONTRACT: _build_contract, T.RECEIPT: _build_receipt, T.INVOICE: _build_invoice,
    T.ENVELOPE: _build_envelope,
}


def register(doc_type: T | str, builder: Builder) -> None:
    """A later module's document (tickets: 维修工单): `builder(session, record_id, actor)` returns
    (data, record id) with the keys of print_fields for that type, loading through scope."""
    _BUILDERS[T(doc_type)] = builder


def registered(doc_type: T | str) -> bool:
    return T(doc_type) in _BUILDERS


def _common(session: Session, doc_type: T, *, actor: Actor | None, now: datetime) -> dict[str, Any]:
    return {"company": company_profile(session), "printed_at": _local(now),
            "printed_by": actor.display_name if actor else "", "title": str(print_fields.DOC_LABELS[doc_type])}


def build(session: Session, doc_type: T | str, record_id: Any, *, actor: Actor, now: datetime) -> dict[str, Any]:
    """The record as a template sees it, or OutOfScope (→ 404) when the actor does not see it."""
    kind = T(doc_type)
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise TemplateRefused(_l("「%(t)s」还不能打印：这类单据尚未启用", t=print_fields.DOC_LABELS[kind]))
    data, ident = builder(session, record_id, actor)
    return {**_common(session, kind, actor=actor, now=now), "record_url": _record_url(kind, ident), **data}


def sample(doc_type: T | str, session: Session | None = None, *, actor: Actor | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    """Made-up data for a preview without a record (and the trial render on save); the real
    company profile and print time when a session is given."""
    kind = T(doc_type)
    data = print_fields.sample(kind)
    if session is not None and now is not None:
        common = _common(session, kind, actor=actor, now=now)
        if not any(common["company"].values()):
            del common["company"]  # an installation without a profile yet previews the made-up one
        data.update(common)
    return data
