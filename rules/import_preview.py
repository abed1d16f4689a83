"""导入预检: the whole file checked before anything is written (a dry run).

The dry run is a job of its own (kind CHECK_KIND) beside the import's draft: it reads every
row with the same Reader and importer checks the import uses, keeps each row's outcome as a
JobRowIssue of the check job (so the preview pages through the rows of any outcome) and its
counters, and tallies the values no dictionary knows for the 值对应 step. The commit then runs
the import, whose duplicate checks see the database as it is at that moment.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.job import JobRecord, JobRowIssue, JobStatus, RowOutcome
from rules import import_values, importing

CHECK_KIND = "check_import"
PAGE_SIZE = 50
OUTCOME_NAMES = {RowOutcome.IMPORTED: _l("将导入"), RowOutcome.IMPORTED_WITH_WARNINGS: _l("将导入（有警告）"),
                 RowOutcome.UPDATED: _l("将更新"), RowOutcome.SKIPPED: _l("将跳过"),
                 RowOutcome.REJECTED: _l("不能导入")}
_QUOTED = re.compile(r"“[^”]*”")


def reader_for(session: Session, entity: str, params: dict[str, Any]) -> importing.Reader:
    options = params.get("options") or {}
    return importing.Reader(session, entity, params["mapping"], values=params.get("values"),
                            strict=bool(options.get("strict")))


def unmatched_values(session: Session, entity: str, params: dict[str, Any],
                     rows: list[tuple[int, list[Any]]], actor: Any = None) -> dict[str, list[list[Any]]]:
    """值对应: per column key, the values of the whole file nothing matches yet, with counts
    (业务员 names too, given the importer)."""
    vocabs = import_values.vocabularies(session, importing.columns(session, entity), actor)
    found = import_values.unmatched(vocabs, params["mapping"], rows, params.get("values"))
    return {key: [[value, count] for value, count in pairs] for key, pairs in found.items()}


def totals(check: JobRecord) -> list[tuple[RowOutcome, int]]:
    counts = {RowOutcome.IMPORTED: check.imported, RowOutcome.IMPORTED_WITH_WARNINGS: check.warned,
              RowOutcome.UPDATED: check.updated, RowOutcome.SKIPPED: check.skipped,
              RowOutcome.REJECTED: check.rejected}
    return [(outcome, counts[outcome]) for outcome in OUTCOME_NAMES]


def reason_totals(session: Session, check_id: int, *, limit: int = 12) -> list[tuple[RowOutcome, str, int]]:
    """The commonest reasons, each counted once per row: the values in “quotes” are set aside
    so that 200 bad mobiles are one reason, not 200."""
    counter: Counter = Counter()
    rows = session.execute(select(JobRowIssue.outcome, JobRowIssue.reason).where(
        JobRowIssue.job_id == check_id, JobRowIssue.outcome != RowOutcome.IMPORTED))
    for outcome, reason in rows:
        for piece in {_QUOTED.sub("“…”", p.strip()) for p in (reason or "").split("；") if p.strip()}:
            counter[(outcome, piece)] += 1
    return [(RowOutcome(o), r, n) for (o, r), n in counter.most_common(limit)]


def rows_page(session: Session, check_id: int, outcome: str | None, page: int) -> tuple[list[JobRowIssue], int]:
    """One page (0-based) of the dry run's rows of an outcome (all when None), and how many pages."""
    where = [JobRowIssue.job_id == check_id]
    if outcome:
        where.append(JobRowIssue.outcome == outcome)
    count = session.scalar(select(func.count()).select_from(JobRowIssue).where(*where)) or 0
    pages = max(1, -(-count // PAGE_SIZE))
    found = list(session.scalars(select(JobRowIssue).where(*where).order_by(JobRowIssue.row_no)
                                 .offset(min(page, pages - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return found, pages


def discard(session: Session, check_id: int | None) -> None:
    """A finished dry run that a new one replaces, with its kept rows (one still running is left
    to finish: deleting it under its worker would only make that worker fail)."""
    check = session.get(JobRecord, check_id) if check_id else None
    if check is None or check.kind != CHECK_KIND or check.status not in (JobStatus.DONE, JobStatus.FAILED):
        return
    session.execute(delete(JobRowIssue).where(JobRowIssue.job_id == check.id))
    session.delete(check)
