"""The pool through the panel: claiming, releasing, assigning, recalling, requests, the
recycle job (embedded, CLI and a real rq worker) and the settings preview."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW, REDIS_URL, list_table, need_service
from models import ClaimRequest, Customer, Notification, OwnershipEvent, Role, db
from rules import org
from rules import pool as pool_rules

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pool_customers(app, make_user, make_customer):
    make_user("mgr", role="经理", department=("销售部",))
    rep1 = make_user("rep1", superior="mgr")
    rep2 = make_user("rep2", superior="mgr")
    ids = [make_customer(f"公海{i}号", None, phone=f"0571-8765432{i}") for i in range(4)]
    with app.app_context():
        pool = pool_rules.default_pool(db.session)
        pool.hidden_fields = ["phone"]
        for cid in ids:
            c = db.session.get(Customer, cid)
            c.pool_id, c.pool_reason, c.pool_entered_at = pool.id, "new", FIXED_NOW
        db.session.commit()
    return rep1, rep2, ids


def test_claim_then_release_with_a_reason_and_both_moves_are_in_the_history(app, client, pool_customers):
    rep1, _rep2, ids = pool_customers
    client.login("rep1")
    pool_page = client.get("/admin/pool/").get_data(as_text=True)
    table = list_table(pool_page)
    assert "公海0号" in table and "0571-87654320" not in table and "领用后可见" in table
    statements = []
    from sqlalchemy import event
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    client.get("/admin/pool/")
    event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) < 25  # a page costs a bounded number of queries, not one per cell
    done = client.action("/admin/pool/", "claim", ids[:2]).get_data(as_text=True)
    assert "已领用 2 位客户" in done
    mine = client.get(f"/admin/customer/details/?id={ids[0]}").get_data(as_text=True)
    assert "0571-87654320" in mine  # claimed: the hidden phone is visible to its new owner
    missing = client.post_form(f"/admin/customer/release/?ids={ids[0]}", {"reason": ""}, follow=True)
    assert "请填写放弃原因" in missing.get_data(as_text=True)
    client.post_form(f"/admin/customer/release/?ids={ids[0]}", {"reason": "客户没有需求"})
    history = list_table(client.get("/admin/ownership_event/").get_data(as_text=True))
    assert "领用" in history and "放弃" in history and "客户没有需求" in history
    with app.app_context():
        assert db.session.get(Customer, ids[0]).owner_id is None
        assert db.session.get(Customer, ids[1]).owner_id == rep1


def test_a_claim_of_an_already_claimed_customer_says_so_and_changes_nothing_else(app, client, new_client,
                                                                                 pool_customers):
    rep1, rep2, ids = pool_customers
    other = new_client()
    other.login("rep2")
    other.action("/admin/pool/", "claim", [ids[0]])
    client.login("rep1")
    refused = client.action("/admin/pool/", "claim", [ids[1], ids[0]]).get_data(as_text=True)
    assert "已被他人领用" in refused
    with app.app_context():
        assert db.session.get(Customer, ids[1]).owner_id is None  # the batch did not half-apply
        assert db.session.get(Customer, ids[0]).owner_id == rep2


def test_salespeople_cannot_assign_or_recall_but_their_manager_can(app, client, new_client, pool_customers):
    rep1, rep2, ids = pool_customers
    client.login("rep1")
    client.action("/admin/pool/", "claim", [ids[0]])
    client.action("/admin/customer/", "recall", [ids[0]])
    assert client.get(f"/admin/customer/assign/?ids={ids[0]}").status_code == 403
    with app.app_context():
        assert db.session.get(Customer, ids[0]).owner_id == rep1
    manager = new_client()
    manager.login("mgr")
    form = manager.get(f"/admin/customer/assign/?ids={ids[0]}").get_data(as_text=True)
    assert "rep2" in form
    manager.post_form(f"/admin/customer/assign/?ids={ids[0]}", {"to_user": str(rep2)})
    with app.app_context():
        assert db.session.get(Customer, ids[0]).owner_id == rep2
    manager.action("/admin/customer/", "recall", [ids[0]])
    with app.app_context():
        assert db.session.get(Customer, ids[0]).pool_reason == "recalled"


def test_requests_are_approved_from_the_list_and_the_applicant_is_told(app, client, new_client, pool_customers):
    rep1, _rep2, ids = pool_customers
    client.login("rep1")
    client.action("/admin/pool/", "request", [ids[2]])
    manager = new_client()
    manager.login("mgr")
    assert "rep1" in list_table(manager.get("/admin/claim_request/").get_data(as_text=True))
    with app.app_context():
        request_id = db.session.scalar(select(ClaimRequest.id))
    manager.action("/admin/claim_request/", "approve", [request_id])
    with app.app_context():
        assert db.session.get(Customer, ids[2]).owner_id == rep1
    assert "领用申请已批准" in client.get("/admin/").get_data(as_text=True)


def _make_due(app, owner_id: int, name: str) -> int:
    with app.app_context():
        pool = pool_rules.default_pool(db.session)
        pool.recycle_enabled, pool.no_contact_days = True, 10
        customer = Customer(name=name, owner_id=owner_id, claimed_at=FIXED_NOW - timedelta(days=20))
        db.session.add(customer)
        db.session.commit()
        return customer.id


def test_settings_preview_and_the_cli_dry_run_show_what_tonight_would_move(app, client, admin_id, pool_customers):
    rep1, _rep2, _ids = pool_customers
    due = _make_due(app, rep1, "久未联系的客户")
    client.login("admin")
    preview = client.get("/admin/pool_settings/preview/").get_data(as_text=True)
    assert 'data-rule="total">1<' in preview and "久未联系的客户" in preview
    result = app.test_cli_runner().invoke(args=["recycle", "--dry-run"])
    assert "将回收 1 位客户" in result.output
    with app.app_context():
        assert db.session.get(Customer, due).owner_id == rep1
    result = app.test_cli_runner().invoke(args=["recycle"])
    assert "已回收 1 位客户" in result.output
    with app.app_context():
        assert db.session.get(Customer, due).owner_id is None
        assert db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == rep1)) == 1


def test_the_recycle_job_runs_in_a_real_rq_worker(tmp_path, make_user):
    from conftest import build_app, worker_env
    from jobs.queue import enqueue
    from jobs.recycle import recycle_customers

    url = need_service(REDIS_URL, "Redis")
    from redis import Redis

    Redis.from_url(url).flushdb()
    app = build_app("sqlite", tmp_path, REDIS_URL=url, EMBEDDED_JOBS_SYNC=False)
    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        rep = org.create_user(db.session, username="rep1", password="secret-123", display_name="rep1", role=role)
        db.session.commit()
        rep_id = rep.id
    due = _make_due(app, rep_id, "该回收的客户")
    with app.app_context():
        enqueue(recycle_customers)
    result = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", url, "kechi"],
                            cwd=ROOT, env=worker_env(app, tmp_path, url), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with app.app_context():
        assert db.session.get(Customer, due).owner_id is None
        assert db.session.scalar(select(OwnershipEvent.reason).where(OwnershipEvent.customer_id == due)) == "recycle"


def test_the_recycle_job_runs_inline_in_embedded_mode(app, make_user):
    from jobs.queue import enqueue
    from jobs.recycle import recycle_customers

    rep = make_user("rep1")
    due = _make_due(app, rep, "嵌入模式回收")
    with app.app_context():
        enqueue(recycle_customers)
        assert db.session.get(Customer, due).owner_id is None


def test_soon_to_be_recycled_list_and_countdown(app, client, make_user):
    rep = make_user("rep1")
    with app.app_context():
        pool = pool_rules.default_pool(db.session)
        pool.recycle_enabled, pool.no_contact_days, pool.warn_days = True, 10, 7
        # claimed an hour more than whole days ago: the countdown counts whole days left
        db.session.add_all([
            Customer(name="快到期", owner_id=rep, claimed_at=FIXED_NOW - timedelta(days=6, hours=1)),
            Customer(name="还早呢", owner_id=rep, claimed_at=FIXED_NOW - timedelta(days=1, hours=1))])
        db.session.commit()
    client.login("rep1")
    soon = list_table(client.get("/admin/recycle_soon/").get_data(as_text=True))
    assert "快到期" in soon and "还早呢" not in soon and "还剩 3 天" in soon
    assert "还剩 8 天" in list_table(client.get("/admin/customer/").get_data(as_text=True))
    assert 'data-widget="recycle_soon"' in client.get("/admin/").get_data(as_text=True)


def test_protection_keeps_a_customer_from_recycling_and_warns_or_refuses_colliding_entries(
        app, client, new_client, admin_id, make_user, make_customer):
    rep = make_user("rep1")
    make_user("rep2")
    protected = _make_due(app, rep, "杭州撞单科技")
    client.login("rep1")
    done = client.action("/admin/customer/", "protect", [protected]).get_data(as_text=True)
    assert "已保护 1 位客户" in done
    assert 'data-widget="protection_expiring"' in client.get("/admin/").get_data(as_text=True)
    with app.app_context():
        from rules import customers, recycle
        customers.reindex(db.session, db.session.get(Customer, protected))
        db.session.commit()
        assert recycle.recycle_due(db.session, now=FIXED_NOW).total == 0
    other = new_client()
    other.login("rep2")
    warned = other.post_form("/admin/customer/new/", {"kind": "company", "name": "杭州撞单科技"}).get_data(as_text=True)
    assert "与受保护的客户「杭州撞单科技」撞单" in warned
    admin = new_client()
    admin.login("admin")
    admin.post_form("/admin/customer_settings/", {"customer_code_pattern": "KH{yyyy}{seq:05d}", "dup_name": "allow",
                                                  "pool_enabled": "1",
                                                  "protect_max_protected": "1", "protect_days": "30",
                                                  "protect_warn_days": "3", "protect_on_collision": "forbid"})
    refused = other.post_form("/admin/customer/new/", {"kind": "company", "name": "杭州撞单科技",
                                                       "confirm_duplicates": "y"}).get_data(as_text=True)
    assert "撞单，不允许录入" in refused
    second = make_customer("第二个客户", rep)
    over = client.action("/admin/customer/", "protect", [second]).get_data(as_text=True)
    assert "最多只能保护 1 位客户" in over
    client.action("/admin/customer/", "unprotect", [protected])
    with app.app_context():
        assert db.session.get(Customer, protected).protected_until is None


def test_pool_settings_take_role_limits_and_value_level_days(app, client, admin_id, pool_customers):
    from models import DictItem, Pool

    client.login("admin")
    with app.app_context():
        pool = pool_rules.default_pool(db.session)
        rep_role = db.session.scalar(select(Role.id).where(Role.name == "业务员"))
        level_a = db.session.scalar(select(DictItem.id).where(DictItem.kind == "value_level", DictItem.name == "A"))
        pool_id = pool.id
    page = client.get(f"/admin/pool_settings/edit/?id={pool_id}").get_data(as_text=True)
    assert f"role_{rep_role}_max_owned" in page and f"level_{level_a}_idle_days" in page
    client.post_form(f"/admin/pool_settings/edit/?id={pool_id}", {
        "name": "公共客户池", "is_default": "y", "max_owned": "100", "max_claims_per_day": "10", "cooldown_days": "0",
        "recycle_enabled": "y", "idle_days": "30", "exempt_deals": "y", "warn_days": "7",
        f"role_{rep_role}_max_claims_per_day": "2", f"level_{level_a}_idle_days": "60"})
    with app.app_context():
        pool = db.session.get(Pool, pool_id)
        assert pool.role_limits == {str(rep_role): {"max_claims_per_day": 2}}
        assert pool.level_days == {str(level_a): {"idle_days": 60}}
        rules = pool_rules.claim_rules(db.session, pool, role_id=rep_role)
        assert (rules.max_owned, rules.max_claims_per_day) == (100, 2)


def test_with_the_pool_switched_off_nothing_moves(app, client, admin_id, pool_customers):
    rep1, _rep2, ids = pool_customers
    admin = client
    admin.login("admin")
    admin.post_form("/admin/customer_settings/", {"customer_code_pattern": "KH{yyyy}{seq:05d}"})
    admin.logout()
    client.login("rep1")
    assert client.get("/admin/pool/").status_code == 403
    due = _make_due(app, rep1, "不会被回收")
    with app.app_context():
        from rules import recycle
        assert recycle.recycle_due(db.session, now=FIXED_NOW).total == 0
        assert db.session.get(Customer, due).owner_id == rep1
