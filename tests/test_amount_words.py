"""金额大写 as invoices, contracts and quotes write it: zeros collapsed to one 零 inside the number
and between 元 and 分, 整 after whole 元 and after 角 (¥1,234.50 → 壹仟贰佰叁拾肆元伍角整), never after 分."""
from __future__ import annotations

from decimal import Decimal

import pytest

from rules.amount_words import rmb_upper


@pytest.mark.parametrize("amount, words", [
    # 角 and 分
    ("1234.50", "壹仟贰佰叁拾肆元伍角整"),
    ("746.40", "柒佰肆拾陆元肆角整"),
    ("0.50", "伍角整"),
    ("0.05", "伍分"),
    ("0.01", "壹分"),
    ("0.15", "壹角伍分"),
    ("63.01", "陆拾叁元零壹分"),
    ("10.05", "壹拾元零伍分"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("105000.07", "壹拾万伍仟元零柒分"),
    ("-3.20", "负叁元贰角整"),
    ("2.005", "贰元零壹分"),  # rounded half up to the fen
    # whole yuan and the 零 rules
    ("0", "零元整"),
    ("20", "贰拾元整"),
    ("105", "壹佰零伍元整"),
    ("1010", "壹仟零壹拾元整"),
    ("1001", "壹仟零壹元整"),
    ("10001", "壹万零壹元整"),
    ("10010", "壹万零壹拾元整"),
    ("100010", "壹拾万零壹拾元整"),
    ("101000", "壹拾万壹仟元整"),
    ("1000000", "壹佰万元整"),
    ("1001000", "壹佰万壹仟元整"),
    ("10000100", "壹仟万零壹佰元整"),
    ("100000001", "壹亿零壹元整"),
    ("200000000", "贰亿元整"),
    ("1234567890.12", "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分"),
])
def test_amounts_in_words(amount, words):
    assert rmb_upper(Decimal(amount)) == words


def test_blank_stays_blank():
    assert rmb_upper(None) == "" and rmb_upper("") == ""
