"""金额大写 as invoices and quotes write it: zeros collapsed, 整 only after whole yuan."""
from __future__ import annotations

from decimal import Decimal

import pytest

from rules.amount_words import rmb_upper


@pytest.mark.parametrize("amount, words", [
    ("63.01", "陆拾叁元零壹分"),
    ("746.40", "柒佰肆拾陆元肆角"),
    ("0.50", "伍角"),
    ("0", "零元整"),
    ("20", "贰拾元整"),
    ("1010", "壹仟零壹拾元整"),
    ("10001", "壹万零壹元整"),
    ("100010", "壹拾万零壹拾元整"),
    ("1000000", "壹佰万元整"),
    ("100000001", "壹亿零壹元整"),
    ("105000.07", "壹拾万伍仟元零柒分"),
    ("1234567890.12", "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分"),
    ("-3.20", "负叁元贰角"),
])
def test_amounts_in_words(amount, words):
    assert rmb_upper(Decimal(amount)) == words
