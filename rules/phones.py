"""Phone numbers as Chinese firms write them, read once for the form, the importer and the API.

`parse` turns what was typed (or read from a sheet: 13812345678.0, ＋８６ 138…, 0317 7149 0681
转 8001) into a kind and one canonical text, or refuses with the reason. The canonical text is
what is stored, what duplicate checks compare and what SMS sending uses, so one number typed
three ways is one number:
- mobile: 11 digits, 13812345678;
- landline: area code, hyphen, local number [, hyphen, extension]: 0317-71490681-8001. Area
  codes of 3 digits are 010 and 020–029 (Beijing, and the 2x cities); every other is 4 digits;
  local numbers have 7 or 8 digits;
- service: 400/800 numbers as 10 digits, 95xxx numbers as their 5–8 digits;
- Hong Kong, Macau, Taiwan and foreign numbers: E.164 (+85221234567[-ext]), judged by
  phonenumbers' metadata for their country.
`display` shows a stored value readably (138 1234 5678, 0317-71490681 转 8001); values that do
not parse (rows older than the rule, kept as typed) are shown as they are.

phonenumbers decides foreign numbers only: for Chinese landlines its per-city metadata refuses
real numbers (0317-71490681), and a firm's own records are the better judge of those.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from flask_babel import lazy_gettext as _l

from rules import normalize
from rules.errors import InvalidPhone


class PhoneKind(enum.StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    SERVICE = "service"  # 400/800, 95xxx
    REGIONAL = "regional"  # Hong Kong, Macau, Taiwan
    INTERNATIONAL = "international"


@dataclass(frozen=True)
class Phone:
    kind: PhoneKind
    canonical: str


REGIONAL_CODES = frozenset({852, 853, 886})
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-－—–_.·/()（）]+")
_EXCEL_FLOAT = re.compile(r"(\+?\d+)\.0+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SERVICE_400 = re.compile(r"[48]00\d{7}")
_SERVICE_95 = re.compile(r"95\d{3,6}")
_LOCAL = re.compile(r"[2-9]\d{6,7}")


def parse(value: object) -> Phone:
    """The number's kind and canonical text; InvalidPhone with the reason otherwise."""
    try:
        found = _remembered(value)
    except TypeError:  # an unhashable value: read it afresh
        return _parse(value)
    if isinstance(found, InvalidPhone):
        raise InvalidPhone(*found.args)
    return found


@lru_cache(maxsize=1 << 16)
def _remembered(value: object) -> Phone | InvalidPhone:
    """One import reads each number some sixteen times (checks, keys, search row, contact):
    the answer depends on the text alone, so it is worked out once."""
    try:
        return _parse(value)
    except InvalidPhone as exc:
        return exc


def _parse(value: object) -> Phone:
    typed = _typed_text(value)
    if not typed:
        raise InvalidPhone(_l("请填写电话号码"))
    extension = ""
    if found := _EXTENSION.search(typed):
        extension, typed = found.group(1), typed[:found.start()]
    if re.search(r"[^\d\s\-－—–_.·/()（）+]", typed):
        raise InvalidPhone(_l("电话号码“%(v)s”含有数字以外的字符", v=normalize.text(value)))
    groups = [g for g in _SEPARATORS.split(typed.strip()) if g]
    digits = "".join(groups).lstrip("+")
    international = typed.lstrip().startswith("+") or digits.startswith("00")
    if international:
        national = digits[2:] if digits.startswith("00") else digits
        if national.startswith("86"):
            groups = _drop_prefix(groups, 2 if not digits.startswith("00") else 4)
            return _domestic(national[2:], groups, extension, national=True)
        return _foreign(national, extension)
    if groups and groups[0] in ("86", "086") and len(groups) > 1:
        return _domestic(digits[len(groups[0]):], groups[1:], extension, national=True)
    if len(digits) == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        return _domestic(digits[2:], [digits[2:]], extension, national=True)
    return _domestic(digits, groups, extension, national=False)


def canonical(value: object) -> str:
    """The stored form of a valid number; an unparseable value tidied but kept as typed."""
    try:
        return parse(value).canonical
    except InvalidPhone:
        return normalize.text(value)


def problem(value: object) -> str | None:
    """Why `value` is not a phone number, or None when it is one."""
    try:
        parse(value)
    except InvalidPhone as exc:
        return str(exc)
    return None


