"""Quick search of leads: by any part of a name (线索名称, company, contact) and by the start of a
phone number, through the lead's own lead_keys rows, so one indexed mechanism (ix_lead_keys_lookup
on field, value) answers both the 撞单 checks and the search.

- A name is cut into tokens as customer search cuts it (rules/search.py: Chinese characters and
  pairs of neighbours, letter/digit runs by three), stored as rows of field "gram". A term matches
  a lead holding every one of the term's tokens, and, unless the term is itself one token, whose
  name contains the term (the tokens narrow, the substring check makes the answer exact).
- A phone's digits are stored under "digits"; a term that looks like a number matches the leads
  with a number starting with it (an index range, not a scan): 138, 1380013, 0317-7149.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from models.lead import Lead, LeadKey
from rules import normalize, search

GRAM, DIGITS = "gram", "digits"
# A token held by this many leads is common: the list then walks its newest-first index and
# tests each row, instead of fetching and sorting every hit.
COMMON_HITS = 2_000
_MIN_PHONE = 3


def keys_for(lead: Lead) -> set[tuple[str, str]]:
    """The search rows of a lead (written with its duplicate-check keys)."""
    keys = {(GRAM, token[:128]) for token in search.tokens_of([lead.name, lead.company, lead.contact_name])}
    for value in (lead.mobile, lead.phone):
        digits = normalize.phone(value) if normalize.text(value) else ""
        if digits:
            keys.add((DIGITS, digits[:128]))
    return keys


def _phone_term(needle: str) -> str | None:
    if not search._PHONE_LIKE.fullmatch(needle):
        return None
    digits = normalize.phone(needle)
    return digits if len(digits) >= _MIN_PHONE else None


def _matching(field: str, token: str, *, prefix: bool, per_lead: bool) -> list[ColumnElement[bool]]:
    """Rows of lead_keys holding `token` (or, with `prefix`, a value starting with it). `per_lead`:
    as asked of one lead's own rows (ix_lead_keys_lead_id); the `|| ''` keeps both databases off
    the (field, value) index, which would read every hit."""
    kind, value = (LeadKey.field.concat(""), LeadKey.value.concat("")) if per_lead else (LeadKey.field, LeadKey.value)
    # '9' + 1 is ':': every value starting with the digits sorts in [digits, digits + ':').
    return [kind == field, *((value >= token, value < token + ":") if prefix else (value == token,))]


def _holds(session: Session, field: str, token: str, *, prefix: bool = False,
           counting: bool = False) -> ColumnElement[bool]:
    """The lead holds `token`. A common token (科技, 有限公司's 有限, a 138 prefix) is asked of each
    lead the list walks newest first, stopping after a page: a few hundred key rows read by
    lead, where collecting its hits would read 100k+. A rare token drives from its hits."""
    hits = select(LeadKey.lead_id).where(*_matching(field, token, prefix=prefix, per_lead=False))
    if counting:
        return Lead.id.in_(hits)
    found = session.scalar(select(func.count()).select_from(hits.limit(COMMON_HITS).subquery())) or 0
    if found < COMMON_HITS:
        return Lead.id.in_(hits)
    return select(LeadKey.id).where(LeadKey.lead_id == Lead.id,
                                    *_matching(field, token, prefix=prefix, per_lead=True)).exists()


def clause(session: Session, term: str, *, counting: bool = False) -> ColumnElement[bool] | None:
    """Leads matching the quick-search term, as a WHERE clause on Lead (None: no term)."""
    needle = search.normalised(term)
    if not needle:
        return None
    digits = _phone_term(needle)
    if digits is not None:
        return _holds(session, DIGITS, digits, prefix=True, counting=counting)
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = or_(*(func.lower(column).like(f"%{escaped}%", escape="\\")
                 for column in (Lead.name, Lead.company, Lead.contact_name)))
    tokens = sorted(search.query_tokens(needle))
    if not tokens:  # one or two letters: no token to look up, the names alone are read
        return like
    parts = [_holds(session, GRAM, t, counting=counting) for t in tokens]
    if not search.index_is_exact(needle):
        parts.append(like)
    return and_(*parts)
