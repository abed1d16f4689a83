"""Upgrading keeps the rows that issue 16 re-reads: follow-ups written by bulk sends become
messages (none deleted, 最后联系 worked out again), and customers named with a polyphone surname
are found by their surname's initials (曾广银 by zgy, a contact 单雄信 by sxx)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import insert, select

from app import MIGRATIONS_DIR
from conftest import FIXED_NOW, app_at_revision
from models import Contact, Customer, CustomerSearch, FollowUp, Role, User, db
from models.messaging import MessageBatch, Outbox
from rules import search

BEFORE = "a1c3e5f7b9d2"


def put(model, **values) -> int:
    """One row written with only the columns that release had (the ORM would name today's)."""
    table = model.__table__
    return db.session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()


def old_rows() -> dict[str, int]:
    """Rows as the code before issue 16 wrote them."""
    role = put(Role, name="业务员", data_scope="self", permissions=[])
    owner = put(User, username="chenxm", password_hash="x", display_name="陈晓明", role_id=role, active=True)
    admin = put(User, username="admin", password_hash="x", display_name="管理员", role_id=role, active=True)
    zeng = put(Customer, name="曾广银", kind="person", mnemonic="cgy", owner_id=owner, custom={}, version=1)
    company = put(Customer, name="和泰商贸", kind="company", mnemonic="htsm", owner_id=owner, custom={},
                  last_follow_up_at=FIXED_NOW, version=1)
    put(Contact, customer_id=company, name="单雄信", is_primary=True, custom={}, version=1)
    db.session.execute(insert(CustomerSearch.__table__), [
        search.index_row(zeng, ["曾广银", "cgy"]), search.index_row(company, ["和泰商贸", "htsm", "单雄信"])])
    earlier = FIXED_NOW - timedelta(days=20)
    bulk = put(MessageBatch, channel="sms", source="manual", title="新品", user_id=admin, created_at=FIXED_NOW)
    own = put(MessageBatch, channel="sms", source="manual", title="问候", user_id=owner, created_at=earlier)
    for batch, sender, at, key in ((bulk, admin, FIXED_NOW, "a"), (own, owner, earlier, "b")):
        put(Outbox, channel="sms", status="sent", key=key, batch_id=batch, customer_id=company,
            user_id=sender, to_address="13900000001", body="新品到货", segments=1,
            respect_quiet_hours=False, created_at=at, sent_at=at, attempts=1)
        put(FollowUp, customer_id=company, user_id=sender, kind="sms", happened_at=at,
            content="[短信→和泰商贸 13900000001] 新品到货")
    put(FollowUp, customer_id=company, user_id=owner, kind="phone", content="电话沟通",
        happened_at=earlier - timedelta(days=1))
    db.session.commit()
    return {"zeng": zeng, "company": company, "admin": admin, "owner": owner}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrade_re_marks_bulk_sends_and_rebuilds_surname_initials(tmp_path, kind):
    with app_at_revision(kind, tmp_path, BEFORE):
        ids = old_rows()
        upgrade(directory=MIGRATIONS_DIR)
        db.session.expire_all()
        rows = db.session.execute(select(FollowUp.user_id, FollowUp.kind).where(
            FollowUp.customer_id == ids["company"]).order_by(FollowUp.id)).all()
        assert [tuple(r) for r in rows] == [(ids["admin"], "message"), (ids["owner"], "sms"), (ids["owner"], "phone")]
        company = db.session.get(Customer, ids["company"])
        assert company.last_follow_up_at == FIXED_NOW - timedelta(days=20)   # the owner's own SMS
        assert db.session.get(Customer, ids["zeng"]).mnemonic == "zgy"
        for term, expected in (("zgy", ["曾广银"]), ("sxx", ["和泰商贸"]), ("和泰", ["和泰商贸"])):
            where = search.clause(db.session, term)
            assert list(db.session.scalars(select(Customer.name).where(where))) == expected, term
