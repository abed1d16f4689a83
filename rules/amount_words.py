"""金额大写: an amount written the way Chinese invoices, contracts and quotes write it
(人民币陆拾叁元零壹分), so the figures cannot be altered by a stroke of the pen."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ("", "拾", "佰", "仟")
SECTIONS = ("", "万", "亿", "万亿")


def _section(number: int) -> str:
    """1..9999 in words; inner zeros collapse to one 零, trailing zeros are not written."""
    out, zero = "", False
    for position in range(3, -1, -1):
        digit = number // 10 ** position % 10
        if digit == 0:
            zero = zero or bool(out)
            continue
        if zero:
            out, zero = out + "零", False
        out += DIGITS[digit] + UNITS[position]
    return out


def integer_words(number: int) -> str:
    if number == 0:
        return DIGITS[0]
    words, index, rest = "", 0, number
    while rest:
        section = rest % 10000
        if section:
            lower = number % 10 ** (4 * index)
            gap = "零" if words and lower < 10 ** (4 * index - 1) else ""
            words = _section(section) + SECTIONS[index] + gap + words
        rest //= 10000
        index += 1
    return words


def rmb_upper(value: Decimal | int | float | str | None) -> str:
    """Decimal("63.01") → 陆拾叁元零壹分; 100010 → 壹拾万零壹拾元整; 1234.50 → 壹仟贰佰叁拾肆元伍角整
    (整 after 元 or 角, never after 分)."""
    if value in (None, ""):
        return ""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "负" if amount < 0 else ""
    cents = int(abs(amount) * 100)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    head = integer_words(yuan) + "元" if yuan else ""
    if not (jiao or fen):
        return sign + (head or "零元") + "整"
    if not fen:  # 到角为止: 整 closes it, as 到元为止 does
        return sign + head + DIGITS[jiao] + "角整"
    tail = DIGITS[jiao] + "角" if jiao else ("零" if yuan else "")
    return sign + head + tail + DIGITS[fen] + "分"
