"""The 线索池 page and the lead pool's moves through the panel: the list shows only the user's lead
pools' open, unowned leads (newest first, hidden fields masked), claim and random claim,
assign, release with a reason, recall from a lead list (LeadPoolActionsMixin), and lead pools on
the 客户池设置 page without ever showing up on the customer pool's pages."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW, PASSWORD, Browserish, build_app, list_table
from models import Lead, LeadEvent, Pool, PoolMember, Role, User, db
from models.pool import PoolKind
from rules import org
from rules import pool as pool_rules
from rules.pool_subject import LEADS


def add_lead(app, name: str, *, pool_id: int | None = None, entered_minutes_ago: int = 0, **values) -> int:
    with app.app_context():
        if pool_id is None and values.get("owner_id") is None:
            pool_id = pool_rules.default_pool(db.session, LEADS).id
        lead = Lead(name=name, pool_id=pool_id, pool_reason="new" if pool_id else None,
                    pool_entered_at=FIXED_NOW - timedelta(minutes=entered_minutes_ago), **values)
        db.session.add(lead)
        db.session.commit()
        return lead.id


@pytest.fixture
def team(app, make_user):
    make_user("mgr", role="经理", department=("销售部",))
    rep1 = make_user("rep1", superior="mgr")
    rep2 = make_user("rep2", superior="mgr")
    with app.app_context():
        pool = pool_rules.default_pool(db.session, LEADS)
        pool.hidden_fields = ["mobile"]
        db.session.commit()
    return rep1, rep2


def test_the_lead_pool_lists_only_open_unowned_leads_of_the_users_lead_pools_newest_first(app, client, team,
                                                                                         make_user):
    rep1, rep2 = team
    make_user("kefu", department=("客服部",))
    with app.app_context():
        other = Pool(name="客服线索池", kind=PoolKind.LEAD)
        other.members = [PoolMember(department_id=org.ensure_department_path(db.session, ["客服部"]).id)]
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    add_lead(app, "较早的线索", entered_minutes_ago=30, mobile="13800000001")
    add_lead(app, "最新的线索", entered_minutes_ago=1, mobile="13800000002")
    add_lead(app, "客服部的线索", pool_id=other_id)
    add_lead(app, "已转化的线索", status="converted")
    add_lead(app, "无效的线索", status="invalid")
    add_lead(app, "同事的线索", owner_id=rep2)
    client.login("rep1")
    page = client.get("/admin/lead_pool/").get_data(as_text=True)
    table = list_table(page)
    assert table.index("最新的线索") < table.index("较早的线索")
    for absent in ("客服部的线索", "已转化的线索", "无效的线索", "同事的线索"):
        assert absent not in table
    assert "13800000001" not in table and "领用后可见" in table  # the pool hides mobiles until claimed
    assert "您从以下线索池领用" in page and "公共线索池" in page and "客服线索池" not in page
    # a lead of a pool one does not draw from answers 404, its claim is refused and changes nothing
    foreign = add_lead(app, "另一条客服部线索", pool_id=other_id)
    refused = client.action("/admin/lead_pool/", "claim", [foreign]).get_data(as_text=True)
    assert "记录不存在" in refused
    with app.app_context():
        assert db.session.get(Lead, foreign).owner_id is None


def test_claim_and_random_claim_from_the_lead_pool(app, client, new_client, team):
    rep1, rep2 = team
    ids = [add_lead(app, f"线索{i}", entered_minutes_ago=i) for i in range(6)]
    client.login("rep1")
    done = client.action("/admin/lead_pool/", "claim", ids[:2]).get_data(as_text=True)
    assert "已领用 2 条线索" in done
    other = new_client()
    other.login("rep2")
    refused = other.action("/admin/lead_pool/", "claim", [ids[2], ids[0]]).get_data(as_text=True)
    assert "线索“线索0”已被他人领用" in refused
    page = other.client.get("/admin/lead_pool/").get_data(as_text=True)
    random = other.post_form("/admin/lead_pool/", {"count": "3"}, to="/admin/lead_pool/random/", follow=True)
    assert "随机领用了 3 条线索" in random.get_data(as_text=True)
    assert "从线索池中随机领用这么多条线索吗？" in page
    with app.app_context():
        assert db.session.get(Lead, ids[2]).owner_id in (None, rep2)  # the refused batch did not half-apply
        owners = dict(db.session.execute(select(Lead.owner_id, func.count(Lead.id)).group_by(Lead.owner_id)).all())
        assert owners == {rep1: 2, rep2: 3, None: 1}
        assert db.session.scalar(select(func.count(LeadEvent.id)).where(LeadEvent.reason == "claim")) == 5


def test_a_manager_assigns_pool_leads_and_a_salesperson_may_not(app, client, new_client, team):
    rep1, rep2 = team
    ids = [add_lead(app, f"待分配线索{i}") for i in range(2)]
    rep = new_client()
    rep.login("rep1")
    assert rep.client.get(f"/admin/lead_pool/assign/?ids={ids[0]}").status_code == 403
    client.login("mgr")
    page = client.action("/admin/lead_pool/", "assign", ids).get_data(as_text=True)
    assert "指派线索" in page and "待分配线索1" in page
    done = client.post_form(f"/admin/lead_pool/assign/?ids={ids[0]},{ids[1]}", {"to_user": str(rep2)}, follow=True)
    assert "已将 2 条线索指派给 rep2" in done.get_data(as_text=True)
    with app.app_context():
        assert {db.session.get(Lead, i).owner_id for i in ids} == {rep2}
        events = db.session.execute(select(LeadEvent.reason, LeadEvent.to_user_id)).all()
        assert events == [("assign", rep2), ("assign", rep2)]


def test_release_asks_for_a_reason_and_only_takes_ones_own_leads(app, client, team):
    rep1, rep2 = team
    mine = add_lead(app, "我的线索", owner_id=rep1, claimed_at=FIXED_NOW)
    theirs = add_lead(app, "同事的线索", owner_id=rep2, claimed_at=FIXED_NOW)
    client.login("rep1")
    assert client.get(f"/admin/lead_pool/release/?ids={mine},{theirs}").status_code == 404
    page = client.get(f"/admin/lead_pool/release/?ids={mine}").get_data(as_text=True)
    assert "放弃线索" in page and "我的线索" in page
    missing = client.post_form(f"/admin/lead_pool/release/?ids={mine}", {"reason": " "}, follow=True)
    assert "请填写放弃原因" in missing.get_data(as_text=True)
    done = client.post_form(f"/admin/lead_pool/release/?ids={mine}", {"reason": "预算没有了"}, follow=True)
    assert "已将 1 条线索放弃到线索池" in done.get_data(as_text=True)
    with app.app_context():
        lead = db.session.get(Lead, mine)
        assert lead.owner_id is None and lead.pool_reason == "released"
        assert lead.pool_id == pool_rules.home_pool(db.session, rep1, LEADS)
        assert db.session.scalar(select(LeadEvent.note).where(LeadEvent.lead_id == mine)) == "预算没有了"


def test_a_lead_list_with_the_mixin_recalls_after_confirmation(tmp_path):
    """What lead-core's 线索 list gets from LeadPoolActionsMixin: 放弃/指派 open the lead pool's
    pages, 收回 asks first and then takes the leads back to their owners' lead pool."""
    from admin_views.base import ScopedModelView
    from admin_views.lead_pool import LEAD_ACTION_PERMISSIONS, LeadPoolActionsMixin

    class LeadList(LeadPoolActionsMixin, ScopedModelView):
        permission_view = "lead.view"
        action_permissions = LEAD_ACTION_PERMISSIONS
        column_list = ["name"]

    application = build_app("sqlite", tmp_path)
    application.extensions["admin"][0].add_view(LeadList(Lead, name="线索", endpoint="lead_list_under_test"))
    with application.app_context():
        roles = {r.name: r for r in db.session.scalars(select(Role))}
        sales = org.ensure_department_path(db.session, ["销售部"])
        mgr = org.create_user(db.session, username="mgr", password=PASSWORD, display_name="mgr", role=roles["经理"],
                              department=sales)
        rep = org.create_user(db.session, username="rep1", password=PASSWORD, display_name="rep1",
                              role=roles["业务员"], department=sales, superior=mgr)
        lead = Lead(name="跟进中的线索", owner_id=rep.id, status="following", claimed_at=FIXED_NOW)
        db.session.add(lead)
        db.session.commit()
        lead_id, rep_id = lead.id, rep.id
    client = Browserish(application.test_client())
    client.login("mgr")
    listing = client.get("/admin/lead_list_under_test/").get_data(as_text=True)
    confirmation = json.loads(listing.split('id="actions-confirmation-data" class="d-none">')[1].split("</div>")[0])
    assert confirmation["recall"] == "所选线索将从业务员名下收回到线索池，确定吗？" and "放弃到线索池" in listing
    to_release = client.action("/admin/lead_list_under_test/", "release", [lead_id], follow=False)
    assert "/admin/lead_pool/release/" in to_release.headers["Location"]
    done = client.action("/admin/lead_list_under_test/", "recall", [lead_id]).get_data(as_text=True)
    assert "已收回 1 条线索到线索池" in done, done[done.find("<main"):done.find("</main>")]
    with application.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.owner_id is None and lead.pool_reason == "recalled"
        assert lead.pool_id == pool_rules.home_pool(db.session, rep_id, LEADS)
        assert db.session.scalar(select(LeadEvent.reason).where(LeadEvent.lead_id == lead_id)) == "recall"
        db.session.remove()
        db.engine.dispose()


