"""Quick search (一键搜索) over name, code, mnemonic, contact names and phones.

Users type 1–2 Chinese characters (华为, 科技) as often as longer strings, pinyin initials
(bjhy) and phone fragments (1380). A trigram index cannot answer short CJK patterns, so each
customer's searchable values are cut into tokens:
- runs of CJK characters: every single character and every pair of neighbours;
- runs of letters and digits: every three neighbours (a run shorter than 3 is one token).
A query is cut the same way; a customer matches when it holds all the query's tokens AND its
text contains the query as a substring (the tokens only narrow the rows; the substring check
makes the answer exact). When the term is itself one token the index is already exact and the
substring check is skipped. ASCII parts shorter than 3 characters cannot use the index and fall
back to the substring check alone.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, literal, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from models.customer import Contact, Customer, CustomerSearch
from rules import normalize

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[0-9a-z]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
_PHONE_LIKE = re.compile(r"\+?\d[\d\s()-]*\d")


def _run_tokens(run: str, *, query: bool) -> set[str]:
    if _IS_CJK.match(run):
        if len(run) == 1:
            return {run}
        pairs = {run[i:i + 2] for i in range(len(run) - 1)}
        return pairs if query else pairs | set(run)
    if len(run) < 3:
        return set() if query else {run}
    return {run[i:i + 3] for i in range(len(run) - 2)}


def normalised(value: object) -> str:
    return normalize.text(value).lower()


def tokens_of(values: Iterable[object]) -> set[str]:
    tokens: set[str] = set()
    for value in values:
        for run in _RUNS.findall(normalised(value)):
            tokens |= _run_tokens(run, query=False)
    return tokens


def query_tokens(term: str) -> set[str]:
    tokens: set[str] = set()
    for run in _RUNS.findall(normalised(term)):
        tokens |= _run_tokens(run, query=True)
    return tokens


def searchable_values(customer: Customer, contacts: Iterable[Contact]) -> list[str]:
    contacts = list(contacts)
    values = [customer.name, customer.code, customer.mnemonic, customer.phone, customer.mobile]
    for contact in contacts:
        # a contact is found by the initials of its name too (曾广银 → zgy)
        values += [contact.name, normalize.mnemonic(contact.name, person=True), contact.mobile, contact.phone]
    values += [customer.custom.get(k) for k in sorted(customer.custom or {}) if isinstance(customer.custom.get(k), str)]
    # Phone numbers are also searchable by their digits alone (0317-71490681 → 031771490681).
    values += [normalize.phone(v) for v in (customer.phone, customer.mobile) if v]
    values += [normalize.phone(v) for contact in contacts for v in (contact.mobile, contact.phone) if v]
    return [normalised(v) for v in values if normalize.text(v)]


def row_for(customer: Customer, contacts: Iterable[Contact]) -> dict[str, object]:
    return index_row(customer.id, searchable_values(customer, contacts))


def index_row(customer_id: int, values: list[str]) -> dict[str, object]:
    """The customer_search row for already-normalised values (bulk loaders call this)."""
    return {"customer_id": customer_id, "body": "\n".join(values), "tokens": " ".join(sorted(tokens_of(values)))}


def refresh(session: Session, customer: Customer) -> None:
    """Rewrite one customer's search row (after a save, a contact change, a merge)."""
    session.flush()
    contacts = session.scalars(select(Contact).where(Contact.customer_id == customer.id))
    session.execute(delete(CustomerSearch).where(CustomerSearch.customer_id == customer.id))
    session.execute(insert(CustomerSearch), [row_for(customer, contacts)])


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(needle: str) -> ColumnElement[bool]:
    """The customer's search text contains `needle`: what makes every answer exact."""
    return CustomerSearch.body.like(f"%{_like_escape(needle)}%", escape="\\")


def index_is_exact(needle: str) -> bool:
    """The token index alone answers a term that is one token: 1–2 Chinese characters or
    exactly 3 letters/digits (the commonest searches). Every customer holding that token
    contains the term, so the substring re-check, which costs a row read per hit, is skipped."""
    if not _RUNS.fullmatch(needle):
        return False
    return len(needle) <= 2 if _IS_CJK.match(needle) else len(needle) == 3


# Above this many index hits, SQLite should walk the list's sort index and test each row
# against the hits, stopping after a page, rather than fetch and sort every hit.
COMMON_HITS = 2_000


def _fts_query(tokens: list[str]) -> str:
    return " ".join('"' + t.replace('"', '""') + '"' for t in tokens)


