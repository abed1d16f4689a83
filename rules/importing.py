"""客户资料导入: from the rows of a sheet to customers (with their primary contact) or contacts.

The steps a user sees: the header row is found (a title row may sit above it), columns are
mapped by their Chinese or English header (editable, remembered per user), every row is
checked by the same rules as the form (rules/customers.entry_issues with the entry policy and
protection, rules/custom_fields.validate), duplicates are found within the file and against
the database, and each row ends imported, updated, skipped or rejected with a reason.

This module reads: columns, header row, mapping and values. rules/import_batch.py checks and
writes the rows batch by batch.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from models.customer import CustomerKind
from models.system import CustomField
from rules import custom_fields, entry, import_history, normalize, regions, settings

CUSTOM_PREFIX = "cf:"
CONTACT_CUSTOM_PREFIX = "ccf:"  # a contact custom field of the customer's primary contact


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    aliases: tuple[str, ...] = ()
    kind: str = "text"  # text, phone, digits, date, decimal, kind, gender, dict, user, custom, contact_custom
    required: bool = False
    dict_kind: str | None = None
    custom: CustomField | None = None


def _c(key: str, label: Any, *aliases: str, kind: str = "text", required: bool = False,
       dict_kind: str | None = None) -> Column:
    return Column(key, label, aliases, kind, required, dict_kind)


CUSTOMER_COLUMNS: list[Column] = [
    _c("name", _l("客户名称"), "客户名称", "公司名称", "客户名", "单位名称", "企业名称", "名称", "客户", "name",
       "customer", "company", "customer name", "company name", required=True),
    _c("code", _l("客户编号"), "客户编号", "编号", "客户代码", "code", "customer code", "customer no"),
    _c("kind", _l("类型"), "类型", "客户类型", "kind", "type", kind="kind"),
    _c("contact_name", _l("联系人"), "联系人", "联系人姓名", "首要联系人", "contact", "contact name"),
    _c("contact_position", _l("联系人职务"), "联系人职务", "职务", "职位", "position", "title"),
    _c("contact_mobile", _l("联系人手机"), "联系人手机", "联系人手机号", "contact mobile", kind="phone"),
    _c("mobile", _l("手机"), "手机", "手机号", "手机号码", "移动电话", "mobile", "cellphone", "mobile phone", kind="phone"),
    _c("phone", _l("电话"), "电话", "固定电话", "座机", "联系电话", "办公电话", "phone", "tel", "telephone", kind="phone"),
    _c("fax", _l("传真"), "传真", "fax", kind="phone"),
    _c("email", _l("邮箱"), "邮箱", "电子邮箱", "电子邮件", "email", "e-mail", "mail"),
    _c("qq", _l("QQ"), "qq", "qq号", "qq号码", kind="digits"),
    _c("wechat", _l("微信"), "微信", "微信号", "wechat", "weixin"),
    _c("website", _l("网址"), "网址", "网站", "主页", "公司网址", "website", "url", "web"),
    _c("province", _l("省份"), "省份", "省", "所在省份", "所在省", "province"),
    _c("city", _l("城市"), "城市", "市", "所在城市", "city"),
    _c("district", _l("区县"), "区县", "区", "县", "district"),
    _c("address", _l("地址"), "地址", "详细地址", "通讯地址", "公司地址", "联系地址", "address"),
    _c("zip_code", _l("邮编"), "邮编", "邮政编码", "zip", "zip code", "postcode", kind="digits"),
    _c("category", _l("客户分类"), "客户分类", "分类", "category", kind="dict", dict_kind="category"),
    _c("source", _l("客户来源"), "客户来源", "来源", "source", kind="dict", dict_kind="source"),
    _c("industry", _l("所属行业"), "所属行业", "行业", "industry", kind="dict", dict_kind="industry"),
    _c("value_level", _l("价值等级"), "价值等级", "客户价值", "价值", "value level", kind="dict", dict_kind="value_level"),
    _c("stage", _l("跟进程度"), "跟进程度", "跟进阶段", "阶段", "stage", kind="dict", dict_kind="stage"),
    _c("credit_rating", _l("信誉度"), "信誉度", "信用等级", "信誉", "credit rating", kind="dict",
       dict_kind="credit_rating"),
    _c("legal_representative", _l("法人代表"), "法人代表", "法定代表人", "法人", "legal representative"),
    _c("registered_capital", _l("注册资金（万元）"), "注册资金（万元）", "注册资金", "注册资本", "registered capital",
       kind="decimal"),
    _c("gender", _l("性别"), "性别", "gender", "sex", kind="gender"),
    _c("birthday", _l("生日"), "生日", "出生日期", "birthday", kind="date"),
    _c("notes", _l("备注"), "备注", "说明", "notes", "remark", "remarks"),
]

# What a legacy sheet knows of each customer's past (rules/import_history.py); kept apart from the
# list above, which the export also walks and follows with its own owner and date columns.
HISTORY_COLUMNS: list[Column] = [_c(key, label, *aliases, kind=kind)
                                 for key, label, aliases, kind in import_history.COLUMN_SPECS]

CONTACT_COLUMNS: list[Column] = [
    _c("customer", _l("所属客户"), "所属客户", "客户名称", "公司名称", "客户编号", "客户", "customer", required=True),
    _c("name", _l("姓名"), "姓名", "联系人", "联系人姓名", "name", "contact", required=True),
    _c("is_primary", _l("首要联系人"), "首要联系人", "是否首要联系人", "primary", kind="bool"),
    _c("gender", _l("性别"), "性别", "gender", kind="gender"),
    _c("position", _l("职务"), "职务", "职位", "position", "title"),
    _c("mobile", _l("手机"), "手机", "手机号", "手机号码", "mobile", kind="phone"),
    _c("phone", _l("电话"), "电话", "固定电话", "办公电话", "phone", "tel", kind="phone"),
    _c("email", _l("邮箱"), "邮箱", "电子邮箱", "email", "e-mail"),
    _c("qq", _l("QQ"), "qq", "qq号", kind="digits"),
    _c("wechat", _l("微信"), "微信", "微信号", "wechat"),
    _c("birthday", _l("生日"), "生日", "出生日期", "birthday", kind="date"),
    _c("notes", _l("备注"), "备注", "说明", "notes"),
    _c("id_number", _l("身份证号"), "身份证号", "身份证", "身份证号码", "证件号码", "id number", "id card",
       kind="id_number"),
]

# 线索 (rules/import_leads.py): the lead form's fields; the contact columns land on the lead itself.
LEAD_COLUMNS: list[Column] = [
    _c("name", _l("线索名称"), "线索名称", "名称", "线索", "姓名", "客户名称", "name", "lead", "lead name", required=True),
    _c("company", _l("公司"), "公司", "公司名称", "单位", "单位名称", "企业名称", "company", "company name"),
    _c("contact_name", _l("联系人"), "联系人", "联系人姓名", "contact", "contact name"),
    _c("position", _l("职务"), "职务", "职位", "联系人职务", "position", "title"),
    _c("phone", _l("电话"), "电话", "固定电话", "座机", "联系电话", "办公电话", "phone", "tel", "telephone", kind="phone"),
    _c("mobile", _l("手机"), "手机", "手机号", "手机号码", "移动电话", "mobile", "cellphone", kind="phone"),
    _c("email", _l("邮箱"), "邮箱", "电子邮箱", "电子邮件", "email", "e-mail", "mail"),
    _c("wechat", _l("微信"), "微信", "微信号", "wechat", "weixin"),
    _c("source", _l("来源"), "来源", "线索来源", "客户来源", "source", kind="dict", dict_kind="source"),
    _c("industry", _l("行业"), "行业", "所属行业", "industry", kind="dict", dict_kind="industry"),
    _c("region", _l("省市区"), "省市区", "所在地区", "地区", "省市县", "region"),
    _c("province", _l("省份"), "省份", "省", "所在省份", "province"),
    _c("city", _l("城市"), "城市", "市", "所在城市", "city"),
    _c("district", _l("区县"), "区县", "区", "县", "district"),
    _c("address", _l("地址"), "地址", "详细地址", "通讯地址", "公司地址", "联系地址", "address"),
    _c("notes", _l("备注"), "备注", "说明", "notes", "remark", "remarks"),
]

ENTITIES = {"customer": _l("客户（含首要联系人）"), "contact": _l("联系人"), "product": _l("产品"), "lead": _l("线索")}
_BASE_COLUMNS = {"customer": CUSTOMER_COLUMNS, "contact": CONTACT_COLUMNS, "lead": LEAD_COLUMNS}
_KIND_WORDS = {"企业": CustomerKind.COMPANY, "公司": CustomerKind.COMPANY, "单位": CustomerKind.COMPANY,
               "company": CustomerKind.COMPANY, "个人": CustomerKind.PERSON, "person": CustomerKind.PERSON}
_GENDER_WORDS = {"男": "male", "male": "male", "m": "male", "先生": "male", "女": "female", "female": "female",
                 "f": "female", "女士": "female"}
_TRUE = {"是", "y", "yes", "true", "1", "√", "首要"}
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")
_HEADER_NOISE = re.compile(r"[\s*＊:：]|（必填）|\(必填\)")


def columns(session: Session, entity: str) -> list[Column]:
    """The importable columns of an entity, custom fields (by their label) included."""
    if entity == "product":  # one column per price level: rules/import_products.py lists them
        from rules import import_products

        base = import_products.base_columns(session)
    else:
        base = list(_BASE_COLUMNS[entity]) + (HISTORY_COLUMNS if entity == "customer" else [])
    for definition in custom_fields.definitions(session, entity):
        if definition.importable:
            base.append(Column(CUSTOM_PREFIX + definition.key, definition.label, (definition.label, definition.key),
                               "custom", definition.required, custom=definition))
    if entity == "customer":  # the primary contact's own custom fields, checked as on the contact form
        for definition in custom_fields.definitions(session, "contact"):
            if definition.importable:
                base.append(Column(CONTACT_CUSTOM_PREFIX + definition.key, _l("联系人·%(f)s", f=definition.label),
                                   (f"联系人{definition.label}", f"联系人·{definition.label}",
                                    f"contact {definition.key}"), "contact_custom", definition.required,
                                   custom=definition))
    return base


def header_key(value: Any) -> str:
    """A header as compared: folded, lower-cased, without spaces, stars and "(必填)"."""
    return _HEADER_NOISE.sub("", unicodedata.normalize("NFKC", str(value or ""))).lower()


def _alias_table(cols: list[Column]) -> dict[str, str]:
    table: dict[str, str] = {}
    for col in cols:
        for alias in (str(col.label), *col.aliases):
            table.setdefault(header_key(alias), col.key)
    return table


def find_header(rows: list[list[Any]], cols: list[Column]) -> int:
    """The index of the header row: among the first rows, the one naming most known columns
    (a title row or notes above it are passed over); the first filled row if none does."""
    table = _alias_table(cols)
    best, best_hits = None, 0
    for index, row in enumerate(rows[:20]):
        hits = len({table[k] for k in (header_key(v) for v in row) if k in table})
        if hits > best_hits:
            best, best_hits = index, hits
    if best is not None:
        return best
    return next((i for i, row in enumerate(rows) if any(v not in ("", None) for v in row)), 0)


def auto_mapping(headers: list[Any], cols: list[Column], remembered: dict[str, str] | None = None) -> list[str]:
    """For each column of the sheet, the field it fills ("" = not imported). What the user
    chose last time for the same header comes first; each field is used once."""
    table = _alias_table(cols)
    known = {c.key for c in cols}
    used: set[str] = set()
    mapping = []
    for header in headers:
        key = header_key(header)
        target = (remembered or {}).get(key)
        if target not in known:
            target = table.get(key, "")
        if target in used:
            target = ""
        if target:
            used.add(target)
        mapping.append(target)
    return mapping


def remembered_mapping(session: Session, entity: str, user_id: int) -> dict[str, str]:
    return settings.get(session, f"import_mapping:{entity}:{user_id}") or {}


def remember_mapping(session: Session, entity: str, user_id: int, headers: list[Any], mapping: list[str]) -> None:
    stored = remembered_mapping(session, entity, user_id)
    for header, target in zip(headers, mapping):
        if header_key(header):
            stored[header_key(header)] = target
    settings.put(session, f"import_mapping:{entity}:{user_id}", stored)


# --- values as real sheets hold them ---------------------------------------------------------

def cell_text(value: Any) -> str:
    """A cell as the text the user typed: 13800138000.0 → "13800138000", dates as 2023-05-01."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def digits_text(value: Any) -> str:
    """Phones, QQ numbers and zip codes typed as numbers: 1.38001380E+10 → 13800138000."""
    text = normalize.text(cell_text(value))
    if _SCIENTIFIC.match(text):
        try:
            return str(int(Decimal(text)))
        except (InvalidOperation, ValueError):
            return text
    return text


