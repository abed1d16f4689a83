"""Customers and what hangs off them: contacts, follow-ups, shares, ownership history."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    DDL, JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, SmallInteger, String, Text, event, false, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, format_repr, utcnow, version_column
from models.dictionary import DictItem
from models.org import Department, User


class CustomerKind(enum.StrEnum):
    PERSON = "person"
    COMPANY = "company"


class Gender(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"


class BirthdayCalendar(enum.StrEnum):
    """Which birthday a contact's greeting follows: the solar date, or the lunar one (rules/lunar.py)."""
    SOLAR = "solar"
    LUNAR = "lunar"


class PoolReason(enum.StrEnum):
    """Why a customer is in the pool (Customer.pool_reason, 入池原因)."""

    NEW = "new"
    RELEASED = "released"
    RECYCLED = "recycled"
    RECALLED = "recalled"
    IMPORTED = "imported"


def _dict_fk() -> Mapped[int | None]:
    return mapped_column(ForeignKey("dict_items.id"), index=True)


class Customer(TimestampMixin, db.Model):
    __tablename__ = "customers"
    __audited__ = True
    __audit_ignored__ = frozenset({"last_follow_up_at", "last_activity_at", "next_contact_at", "mobile_province",
                                   "mobile_city"})

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    kind: Mapped[CustomerKind] = mapped_column(String(16), nullable=False, default=CustomerKind.COMPANY)
    name: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    # 助记码 is only searched through customer_search (quick search), never by an index of its own.
    mnemonic: Mapped[str | None] = mapped_column(String(64))
    # person
    gender: Mapped[str | None] = mapped_column(String(8))
    birthday: Mapped[date | None] = mapped_column(Date)
    # company
    legal_representative: Mapped[str | None] = mapped_column(String(64))
    registered_capital: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))

    category_id: Mapped[int | None] = _dict_fk()
    source_id: Mapped[int | None] = _dict_fk()
    industry_id: Mapped[int | None] = _dict_fk()
    value_level_id: Mapped[int | None] = _dict_fk()
    stage_id: Mapped[int | None] = _dict_fk()
    credit_rating_id: Mapped[int | None] = _dict_fk()

    province: Mapped[str | None] = mapped_column(String(32), index=True)
    city: Mapped[str | None] = mapped_column(String(32))
    district: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(255))
    zip_code: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(32))
    # 手机归属地 of `mobile` (rules/phone_region.fill keeps them in step): filtered and counted
    # by province, so they are stored rather than worked out per row.
    mobile_province: Mapped[str | None] = mapped_column(String(32), index=True)
    mobile_city: Mapped[str | None] = mapped_column(String(32))
    fax: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(128))
    qq: Mapped[str | None] = mapped_column(String(20))
    wechat: Mapped[str | None] = mapped_column(String(64))
    website: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str | None] = mapped_column(Text)
    custom: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    # NULL owner = in the pool. The owner's department is copied at each change of owner
    # so reports can group by the department that owned the customer.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    last_follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 最近业务活动 (order placed/approved/shipped, receipt, ...): restarts the recycle clocks
    # like a follow-up does; kept by rules/activity.record_activity only.
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_contact_at: Mapped[date | None] = mapped_column(Date)
    # 客户池: the pool the customer belongs to, why and when it last entered it, when its
    # owner claimed it, protection against colliding sales, and whether it has a deal.
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("pools.id"))
    pool_reason: Mapped[PoolReason | None] = mapped_column(String(16))
    pool_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    protected_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    has_deal: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # 成交统计 and 积分, kept by rules/orders.py when an order completes or is returned.
    purchase_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    purchase_total: Mapped[Decimal] = mapped_column(Numeric(16, 2), nullable=False, default=Decimal("0"),
                                                    server_default="0")
    last_purchase_on: Mapped[date | None] = mapped_column(Date)
    points: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    # Who entered (or imported) the customer: 新增客户 stays theirs whoever owns it later.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    department: Mapped[Department | None] = relationship()
    parent: Mapped[Customer | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    category: Mapped[DictItem | None] = relationship(foreign_keys=[category_id])
    source: Mapped[DictItem | None] = relationship(foreign_keys=[source_id])
    industry: Mapped[DictItem | None] = relationship(foreign_keys=[industry_id])
    value_level: Mapped[DictItem | None] = relationship(foreign_keys=[value_level_id])
    stage: Mapped[DictItem | None] = relationship(foreign_keys=[stage_id])
    credit_rating: Mapped[DictItem | None] = relationship(foreign_keys=[credit_rating_id])
    contacts: Mapped[list[Contact]] = relationship(back_populates="customer", order_by="Contact.id")

    __table_args__ = (
        # The list pages: "my customers, newest follow-up first" (per owner and for everyone)
        # and the due-contact list. PostgreSQL sorts NULLs first in DESC order, so it gets
        # DESC NULLS LAST indexes; SQLite puts NULLs last in DESC order by itself.
        Index("ix_customers_owner_last_follow_up", "owner_id", "last_follow_up_at", "id"),
        Index("ix_customers_last_follow_up", "last_follow_up_at", "id"),
        Index("ix_customers_owner_last_follow_up_pg", "owner_id", text("last_follow_up_at DESC NULLS LAST"),
              text("id DESC")).ddl_if(dialect="postgresql"),
        Index("ix_customers_last_follow_up_pg", text("last_follow_up_at DESC NULLS LAST"),
              text("id DESC")).ddl_if(dialect="postgresql"),
        Index("ix_customers_owner_next_contact", "owner_id", "next_contact_at"),
        # The pool list: unowned customers of a pool, newest arrivals first.
        Index("ix_customers_pool", "pool_id", "pool_entered_at", sqlite_where=text("owner_id IS NULL"),
              postgresql_where=text("owner_id IS NULL")),
        # Only the recycle bin asks for deleted rows; an index of all rows would mislead planners.
        Index("ix_customers_binned", "deleted_at", sqlite_where=text("deleted_at IS NOT NULL"),
              postgresql_where=text("deleted_at IS NOT NULL")),
        # Almost every customer has no parent: only the few that do need an entry (the foreign
        # key's look-up of children, `parent_id = ?`, implies the WHERE on both databases).
        Index("ix_customers_parent_id", "parent_id", sqlite_where=text("parent_id IS NOT NULL"),
              postgresql_where=text("parent_id IS NOT NULL")),
        # No index of its own for owner_id (the first column of the owner indexes here and of
        # ix_customers_live_owner) nor pool_id (every pool query also asks owner_id IS NULL, the
        # partial ix_customers_pool): each would be one more entry written per customer, read by
        # nothing (migration 5e0b7c3a9f14).
    )

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "name", "owner_id")


