"""Factory, CLI and migrations."""
from __future__ import annotations

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import func, select

from app import MIGRATIONS_DIR, create_app
from conftest import PG_URL, need_service
import config
from models.customer import alembic_include_object
from models import Customer, CustomerShare, Department, FollowUp, Role, User, db


def fresh_app(uri: str):
    class Cfg(config.TestConfig):
        SQLALCHEMY_DATABASE_URI = uri

    return create_app(Cfg)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrations_build_exactly_the_models_schema(tmp_path, kind):
    uri = f"sqlite:///{tmp_path / 'm.db'}" if kind == "sqlite" else need_service(PG_URL, "PostgreSQL")
    app = fresh_app(uri)

    def reset() -> None:
        if kind == "postgresql":
            db.drop_all()
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")

    with app.app_context():
        reset()
        try:
            upgrade(directory=MIGRATIONS_DIR)
            with db.engine.connect() as conn, warnings.catch_warnings():
                # Alembic cannot compare the GIN expression index; the migration creates it by hand.
                warnings.filterwarnings("ignore", message="autogenerate skipping metadata-specified expression")
                diff = compare_metadata(MigrationContext.configure(
                    conn, opts={"include_object": alembic_include_object}), db.metadata)
            assert diff == []
            if kind == "postgresql":  # indexes Alembic cannot compare: check they exist
                names = set(db.session.execute(db.text(
                    "SELECT indexname FROM pg_indexes WHERE tablename IN ('customers', 'customer_search')")).scalars())
                assert {"ix_customer_search_token_array", "ix_customers_last_follow_up_pg",
                        "ix_customers_owner_last_follow_up_pg"} <= names
        finally:
            reset()
            db.session.remove()
            db.engine.dispose()


def test_cli_provisions_users_departments_and_roles(tmp_path):
    app = fresh_app(f"sqlite:///{tmp_path / 'cli.db'}")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    result = runner.invoke(args=["create-admin", "--username", "boss", "--password", "boss-pass-1"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-user", "--username", "xiaoli", "--password", "xiaoli-pass",
                                 "--role", "业务员", "--department", "销售一部", "--parent-department", "销售部"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-user", "--username", "xiaowang", "--password", "xiaowang-pass",
                                 "--role", "渠道专员", "--department", "渠道部", "--superior", "xiaoli"])
    assert result.exit_code == 0, result.output
    duplicate = runner.invoke(args=["create-admin", "--username", "boss", "--password", "boss-pass-1"])
    assert duplicate.exit_code != 0 and "已存在" in duplicate.output
    with app.app_context():
        xiaoli = db.session.scalar(select(User).where(User.username == "xiaoli"))
        assert xiaoli.department.name == "销售一部" and xiaoli.department.parent.name == "销售部"
        assert xiaoli.role.name == "业务员"
        xiaowang = db.session.scalar(select(User).where(User.username == "xiaowang"))
        assert xiaowang.superior_id == xiaoli.id and xiaowang.role.name == "渠道专员"
        assert db.session.scalar(select(User).where(User.username == "boss")).role.name == "系统管理员"
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "csrf_token" in page


def test_seed_demo_is_believable_and_idempotent(tmp_path):
    app = fresh_app(f"sqlite:///{tmp_path / 'demo.db'}")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "chenxm" in first.output
    with app.app_context():
        counts = (db.session.scalar(select(func.count(User.id))), db.session.scalar(select(func.count(Customer.id))))
        roles = set(db.session.scalars(select(Role.name).join(User, User.role_id == Role.id)))
        departments = db.session.scalar(select(func.count(Department.id)))
        service_desk = {"客服", "客服主管"}  # issue 22: the service staff (demo/sla.py or demo/service.py)
        desk = db.session.scalar(select(func.count(User.id)).join(Role, User.role_id == Role.id)
                                 .where(Role.name.in_(service_desk)))
        assert counts[0] - desk == 10 and desk >= 2 and counts[1] >= 200
        assert roles - service_desk == {"系统管理员", "总经理", "经理", "主管", "业务员", "内勤", "财务"}
        from models.service import Ticket  # issue 22: tickets in every status category
        categories = set(db.session.scalars(select(Ticket.status_category).distinct()))
        assert categories == {"open", "paused", "resolved", "closed"}
        assert departments >= 3
        sample = db.session.scalars(select(Customer).where(Customer.owner_id.is_not(None)).limit(20)).all()
        assert all(c.province and c.mobile and c.code and c.mnemonic and c.contacts for c in sample)
        assert sum(1 for c in sample for contact in c.contacts if contact.is_primary) == len(sample)
        assert db.session.scalar(select(func.count(FollowUp.id))) > 100
        assert db.session.scalar(select(func.count(CustomerShare.id))) >= 3
        assert db.session.scalar(select(func.count(Customer.id)).where(Customer.next_contact_at.is_not(None))) > 10
        # a year of orders in every state, with payments, stock movements and customer totals
        from models import Order, Payment, StockMovement
        states = dict(db.session.execute(select(Order.state, func.count(Order.id)).group_by(Order.state)).all())
        assert set(states) == {"pending_review", "picking", "shipped", "completed", "cancelled", "returned"}, states
        assert db.session.scalar(select(func.count(Payment.id))) > 50
        assert db.session.scalar(select(func.count(StockMovement.id)).where(StockMovement.reason == "ship")) > 100
        assert db.session.scalar(select(func.count(Customer.id)).where(Customer.purchase_count > 0)) > 50
        assert_demo_pipeline_is_believable()
        from models import Holiday, ServiceTeam, SlaPolicy  # 客户服务 SLA: targets, holidays, two service groups
        assert db.session.scalar(select(func.count(SlaPolicy.id))) == 5 and db.session.scalar(select(func.count(Holiday.day))) > 20
        assert set(db.session.scalars(select(ServiceTeam.name))) == {"售后一组", "投诉组"}
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "已存在" in second.output
    with app.app_context():
        assert (db.session.scalar(select(func.count(User.id))),
                db.session.scalar(select(func.count(Customer.id)))) == counts