def parse_date(value: Any) -> date:
    """Excel serials (45047, or 45047.5 with a time), date cells, 2023-05-01, 2023/5/1, 2023.5.1,
    2023年5月1日 and 20230501, in full-width digits too."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 80000:
        return date(1899, 12, 30) + timedelta(days=int(value))
    text = normalize.text(cell_text(value))
    if re.fullmatch(r"\d{4,5}(\.0+)?", text) and 1 <= float(text) < 80000:
        return date(1899, 12, 30) + timedelta(days=int(float(text)))
    if re.fullmatch(r"\d{8}", text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return custom_fields.parse_date(text.split(" ")[0])


@dataclass
class Parsed:
    """One data row, read: values for the record, its primary contact and custom fields."""

    row_no: int
    raw: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    contact: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    contact_custom: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # fatal: the row is rejected
    warnings: list[str] = field(default_factory=list)  # a bad optional cell, left empty


def cell_warning(label: Any, original: Any, reason: Any) -> str:
    """How a bad optional cell is reported: the column, what the sheet held and why."""
    return str(_l("%(f)s“%(v)s”已留空：%(r)s", f=label, v=cell_text(original), r=reason))


class Reader:
    """Turns rows into Parsed values for one entity; dictionaries and custom fields are read
    once. A problem found here (a bad date, an unknown dictionary item, a region) rejects the
    row when its column is required or the user asked for `strict` reading; otherwise the cell
    is left empty with a warning. `values` holds the 值对应 choices (rules/import_values.py)."""

    def __init__(self, session: Session, entity: str, mapping: list[str], *,
                 values: dict[str, dict[str, Any]] | None = None, strict: bool = False) -> None:
        from rules import import_values

        self.entity = entity
        self.cols = {c.key: c for c in columns(session, entity)}
        self.mapping = mapping
        self.vocabs = import_values.vocabularies(session, list(self.cols.values()))
        self.choices = values or {}
        # Products keep rejecting a bad cell: their importer reports no warnings.
        self.strict = strict or entity == "product"
        self.custom_defs = [c.custom for c in self.cols.values() if c.kind == "custom"]
        self.contact_custom_defs = [c.custom for c in self.cols.values() if c.kind == "contact_custom"]

    def read(self, row_no: int, row: list[Any]) -> Parsed:
        parsed = Parsed(row_no, [cell_text(v) for v in row])
        for index, key in enumerate(self.mapping):
            if not key or index >= len(row):
                continue
            value = row[index]
            if value in ("", None):
                continue
            col = self.cols.get(key)
            if col is None:
                continue
            try:
                self._put(parsed, col, value)
            except ValueError as exc:
                if col.required or self.strict:
                    parsed.problems.append(f"{col.label}：{exc}")
                else:
                    parsed.warnings.append(cell_warning(col.label, value, exc))
        if self.entity in ("customer", "lead"):
            self._regions(parsed)
        return parsed

    def _put(self, parsed: Parsed, col: Column, value: Any) -> None:
        kind = col.kind
        if kind in ("custom", "contact_custom"):
            if col.key in self.vocabs:
                value = self._choice(col, value)
            if col.custom.field_type == "date" and not isinstance(value, str):
                value = parse_date(value).isoformat()
            target = parsed.custom if kind == "custom" else parsed.contact_custom
            target[col.custom.key] = cell_text(value) if not isinstance(value, str) else value
            return
        if kind == "phone" or kind == "digits":
            text = digits_text(value)
        elif kind == "id_number":
            text = digits_text(value)
            # A spreadsheet keeps 15 significant digits of a number: an ID number typed into a
            # number cell has lost its last digits, which its check digit will then refuse.
            parsed.values["id_number_was_a_number"] = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif kind == "date":
            try:
                text = parse_date(value)
            except (ValueError, TypeError):
                raise ValueError(str(_l("日期“%(v)s”无法识别（如 2023-05-01 或 2023年5月1日）", v=cell_text(value)))) \
                    from None
        elif kind == "decimal":
            try:
                text = Decimal(normalize.text(cell_text(value)).replace(",", ""))
            except InvalidOperation:
                raise ValueError(str(_l("“%(v)s”不是数字", v=cell_text(value)))) from None
        elif kind == "kind":
            word = normalize.text(cell_text(value)).lower()
            if word not in _KIND_WORDS:
                raise ValueError(str(_l("应为“企业”或“个人”")))
            text = _KIND_WORDS[word].value
        elif kind == "gender":
            word = normalize.text(cell_text(value)).lower()
            if word not in _GENDER_WORDS:
                raise ValueError(str(_l("应为“男”或“女”")))
            text = _GENDER_WORDS[word]
        elif kind == "bool":
            text = normalize.text(cell_text(value)).lower() in _TRUE
        elif kind == "dict":
            from rules.import_values import resolve

            known, item = resolve(self.vocabs[col.key], value, self.choices.get(col.key, {}))
            if not known:
                raise ValueError(str(_l("“%(v)s”不在数据字典中，请先在“数据字典”中添加",
                                        v=normalize.text(cell_text(value)))))
            if item is not None:
                parsed.values[col.key + "_id"] = item
            return
        else:
            text = normalize.text(cell_text(value))
            if col.key in self.vocabs:  # a province 值对应 decided: read as chosen
                text = self._choice(col, text) or None
        if col.key.startswith("contact_"):
            parsed.contact[col.key.removeprefix("contact_")] = text
        else:
            parsed.values[col.key] = text

    def _choice(self, col: Column, value: Any) -> Any:
        """A custom choice (or province) cell with each part matched as 值对应 decided; an
        unknown part is kept as typed, for the field's own check to report."""
        from rules.import_values import parts, resolve

        vocab, chosen = self.vocabs[col.key], self.choices.get(col.key, {})
        out = []
        for part in parts(vocab, value):
            known, option = resolve(vocab, part, chosen)
            if not known:
                out.append(normalize.text(part))
            elif option is not None:
                out.append(option)
        return "、".join(out)

    def _regions(self, parsed: Parsed) -> None:
        """北京 / 北京市 both mean 北京市; a missing province is read from the address."""
        values = parsed.values
        province, city, district = values.get("province"), values.get("city"), values.get("district")
        region = values.pop("region", None)
        if region and not (province or city or district):  # one 省市区 cell, read as an address is
            province, city, district = regions.recognise(region)
            if province is None:
                return self._region_refused(parsed, _l("省市区“%(v)s”无法识别", v=region))
        if province:
            full = _match_province(province)
            if full is None:
                return self._region_refused(parsed, _l("省份“%(v)s”无法识别", v=province))
            province = full
        if values.get("address") and not (province and city):
            found_province, found_city, found_district = regions.recognise(values["address"], province)
            if found_province == province or not province:
                province = found_province
                if not city:
                    city, district = found_city, district or found_district
        if province:
            if not city and province in regions.tree()[province].children:
                city = province  # the four municipalities
            if city:
                full_city = _match_city(province, city)
                if full_city is None:
                    return self._region_refused(parsed, _l("城市“%(v)s”不属于%(p)s", v=city, p=province))
                city = full_city
                if district:
                    full_district = _match_district(province, city, district)
                    if full_district is None:
                        return self._region_refused(parsed, _l("区县“%(v)s”不属于%(c)s", v=district, c=city))
                    district = full_district
        values["province"], values["city"], values["district"] = province or None, city or None, district or None


    def _region_refused(self, parsed: Parsed, reason: Any) -> None:
        """A region that cannot be read: fatal only when required (or reading strictly);
        otherwise province, city and district are all left empty, as one warning."""
        values = parsed.values
        if self.strict or any(self.cols[k].required for k in ("province", "city", "district") if k in self.cols):
            parsed.problems.append(str(reason))
            return
        typed = " ".join(str(values[k]) for k in ("province", "city", "district") if values.get(k))
        parsed.warnings.append(cell_warning(_l("区域"), typed, reason))
        values["province"] = values["city"] = values["district"] = None


# A sheet names the same few hundred regions over and over; each match scans the region tree.
_match_province = lru_cache(maxsize=4096)(regions.match_province)
_match_city = lru_cache(maxsize=4096)(regions.match_city)
_match_district = lru_cache(maxsize=4096)(regions.match_district)


def data_rows(rows: list[list[Any]], header_index: int) -> list[tuple[int, list[Any]]]:
    """(sheet row number, values) of the rows under the header; blank rows are left out."""
    out = []
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        if any(v not in ("", None) for v in row):
            out.append((index + 1, row))
    return out


def required_keys(session: Session, entity: str) -> set[str]:
    """Columns a file must fill: the entity's own, custom fields marked required, and (for
    customers) the fields the entry policy makes required."""
    policy = entry.load_policy(session) if entity == "customer" else {"required": []}
    return {c.key for c in columns(session, entity) if c.required or c.key in policy["required"]}


def missing_required(entity: str, mapping: list[str], session: Session) -> list[Column]:
    """Required columns the mapping leaves out (custom fields are checked per row)."""
    chosen = set(mapping)
    needed = required_keys(session, entity)
    return [c for c in columns(session, entity)
            if c.key in needed and c.key not in chosen and c.kind not in ("custom", "contact_custom")]
