"""自定义字段: definitions made by the administrator and the validation of their values.
No WTForms here: the form, the importer and the API all hand raw values to `validate`."""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.system import CustomField
from rules import normalize
from rules.errors import InvalidValue

TYPES = {
    "text": _l("单行文本"), "textarea": _l("多行文本"), "number": _l("数字"), "date": _l("日期"),
    "choice": _l("单选"), "multi_choice": _l("多选"), "boolean": _l("是/否"),
}
ENTITIES = {"customer": _l("客户"), "contact": _l("联系人"), "product": _l("产品"), "lead": _l("线索"),
            "opportunity": _l("销售机会"), "quote": _l("报价单"), "contract": _l("合同"),
            "payment_plan": _l("回款计划"), "payment": _l("回款"), "invoice": _l("发票"),
            "ticket": _l("工单"), "kb_article": _l("知识库文章")}
CHOICE_TYPES = ("choice", "multi_choice")
# the fields whose values a report can count customers by
STATISTICS_TYPES = ("choice", "multi_choice", "boolean")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_CN_DATE = re.compile(r"^(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?$")
_TRUE = {"y", "yes", "1", "true", "on", "是", "√"}
_FALSE = {"n", "no", "0", "false", "off", "否", "×", ""}
MAX_TEXT = {"text": 500, "textarea": 5000}


def definitions(session: Session, entity: str, *, include_inactive: bool = False) -> list[CustomField]:
    stmt = select(CustomField).where(CustomField.entity == entity)
    if not include_inactive:
        stmt = stmt.where(CustomField.active.is_(True))
    return list(session.scalars(stmt.order_by(CustomField.sort_order, CustomField.id)))


def statistics_fields(session: Session) -> list[CustomField]:
    """Customer fields offered as a dimension of 客户数量报表: marked 统计 by the administrator
    and of a kind with a fixed set of values."""
    return [d for d in definitions(session, "customer") if d.statistics and d.field_type in STATISTICS_TYPES]


def holds_option(stored: Any, option: str) -> Any:
    """SQL: a multi-choice value (its JSON text `stored`) holds `option`. The JSON column writes
    Chinese as \\u escapes, values typed in by hand may not: either spelling matches."""
    return or_(*(stored.contains(json.dumps(option, ensure_ascii=ascii), autoescape=True) for ascii in (True, False)))


def version(fields: list[CustomField]) -> tuple:
    """Changes whenever a definition is added, changed or removed (views rebuild then).
    `fields`: every definition of the entity, inactive ones included."""
    return len(fields), max((f.updated_at for f in fields), default=None), sum(f.id for f in fields)


def check_definition(session: Session, field: CustomField) -> None:
    if not _KEY.match(field.key or ""):
        raise InvalidValue(_l("字段标识只能用小写字母、数字和下划线，以字母开头，不超过 32 位"))
    if not normalize.text(field.label):
        raise InvalidValue(_l("请填写字段名称"))
    if field.field_type not in TYPES:
        raise InvalidValue(_l("请选择字段类型"))
    field.options = [normalize.text(o) for o in (field.options or []) if normalize.text(o)]
    if field.field_type in CHOICE_TYPES and not field.options:
        raise InvalidValue(_l("单选和多选字段至少需要一个选项"))
    with session.no_autoflush:
        clash = session.scalar(select(CustomField.id).where(
            CustomField.entity == field.entity, CustomField.key == field.key, CustomField.id != (field.id or -1)))
    if clash is not None:
        raise InvalidValue(_l("字段标识 %(k)s 已被使用", k=field.key))


def parse_date(raw: Any) -> date | None:
    """Accepts 2023-05-01, 2023/5/1, 2023年5月1日 and date objects."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    match = _CN_DATE.match(normalize.text(raw))
    if not match:
        raise ValueError(raw)
    return date(int(match[1]), int(match[2]), int(match[3]))


def _clean_one(field: CustomField, raw: Any) -> Any:
    kind = field.field_type
    if kind == "boolean":
        text = normalize.text(raw).lower() if not isinstance(raw, bool) else ("1" if raw else "0")
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(str(_l("应为“是”或“否”")))
    if kind == "multi_choice":
        values = raw if isinstance(raw, (list, tuple)) else re.split(r"[,，;；、]", normalize.text(raw))
        values = [normalize.text(v) for v in values if normalize.text(v)]
        wrong = [v for v in values if v not in field.options]
        if wrong:
            raise ValueError(str(_l("“%(v)s”不在可选项中", v="、".join(wrong))))
        return values or None
    text = normalize.text(raw) if kind != "textarea" else str(raw or "").strip()
    if not text:
        return None
    if kind == "number":
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise ValueError(str(_l("应为数字"))) from None
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "date":
        try:
            return parse_date(text).isoformat()
        except ValueError:
            raise ValueError(str(_l("日期格式不正确（如 2026-11-23）"))) from None
    if kind == "choice":
        if text not in field.options:
            raise ValueError(str(_l("“%(v)s”不在可选项中", v=text)))
        return text
    if len(text) > MAX_TEXT.get(kind, 500):
        raise ValueError(str(_l("不能超过 %(n)d 个字", n=MAX_TEXT.get(kind, 500))))
    return text


def validate(fields: list[CustomField], raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean values by key, and messages by key for the ones that are wrong or missing."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        try:
            value = _clean_one(field, raw.get(field.key))
        except ValueError as exc:
            errors[field.key] = f"{field.label}：{exc}"
            continue
        if value in (None, [], "") or (field.field_type == "boolean" and value is False and field.required):
            if field.required:
                errors[field.key] = str(_l("请填写%(f)s", f=field.label))
            continue
        clean[field.key] = value
    return clean, errors


def display(field: CustomField, value: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    if field.field_type == "boolean":
        return str(_l("是")) if value else str(_l("否"))
    if field.field_type == "multi_choice" and isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def clean(session: Session, entity: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The values of `entity`'s active custom fields, checked; any wrong or missing one refuses
    them all with every reason (InvalidValue). For a rule that takes raw values (a lead from a
    web form or a dict); a form marks each field instead (admin_views/custom_fields)."""
    result, errors = validate(definitions(session, entity), raw or {})
    if errors:
        raise InvalidValue("；".join(errors.values()))
    return result