def assert_demo_pipeline_is_believable() -> None:
    """What the board, the forecast and the lead pages would show, read by query."""
    from models import (DictItem, Lead, LeadFollowUp, Opportunity, OpportunityCollaborator, OpportunityEvent,
                        OpportunityParty, Order, Pool, Quote, Stage, StageGroup)
    from rules.clock import local_date

    pool = db.session.scalar(select(Pool).where(Pool.kind == "lead", Pool.is_default.is_(True)))
    assert pool is not None and pool.name == "公共线索池"
    waiting = db.session.scalar(select(func.count(Lead.id)).where(Lead.owner_id.is_(None), Lead.pool_id == pool.id))
    assert waiting >= 10
    owned = set(db.session.scalars(select(Lead.status).where(Lead.owner_id.is_not(None)).distinct()))
    assert owned == {"new", "following", "converted", "invalid"}
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.status == "converted", Lead.customer_id.is_(None))) == 0
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.status == "invalid",
                                                               Lead.invalid_reason.is_(None))) == 0
    assert db.session.scalar(select(func.count(LeadFollowUp.id))) > 10
    # the board: every stage of 标准销售流程 holds open opportunities with money on them
    group = db.session.scalar(select(StageGroup).where(StageGroup.name == "标准销售流程"))
    stages = [(s.name, s.probability) for s in db.session.scalars(
        select(Stage).where(Stage.group_id == group.id).order_by(Stage.sort_order))]
    assert stages == [("初步接触", 10), ("需求确认", 30), ("方案报价", 50), ("商务谈判", 70), ("签约", 90)]
    board = db.session.execute(select(Stage.name, func.count(Opportunity.id), func.sum(Opportunity.amount))
                               .join(Opportunity, Opportunity.stage_id == Stage.id)
                               .where(Opportunity.outcome == "open").group_by(Stage.name)).all()
    assert {name for name, _n, _a in board} == {name for name, _p in stages}
    assert all(n >= 2 and amount > 0 for _name, n, amount in board)
    # the forecast: open opportunities expected to close over the coming months
    this_month = local_date(clock_now(), "Asia/Shanghai").strftime("%Y-%m")
    months = {d.strftime("%Y-%m") for d in db.session.scalars(
        select(Opportunity.expected_close_on).where(Opportunity.outcome == "open"))}
    assert len({m for m in months if m >= this_month}) >= 4 and this_month in months
    outcomes = dict(db.session.execute(select(Opportunity.outcome, func.count(Opportunity.id))
                                       .group_by(Opportunity.outcome)).all())
    assert outcomes["won"] >= 5 and outcomes["lost"] >= 5 and outcomes["open"] >= 20
    assert db.session.scalar(select(func.count(Opportunity.id)).where(
        Opportunity.outcome == "lost", Opportunity.loss_reason_id.is_(None))) == 0
    assert db.session.scalar(select(func.count(Opportunity.id)).where(Opportunity.amount <= 0)) == 0
    # every stage reached is in the history: one move per stage after the first
    moves = dict(db.session.execute(select(OpportunityEvent.opportunity_id, func.count(OpportunityEvent.id))
                                    .where(OpportunityEvent.action == "stage")
                                    .group_by(OpportunityEvent.opportunity_id)).all())
    place, stages_seen = {}, {}  # a stage's place in its group: 0 for the first stage
    for stage in db.session.scalars(select(Stage).order_by(Stage.group_id, Stage.sort_order)):
        place[stage.id] = stages_seen.get(stage.group_id, 0)
        stages_seen[stage.group_id] = place[stage.id] + 1
    for opportunity in db.session.scalars(select(Opportunity)):
        assert moves.get(opportunity.id, 0) == place[opportunity.stage_id]
    roles = set(db.session.scalars(select(DictItem.name).join(OpportunityParty, OpportunityParty.role_id == DictItem.id)))
    assert {"甲方", "设计方", "施工方"} <= roles
    assert db.session.scalar(select(func.count(OpportunityCollaborator.user_id))) >= 2
    quotes = set(db.session.scalars(select(Quote.status).distinct()))
    assert quotes == {"draft", "sent", "accepted", "rejected", "expired"}
    converted = db.session.scalars(select(Quote).where(Quote.order_id.is_not(None))).all()
    assert len(converted) == 1
    order = db.session.get(Order, converted[0].order_id)
    assert order.total == converted[0].total and len(order.lines) == len(converted[0].lines)
    assert db.session.scalar(select(Opportunity.order_id).where(Opportunity.id == converted[0].opportunity_id)) == order.id


def clock_now():
    from rules import clock

    return clock.now()


def test_production_config_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.ProductionConfig()


def test_root_redirects_to_the_workbench(app):
    response = app.test_client().get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")
