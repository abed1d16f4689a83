"""Surnames whose reading differs from the character's everyday one (百家姓 polyphones): 曾 is
Zēng as a surname, not céng; 单 Shàn, not dān. Each maps to its initials as a surname.
Compound surnames come first so that 尉迟 wins over 尉."""
from __future__ import annotations

SURNAME_INITIALS: dict[str, str] = {
    # compound surnames
    "尉迟": "yc", "万俟": "mq", "单于": "cy", "澹台": "tt", "长孙": "zs", "令狐": "lh", "皇甫": "hf",
    # single surnames
    "曾": "z", "单": "s", "解": "x", "仇": "q", "朴": "p", "查": "z", "区": "o", "盖": "g", "乐": "y",
    "缪": "m", "覃": "q", "翟": "z", "召": "s", "秘": "b", "种": "c", "繁": "p", "员": "y", "句": "g",
    "能": "n", "宿": "s", "黑": "h", "隗": "w", "冼": "x", "洗": "x", "折": "s", "祭": "z", "阚": "k",
    "厍": "s", "过": "g", "都": "d", "藏": "z", "重": "c", "长": "c", "华": "h", "任": "r", "沈": "s",
    "柏": "b", "薄": "b", "石": "s", "费": "f", "贲": "b", "卜": "b", "曲": "q", "尉": "y", "纪": "j",
    "燕": "y", "蔚": "y", "莘": "s", "眭": "s", "郇": "x", "逄": "p", "訾": "z",
}

# After a surname these make a company name a family shop's (曾记, 查氏, 单家), read as the surname.
FAMILY_SHOP_MARKS = frozenset("氏记家")
