"""China's administrative divisions (province → city → district), from the adcode table that
the cpca package ships (the national statistics bureau's codes)."""
from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# In the four municipalities the city level is a placeholder ("市辖区"/"县"); people write the
# municipality's own name there (北京市 北京市 朝阳区).
_PLACEHOLDER_CITIES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


@dataclass
class Region:
    code: str
    name: str
    children: dict[str, Region] = field(default_factory=dict)


def _adcode_file() -> Path:
    spec = importlib.util.find_spec("cpca")  # locate without importing cpca (it loads pandas)
    assert spec and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


@lru_cache(maxsize=1)
def tree() -> dict[str, Region]:
    """Provinces by name, each with its cities by name, each with its districts by name."""
    rows = []
    with _adcode_file().open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append((row["adcode"][:6], row["name"]))
    rows.sort()
    provinces: dict[str, Region] = {}
    by_code: dict[str, Region] = {}
    for code, name in rows:
        if code.endswith("0000"):
            region = Region(code, name)
            provinces[name] = by_code[code] = region
        elif code.endswith("00"):
            parent = by_code.get(code[:2] + "0000")
            if parent is None:
                continue
            shown = parent.name if name in _PLACEHOLDER_CITIES else name
            region = parent.children.setdefault(shown, Region(code, shown))
            by_code[code] = region
        else:
            parent = by_code.get(code[:4] + "00") or by_code.get(code[:2] + "0000")
            if parent is None or name in _PLACEHOLDER_CITIES:
                continue
            if parent.code.endswith("0000"):  # a county directly under a province
                parent = parent.children.setdefault(parent.name, Region(parent.code, parent.name))
            parent.children.setdefault(name, Region(code, name))
    return provinces


@lru_cache(maxsize=1)
def _names_by_code() -> dict[str, str]:
    with _adcode_file().open(encoding="utf-8") as handle:
        names = {row["adcode"][:6]: row["name"] for row in csv.DictReader(handle)}
    # 港澳台居民居住证 numbers start 810000 / 820000 / 830000; the adcode file lists only the first two.
    names.setdefault("830000", "台湾省")
    return names


def by_code(code: str) -> tuple[str | None, str | None, str | None]:
    """Province, city and district named by a 6-digit division code (the first six digits of a
    resident ID). A code retired since (崇文区 110103) names its city or province only; the
    municipalities' placeholder city ("市辖区") is shown as the municipality itself."""
    names = _names_by_code()
    province = names.get(code[:2] + "0000")
    if province is None:
        return None, None, None
    city = names.get(code[:4] + "00") if code[2:4] != "00" else None
    if city in _PLACEHOLDER_CITIES:
        city = province
    district = names.get(code) if code[4:] != "00" else None
    return province, city, district


def as_json() -> dict[str, dict[str, list[str]]]:
    """{province: {city: [district, ...]}} for the cascading pickers."""
    return {p.name: {c.name: list(c.children) for c in p.children.values()} for p in tree().values()}


_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def match_province(text: str | None) -> str | None:
    """The full province name for "北京", "北京市" or "广西壮族自治区"."""
    text = (text or "").strip()
    if not text:
        return None
    for name in tree():
        if text == name or text == short(name):
            return name
    return None


def match_city(province: str | None, text: str | None) -> str | None:
    text = (text or "").strip()
    region = tree().get(province or "")
    if not text or region is None:
        return None
    for name in region.children:
        if text == name or text == short(name):
            return name
    return None


def is_valid(province: str | None, city: str | None, district: str | None) -> bool:
    if not province:
        return not city and not district
    region = tree().get(province)
    if region is None:
        return False
    if not city:
        return not district
    city_region = region.children.get(city)
    if city_region is None:
        return False
    return not district or district in city_region.children


def match_district(province: str | None, city: str | None, text: str | None) -> str | None:
    """The full district name for "朝阳" or "朝阳区" inside a known city."""
    text = (text or "").strip()
    city_region = tree().get(province or "", Region("", "")).children.get(city or "")
    if not text or city_region is None:
        return None
    for name in city_region.children:
        if text == name or (len(name) > 2 and text == name[:-1]):
            return name
    return None


def _take_prefix(text: str, names) -> tuple[str | None, str]:
    """The name (full or short) that `text` starts with, longest first, and the rest."""
    best = None
    for name in names:
        for form in (name, short(name)):
            if len(form) >= 2 and text.startswith(form) and (best is None or len(form) > len(best[1])):
                best = (name, form)
    if best is None:
        return None, text
    return best[0], text[len(best[1]):]


def recognise(address: str | None, province: str | None = None) -> tuple[str | None, str | None, str | None]:
    """Province, city and district read from the start of an address ("广东省深圳市南山区…",
    "北京朝阳区…", "上海市浦东新区…"); with a known province the address may start at the city
    ("杭州市西湖区…"). Whatever cannot be recognised is None."""
    text = (address or "").strip().replace(" ", "")
    found, rest = _take_prefix(text, tree())
    if province is not None and found not in (None, province):
        return province, None, None
    province = province or found
    if province is None or province not in tree():
        return None, None, None
    region = tree()[province]
    city, rest2 = _take_prefix(rest, region.children)
    if city is None and province in region.children:  # 北京朝阳区: the municipality is its own city
        city, rest2 = province, rest
    if city is None:
        return province, None, None
    district, _rest = _take_prefix(rest2, region.children[city].children)
    return province, city, district
