"""销售机会 (opp-core): who sees an opportunity (a project's linked customers' owners do not, its
collaborators do), lines priced by the price tier, won → order once with equal lines and money,
transfer and a customer's change of owner keep stage, lines, follow-ups and history, and the
default stage group on an upgraded database. Scope tests run on SQLite and PostgreSQL."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from conftest import FIXED_NOW, app_at_revision, list_table, run_at_once
from models import Customer, FollowUp, Order, User, db
from models.dictionary import DictKind
from models.opportunity import Opportunity, OpportunityEvent, OpportunityLine, Outcome, Stage, StageGroup
from models.product import Product, ProductPrice
from rules import activity, dictionaries, opportunities, products, stage_groups
from rules import pool as pool_rules
from rules.actor import Actor
from rules.errors import InvalidValue, RuleViolation

NOW = FIXED_NOW


def actor(user_id: int) -> Actor:
    return Actor.from_user(db.session.get(User, user_id))


def new_opportunity(app, owner: int, customer: int, **values) -> int:
    with app.app_context():
        created = opportunities.create(db.session, {"title": values.pop("title", "ERP 项目"), "customer_id": customer,
                                                    **values}, actor=actor(owner), now=NOW)
        db.session.commit()
        return created.id


@pytest.fixture
def firm(make_user, make_customer):
    """销售部 (经理) › 销售一部 (主管 sup1: rep1, rep2) and 销售二部 (主管 sup2: rep3, rep4); a 总经理."""
    people = {
        "boss": make_user("boss", role="总经理", department=("总经办",)),
        "mgr": make_user("mgr", role="经理", department=("销售部",)),
        "sup1": make_user("sup1", role="主管"),
        "sup2": make_user("sup2", role="主管", department=("销售部", "销售二部")),
    }
    people["rep1"] = make_user("rep1", superior="sup1")
    people["rep2"] = make_user("rep2", superior="sup1")
    people["rep3"] = make_user("rep3", department=("销售部", "销售二部"), superior="sup2")
    people["rep4"] = make_user("rep4", department=("销售部", "销售二部"), superior="sup2")
    people["mine"] = make_customer("杭州瑞和科技有限公司", people["rep1"])
    people["design"] = make_customer("上海华设设计院", people["rep1"])
    return people


@pytest.fixture
def project(app, firm):
    """rep1's project deal on 瑞和 with 华设 as 设计方 and rep4 as collaborator; 华设 then goes to
    rep3 (a customer a project links to may be anybody's)."""
    with app.app_context():
        role = dictionaries.by_name(db.session, DictKind.PROJECT_ROLE, "设计方").id
    opp = new_opportunity(app, firm["rep1"], firm["mine"], title="园区智能化项目", is_project=True,
                          parties=[{"customer_id": firm["design"], "role_id": role}], collaborator_ids=[firm["rep4"]])
    with app.app_context():
        pool_rules.assign(db.session, [firm["design"]], to_user=db.session.get(User, firm["rep3"]),
                          actor=actor(firm["mgr"]), now=NOW)
        db.session.commit()
        assert db.session.get(Opportunity, opp).owner_id == firm["rep1"]  # a party's owner change moves nothing
    return opp


# (user, sees it): the owner, their 主管 and 经理 and the 总经理 by department; the collaborator;
# not the colleague beside the owner, not the other department's 主管, not the owner of the
# project's 设计方 customer.
TRUTH = [("rep1", True), ("sup1", True), ("mgr", True), ("boss", True), ("rep4", True),
         ("rep2", False), ("sup2", False), ("rep3", False)]


@pytest.mark.both_dbs
@pytest.mark.parametrize("who,sees", TRUTH)
def test_who_sees_a_project_opportunity_on_list_details_and_edit(app, new_client, firm, project, who, sees):
    client = new_client()
    client.login(who)
    listed = list_table(client.get("/admin/opportunity/").get_data(as_text=True))
    assert ("园区智能化项目" in listed) is sees
    details = client.get(f"/admin/opportunity/details/?id={project}")
    assert details.status_code == (200 if sees else 404)
    edit = client.get(f"/admin/opportunity/edit/?id={project}")
    assert edit.status_code == (200 if sees else 404)
    with app.app_context():
        number = db.session.get(Opportunity, project).number
    found = list_table(client.get(f"/admin/opportunity/?search={number}").get_data(as_text=True))
    assert (f">{number}</a>" in found) is sees
    # the design institute's page lists the project only for those who see the project
    page = client.get(f"/admin/customer/details/?id={firm['design']}")
    if page.status_code == 200:
        assert ("园区智能化项目" in page.get_data(as_text=True)) is sees


@pytest.mark.both_dbs
def test_an_edit_posted_from_outside_the_scope_is_404_and_changes_nothing(app, client, firm, project):
    client.login("rep2")
    answer = client.post_form("/admin/opportunity/new/", {"title": "偷改", "customer_id": str(firm["mine"])},
                              to=f"/admin/opportunity/edit/?id={project}")
    assert answer.status_code == 404
    with app.app_context():
        assert db.session.get(Opportunity, project).title == "园区智能化项目"


def _catalogue(app) -> tuple[int, int, int]:
    with app.app_context():
        retail, wholesale = products.ensure_default_levels(db.session)[:2]
        product = Product(code="P-1", name="服务器", cost=Decimal("1000"))
        product.prices = [ProductPrice(level_id=retail.id, price=Decimal("5000")),
                          ProductPrice(level_id=wholesale.id, price=Decimal("4200.50"))]
        db.session.add(product)
        db.session.commit()
        return product.id, retail.id, wholesale.id


def test_lines_take_the_price_of_the_chosen_tier_and_the_amount_is_their_sum(app, client, firm):
    product, _retail, wholesale = _catalogue(app)
    client.login("rep1")
    form = {"title": "机房改造", "customer_id": str(firm["mine"]), "price_level_id": str(wholesale),
            "line_rows": "2", "line-0-product_id": str(product), "line-0-quantity": "3",
            "line-1-product_id": str(product), "line-1-quantity": "2", "line-1-unit_price": "4000",
            "line-1-discount_rate": "0.9", "amount": "1"}
    answer = client.post_form("/admin/opportunity/new/", form, follow=True)
    page = answer.get_data(as_text=True)
    assert "已新建销售机会" in page
    # 3 × 4,200.50 + 2 × 4,000 × 0.9 = 12,601.50 + 7,200.00
    assert "¥19,801.50" in page and "¥12,601.50" in page
    with app.app_context():
        opportunity = db.session.scalar(select(Opportunity))
        assert opportunity.amount == Decimal("19801.50")
        assert [(line.unit_price, line.amount) for line in opportunity.lines] == [
            (Decimal("4200.50"), Decimal("12601.50")), (Decimal("4000.00"), Decimal("7200.00"))]
        stages = [s.name for s in opportunity.group.stages]
        assert opportunity.stage.name == stages[0] == "初步接触"


def test_a_refused_entry_keeps_what_was_typed_and_writes_nothing(app, client, firm):
    product, *_ = _catalogue(app)
    client.login("rep1")
    form = {"title": "报价有误的机会", "customer_id": str(firm["mine"]), "line_rows": "1",
            "line-0-product_id": str(product), "line-0-quantity": "2", "line-0-unit_price": "-5",
            "notes": "客户很急"}
    page = client.post_form("/admin/opportunity/new/", form).get_data(as_text=True)
    assert "单价不能为负数" in page
    assert 'value="报价有误的机会"' in page and "客户很急" in page and 'value="-5"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Opportunity.id))) == 0
        assert db.session.scalar(select(func.count(OpportunityLine.id))) == 0


def _win(app, opportunity_id: int) -> None:
    """赢单 as rules/opportunity_stages.win leaves it (that module is opp-board's)."""
    with app.app_context():
        db.session.execute(update(Opportunity).where(Opportunity.id == opportunity_id)
                           .values(outcome=Outcome.WON.value, closed_at=NOW))
        db.session.commit()


@pytest.mark.both_dbs
def test_a_won_opportunity_creates_its_order_once_with_the_same_lines_and_money(app, client, firm):
    product, _retail, wholesale = _catalogue(app)
    opp = new_opportunity(app, firm["rep1"], firm["mine"], price_level_id=wholesale,
                          lines=[{"product_id": product, "quantity": 3, "discount_rate": "0.95"}])
    client.login("rep1")
    refused = client.post_form(f"/admin/opportunity/details/?id={opp}", {},
                               to=f"/admin/opportunity/order/?id={opp}", follow=True).get_data(as_text=True)
    assert "只有赢单的销售机会才能生成订单" in refused
    _win(app, opp)
    made = client.post_form(f"/admin/opportunity/details/?id={opp}", {}, to=f"/admin/opportunity/order/?id={opp}",
                            follow=True)
    assert "等待审核" in made.get_data(as_text=True)
    again = client.post_form(f"/admin/opportunity/details/?id={opp}", {}, to=f"/admin/opportunity/order/?id={opp}",
                             follow=True).get_data(as_text=True)
    assert "已生成过订单，不能重复生成" in again
    with app.app_context():
        opportunity = db.session.get(Opportunity, opp)
        orders = list(db.session.scalars(select(Order)))
        assert len(orders) == 1 and opportunity.order_id == orders[0].id
        order = orders[0]
        assert [(l.product_id, l.quantity, l.unit_price, l.discount_rate, l.amount) for l in order.lines] == [
            (l.product_id, l.quantity, l.unit_price, l.discount_rate, l.amount) for l in opportunity.lines]
        assert order.total == opportunity.amount == Decimal("11971.43")  # 3 × 4,200.50 × 0.95
        assert order.customer_id == opportunity.customer_id and order.salesperson_id == firm["rep1"]
        with pytest.raises(RuleViolation, match="已生成过订单"):
            opportunities.create_order(db.session, opp, actor=actor(firm["rep1"]), now=NOW)


@pytest.mark.both_dbs
def test_four_clicks_on_create_order_at_once_make_one_order(app, firm):
    product, *_ = _catalogue(app)
    opp = new_opportunity(app, firm["rep1"], firm["mine"], lines=[{"product_id": product, "quantity": 2}])
    _win(app, opp)

    def click(session):
        opportunities.create_order(session, opp, actor=Actor.from_user(session.get(User, firm["rep1"])), now=NOW)

    results = run_at_once(app, [click] * 4)
    assert results.count("ok") == 1, results
    assert all("已生成过订单" in r for r in results if r != "ok"), results
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1
        assert db.session.get(Opportunity, opp).order_id == db.session.scalar(select(Order.id))
        assert db.session.scalar(select(func.count(OpportunityEvent.id)).where(OpportunityEvent.action == "order")) == 1


@pytest.mark.both_dbs
def test_a_transfer_keeps_stage_lines_follow_ups_and_history(app, client, firm):
    product, *_ = _catalogue(app)
    opp = new_opportunity(app, firm["rep1"], firm["mine"], lines=[{"product_id": product, "quantity": 1}])
    with app.app_context():
        second = db.session.scalars(select(Stage).where(Stage.group_id == db.session.get(Opportunity, opp).group_id)
                                    .order_by(Stage.sort_order)).all()[1].id
        db.session.execute(update(Opportunity).where(Opportunity.id == opp).values(stage_id=second))
        db.session.commit()
    client.login("rep1")
    client.post_form(f"/admin/opportunity/details/?id={opp}", {"kind": "phone", "content": "客户要看方案"},
                     to=f"/admin/opportunity/follow-up/?id={opp}")
    client.logout()
    client.login("rep1")
    assert client.post_form(f"/admin/opportunity/details/?id={opp}", {"to_user_id": str(firm["rep2"])},
                            to=f"/admin/opportunity/assign/?id={opp}").status_code == 403  # 业务员 cannot assign
    client.logout()
    client.login("sup1")
    page = client.post_form(f"/admin/opportunity/details/?id={opp}", {"to_user_id": str(firm["rep2"])},
                            to=f"/admin/opportunity/assign/?id={opp}", follow=True).get_data(as_text=True)
    assert "已转移负责人" in page
    with app.app_context():
        opportunity = db.session.get(Opportunity, opp)
        assert opportunity.owner_id == firm["rep2"] and opportunity.stage_id == second
        assert [l.product_id for l in opportunity.lines] == [product] and opportunity.amount == Decimal("5000.00")
        assert [f.content for f in db.session.scalars(select(FollowUp).where(FollowUp.opportunity_id == opp))] == [
            "客户要看方案"]
        events = db.session.execute(select(OpportunityEvent.action, OpportunityEvent.from_user_id,
                                           OpportunityEvent.to_user_id).where(OpportunityEvent.opportunity_id == opp)
                                    .order_by(OpportunityEvent.id)).all()
        assert [tuple(e) for e in events] == [("create", None, firm["rep1"]), ("assign", firm["rep1"], firm["rep2"])]
    client.logout()
    client.login("rep2")
    page = client.get(f"/admin/opportunity/details/?id={opp}").get_data(as_text=True)
    assert "客户要看方案" in page and "转移负责人" in page
    client.logout()
    client.login("rep1")
    assert client.get(f"/admin/opportunity/details/?id={opp}").status_code == 404


def test_a_follow_up_from_the_opportunity_moves_both_clocks(app, client, firm, clock):
    opp = new_opportunity(app, firm["rep1"], firm["mine"])
    client.login("rep1")
    page = client.post_form(f"/admin/opportunity/details/?id={opp}", {"kind": "visit", "content": "上门演示"},
                            to=f"/admin/opportunity/follow-up/?id={opp}", follow=True).get_data(as_text=True)
    assert "已添加联系记录" in page and "上门演示" in page
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp))
        assert follow_up.opportunity_id == opp and follow_up.customer_id == firm["mine"]
        assert db.session.get(Opportunity, opp).last_follow_up_at == follow_up.happened_at
        assert db.session.get(Customer, firm["mine"]).last_follow_up_at == follow_up.happened_at
    timeline = client.get(f"/admin/customer/details/?id={firm['mine']}").get_data(as_text=True)
    assert "上门演示" in timeline and "ERP 项目" in timeline


