"""回收站: deleted customers whose owner is in the actor's scope, to restore or purge."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from admin_views.base import ScopedModelView
from admin_views.context import current_actor
from admin_views.customer_labels import LABELS
from admin_views.menu import CUSTOMERS, fa
from admin_views.transaction import transaction
from models import Customer, db
from rules import customers, file_store, scope
from rules.errors import OutOfScope


class RecycleBinView(ScopedModelView):
    """回收站: restore or purge deleted customers (those whose owner is in scope)."""

    permission_view = "customer.bin"
    permission_delete = None
    action_permissions = {"restore": "customer.bin", "purge": "customer.bin"}
    list_template = "admin/customers/bin_list.html"
    column_list = ["code", "name", "owner", "deleted_at"]
    column_labels = LABELS
    column_default_sort = ("deleted_at", True)
    column_searchable_list = ["name", "code"]

    def _bin(self, query: Any) -> Any:
        return query.filter(scope.binned_clause(current_actor()))

    def get_query(self) -> Any:
        # Not the live-customer scope: the bin's own clause (deleted, owner in scope).
        return self._bin(db.session.query(Customer))

    def get_count_query(self) -> Any:
        return self._bin(db.session.query(func.count(Customer.id)))

    def write_clause(self) -> Any:
        return scope.binned_clause(current_actor())

    def get_one(self, id: Any) -> Any:
        try:
            return scope.get_in_scope(db.session, Customer, id, current_actor(), self.write_clause())
        except OutOfScope:
            abort(404)

    @action("restore", _l("恢复"))
    def action_restore(self, ids: list[str]) -> None:
        records = self.scoped_batch(ids)
        with transaction(gettext("已恢复 %(n)d 位客户，联系人和联系记录一并恢复", n=len(records))):
            for record in records:
                customers.restore(db.session, record)

    @action("purge", _l("彻底删除"), _l("彻底删除后无法恢复，客户的联系人和联系记录也将一并删除。确定吗？"))
    def action_purge(self, ids: list[str]) -> None:
        records = self.scoped_batch(ids)
        files: list[str] = []
        with transaction(gettext("已彻底删除 %(n)d 位客户", n=len(records))) as outcome:
            for record in records:
                files += customers.purge(db.session, record)
        if outcome.ok:
            file_store.delete(current_app.config["FILES_DIR"], *files)


def views() -> list[Any]:
    return [RecycleBinView(Customer, name=_l("回收站"), category=CUSTOMERS, endpoint="customer_bin", **fa("fa-trash"))]
