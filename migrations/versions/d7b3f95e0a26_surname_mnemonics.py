"""surnames read as surnames: rebuild the mnemonic and quick-search row of affected customers

Revision ID: d7b3f95e0a26
Revises: c4e8a2f61b93
Create Date: 2026-12-06 03:40:00

曾广银 was stored as cgy (曾 read céng) and 单雄信 as dxx, so quick search by zgy/sxx found
nothing; contacts were not searchable by their initials at all. Customers whose name, or one of
whose contacts' names, starts with a surname read otherwise than the character (rules/surnames.py)
get their 助记码 and search row worked out again with today's rules. Others keep their 助记码
(the new rule gives the same); their contacts become searchable by initials at the next save, or
at once for every customer with `flask --app app reindex-customers`. No schema change.
"""
import json
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa

from rules import normalize, search
from rules.surnames import SURNAME_INITIALS


# revision identifiers, used by Alembic.
revision = 'd7b3f95e0a26'
down_revision = 'c4e8a2f61b93'
branch_labels = None
depends_on = None

CHUNK = 1000


def _record(row) -> SimpleNamespace:
    values = dict(row._mapping)
    if isinstance(values.get("custom"), str):
        values["custom"] = json.loads(values["custom"] or "{}")
    values["custom"] = values.get("custom") or {}
    return SimpleNamespace(**values)


def upgrade():
    bind = op.get_bind()
    meta = sa.MetaData()
    customers = sa.Table("customers", meta, autoload_with=bind)
    contacts = sa.Table("contacts", meta, autoload_with=bind)
    search_rows = sa.Table("customer_search", meta, autoload_with=bind)
    # only surnames whose reading changes the initials (曾 c → z); 沈 or 任 read the same either way
    firsts = sorted({surname[0] for surname, initials in SURNAME_INITIALS.items()
                     if normalize.mnemonic(surname) != initials})
    starts = lambda column: sa.func.substr(column, 1, 1).in_(firsts)  # noqa: E731
    wanted = sa.or_(starts(customers.c.name),
                    customers.c.id.in_(sa.select(contacts.c.customer_id).where(starts(contacts.c.name))))
    last = 0
    while True:
        chunk = [_record(r) for r in bind.execute(sa.select(customers).where(wanted, customers.c.id > last)
                                                  .order_by(customers.c.id).limit(CHUNK))]
        if not chunk:
            return
        last = chunk[-1].id
        people: dict[int, list[SimpleNamespace]] = {c.id: [] for c in chunk}
        for r in bind.execute(sa.select(contacts).where(contacts.c.customer_id.in_(list(people)))
                              .order_by(contacts.c.id)):
            people[r.customer_id].append(_record(r))
        for customer in chunk:
            customer.mnemonic = normalize.mnemonic(customer.name, person=customer.kind == "person")
            bind.execute(customers.update().where(customers.c.id == customer.id).values(mnemonic=customer.mnemonic))
            row = search.row_for(customer, people[customer.id])
            bind.execute(search_rows.delete().where(search_rows.c.customer_id == customer.id))
            bind.execute(search_rows.insert().values(customer_id=customer.id, body=row["body"], tokens=row["tokens"]))


def downgrade():
    # The new initials are right under the old code too; nothing to undo.
    pass
