"""客户资料导入: from the rows of a sheet to customers (with their primary contact) or contacts.

The steps a user sees: the header row is found (a title row may sit above it), columns are
mapped by their Chinese or English header (editable, remembered per user), every row is
checked by the same rules as the form (rules/customers.entry_issues with the entry policy and
protection, rules/custom_fields.validate), duplicates are found within the file and against
the database, and each row ends imported, updated, skipped or rejected with a reason.

Speed at 100k rows comes from doing per batch what the form does per record: one query for
the duplicate keys of a whole batch (answered to the rules through their `lookup` hooks), one
reservation of customer numbers, and bulk inserts of customers, contacts, keys, search rows
and ownership events. A batch is one transaction that also moves the job's progress mark, so
a crash leaves no half batch and a rerun resumes after the last committed one.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from models.base import utcnow
from models.customer import Contact, Customer, CustomerKey, CustomerKind, CustomerSearch, OwnershipEvent
from models.dictionary import DictItem
from models.job import JobRecord, JobRowIssue
from models.system import CustomField
from rules import custom_fields, customers, entry, normalize, numbering, protection, regions, scope, search, settings
from rules.actor import Actor
from rules.errors import RuleViolation

ON_DUPLICATE = {"skip": _l("跳过（不导入）"), "update": _l("更新已有客户"), "import": _l("仍然导入（录入策略允许时）")}
OUTCOMES = ("imported", "updated", "skipped", "rejected")
CUSTOM_PREFIX = "cf:"


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    aliases: tuple[str, ...] = ()
    kind: str = "text"  # text, phone, digits, date, decimal, kind, gender, dict, custom
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
]

ENTITIES = {"customer": _l("客户（含首要联系人）"), "contact": _l("联系人")}
_BASE_COLUMNS = {"customer": CUSTOMER_COLUMNS, "contact": CONTACT_COLUMNS}
_KIND_WORDS = {"企业": CustomerKind.COMPANY, "公司": CustomerKind.COMPANY, "单位": CustomerKind.COMPANY,
               "company": CustomerKind.COMPANY, "个人": CustomerKind.PERSON, "person": CustomerKind.PERSON}
_GENDER_WORDS = {"男": "male", "male": "male", "m": "male", "先生": "male", "女": "female", "female": "female",
                 "f": "female", "女士": "female"}
_TRUE = {"是", "y", "yes", "true", "1", "√", "首要"}
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")
_HEADER_NOISE = re.compile(r"[\s*＊:：]|（必填）|\(必填\)")


def columns(session: Session, entity: str) -> list[Column]:
    """The importable columns of an entity, custom fields (by their label) included."""
    base = list(_BASE_COLUMNS[entity])
    for definition in custom_fields.definitions(session, entity):
        if definition.importable:
            base.append(Column(CUSTOM_PREFIX + definition.key, definition.label, (definition.label, definition.key),
                               "custom", definition.required, custom=definition))
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
    """Excel serials (45047), date cells, 2023-05-01, 2023/5/1 and 2023年5月1日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
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
    problems: list[str] = field(default_factory=list)


class Reader:
    """Turns rows into Parsed values for one entity; dictionaries and custom fields are read
    once. Problems found here (bad dates, unknown dictionary items, regions) reject the row."""

    def __init__(self, session: Session, entity: str, mapping: list[str]) -> None:
        self.entity = entity
        self.cols = {c.key: c for c in columns(session, entity)}
        self.mapping = mapping
        self.dicts: dict[str, dict[str, int]] = {}
        for item in session.scalars(select(DictItem).where(DictItem.active.is_(True))):
            self.dicts.setdefault(item.kind, {})[normalize.text(item.name).lower()] = item.id
        self.custom_defs = [c.custom for c in self.cols.values() if c.custom is not None]

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
                parsed.problems.append(f"{col.label}：{exc}")
        if self.entity == "customer":
            self._regions(parsed)
        return parsed

    def _put(self, parsed: Parsed, col: Column, value: Any) -> None:
        kind = col.kind
        if kind == "custom":
            if col.custom.field_type == "date" and not isinstance(value, str):
                value = parse_date(value).isoformat()
            parsed.custom[col.custom.key] = cell_text(value) if not isinstance(value, str) else value
            return
        if kind == "phone" or kind == "digits":
            text = digits_text(value)
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
            name = normalize.text(cell_text(value))
            item = self.dicts.get(col.dict_kind, {}).get(name.lower())
            if item is None:
                raise ValueError(str(_l("“%(v)s”不在数据字典中，请先在“数据字典”中添加", v=name)))
            parsed.values[col.key + "_id"] = item
            return
        else:
            text = normalize.text(cell_text(value))
        if col.key.startswith("contact_"):
            parsed.contact[col.key.removeprefix("contact_")] = text
        else:
            parsed.values[col.key] = text

    def _regions(self, parsed: Parsed) -> None:
        """北京 / 北京市 both mean 北京市; a missing province is read from the address."""
        values = parsed.values
        province, city, district = values.get("province"), values.get("city"), values.get("district")
        if province:
            full = regions.match_province(province)
            if full is None:
                parsed.problems.append(str(_l("省份“%(v)s”无法识别", v=province)))
                return
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
                full_city = regions.match_city(province, city)
                if full_city is None:
                    parsed.problems.append(str(_l("城市“%(v)s”不属于%(p)s", v=city, p=province)))
                    return
                city = full_city
                if district:
                    full_district = regions.match_district(province, city, district)
                    if full_district is None:
                        parsed.problems.append(str(_l("区县“%(v)s”不属于%(c)s", v=district, c=city)))
                        return
                    district = full_district
        values["province"], values["city"], values["district"] = province or None, city or None, district or None