class Contact(TimestampMixin, db.Model):
    __tablename__ = "contacts"
    __audited__ = True
    __audit_masked__ = frozenset({"id_number"})  # 身份证号: the log is no way round the mask

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    gender: Mapped[str | None] = mapped_column(String(8))
    position: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(128))
    qq: Mapped[str | None] = mapped_column(String(20))
    wechat: Mapped[str | None] = mapped_column(String(64))
    birthday: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    custom: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    id_number: Mapped[str | None] = mapped_column(String(18))  # 身份证号, 18 characters (rules/id_numbers.py)
    # 农历生日 (rules/lunar.py): month 1-12, day 1-30, and whether it is in a leap month (闰月)
    lunar_birth_month: Mapped[int | None] = mapped_column(SmallInteger)
    lunar_birth_day: Mapped[int | None] = mapped_column(SmallInteger)
    # Server defaults only: a row written by code older than these columns (an upgrade test's
    # Core insert) must not name them.
    lunar_birth_leap: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    birthday_calendar: Mapped[str] = mapped_column(String(8), nullable=False,
                                                   server_default=BirthdayCalendar.SOLAR.value)

    customer: Mapped[Customer] = relationship(back_populates="contacts")

    __table_args__ = (
        # At most one primary contact per customer, enforced by the database itself.
        Index("uq_contacts_one_primary", "customer_id", unique=True,
              sqlite_where=text("is_primary"), postgresql_where=text("is_primary")),
        # The greeting jobs look lunar birthdays up by the lunar day of the day they run.
        Index("ix_contacts_lunar_birthday", "lunar_birth_month", "lunar_birth_day"),
    )

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "customer_id", "name", "is_primary")


