"""客户资料导入, second half: checking rows against the rules and writing them, batch by batch.

Speed at 100k rows comes from doing per batch what the form does per record: one query for
the duplicate keys of a whole batch (answered to the rules through their `lookup` hooks), one
reservation of customer numbers, and bulk inserts of customers, contacts, keys, search rows
and ownership events. A batch is one transaction that also moves the job's progress mark, so
a crash leaves no half batch and a rerun resumes after the last committed one.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from models.customer import (
    Contact, Customer, CustomerKey, CustomerKind, CustomerSearch, OwnershipEvent, OwnershipReason, PoolReason,
)
from models.job import JobRecord, JobRowIssue, RowOutcome
from rules import (
    clock, contact_identity, custom_fields, customers, entry, id_numbers, import_cells, import_duplicates,
    import_history, import_values, normalize, numbering, phone_region, protection, scope, search, settings,
)
from rules.actor import Actor
from rules.errors import InvalidValue, RuleViolation
from rules.importing import Parsed, Reader


class _Draft:
    """A row's customer or contact while it is checked and written: plain attributes named as
    the model's columns (None when unset), without the ORM's instrumentation, which costs more
    than the checks themselves at 100,000 rows. The rules read and tidy them as they do model
    instances; the rows are written with bulk inserts."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def _draft_type(model: type, name: str) -> type:
    return type(name, (_Draft,), {a.key: None for a in sa_inspect(model).column_attrs})


DraftCustomer = _draft_type(Customer, "DraftCustomer")
DraftContact = _draft_type(Contact, "DraftContact")

ON_DUPLICATE = {"skip": _l("跳过（不导入）"), "update": _l("更新已有客户"), "import": _l("仍然导入（录入策略允许时）")}
OUTCOMES = tuple(RowOutcome)
NOT_TAKEN = (RowOutcome.SKIPPED, RowOutcome.REJECTED)
ADDED = (RowOutcome.IMPORTED, RowOutcome.IMPORTED_WITH_WARNINGS)  # rows that became new records
KEPT = (*NOT_TAKEN, RowOutcome.IMPORTED_WITH_WARNINGS)  # the rows kept as JobRowIssue, with why
# A contact row's own columns; the birthday and gender may come from its ID number instead.
CONTACT_FIELDS = ("gender", "position", "mobile", "phone", "email", "qq", "wechat", "birthday", "notes", "id_number")


@dataclass
class Options:
    on_duplicate: str = "skip"
    owner_id: int | None = None  # None with to_pool → the pool
    to_pool: bool = False
    pool_id: int | None = None
    strict: bool = False  # any invalid value rejects its row (else the cell is left empty, warned)
    region_from_mobile: bool = False  # a customer without a province takes its mobile's 归属地


@dataclass
class Outcome:
    row: Parsed
    result: RowOutcome
    reason: str = ""
    customer: Any = None  # a DraftCustomer
    contact: Any = None  # a DraftContact, or a Contact for contact imports
    target_id: int | None = None  # the existing customer to update
    keys: set[tuple[str, str]] = field(default_factory=set)  # its duplicate-check keys