def _sqlite_hits_at_least(session: Session, fts: str, n: int) -> bool:
    found = session.execute(text(
        "SELECT count(*) FROM (SELECT rowid FROM customer_fts WHERE customer_fts MATCH :fts LIMIT :n)"),
        {"fts": fts, "n": n}).scalar()
    return bool(found and found >= n)


def clause_among_few(term: str) -> ColumnElement[bool] | None:
    """`clause` for a part of a list that holds a handful of customers (those shared with a
    salesperson): each row is checked against its own search row. The substring test alone gives
    the same answer as `clause` (a value containing the term holds all of the term's tokens), and
    a common term's hit list is not built to keep five rows."""
    needle = normalised(term)
    if not needle:
        return None
    return select(CustomerSearch.customer_id).where(CustomerSearch.customer_id == Customer.id,
                                                    _contains(needle)).exists()


def clause(session: Session, term: str, *, counting: bool = False) -> ColumnElement[bool] | None:
    """Customers matching the quick-search term, as a WHERE clause on Customer. `counting`:
    the clause is for the (capped) count, which is best driven by the hits themselves."""
    needle = normalised(term)
    if _PHONE_LIKE.fullmatch(needle):  # a number copied from the screen: 138 1234 5678, 0317-7149…
        needle = normalize.phone(needle)  # +86 138… → 138…; a fragment keeps its digits
    if not needle:
        return None
    tokens = sorted(query_tokens(needle))
    exact = bool(tokens) and index_is_exact(needle)
    like = _contains(needle)
    if not tokens:
        return Customer.id.in_(select(CustomerSearch.customer_id).where(like))
    if session.get_bind().dialect.name == "postgresql":
        token_array = literal_column("customer_search.token_array", ARRAY(Text))  # see models/customer.py
        matches = select(CustomerSearch.customer_id).where(token_array.op("@>")(literal(tokens, ARRAY(Text))))
        return Customer.id.in_(matches if exact else matches.where(like))
    fts = _fts_query(tokens)
    hits = select(literal_column("rowid")).select_from(table("customer_fts")).where(
        literal_column("customer_fts").op("MATCH")(literal(fts)))
    matches = hits if exact else select(CustomerSearch.customer_id).where(like, CustomerSearch.customer_id.in_(hits))
    if not counting and _sqlite_hits_at_least(session, fts, COMMON_HITS):
        # `id + 0` hides the primary key from SQLite's planner, so it keeps the sort order's
        # index and stops after a page instead of sorting every hit.
        return (Customer.id + 0).in_(matches)
    return Customer.id.in_(matches)


def token_index_clause(session: Session, term: str, *, key: Any, index_key: Any, index_body: Any,
                       fts_table: str, token_array: str) -> ColumnElement[bool] | None:
    """`clause`'s method for another search table cut the same way (one row per record: `index_key`,
    `index_body` normalised text, tokens mirrored into the SQLite FTS5 table `fts_table` and
    PostgreSQL's stored array column `token_array` with its GIN index): records whose text
    contains `term`, as a WHERE clause on `key`. None: no term."""
    needle = normalised(term)
    if not needle:
        return None
    tokens = sorted(query_tokens(needle))
    exact = bool(tokens) and index_is_exact(needle)
    like = index_body.like(f"%{_like_escape(needle)}%", escape="\\")
    if not tokens:
        return key.in_(select(index_key).where(like))
    if session.get_bind().dialect.name == "postgresql":
        array = literal_column(token_array, ARRAY(Text))
        matches = select(index_key).where(array.op("@>")(literal(tokens, ARRAY(Text))))
        return key.in_(matches if exact else matches.where(like))
    fts = _fts_query(tokens)
    hits = select(literal_column("rowid")).select_from(table(fts_table)).where(
        literal_column(fts_table).op("MATCH")(literal(fts)))
    matches = hits if exact else select(index_key).where(like, index_key.in_(hits))
    found = session.execute(text(f"SELECT count(*) FROM (SELECT rowid FROM {fts_table} WHERE {fts_table} MATCH :fts "
                                 "LIMIT :n)"), {"fts": fts, "n": COMMON_HITS}).scalar()
    if found and found >= COMMON_HITS:
        # As for customers: hide the key from SQLite's planner so it walks the list's sort
        # index and stops after a page instead of sorting every hit.
        return (key + 0).in_(matches)
    return key.in_(matches)
