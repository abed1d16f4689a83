"""Rendering a print template: the administrator's HTML runs in Jinja's immutable sandbox over
plain data (dicts, lists, strings, numbers: rules/print_data.py builds them; never a model),
within a budget of loop steps, time and output size, so no template can reach outside the
sandbox, hold a server worker, or fill its memory. The page around it (paper size, margins,
header, footer, logo) is CSS that both the browser's print and WeasyPrint honour."""
from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from rules import amount_words
from rules.errors import TemplateRefused

MAX_STEPS = 200_000           # loop iterations and calls together
MAX_SECONDS = 3.0
MAX_OUTPUT = 4 * 1024 * 1024  # characters of HTML
MAX_REPEAT = 10_000           # 'x' * n
MAX_INT_BITS = 400            # no amount on paper needs a bigger number

# Paper sizes in millimetres, portrait (envelopes: GB/T 1416 sizes, landscape by nature).
PAPER_MM = {"A4": (210, 297), "A5": (148, 210), "B5": (176, 250), "letter": (216, 279),
            "DL": (220, 110), "C5": (229, 162), "no5": (220, 110), "no7": (229, 162)}
ENVELOPES = frozenset({"DL", "C5", "no5", "no7"})
FONT_STACK = '"Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimSun", sans-serif'


class _Budget:
    def __init__(self) -> None:
        self.steps = 0
        self.started = time.monotonic()

    def spend(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > MAX_STEPS:
            raise TemplateRefused(_l("模板循环次数过多（上限 %(n)d 次），已停止", n=MAX_STEPS))
        if self.steps % 512 == 0 and time.monotonic() - self.started > MAX_SECONDS:
            raise TemplateRefused(_l("模板渲染超过 %(s)g 秒，已停止", s=MAX_SECONDS))


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with every loop step and call counted against the render's budget and the
    operators that can make huge values capped."""

    intercepted_binops = frozenset({"*", "**", "+", "//", "%"})

    def __init__(self) -> None:
        super().__init__(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.budget = _Budget()
        self.globals = {"range": self._range}  # the only global: no cycler/joiner/namespace/lipsum
        self.filters.update(money=money, date=date_text, amount_words=words, qrcode=qrcode, percent=percent)

    def _range(self, *args: int) -> Any:
        for value in range(*args):
            self.budget.spend()
            yield value

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        self.budget.spend()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.budget.spend()
        sequences = (str, list, tuple)
        if operator == "*" and (isinstance(left, sequences) or isinstance(right, sequences)):
            count = right if isinstance(left, sequences) else left
            if isinstance(count, int) and count > MAX_REPEAT:
                raise TemplateRefused(_l("模板中的重复次数过大"))
        if operator == "+" and isinstance(left, sequences) and isinstance(right, sequences) \
                and len(left) + len(right) > MAX_OUTPUT:
            raise TemplateRefused(_l("打印内容过大（超过 %(m)d MB），已停止", m=MAX_OUTPUT // 1024 // 1024))
        if operator == "**" and (not isinstance(left, (int, float)) or not isinstance(right, (int, float))
                                 or abs(right) > 64 or abs(left) > 10 ** 6):
            raise TemplateRefused(_l("模板中的乘方过大"))
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise TemplateRefused(_l("模板中的数字过大"))
        return result

    def iterate(self, values: Any) -> Any:
        for value in values:
            self.budget.spend()
            yield value


def _loops_counted(source: str, env: _Sandbox) -> Any:
    """The template with every for-loop's iterable passed through the budget counter."""
    ast = env.parse(source)
    for loop in ast.find_all(nodes.For):
        loop.iter = nodes.Call(nodes.Name("__iterate", "load"), [loop.iter], [], None, None)
    return ast


# --- filters a template may use -------------------------------------------------------------------

def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def money(value: Any, symbol: str = "¥") -> str:
    """¥1,234.50 (a blank stays blank)."""
    amount = _decimal(value)
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


def percent(value: Any) -> str:
    amount = _decimal(value)
    return "" if amount is None else f"{amount * 100:.2f}".rstrip("0").rstrip(".") + "%"


def date_text(value: Any, fmt: str = "%Y-%m-%d") -> str:
    if isinstance(value, (date, datetime)):
        return value.strftime(fmt if len(fmt) <= 32 else "%Y-%m-%d")
    return "" if value is None else str(value)


def words(value: Any) -> str:
    """金额大写: ¥1,234.50 → 壹仟贰佰叁拾肆元伍角整."""
    amount = _decimal(value)
    return "" if amount is None else amount_words.rmb_upper(amount)


def qrcode(value: Any, size_mm: int = 24) -> Markup:
    """A QR code of `value` as an inline SVG image (no file, no network)."""
    import qrcode as qr
    import qrcode.image.svg

    text = str(value or "")[:1000]
    if not text:
        return Markup("")
    image = qr.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=1)
    data = base64.b64encode(image.to_string()).decode()
    size = max(8, min(int(size_mm), 80))
    return Markup(f'<img class="kechi-qr" alt="" style="width:{size}mm;height:{size}mm" '
                  f'src="data:image/svg+xml;base64,{data}">')


# --- rendering ------------------------------------------------------------------------------------