def test_lead_pools_on_the_settings_page_never_show_on_the_customer_pool_pages(app, client, new_client, admin_id,
                                                                               make_user):
    make_user("sunwei", department=("销售部", "电销组"), display_name="孙伟")
    with app.app_context():
        telesales = org.ensure_department_path(db.session, ["销售部", "电销组"]).id
        db.session.commit()
    client.login("admin")
    form = {"name": "电销线索池", "kind": "lead", "max_owned": "0", "max_claims_per_day": "0", "cooldown_days": "0",
            "warn_days": "7", "member_departments": str(telesales)}
    saved = client.post_form("/admin/pool_settings/new/", form, follow=True).get_data(as_text=True)
    assert "孙伟 将不再从“公共线索池”领用线索，今后从“电销线索池”领用" in saved
    with app.app_context():
        pool = db.session.scalar(select(Pool).where(Pool.name == "电销线索池"))
        assert pool.kind == "lead"
        pool_id = pool.id
    settings = list_table(client.get("/admin/pool_settings/").get_data(as_text=True))
    assert "电销线索池" in settings and "线索池" in settings
    assert 'name="kind"' not in client.get(f"/admin/pool_settings/edit/?id={pool_id}").get_data(as_text=True)
    add_lead(app, "电销线索", pool_id=pool_id)
    rep = new_client()
    rep.login("sunwei")
    customer_pool = rep.client.get("/admin/pool/").get_data(as_text=True)
    assert "电销线索池" not in customer_pool and "公共线索池" not in customer_pool and "电销线索" not in customer_pool
    lead_pool = rep.client.get("/admin/lead_pool/").get_data(as_text=True)
    assert "电销线索池" in lead_pool and "电销线索" in list_table(lead_pool)
    with app.app_context():
        assert pool_rules.pools_of(db.session, db.session.scalar(select(User.id).where(User.username == "sunwei"))) \
            == [pool_rules.default_pool(db.session).id]
