"""居民身份证号码 (GB 11643-1999): the check digit, the birth date, the sex and the region a
number carries. A contact's number fills the birthday and gender left empty, and its region is
shown as 籍贯地区.

Old 15-digit numbers (issued before 1999: two-digit year, no check digit) are upgraded to the
18 digits the same person's card carries today: "19" goes before the year and the check digit
is computed — GB 11643 defines the upgrade, and one stored form keeps the masking, the look-up
and duplicate checks simple."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from models import Gender
from rules import regions
from rules.errors import InvalidValue

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


class IdNumberRefused(InvalidValue):
    pass


@dataclass(frozen=True)
class IdNumber:
    number: str                 # 18 characters, an upper-case X as the check digit
    birth: date
    gender: str                 # Gender value
    region_code: str
    province: str | None
    city: str | None
    district: str | None
    upgraded: bool = False      # typed as an old 15-digit number

    @property
    def region(self) -> str:
        """"北京市 东城区": the municipality is not repeated as its own city."""
        parts: list[str] = []
        for name in (self.province, self.city, self.district):
            if name and name not in parts:
                parts.append(name)
        return " ".join(parts)


def check_digit(first17: str) -> str:
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def tidy(raw: str | None) -> str:
    """Full-width digits, spaces and a lower-case x as people type them."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(text.split()).upper()


def _birth(digits: str) -> date:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise IdNumberRefused(_l("身份证号中的出生日期不存在（%(d)s）", d=digits)) from None


def parse(raw: str | None, *, today: date) -> IdNumber:
    """The number, checked: length and characters, the region's province, the birth date
    (it must exist and not be in the future) and the check digit."""
    number = tidy(raw)
    if len(number) == 15 and number.isdigit():
        first17 = number[:6] + "19" + number[6:]
        number, upgraded = first17 + check_digit(first17), True
    elif len(number) == 18:
        upgraded = False
    else:
        raise IdNumberRefused(_l("身份证号应为18位（现为 %(n)d 位）", n=len(number)))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberRefused(_l("身份证号应为18位：前17位是数字，最后一位是数字或 X"))
    province, city, district = regions.by_code(number[:6])
    if province is None:
        raise IdNumberRefused(_l("身份证号的前两位 %(p)s 不是任何省份的代码", p=number[:2]))
    birth = _birth(number[6:14])
    if birth > today or birth.year < 1900:
        raise IdNumberRefused(_l("身份证号中的出生日期不可能（%(d)s）", d=birth.isoformat()))
    expected = check_digit(number[:17])
    if number[17] != expected:
        raise IdNumberRefused(_l("身份证号校验位错误（应为 %(c)s）", c=expected))
    gender = Gender.MALE.value if int(number[16]) % 2 else Gender.FEMALE.value
    return IdNumber(number, birth, gender, number[:6], province, city, district, upgraded)


def mask(number: str | None) -> str:
    """110101********123X: the region and the last four, enough to tell two people apart."""
    if not number:
        return ""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
