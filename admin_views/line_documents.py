"""Entry of a numbered document with product lines (订单, 报价单): the pieces their model views
share. The rules fill some fields when left empty and give the document its number, so the form
does not require those fields, a line without a product is dropped, and the one success message is
the document's own."""
from __future__ import annotations

from typing import Any

from flask import session, url_for
from flask_admin import expose
from flask_admin.babel import gettext as admin_gettext
from wtforms.validators import InputRequired

from models import db


class LineDocumentEntry:
    """Mixed into a ScopedModelView whose model has `lines` (each with a product)."""

    # Fields the rules fill when left empty: not required on screen.
    filled_by_rules: tuple[str, ...] = ()

    def _optional(self, form: Any) -> Any:
        for name in self.filled_by_rules:
            field = form[name]
            field.validators = [v for v in field.validators if not isinstance(v, InputRequired)]
            field.flags.required = False
        return form

    def edit_form(self, obj: Any = None) -> Any:
        return self._optional(super().edit_form(obj))  # type: ignore[misc]

    def create_form(self, obj: Any = None) -> Any:
        return self._optional(super().create_form(obj))  # type: ignore[misc]

    @staticmethod
    def keep_filled_lines(model: Any) -> None:
        """Empty rows of the lines table (no product chosen) are not lines."""
        model.lines = [line for line in model.lines if line is not None
                       and (line.product_id is not None or line.product is not None)]

    @staticmethod
    def hand_to_rules(model: Any) -> None:
        """Flask-Admin added the new document already; the rules add it once it has its number."""
        if model in db.session:
            db.session.expunge(model)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self) -> Any:
        """Flask-Admin's own "record created" would stand beside the document's message."""
        response = super().create_view()  # type: ignore[misc]
        generic = admin_gettext("Record was successfully created.")
        if session.get("_flashes"):
            session["_flashes"] = [f for f in session["_flashes"] if f[1] != generic]
        return response

    def get_save_return_url(self, model: Any, is_created: bool = False) -> str:
        return url_for(".details_view", id=model.id)
