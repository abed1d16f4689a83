"""发票抬头: the names a customer is invoiced under (企业 with its 税号, 开户行, 账号, 地址, 电话, or
个人), several per customer and one of them the default the invoice form starts with.

Whoever sees the customer and may request invoices (invoice.create) keeps its titles: the
salesperson knows the customer's details, finance corrects them. Removing a title only hides it
(deleted_at): invoices keep a snapshot of the title they were issued under. Nothing here commits."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.customer import Customer
from models.invoice import InvoiceTitle, InvoiceType, TitleKind
from rules import normalize, scope
from rules.actor import Actor
from rules.errors import InvalidValue, PermissionDenied

PERMISSION = "invoice.create"
KIND_LABELS = {TitleKind.COMPANY.value: _l("企业"), TitleKind.PERSONAL.value: _l("个人")}
# 纳税人识别号: the 18-character 统一社会信用代码 today; 15 (old 税务登记证号) and 20 (个体户, 身份证号
# plus digits) characters still appear on older customers' papers.
TAX_NO_LENGTHS = (15, 18, 20)
_TAX_NO = re.compile(r"^[0-9A-Z]+$")
FIELDS = ("kind", "name", "tax_no", "bank", "account", "address", "phone")
LIMITS = {"name": 200, "tax_no": 32, "bank": 100, "account": 64, "address": 255, "phone": 32}
FIELD_LABELS = {"kind": _l("抬头类型"), "name": _l("抬头名称"), "tax_no": _l("税号"), "bank": _l("开户行"),
                "account": _l("账号"), "address": _l("地址"), "phone": _l("电话")}


def clean_tax_no(value: Any) -> str | None:
    """The number as the tax office prints it: half-width, upper case, without spaces or dashes."""
    text = normalize.text(value).upper().replace(" ", "").replace("-", "")
    return text or None


def check_tax_no(value: Any) -> str | None:
    """The cleaned 税号, or a refusal naming what is wrong with it."""
    tax_no = clean_tax_no(value)
    if tax_no is None:
        return None
    if not _TAX_NO.match(tax_no):
        raise InvalidValue(_l("税号只能包含数字和大写字母：%(t)s", t=tax_no))
    if len(tax_no) not in TAX_NO_LENGTHS:
        raise InvalidValue(_l("税号应为 15、18 或 20 位（统一社会信用代码为 18 位），您填写的是 %(n)d 位",
                              n=len(tax_no)))
    return tax_no


def check_for_type(title: Any, invoice_type: str) -> None:
    """What each kind of invoice needs from its title: a company's 税号 on every invoice, and
    for a 增值税专用发票 the full 开户行/账号/地址/电话 (a person cannot receive one)."""
    if title.kind == TitleKind.COMPANY and not title.tax_no:
        raise InvalidValue(_l("企业抬头“%(n)s”缺少税号，请先在客户的发票抬头中补全", n=title.name))
    if invoice_type != InvoiceType.SPECIAL:
        return
    if title.kind != TitleKind.COMPANY:
        raise InvalidValue(_l("增值税专用发票只能开给企业，“%(n)s”是个人抬头", n=title.name))
    missing = [str(FIELD_LABELS[field]) for field in ("bank", "account", "address", "phone")
               if not getattr(title, field)]
    if missing:
        raise InvalidValue(_l("开具增值税专用发票需要抬头“%(n)s”的%(m)s，请先补全", n=title.name, m="、".join(missing)))


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    kind = normalize.text(values.get("kind")) or TitleKind.COMPANY.value
    if kind not in KIND_LABELS:
        raise InvalidValue(_l("抬头类型只能是企业或个人"))
    clean: dict[str, Any] = {"kind": kind}
    for field in FIELDS[1:]:
        text = normalize.text(values.get(field)) or None
        if text and len(text) > LIMITS[field]:
            raise InvalidValue(_l("%(f)s太长（最多 %(n)d 个字）", f=FIELD_LABELS[field], n=LIMITS[field]))
        clean[field] = text
    if not clean["name"]:
        raise InvalidValue(_l("请填写抬头名称"))
    clean["tax_no"] = check_tax_no(clean["tax_no"])
    if kind == TitleKind.COMPANY and not clean["tax_no"]:
        raise InvalidValue(_l("企业抬头必须填写税号（统一社会信用代码）"))
    return clean


def _customer(session: Session, customer_id: Any, actor: Actor) -> Customer:
    if not actor.can(PERMISSION):
        raise PermissionDenied(_l("您没有维护发票抬头的权限"))
    return scope.get_in_scope(session, Customer, customer_id, actor)


def _make_default(session: Session, title: InvoiceTitle) -> None:
    session.execute(update(InvoiceTitle).where(InvoiceTitle.customer_id == title.customer_id,
                                               InvoiceTitle.id != title.id, InvoiceTitle.is_default.is_(True))
                    .values(is_default=False).execution_options(synchronize_session=False))
    title.is_default = True


def live(customer_id: int) -> Any:
    return select(InvoiceTitle).where(InvoiceTitle.customer_id == customer_id, InvoiceTitle.deleted_at.is_(None))


def save(session: Session, customer_id: Any, values: Mapping[str, Any], *, actor: Actor, now: datetime,
         title_id: Any = None) -> InvoiceTitle:
    """新增 or 修改 one title of a customer the actor sees; the first one is the default, and
    one marked default takes that place from the others."""
    customer = _customer(session, customer_id, actor)
    clean = _clean(values)
    if title_id:
        title = session.scalar(live(customer.id).where(InvoiceTitle.id == int(title_id)))
        if title is None:
            raise InvalidValue(_l("该发票抬头不存在或已删除"))
    else:
        title = InvoiceTitle(customer_id=customer.id, is_default=False)
        session.add(title)
    for field, value in clean.items():
        setattr(title, field, value)
    session.flush()
    others = session.scalar(select(func.count(InvoiceTitle.id)).where(
        InvoiceTitle.customer_id == customer.id, InvoiceTitle.deleted_at.is_(None), InvoiceTitle.id != title.id,
        InvoiceTitle.is_default.is_(True)))
    if values.get("is_default") in (True, "1", "on", "y", "true") or not others:
        _make_default(session, title)
    session.flush()
    return title


def remove(session: Session, customer_id: Any, title_id: Any, *, actor: Actor, now: datetime) -> InvoiceTitle:
    """删除 a title (hidden; issued invoices keep their snapshot); the default passes to the newest other one."""
    customer = _customer(session, customer_id, actor)
    title = session.scalar(live(customer.id).where(InvoiceTitle.id == int(title_id)))
    if title is None:
        raise InvalidValue(_l("该发票抬头不存在或已删除"))
    title.deleted_at, was_default, title.is_default = now, title.is_default, False
    session.flush()
    if was_default:
        heir = session.scalar(live(customer.id).order_by(InvoiceTitle.id.desc()).limit(1))
        if heir is not None:
            _make_default(session, heir)
            session.flush()
    return title


def titles(session: Session, customer_id: int) -> list[InvoiceTitle]:
    """A customer's titles, the default first."""
    return list(session.scalars(live(customer_id).order_by(InvoiceTitle.is_default.desc(), InvoiceTitle.id)))


def usable(session: Session, customer_id: int, title_id: Any) -> InvoiceTitle:
    """A live title of this customer (a request names one)."""
    try:
        ident = int(title_id)
    except (TypeError, ValueError):
        raise InvalidValue(_l("请选择发票抬头（没有抬头时请先在客户页面添加）")) from None
    title = session.scalar(live(customer_id).where(InvoiceTitle.id == ident))
    if title is None:
        raise InvalidValue(_l("发票抬头不属于该客户或已删除"))
    return title