@pytest.mark.both_dbs
def test_open_opportunities_follow_the_customer_to_its_new_owner_but_not_to_the_pool(app, firm):
    open_one = new_opportunity(app, firm["rep1"], firm["mine"], title="在谈的")
    won_one = new_opportunity(app, firm["rep1"], firm["mine"], title="已赢的")
    _win(app, won_one)
    with app.app_context():
        pool_rules.assign(db.session, [firm["mine"]], to_user=db.session.get(User, firm["rep2"]),
                          actor=actor(firm["sup1"]), now=NOW)
        db.session.commit()
        assert db.session.get(Opportunity, open_one).owner_id == firm["rep2"]
        assert db.session.get(Opportunity, won_one).owner_id == firm["rep1"]
        follow = db.session.scalar(select(OpportunityEvent).where(OpportunityEvent.action == "follow"))
        assert (follow.opportunity_id, follow.from_user_id, follow.to_user_id) == (open_one, firm["rep1"], firm["rep2"])
        # back to the pool: the deal stays with the salesperson working it
        pool_rules.recall(db.session, [firm["mine"]], actor=actor(firm["sup1"]), now=NOW)
        db.session.commit()
        assert db.session.get(Opportunity, open_one).owner_id == firm["rep2"]


def test_a_customer_with_an_open_opportunity_is_not_recycled(app, firm):
    opp = new_opportunity(app, firm["rep1"], firm["mine"])
    with app.app_context():
        assert activity.busy_ids(db.session, [firm["mine"], firm["design"]]) == {firm["mine"]}
        assert db.session.get(Customer, firm["mine"]).last_activity_at is not None
    _win(app, opp)
    with app.app_context():
        assert activity.busy_ids(db.session, [firm["mine"]]) == set()


