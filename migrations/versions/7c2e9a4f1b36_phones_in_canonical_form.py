"""phones in canonical form: customers' and contacts' numbers, their duplicate-check keys and search rows

Revision ID: 7c2e9a4f1b36
Revises: 4c126212ec35
Create Date: 2026-12-06 03:30:00

Numbers were stored as typed (13812345678.0 from a sheet, +86 138…, 0317 7149 0681) and
compared as bare digits. They are now stored in the canonical form of rules/phones.py and
compared in it, so every customer's phone keys are rewritten (a landline's key changes from
057188888888 to 0571-88888888 even when its column was already tidy). Values that are no valid
number are left as they were and listed in the log. Work goes by batches of customer ids, a few
statements per batch, so a million customers never sit in memory at once. Search rows of
customers whose numbers changed gain the canonical form and its digits (the old text stays
searchable too).
"""
import json
import logging

import sqlalchemy as sa
from alembic import op

from rules import phones, search

# revision identifiers, used by Alembic.
revision = '7c2e9a4f1b36'
down_revision = '4c126212ec35'
branch_labels = None
depends_on = None

BATCH = 5_000
PHONE_FIELDS = ("phone", "mobile", "fax")
log = logging.getLogger("alembic.runtime.migration")


def _keyed_phone_fields(conn) -> set[str]:
    """phone and mobile are always keyed (撞单 compares them); fax when the policy checks it."""
    fields = {"phone", "mobile"}
    raw = conn.execute(sa.text("SELECT value FROM settings WHERE key = 'entry_policy'")).scalar()
    stored = (json.loads(raw) if isinstance(raw, str) else raw or {}).get("v") or {}
    if stored.get("duplicates", {}).get("fax", "allow") != "allow":
        fields.add("fax")
    return fields


def _tidy(value, unparseable: list, where: str):
    if value is None or not str(value).strip():
        return value
    try:
        return phones.parse(value).canonical
    except phones.InvalidPhone:
        unparseable.append(f"{where}={value!r}")
        return value


def upgrade():
    conn = op.get_bind()
    keyed = _keyed_phone_fields(conn)
    changed_total, unparseable, last_id = 0, [], 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, phone, mobile, fax FROM customers WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last_id, "n": BATCH}).all()
        if not rows:
            break
        ids = [r.id for r in rows]
        last_id = ids[-1]
        contacts = conn.execute(sa.text(
            "SELECT id, customer_id, phone, mobile FROM contacts WHERE customer_id IN :ids")
            .bindparams(sa.bindparam("ids", expanding=True)), {"ids": ids}).all()
        keys, touched, customer_updates, contact_updates = [], {}, [], []
        for r in rows:
            new = {f: _tidy(getattr(r, f), unparseable, f"customer {r.id} {f}") for f in PHONE_FIELDS}
            if any(new[f] != getattr(r, f) for f in PHONE_FIELDS):
                customer_updates.append({"id": r.id, **new})
                touched.setdefault(r.id, []).extend(v for f, v in new.items() if v != getattr(r, f))
            keys += [(r.id, f, new[f]) for f in PHONE_FIELDS if f in keyed and new[f]]
        for c in contacts:
            new = {f: _tidy(getattr(c, f), unparseable, f"contact {c.id} {f}") for f in ("phone", "mobile")}
            if any(new[f] != getattr(c, f) for f in new):
                contact_updates.append({"id": c.id, **new})
                touched.setdefault(c.customer_id, []).extend(v for f, v in new.items() if v != getattr(c, f))
            keys += [(c.customer_id, f, new[f]) for f in new if f in keyed and new[f]]
        if customer_updates:
            conn.execute(sa.text("UPDATE customers SET phone = :phone, mobile = :mobile, fax = :fax, "
                                 "version = version + 1 WHERE id = :id"), customer_updates)
        if contact_updates:
            conn.execute(sa.text("UPDATE contacts SET phone = :phone, mobile = :mobile, version = version + 1 "
                                 "WHERE id = :id"), contact_updates)
        conn.execute(sa.text("DELETE FROM customer_keys WHERE customer_id IN :ids AND field IN :fields")
                     .bindparams(sa.bindparam("ids", expanding=True), sa.bindparam("fields", expanding=True)),
                     {"ids": ids, "fields": list(PHONE_FIELDS)})
        rows_to_key = sorted({(cid, f, phones.key(v)[:128]) for cid, f, v in keys})
        if rows_to_key:
            conn.execute(sa.text("INSERT INTO customer_keys (customer_id, field, value) VALUES (:c, :f, :v)"),
                         [{"c": c, "f": f, "v": v} for c, f, v in rows_to_key])
        _extend_search_rows(conn, touched)
        changed_total += len(customer_updates) + len(contact_updates)
    log.info("phones: %d customer/contact rows now hold canonical numbers", changed_total)
    if unparseable:
        log.warning("phones: %d values are no valid number and were left as they were: %s%s", len(unparseable),
                    "; ".join(unparseable[:50]), " …" if len(unparseable) > 50 else "")


def _extend_search_rows(conn, touched: dict) -> None:
    """Quick search finds a changed number by its canonical form and its digits."""
    if not touched:
        return
    found = conn.execute(sa.text("SELECT customer_id, body FROM customer_search WHERE customer_id IN :ids")
                         .bindparams(sa.bindparam("ids", expanding=True)), {"ids": list(touched)}).all()
    updates = []
    for customer_id, body in found:
        lines = [line for line in (body or "").split("\n") if line]
        for value in touched[customer_id]:
            if value:
                lines += [search.normalised(value), phones.digits(value)]
        row = search.index_row(customer_id, list(dict.fromkeys(lines)))
        updates.append({"id": customer_id, "body": row["body"], "tokens": row["tokens"]})
    if updates:
        conn.execute(sa.text("UPDATE customer_search SET body = :body, tokens = :tokens WHERE customer_id = :id"),
                     updates)


def downgrade():
    """The numbers stay canonical (the form they were typed in is not kept); keys go back to digits."""
    op.execute("UPDATE customer_keys SET value = REPLACE(REPLACE(value, '-', ''), '+', '') "
               "WHERE field IN ('phone', 'mobile', 'fax')")
