"""How values are compared: trimmed, full-width folded to half-width, phones in canonical form."""
from __future__ import annotations

import re
import unicodedata
from itertools import chain

import pypinyin.core as _pinyin_core
from pypinyin import Style
from pypinyin.constants import RE_HANS

from rules.surnames import FAMILY_SHOP_MARKS, SURNAME_INITIALS

PHONE_FIELDS = frozenset({"phone", "mobile", "fax"})
_SPACES = re.compile(r"\s+")


# The rules tidy the same strings many times over (a 100,000-row import calls this millions of
# times); results for short plain strings are remembered. Bounded: cleared when full.
_TEXT: dict[str, str] = {}
_TEXT_CACHE_SIZE = 100_000


def text(value: object) -> str:
    """NFKC folds full-width letters, digits and punctuation (ＡＢＣ１２３，) to half-width."""
    if value is None:
        return ""
    if type(value) is str:
        cached = _TEXT.get(value)
        if cached is not None:
            return cached
        tidy = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
        if len(value) <= 256:
            if len(_TEXT) >= _TEXT_CACHE_SIZE:
                _TEXT.clear()
            _TEXT[value] = tidy
        return tidy
    folded = unicodedata.normalize("NFKC", str(value))
    return _SPACES.sub(" ", folded).strip()


def one_line(value: object) -> str:
    """Text shown to people as typed (an email subject keeps its full-width ：), on one line."""
    return _SPACES.sub(" ", "" if value is None else str(value)).strip()


def phone(value: object) -> str:
    """A number's digits as search and SMS sending compare them (rules/phones.py reads it)."""
    from rules import phones  # phones tidies text with this module

    return phones.digits(value)


def key(field: str, value: object) -> str:
    """The value as duplicate checks compare it: a phone in its canonical form, so 0317-71490681,
    0317 7149 0681 and +86 317 7149 0681 are one key."""
    if field in PHONE_FIELDS:
        from rules import phones

        return phones.key(value)
    return text(value).lower()


def _as_chars(chars: str) -> list[str]:
    return list(chars)


# pypinyin converts a name segment by segment (its own phrase segmentation), and a segment's
# initials depend on the segment alone, so those of Chinese segments are cached (an import
# makes 100,000 mnemonics from a few thousand distinct words). Bounded: cleared when full.
_SEGMENT_INITIALS: dict[str, list[str]] = {}
_SEGMENT_CACHE_SIZE = 200_000


def _segment_initials(words: str) -> list[str]:
    cached = _SEGMENT_INITIALS.get(words)
    if cached is None:
        converted = _pinyin_core._default_convert.convert(words, Style.FIRST_LETTER, False, _as_chars, strict=True)
        cached = list(chain(*converted))
        if RE_HANS.match(words):
            if len(_SEGMENT_INITIALS) >= _SEGMENT_CACHE_SIZE:
                _SEGMENT_INITIALS.clear()
            _SEGMENT_INITIALS[words] = cached
    return cached


def _initials(name: str) -> str:
    return "".join(chain.from_iterable(_segment_initials(words) for words in _pinyin_core._default_pinyin.seg(name)))


def _surname(name: str, *, person: bool) -> str:
    """The polyphone surname a name starts with, or "". A person's name always starts with its
    surname. A company's does only when a family shop says so (曾记粥铺, 查氏餐饮, 单家小馆):
    brands read their first character as a word (乐视 is lè, 区块链 is qū, 句容 is jù)."""
    for length in (2, 1):
        head = name[:length]
        if len(head) == length and head in SURNAME_INITIALS:
            if person or name[length:length + 1] in FAMILY_SHOP_MARKS:
                return head
            return ""
    return ""


def mnemonic(name: str | None, *, person: bool = False) -> str:
    """助记码: the pinyin initials of a name (华为技术 → hwjs); letters and digits kept.
    The same as lazy_pinyin(name, style=Style.FIRST_LETTER, errors=list), phrases included
    (重庆 → cq, 银行 → yh), with the conversion of each segment cached — except that a
    surname is read as a surname (曾广银 → zgy, 单雄信 → sxx): pypinyin has no surname mode,
    so the polyphone surnames are listed in rules/surnames.py."""
    name = text(name)
    surname = _surname(name, person=person)
    initials = SURNAME_INITIALS[surname] + _initials(name[len(surname):]) if surname else _initials(name)
    return "".join(ch for ch in initials.lower() if ch.isalnum())[:64]
