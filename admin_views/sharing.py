"""我共享给他人的 / 他人共享给我的."""
from __future__ import annotations

from typing import Any

from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import or_
from sqlalchemy.orm import joinedload

from admin_views.base import ScopedModelView
from admin_views.context import current_actor, now
from admin_views.customer_labels import SHARE_MODE_LABELS
from admin_views.formatters import choice_label
from admin_views.menu import CUSTOMERS, fa
from admin_views.transaction import transaction
from models import CustomerShare, db
from rules import scope, sharing


def _customer_link(view: Any, context: Any, model: CustomerShare, name: str) -> Markup:
    from flask import url_for

    # Markup is safe here: every interpolated value passes through escape().
    return Markup(f"<a href='{escape(url_for('customer.details_view', id=model.customer_id))}'>"
                  f"{escape(model.customer.name)}</a>")


class _ShareListView(ScopedModelView):
    permission_view = "customer.view"
    column_labels = {"customer": _l("客户"), "user": _l("共享给"), "shared_by": _l("共享人"), "mode": _l("方式"),
                     "until": _l("截止日期"), "created_at": _l("共享时间")}
    column_formatters = {"mode": choice_label(SHARE_MODE_LABELS), "customer": _customer_link}
    column_default_sort = ("created_at", True)

    def mine(self, query: Any) -> Any:
        raise NotImplementedError

    def get_query(self) -> Any:
        actor = current_actor()
        live = super().get_query().filter(CustomerShare.revoked_at.is_(None),
                                 or_(CustomerShare.until.is_(None), CustomerShare.until >= actor.today))
        return self.mine(live).options(joinedload(CustomerShare.customer), joinedload(CustomerShare.user))

    def get_count_query(self) -> Any:
        actor = current_actor()
        query = super().get_count_query().filter(
            CustomerShare.revoked_at.is_(None), or_(CustomerShare.until.is_(None), CustomerShare.until >= actor.today))
        return self.mine(query)


class SharedByMeView(_ShareListView):
    """我共享给他人的: shares of customers the user may change, which they can revoke."""

    column_list = ["customer", "user", "mode", "until", "created_at"]
    action_permissions = {"revoke": "customer.share"}

    def mine(self, query: Any) -> Any:
        return query.filter(scope.share_write_clause(current_actor()))

    @action("revoke", _l("取消共享"), _l("确定取消所选共享吗？"))
    def action_revoke(self, ids: list[str]) -> None:
        records = self.scoped_batch(ids)
        with transaction(gettext("已取消 %(n)d 项共享", n=len(records))):
            for record in records:
                sharing.revoke(db.session, record, now=now())


class SharedWithMeView(_ShareListView):
    """他人共享给我的."""

    column_list = ["customer", "shared_by", "mode", "until", "created_at"]

    def mine(self, query: Any) -> Any:
        return query.filter(CustomerShare.user_id == current_actor().user_id)


def views() -> list[Any]:
    return [
        SharedByMeView(CustomerShare, name=_l("我共享给他人的"), category=CUSTOMERS, endpoint="shared_by_me",
                       **fa("fa-share-alt")),
        SharedWithMeView(CustomerShare, name=_l("他人共享给我的"), category=CUSTOMERS, endpoint="shared_with_me",
                         **fa("fa-handshake-o")),
    ]
