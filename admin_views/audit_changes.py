"""操作日志's 变更内容 in the reader's words: field labels instead of column names, and the
names of the records an id points to (业务员: 陈晓明 → 李强). The stored row keeps its raw values."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import g
from flask_babel import gettext
from markupsafe import Markup, escape

from models import db
from models.system import AuditLog
from rules import audit_names


def field_labels(views: Iterable[Any], model: type | None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The column labels the panel gives a model's fields, and the labels of stored codes
    (kind company → 企业) its lists show through choice_label; the first list view's win."""
    labels: dict[str, Any] = {}
    choices: dict[str, dict[str, Any]] = {}
    for view in views:
        if model is not None and getattr(view, "model", None) is model:
            for key, label in (getattr(view, "column_labels", None) or {}).items():
                labels.setdefault(key, label)
            for key, formatter in (getattr(view, "column_formatters", None) or {}).items():
                if isinstance(getattr(formatter, "choices", None), dict):
                    choices.setdefault(key, formatter.choices)
    return labels, choices


def field_label(labels: dict[str, Any], key: str) -> str:
    if key in labels:
        return str(labels[key])
    if key.endswith("_id") and key[:-3] in labels:  # owner_id is shown as 业务员 (owner)
        return str(labels[key[:-3]])
    return key


def shown(value: Any, target: type | None, names: dict[tuple[type, int], str],
          choices: dict[str, Any] | None = None) -> str:
    if value is None:
        return "—"
    if choices and str(value) in choices:
        return str(choices[str(value)])
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if target is not None and isinstance(value, int):
        return names.get((target, value)) or gettext("已删除（编号 %(id)s）", id=value)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def remember_names(rows: list[AuditLog]) -> None:
    """Look up, once for the page, every record the rows' changes point to."""
    g.kechi_audit_names = audit_names.names(db.session, rows)


def changes_in_words(view: Any, context: Any, model: AuditLog, name: str) -> Markup:
    changes = model.changes or {}
    if not changes:
        return Markup("")
    names = g.get("kechi_audit_names")
    if names is None:  # the details page shows one row and has no list to look up first
        names = audit_names.names(db.session, [model])
    entity = audit_names.model_named(model.entity)
    labels, choices = view.labels_for(entity)
    rows = []
    for key, pair in changes.items():
        label = escape(field_label(labels, key))
        target = audit_names.referenced(entity, key)
        if isinstance(pair, list) and len(pair) == 2:
            before, after = (escape(shown(v, target, names, choices.get(key))) for v in pair)
            rows.append(f"<tr><th class='pr-2'>{label}</th><td class='text-muted'>{before}</td>"
                        f"<td>→</td><td>{after}</td></tr>")
        else:
            rows.append(f"<tr><th class='pr-2'>{label}</th><td colspan='3'>{escape(shown(pair, None, names))}</td></tr>")
    # Markup is safe here: each row above escape()s the label and both values.
    return Markup("<table class='table table-sm table-borderless mb-0 small'>" + "".join(rows) + "</table>")
