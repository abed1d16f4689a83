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
        assert counts[0] == 9 and counts[1] >= 200
        assert roles == {"系统管理员", "总经理", "经理", "主管", "业务员", "内勤"}
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
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "已存在" in second.output
    with app.app_context():
        assert (db.session.scalar(select(func.count(User.id))),
                db.session.scalar(select(func.count(Customer.id)))) == counts


def test_production_config_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.ProductionConfig()


def test_root_redirects_to_the_workbench(app):
    response = app.test_client().get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")
