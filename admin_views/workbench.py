"""The workbench (工作台): the landing page, made of widgets later issues add to."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from admin_views.context import current_actor, now
from models import ClaimRequest, Customer, db
from rules import followups, notifications, protection, recycle, scope
from rules import pool as pool_rules


@dataclass
class Widget:
    key: str
    title: Any
    value: Any
    link: str | None = None
    hint: Any = None


def _my_customers() -> Widget:
    actor = current_actor()
    count = db.session.scalar(scope.scoped(select(func.count(Customer.id)), Customer, actor))
    return Widget("customers", _l("我可见的客户"), count, url_for("customer.index_view"),
                  _l("按您的数据范围统计"))


def _unread() -> Widget:
    count = notifications.unread_count(db.session, current_actor())
    return Widget("notifications", _l("未读提醒"), count, url_for("notification.index_view"),
                  _l("点击右上角铃铛查看"))


def _due_today() -> Widget:
    actor = current_actor()
    stmt = scope.scoped(select(func.count(Customer.id)), Customer, actor).where(
        Customer.owner_id == actor.user_id, followups.due_clause(actor.today))
    return Widget("due", _l("今日待回访"), db.session.scalar(stmt), url_for("due_customer.index_view"),
                  _l("下次联系日期已到的客户"))


def _recycle_soon() -> Widget:
    actor = current_actor()
    count = db.session.scalar(select(func.count(Customer.id)).where(
        Customer.owner_id == actor.user_id, recycle.soon_clause(db.session, now())))
    return Widget("recycle_soon", _l("即将被回收"), count, url_for("recycle_soon.index_view"),
                  _l("尽快跟进，以免回到客户池"))


def _protection_expiring() -> Widget:
    actor = current_actor()
    warn = int(protection.load_policy(db.session)["warn_days"])
    count = db.session.scalar(select(func.count(Customer.id)).where(
        protection.expiring_clause(actor.user_id, now(), warn)))
    return Widget("protection_expiring", _l("保护即将到期"), count, url_for("customer.index_view"),
                  _l("%(d)d 天内到期的受保护客户", d=warn))


def _requests_to_approve() -> Widget:
    count = db.session.scalar(select(func.count(ClaimRequest.id)).where(
        pool_rules.requests_for_approver(current_actor())))
    return Widget("claim_requests", _l("待批示的领用申请"), count, url_for("claim_request.index_view"))


# Later issues append here (due contacts, recycle warnings, claim requests, orders to review...).
WIDGETS: list[tuple[str | None, Callable[[], Widget]]] = [
    ("customer.view", _due_today),
    ("pool.claim", _recycle_soon),
    ("pool.claim", _protection_expiring),
    ("pool.approve", _requests_to_approve),
    ("customer.view", _my_customers),
    (None, _unread),
]


class WorkbenchIndexView(AdminIndexView):
    def is_visible(self) -> bool:
        return True

    @expose("/")
    def index(self) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        actor = current_actor()
        widgets = [build() for permission, build in WIDGETS if permission is None or actor.can(permission)]
        return self.render("admin/index.html", widgets=widgets, user=current_user)
