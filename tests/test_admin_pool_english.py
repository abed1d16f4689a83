"""An English-speaking team uses the pool: random claiming and the nightly recycle decide on
kinds of refusal and stored keys, never on the words a user reads, and the ownership history
names each recycle rule in the reader's language."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text, update

from conftest import FIXED_NOW, list_table
from models import Customer, PoolReason, User, db
from rules import pool as pool_rules

LONG_AGO = datetime(2000, 1, 3, 2, 0, tzinfo=timezone.utc)  # cold on whatever day the job runs


def speak_english(app, *usernames: str) -> None:
    with app.app_context():
        for username in usernames:
            db.session.scalar(select(User).where(User.username == username)).locale = "en"
        db.session.commit()


def wait_until_a_statement_waits_for_a_lock(engine) -> None:
    """Until PostgreSQL shows a backend queued behind a row lock (a fresh look each time: a
    transaction would keep seeing its first snapshot of pg_stat_activity)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        for _ in range(400):
            if watcher.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                   "AND datname = current_database()")):
                return
            time.sleep(0.05)
    raise AssertionError("the random claim never reached a customer the colleague was taking")


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)
def test_random_claiming_in_english_skips_the_customers_a_colleague_takes_meanwhile(app, client, make_user):
    """Li Lei asks for three customers at random while a colleague's claim of every other pool
    customer is still being written: the ones taken meanwhile are skipped, he gets the three free
    ones and is told so in English."""
    rep1 = make_user("rep1", display_name="Li Lei")
    rep2 = make_user("rep2")
    speak_english(app, "rep1")
    free = ["空闲甲", "空闲乙", "空闲丙"]
    with app.app_context():
        pool = pool_rules.default_pool(db.session)
        customers = [Customer(name=name, pool_id=pool.id, pool_reason=PoolReason.NEW, pool_entered_at=FIXED_NOW)
                     for name in free + [f"被抢{i:02d}" for i in range(47)]]
        db.session.add_all(customers)
        db.session.commit()
        taken = [c.id for c in customers[len(free):]]
    client.login("rep1")
    token = client.token("/admin/pool/")
    answer: dict[str, str] = {}

    def claim_three() -> None:
        answer["page"] = client.post("/admin/pool/random/", data={"csrf_token": token, "count": "3"},
                                     follow_redirects=True).get_data(as_text=True)

    with app.app_context():
        colleague = db.engine.connect()
        colleague_claims = colleague.begin()
        colleague.execute(update(Customer).where(Customer.id.in_(taken)).values(owner_id=rep2, claimed_at=FIXED_NOW))
        claimer = threading.Thread(target=claim_three)
        claimer.start()
        try:
            wait_until_a_statement_waits_for_a_lock(db.engine)
        finally:
            colleague_claims.commit()
            colleague.close()
            claimer.join(timeout=60)
    assert "Claimed 3 random customer(s)." in answer["page"]
    assert "already been claimed" not in answer["page"]
    mine = list_table(client.get("/admin/customer/").get_data(as_text=True))
    assert all(name in mine for name in free) and "被抢" not in mine
    with app.app_context():
        owned = set(db.session.scalars(select(Customer.name).where(Customer.owner_id == rep1)))
        assert owned == set(free)


def test_the_nightly_recycle_names_its_rule_in_each_readers_language(app, new_client, make_user, admin_id):
    """The nightly job takes back two of Li Lei's customers under two rules. He reads the history
    in English, his Chinese-speaking manager in Chinese; each finds the moves by the rule's name."""
    from jobs.recycle import recycle_customers

    make_user("mgr", role="经理", department=("销售部",), display_name="王经理")
    rep1 = make_user("rep1", superior="mgr", display_name="Li Lei")
    speak_english(app, "rep1")
    with app.app_context():
        pool = pool_rules.default_pool(db.session)
        pool.recycle_enabled, pool.no_contact_days, pool.idle_days = True, 10, 30
        never = Customer(name="甲公司", owner_id=rep1, claimed_at=LONG_AGO)
        idle = Customer(name="乙公司", owner_id=rep1, claimed_at=LONG_AGO, last_follow_up_at=LONG_AGO + timedelta(days=5))
        db.session.add_all([never, idle])
        db.session.commit()
        idle_id = idle.id
        moved = recycle_customers()  # the nightly job as the schedule runs it
    assert moved == {"no_contact": 1, "idle": 1, "no_deal": 0}

    english = new_client()
    english.login("rep1")
    history = list_table(english.get("/admin/ownership_event/").get_data(as_text=True))
    for words in ("Recycle", "Not contacted after claim", "No recent contact"):
        assert words in history, words
    for chinese in ("回收", "领用后未联系", "长期未联系"):
        assert chinese not in history, chinese
    found = list_table(english.get("/admin/ownership_event/?search=recent").get_data(as_text=True))
    assert "乙公司" in found and "甲公司" not in found

    chinese = new_client()
    chinese.login("mgr")
    history = list_table(chinese.get("/admin/ownership_event/").get_data(as_text=True))
    assert "领用后未联系" in history and "长期未联系" in history
    found = list_table(chinese.get("/admin/ownership_event/?search=长期").get_data(as_text=True))
    assert "乙公司" in found and "甲公司" not in found
    admin = new_client()
    admin.login("admin")  # sees pool customers: the customer's own page has the same history
    details = admin.get(f"/admin/customer/details/?id={idle_id}").get_data(as_text=True)
    assert "长期未联系" in details.split('id="tab-history"', 1)[1]
