"""A stand-in for rules/print_data.py and rules/print_templates.py (the templates engineer's, not on
this branch): the names and signatures the shared-quote page calls, over the real sandbox of
rules/print_render, so the page's use of a print template is tested before those modules are
merged. Used only by the quote-share tests; delete once the real modules are on main (the tests
then run against them: see `installed`)."""
from __future__ import annotations

import sys
from datetime import datetime
from types import ModuleType
from typing import Any

from sqlalchemy import select

from models import db
from models.printing import PrintDocType, PrintTemplate
from models.quote import Quote
from rules import print_render

BODY = """
<h1 style="text-align:center;letter-spacing:.5em">报价单</h1>
<table style="width:100%"><tr><td>客户：{{ customer.name }}</td><td style="text-align:right">单号：{{ quote.number }}</td></tr>
<tr><td>报价日期：{{ quote.quote_date|date }}</td><td style="text-align:right">有效期至：{{ quote.valid_until|date }}</td></tr></table>
<table class="kechi-lines"><thead><tr><th>序号</th><th>产品名称</th><th>编码</th><th>规格</th><th>单位</th><th>数量</th>
<th>单价</th><th>折扣</th><th>金额</th><th>备注</th></tr></thead><tbody>
{% for line in lines %}<tr><td>{{ loop.index }}</td><td>{{ line.name }}</td><td>{{ line.code }}</td><td>{{ line.spec }}</td>
<td>{{ line.unit }}</td><td class="num">{{ line.quantity }}</td><td class="num">{{ line.unit_price|money }}</td>
<td class="num">{{ line.discount }}</td><td class="num">{{ line.amount|money }}</td><td></td></tr>{% endfor %}
</tbody></table>
<p>合计：{{ quote.total|money }}（{{ quote.total|amount_words }}）</p>
<p>打印人：{{ printed_by }}</p>
"""


def build(session: Any, doc_type: str, record_id: int, *, actor: Any, now: datetime) -> dict:
    assert str(doc_type) == PrintDocType.QUOTE
    quote = session.get(Quote, record_id)
    return {"quote": {"number": str(quote), "quote_date": quote.quote_date, "valid_until": quote.valid_until,
                      "total": quote.total},
            "customer": {"name": quote.customer.name},
            "lines": [{"name": line.product.name, "code": line.product.code, "spec": line.product.spec or "",
                       "unit": line.product.unit or "", "quantity": line.quantity, "unit_price": line.unit_price,
                       "discount": str(line.discount_rate), "amount": line.amount} for line in quote.lines],
            "printed_by": actor.display_name}


def default_for(session: Any, doc_type: str) -> PrintTemplate | None:
    return session.scalar(select(PrintTemplate).where(PrintTemplate.doc_type == str(doc_type),
                                                      PrintTemplate.is_default.is_(True),
                                                      PrintTemplate.deleted_at.is_(None)))


def render_page(session: Any, template: PrintTemplate, data: dict, *, files_root: str) -> str:
    page = print_render.Page(paper=template.paper, margins=(template.margin_top, template.margin_right,
                                                             template.margin_bottom, template.margin_left),
                             title=template.name)
    return print_render.document(page, print_render.render(template.body, data))


def add_template(body: str = BODY, *, name: str = "标准报价单", default: bool = True) -> int:
    template = PrintTemplate(doc_type=PrintDocType.QUOTE, name=name, body=body, is_default=default)
    db.session.add(template)
    db.session.commit()
    return template.id


def install(monkeypatch: Any) -> None:
    """Put the stand-ins where `from rules import print_data, print_templates` finds them."""
    import rules

    for name, functions in (("print_data", {"build": build}),
                            ("print_templates", {"default_for": default_for, "render_page": render_page})):
        module = ModuleType(f"rules.{name}")
        module.__dict__.update(functions)
        monkeypatch.setitem(sys.modules, f"rules.{name}", module)
        monkeypatch.setattr(rules, name, module, raising=False)


def installed() -> bool:
    """Whether the real modules are here (after the merge)."""
    try:
        from rules import print_data, print_templates  # noqa: F401
    except ImportError:
        return False
    return True