class BatchLookup:
    """Every duplicate key of a batch looked up in one query, then answered to the rules
    through their `lookup` hooks, remembering which customers each row matched."""

    def __init__(self, session: Session, keys: set[tuple[str, str]], *, now: datetime) -> None:
        self.found: dict[tuple[str, str], list[tuple[int, str, str | None]]] = {}
        self.protected: dict[tuple[str, str], list[tuple[str, int | None]]] = {}
        self.hits: list[tuple[str, int]] = []
        self.visible: set[int] = set()  # the matched customers the importer may see
        self.protected_hits: list[str] = []
        by_field: dict[str, list[str]] = {}
        for f, v in keys:
            by_field.setdefault(f, []).append(v)
        if not by_field:
            return
        columns = (CustomerKey.field, CustomerKey.value, Customer.id, Customer.name, Customer.code,
                   Customer.protected_until, Customer.owner_id)
        if session.get_bind().dialect.name == "postgresql":
            # Two arrays joined as a table: planned once, where an OR of IN lists with thousands of
            # values cost PostgreSQL 2–3 times as long per batch.
            wanted = func.unnest(bindparam("fields", [f for f, _v in keys], type_=ARRAY(String)),
                                 bindparam("values", [v for _f, v in keys], type_=ARRAY(String))
                                 ).table_valued("field", "value").render_derived(name="wanted")
            stmt = (select(*columns).select_from(wanted)
                    .join(CustomerKey, and_(CustomerKey.field == wanted.c.field, CustomerKey.value == wanted.c.value)))
        else:
            stmt = select(*columns).where(or_(*(and_(CustomerKey.field == f, CustomerKey.value.in_(vs))
                                                for f, vs in by_field.items())))
        stmt = (stmt.join(Customer, Customer.id == CustomerKey.customer_id)
                .where(Customer.deleted_at.is_(None)).order_by(Customer.id))
        for f, v, cid, name, code, protected_until, owner_id in session.execute(stmt):
            self.found.setdefault((f, v), []).append((cid, name, code))
            if protected_until is not None and protected_until > now:
                self.protected.setdefault((f, v), []).append((name, owner_id))

    def lookup(self, field_name: str, key: str) -> list[tuple[int, str, str | None]]:
        found = self.found.get((field_name, key), [])[:3]
        self.hits.extend((field_name, cid) for cid, _n, _c in found)
        return found

    def protected_lookup(self, field_name: str, key: str, owner_id: int | None) -> str | None:
        for name, owner in self.protected.get((field_name, key), []):
            if owner_id is None or owner != owner_id:
                self.protected_hits.append(field_name)
                return name
        return None


def _added(parsed: Parsed, warnings: list[str], customer: Any = None, contact: Any = None, *,
           notes: list[str] = ()) -> Outcome:
    """A row that becomes a new record; with warnings when bad optional cells were left empty.
    Notes (a namesake, 仍然导入 over a duplicate) travel in the reason either way."""
    reason = "；".join(text for text in (*warnings, *notes) if text)
    if warnings:
        return Outcome(parsed, RowOutcome.IMPORTED_WITH_WARNINGS, reason, customer, contact)
    return Outcome(parsed, RowOutcome.IMPORTED, reason, customer, contact)


def _region_from_mobile(customer: Any, *, fill: bool) -> list[str]:
    """The 归属地 of the mobile of a customer without a province, as the row's note: a suggestion
    in the preview, or (`fill`, the 按手机归属地补全省市 option) the province and city it is given."""
    suggested = phone_region.suggested_region(customer)
    if suggested is None:
        return []
    region = " ".join(dict.fromkeys(p for p in suggested if p))
    if not fill:
        return [str(_l("可按手机归属地补全：%(region)s", region=region))]
    customer.province, customer.city = suggested
    customer.district = None
    return [str(_l("按手机归属地补全：%(region)s", region=region))]


UPDATE_PRIORITY = ("code", "name", "mobile", "phone", "email", "qq", "fax", "website", "zip_code", "contact_name")


