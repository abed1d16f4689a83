"""What the public page of a shared quote shows: the quote through the default 报价单 print
template (rules/print_data + rules/print_templates), or, when there is no template or it cannot
render, the built-in layout (templates/quote_shares/_builtin.html), always under the watermark."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models.printing import PrintDocType, PrintTemplate
from models.quote import Quote
from rules import messaging, print_data, print_templates, quote_shares
from rules.clock import local_date
from rules.errors import RuleViolation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SharePage:
    quote: Quote
    company: str
    document: str | None   # the print template's whole HTML page, shown in a sandboxed frame
    watermark: str
    offer_lapsed: bool     # 有效期至 has passed: the page says so above the quote


def _template(session: Session, template_id: int | None) -> PrintTemplate | None:
    if template_id is not None:
        chosen = session.get(PrintTemplate, template_id)
        if chosen is not None and chosen.active and chosen.deleted_at is None:
            return chosen
    return print_templates.default_for(session, PrintDocType.QUOTE)


def document(session: Session, opened: quote_shares.Opened, *, now: datetime, files_root: str) -> str | None:
    """The quote as its print template lays it out, read as the link's reader (the token was the
    permission), or None for the built-in layout."""
    template = _template(session, opened.share.template_id)
    if template is None:
        return None
    try:
        data = print_data.build(session, PrintDocType.QUOTE, opened.quote.id,
                                actor=quote_shares.reader(session, opened.share), now=now)
        return print_templates.render_page(session, template, data, files_root=files_root)
    except RuleViolation as exc:  # a template that no longer renders: the customer still gets the quote
        log.warning("quote share %s: template %s refused (%s); built-in layout shown",
                    opened.share.id, template.id, exc)
        return None


def build(session: Session, opened: quote_shares.Opened, *, now: datetime, tz: str, files_root: str) -> SharePage:
    quote = opened.quote
    today = local_date(now, tz)
    return SharePage(quote=quote, company=messaging.load_settings(session).get("company_name") or "",
                     document=document(session, opened, now=now, files_root=files_root),
                     watermark=quote_shares.watermark(quote.customer.name, today),
                     offer_lapsed=quote.valid_until is not None and quote.valid_until < today)
