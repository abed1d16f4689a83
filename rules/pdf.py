"""PDF from the HTML rules/print_render.py makes, by WeasyPrint (pango underneath; Debian's
fonts-noto-cjk gives the Chinese glyphs, embedded as a subset). The renderer fetches nothing:
a template's <img src="http://…"> or "file:///…" is left blank, only data: URIs load."""
from __future__ import annotations

import io
from typing import Any

from flask_babel import lazy_gettext as _l

from rules.errors import TemplateRefused


def _data_only() -> Any:
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",), allow_redirects=False, timeout=1)


def available() -> bool:
    try:
        import weasyprint  # noqa: F401 - loads pango
    except (ImportError, OSError):
        return False
    return True


def html_to_pdf(html: str) -> bytes:
    """The PDF of one HTML page (or several documents joined into one page, each starting a
    new sheet), or TemplateRefused when this machine cannot make PDFs."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError):
        raise TemplateRefused(_l("本机未安装生成 PDF 所需的系统库（pango），请运行 make run 安装，或使用浏览器打印")) from None
    out = io.BytesIO()
    HTML(string=html, url_fetcher=_data_only(), base_url="about:blank").write_pdf(out)
    return out.getvalue()


def text_of(pdf: bytes) -> str:
    """The text of a PDF (document search, and tests reading what was printed)."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
