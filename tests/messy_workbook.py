"""A legacy customer workbook as firms really keep one, with the truth about every row.

Seeded, so a failing row can be looked at again: a merged title and a note above the header,
merged province cells, mobiles as floats, with +86 / 0086, spaces or full-width digits, real
landlines with area codes and extensions, dates as Excel serials, date cells and text in every
format people type, in-file duplicates, rows missing names, bad mobiles and emails, 220-character
names, blank rows, 客户来源/所属行业 values no dictionary has, and historical 创建日期/最后联系.
"""
from __future__ import annotations

import enum
import io
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import openpyxl

HEADER = ["客户名称", "联系人", "手机", "电话", "邮箱", "客户来源", "所属行业", "省份", "创建日期", "最后联系"]
FIRST_DATA_ROW = 4  # row 1 a merged title, row 2 a merged note, row 3 the header
TODAY = date(2026, 11, 23)  # the tests' pinned clock (tests/conftest.py FIXED_NOW)


class Label(enum.StrEnum):
    VALID = "valid"
    LANDLINE = "landline"  # valid, with a real landline (area code, extension)
    UNKNOWN_VALUES = "unknown dictionary values"  # valid, 客户来源/所属行业 not in the dictionary
    MISSING_NAME = "missing name"
    BAD_MOBILE = "bad mobile"
    BAD_EMAIL = "bad email"
    TOO_LONG_NAME = "too-long name"
    IN_FILE_DUPLICATE = "in-file duplicate"
    BLANK = "blank"


GOOD = frozenset({Label.VALID, Label.LANDLINE, Label.UNKNOWN_VALUES})
# What the row's refusal must say (the importer's Chinese reasons); a bad mobile or email is a
# bad optional cell, so its row is imported with that warning unless the import is strict.
REASONS = {Label.MISSING_NAME: "请填写客户名称", Label.BAD_MOBILE: "手机号码格式不正确",
           Label.BAD_EMAIL: "邮箱格式不正确", Label.TOO_LONG_NAME: "客户名称：不能超过",
           Label.IN_FILE_DUPLICATE: "与文件第"}

KNOWN_SOURCES = ["电话营销", "网络推广", "客户介绍", "展会", "老客户"]
KNOWN_INDUSTRIES = ["制造业", "批发零售", "信息技术", "建筑工程", "医疗健康"]
UNKNOWN_SOURCES = ["自主开发", "老客户介绍", "百度推广"]
UNKNOWN_INDUSTRIES = ["医药", "农林牧渔", "化工"]
# (as written, as stored)
PROVINCES = [("浙江", "浙江省"), ("浙江省", "浙江省"), ("北京", "北京市"), ("北京市", "北京市"), ("广东", "广东省"),
             ("江苏省", "江苏省"), ("河北", "河北省"), ("内蒙古", "内蒙古自治区"), ("广西", "广西壮族自治区"),
             ("上海", "上海市"), ("四川", "四川省"), ("湖北省", "湖北省")]
LANDLINE_AREAS = ["10", "21", "20", "22", "23", "25", "27", "28", "29", "571", "755", "512", "311", "531"]
_CITIES = ["杭州", "宁波", "苏州", "沧州", "广州", "成都", "武汉", "西安", "长沙", "郑州", "济南", "合肥"]
_WORDS = ["恒达", "宏远", "鑫源", "华信", "瑞丰", "永盛", "天成", "金桥", "博雅", "新锐", "德润", "嘉禾", "众诚", "盛世",
          "利民"]
