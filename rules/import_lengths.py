"""Text longer than its column refuses the row with the field's name, as the form's length check
does: PostgreSQL would otherwise fail the whole batch on one 220-character name, and SQLite
would keep what the form never lets in."""
from __future__ import annotations

from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import String
from sqlalchemy import inspect as sa_inspect

from models.customer import Contact, Customer


@cache
def _limits(model: type) -> dict[str, int]:
    return {c.key: c.type.length for c in sa_inspect(model).columns
            if isinstance(c.type, String) and c.type.length}


def problems(values: dict[str, Any], *, contact: dict[str, Any], labels: dict[str, Any]) -> list[str]:
    """One message per field too long for its column; `labels` maps import keys to labels."""
    found = []
    for source, model, prefix in ((values, Customer, ""), (contact, Contact, "contact_")):
        limits = _limits(model)
        for key, value in source.items():
            limit = limits.get(key)
            if limit and isinstance(value, str) and len(value) > limit:
                label = labels.get(prefix + key, key)
                found.append(str(_l("%(f)s不能超过 %(n)d 个字", f=label, n=limit)))
    return found
