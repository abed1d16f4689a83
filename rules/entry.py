"""录入策略: what a new or changed customer must satisfy. The same check serves the form, the
importer and the API: it returns every issue at once (errors and warnings) and decides nothing
about how to show them."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.customer import Customer, CustomerKey
from rules import normalize, phones, settings
from rules.errors import InvalidPhone

# Fields the policy covers, with their labels. contact_name/contact_* come from contacts.
FIELDS: dict[str, Any] = {
    "name": _l("客户名称"), "code": _l("客户编号"), "contact_name": _l("联系人"), "phone": _l("电话"),
    "fax": _l("传真"), "mobile": _l("手机"), "qq": _l("QQ"), "email": _l("邮箱"), "zip_code": _l("邮编"),
    "website": _l("网址"),
}
ALLOW, WARN, FORBID = "allow", "warn", "forbid"
DEFAULT_POLICY: dict[str, Any] = {
    "duplicates": {"name": WARN, "code": FORBID, "contact_name": ALLOW, "phone": WARN, "fax": ALLOW,
                   "mobile": WARN, "qq": ALLOW, "email": ALLOW, "zip_code": ALLOW, "website": ALLOW},
    "required": ["name"],
    "check_formats": True,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_ZIP = re.compile(r"^\d{6}$")
_QQ = re.compile(r"^[1-9]\d{4,11}$")


@dataclass(frozen=True)
class EntryIssue:
    field: str
    level: str  # "error" refuses the save; "warning" needs the user's confirmation
    message: str

    @property
    def is_error(self) -> bool:
        return self.level == "error"


def load_policy(session: Session) -> dict[str, Any]:
    stored = settings.get(session, "entry_policy") or {}
    policy = {"duplicates": dict(DEFAULT_POLICY["duplicates"]), "required": list(DEFAULT_POLICY["required"]),
              "check_formats": DEFAULT_POLICY["check_formats"]}
    policy["duplicates"].update(stored.get("duplicates", {}))
    if "required" in stored:
        policy["required"] = sorted(set(stored["required"]) | {"name"})
    if "check_formats" in stored:
        policy["check_formats"] = bool(stored["check_formats"])
    return policy


def format_problem(field: str, value: str) -> str | None:
    """A message if `value` is not a well-formed `field`, else None. Phones are read by
    rules/phones.py, the one reading the form, the importer and the API share."""
    if field == "mobile":
        try:
            number = phones.parse(value)
        except InvalidPhone as exc:
            return str(_l("手机号码格式不正确：%(m)s", m=str(exc)))
        if number.kind is not phones.PhoneKind.MOBILE:
            return str(_l("手机号码格式不正确：“%(v)s”是固定电话或其他号码，请填在“电话”中", v=normalize.text(value)))
    elif field in ("phone", "fax"):
        problem = phones.problem(value)
        if problem:
            return str(_l("%(f)s格式不正确：%(m)s", f=FIELDS[field], m=problem))
    elif field == "email" and not _EMAIL.match(normalize.text(value)):
        return str(_l("邮箱格式不正确"))
    elif field == "zip_code" and not _ZIP.match(normalize.text(value)):
        return str(_l("邮编应为 6 位数字"))
    elif field == "qq" and not _QQ.match(normalize.text(value)):
        return str(_l("QQ 号码应为 5 到 12 位数字"))
    return None


Lookup = Callable[[str, str], list[tuple[int, str, str | None]]]


def database_lookup(session: Session, *, exclude_id: int | None = None) -> Lookup:
    """Existing live customers holding a normalised value in a field: (id, name, code)."""

    def lookup(field: str, key: str) -> list[tuple[int, str, str | None]]:
        stmt = (select(Customer.id, Customer.name, Customer.code)
                .join(CustomerKey, CustomerKey.customer_id == Customer.id)
                .where(CustomerKey.field == field, CustomerKey.value == key, Customer.deleted_at.is_(None))
                .limit(3))
        if exclude_id is not None:
            stmt = stmt.where(Customer.id != exclude_id)
        return [tuple(row) for row in session.execute(stmt)]

    return lookup


# What a duplicate check compares against: customers (the customer form), or leads (a lead is
# checked against both, rules/lead_duplicates.py).
AGAINST_CUSTOMERS, AGAINST_LEADS = "customer", "lead"


def check(values: dict[str, Any], policy: dict[str, Any], *, lookup: Lookup,
          against: str = AGAINST_CUSTOMERS) -> list[EntryIssue]:
    """`values` maps a policy field to one value or a list (contact names, several mobiles);
    `lookup` finds existing records of the kind `against` names."""
    issues: list[EntryIssue] = []
    for field in policy["required"]:
        if not any(normalize.text(v) for v in _as_list(values.get(field))):
            issues.append(EntryIssue(field, "error", str(_l("请填写%(f)s", f=FIELDS.get(field, field)))))
    for field, raw in values.items():
        for value in _as_list(raw):
            if not normalize.text(value):
                continue
            if policy["check_formats"]:
                problem = format_problem(field, value)
                if problem:
                    issues.append(EntryIssue(field, "error", problem))
                    continue
            action = policy["duplicates"].get(field, ALLOW)
            if action == ALLOW:
                continue
            found = lookup(field, normalize.key(field, value))
            if found:
                issues.append(_duplicate_issue(field, value, found, action, against))
    return issues


def _duplicate_issue(field: str, value: str, found: list[tuple[int, str, str | None]], action: str,
                     against: str = AGAINST_CUSTOMERS) -> EntryIssue:
    # Name the existing customer (and its code) so the user can find it; never its owner.
    existing = "、".join(f"「{name}」" + (f"（{code}）" if code else "") for _id, name, code in found)
    label = FIELDS.get(field, field)
    if against == AGAINST_LEADS:
        if action == FORBID:
            return EntryIssue(field, "error", str(_l("%(f)s“%(v)s”与已有线索%(c)s重复，不允许重复录入",
                                                     f=label, v=normalize.text(value), c=existing)))
        return EntryIssue(field, "warning", str(_l("%(f)s“%(v)s”与已有线索%(c)s重复", f=label,
                                                   v=normalize.text(value), c=existing)))
    if action == FORBID:
        return EntryIssue(field, "error", str(_l("%(f)s“%(v)s”与已有客户%(c)s重复，不允许重复录入",
                                                 f=label, v=normalize.text(value), c=existing)))
    return EntryIssue(field, "warning", str(_l("%(f)s“%(v)s”与已有客户%(c)s重复", f=label,
                                               v=normalize.text(value), c=existing)))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return [value]


# Keys written whatever the entry policy says: customer numbers are unique (the importer finds
# a reused one by its key) and 撞单 (rules/protection.py) compares names and phones.
ALWAYS_KEYED = frozenset({"code", "name", "phone", "mobile"})
PENDING_POLICY = "entry_policy_pending"  # a policy waiting for the keys of fields it adds


def checked_fields(policy: dict[str, Any]) -> frozenset[str]:
    return frozenset(f for f, action in policy["duplicates"].items() if action != ALLOW)


def keyed_fields(session: Session) -> frozenset[str]:
    """The fields whose duplicate-check keys are written: those the policy checks, those of a
    policy waiting for its keys (rules/duplicate_keys.py), and ALWAYS_KEYED."""
    fields = ALWAYS_KEYED | checked_fields(load_policy(session))
    pending = settings.get(session, PENDING_POLICY)
    if pending:
        fields |= frozenset(pending["build"])
    return fields


def keys_for(customer: Customer, contacts: Iterable[Any],
             fields: Iterable[str] | None = None) -> set[tuple[str, str]]:
    """The (field, normalised value) pairs a customer is found by in duplicate checks, for
    `fields` (every field when None)."""
    wanted = frozenset(FIELDS) if fields is None else frozenset(fields)
    keys: set[tuple[str, str]] = set()
    for field in ("name", "code", "phone", "fax", "mobile", "qq", "email", "zip_code", "website"):
        value = getattr(customer, field, None)
        if field in wanted and normalize.text(value):
            keys.add((field, normalize.key(field, value)[:128]))
    for contact in contacts:
        if "contact_name" in wanted and normalize.text(contact.name):
            keys.add(("contact_name", normalize.key("contact_name", contact.name)[:128]))
        for field in ("phone", "mobile", "email", "qq"):
            value = getattr(contact, field, None)
            if field in wanted and normalize.text(value):
                keys.add((field, normalize.key(field, value)[:128]))
    return keys
