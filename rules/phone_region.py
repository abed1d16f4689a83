"""手机归属地: where a Chinese mobile number was issued (province, city) and by which carrier, from
the geocoder and carrier data phonenumbers ships (in Chinese). The province and city come out
named as the customer's own region fields name them (rules/regions: 广东省 / 深圳市; 北京市 北京市),
so a customer's 手机归属地 can be compared with, filtered and counted like its 地区.

The data is the number's original allocation: a number ported to another carrier (携号转网) still
shows its first carrier, which is what every 归属地 service shows too.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import carrier, geocoder

from rules import phones, regions

# phonenumbers keys China's mobile geography and carriers by at most the first seven digits
# (号段 1380013): numbers sharing them share the answer, so a million customers cost a few
# thousand look-ups.
PREFIX_DIGITS = 7


@dataclass(frozen=True)
class MobileRegion:
    province: str | None
    city: str | None
    carrier: str | None

    @property
    def place(self) -> str:
        """广东深圳, 北京: short and without repeating a municipality."""
        if not self.province:
            return ""
        city = self.city if self.city and self.city != self.province else ""
        return regions.short(self.province) + (regions.short(city) if city else "")

    @property
    def label(self) -> str:
        """What is shown beside the number: 广东深圳 中国移动."""
        return " ".join(part for part in (self.place, self.carrier or "") if part)


def mobile_digits(value: Any) -> str | None:
    """The 11 digits of a Chinese mobile number, or None for anything else (landlines, foreign
    numbers, text that is no number)."""
    try:
        phone = phones.parse(value)
    except phones.InvalidPhone:
        return None
    if phone.kind is not phones.PhoneKind.MOBILE:
        return None
    return phone.canonical.partition("-")[0]


def lookup(value: Any) -> MobileRegion | None:
    """The 归属地 of a mobile number as stored or typed; None when it is no Chinese mobile or
    the data does not know its 号段."""
    digits = mobile_digits(value)
    return _by_prefix(digits[:PREFIX_DIGITS]) if digits else None


@lru_cache(maxsize=1 << 15)
def _by_prefix(prefix: str) -> MobileRegion | None:
    # The digits are a mobile already (rules/phones said so): the "valid number" look-ups skip
    # phonenumbers' own checks, which cost more than the look-up itself.
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(prefix.ljust(11, "0")))
    province, city = _split(geocoder.description_for_valid_number(number, "zh"))
    name = carrier.name_for_valid_number(number, "zh") or None
    if province is None and name is None:
        return None
    return MobileRegion(province, city, name)


@lru_cache(maxsize=1024)
def _split(place: str) -> tuple[str | None, str | None]:
    """广东省深圳市 → (广东省, 深圳市); 中国 → (None, None). A few hundred places in all."""
    province, city, _district = regions.recognise(place)
    return province, city


def label(value: Any) -> str:
    """广东深圳 中国移动, or "" when unknown: for templates beside every mobile."""
    found = lookup(value)
    return found.label if found else ""


def fill(record: Any) -> None:
    """Keep a customer's stored 手机归属地 (mobile_province, mobile_city) in step with its mobile:
    the filter and the report read the columns, never the number."""
    found = lookup(record.mobile) if record.mobile else None
    record.mobile_province = found.province if found else None
    record.mobile_city = found.city if found else None


def suggested_region(record: Any) -> tuple[str, str | None] | None:
    """(province, city) to offer a customer without a province, from its mobile; None when it
    has one or the mobile tells nothing."""
    if (record.province or "").strip():
        return None
    found = lookup(record.mobile) if record.mobile else None
    if not found or not found.province:
        return None
    return found.province, found.city
