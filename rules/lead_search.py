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

from dataclasses import dataclass
from typing import Any

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


def _matching(field: str, token: str, *, prefix: bool, hidden: bool = False) -> list[ColumnElement[bool]]:
    """lead_keys rows holding `token` (or, with `prefix`, a value starting with it). `hidden`:
    `|| ''` keeps the database off the (field, value) index, which would read every hit where
    the lead's own rows (ix_lead_keys_lead_id) are wanted."""
    kind, value = (LeadKey.field.concat(""), LeadKey.value.concat("")) if hidden else (LeadKey.field, LeadKey.value)
    # '9' + 1 is ':': every value starting with the digits sorts in [digits, digits + ':').
    return [kind == field, *((value >= token, value < token + ":") if prefix else (value == token,))]


def _holds(session: Session, field: str, token: str, *, prefix: bool = False) -> tuple[Any, Any, bool]:
    """The lead holds `token`: the clause for a page, the one for the count, and whether the
    token is common. A common token (科技, 有限, a 138 prefix) is asked of each lead the list walks
    newest first, stopping after a page: a few hundred key rows read by lead, where collecting
    its hits would read 100k+ (both databases misjudge that from their statistics unless the
    (field, value) index is hidden from the per-lead test). PostgreSQL counts from the hits
    (the per-lead test unordered makes it hash every key row), stopping at the cap. A rare
    token drives from its hits."""
    hits = Lead.id.in_(select(LeadKey.lead_id).where(*_matching(field, token, prefix=prefix)))
    found = session.scalar(select(func.count()).select_from(
        select(LeadKey.id).where(*_matching(field, token, prefix=prefix)).limit(COMMON_HITS).subquery())) or 0
    if found < COMMON_HITS:
        return hits, hits, False
    per_lead = select(LeadKey.id).where(LeadKey.lead_id == Lead.id,
                                        *_matching(field, token, prefix=prefix, hidden=True)).exists()
    # SQLite would first copy every hit aside to test `IN`: its count walks the leads too.
    return per_lead, per_lead if session.get_bind().dialect.name == "sqlite" else hits, True


@dataclass(frozen=True)
class Match:
    """A search's WHERE clause for the page and for the count, and whether every token of it
    is common: such a search is cheap to page through but dear to count far."""

    where: Any
    count_where: Any
    common: bool


def find(session: Session, term: str) -> Match | None:
    """Leads matching the quick-search term (None: no term)."""
    needle = search.normalised(term)
    if not needle:
        return None
    digits = _phone_term(needle)
    if digits is not None:
        return Match(*_holds(session, DIGITS, digits, prefix=True))
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = or_(*(func.lower(column).like(f"%{escaped}%", escape="\\")
                 for column in (Lead.name, Lead.company, Lead.contact_name)))
    tokens = sorted(search.query_tokens(needle))
    if not tokens:  # one or two letters: no token to look up, the names alone are read
        return Match(like, like, True)
    held = [_holds(session, GRAM, t) for t in tokens]
    exact = search.index_is_exact(needle)
    page = [where for where, _count, _common in held] + ([] if exact else [like])
    count = [where for _page, where, _common in held] + ([] if exact else [like])
    return Match(and_(*page), and_(*count), all(common for _page, _count, common in held))
