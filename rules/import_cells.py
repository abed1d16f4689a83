"""A bad optional cell never loses its row. What the entry policy makes fatal (a missing
required field, a forbidden duplicate, a name longer than the form allows, or, when the user
chose strict reading, any invalid value) rejects the row; any other bad cell is left empty and
reported as a warning with its original value and the reason.

Lengths are the model's column lengths: the same numbers Flask-Admin gives the form's
Length validators, so a 220-character name is refused here as the form refuses it.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import String

from models.customer import Contact, Customer
from models.system import CustomField
from rules import entry, normalize
from rules.importing import CUSTOMER_COLUMNS, cell_warning

_LABELS = {c.key: c.label for c in CUSTOMER_COLUMNS}
# Fields the policy's format check covers (rules/entry.format_problem).
FORMAT_FIELDS = ("mobile", "phone", "fax", "email", "zip_code", "qq")
ALWAYS_FATAL = frozenset({"name", "contact_name"})  # records are found by name: never cut or emptied


def max_length(model: type, name: str) -> int | None:
    column = model.__table__.c.get(name)
    if column is not None and isinstance(column.type, String) and column.type.length:
        return int(column.type.length)
    return None


def screen(customer: Any, contact: Any, *, policy: dict[str, Any], strict: bool) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a row's customer and primary contact before the entry policy
    checks them: over-long and malformed optional values are cleared (warnings); the same in a
    required field, or when reading strictly, are problems."""
    problems: list[str] = []
    warnings: list[str] = []
    fatal = set(policy["required"]) | ALWAYS_FATAL

    def refuse(label: Any, value: Any, reason: str, key: str, target: Any, attr: str) -> None:
        if strict or key in fatal:
            problems.append(f"{label}：{reason}")
        else:
            warnings.append(cell_warning(label, value, reason))
            setattr(target, attr, None)

    targets = [(customer, Customer, "")] + ([(contact, Contact, "contact_")] if contact is not None else [])
    for target, model, prefix in targets:
        for attr, value in list(vars(target).items()):
            if not isinstance(value, str):
                continue
            limit = max_length(model, attr)
            if limit is not None and len(normalize.text(value)) > limit:
                key = prefix + attr
                reason = str(_l("不能超过 %(n)d 个字", n=limit))
                refuse(_LABELS.get(key, _LABELS.get(attr, attr)), value, reason, key, target, attr)
    if policy["check_formats"]:
        for target, prefix in ((t, p) for t, _m, p in targets):
            for attr in FORMAT_FIELDS:
                value = getattr(target, attr, None)
                if not normalize.text(value):
                    continue
                reason = entry.format_problem(attr, value)
                if reason:
                    key = prefix + attr
                    # the policy's required fields are checked (and reported) by the policy itself
                    if not strict and attr not in policy["required"]:
                        refuse(_LABELS.get(key, _LABELS.get(attr, attr)), value, reason, key, target, attr)
    return problems, warnings


def split_custom(definitions: list[CustomField], raw: dict[str, Any], errors: dict[str, str], *,
                 strict: bool) -> tuple[list[str], list[str]]:
    """Custom-field errors: fatal for a required field (or strict reading), else warnings."""
    by_key = {d.key: d for d in definitions}
    problems, warnings = [], []
    for key, message in errors.items():
        definition = by_key.get(key)
        if strict or definition is None or definition.required or raw.get(key) in (None, ""):
            problems.append(message)
        else:
            warnings.append(cell_warning(definition.label, raw[key], message.split("：", 1)[-1]))
    return problems, warnings
