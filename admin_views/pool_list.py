"""The list of what waits in a pool, written once for 公共客户 (admin_views/pool.py) and 线索池
(admin_views/lead_pool.py): the records of the user's pools of one kind, the fields a pool
hides until claimed, 领用 and 批量随机领用. Every decision is a rules.pool call with the view's
PoolSubject."""
from __future__ import annotations

from typing import Any

from flask import abort, g, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from admin_views import params
from admin_views.context import current_actor, local_today, now
from admin_views.forms import CsrfForm
from admin_views.transaction import commit_or_explain
from models import Pool, db
from rules import pool as pool_rules
from rules import scope
from rules.errors import OutOfScope
from rules.pool_subject import PoolSubject


class PoolListMixin:
    """For a ScopedModelView of the subject's model. The view names its `pool_subject`, its
    formatters (`pool_formatters`) and its words: `claimed_message`, `random_message`, and for
    the shared template admin/pool/list.html `random_confirm`, `my_pools_label`, `empty_text`."""

    pool_subject: PoolSubject
    pool_formatters: dict[str, Any] = {}
    list_template = "admin/pool/list.html"
    can_view_details = False
    capped_count = True

    def claimed_message(self, n: int) -> str:
        raise NotImplementedError

    def random_message(self, n: int) -> str:
        raise NotImplementedError

    def _pool_ids(self) -> list[int]:
        return pool_rules.pools_of(db.session, current_actor().user_id, self.pool_subject)

    def _hidden(self) -> set[str]:
        # Flask-Admin reads column_formatters once per cell: work it out once per request.
        key = f"kechi_pool_hidden_{self.pool_subject.kind}"
        if key in g:
            return g.get(key)
        hidden: set[str] = set()
        for pool in db.session.scalars(select(Pool).where(Pool.id.in_(self._pool_ids()))):
            hidden |= set(pool.hidden_fields or [])
        setattr(g, key, hidden)
        return hidden

    @property
    def column_formatters(self) -> dict:  # type: ignore[override]
        # Read per request (Flask-Admin also reads it once at start-up, outside any request).
        hidden = self._hidden() if has_request_context() and current_user.is_authenticated else set()
        masked = {f: (lambda v, c, m, n: gettext("领用后可见")) for f in hidden}
        return {**self.pool_formatters, **masked}

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.list_template:
            # 您从哪些池领用: a department pool changes this, so the page says it.
            kwargs["my_pools"] = pool_rules.names(db.session, self._pool_ids())
        return super().render(template, **kwargs)  # type: ignore[misc]

    def write_clause(self) -> Any:
        return pool_rules.pool_clause(db.session, current_actor(), now=now(), subject=self.pool_subject)

    def get_query(self) -> Any:
        return db.session.query(self.model).filter(self.write_clause())  # type: ignore[attr-defined]

    def get_count_query(self) -> Any:
        from admin_views.base import CappedCountQuery

        model = self.model  # type: ignore[attr-defined]
        query = CappedCountQuery([func.count(model.id)], session=db.session).select_from(model)
        return query.filter(self.write_clause())

    def get_one(self, id: Any) -> Any:
        try:
            return scope.get_in_scope(db.session, self.model, id, current_actor(),  # type: ignore[attr-defined]
                                      self.write_clause())
        except OutOfScope:
            abort(404)

    @action("claim", _l("领用"))
    def action_claim(self, ids: list[str]) -> None:
        actor, wanted = current_actor(), params.ids_list(ids)

        def claim_all() -> int:
            for record_id in wanted:
                pool_rules.claim(db.session, record_id, actor=actor, role_id=current_user.role_id, now=now(),
                                 today=local_today(), subject=self.pool_subject)
            return len(wanted)

        commit_or_explain(claim_all, self.claimed_message)

    @expose("/random/", methods=["POST"])
    def claim_random(self) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        actor = current_actor()
        try:
            count = params.optional_int(request.form.get("count"), name=gettext("数量"), maximum=10_000) or 0
        except params.BadParameter:
            count = 0
        commit_or_explain(
            lambda: pool_rules.claim_random(db.session, count, actor=actor, role_id=current_user.role_id, now=now(),
                                            today=local_today(), subject=self.pool_subject),
            lambda events: self.random_message(len(events)))
        return redirect(url_for(".index_view"))