class FollowUpKind(enum.StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    WECHAT = "wechat"
    EMAIL = "email"
    SMS = "sms"
    OTHER = "other"
    # An SMS or email that reached the customer without its salesperson writing it (a bulk send
    # by someone else, a greeting): on the timeline, yet neither a follow-up nor a contact.
    MESSAGE = "message"


class FollowUpTemplate(db.Model):
    """跟进模板: an administrator's canned text for a kind of follow-up."""

    __tablename__ = "follow_up_templates"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    kind: Mapped[str | None] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __str__(self) -> str:
        return self.name


class FollowUp(TimestampMixin, db.Model):
    """联系记录."""

    __tablename__ = "follow_ups"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default=FollowUpKind.PHONE)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    next_contact_at: Mapped[date | None] = mapped_column(Date)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("follow_up_templates.id"))
    # 跟进机会: the opportunity this follow-up was about (it also restarts that opportunity's
    # stale clock); FK by name, opportunities import this module.
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    # Where it was written, when the salesperson's phone allowed it (手机版): degrees, and the
    # browser's accuracy radius in metres. Spoofing is out of scope; the radius is shown.
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    location_accuracy: Mapped[int | None] = mapped_column(Integer)

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    user: Mapped[User] = relationship()
    template: Mapped[FollowUpTemplate | None] = relationship()
    comments: Mapped[list[FollowUpComment]] = relationship(back_populates="follow_up",
                                                           order_by="FollowUpComment.id")

    __table_args__ = (
        Index("ix_follow_ups_customer_happened", "customer_id", "happened_at"),
        Index("ix_follow_ups_user_happened", "user_id", "happened_at"),
        # The whole firm's list newest first, and a day/month of it (客户跟进报表's drill-down).
        Index("ix_follow_ups_happened", "happened_at", "id"),
        Index("ix_follow_ups_opportunity", "opportunity_id", "happened_at",
              sqlite_where=text("opportunity_id IS NOT NULL"), postgresql_where=text("opportunity_id IS NOT NULL")),
    )

    def __str__(self) -> str:
        return (self.content or "")[:30]


class FollowUpComment(db.Model):
    """点评: a supervisor's remark on a follow-up."""

    __tablename__ = "follow_up_comments"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    follow_up: Mapped[FollowUp] = relationship(back_populates="comments")
    user: Mapped[User] = relationship()


class ShareMode(enum.StrEnum):
    READ_ONLY = "read_only"
    COLLABORATE = "collaborate"


class CustomerShare(db.Model):
    """共享: a customer shown to a colleague outside the owner's scope, read-only or to
    collaborate (add follow-ups and contacts), until a date or until revoked."""

    __tablename__ = "customer_shares"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    shared_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    mode: Mapped[str] = mapped_column(String(16), nullable=False, default=ShareMode.READ_ONLY)
    until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    shared_by: Mapped[User] = relationship(foreign_keys=[shared_by_id])

    __table_args__ = (Index("ix_customer_shares_user_active", "user_id", "revoked_at", "customer_id"),)


class OwnershipReason(enum.StrEnum):
    """Why a customer changed hands (OwnershipEvent.reason)."""

    CREATED = "created"
    CLAIM = "claim"
    RELEASE = "release"
    ASSIGN = "assign"
    RECALL = "recall"
    RECYCLE = "recycle"
    IMPORT = "import"
    APPROVED = "approved"  # a claim request approved


class RecycleRule(enum.StrEnum):
    """Which recycle rule sent a customer back to the pool (OwnershipEvent.recycle_rule)."""

    NO_CONTACT = "no_contact"  # claimed N days ago, no follow-up since the claim
    IDLE = "idle"  # no follow-up for N days
    NO_DEAL = "no_deal"  # claimed N days ago, still no deal


