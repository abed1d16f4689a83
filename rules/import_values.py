"""值对应: the values of a sheet's dictionary-like columns matched to what the system knows.

A legacy sheet writes 医药行业 where the dictionary says 医药, ＡＢＣ where it says abc, and
老客户介绍 where the firm never had that source. Each such column is a `Vocabulary` (the
dictionary items of its kind, the options of a custom choice field, the provinces; the 业务员
column plugs in the same way, with the colleagues the importer may name, and a name left empty
there gives its rows to the owner chosen for the file, as a blank 业务员 cell does); a value matches when the column's
own reading knows it or its folded form matches. What does not match is listed with
its count, and the user maps it to an existing value, adds it to the dictionary or leaves the
field empty; those choices are remembered per sheet layout with the column mapping.

Folding (`fold`) ignores width (ＡＢＣ/ABC, ０/0), case, spaces and punctuation, and trailing
suffixes from `SUFFIXES`: the words sheets add to a name (医药行业 → 医药, 北京市 → 北京).
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.dictionary import DictItem
from rules import normalize, regions, settings
from rules.actor import Actor
from rules.importing import Column, cell_text, header_key

# Longest first, so 行业 goes before 业. Kept short on purpose: each one merges names.
SUFFIXES = ("自治区", "行业", "客户", "类别", "渠道", "级别", "省", "市", "区", "县", "类", "业", "级")
_NOISE = re.compile(r"[\s\-_·.,，。、/\\()（）\[\]【】]+")
LEAVE_EMPTY = ""  # the choice that leaves the field empty
ADD_NEW = "new"  # the choice that adds the value to the dictionary


def fold(value: Any) -> str:
    """The form of a value that matching compares: 医药行业、ＹＹ 医药、医药 all fold to 医药."""
    text = _NOISE.sub("", unicodedata.normalize("NFKC", cell_text(value))).lower()
    # Stripped until none is left, so that 制造业行业 and 制造业 both come to 制造.
    stripped = True
    while stripped:
        stripped = False
        for suffix in SUFFIXES:
            if len(text) > len(suffix) and text.endswith(suffix):
                text, stripped = text[: -len(suffix)], True
                break
    return text


def exact_key(value: Any) -> str:
    """The form of a person's name that choices compare: spaces and case only."""
    return normalize.text(cell_text(value)).lower()


@dataclass
class Vocabulary:
    """The known values of one column: (stored value, label) pairs, matched by folded form."""

    column: Column
    values: list[tuple[Any, str]]  # (what the record stores, what the user reads)
    can_add: bool = False  # new values may be added (dictionary columns only)
    recognise: Callable[[str], Any] | None = None  # the column's own reading first (provinces)
    by_fold: dict[str, Any] = field(default_factory=dict)
    # People's names are not folded: 王建业 and 王建 are two people, whatever 业 means in 制造业.
    exact: bool = False

    def __post_init__(self) -> None:
        for value, label in self.values:
            self.by_fold.setdefault(fold(label), value)

    def key(self, raw: Any) -> str:
        """What a choice for `raw` is remembered under."""
        return exact_key(raw) if self.exact else fold(raw)

    def match(self, raw: Any) -> Any | None:
        if self.recognise is not None and (found := self.recognise(normalize.text(cell_text(raw)))):
            return found
        return None if self.exact else self.by_fold.get(fold(raw))


_province = lru_cache(maxsize=4096)(regions.match_province)  # a sheet names the same few over and over


def vocabularies(session: Session, cols: list[Column], actor: Actor | None = None) -> dict[str, Vocabulary]:
    """Every dictionary-like column among `cols`, by key; the 业务员 column too when the
    importer (`actor`) is known: the colleagues it may name are its values."""
    items: dict[str, list[tuple[Any, str]]] = {}
    for item in session.scalars(select(DictItem).where(DictItem.active.is_(True))
                                .order_by(DictItem.kind, DictItem.sort_order, DictItem.id)):
        items.setdefault(item.kind, []).append((item.id, item.name))
    found = {}
    for col in cols:
        if col.kind == "dict":
            found[col.key] = Vocabulary(col, items.get(col.dict_kind, []), can_add=True)
        elif col.kind in ("custom", "contact_custom") and col.custom.field_type in ("choice", "multi_choice"):
            found[col.key] = Vocabulary(col, [(o, o) for o in col.custom.options or []])
        elif col.key == "province" and col.kind == "text":
            found[col.key] = Vocabulary(col, [(p, p) for p in regions.tree()], recognise=_province)
        elif col.kind == "user" and actor is not None:
            from rules.import_history import Staff

            staff = Staff(session, actor)
            found[col.key] = Vocabulary(col, staff.assignable(), exact=True,
                                        recognise=lambda written, staff=staff: staff.resolve(written)[0])
    return found


