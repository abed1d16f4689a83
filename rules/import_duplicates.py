"""Duplicates in an import decided as a person (and the entry policy) would decide them.

The entry policy's check (rules/entry.py, the form's own) finds every field a row shares with an
existing customer or an earlier row of the file. What makes the row *the same customer* is the
policy: a shared phone, mobile or other checked field does; a shared name alone does when the
policy forbids duplicate names or the row has no phone or mobile to tell it apart. Where the policy merely warns about names, a namesake with
other phones is another customer (two shops called 华联超市 in two provinces): the row is imported
and the preview names the namesake, as the form's warning would. Rows and existing customers
are named only inside the importer's scope; outside it the preview says only that it collides.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from models.customer import Customer
from rules import entry, scope
from rules.actor import Actor
from rules.entry import EntryIssue, Lookup


def visible_ids(session: Session, actor: Actor, found: Iterable[list[tuple[int, str, str | None]]]) -> set[int]:
    """Of the customers a batch's keys matched, those the importer may see (one query)."""
    ids = sorted({cid for matches in found for cid, _name, _code in matches})
    return set(scope.ids_in_scope(session, Customer, ids, actor)) if ids else set()


def masked(lookup: Lookup, visible: set[int]) -> Lookup:
    """The look-up the entry check names existing customers from, with those outside the
    importer's scope unnamed (their number is withheld too)."""

    def answer(field_name: str, key: str) -> list[tuple[int, str, str | None]]:
        return [(cid, name, code) if cid in visible else (cid, str(_l("权限范围外的客户")), None)
                for cid, name, code in lookup(field_name, key)]

    return answer


PHONE_FIELDS = frozenset({"phone", "mobile"})


def _name_alone_is_duplicate(policy: dict[str, Any], keys: set[tuple[str, str]]) -> bool:
    """A row without a phone or mobile has nothing but its name to tell it apart."""
    return policy["duplicates"].get("name") == entry.FORBID or not any(f in PHONE_FIELDS for f, _v in keys)


@dataclass
class Collisions:
    """A row's matches against the database, sorted into what makes it a duplicate and what is
    only a namesake to mention."""

    duplicate_fields: set[str] = field(default_factory=set)
    namesakes: list[EntryIssue] = field(default_factory=list)


def against_database(issues: list[EntryIssue], *, hits: list[tuple[str, int]], protected_hits: list[str],
                     policy: dict[str, Any], keys: set[tuple[str, str]],
                     found: dict[tuple[str, str], list[tuple[int, str, str | None]]]) -> Collisions:
    """`keys`: the row's own (field, value) pairs; `hits`: (field, customer id) the policy's check
    matched; `found`: every customer holding each key, checked by the policy or not."""
    by_customer: dict[int, set[str]] = {}
    for field_name, cid in hits:
        by_customer.setdefault(cid, set()).add(field_name)
    same_phone = {cid for key in keys if key[0] in PHONE_FIELDS for cid, _n, _c in found.get(key, [])}
    fields = {f for f, _cid in hits} | set(protected_hits)
    namesakes_only = ("name" in fields and "name" not in protected_hits and not _name_alone_is_duplicate(policy, keys)
                      and all(matched == {"name"} and cid not in same_phone
                              for cid, matched in by_customer.items() if "name" in matched))
    if not namesakes_only:
        return Collisions(fields)
    return Collisions(fields - {"name"}, [i for i in issues if i.field == "name"])


def file_keys(keys: set[tuple[str, str]], *, policy: dict[str, Any]) -> set[tuple[str, str]]:
    """The keys an earlier row is remembered by: those the policy checks, and its phones (a
    namesake with the same phone is the same customer even where phones are not checked)."""
    checked = _checked(policy)
    return {(f, v) for f, v in keys if f in checked or (f in PHONE_FIELDS and "name" in checked)}


def _checked(policy: dict[str, Any]) -> set[str]:
    return {f for f, action in policy["duplicates"].items() if action != entry.ALLOW}


@dataclass
class FileMatch:
    """Earlier rows of the file this row repeats, and those it only shares a name with."""

    duplicate_rows: list[int] = field(default_factory=list)
    namesake_rows: list[int] = field(default_factory=list)
    forbidden: bool = False  # a field the policy forbids to repeat: 仍然导入 cannot take it

    def reason(self) -> str:
        rows = "、".join(str(n) for n in self.duplicate_rows)
        if self.forbidden:
            return str(_l("与文件第 %(n)s 行重复（录入策略不允许重复）", n=rows))
        return str(_l("与文件第 %(n)s 行重复", n=rows))

    def note(self) -> str:
        return str(_l("与文件第 %(n)s 行同名", n="、".join(str(n) for n in self.namesake_rows)))


def within_file(keys: set[tuple[str, str]], *, seen: dict[tuple[str, str], int], policy: dict[str, Any]) -> FileMatch:
    """Compare a row's keys with those of the earlier rows (`seen`: key → row number)."""
    checked = _checked(policy)
    by_row: dict[int, set[str]] = {}
    for key in keys:
        if key in seen:
            by_row.setdefault(seen[key], set()).add(key[0])
    match = FileMatch()
    for row_no in sorted(by_row):
        fields = by_row[row_no]
        strong = (fields & checked) - {"name"}
        if not strong and "name" not in fields:
            continue  # a phone only, where the policy does not check phones
        if not strong and not fields & PHONE_FIELDS and not _name_alone_is_duplicate(policy, keys):
            match.namesake_rows.append(row_no)
            continue
        match.duplicate_rows.append(row_no)
        if any(policy["duplicates"].get(f) == entry.FORBID for f in fields & checked):
            match.forbidden = True
    return match
