"""手机版 (/m/): the mobile workspace of a salesperson in the field.

The same login, session, data scope and rules as the admin panel; only the pages differ, drawn
for a thumb at 360–430 px on a slow connection (no Bootstrap, one small stylesheet and one small
script). Each page is a PermissionView with an absolute `/m/…` address (admin_views/mobile/base.py),
so the admin's deny-by-default access check guards it too. MODULES lists the page modules; the
tab bar shows the tabs whose page exists (base.TABS)."""
from __future__ import annotations

from types import ModuleType

from flask import Flask
from flask_admin import BaseView

from admin_views.mobile import (
    approvals, base, checkins, customers, followups, home, me, opportunities, orders, pool, pwa,
)

# The tab bar's order first (今日, 客户, 商机, 审批, 我的), then the pages reached from them.
MODULES: tuple[ModuleType, ...] = (
    home, customers, opportunities, approvals, me,
    followups, checkins, pool, orders, pwa,
)


def views() -> list[BaseView]:
    return [view for module in MODULES for view in module.views()]


def init_app(app: Flask) -> None:
    base.init_app(app)
    for module in MODULES:
        if hasattr(module, "init_app"):
            module.init_app(app)