def display(value: object) -> str:
    """How a stored number reads on screen: 138 1234 5678, 0317-71490681 转 8001, +852 2123 4567."""
    text = normalize.text(value)
    if not text:
        return ""
    try:
        phone = parse(text)
    except InvalidPhone:
        return text
    number, _sep, extension = phone.canonical.partition("-") if phone.kind is not PhoneKind.LANDLINE \
        else _landline_parts(phone.canonical)
    if phone.kind is PhoneKind.MOBILE:
        shown = f"{number[:3]} {number[3:7]} {number[7:]}"
    elif phone.kind is PhoneKind.LANDLINE:
        shown = number
    elif phone.kind is PhoneKind.SERVICE:
        shown = f"{number[:3]}-{number[3:6]}-{number[6:]}" if len(number) == 10 else number
    else:
        shown = phonenumbers.format_number(phonenumbers.parse(number, None),
                                           phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"{shown} {_l('转')} {extension}" if extension else shown


def dial(value: object) -> str:
    """What a phone dials from a tel:/sms: link: the number's digits (a leading + kept), an
    extension after a pause (",") so the switchboard gets it; "" when there is nothing to dial."""
    try:
        phone = parse(value)
    except InvalidPhone:
        return re.sub(r"[^\d+]", "", normalize.text(value))
    number, _sep, extension = phone.canonical.partition("-") if phone.kind is not PhoneKind.LANDLINE \
        else _landline_parts(phone.canonical)
    dialled = re.sub(r"[^\d+]", "", number)
    return f"{dialled},{extension}" if extension else dialled


def key(value: object) -> str:
    """What duplicate checks compare: the canonical text, or for a value that is no valid number
    (a row older than the rule, or entered with format checks off) its digits."""
    try:
        return parse(value).canonical
    except InvalidPhone:
        return re.sub(r"\D", "", normalize.text(value))


def digits(value: object) -> str:
    """The number's digits as quick search indexes them (0317-71490681 → 031771490681)."""
    return re.sub(r"\D", "", canonical(value))


def _typed_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number cell from Excel: 13812345678.0
    text = normalize.text(value)
    whole = _EXCEL_FLOAT.fullmatch(text)
    return whole.group(1) if whole else text


def _drop_prefix(groups: list[str], length: int) -> list[str]:
    """The typed groups after a country prefix of `length` characters (+86 → 86, 0086)."""
    rest, skipped = [], 0
    for group in groups:
        group = group.lstrip("+")
        if skipped < length:
            take = min(length - skipped, len(group))
            skipped += take
            group = group[take:]
        if group:
            rest.append(group)
    return rest


def _landline_parts(canonical_text: str) -> tuple[str, str, str]:
    area, local, *extension = canonical_text.split("-")
    return f"{area}-{local}", "-", extension[0] if extension else ""


def _domestic(digits: str, groups: list[str], extension: str, *, national: bool) -> Phone:
    """A Chinese number; `national`: typed after +86, where a landline's leading 0 is dropped."""
    if not digits:
        raise InvalidPhone(_l("请填写电话号码"))
    if national and groups and groups[0] == "0":  # +86 (0)317 …: the trunk 0 written anyway
        groups = groups[1:]
    if digits.startswith("1") and not (national and digits.startswith("10")):  # +86 10 … is Beijing
        if _MOBILE.fullmatch(digits):
            if extension:
                raise InvalidPhone(_l("手机号码没有分机号"))
            return Phone(PhoneKind.MOBILE, digits)
        if len(digits) != 11:
            raise InvalidPhone(_l("手机号码应为 11 位（如 13812345678），“%(v)s”是 %(n)d 位", v=digits, n=len(digits)))
        raise InvalidPhone(_l("手机号码“%(v)s”不存在：第二位应为 3 到 9", v=digits))
    if _SERVICE_400.fullmatch(digits) or _SERVICE_95.fullmatch(digits):
        return Phone(PhoneKind.SERVICE, digits + (f"-{extension}" if extension else ""))
    if national and not digits.startswith("0"):
        digits = "0" + digits
        groups = ["0" + groups[0], *groups[1:]] if groups else groups
    if not digits.startswith("0"):
        if _LOCAL.fullmatch(digits):
            raise InvalidPhone(_l("座机号码请加区号（如 0571-88888888）"))
        raise InvalidPhone(_l("“%(v)s”不是电话号码：手机为 11 位，座机为区号加 7 或 8 位号码", v=digits))
    return _landline(digits, groups, extension)


def _landline(digits: str, groups: list[str], extension: str) -> Phone:
    area_length = _area_length(digits)
    if len(groups) > 1 and groups[0].startswith("0") and len(groups[0]) != area_length:
        raise InvalidPhone(_l("座机号码区号应为 3 或 4 位：010 和 020–029 为 3 位，其他区号为 4 位（如 0317）；"
                              "“%(v)s”的区号写成了 %(a)s", v="-".join(groups), a=groups[0]))
    area, rest = digits[:area_length], digits[area_length:]
    if len(groups) > 2 and groups[0] == area and len(rest) > 8 and not extension:
        # 0571-88888888-8001: the group after the local number is its extension
        local_typed = groups[1] if len(groups[0]) == area_length else ""
        if local_typed and rest.startswith(local_typed):
            extension, rest = rest[len(local_typed):], local_typed
    if not _LOCAL.fullmatch(rest):
        if rest[:1] in ("0", "1"):
            raise InvalidPhone(_l("座机号码“%(v)s”的本地号码不能以 0 或 1 开头", v=digits))
        raise InvalidPhone(_l("座机号码本地号码应为 7 或 8 位（区号 %(a)s 后是 %(n)d 位）", a=area, n=len(rest)))
    if extension and len(extension) > 6:
        raise InvalidPhone(_l("分机号最多 6 位"))
    return Phone(PhoneKind.LANDLINE, f"{area}-{rest}" + (f"-{extension}" if extension else ""))


def _area_length(digits: str) -> int:
    second = digits[1:2]
    if second == "0" or not second:
        raise InvalidPhone(_l("座机区号不能以 00 开头（国际号码请写成 +852 2123 4567 的形式）"))
    if second == "1":
        if not digits.startswith("010"):
            raise InvalidPhone(_l("以 01 开头的区号只有北京的 010"))
        return 3
    return 3 if second == "2" else 4


def _foreign(number: str, extension: str) -> Phone:
    try:
        parsed = phonenumbers.parse("+" + number, None)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(_l("国际号码“+%(v)s”的国家或地区代码不存在", v=number)) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(_l("“+%(v)s”不是有效的号码（国际号码请写成 +852 2123 4567 的形式）", v=number))
    kind = PhoneKind.REGIONAL if parsed.country_code in REGIONAL_CODES else PhoneKind.INTERNATIONAL
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return Phone(kind, e164 + (f"-{extension}" if extension else ""))
