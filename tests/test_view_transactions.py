"""One transaction boundary for the panel (admin_views/transaction.py): no other module of
admin_views/ commits, and a refusal from a rule reaches the user as its reason, with nothing of
the refused change left behind, instead of a server error."""
from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

import rules.customers
import rules.sharing
from conftest import FIXED_NOW, list_table
from models import AuditLog, Contact, Customer, CustomerShare, Order, db
from rules.errors import InvalidValue

ROOT = Path(__file__).resolve().parent.parent
# The boundary itself: transaction(), and the two clearly named commits beside it.
MAY_COMMIT = {Path("admin_views/transaction.py")}


@pytest.fixture
def clock(app):
    app.config["CLOCK"] = lambda: FIXED_NOW


def commits(path: Path) -> list[int]:
    """Lines that reach for a session's commit: `db.session.commit()`, `session.commit()`,
    or the method handed on without a call."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return sorted(node.lineno for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "commit")


def test_the_scan_sees_a_commit():
    assert commits(ROOT / "admin_views" / "transaction.py"), "the boundary commits, and the scan must see it"


def test_only_the_transaction_module_commits():
    files = sorted((ROOT / "admin_views").rglob("*.py"))
    assert any(f.parent.name == "messaging" for f in files), "the scan must reach the sub-packages"
    wrong = [f"{path.relative_to(ROOT)}:{line}" for path in files if path.relative_to(ROOT) not in MAY_COMMIT
             for line in commits(path)]
    assert not wrong, ("a view commits on its own; use `with transaction(...)` from admin_views/transaction.py "
                       "(or commit_or_explain), so a refusal is explained and rolled back:\n" + "\n".join(wrong))


def refusing_after(real, reason: str):
    """The real rule, which then refuses: what it wrote must be rolled back, and the user told why."""
    def rule(*args, **kwargs):
        real(*args, **kwargs)
        raise InvalidValue(reason)

    return rule


def test_a_refused_unshare_shows_its_reason_and_the_share_stays(app, client, new_client, make_user, make_customer,
                                                                  clock, monkeypatch):
    rep1, rep2 = make_user("rep1"), make_user("rep2")
    cid = make_customer("共享客户", rep1)
    with app.app_context():
        share = CustomerShare(customer_id=cid, user_id=rep2, shared_by_id=rep1, mode="read_only", created_at=FIXED_NOW)
        db.session.add(share)
        db.session.commit()
        share_id = share.id
    monkeypatch.setattr(rules.sharing, "revoke", refusing_after(rules.sharing.revoke, "该共享正在审批中，暂不能取消"))
    client.login("rep1")
    page = client.post_form(f"/admin/customer/details/?id={cid}", {"share_id": str(share_id)},
                            to="/admin/customer/unshare/", follow=True)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "该共享正在审批中，暂不能取消" in html and "已取消共享" not in html
    with app.app_context():
        assert db.session.get(CustomerShare, share_id).revoked_at is None
    sharee = new_client()
    sharee.login("rep2")
    assert "共享客户" in list_table(sharee.get("/admin/shared_with_me/").get_data(as_text=True))


def test_a_refused_merge_shows_its_reason_keeps_the_choice_and_merges_nothing(app, client, make_user, make_customer,
                                                                             clock, monkeypatch):
    make_user("sup1", role="主管")
    rep = make_user("rep1", superior="sup1")
    first, second = make_customer("合并甲", rep), make_customer("合并乙", rep)
    with app.app_context():
        db.session.add(Contact(customer_id=first, name="甲联系人", is_primary=True))
        db.session.commit()
    monkeypatch.setattr(rules.customers, "merge", refusing_after(rules.customers.merge, "合并甲有未完成的订单，不能合并"))
    client.login("sup1")
    page = client.post_form(f"/admin/customer/merge/?ids={first},{second}", {"keep": str(second)}, follow=True)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "合并甲有未完成的订单，不能合并" in html
    # The merge page again, with the customer the user chose to keep still chosen.
    assert "合并甲" in html and "合并乙" in html
    assert f'name="keep" value="{second}" checked' in html and f'value="{first}" checked' not in html
    with app.app_context():
        gone = db.session.get(Customer, first)
        assert gone.deleted_at is None and gone.merged_into_id is None
        assert db.session.scalar(select(Contact.customer_id).where(Contact.name == "甲联系人")) == first
        assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "merge")) is None


def test_purging_a_customer_with_orders_says_why_and_leaves_it_in_the_bin(app, client, make_user, make_customer,
                                                                         clock):
    make_user("mgr", role="经理", department=("销售部",))
    rep = make_user("rep1", superior="mgr")
    cid = make_customer("有订单的客户", rep)
    with app.app_context():
        db.session.add(Order(number="XS-TEST-0001", customer_id=cid, salesperson_id=rep, order_date=date(2026, 11, 1)))
        db.session.commit()
    client.login("mgr")
    client.action("/admin/customer/", "delete", [cid])
    page = client.action("/admin/customer_bin/", "purge", [cid])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "有订单，订单和回款记录需要保留，不能彻底删除" in html and "已彻底删除" not in html
    with app.app_context():
        assert db.session.get(Customer, cid).deleted_at is not None
    assert "有订单的客户" in list_table(client.get("/admin/customer_bin/").get_data(as_text=True))
