"""销售机会看板: true column sums in scope (业务员, 主管, 总经理), the first 50 cards of a column,
filters, the drag endpoint (CSRF, refusal, success with new sums), the stale list, and the plans
the board's two statements get."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from conftest import FIXED_NOW
from models import db
from models.opportunity import Opportunity, OpportunityCollaborator, Outcome
from opportunity_helpers import actor_of, make_group, make_opportunity
from rules import opportunity_board as board_rules
from rules.opportunity_board import BoardFilters


@pytest.fixture
def sales(app, make_user, make_customer):
    """销售一部: rep, rep_b and their 主管 sup; 销售二部: rep2; the 总经理 boss."""
    ids = {"rep": make_user("rep", display_name="陈晓明"), "rep_b": make_user("rep_b", display_name="李娜"),
           "sup": make_user("sup", role="主管", display_name="王主管"),
           "rep2": make_user("rep2", department=("销售部", "销售二部"), display_name="赵强"),
           "boss": make_user("boss", role="总经理", department=("总经办",), display_name="刘总")}
    ids["customer"] = make_customer("杭州茶叶有限公司", ids["rep"])
    ids.update(make_group(app))
    dec = date(2026, 12, 10)
    rows = [("rep", "初步接洽", "1000", None), ("rep_b", "初步接洽", "2000", dec), ("rep2", "初步接洽", "4000", dec),
            ("rep", "方案报价", "10000", dec), ("rep2", "方案报价", "30000.50", date(2027, 1, 5))]
    ids["opps"] = [make_opportunity(app, owner_id=ids[o], customer_id=ids["customer"], stage_id=ids[s], amount=a,
                                    expected_close_on=d, title=f"{o}-{s}") for o, s, a, d in rows]
    # closed and binned ones count nowhere
    make_opportunity(app, owner_id=ids["rep"], customer_id=ids["customer"], stage_id=ids["方案报价"], amount="99999",
                     outcome=Outcome.WON)
    binned = make_opportunity(app, owner_id=ids["rep"], customer_id=ids["customer"], stage_id=ids["初步接洽"],
                              amount="88888")
    with app.app_context():
        db.session.execute(update(Opportunity).where(Opportunity.id == binned).values(deleted_at=FIXED_NOW))
        db.session.commit()
    return ids


def sums(app, username: str, **filters) -> dict[str, tuple[int, Decimal, Decimal, int]]:
    with app.app_context():
        actor = actor_of(db.session, username)
        group = board_rules.groups(db.session)[0]
        columns = board_rules.board(db.session, actor, group, BoardFilters(group_id=group.id, **filters))
        return {c.stage.name: (c.count, c.amount, c.weighted, len(c.cards)) for c in columns}


@pytest.mark.both_dbs
def test_column_sums_follow_each_role_scope(app, sales):
    zero = (0, Decimal("0"), Decimal("0.00"), 0)
    # a collaborator (协作人) sees the card whatever their scope
    with app.app_context():
        db.session.add(OpportunityCollaborator(opportunity_id=sales["opps"][4], user_id=sales["rep_b"],
                                               added_at=FIXED_NOW))
        db.session.commit()
    assert sums(app, "rep_b")["方案报价"] == (1, Decimal("30000.50"), Decimal("18000.30"), 1)
    # 业务员: own only. 初步接洽 1000 × 10 % = 100; 方案报价 10000 × 60 % = 6000
    assert sums(app, "rep") == {"初步接洽": (1, Decimal("1000"), Decimal("100.00"), 1), "需求确认": zero,
                                "方案报价": (1, Decimal("10000"), Decimal("6000.00"), 1), "谈判签约": zero}
    # 主管 of 销售一部: rep + rep_b, not 销售二部's rep2
    assert sums(app, "sup") == {"初步接洽": (2, Decimal("3000"), Decimal("300.00"), 2), "需求确认": zero,
                                "方案报价": (1, Decimal("10000"), Decimal("6000.00"), 1), "谈判签约": zero}
    # 总经理: everyone; 40000.50 × 60 % = 24000.30
    assert sums(app, "boss") == {"初步接洽": (3, Decimal("7000"), Decimal("700.00"), 3), "需求确认": zero,
                                 "方案报价": (2, Decimal("40000.50"), Decimal("24000.30"), 2), "谈判签约": zero}


def test_filters_owner_department_and_close_month(app, sales):
    with app.app_context():
        dept2 = db.session.scalar(select(Opportunity.department_id).where(Opportunity.owner_id == sales["rep2"]))
    assert sums(app, "boss", owner_id=sales["rep_b"])["初步接洽"][:2] == (1, Decimal("2000"))
    assert sums(app, "boss", department_id=dept2)["方案报价"][:2] == (1, Decimal("30000.50"))
    december = sums(app, "boss", close_month=date(2026, 12, 1))
    assert december["初步接洽"][:2] == (2, Decimal("6000")) and december["方案报价"][:2] == (1, Decimal("10000"))


def test_a_column_shows_its_first_50_cards_and_its_true_sums(app, sales, client):
    for i in range(55):
        make_opportunity(app, owner_id=sales["rep"], customer_id=sales["customer"], stage_id=sales["需求确认"],
                         amount="100", title=f"批量机会{i:02d}")
    count, amount, weighted, shown = sums(app, "sup")["需求确认"]
    assert (count, amount, weighted, shown) == (55, Decimal("5500"), Decimal("1650.00"), 50)
    client.login("sup")
    html = client.get("/admin/opportunity-board/").get_data(as_text=True)
    column = html.split('aria-label="需求确认"', 1)[1].split("</section>", 1)[0]
    assert column.count('class="kechi-card') == 50
    assert "¥5,500.00" in column and "¥1,650.00" in column and "共 55 个" in column
    assert "批量机会54" in column and "批量机会04" not in column  # newest first


def test_the_board_page_shows_each_role_its_own_sums(app, sales, client):
    for username, amount, hidden in (("rep", "¥1,000.00", "rep2-初步接洽"), ("sup", "¥3,000.00", "rep2-初步接洽"),
                                      ("boss", "¥7,000.00", None)):
        client.login(username)
        html = client.get("/admin/opportunity-board/").get_data(as_text=True)
        column = html.split('aria-label="初步接洽"', 1)[1].split("</section>", 1)[0]
        assert re.search(r'kechi-col-amount">' + re.escape(amount), column), (username, column[:600])
        if hidden:
            assert hidden not in html
        client.logout()


def move(client, opportunity_id: int, target: str, version: int = 1, query: str = "", **extra):
    token = client.token("/admin/opportunity-board/")
    return client.post("/admin/opportunity-board/move" + query,
                       data={"csrf_token": token, "id": opportunity_id, "version": version, "target": target, **extra})


def test_dragging_a_card_moves_it_or_says_why_not(app, sales, client):
    client.login("rep")
    first = sales["opps"][0]  # rep's 初步接洽 card, no expected close date
    refused = move(client, first, f"stage:{sales['方案报价']}").get_json()
    assert refused["ok"] is False and refused["message"] == "进入「方案报价」需要先填写：预计成交日期"
    moved = move(client, first, f"stage:{sales['谈判签约']}").get_json()
    assert moved["ok"] is True and moved["message"] == "已移到「谈判签约」" and moved["version"] == 2
    columns = {c["stage"]: c for c in moved["columns"]}
    assert (columns[sales["初步接洽"]]["count"], columns[sales["初步接洽"]]["amount"]) == (0, "¥0.00")
    assert columns[sales["谈判签约"]] == {"stage": sales["谈判签约"], "count": 1, "amount": "¥1,000.00",
                                      "weighted": "¥800.00"}
    stale = move(client, first, f"stage:{sales['需求确认']}", version=1).get_json()
    assert stale == {**stale, "ok": False, "message": "该销售机会已被他人改动，请刷新后重试"}
    # a refusal leaves no flash behind for the next page
    assert "已被他人改动" not in client.get("/admin/opportunity-board/").get_data(as_text=True)
    lost = move(client, first, "lost", version=2).get_json()
    assert lost["ok"] is False and lost["message"] == "请选择输单原因"
    won = move(client, first, "won", version=2).get_json()
    assert won["ok"] is True and won["message"] == "已标记赢单"
    with app.app_context():
        assert db.session.get(Opportunity, first).outcome == Outcome.WON


def test_the_drag_endpoint_checks_csrf_and_scope(app, sales, client):
    client.login("rep")
    answer = client.post("/admin/opportunity-board/move", data={"id": sales["opps"][0], "version": 1,
                                                                "target": f"stage:{sales['需求确认']}"})
    assert answer.status_code == 400
    assert move(client, sales["opps"][2], f"stage:{sales['需求确认']}").status_code == 404  # rep2's card
    with app.app_context():
        assert db.session.get(Opportunity, sales["opps"][2]).stage_id == sales["初步接洽"]


def test_stale_opportunities_are_marked_and_listed(app, sales, client, clock):
    old = make_opportunity(app, owner_id=sales["rep"], customer_id=sales["customer"], stage_id=sales["需求确认"],
                           amount="500", title="半月未跟进", created_at=FIXED_NOW - timedelta(days=40),
                           last_follow_up_at=FIXED_NOW - timedelta(days=15))
    make_opportunity(app, owner_id=sales["rep"], customer_id=sales["customer"], stage_id=sales["需求确认"],
                     amount="500", title="刚跟进过", created_at=FIXED_NOW - timedelta(days=40),
                     last_follow_up_at=FIXED_NOW - timedelta(days=13))
    client.login("rep")
    html = client.get("/admin/opportunity-board/").get_data(as_text=True)
    card = html.split(f'data-id="{old}"', 1)[1].split("</article>", 1)[0]
    assert "停滞" in card and html.count("kechi-stale-badge") == 1
    listed = client.get("/admin/opportunity-board/stale/").get_data(as_text=True)
    assert "半月未跟进" in listed and "刚跟进过" not in listed and "共 1 个" in listed
    clock.advance(days=2)  # now the other one is 15 days without a follow-up too
    client.login("rep")  # the idle timeout ended the session meanwhile
    assert "共 2 个" in client.get("/admin/opportunity-board/stale/").get_data(as_text=True)


@pytest.mark.both_dbs
def test_board_statements_use_the_stage_indexes(app, sales):
    """A column's 50 cards for the 总经理 walk an index by stage, never the whole table. The sums'
    plans at 1M are measured in BENCHMARKS.md (bench/bench_pipeline.py --explain): on a few rows
    the planners pick what the statistics say."""
    with app.app_context():
        dialect = db.engine.dialect.name
        if dialect == "postgresql":
            db.session.execute(db.text("ANALYZE opportunities"))
        group = board_rules.groups(db.session)[0]
        stage_ids = [s.id for s in group.stages]
        plans = {}
        for username in ("sup", "boss"):
            actor = actor_of(db.session, username)
            sums_stmt = (select(Opportunity.stage_id, db.func.count(Opportunity.id),
                                db.func.sum(Opportunity.amount))
                         .where(Opportunity.stage_id.in_(stage_ids),
                                *board_rules._open_in_scope(db.session, actor, BoardFilters()))
                         .group_by(Opportunity.stage_id))
            cards_stmt = board_rules.column_cards_query(db.session, actor, stage_ids[0], BoardFilters())
            # the staff in scope are written out (rules/scope.opportunity_listed_clause)
            for name, stmt in (("sums", sums_stmt), ("cards", cards_stmt)):
                compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
                prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
                rows = db.session.execute(db.text(prefix + str(compiled))).all()
                plans[(username, name)] = "\n".join(" ".join(str(c) for c in r) for r in rows)
        if dialect == "sqlite":
            assert "ix_opportunities_outcome_stage" in plans[("boss", "cards")]


def test_the_administrator_sets_the_stale_days(app, sales, client, admin_id):
    make_opportunity(app, owner_id=sales["rep"], customer_id=sales["customer"], stage_id=sales["需求确认"],
                     amount="500", title="十天未跟进", created_at=FIXED_NOW - timedelta(days=10))
    client.login("rep")
    page = client.get("/admin/opportunity-board/stale/").get_data(as_text=True)
    assert "十天未跟进" not in page and 'name="days"' not in page
    assert client.post_form("/admin/opportunity-board/stale/", {"days": "7"},
                            to="/admin/opportunity-board/stale/days").status_code == 403
    client.logout()
    client.login("admin")
    refused = client.post_form("/admin/opportunity-board/stale/", {"days": "0"},
                               to="/admin/opportunity-board/stale/days", follow=True).get_data(as_text=True)
    assert "停滞天数应为 1 到 365 之间的整数" in refused
    saved = client.post_form("/admin/opportunity-board/stale/", {"days": "7"},
                             to="/admin/opportunity-board/stale/days", follow=True).get_data(as_text=True)
    assert "已保存：超过 7 天没有跟进的销售机会算作停滞" in saved and "十天未跟进" in saved