_TRADES = ["科技", "贸易", "机械", "电子", "建材", "食品", "服装", "化工", "物流", "医疗器械"]
_SUFFIXES = ["有限公司", "有限责任公司", "商行", "经营部"]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
_MOBILE_PREFIXES = ["135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "186", "187", "188", "189"]
_FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


@dataclass
class Truth:
    row_no: int
    label: Label
    name: str | None = None
    mobile: str | None = None  # as stored: 11 digits
    landline: str | None = None  # its digits (area code with its 0, number, extension)
    province: str | None = None  # as stored
    source: str | None = None
    industry: str | None = None
    created: date | None = None
    last_contact: date | None = None
    duplicate_of: int | None = None  # the earlier row it repeats

    @property
    def good(self) -> bool:
        return self.label in GOOD


def _counts(rows: int, unknown_values: bool, landlines: bool) -> dict[Label, int]:
    per_thousand = {Label.BLANK: 12, Label.MISSING_NAME: 12, Label.BAD_MOBILE: 12, Label.BAD_EMAIL: 12,
                    Label.TOO_LONG_NAME: 8, Label.IN_FILE_DUPLICATE: 30,
                    Label.LANDLINE: 80 if landlines else 0, Label.UNKNOWN_VALUES: 120 if unknown_values else 0}
    counts = {label: max(1, n * rows // 1000) if n else 0 for label, n in per_thousand.items()}
    counts[Label.VALID] = rows - sum(counts.values())
    return counts


class _Maker:
    def __init__(self, rng: random.Random, namesakes: list[str]) -> None:
        self.rng = rng
        self.names = [f"{c}{w}{t}{s}" for c in _CITIES for w in _WORDS for t in _TRADES for s in _SUFFIXES]
        rng.shuffle(self.names)
        self.namesakes = list(dict.fromkeys(namesakes))  # each once: demo data has namesakes of its own
        self.mobiles: set[str] = set()
        self.landlines: set[str] = set()
        self.emails = 0

    def name(self) -> str:
        if self.namesakes and self.rng.random() < 0.1:
            return self.namesakes.pop()  # an existing customer's name, with other phones and province
        return self.names.pop()

    def person(self) -> str:
        return self.rng.choice(_SURNAMES) + "".join(self.rng.choice(_GIVEN) for _ in range(self.rng.randint(1, 2)))

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(_MOBILE_PREFIXES) + f"{self.rng.randrange(10 ** 8):08d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return number

    def mobile_as_typed(self, number: str) -> object:
        style = self.rng.randrange(8)
        if style == 0:
            return float(number)
        if style == 1:
            return f"+86 {number}"
        if style == 2:
            return f"0086{number}"
        if style == 3:
            return f"{number[:3]} {number[3:7]} {number[7:]}"
        if style == 4:
            return number.translate(_FULL_WIDTH)
        if style == 5:
            return f"+86-{number[:3]}-{number[3:7]}-{number[7:]}"
        return number

    def landline(self) -> tuple[str, str]:
        """(as typed, its digits)."""
        if "031771490681" not in self.landlines:
            self.landlines.add("031771490681")
            return "0317-71490681", "031771490681"
        while True:
            area = self.rng.choice(LANDLINE_AREAS)
            local = f"{self.rng.randint(2, 8)}{self.rng.randrange(10 ** 7):07d}"
            digits = "0" + area + local
            if digits not in self.landlines:
                break
        self.landlines.add(digits)
        style = self.rng.randrange(6)
        if style == 0:
            ext = f"{self.rng.randint(1, 9)}{self.rng.randrange(1000):03d}"
            return f"0{area}-{local}转{ext}", digits + ext
        if style == 1:
            ext = f"{self.rng.randint(1, 9)}{self.rng.randrange(100):02d}"
            return f"0{area}-{local}-{ext}", digits + ext
        if style == 2:
            return f"(0{area}){local}", digits
        if style == 3:
            return f"0{area} {local[:4]} {local[4:]}", digits
        if style == 4:
            return f"0{area}-{local}".translate(_FULL_WIDTH), digits
        return f"0{area}-{local}", digits

    def email(self) -> str:
        self.emails += 1
        return f"buyer{self.emails}@example{self.emails % 7}.com"

    def day(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def date_as_typed(self, day: date) -> object:
        style = self.rng.randrange(9)
        if style == 0:
            return (day - date(1899, 12, 30)).days  # an Excel serial in a number cell
        if style == 1:
            return datetime(day.year, day.month, day.day)  # a date cell
        if style == 2:
            return f"{day.year}年{day.month}月{day.day}日"
        if style == 3:
            return f"{day.year}/{day.month}/{day.day}"
        if style == 4:
            return f"{day.year}.{day.month}.{day.day}"
        if style == 5:
            return f"{day:%Y%m%d}"
        if style == 6:
            return f"{day.year}年{day.month}月{day.day}日".translate(_FULL_WIDTH)
        if style == 7:
            return f"{day:%Y-%m-%d} {self.rng.randint(8, 18)}:{self.rng.randrange(60):02d}"
        return f"{day:%Y-%m-%d}"


def build(*, seed: int = 17, rows: int = 1000, namesakes: list[str] = (), unknown_values: bool = True,
          landlines: bool = True) -> tuple[bytes, list[Truth]]:
    """The workbook's bytes and one Truth per data row (blank rows included), in sheet order.
    `namesakes`: names of customers already in the database, given to about 10 % of valid rows
    (with their own phones). Without `unknown_values`/`landlines` the rows those labels would
    take are plain valid rows."""
    rng = random.Random(seed)
    maker = _Maker(rng, list(namesakes))
    labels = [label for label, n in _counts(rows, unknown_values, landlines).items() for _ in range(n)]
    rng.shuffle(labels)
    # an in-file duplicate repeats an earlier good row: move any that come first further down
    while labels[0] == Label.IN_FILE_DUPLICATE:
        labels.append(labels.pop(0))
    truths: list[Truth] = []
    cells: list[list[object]] = []
    for index, label in enumerate(labels):
        row_no = FIRST_DATA_ROW + index
        truth, values = _row(maker, label, row_no, [t for t in truths if t.label == Label.VALID])
        truths.append(truth)
        cells.append(values)
    return _workbook(rng, truths, cells), truths


def _row(maker: _Maker, label: Label, row_no: int, earlier_valid: list[Truth]) -> tuple[Truth, list[object]]:
    rng = maker.rng
    if label == Label.BLANK:
        return Truth(row_no, label), [None] * len(HEADER)
    if label == Label.IN_FILE_DUPLICATE and earlier_valid:
        original = rng.choice(earlier_valid)
        values = [original.name, maker.person(), maker.mobile_as_typed(original.mobile), None, None, None, None,
                  None, None, None]
        return Truth(row_no, label, name=original.name, mobile=original.mobile, duplicate_of=original.row_no), values
    if label == Label.IN_FILE_DUPLICATE:
        label = Label.VALID
    written_province, province = rng.choice(PROVINCES)
    created = maker.day(date(2012, 1, 1), TODAY - timedelta(days=30))
    last = maker.day(created, TODAY - timedelta(days=1)) if rng.random() < 0.7 else None
    truth = Truth(row_no, label, name=maker.name(), province=province, created=created, last_contact=last)
    mobile_number = maker.mobile() if label != Label.LANDLINE or rng.random() < 0.5 else None
    truth.mobile = mobile_number
    mobile: object = maker.mobile_as_typed(mobile_number) if mobile_number else None
    phone = None
    if label == Label.LANDLINE:
        phone, truth.landline = maker.landline()
    email = maker.email() if rng.random() < 0.4 else None
    if label == Label.UNKNOWN_VALUES:
        truth.source, truth.industry = rng.choice(UNKNOWN_SOURCES), rng.choice(UNKNOWN_INDUSTRIES)
    elif rng.random() < 0.6:
        truth.source, truth.industry = rng.choice(KNOWN_SOURCES), rng.choice(KNOWN_INDUSTRIES)
    name: object = truth.name
    if label == Label.MISSING_NAME:
        name = truth.name = None
    elif label == Label.TOO_LONG_NAME:
        name = truth.name = ("华夏" + truth.name * 20)[:220]
    elif label == Label.BAD_MOBILE:
        mobile = rng.choice(["1380013800", "23800138000", "138001380001", "1234567", "138-0013-800"])
        truth.mobile = None
    elif label == Label.BAD_EMAIL:
        email = rng.choice(["wang@qq", "li#163.com", "zhang@@126.com", "sales at example.com"])
    values = [name, maker.person(), mobile, phone, email, truth.source, truth.industry, written_province,
              maker.date_as_typed(created), maker.date_as_typed(last) if last else None]
    return truth, values


def _workbook(rng: random.Random, truths: list[Truth], cells: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户资料"
    ws.append(["客户资料汇总表（旧系统导出，2012—2026）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append(["说明：本表由各业务员汇总，电话号码格式不统一，请导入时核对。"])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(HEADER))
    ws.append(HEADER)
    province_col = HEADER.index("省份")
    # One province cell merged over two neighbouring valid rows, as people merge repeated values.
    pairs: list[tuple[int, int]] = []
    i = 0
    while i < len(truths) - 1 and len(pairs) < 12:
        a, b = truths[i], truths[i + 1]
        if a.label == b.label == Label.VALID and rng.random() < 0.15:
            b.province = a.province
            cells[i + 1][province_col] = None
            pairs.append((a.row_no, b.row_no))
            i += 2
        else:
            i += 1
    for values in cells:
        ws.append(values)
    for top, bottom in pairs:
        ws.merge_cells(start_row=top, start_column=province_col + 1, end_row=bottom, end_column=province_col + 1)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
