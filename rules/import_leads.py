"""线索导入: leads through the customers' import pipeline (rules/importing.py reads the sheet and
its 值对应, jobs/excel.py runs the dry run and the batches, admin_views/excel.py is the wizard).

Each row goes through rules.leads.create_lead, the rule the lead form and the web form use
(tidying, required name, regions, custom fields, and 撞单 across leads, customers and the
customer pool with the customer's entry policy); a row the rule refuses is listed with the rule's
reason. The check *is* the write: the
dry run and the mapping page's preview roll the whole batch back afterwards, the import commits
it with the job's progress mark (rules/import_batch.record_batch), so a row is checked exactly as
it is imported. The rule refuses before it writes, so a refused row leaves nothing.

Duplicates as the customer import reports them: an earlier row of the file with the same checked
key is skipped ("与文件第 n 行重复"); a row the policy warns about (an existing lead or customer)
is skipped, or imported with the warning noted when the user chose 仍然导入; a forbidden one is
rejected. Leads land owned by the importer or, unowned, in the lead pool.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from models.job import RowOutcome
from models.lead import Lead
from rules import entry, import_duplicates, leads
from rules import pool as pool_rules
from rules.actor import Actor
from rules.errors import NeedsConfirmation, RuleViolation
from rules.import_batch import Options, Outcome
from rules.importing import Parsed, Reader
from rules.pool_subject import LEADS

PERMISSION = "lead.create"
ON_DUPLICATE = {"skip": _l("跳过（不导入）"), "import": _l("仍然导入（录入策略允许时）")}
VALUE_FIELDS = ("name", "company", "position", "phone", "mobile", "email", "wechat", "source_id", "industry_id",
                "province", "city", "district", "address", "notes")


class LeadImporter:
    """Checks and writes lead rows batch by batch (the pipeline's `remember`, `check`, `write`)."""

    def __init__(self, session: Session, *, actor: Actor, options: Options, reader: Reader, now: datetime) -> None:
        self.session, self.actor, self.options, self.reader, self.now = session, actor, options, reader, now
        self.policy = entry.load_policy(session)
        self.seen: dict[tuple[str, str], int] = {}  # checked keys of earlier rows → their row number
        self.refusal = self._refusal()
        # Into the importer's own lead pool, where their released leads would go too.
        self.pool_id = pool_rules.home_pool(session, actor.user_id, LEADS) if options.to_pool else None

    def _refusal(self) -> str | None:
        """A choice of the wizard leads cannot take: refuses every row with the reason."""
        if self.options.owner_id and self.options.owner_id != self.actor.user_id:
            return str(_l("线索只能导入为自己的线索或导入线索池"))
        return None

    def values(self, parsed: Parsed) -> dict[str, Any]:
        out = {k: v for k, v in parsed.values.items() if k in VALUE_FIELDS and v not in (None, "")}
        if parsed.contact.get("name"):  # the contact_* columns are read as a contact's
            out["contact_name"] = parsed.contact["name"]
        if parsed.custom:
            out["custom"] = dict(parsed.custom)
        return out

    def _keys(self, values: dict[str, Any]) -> set[tuple[str, str]]:
        probe = Lead(**{k: v for k, v in values.items() if k != "custom"})
        leads.tidy(probe)
        return import_duplicates.file_keys(leads.keys_for(probe), policy=self.policy)

    def remember(self, parsed: Parsed) -> None:
        """A row committed by an earlier run of this job: its keys count for in-file repeats."""
        if not parsed.problems:
            for key in self._keys(self.values(parsed)):
                self.seen.setdefault(key, parsed.row_no)

    def check(self, rows: list[Parsed]) -> list[Outcome]:
        return [self._check_one(parsed) for parsed in rows]

    def _check_one(self, parsed: Parsed) -> Outcome:
        if self.refusal:
            return Outcome(parsed, RowOutcome.REJECTED, self.refusal)
        if parsed.problems:
            return Outcome(parsed, RowOutcome.REJECTED, "；".join(parsed.problems))
        values = self.values(parsed)
        keys = self._keys(values)
        in_file = import_duplicates.within_file(keys, seen=self.seen, policy=self.policy)
        notes = [in_file.note()] if in_file.namesake_rows else []
        if in_file.duplicate_rows:
            if self.options.on_duplicate != "import" or in_file.forbidden:
                result = RowOutcome.REJECTED if in_file.forbidden and self.options.on_duplicate == "import" \
                    else RowOutcome.SKIPPED
                return Outcome(parsed, result, "；".join([in_file.reason(), *parsed.warnings]))
            notes.append(in_file.reason())
        # The rule refuses before it writes anything, so a refused row leaves nothing behind (no
        # SAVEPOINT: pysqlite would commit one opened before the transaction's first write).
        warnings: list[str] = []
        try:
            try:
                lead = leads.create_lead(self.session, values, actor=self.actor, now=self.now, pool_id=self.pool_id)
            except NeedsConfirmation as exc:
                if self.options.on_duplicate != "import":
                    return Outcome(parsed, RowOutcome.SKIPPED, "；".join([str(exc), *parsed.warnings]))
                warnings = [i.message for i in exc.issues]
                lead = leads.create_lead(self.session, values, actor=self.actor, now=self.now,
                                         pool_id=self.pool_id, confirmed=True)
        except RuleViolation as exc:
            return Outcome(parsed, RowOutcome.REJECTED, str(exc))
        for key in keys:
            self.seen.setdefault(key, parsed.row_no)
        reason = "；".join([*parsed.warnings, *warnings, *notes])
        result = RowOutcome.IMPORTED_WITH_WARNINGS if parsed.warnings else RowOutcome.IMPORTED
        return Outcome(parsed, result, reason, customer=lead)

    def write(self, outcomes: list[Outcome]) -> None:
        """The checked rows are written already (each in its released SAVEPOINT)."""
        self.session.flush()
