"""How values are compared: trimmed, full-width folded to half-width, phones as digits."""
from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

PHONE_FIELDS = frozenset({"phone", "mobile", "fax"})
_SPACES = re.compile(r"\s+")
_NON_DIGITS = re.compile(r"\D")


def text(value: object) -> str:
    """NFKC folds full-width letters, digits and punctuation (ＡＢＣ１２３，) to half-width."""
    if value is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(value))
    return _SPACES.sub(" ", folded).strip()


def phone(value: object) -> str:
    digits = _NON_DIGITS.sub("", text(value))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 11:
            return digits[len(prefix):]
    return digits


def key(field: str, value: object) -> str:
    """The value as duplicate checks compare it."""
    if field in PHONE_FIELDS:
        return phone(value)
    return text(value).lower()


def mnemonic(name: str | None) -> str:
    """助记码: the pinyin initials of a name (华为技术 → hwjs); letters and digits kept."""
    initials = lazy_pinyin(text(name), style=Style.FIRST_LETTER, errors=lambda chars: list(chars))
    return "".join(ch for ch in "".join(initials).lower() if ch.isalnum())[:64]