def _message(exc: Exception) -> TemplateRefused:
    if isinstance(exc, TemplateRefused):
        return exc
    if isinstance(exc, SecurityError):
        return TemplateRefused(_l("模板试图访问不允许的内容：%(e)s", e=str(exc)[:200]))
    if isinstance(exc, UndefinedError):
        # Jinja says "'dict object' has no attribute 'nmae'" / "'foo' is undefined": name the field.
        named = re.search(r"has no attribute '([^']{1,80})'|^'([^']{1,80})' is undefined", str(exc))
        field_name = (named.group(1) or named.group(2)) if named else str(exc)[:200]
        return TemplateRefused(_l("模板引用了不存在的字段：%(e)s", e=field_name))
    if isinstance(exc, TemplateError):
        line = getattr(exc, "lineno", None)
        where = _l("第 %(n)d 行：", n=line) if line else ""
        return TemplateRefused(_l("模板有误：%(w)s%(e)s", w=where, e=str(exc)[:200]))
    if isinstance(exc, OverflowError):
        return TemplateRefused(_l("模板中的数字过大：%(e)s", e=str(exc)[:200]))
    return TemplateRefused(_l("模板无法渲染：%(e)s", e=f"{type(exc).__name__}: {str(exc)[:200]}"))


def parse(source: str) -> Any:
    """The template's syntax tree (for the field check on save), or TemplateRefused."""
    try:
        return _Sandbox().parse(source or "")
    except TemplateError as exc:
        raise _message(exc) from None


def render(source: str, data: dict[str, Any]) -> str:
    """The template over `data`, or TemplateRefused saying what went wrong (sandbox, budget,
    an unknown field, a syntax error)."""
    env = _Sandbox()
    try:
        template = env.from_string(_loops_counted(source or "", env))
        out: list[str] = []
        size = 0
        for piece in template.generate(**data, __iterate=env.iterate):
            size += len(piece)
            if size > MAX_OUTPUT:
                raise TemplateRefused(_l("打印内容过大（超过 %(m)d MB），已停止", m=MAX_OUTPUT // 1024 // 1024))
            env.budget.spend(0)
            out.append(piece)
        return "".join(out)
    except TemplateRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the template did, the user gets a message
        raise _message(exc) from None


@dataclass
class Page:
    """The page a template prints on (a PrintTemplate's layout columns, as plain values)."""

    paper: str = "A4"
    landscape: bool = False
    width_mm: int | None = None
    height_mm: int | None = None
    margins: tuple[int, int, int, int] = (15, 15, 15, 15)  # top right bottom left
    header: str = ""   # rendered HTML
    footer: str = ""
    logo_data_uri: str | None = None
    extra_css: str = ""
    title: str = ""
    classes: list[str] = field(default_factory=list)

    def size_mm(self) -> tuple[int, int]:
        if self.paper == "custom" and self.width_mm and self.height_mm:
            width, height = self.width_mm, self.height_mm
        else:
            width, height = PAPER_MM.get(self.paper, PAPER_MM["A4"])
        if self.paper in ENVELOPES:
            return (max(width, height), min(width, height))
        return (height, width) if self.landscape else (width, height)


def logo_data_uri(root: str | Path, key: str | None) -> str | None:
    """A stored logo as a data: URI (the PDF renderer fetches nothing)."""
    from rules import file_store

    if not key:
        return None
    try:
        raw = file_store.path_of(root, key).read_bytes()
    except OSError:
        return None
    kind = "png" if raw.startswith(b"\x89PNG") else "jpeg" if raw.startswith(b"\xff\xd8") else "gif"
    return f"data:image/{kind};base64,{base64.b64encode(raw).decode()}"


def page_css(page: Page) -> str:
    width, height = page.size_mm()
    top, right, bottom, left = (max(0, min(int(m), 60)) for m in page.margins)
    return (f"@page {{ size: {width}mm {height}mm; margin: {top}mm {right}mm {bottom}mm {left}mm;"
            " @top-center { content: element(kechi-header); } @bottom-center { content: element(kechi-footer); } }\n"
            f"html {{ font-family: {FONT_STACK}; font-size: 10.5pt; color: #000; }}\n"
            "body { margin: 0; }\n"
            ".kechi-print-header { position: running(kechi-header); }\n"
            ".kechi-print-footer { position: running(kechi-footer); }\n"
            "table { border-collapse: collapse; } .kechi-lines { width: 100%; }\n"
            ".kechi-lines th, .kechi-lines td { border: 1px solid #333; padding: 2px 4px; }\n"
            ".kechi-lines td.num { text-align: right; }\n"
            ".kechi-logo { max-height: 18mm; max-width: 60mm; }\n")


def document(page: Page, body_html: str) -> str:
    """A whole HTML page: the print CSS, header and footer, the logo, and the rendered body.
    The same page is the browser's print preview and WeasyPrint's input."""
    logo = f'<img class="kechi-logo" alt="" src="{page.logo_data_uri}">' if page.logo_data_uri else ""
    header = f'<div class="kechi-print-header">{logo}{page.header}</div>' if (logo or page.header) else ""
    footer = f'<div class="kechi-print-footer">{page.footer}</div>' if page.footer else ""
    classes = " ".join(escape(c) for c in page.classes)
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(page.title)}</title><style>{page_css(page)}{page.extra_css}</style></head>"
            f"<body class=\"{classes}\">{header}{footer}<main class=\"kechi-print-body\">{body_html}</main></body></html>")