# --- checking a batch against the rules -------------------------------------------------------

@dataclass
class Options:
    on_duplicate: str = "skip"
    owner_id: int | None = None  # None with to_pool → the pool
    to_pool: bool = False
    pool_id: int | None = None


@dataclass
class Outcome:
    row: Parsed
    result: str  # imported / updated / skipped / rejected
    reason: str = ""
    customer: Customer | None = None
    contact: Contact | None = None
    target_id: int | None = None  # the existing customer to update
    keys: set[tuple[str, str]] = field(default_factory=set)  # its duplicate-check keys


class BatchLookup:
    """Every duplicate key of a batch looked up in one query, then answered to the rules
    through their `lookup` hooks, remembering which customers each row matched."""

    def __init__(self, session: Session, keys: set[tuple[str, str]], *, now: datetime) -> None:
        self.found: dict[tuple[str, str], list[tuple[int, str, str | None]]] = {}
        self.protected: dict[tuple[str, str], list[tuple[str, int | None]]] = {}
        self.hits: list[tuple[str, int]] = []
        self.protected_hits: list[str] = []
        by_field: dict[str, list[str]] = {}
        for f, v in keys:
            by_field.setdefault(f, []).append(v)
        if not by_field:
            return
        where = or_(*(and_(CustomerKey.field == f, CustomerKey.value.in_(vs)) for f, vs in by_field.items()))
        stmt = (select(CustomerKey.field, CustomerKey.value, Customer.id, Customer.name, Customer.code,
                       Customer.protected_until, Customer.owner_id)
                .join(Customer, Customer.id == CustomerKey.customer_id)
                .where(where, Customer.deleted_at.is_(None)).order_by(Customer.id))
        for f, v, cid, name, code, protected_until, owner_id in session.execute(stmt):
            self.found.setdefault((f, v), []).append((cid, name, code))
            if protected_until is not None and protected_until > now:
                self.protected.setdefault((f, v), []).append((name, owner_id))

    def lookup(self, field_name: str, key: str) -> list[tuple[int, str, str | None]]:
        found = self.found.get((field_name, key), [])[:3]
        self.hits.extend((field_name, cid) for cid, _n, _c in found)
        return found

    def protected_lookup(self, field_name: str, key: str, owner_id: int | None) -> str | None:
        for name, owner in self.protected.get((field_name, key), []):
            if owner_id is None or owner != owner_id:
                self.protected_hits.append(field_name)
                return name
        return None


UPDATE_PRIORITY = ("code", "name", "mobile", "phone", "email", "qq", "fax", "website", "zip_code", "contact_name")