def test_stage_groups_are_checked_and_the_department_group_comes_first(app, firm):
    with app.app_context():
        for stages, message in (([], "至少需要一个阶段"),
                                ([stage_groups.StageInput(None, "A", 120, [])], "0 到 100"),
                                ([stage_groups.StageInput(None, "A", 10, []), stage_groups.StageInput(None, "A", 20, [])],
                                 "不能重复")):
            with pytest.raises(InvalidValue, match=message):
                stage_groups.save(db.session, StageGroup(), name="二部流程", department_id=None, active=True,
                                  sort_order=0, stages=stages)
            db.session.rollback()
        rep3 = db.session.get(User, firm["rep3"])
        assert stage_groups.group_for(db.session, rep3).name == "标准销售流程"
        stage_groups.save(db.session, StageGroup(), name="销售部流程", department_id=db.session.get(
            User, firm["mgr"]).department_id, active=True, sort_order=1,
            stages=[stage_groups.StageInput(None, "立项", "20", ["amount"])])
        db.session.commit()
        assert opportunities.group_for(db.session, rep3).name == "销售部流程"  # the nearest department up the tree
        assert opportunities.group_for(db.session, db.session.get(User, firm["boss"])).name == "标准销售流程"


def test_the_stage_group_page_saves_and_refuses_keeping_what_was_typed(app, client, admin_id):
    client.login("admin")
    page = client.get("/admin/stage_groups/").get_data(as_text=True)
    assert "标准销售流程" in page and "方案报价 50%" in page
    form = {"name": "渠道流程", "stage_rows": "2", "stage-0-name": "接洽", "stage-0-probability": "150",
            "stage-1-name": "签约", "stage-1-probability": "90", "active": "1"}
    refused = client.post_form("/admin/stage_groups/edit/", form).get_data(as_text=True)
    assert "赢率必须是 0 到 100 之间的整数" in refused and 'value="渠道流程"' in refused and 'value="150"' in refused
    form["stage-0-probability"] = "20"
    saved = client.post_form("/admin/stage_groups/edit/", form, follow=True).get_data(as_text=True)
    assert "阶段组已保存" in saved and "接洽 20%" in saved


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_upgraded_installation_gets_the_default_stage_group_on_start(tmp_path, kind):
    from flask_migrate import upgrade

    from app import MIGRATIONS_DIR
    from jobs.cli import init_schema

    with app_at_revision(kind, tmp_path, "5e0b7c3a9f14"):  # the release before opportunities
        upgrade(directory=MIGRATIONS_DIR)
        assert db.session.scalar(select(func.count(StageGroup.id))) == 0
        init_schema()  # what every start runs
        group = db.session.scalar(select(StageGroup))
        assert group.name == "标准销售流程" and group.department_id is None
        assert [(s.name, s.probability, s.required_fields) for s in group.stages] == [
            ("初步接触", 10, []), ("需求确认", 30, []), ("方案报价", 50, ["amount", "expected_close_on"]),
            ("商务谈判", 70, ["amount", "expected_close_on"]), ("签约", 90, ["amount", "expected_close_on"])]
        init_schema()
        assert db.session.scalar(select(func.count(StageGroup.id))) == 1


