"""notifications: links as values ("customer/3", "list:due_customer") instead of panel URLs

Revision ID: c8d2e4f6a0b1
Revises: d836b8f63f48
Create Date: 2026-12-02 09:00:00

Rules wrote notification links as URLs of the panel ("/admin/customer/details/?id=3"), so a
renamed page broke every reminder already sent. They now store what to open (rules/links.py
`dump`) and the panel makes the URL when a reader opens it. This converts the URLs the earlier
releases wrote; anything else is left as it is and still opens when it is a local URL.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c8d2e4f6a0b1'
down_revision = 'd836b8f63f48'
branch_labels = None
depends_on = None

# The whole lists rules linked to, by URL, and their endpoint (ListKind's value).
LISTS = {
    "/admin/": "admin",
    "/admin/customer/": "customer",
    "/admin/pool/": "pool",
    "/admin/ownership_event/": "ownership_event",
    "/admin/recycle_soon/": "recycle_soon",
    "/admin/due_customer/": "due_customer",
}
CUSTOMER_PREFIX = "/admin/customer/details/?id="
ANNOUNCEMENT_PREFIX = "/admin/announcement/"


def _digits(expr: str) -> str:
    """SQL: `expr` is a non-empty run of digits (an id), on SQLite and PostgreSQL alike."""
    if op.get_bind().dialect.name == "postgresql":
        return f"{expr} ~ '^[0-9]+$'"
    return f"({expr} <> '' AND {expr} NOT GLOB '*[^0-9]*')"


def upgrade():
    for url, kind in LISTS.items():
        op.execute(f"UPDATE notifications SET link = 'list:{kind}' WHERE link = '{url}'")
    customer_id = f"substr(link, {len(CUSTOMER_PREFIX) + 1})"
    op.execute(f"UPDATE notifications SET link = 'customer/' || {customer_id} "
               f"WHERE link LIKE '{CUSTOMER_PREFIX}%' AND {_digits(customer_id)}")
    announcement_id = f"substr(link, {len(ANNOUNCEMENT_PREFIX) + 1}, length(link) - {len(ANNOUNCEMENT_PREFIX) + 1})"
    op.execute(f"UPDATE notifications SET link = 'announcement/' || {announcement_id} "
               f"WHERE link LIKE '{ANNOUNCEMENT_PREFIX}%/' AND {_digits(announcement_id)}")


def downgrade():
    for url, kind in LISTS.items():
        op.execute(f"UPDATE notifications SET link = '{url}' WHERE link = 'list:{kind}'")
    op.execute(f"UPDATE notifications SET link = '{CUSTOMER_PREFIX}' || substr(link, {len('customer/') + 1}) "
               f"WHERE link LIKE 'customer/%'")
    op.execute(f"UPDATE notifications SET link = '{ANNOUNCEMENT_PREFIX}' || substr(link, {len('announcement/') + 1})"
               f" || '/' WHERE link LIKE 'announcement/%'")