class CustomerImporter:
    """Checks and writes customer rows batch by batch for one job."""

    def __init__(self, session: Session, *, actor: Actor, options: Options, reader: Reader, now: datetime,
                 today: date) -> None:
        self.session, self.actor, self.options, self.reader = session, actor, options, reader
        self.now, self.today = now, today
        self.policy = entry.load_policy(session)
        self.protection_policy = protection.load_policy(session)
        self.checked = [f for f, action in self.policy["duplicates"].items() if action != entry.ALLOW]
        self.seen: dict[tuple[str, str], int] = {}  # in-file keys → the row that holds them
        self.pattern = settings.get(session, "customer_code_pattern")

    # keys the file compares on: those the policy checks, normalised as the rules do
    def _file_keys(self, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        return {(f, v) for f, v in keys if f in self.checked}

    def build(self, parsed: Parsed) -> tuple[Customer, Contact | None]:
        values = dict(parsed.values)
        values.setdefault("kind", CustomerKind.COMPANY.value)
        customer = Customer(**values)
        customer.custom = {}
        contact = None
        if parsed.contact.get("name") or parsed.contact.get("mobile"):
            contact = Contact(name=parsed.contact.get("name") or values.get("name"), is_primary=True,
                              position=parsed.contact.get("position"), mobile=parsed.contact.get("mobile"))
            contact.custom = {}
        customer.owner_id = None if self.options.to_pool else (self.options.owner_id or self.actor.user_id)
        return customer, contact

    def remember(self, parsed: Parsed) -> None:
        """A row committed by an earlier run of this job: its keys count for in-file duplicates."""
        if parsed.problems:
            return
        customer, contact = self.build(parsed)
        customer.name = normalize.text(customer.name)
        for key in self._file_keys(entry.keys_for(customer, [contact] if contact else [])):
            self.seen.setdefault(key, parsed.row_no)

    def check(self, rows: list[Parsed]) -> list[Outcome]:
        built = []
        all_keys: set[tuple[str, str]] = set()
        for parsed in rows:
            customer, contact = self.build(parsed)
            keys = entry.keys_for(customer, [contact] if contact else [])
            built.append((parsed, customer, contact, keys))
            all_keys |= keys
            all_keys |= set(protection.collision_keys(customer)) if customer.name else set()
        batch = BatchLookup(self.session, all_keys, now=self.now)
        outcomes = []
        for parsed, customer, contact, keys in built:
            outcome = self._check_one(parsed, customer, contact, batch, keys)
            outcome.keys = keys
            outcomes.append(outcome)
        return outcomes

    def _check_one(self, parsed: Parsed, customer: Customer, contact: Contact | None,
                   batch: BatchLookup, keys: set[tuple[str, str]]) -> Outcome:
        custom_clean, custom_errors = custom_fields.validate(self.reader.custom_defs, parsed.custom)
        customer.custom = custom_clean
        problems = list(parsed.problems) + list(custom_errors.values())
        batch.hits, batch.protected_hits = [], []
        try:
            issues = customers.entry_issues(self.session, customer, [contact] if contact else [], now=self.now,
                                            policy=self.policy, lookup=batch.lookup,
                                            protected=batch.protected_lookup,
                                            protection_policy=self.protection_policy)
        except RuleViolation as exc:
            problems.append(str(exc))
            issues = []
        dup_fields = {f for f, _cid in batch.hits} | set(batch.protected_hits)
        if "code" in dup_fields and self.options.on_duplicate != "update":  # codes are unique, whatever the policy
            problems.append(str(_l("客户编号“%(c)s”已被其他客户使用", c=customer.code)))
        duplicates = [i for i in issues if i.field in dup_fields]
        problems += [i.message for i in issues if i.is_error and i.field not in dup_fields]
        if problems:
            return Outcome(parsed, "rejected", "；".join(problems))
        file_keys = self._file_keys(keys)
        earlier = sorted({self.seen[k] for k in file_keys if k in self.seen})
        if earlier:
            return Outcome(parsed, "skipped", str(_l("与文件第 %(n)s 行重复", n="、".join(str(n) for n in earlier))))
        warnings = [i for i in issues if not i.is_error]
        if duplicates or warnings:
            reason = "；".join(i.message for i in issues)
            option = self.options.on_duplicate
            if option == "update":
                target = self._target(batch.hits)
                if target is None:
                    return Outcome(parsed, "rejected", reason + "；" + str(_l("已有客户不在您的权限范围内，无法更新")))
                for key in file_keys:
                    self.seen.setdefault(key, parsed.row_no)
                return Outcome(parsed, "updated", reason, customer, contact, target_id=target)
            if option == "import" and not any(i.is_error for i in issues):
                for key in file_keys:
                    self.seen.setdefault(key, parsed.row_no)
                return Outcome(parsed, "imported", "", customer, contact)
            if option == "import":
                return Outcome(parsed, "rejected", reason)
            return Outcome(parsed, "skipped", reason)
        for key in file_keys:
            self.seen.setdefault(key, parsed.row_no)
        return Outcome(parsed, "imported", "", customer, contact)

    def _target(self, hits: list[tuple[str, int]]) -> int | None:
        """The existing customer a duplicate row updates: matched by code first, then name,
        then phones; only one the actor may change."""
        if not hits:
            return None
        order = {f: i for i, f in enumerate(UPDATE_PRIORITY)}
        candidates = [cid for _f, cid in sorted(hits, key=lambda h: order.get(h[0], 99))]
        editable = set(self.session.scalars(select(Customer.id).where(
            scope.customer_edit_clause(self.actor), Customer.id.in_(candidates))))
        return next((cid for cid in candidates if cid in editable), None)

    # --- writing --------------------------------------------------------------------------------
    def write(self, outcomes: list[Outcome]) -> None:
        new = [o for o in outcomes if o.result == "imported"]
        if new:
            self._insert(new)
        for outcome in outcomes:
            if outcome.result == "updated":
                self._update(outcome)

    def _insert(self, outcomes: list[Outcome]) -> None:
        session, options = self.session, self.options
        owner_id = None if options.to_pool else (options.owner_id or self.actor.user_id)
        department_id = None
        if owner_id is not None:
            from models.org import User

            department_id = session.scalar(select(User.department_id).where(User.id == owner_id))
        need_codes = [o for o in outcomes if not o.customer.code]
        codes = numbering.reserve(session, customers.CODE_SEQUENCE, self.pattern, today=self.today,
                                  count=len(need_codes))
        for outcome, code in zip(need_codes, codes):
            outcome.customer.code = code
        columns = ("kind", "name", "code", "mnemonic", "gender", "birthday", "legal_representative",
                   "registered_capital", "category_id", "source_id", "industry_id", "value_level_id", "stage_id",
                   "credit_rating_id", "province", "city", "district", "address", "zip_code", "phone", "mobile", "fax",
                   "email", "qq", "wechat", "website", "notes", "custom")
        rows = []
        for outcome in outcomes:
            c = outcome.customer
            row = {col: getattr(c, col) for col in columns}
            row["kind"] = str(row["kind"] or CustomerKind.COMPANY.value)
            row.update(owner_id=owner_id, department_id=department_id, created_at=self.now, updated_at=self.now,
                       has_deal=False, claimed_at=self.now if owner_id else None)
            if owner_id is None:
                row.update(pool_id=options.pool_id, pool_reason="imported", pool_entered_at=self.now)
            rows.append(row)
        # One executemany; the new ids are found again by their (unique) codes, which works the
        # same on SQLite and PostgreSQL and keeps the insert batched.
        connection = session.connection()
        connection.execute(Customer.__table__.insert(), rows)
        by_code = dict(connection.execute(select(Customer.code, Customer.id).where(
            Customer.code.in_([r["code"] for r in rows]))).all())
        ids = [by_code[r["code"]] for r in rows]
        contact_rows, key_rows, search_rows, events = [], [], [], []
        for outcome, cid in zip(outcomes, ids):
            customer, contact = outcome.customer, outcome.contact
            customer.id = cid
            contacts = []
            if contact is not None:
                contact.customer_id = cid
                contact_rows.append({"customer_id": cid, "name": normalize.text(contact.name), "is_primary": True,
                                     "position": contact.position, "mobile": normalize.text(contact.mobile) or None,
                                     "custom": {}, "created_at": self.now, "updated_at": self.now})
                contacts = [contact]
            keys = set(outcome.keys)
            if customer.code:
                keys.add(("code", normalize.key("code", customer.code)[:128]))
            key_rows += [{"customer_id": cid, "field": f, "value": v} for f, v in sorted(keys)]
            search_rows.append(search.row_for(customer, contacts))
            events.append({"customer_id": cid, "from_user_id": None, "to_user_id": owner_id,
                           "actor_id": self.actor.user_id, "reason": "import", "at": self.now})
        for table, payload in ((Contact, contact_rows), (CustomerKey, key_rows), (CustomerSearch, search_rows),
                               (OwnershipEvent, events)):
            if payload:
                session.connection().execute(table.__table__.insert(), payload)

    def _update(self, outcome: Outcome) -> None:
        """Fill the existing customer with the row's non-empty values; add the contact if new."""
        session = self.session
        target = session.get(Customer, outcome.target_id)
        source = outcome.customer
        for name in ("kind", "code", "gender", "birthday", "legal_representative", "registered_capital", "category_id",
                     "source_id", "industry_id", "value_level_id", "stage_id", "credit_rating_id", "province", "city",
                     "district", "address", "zip_code", "phone", "mobile", "fax", "email", "qq", "wechat", "website",
                     "notes"):
            value = getattr(source, name)
            if name in outcome.row.values and value not in (None, ""):
                setattr(target, name, value)
        if source.custom:
            target.custom = {**(target.custom or {}), **source.custom}
        contact = outcome.contact
        if contact is not None:
            names = {normalize.text(c.name) for c in target.contacts}
            if normalize.text(contact.name) not in names:
                has_primary = any(c.is_primary for c in target.contacts)
                session.add(Contact(customer_id=target.id, name=normalize.text(contact.name),
                                    is_primary=not has_primary, position=contact.position,
                                    mobile=normalize.text(contact.mobile) or None, custom={}))
        session.flush()
        session.expire(target, ["contacts"])
        customers.reindex(session, target)


class ContactImporter:
    """Contacts of existing customers: the customer is found by its number or name among those
    the actor may add contacts to; a contact of the same name on that customer is a duplicate."""

    def __init__(self, session: Session, *, actor: Actor, options: Options, reader: Reader, now: datetime) -> None:
        self.session, self.actor, self.options, self.reader, self.now = session, actor, options, reader, now
        self.policy = entry.load_policy(session)
        self.seen: dict[tuple[int, str], int] = {}

    def _customers(self, refs: set[str]) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        if not refs:
            return found
        stmt = select(Customer.id, Customer.code, Customer.name).where(
            scope.customer_contribute_clause(self.actor), or_(Customer.code.in_(refs), Customer.name.in_(refs)))
        for cid, code, name in self.session.execute(stmt):
            for ref in {code, name} & refs:
                found.setdefault(ref, []).append(cid)
        return found

    def remember(self, parsed: Parsed) -> None:
        """Rows of an earlier run are in the database already: duplicates find them there."""

    def check(self, rows: list[Parsed]) -> list[Outcome]:
        refs = {normalize.text(p.values.get("customer")) for p in rows if p.values.get("customer")}
        by_ref = self._customers(refs)
        ids = {cid for v in by_ref.values() for cid in v}
        existing: dict[tuple[int, str], int] = {}
        if ids:
            for cid, contact_id, name in self.session.execute(
                    select(Contact.customer_id, Contact.id, Contact.name).where(Contact.customer_id.in_(ids))):
                existing.setdefault((cid, normalize.text(name).lower()), contact_id)
        return [self._check_one(p, by_ref, existing) for p in rows]

    def _check_one(self, parsed: Parsed, by_ref: dict[str, list[int]], existing: dict) -> Outcome:
        values = parsed.values
        problems = list(parsed.problems)
        ref = normalize.text(values.get("customer"))
        matches = sorted(set(by_ref.get(ref, []))) if ref else []
        if not ref:
            problems.append(str(_l("请填写所属客户（客户名称或编号）")))
        elif not matches:
            problems.append(str(_l("找不到客户“%(c)s”（或不在您的权限范围内）", c=ref)))
        elif len(matches) > 1:
            problems.append(str(_l("有多个名为“%(c)s”的客户，请改填客户编号", c=ref)))
        name = normalize.text(values.get("name"))
        if not name:
            problems.append(str(_l("请填写姓名")))
        if self.policy["check_formats"]:
            for f in ("mobile", "phone", "email", "qq"):
                if values.get(f):
                    problem = entry.format_problem(f, values[f])
                    if problem:
                        problems.append(problem)
        custom_clean, custom_errors = custom_fields.validate(self.reader.custom_defs, parsed.custom)
        problems += list(custom_errors.values())
        if problems:
            return Outcome(parsed, "rejected", "；".join(problems))
        customer_id = matches[0]
        contact = Contact(customer_id=customer_id, name=name, is_primary=bool(values.get("is_primary")),
                          **{k: values.get(k) for k in ("gender", "position", "mobile", "phone", "email", "qq",
                                                        "wechat", "birthday", "notes")})
        contact.custom = custom_clean
        key = (customer_id, name.lower())
        if key in self.seen:
            return Outcome(parsed, "skipped", str(_l("与文件第 %(n)s 行重复", n=self.seen[key])))
        self.seen[key] = parsed.row_no
        if key in existing:
            reason = str(_l("客户已有名为“%(n)s”的联系人", n=name))
            if self.options.on_duplicate == "update":
                return Outcome(parsed, "updated", reason, contact=contact, target_id=existing[key])
            if self.options.on_duplicate == "skip":
                return Outcome(parsed, "skipped", reason)
        return Outcome(parsed, "imported", "", contact=contact)

    def write(self, outcomes: list[Outcome]) -> None:
        touched: set[int] = set()
        for outcome in outcomes:
            contact = outcome.contact
            if outcome.result == "imported":
                wants_primary = contact.is_primary
                contact.is_primary = False
                self.session.add(contact)
                self.session.flush()
                has_primary = self.session.scalar(select(Contact.id).where(
                    Contact.customer_id == contact.customer_id, Contact.is_primary.is_(True)).limit(1))
                if wants_primary or has_primary is None:
                    customers.set_primary(self.session, contact)
                touched.add(contact.customer_id)
            elif outcome.result == "updated":
                target = self.session.get(Contact, outcome.target_id)
                for name in ("gender", "position", "mobile", "phone", "email", "qq", "wechat", "birthday", "notes"):
                    if name in outcome.row.values and getattr(contact, name) not in (None, ""):
                        setattr(target, name, getattr(contact, name))
                if contact.custom:
                    target.custom = {**(target.custom or {}), **contact.custom}
                if contact.is_primary:
                    customers.set_primary(self.session, target)
                touched.add(target.customer_id)
        self.session.flush()
        for customer_id in sorted(touched):
            customers.reindex(self.session, self.session.get(Customer, customer_id))


# --- the job's record -------------------------------------------------------------------------

def record_batch(session: Session, job: JobRecord, *, start: int, end: int, outcomes: list[Outcome]) -> bool:
    """Move the job's mark from `start` to `end` (a conditional UPDATE: a second runner of the
    same job finds the mark moved and stops) with the batch's counts and row issues."""
    counts = {k: sum(1 for o in outcomes if o.result == k) for k in OUTCOMES}
    moved = session.execute(
        update(JobRecord).where(JobRecord.id == job.id, JobRecord.done == start)
        .values(done=end, imported=JobRecord.imported + counts["imported"],
                updated=JobRecord.updated + counts["updated"], skipped=JobRecord.skipped + counts["skipped"],
                rejected=JobRecord.rejected + counts["rejected"], heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        return False
    issues = [{"job_id": job.id, "row_no": o.row.row_no, "outcome": o.result, "values": o.row.raw,
               "reason": o.reason} for o in outcomes if o.result in ("skipped", "rejected")]
    if issues:
        session.execute(insert(JobRowIssue), issues)
    return True


def issue_rows(session: Session, job_id: int) -> set[int]:
    return set(session.scalars(select(JobRowIssue.row_no).where(JobRowIssue.job_id == job_id)))


def data_rows(rows: list[list[Any]], header_index: int) -> list[tuple[int, list[Any]]]:
    """(sheet row number, values) of the rows under the header; blank rows are left out."""
    out = []
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        if any(v not in ("", None) for v in row):
            out.append((index + 1, row))
    return out


def preview(session: Session, entity: str, rows: Iterable[tuple[int, list[Any]]], mapping: list[str], *,
            actor: Actor, options: Options, now: datetime, today: date) -> list[Outcome]:
    """What the first rows would become, checked exactly as the import will check them."""
    reader = Reader(session, entity, mapping)
    parsed = [reader.read(n, r) for n, r in rows]
    if entity == "customer":
        importer = CustomerImporter(session, actor=actor, options=options, reader=reader, now=now, today=today)
        with session.no_autoflush:
            return importer.check(parsed)
    with session.no_autoflush:
        return ContactImporter(session, actor=actor, options=options, reader=reader, now=now).check(parsed)


def required_keys(session: Session, entity: str) -> set[str]:
    """Columns a file must fill: the entity's own, custom fields marked required, and (for
    customers) the fields the entry policy makes required."""
    policy = entry.load_policy(session) if entity == "customer" else {"required": []}
    return {c.key for c in columns(session, entity) if c.required or c.key in policy["required"]}


def missing_required(entity: str, mapping: list[str], session: Session) -> list[str]:
    """Labels of required columns the mapping leaves out (custom fields are checked per row)."""
    chosen = set(mapping)
    needed = required_keys(session, entity)
    return [str(c.label) for c in columns(session, entity)
            if c.key in needed and c.key not in chosen and c.kind != "custom"]
