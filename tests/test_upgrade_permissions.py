"""Upgrading keeps the administrator's role choices and brings the default roles the
permissions a new release adds: a firm that installed before 统计报表 existed must find the
reports in its 总经理's menu after the upgrade, and a permission it took away stays away."""
from __future__ import annotations

from sqlalchemy import select

from models import Role, db
from rules import settings, setup
from rules.permissions import ALL_PERMISSIONS, DEFAULT_ROLES


def _defaults(name: str) -> list[str]:
    return next(perms for role, _scope, perms, _desc in DEFAULT_ROLES if role == name)


def test_a_new_release_grants_its_new_permissions_once_and_keeps_what_the_admin_removed(app):
    with app.app_context():
        boss = db.session.scalar(select(Role).where(Role.name == "总经理"))
        assert "report.view" in boss.permissions and "customer.export" in boss.permissions
        # as an older release left it: no report permission anywhere yet, and the administrator
        # has taken 导出 away from the 总经理 on purpose
        for role in db.session.scalars(select(Role)):
            role.permissions = [p for p in role.permissions if p != "report.view"]
        boss.permissions = [p for p in boss.permissions if p != "customer.export"]
        settings.put(db.session, setup.SEEN_KEY, sorted(ALL_PERMISSIONS - {"report.view"}))
        db.session.commit()

        setup.ensure_defaults(db.session)  # what every start runs
        db.session.commit()
        boss = db.session.scalar(select(Role).where(Role.name == "总经理"))
        assert "report.view" in boss.permissions
        assert "customer.export" not in boss.permissions
        for role in db.session.scalars(select(Role)):
            if role.name in {name for name, *_ in DEFAULT_ROLES}:
                assert ("report.view" in role.permissions) == ("report.view" in _defaults(role.name)), role.name

        # taken away again after it was offered: the next start leaves it so
        boss.permissions = [p for p in boss.permissions if p != "report.view"]
        db.session.commit()
        setup.ensure_defaults(db.session)
        db.session.commit()
        assert "report.view" not in db.session.scalar(select(Role).where(Role.name == "总经理")).permissions


def test_an_install_from_before_the_record_counts_what_its_roles_hold_as_offered(app):
    with app.app_context():
        for role in db.session.scalars(select(Role)):
            role.permissions = [p for p in role.permissions if p not in ("report.view", "office.announce")]
        boss = db.session.scalar(select(Role).where(Role.name == "总经理"))
        boss.permissions = [*boss.permissions, "office.announce"]  # one role still holds it
        settings.put(db.session, setup.SEEN_KEY, None)
        db.session.commit()

        setup.ensure_defaults(db.session)
        db.session.commit()
        manager = db.session.scalar(select(Role).where(Role.name == "经理"))
        assert "report.view" in manager.permissions  # no role held it: new in this release
        assert "office.announce" not in manager.permissions  # some role held it: already offered
        assert settings.get(db.session, setup.SEEN_KEY) == sorted(ALL_PERMISSIONS)
