"""Real Chinese numbers pass and are stored in one canonical form; numbers that are not numbers
are refused with a reason a salesperson understands (issue 17, item 3). The form, the importer
and the entry policy all read numbers through rules/phones.py, so this table is theirs too."""
from __future__ import annotations

import pytest

from rules import entry, normalize, phones

VALID = [
    # typed                          kind            stored                  shown
    ("13812345678", "mobile", "13812345678", "138 1234 5678"),
    (13812345678.0, "mobile", "13812345678", "138 1234 5678"),  # a number cell from Excel
    ("13812345678.0", "mobile", "13812345678", "138 1234 5678"),  # the same, through a CSV
    ("＋８６ １３８ １２３４ ５６７８", "mobile", "13812345678", "138 1234 5678"),  # full width
    ("0086 138-1234-5678", "mobile", "13812345678", "138 1234 5678"),
    ("8613812345678", "mobile", "13812345678", "138 1234 5678"),
    ("0317-71490681", "landline", "0317-71490681", "0317-71490681"),  # refused by the old check
    ("0317 7149 0681", "landline", "0317-71490681", "0317-71490681"),
    ("+86 317 7149 0681", "landline", "0317-71490681", "0317-71490681"),
    ("(0317)71490681", "landline", "0317-71490681", "0317-71490681"),
    ("031771490681", "landline", "0317-71490681", "0317-71490681"),
    ("0317-7149068", "landline", "0317-7149068", "0317-7149068"),  # 7-digit local number
    ("010-88888888", "landline", "010-88888888", "010-88888888"),
    ("+86 10 8888 8888", "landline", "010-88888888", "010-88888888"),
    ("021 6888 8888", "landline", "021-68888888", "021-68888888"),
    ("0755-2888888", "landline", "0755-2888888", "0755-2888888"),
    ("0317-71490681转8001", "landline", "0317-71490681-8001", "0317-71490681 转 8001"),
    ("0571-88888888 ext 12", "landline", "0571-88888888-12", "0571-88888888 转 12"),
    ("0571-88888888-8001", "landline", "0571-88888888-8001", "0571-88888888 转 8001"),
    ("400-123-4567", "service", "4001234567", "400-123-4567"),
    ("800 810 8888", "service", "8008108888", "800-810-8888"),
    ("95588", "service", "95588", "95588"),
    ("+852 2123 4567", "regional", "+85221234567", "+852 2123 4567"),
    ("+853 2838 1234", "regional", "+85328381234", "+853 2838 1234"),
    ("+886 2 2720 8889", "regional", "+886227208889", "+886 2 2720 8889"),
    ("+44 20 7183 8750", "international", "+442071838750", "+44 20 7183 8750"),
    ("001 415 555 2671", "international", "+14155552671", "+1 415-555-2671"),
]

INVALID = [
    ("031-771490681", "座机号码区号应为 3 或 4 位"),
    ("0317-7149", "座机号码本地号码应为 7 或 8 位"),
    ("0571-0888888", "本地号码不能以 0 或 1 开头"),
    ("88888888", "座机号码请加区号"),
    ("138123456", "手机号码应为 11 位"),
    ("12345678901", "第二位应为 3 到 9"),
    ("13812345678转1", "手机号码没有分机号"),
    ("+852 1234", "不是有效的号码"),
    ("电话见备注", "含有数字以外的字符"),
]


@pytest.mark.parametrize("typed, kind, stored, shown", VALID)
def test_real_numbers_pass_and_are_stored_clean(typed, kind, stored, shown):
    number = phones.parse(typed)
    assert (number.kind, number.canonical) == (kind, stored)
    assert phones.display(number.canonical) == shown
    assert entry.format_problem("phone", typed) is None
    assert (entry.format_problem("mobile", typed) is None) is (kind == "mobile")


@pytest.mark.parametrize("typed, reason", INVALID)
def test_numbers_that_are_no_numbers_are_refused_with_the_reason(typed, reason):
    with pytest.raises(phones.InvalidPhone) as refused:
        phones.parse(typed)
    assert reason in str(refused.value)
    assert reason in entry.format_problem("phone", typed)


def test_a_landline_typed_three_ways_is_one_duplicate_key():
    keys = {normalize.key("phone", typed) for typed in ("0317-71490681", "0317 7149 0681", "+86 317 7149 0681")}
    assert keys == {"0317-71490681"}


def test_a_landline_in_the_mobile_field_is_told_where_it_belongs():
    assert "请填在“电话”中" in entry.format_problem("mobile", "0317-71490681")