class CustomerImporter:
    """Checks and writes customer rows batch by batch for one job."""

    def __init__(self, session: Session, *, actor: Actor, options: Options, reader: Reader, now: datetime,
                 today: date, tz: str) -> None:
        self.session, self.actor, self.options, self.reader = session, actor, options, reader
        self.now, self.today, self.tz = now, today, tz
        self.staff = import_history.Staff(session, actor)
        self.policy = entry.load_policy(session)
        self.protection_policy = protection.load_policy(session)
        self.keyed = entry.keyed_fields(session)
        self.seen: dict[tuple[str, str], int] = {}  # in-file keys → the row that holds them
        self.pattern = settings.get(session, "customer_code_pattern")

    # keys the file compares on: those the policy checks, normalised as the rules do
    def _file_keys(self, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        return import_duplicates.file_keys(keys, policy=self.policy)

    def build(self, parsed: Parsed) -> tuple[Any, Any]:
        values = dict(parsed.values)
        values.setdefault("kind", CustomerKind.COMPANY.value)
        customer = DraftCustomer(**values)
        customer.custom = {}
        contact = None
        if parsed.contact.get("name") or parsed.contact.get("mobile") or parsed.contact_custom:
            contact = DraftContact(name=parsed.contact.get("name") or values.get("name"), is_primary=True,
                                   position=parsed.contact.get("position"), mobile=parsed.contact.get("mobile"))
            contact.custom = {}
        customer.owner_id = None if self.options.to_pool else (self.options.owner_id or self.actor.user_id)
        return customer, contact

    def remember(self, parsed: Parsed) -> None:
        """A row committed by an earlier run of this job: its keys count for in-file duplicates."""
        if parsed.problems:
            return
        customer, contact = self.build(parsed)
        customer.name = normalize.text(customer.name)
        import_cells.screen(customer, contact, policy=self.policy, strict=self.options.strict)  # as check() keyed it
        for key in self._file_keys(entry.keys_for(customer, [contact] if contact else [])):
            self.seen.setdefault(key, parsed.row_no)

    def check(self, rows: list[Parsed]) -> list[Outcome]:
        built = []
        all_keys: set[tuple[str, str]] = set()
        for parsed in rows:
            customer, contact = self.build(parsed)
            # Screened before keying: a bad cell left empty is no duplicate key, or two rows with
            # the same malformed mobile would be skipped as one customer.
            screened = import_cells.screen(customer, contact, policy=self.policy, strict=self.options.strict)
            keys = entry.keys_for(customer, [contact] if contact else [])
            built.append((parsed, customer, contact, keys, screened))
            all_keys |= keys
            all_keys |= set(protection.collision_keys(customer)) if customer.name else set()
        batch = BatchLookup(self.session, all_keys, now=self.now)
        batch.visible = import_duplicates.visible_ids(self.session, self.actor, batch.found.values())
        outcomes = []
        for parsed, customer, contact, keys, screened in built:
            outcome = self._check_one(parsed, customer, contact, batch, keys, screened)
            outcome.keys = keys
            outcomes.append(outcome)
        return outcomes

    def _check_one(self, parsed: Parsed, customer: Any, contact: Any, batch: BatchLookup,
                   keys: set[tuple[str, str]], screened: tuple[list[str], list[str]]) -> Outcome:
        strict = self.options.strict
        custom_clean, custom_errors = custom_fields.validate(self.reader.custom_defs, parsed.custom)
        customer.custom = custom_clean
        problems, cells = import_cells.split_custom(self.reader.custom_defs, parsed.custom, custom_errors,
                                                       strict=strict)
        problems = list(parsed.problems) + problems
        cells = list(parsed.warnings) + cells
        (problems if strict else cells).extend(import_history.drop_future_dates(parsed.values, today=self.today))
        if parsed.values.get("owner"):  # the sheet's 业务员, answered before the owner-dependent checks
            customer.owner_id, problem = self._owner(parsed.values["owner"], customer.owner_id)
            if problem:
                problems.append(problem)
        if contact is not None:  # the contact's own fields, as the contact form checks them
            contact.custom, contact_errors = custom_fields.validate(self.reader.contact_custom_defs,
                                                                    parsed.contact_custom)
            fatal, warned = import_cells.split_custom(self.reader.contact_custom_defs, parsed.contact_custom,
                                                      contact_errors, strict=strict)
            problems += [str(_l("联系人：%(m)s", m=m)) for m in fatal]
            cells += warned
        fatal, warned = screened
        problems += fatal
        cells += warned
        batch.hits, batch.protected_hits = [], []
        try:
            issues = customers.entry_issues(self.session, customer, [contact] if contact else [], now=self.now,
                                            policy=self.policy, lookup=import_duplicates.masked(batch.lookup,
                                                                                                batch.visible),
                                            protected=batch.protected_lookup,
                                            protection_policy=self.protection_policy)
        except RuleViolation as exc:
            problems.append(str(exc))
            issues = []
        collisions = import_duplicates.against_database(issues, hits=batch.hits, protected_hits=batch.protected_hits,
                                                        policy=self.policy, keys=keys, found=batch.found)
        dup_fields = collisions.duplicate_fields
        # Codes are unique, whatever the policy; a code an earlier row of this file brought in is
        # an in-file duplicate (reported below), whether that row's batch is committed yet or not.
        code_key = ("code", normalize.key("code", customer.code)[:128]) if customer.code else None
        if "code" in dup_fields and self.options.on_duplicate != "update" and code_key not in self.seen:
            problems.append(str(_l("客户编号“%(c)s”已被其他客户使用", c=customer.code)))
        duplicates = [i for i in issues if i.field in dup_fields]
        problems += [i.message for i in issues if i.is_error and i.field not in dup_fields]
        if problems:
            return Outcome(parsed, RowOutcome.REJECTED, "；".join(problems))
        option = self.options.on_duplicate
        file_keys = self._file_keys(keys)
        in_file = import_duplicates.within_file(file_keys, seen=self.seen, policy=self.policy)
        notes = [i.message for i in collisions.namesakes] + ([in_file.note()] if in_file.namesake_rows else [])
        notes += _region_from_mobile(customer, fill=self.options.region_from_mobile)
        # A row not taken still lists its bad cells: they may be why it could not be told apart
        # (a malformed mobile left empty leaves a namesake nothing but its name).
        if in_file.duplicate_rows:
            if option != "import":  # 更新 would update a customer this very file brings in: skipped
                return Outcome(parsed, RowOutcome.SKIPPED, "；".join([in_file.reason(), *cells]))
            if in_file.forbidden:
                return Outcome(parsed, RowOutcome.REJECTED, "；".join([in_file.reason(), *cells]))
            notes.append(in_file.reason())
        warnings = [i for i in issues if not i.is_error and i not in collisions.namesakes]
        if duplicates or warnings:
            reason = "；".join(i.message for i in issues if i not in collisions.namesakes)
            if option == "update":
                target = self._target(batch.hits)
                if target is None:
                    return Outcome(parsed, RowOutcome.REJECTED, reason + "；" + str(_l("已有客户不在您的权限范围内，无法更新")))
                self._remember_keys(file_keys, parsed.row_no)
                return Outcome(parsed, RowOutcome.UPDATED, "；".join([reason, *cells]), customer, contact,
                               target_id=target)
            if option == "import" and not any(i.is_error for i in issues):
                self._remember_keys(file_keys, parsed.row_no)
                return _added(parsed, cells, customer, contact, notes=[reason, *notes])
            if option == "import":
                return Outcome(parsed, RowOutcome.REJECTED, "；".join([reason, *cells]))
            return Outcome(parsed, RowOutcome.SKIPPED, "；".join([reason, *cells]))
        self._remember_keys(file_keys, parsed.row_no)
        return _added(parsed, cells, customer, contact, notes=notes)

    def _owner(self, written: str, default: int | None) -> tuple[int | None, str | None]:
        """(owner id, None), or (None, why the row is refused): the 业务员 as written, else as
        值对应 decided for that name. A name the user chose to leave empty is a blank cell: the
        row goes to the owner chosen for the file (`default`, None for the pool). A name nobody
        decided on still refuses the row: a wrong owner must not silently become the importer."""
        owner_id, problem = self.staff.resolve(written)
        if problem is None:
            return owner_id, None
        chosen = self.reader.choices.get("owner", {})
        key = import_values.exact_key(written)
        if key not in chosen:
            return None, problem
        picked = chosen[key]
        if picked in (import_values.LEAVE_EMPTY, None):
            return default, None
        if self.staff.may_assign(picked):  # still a colleague the importer may give customers to
            return picked, None
        return None, problem

    def _remember_keys(self, file_keys: set[tuple[str, str]], row_no: int) -> None:
        for key in file_keys:
            self.seen.setdefault(key, row_no)

    def _target(self, hits: list[tuple[str, int]]) -> int | None:
        """The existing customer a duplicate row updates: matched by code first, then name,
        then phones; only one the actor may change."""
        if not hits:
            return None
        order = {f: i for i, f in enumerate(UPDATE_PRIORITY)}
        candidates = [cid for _f, cid in sorted(hits, key=lambda h: order.get(h[0], 99))]
        editable = set(self.session.scalars(select(Customer.id).where(
            scope.customer_edit_clause(self.actor), Customer.id.in_(candidates))))
        return next((cid for cid in candidates if cid in editable), None)

    # --- writing --------------------------------------------------------------------------------
    def write(self, outcomes: list[Outcome]) -> None:
        new = [o for o in outcomes if o.result in ADDED]
        if new:
            self._insert(new)
        for outcome in outcomes:
            if outcome.result == RowOutcome.UPDATED:
                self._update(outcome)

    def _insert(self, outcomes: list[Outcome]) -> None:
        session, options = self.session, self.options
        default_owner = None if options.to_pool else (options.owner_id or self.actor.user_id)
        departments = {}
        if default_owner is not None:
            from models.org import User

            departments[default_owner] = session.scalar(select(User.department_id).where(User.id == default_owner))
        need_codes = [o for o in outcomes if not o.customer.code]
        codes = numbering.reserve(session, customers.CODE_SEQUENCE, self.pattern, today=self.today,
                                  count=len(need_codes))
        for outcome, code in zip(need_codes, codes):
            outcome.customer.code = code
        columns = ("kind", "name", "code", "mnemonic", "gender", "birthday", "legal_representative",
                   "registered_capital", "category_id", "source_id", "industry_id", "value_level_id", "stage_id",
                   "credit_rating_id", "province", "city", "district", "address", "zip_code", "phone", "mobile",
                   "mobile_province", "mobile_city", "fax", "email", "qq", "wechat", "website", "notes", "custom")
        rows = []
        for outcome in outcomes:
            c = outcome.customer
            row = {col: getattr(c, col) for col in columns}
            row["kind"] = str(row["kind"] or CustomerKind.COMPANY.value)
            owner_id = c.owner_id  # the sheet's 业务员, else the owner chosen for the file
            department_id = departments[owner_id] if owner_id in departments else self.staff.department_of(owner_id)
            row.update(owner_id=owner_id, department_id=department_id, has_deal=False,
                       created_by_id=self.actor.user_id,
                       **import_history.row_times(outcome.row.values, owner_id=owner_id, now=self.now, tz=self.tz))
            if owner_id is None:
                row.update(pool_id=options.pool_id, pool_reason=PoolReason.IMPORTED, pool_entered_at=self.now)
            rows.append(row)
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            # A batch is one transaction that also moves the job's mark: if the server loses its
            # last commits in a crash, the rerun redoes those batches, so it need not wait for
            # the WAL flush of each one.
            connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
        # One executemany (a loop in C on SQLite, pipelined on PostgreSQL); the new ids are found
        # again by their (unique) codes. A multi-row INSERT … RETURNING in the rows' order was
        # twice as slow on PostgreSQL (400 µs a row against 190 µs plus the look-up).
        connection.execute(Customer.__table__.insert(), rows)
        by_code = dict(connection.execute(select(Customer.code, Customer.id).where(
            Customer.code.in_([r["code"] for r in rows]))).all())
        ids = [by_code[r["code"]] for r in rows]
        contact_rows, key_rows, search_rows, events = [], [], [], []
        for outcome, cid in zip(outcomes, ids):
            customer, contact = outcome.customer, outcome.contact
            customer.id = cid
            contacts = []
            if contact is not None:
                contact.customer_id = cid
                contact_rows.append({"customer_id": cid, "name": normalize.text(contact.name), "is_primary": True,
                                     "position": contact.position, "mobile": normalize.text(contact.mobile) or None,
                                     "custom": contact.custom or {}, "created_at": self.now,
                                     "updated_at": self.now})
                contacts = [contact]
            keys = {k for k in outcome.keys if k[0] in self.keyed}
            if customer.code:
                keys.add(("code", normalize.key("code", customer.code)[:128]))
            key_rows += [(cid, f, v) for f, v in sorted(keys)]
            found = search.row_for(customer, contacts)
            search_rows.append((cid, found["body"], found["tokens"]))
            events.append({"customer_id": cid, "from_user_id": None, "to_user_id": customer.owner_id,
                           "actor_id": self.actor.user_id, "reason": OwnershipReason.IMPORT, "at": self.now})
        for table, payload in ((Contact, contact_rows), (OwnershipEvent, events)):
            if payload:
                connection.execute(table.__table__.insert(), payload)
        # Plain strings and integers: straight to the driver's executemany, without SQLAlchemy's
        # per-row parameter processing (about 7 keys a customer).
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        for table, payload in ((CustomerKey, key_rows), (CustomerSearch, search_rows)):
            if payload:
                names = ("customer_id", "field", "value") if table is CustomerKey else ("customer_id", "body", "tokens")
                connection.exec_driver_sql(f"INSERT INTO {table.__tablename__} ({', '.join(names)}) "
                                           f"VALUES ({', '.join([mark] * len(names))})", payload)

    def _update(self, outcome: Outcome) -> None:
        """Fill the existing customer with the row's non-empty values; add the contact if new."""
        session = self.session
        target = session.get(Customer, outcome.target_id)
        source = outcome.customer
        for name in ("kind", "code", "gender", "birthday", "legal_representative", "registered_capital", "category_id",
                     "source_id", "industry_id", "value_level_id", "stage_id", "credit_rating_id", "province", "city",
                     "district", "address", "zip_code", "phone", "mobile", "fax", "email", "qq", "wechat", "website",
                     "notes"):
            value = getattr(source, name)
            if name in outcome.row.values and value not in (None, ""):
                setattr(target, name, value)
        if self.options.region_from_mobile and not target.province and "province" not in outcome.row.values:
            target.province, target.city, target.district = source.province, source.city, None  # 按归属地补全
        phone_region.fill(target)
        if source.custom:
            target.custom = {**(target.custom or {}), **source.custom}
        contact = outcome.contact
        if contact is not None:
            names = {normalize.text(c.name) for c in target.contacts}
            if normalize.text(contact.name) not in names:
                has_primary = any(c.is_primary for c in target.contacts)
                session.add(Contact(customer_id=target.id, name=normalize.text(contact.name),
                                    is_primary=not has_primary, position=contact.position,
                                    mobile=normalize.text(contact.mobile) or None, custom=contact.custom or {}))
        session.flush()
        session.expire(target, ["contacts"])
        customers.reindex(session, target)


class ContactImporter:
    """Contacts of existing customers: the customer is found by its number or name among those
    the actor may add contacts to; a contact of the same name on that customer is a duplicate."""

    def __init__(self, session: Session, *, actor: Actor, options: Options, reader: Reader, now: datetime,
                 today: date) -> None:
        self.session, self.actor, self.options, self.reader, self.now = session, actor, options, reader, now
        self.today = today
        self.policy = entry.load_policy(session)
        self.seen: dict[tuple[int, str], int] = {}

    def _customers(self, refs: set[str]) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        if not refs:
            return found
        stmt = select(Customer.id, Customer.code, Customer.name).where(
            scope.customer_contribute_clause(self.actor), or_(Customer.code.in_(refs), Customer.name.in_(refs)))
        for cid, code, name in self.session.execute(stmt):
            for ref in {code, name} & refs:
                found.setdefault(ref, []).append(cid)
        return found

    def remember(self, parsed: Parsed) -> None:
        """Rows of an earlier run are in the database already: duplicates find them there."""

    def check(self, rows: list[Parsed]) -> list[Outcome]:
        refs = {normalize.text(p.values.get("customer")) for p in rows if p.values.get("customer")}
        by_ref = self._customers(refs)
        ids = {cid for v in by_ref.values() for cid in v}
        existing: dict[tuple[int, str], int] = {}
        if ids:
            for cid, contact_id, name in self.session.execute(
                    select(Contact.customer_id, Contact.id, Contact.name).where(Contact.customer_id.in_(ids))):
                existing.setdefault((cid, normalize.text(name).lower()), contact_id)
        return [self._check_one(p, by_ref, existing) for p in rows]

    def _check_one(self, parsed: Parsed, by_ref: dict[str, list[int]], existing: dict) -> Outcome:
        values = parsed.values
        problems = list(parsed.problems)
        ref = normalize.text(values.get("customer"))
        matches = sorted(set(by_ref.get(ref, []))) if ref else []
        if not ref:
            problems.append(str(_l("请填写所属客户（客户名称或编号）")))
        elif not matches:
            problems.append(str(_l("找不到客户“%(c)s”（或不在您的权限范围内）", c=ref)))
        elif len(matches) > 1:
            problems.append(str(_l("有多个名为“%(c)s”的客户，请改填客户编号", c=ref)))
        name = normalize.text(values.get("name"))
        if not name:
            problems.append(str(_l("请填写姓名")))
        if self.policy["check_formats"]:
            for f in ("mobile", "phone", "email", "qq"):
                if values.get(f):
                    problem = entry.format_problem(f, values[f])
                    if problem:
                        problems.append(problem)
        custom_clean, custom_errors = custom_fields.validate(self.reader.custom_defs, parsed.custom)
        fatal, warnings = import_cells.split_custom(self.reader.custom_defs, parsed.custom, custom_errors,
                                                    strict=self.options.strict)
        problems += fatal
        warnings = list(parsed.warnings) + warnings
        if problems:
            return Outcome(parsed, RowOutcome.REJECTED, "；".join(problems))
        customer_id = matches[0]
        contact = Contact(customer_id=customer_id, name=name, is_primary=bool(values.get("is_primary")),
                          **{k: values.get(k) for k in CONTACT_FIELDS})
        contact.custom = custom_clean
        customers.tidy_phones(contact, ("phone", "mobile"))
        try:
            warnings += contact_identity.apply(contact, today=self.today)
        except InvalidValue as exc:
            reason = str(exc)
            if values.get("id_number_was_a_number") and isinstance(exc, id_numbers.IdNumberRefused):
                reason += str(_l("（表格把身份证号存成了数字，后几位已丢失：请把该列设为文本格式后重新填写）"))
            if self.options.strict or not isinstance(exc, id_numbers.IdNumberRefused):
                return Outcome(parsed, RowOutcome.REJECTED, reason)
            # As any other invalid optional cell: the contact comes in without it, and the row says why.
            contact.id_number = None
            warnings.append(str(_l("身份证号未导入：%(r)s", r=reason)))
        key = (customer_id, name.lower())
        if key in self.seen:
            return Outcome(parsed, RowOutcome.SKIPPED, str(_l("与文件第 %(n)s 行重复", n=self.seen[key])))
        self.seen[key] = parsed.row_no
        if key in existing:
            reason = str(_l("客户已有名为“%(n)s”的联系人", n=name))
            if self.options.on_duplicate == "update":
                return Outcome(parsed, RowOutcome.UPDATED, reason, contact=contact, target_id=existing[key])
            if self.options.on_duplicate == "skip":
                return Outcome(parsed, RowOutcome.SKIPPED, reason)
        return _added(parsed, warnings, contact=contact)

    def write(self, outcomes: list[Outcome]) -> None:
        touched: set[int] = set()
        for outcome in outcomes:
            contact = outcome.contact
            if outcome.result in ADDED:
                wants_primary = contact.is_primary
                contact.is_primary = False
                self.session.add(contact)
                self.session.flush()
                has_primary = self.session.scalar(select(Contact.id).where(
                    Contact.customer_id == contact.customer_id, Contact.is_primary.is_(True)).limit(1))
                if wants_primary or has_primary is None:
                    customers.set_primary(self.session, contact)
                touched.add(contact.customer_id)
            elif outcome.result == RowOutcome.UPDATED:
                target = self.session.get(Contact, outcome.target_id)
                for name in CONTACT_FIELDS:
                    if name in outcome.row.values and getattr(contact, name) not in (None, ""):
                        setattr(target, name, getattr(contact, name))
                if contact.custom:
                    target.custom = {**(target.custom or {}), **contact.custom}
                if "id_number" in outcome.row.values and contact.id_number:
                    # What the ID number says fills the kept contact's empty birthday and gender too.
                    contact_identity.apply(target, today=self.today)
                if contact.is_primary:
                    customers.set_primary(self.session, target)
                touched.add(target.customer_id)
        self.session.flush()
        for customer_id in sorted(touched):
            customers.reindex(self.session, self.session.get(Customer, customer_id))


# --- the job's record -------------------------------------------------------------------------

def record_batch(session: Session, job: JobRecord, *, start: int, end: int, outcomes: list[Outcome],
                 keep: tuple[RowOutcome, ...] = KEPT) -> bool:
    """Move the job's mark from `start` to `end` (a conditional UPDATE: a second runner of the
    same job finds the mark moved and stops) with the batch's counts and the rows of the
    outcomes to `keep` (a dry run keeps every row, for paging)."""
    counts = {k: sum(1 for o in outcomes if o.result == k) for k in OUTCOMES}
    moved = session.execute(
        update(JobRecord).where(JobRecord.id == job.id, JobRecord.done == start)
        .values(done=end, imported=JobRecord.imported + counts["imported"],
                warned=JobRecord.warned + counts[RowOutcome.IMPORTED_WITH_WARNINGS],
                updated=JobRecord.updated + counts["updated"], skipped=JobRecord.skipped + counts["skipped"],
                rejected=JobRecord.rejected + counts["rejected"], heartbeat_at=clock.now())
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        return False
    issues = [{"job_id": job.id, "row_no": o.row.row_no, "outcome": o.result, "values": o.row.raw,
               "reason": o.reason} for o in outcomes if o.result in keep]
    if issues:
        session.execute(insert(JobRowIssue), issues)
    return True


def issue_rows(session: Session, job_id: int) -> set[int]:
    """The rows of a job that brought nothing in (a rerun must not count them as committed)."""
    return set(session.scalars(select(JobRowIssue.row_no).where(JobRowIssue.job_id == job_id,
                                                                JobRowIssue.outcome.in_(NOT_TAKEN))))


def make_importer(session: Session, entity: str, reader: Reader, *, actor: Actor,
                  options: Options, now: datetime, today: date, tz: str) -> Any:
    """The importer of an entity: one for the dry run and the import alike."""
    if entity == "customer":
        return CustomerImporter(session, actor=actor, options=options, reader=reader, now=now, today=today, tz=tz)
    if entity == "product":
        from rules.import_products import ProductImporter

        return ProductImporter(session, actor=actor, options=options, reader=reader, now=now)
    if entity == "lead":
        from rules.import_leads import LeadImporter

        return LeadImporter(session, actor=actor, options=options, reader=reader, now=now)
    return ContactImporter(session, actor=actor, options=options, reader=reader, now=now, today=today)


def preview(session: Session, entity: str, rows: Iterable[tuple[int, list[Any]]], mapping: list[str], *,
            actor: Actor, options: Options, now: datetime, today: date, tz: str,
            values: dict[str, dict[str, Any]] | None = None) -> list[Outcome]:
    """What the first rows would become, checked exactly as the import will check them."""
    reader = Reader(session, entity, mapping, values=values, strict=options.strict)
    parsed = [reader.read(n, r) for n, r in rows]
    importer = make_importer(session, entity, reader, actor=actor, options=options, now=now, today=today, tz=tz)
    with session.no_autoflush:
        return importer.check(parsed)
