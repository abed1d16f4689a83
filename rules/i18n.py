"""Texts the system writes into the database are kept in the default language (the catalogue's
messages are the Chinese texts) and translated for whoever reads them, whatever the language of
the person or job that wrote them."""
from __future__ import annotations

from typing import Any

from flask_babel import LazyString, gettext


def parts(message: str | LazyString) -> tuple[str, str | None, dict[str, Any] | None]:
    """A lazy message (_l("%(n)d 位客户…", n=3)) as (its text in the default language, the
    message, its values); plain text as (text, None, None)."""
    if isinstance(message, LazyString) and message._args and isinstance(message._args[0], str):
        key, params = message._args[0], dict(message._kwargs)
        return (key % params if params else key), key, params
    return str(message), None, None


def source_text(message: str | LazyString) -> str:
    """What to store: the message in the default language, not rendered for the current user."""
    return parts(message)[0]


def shown(text: str | None) -> str:
    """A stored text in the reader's language when it is one of the catalogue's messages (a
    fixed reason such as 已达发送速率上限，稍后自动发送); anything else as stored."""
    return gettext(text) if text else ""
