"""The opportunity list's batch actions (admin_views/opportunity_actions.py on the 销售机会 list): each row through the same rule, a summary of what
was done and why the rest was not, scope and permissions on every path."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, build_app
from models import db
from models.opportunity import Opportunity, OpportunityEvent, Outcome
from opportunity_helpers import actor_of, loss_reason, make_group, make_opportunity
from rules import opportunity_batch


@pytest.fixture
def app(tmp_path, clock):
    """An app of its own: the batch pages' posts commit, and the next test starts clean."""
    application = build_app("sqlite", tmp_path)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def desk(app, make_user, make_customer):
    ids = {"rep": make_user("rep", display_name="陈晓明"), "rep_b": make_user("rep_b", display_name="李娜"),
           "sup": make_user("sup", role="主管", display_name="王主管"),
           "rep2": make_user("rep2", department=("销售部", "销售二部"), display_name="赵强")}
    ids["customer"] = make_customer("杭州茶叶有限公司", ids["rep"])
    ids.update(make_group(app))
    new = lambda owner, title, **kw: make_opportunity(  # noqa: E731
        app, owner_id=ids[owner], customer_id=ids["customer"], stage_id=ids["需求确认"], amount="5000", title=title,
        **kw)
    ids["a"] = new("rep", "茶园扩建", expected_close_on=date(2026, 12, 1))
    ids["b"] = new("rep_b", "包装升级")
    ids["won"] = new("rep", "年度采购", outcome=Outcome.WON)
    ids["far"] = new("rep2", "二部的机会")
    return ids


def test_each_row_goes_through_the_rule_and_the_summary_says_what_was_not_done(app, desk):
    with app.app_context():
        sup = actor_of(db.session, "sup")
        result = opportunity_batch.move_many(db.session, [desk["a"], desk["b"], desk["won"]],
                                             to_stage_id=desk["方案报价"], actor=sup, now=FIXED_NOW)
        db.session.commit()
        assert result.summary() == (
            "已处理 1 条，2 条未处理：包装升级：进入「方案报价」需要先填写：预计成交日期；"
            "年度采购：销售机会“年度采购”已赢单，不能推进阶段；请先由经理重新打开")
        assert db.session.get(Opportunity, desk["a"]).stage_id == desk["方案报价"]
        assert db.session.get(Opportunity, desk["b"]).stage_id == desk["需求确认"]
        result = opportunity_batch.lose_many(db.session, [desk["a"], desk["b"]], reason_id=loss_reason(db.session),
                                             actor=sup, now=FIXED_NOW)
        db.session.commit()
        assert result.summary() == "已处理 2 条"
        assert db.session.scalar(select(db.func.count(OpportunityEvent.id))) == 3


def test_list_actions_win_at_once_and_lead_to_the_batch_pages(app, desk, client):
    client.login("sup")
    html = client.get("/admin/opportunity/").get_data(as_text=True)
    for label in ("指派给同事", "变更阶段", "标记赢单", "标记输单"):
        assert label in html
    done = client.action("/admin/opportunity/", "opp_win", [desk["a"], desk["won"]])
    text = done.get_data(as_text=True)
    assert "已处理 1 条，1 条未处理：年度采购：销售机会“年度采购”已赢单，不能赢单" in text
    # a forged id from another department refuses the whole batch
    assert client.action("/admin/opportunity/", "opp_win", [desk["b"], desk["far"]], follow=False).status_code == 404
    with app.app_context():
        assert db.session.get(Opportunity, desk["a"]).outcome == Outcome.WON
        assert db.session.get(Opportunity, desk["b"]).outcome == Outcome.OPEN

    to_page = client.action("/admin/opportunity/", "opp_lose", [desk["b"]], follow=False)
    assert "/admin/opportunity-board/batch/lose/" in to_page.headers["Location"]
    page = client.get(to_page.headers["Location"]).get_data(as_text=True)
    assert "包装升级" in page and "所选销售机会将标记为输单，确定吗？" in page
    refused = client.post_form(to_page.headers["Location"], {"ids": str(desk["b"]), "reason": ""}, follow=True)
    assert "请选择输单原因" in refused.get_data(as_text=True)
    with app.app_context():
        reason = loss_reason(db.session, "选择了竞争对手")
    after = client.post_form(to_page.headers["Location"], {"ids": str(desk["b"]), "reason": reason,
                                                           "back": "/admin/opportunity/"}, follow=True)
    assert "已处理 1 条" in after.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(Opportunity, desk["b"])
        assert (row.outcome, row.loss_reason.name) == (Outcome.LOST, "选择了竞争对手")


def test_assign_needs_the_permission_and_a_colleague_in_scope(app, desk, client, new_client):
    client.login("rep")
    assert "指派给同事" not in client.get("/admin/opportunity/").get_data(as_text=True)
    assert client.get(f"/admin/opportunity-board/batch/assign/?ids={desk['a']}").status_code == 403
    boss = new_client()
    boss.login("sup")
    url = f"/admin/opportunity-board/batch/assign/?ids={desk['a']},{desk['b']}"
    assert boss.get(f"/admin/opportunity-board/batch/assign/?ids={desk['a']},{desk['far']}").status_code == 404
    page = boss.get(url).get_data(as_text=True)
    assert "李娜" in page and "赵强" not in page  # colleagues of the 主管's department only
    refused = boss.post_form(url, {"ids": f"{desk['a']},{desk['b']}", "to_user": desk["rep2"]}, follow=True)
    assert "只能转移给您管理范围内的同事" in refused.get_data(as_text=True)
    done = boss.post_form(url, {"ids": f"{desk['a']},{desk['b']}", "to_user": desk["rep_b"]}, follow=True)
    assert "已处理 1 条，1 条未处理：包装升级：销售机会“包装升级”已经属于李娜" in done.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(Opportunity, desk["a"])
        assert (row.owner_id, row.stage_id) == (desk["rep_b"], desk["需求确认"])
