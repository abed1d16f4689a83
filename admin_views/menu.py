"""The menu's categories (the top-level entries), named once for every view module, and the
icon argument each view passes. A module offers its views through `views()`, each view naming
its category here; admin_views/__init__.py lists the modules in menu order."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

CUSTOMERS, POOL, SALES, PRODUCTS = _l("客户管理"), _l("客户池"), _l("销售管理"), _l("产品管理")
REPORTS, OFFICE, SETTINGS, MESSAGING = _l("统计报表"), _l("综合办公"), _l("系统设置"), _l("短信邮件")
SERVICE = _l("客户服务")


def fa(icon: str) -> dict[str, str]:
    """A Font Awesome 4 icon for a menu entry: `View(..., **fa("fa-users"))`."""
    return {"menu_icon_type": "fa", "menu_icon_value": icon}

# The order the categories appear in; a module listed in admin_views.MODULES files its views
# under one of these.
CATEGORIES = (CUSTOMERS, POOL, SALES, SERVICE, PRODUCTS, REPORTS, OFFICE, SETTINGS, MESSAGING)
