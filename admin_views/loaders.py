"""Ajax look-ups (select2 drop-downs) that only offer records inside the user's scope."""
from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader

from admin_views.context import current_actor
from rules import scope


class ScopedAjaxModelLoader(QueryAjaxModelLoader):
    def get_query(self) -> Any:
        return scope.scoped(super().get_query(), self.model, current_actor())

    def get_one(self, pk: Any) -> Any:
        # Validating a submitted form also goes through here: a forged id is not found.
        try:
            ident = int(pk)
        except (TypeError, ValueError):
            return None
        return self.get_query().filter(self.model.id == ident).one_or_none()