def test_merging_customers_carries_their_opportunities_and_purging_keeps_them(app, firm, make_customer):
    other = make_customer("瑞和科技（重复）", firm["rep1"])
    opp = new_opportunity(app, firm["rep1"], other, title="重复客户上的机会")
    with app.app_context():
        from rules import customers
        from rules.errors import PurgeRefused

        keep, dup = db.session.get(Customer, firm["mine"]), db.session.get(Customer, other)
        customers.merge(db.session, keep, [dup], actor=actor(firm["sup1"]), now=NOW)
        db.session.commit()
        assert db.session.get(Opportunity, opp).customer_id == firm["mine"]
        keep = db.session.get(Customer, firm["mine"])
        customers.to_bin(db.session, keep, actor=actor(firm["sup1"]), now=NOW)
        with pytest.raises(PurgeRefused, match="有销售机会"):
            customers.purge(db.session, keep)


def test_a_new_opportunity_from_the_customer_page_names_that_customer_and_no_other(app, client, firm):
    client.login("rep1")
    tab = client.get(f"/admin/customer/details/?id={firm['mine']}").get_data(as_text=True)
    assert f"/admin/opportunity/new/?customer_id={firm['mine']}" in tab and "新建销售机会" in tab
    form = client.get(f"/admin/opportunity/new/?customer_id={firm['mine']}").get_data(as_text=True)
    assert f'<option value="{firm["mine"]}" selected>杭州瑞和科技有限公司' in form
    client.logout()
    client.login("rep3")  # 瑞和 is not rep3's: its name must not appear through the address
    assert "杭州瑞和科技有限公司" not in client.get(f"/admin/opportunity/new/?customer_id={firm['mine']}").get_data(
        as_text=True)