def unmatched(vocabs: dict[str, Vocabulary], mapping: list[str], rows: list[tuple[int, list[Any]]],
              choices: dict[str, dict[str, Any]] | None = None) -> dict[str, list[tuple[str, int]]]:
    """Per column key, the distinct values no known value matches and no choice covers, with
    how many rows hold them, most frequent first."""
    choices = choices or {}
    counts: dict[str, Counter] = {}
    for index, key in enumerate(mapping):
        vocab = vocabs.get(key)
        if vocab is None:
            continue
        chosen = choices.get(key, {})
        counter = counts.setdefault(key, Counter())
        for _row_no, row in rows:
            if index >= len(row) or row[index] in ("", None):
                continue
            for part in parts(vocab, row[index]):
                if vocab.match(part) is None and vocab.key(part) not in chosen:
                    counter[normalize.text(cell_text(part))] += 1
    return {k: c.most_common() for k, c in counts.items() if c}


def parts(vocab: Vocabulary, raw: Any) -> list[str]:
    if vocab.column.custom is not None and vocab.column.custom.field_type == "multi_choice":
        return [p for p in re.split(r"[,，;；、]", cell_text(raw)) if p.strip()]
    return [cell_text(raw)]


def resolve(vocab: Vocabulary, raw: Any, chosen: dict[str, Any]) -> tuple[bool, Any]:
    """(known, value): what a cell stores. A value the user chose to leave empty is known and
    None; a value neither matched nor chosen is unknown."""
    value = vocab.match(raw)
    if value is not None:
        return True, value
    key = vocab.key(raw)
    if key in chosen:
        picked = chosen[key]
        return True, (picked if picked not in (LEAVE_EMPTY, None) else None)
    return False, None


def layout_signature(headers: list[Any]) -> str:
    """A sheet layout: its headers as compared (order kept), hashed short."""
    keys = [header_key(h) for h in headers]
    return hashlib.sha1(json.dumps(keys, ensure_ascii=False).encode()).hexdigest()[:16]


def _setting_key(entity: str, user_id: int, headers: list[Any]) -> str:
    return f"import_values:{entity}:{user_id}:{layout_signature(headers)}"


def remembered_choices(session: Session, entity: str, user_id: int, headers: list[Any]) -> dict[str, dict[str, Any]]:
    return settings.get(session, _setting_key(entity, user_id, headers)) or {}


def remember_choices(session: Session, entity: str, user_id: int, headers: list[Any],
                     choices: dict[str, dict[str, Any]]) -> None:
    stored = remembered_choices(session, entity, user_id, headers)
    for key, chosen in choices.items():
        stored[key] = {**stored.get(key, {}), **chosen}
    settings.put(session, _setting_key(entity, user_id, headers), stored)


def add_to_dictionary(session: Session, vocab: Vocabulary, raw: Any) -> int:
    """The id of a new dictionary item named as the sheet writes it (the caller checked the
    permission); an inactive item of that name is switched back on."""
    name = normalize.text(cell_text(raw))[:64]
    kind = vocab.column.dict_kind
    item = session.scalar(select(DictItem).where(DictItem.kind == kind, DictItem.name == name))
    if item is None:
        last = max((v for v, _l in vocab.values), default=0)
        item = DictItem(kind=kind, name=name, sort_order=len(vocab.values) + 1 if last else 1)
        session.add(item)
    item.active = True
    session.flush()
    vocab.values.append((item.id, item.name))
    vocab.by_fold.setdefault(fold(item.name), item.id)
    return item.id
