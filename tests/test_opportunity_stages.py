"""The opportunity state machine (rules/opportunity_stages.py): every (outcome, action) pair,
required fields at 方案报价, reopening by a manager only, scope, stale and concurrent moves."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, run_at_once
from models import Customer, Order, db
from models.opportunity import Opportunity, OpportunityEvent, Outcome
from opportunity_helpers import TODAY, actor_of, loss_reason, make_group, make_opportunity
from rules import opportunities
from rules import opportunity_stages as stages
from rules.errors import ChangedMeanwhile, InvalidValue, OpportunityMoveRefused, OutOfScope, PermissionDenied


@pytest.fixture
def team(app, make_user, make_customer):
    ids = {"rep": make_user("rep", display_name="陈晓明"),
           "rep2": make_user("rep2", department=("销售部", "销售二部")),
           "manager": make_user("manager", role="经理", department=("销售部",))}
    ids["customer"] = make_customer("杭州茶叶有限公司", ids["rep"])
    ids.update(make_group(app))
    return ids


def opp(app, team, **kw):
    values = dict(owner_id=team["rep"], customer_id=team["customer"], stage_id=team["需求确认"], amount="8000",
                  expected_close_on=date(2026, 12, 15))
    values.update(kw)
    return make_opportunity(app, **values)


def act(app, action: str, opportunity_id: int, team, username: str = "manager"):
    with app.app_context():
        actor = actor_of(db.session, username)
        if action == "move":
            stages.move(db.session, opportunity_id, team["谈判签约"], actor=actor, now=FIXED_NOW)
        elif action == "win":
            stages.win(db.session, opportunity_id, actor=actor, now=FIXED_NOW)
        elif action == "lose":
            stages.lose(db.session, opportunity_id, reason_id=loss_reason(db.session), actor=actor, now=FIXED_NOW)
        elif action == "invalid":
            stages.mark_invalid(db.session, opportunity_id, actor=actor, now=FIXED_NOW, note="重复录入")
        else:
            stages.reopen(db.session, opportunity_id, actor=actor, now=FIXED_NOW)
        db.session.commit()


# (outcome before, action) → outcome after, or the refusal's words
TABLE = {
    (Outcome.OPEN, "move"): Outcome.OPEN,
    (Outcome.OPEN, "win"): Outcome.WON,
    (Outcome.OPEN, "lose"): Outcome.LOST,
    (Outcome.OPEN, "invalid"): Outcome.INVALID,
    (Outcome.OPEN, "reopen"): "仍在进行中，无需重新打开",
    (Outcome.WON, "move"): "已赢单，不能推进阶段；请先由经理重新打开",
    (Outcome.WON, "win"): "已赢单，不能赢单",
    (Outcome.WON, "lose"): "已赢单，不能输单",
    (Outcome.WON, "invalid"): "已赢单，不能标记无效",
    (Outcome.WON, "reopen"): Outcome.OPEN,
    (Outcome.LOST, "move"): "已输单，不能推进阶段",
    (Outcome.LOST, "win"): "已输单，不能赢单",
    (Outcome.LOST, "lose"): "已输单，不能输单",
    (Outcome.LOST, "invalid"): "已输单，不能标记无效",
    (Outcome.LOST, "reopen"): Outcome.OPEN,
    (Outcome.INVALID, "move"): "已无效，不能推进阶段",
    (Outcome.INVALID, "win"): "已无效，不能赢单",
    (Outcome.INVALID, "lose"): "已无效，不能输单",
    (Outcome.INVALID, "invalid"): "已无效，不能标记无效",
    (Outcome.INVALID, "reopen"): Outcome.OPEN,
}


@pytest.mark.parametrize(("before", "action"), list(TABLE), ids=[f"{o}-{a}" for o, a in TABLE])
def test_state_machine_table(app, team, before, action):
    opportunity_id = opp(app, team, outcome=before)
    expected = TABLE[(before, action)]
    if isinstance(expected, Outcome):
        act(app, action, opportunity_id, team)
        with app.app_context():
            row = db.session.get(Opportunity, opportunity_id)
            assert row.outcome == expected and row.version == 2
            events = db.session.scalars(select(OpportunityEvent).where(
                OpportunityEvent.opportunity_id == opportunity_id)).all()
            assert [(e.action, e.from_outcome, e.to_outcome, e.actor_id) for e in events] == [
                ({"move": "stage"}.get(action, {"win": "won", "lose": "lost"}.get(action, action)), before, expected,
                 team["manager"])]
            assert row.stage_id == (team["谈判签约"] if action == "move" else team["需求确认"])  # closing keeps the stage
            assert (row.closed_at is not None) == (expected != Outcome.OPEN)
    else:
        with pytest.raises(OpportunityMoveRefused, match=expected):
            act(app, action, opportunity_id, team)
        with app.app_context():
            db.session.rollback()
            row = db.session.get(Opportunity, opportunity_id)
            assert row.outcome == before and row.version == 1
            assert db.session.scalar(select(OpportunityEvent.id).where(
                OpportunityEvent.opportunity_id == opportunity_id)) is None


def test_quoting_stage_needs_amount_and_close_date_first(app, team):
    opportunity_id = opp(app, team, amount="0", expected_close_on=None)
    with app.app_context():
        rep = actor_of(db.session, "rep")
        with pytest.raises(OpportunityMoveRefused, match="进入「方案报价」需要先填写：金额、预计成交日期"):
            stages.move(db.session, opportunity_id, team["方案报价"], actor=rep, now=FIXED_NOW)
        db.session.rollback()
        row = db.session.get(Opportunity, opportunity_id)
        row.amount = Decimal("-5")
        row.expected_close_on = date(2026, 12, 20)
        db.session.commit()
        with pytest.raises(OpportunityMoveRefused, match="进入「方案报价」需要先填写：金额$"):
            stages.move(db.session, opportunity_id, team["方案报价"], actor=rep, now=FIXED_NOW)
        db.session.rollback()
        row = db.session.get(Opportunity, opportunity_id)
        row.amount = Decimal("12000")
        db.session.commit()
        event = stages.move(db.session, opportunity_id, team["方案报价"], actor=rep, now=FIXED_NOW, note="已发方案")
        db.session.commit()
        assert (event.from_stage_id, event.to_stage_id, event.actor_id, event.at, event.note) == (
            team["需求确认"], team["方案报价"], team["rep"], FIXED_NOW, "已发方案")
        # back again is a move like any other
        stages.move(db.session, opportunity_id, team["初步接洽"], actor=rep, now=FIXED_NOW)
        db.session.commit()
        assert db.session.get(Opportunity, opportunity_id).stage_id == team["初步接洽"]
        assert db.session.get(Customer, team["customer"]).last_activity_at == FIXED_NOW


def test_another_groups_stage_an_unknown_loss_reason_and_an_empty_invalid_note_are_refused(app, team):
    other = make_group(app, "项目型流程", [("立项", 20, []), ("招投标", 50, [])])
    opportunity_id = opp(app, team)
    with app.app_context():
        rep = actor_of(db.session, "rep")
        with pytest.raises(OpportunityMoveRefused, match="不属于该销售机会的阶段组"):
            stages.move(db.session, opportunity_id, other["立项"], actor=rep, now=FIXED_NOW)
        with pytest.raises(OpportunityMoveRefused, match="已在「需求确认」阶段"):
            stages.move(db.session, opportunity_id, team["需求确认"], actor=rep, now=FIXED_NOW)
        with pytest.raises(InvalidValue, match="请选择输单原因"):
            stages.lose(db.session, opportunity_id, reason_id=None, actor=rep, now=FIXED_NOW)
        with pytest.raises(InvalidValue, match="请选择输单原因"):  # a dictionary item of another kind
            stages.lose(db.session, opportunity_id, reason_id=other["立项"], actor=rep, now=FIXED_NOW)
        with pytest.raises(InvalidValue, match="请填写标记无效的原因"):
            stages.mark_invalid(db.session, opportunity_id, actor=rep, now=FIXED_NOW, note="  ")
        event = stages.lose(db.session, opportunity_id, reason_id=loss_reason(db.session, "预算不足"), actor=rep,
                            now=FIXED_NOW)
        db.session.commit()
        row = db.session.get(Opportunity, opportunity_id)
        assert (row.outcome, row.loss_reason.name, event.note) == (Outcome.LOST, "预算不足", "预算不足")


def test_reopen_is_for_managers_and_never_after_the_order(app, team):
    lost = opp(app, team, outcome=Outcome.LOST)
    won = opp(app, team, outcome=Outcome.WON)
    with app.app_context():
        with pytest.raises(PermissionDenied, match="您没有重新打开销售机会的权限"):
            stages.reopen(db.session, lost, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        stages.reopen(db.session, lost, actor=actor_of(db.session, "manager"), now=FIXED_NOW)
        order = Order(number="DD202611230001", customer_id=team["customer"], salesperson_id=team["rep"],
                      order_date=TODAY)
        db.session.add(order)
        db.session.flush()
        db.session.get(Opportunity, won).order_id = order.id
        db.session.commit()
        with pytest.raises(OpportunityMoveRefused, match="已生成订单，不能重新打开"):
            stages.reopen(db.session, won, actor=actor_of(db.session, "manager"), now=FIXED_NOW)
        assert db.session.get(Opportunity, lost).outcome == Outcome.OPEN


def test_outside_scope_is_not_found_and_a_stale_card_is_refused(app, team):
    opportunity_id = opp(app, team)
    with app.app_context():
        with pytest.raises(OutOfScope):
            stages.move(db.session, opportunity_id, team["谈判签约"], actor=actor_of(db.session, "rep2"), now=FIXED_NOW)
        with pytest.raises(ChangedMeanwhile, match="该销售机会已被他人改动，请刷新后重试"):
            stages.win(db.session, opportunity_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW,
                       expected_version=7)
        assert db.session.get(Opportunity, opportunity_id).outcome == Outcome.OPEN


def test_assign_keeps_stage_and_history_and_stays_in_scope(app, team):
    opportunity_id = opp(app, team)
    with app.app_context():
        with pytest.raises(PermissionDenied):
            opportunities.assign(db.session, [opportunity_id], to_user_id=team["rep2"],
                                 actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        opportunities.assign(db.session, [opportunity_id], to_user_id=team["rep2"],
                             actor=actor_of(db.session, "manager"), now=FIXED_NOW)
        db.session.commit()
        row = db.session.get(Opportunity, opportunity_id)
        assert (row.owner_id, row.stage_id, row.outcome) == (team["rep2"], team["需求确认"], Outcome.OPEN)
        event = db.session.scalars(select(OpportunityEvent).where(OpportunityEvent.opportunity_id == opportunity_id)
                                   .order_by(OpportunityEvent.id.desc())).first()
        assert (event.action, event.from_user_id, event.to_user_id) == ("assign", team["rep"], team["rep2"])


@pytest.mark.both_dbs
def test_two_people_dragging_the_same_card_at_once_make_one_move(app, team):
    for _ in range(3):
        opportunity_id = opp(app, team)

        def mover(stage_name, username):
            def job(session):
                stages.move(session, opportunity_id, team[stage_name], actor=actor_of(session, username),
                            now=FIXED_NOW, expected_version=1)
            return job

        def closer(action):
            def job(session):
                actor = actor_of(session, "manager")
                if action == "win":
                    stages.win(session, opportunity_id, actor=actor, now=FIXED_NOW)
                else:
                    stages.lose(session, opportunity_id, reason_id=loss_reason(session), actor=actor, now=FIXED_NOW)
            return job

        results = run_at_once(app, [mover("谈判签约", "rep"), mover("初步接洽", "manager")])
        assert results.count("ok") == 1, results
        assert all("该销售机会已被他人改动" in r for r in results if r != "ok"), results
        results = run_at_once(app, [closer("win"), closer("lose")])
        assert results.count("ok") == 1, results
        assert all("已被他人改动" in r or "不能" in r for r in results if r != "ok"), results
        with app.app_context():
            events = db.session.scalars(select(OpportunityEvent.action).where(
                OpportunityEvent.opportunity_id == opportunity_id)).all()
            assert len(events) == 2 and events[0] == "stage" and events[1] in ("won", "lost")
            assert db.session.get(Opportunity, opportunity_id).version == 3