class OwnershipEvent(db.Model):
    """流转记录: every change of a customer's owner, with who did it and why. `note` is what a
    person wrote (a release reason, an approval note); a recycle's rule is a key, shown as a
    label in the reader's language."""

    __tablename__ = "ownership_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[OwnershipReason] = mapped_column(String(32), nullable=False)
    recycle_rule: Mapped[RecycleRule | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)

    customer: Mapped[Customer] = relationship()
    from_user: Mapped[User | None] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class PersonalContact(TimestampMixin, db.Model):
    """个人通讯录: a salesperson's own address book, seen by nobody else."""

    __tablename__ = "personal_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    company: Mapped[str | None] = mapped_column(String(128))
    position: Mapped[str | None] = mapped_column(String(64))
    mobile: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(128))
    notes: Mapped[str | None] = mapped_column(Text)

    def __str__(self) -> str:
        return self.name


class CustomerKey(db.Model):
    """Normalised values that duplicate checks compare (name, code, contact names, phones, ...),
    one row per value, so "is this phone already entered?" is one indexed look-up at any size."""

    __tablename__ = "customer_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    field: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[str] = mapped_column(String(128), nullable=False)

    __table_args__ = (Index("ix_customer_keys_lookup", "field", "value"),)


class CustomerSearch(db.Model):
    """What quick search looks in, one row per customer: `body` holds the searchable values
    (name, code, mnemonic, contact names, phones), normalised and lower-cased, one per line;
    `tokens` their character n-grams (see rules/search.py). PostgreSQL keeps them as an array
    too (a stored generated column with a GIN index, below); SQLite mirrors them into the FTS5
    table customer_fts (triggers below)."""

    __tablename__ = "customer_search"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    tokens: Mapped[str] = mapped_column(Text, nullable=False, default="")


# A stored array rather than a GIN index on string_to_array(tokens): PostgreSQL re-checks every
# GIN hit of `@>`, and splitting the string again for each of a common term's 150k hits cost a
# second per count at a million customers; comparing a stored array costs a tenth of that.
PG_SEARCH_DDL = [
    "ALTER TABLE customer_search ADD COLUMN token_array text[] "
    "GENERATED ALWAYS AS (string_to_array(tokens, ' ')) STORED",
    "CREATE INDEX ix_customer_search_token_array ON customer_search USING gin (token_array)",
]
PG_SEARCH_OBJECTS = frozenset({"token_array", "ix_customer_search_token_array"})

for _statement in PG_SEARCH_DDL:
    event.listen(CustomerSearch.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))


SQLITE_FTS_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS customer_fts USING fts5(tokens, content='customer_search', "
    "content_rowid='customer_id', tokenize='unicode61 remove_diacritics 0')",
    # merge 16 segments at a time, not 4: bulk imports rewrite the index less (migration f3a5c7e9b1d2)
    "INSERT INTO customer_fts(customer_fts, rank) VALUES ('automerge', 16)",
    "CREATE TRIGGER IF NOT EXISTS customer_search_ai AFTER INSERT ON customer_search BEGIN "
    "INSERT INTO customer_fts(rowid, tokens) VALUES (new.customer_id, new.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS customer_search_ad AFTER DELETE ON customer_search BEGIN "
    "INSERT INTO customer_fts(customer_fts, rowid, tokens) VALUES ('delete', old.customer_id, old.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS customer_search_au AFTER UPDATE ON customer_search BEGIN "
    "INSERT INTO customer_fts(customer_fts, rowid, tokens) VALUES ('delete', old.customer_id, old.tokens); "
    "INSERT INTO customer_fts(rowid, tokens) VALUES (new.customer_id, new.tokens); END",
]

for _statement in SQLITE_FTS_DDL:
    event.listen(CustomerSearch.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))


def alembic_include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's autogenerate skips what is created by hand above: SQLite's FTS5 mirror and
    PostgreSQL's token array with its index."""
    if type_ == "table" and (name or "").startswith(("customer_fts", "document_fts", "kb_article_fts", "ticket_fts")):
        return False
    # the document centre's, the knowledge base's and the tickets' search indexes are made the same way
    # (models/document.py, models/knowledge.py, models/service.py)
    return not (type_ in ("column", "index") and name in PG_SEARCH_OBJECTS | {
        "ix_document_search_token_array", "ix_kb_article_search_token_array", "ix_ticket_search_token_array"})
