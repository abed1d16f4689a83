"""Upgrading keeps the rows that issue 16 re-reads: follow-ups written by bulk sends become
messages (none deleted, 最后联系 worked out again), and customers named with a polyphone surname
are found by their surname's initials (曾广银 by zgy, a contact 单雄信 by sxx)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from app import MIGRATIONS_DIR
from conftest import FIXED_NOW, app_at_revision
from models import Contact, Customer, CustomerSearch, FollowUp, Role, User, db
from models.messaging import MessageBatch, Outbox
from rules import org, search

BEFORE = "a1c3e5f7b9d2"


def old_rows() -> dict[str, int]:
    """Rows as the code before issue 16 wrote them."""
    role = Role(name="业务员", data_scope="self", permissions=[])
    db.session.add(role)
    db.session.flush()
    owner = org.create_user(db.session, username="chenxm", password="x" * 12, display_name="陈晓明", role=role)
    admin = org.create_user(db.session, username="admin", password="x" * 12, display_name="管理员", role=role)
    zeng = Customer(name="曾广银", kind="person", mnemonic="cgy", owner_id=owner.id, custom={})
    company = Customer(name="和泰商贸", kind="company", mnemonic="htsm", owner_id=owner.id, custom={},
                       last_follow_up_at=FIXED_NOW)
    company.contacts = [Contact(name="单雄信", is_primary=True, custom={})]
    db.session.add_all([zeng, company])
    db.session.flush()
    db.session.add_all([
        CustomerSearch(**search.index_row(zeng.id, ["曾广银", "cgy"])),
        CustomerSearch(**search.index_row(company.id, ["和泰商贸", "htsm", "单雄信"]))])
    earlier = FIXED_NOW - timedelta(days=20)
    bulk = MessageBatch(channel="sms", source="manual", title="新品", user_id=admin.id, created_at=FIXED_NOW)
    own = MessageBatch(channel="sms", source="manual", title="问候", user_id=owner.id, created_at=earlier)
    db.session.add_all([bulk, own])
    db.session.flush()
    for batch, sender, at, key in ((bulk, admin, FIXED_NOW, "a"), (own, owner, earlier, "b")):
        db.session.add(Outbox(channel="sms", status="sent", key=key, batch_id=batch.id, customer_id=company.id,
                              user_id=sender.id, to_address="13900000001", body="新品到货", segments=1,
                              respect_quiet_hours=False, created_at=at, sent_at=at, attempts=1))
        db.session.add(FollowUp(customer_id=company.id, user_id=sender.id, kind="sms", happened_at=at,
                                content="[短信→和泰商贸 13900000001] 新品到货"))
    db.session.add(FollowUp(customer_id=company.id, user_id=owner.id, kind="phone", content="电话沟通",
                            happened_at=earlier - timedelta(days=1)))
    db.session.commit()
    return {"zeng": zeng.id, "company": company.id, "admin": admin.id, "owner": owner.id}


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
