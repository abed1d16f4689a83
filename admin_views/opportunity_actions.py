"""The opportunity list's batch actions, as a mixin for its ModelView (admin_views/opportunities.py
includes it: `class OpportunityView(OpportunityActionsMixin, ScopedModelView)`). 标记赢单 runs at once
after Flask-Admin's confirmation; 指派, 变更阶段 and 标记输单 first ask for a colleague, a stage or a
reason on the board module's batch page. Every row goes through rules/opportunity_batch.py."""
from __future__ import annotations

from typing import Any

from flask import redirect, url_for
from flask_admin.actions import action
from flask_babel import lazy_gettext as _l

from admin_views.context import current_actor, now
from admin_views.transaction import transaction
from models import db
from rules import opportunity_batch

# Who may use each action (the list itself needs opportunity.view).
ACTION_PERMISSIONS = {"opp_assign": "opportunity.assign", "opp_stage": "opportunity.edit",
                      "opp_win": "opportunity.edit", "opp_lose": "opportunity.edit"}


class OpportunityActionsMixin:
    """Needs the view's scoped_batch (ScopedModelView): a forged or foreign id refuses the batch."""

    action_permissions = ACTION_PERMISSIONS  # ScopedModelView.is_action_allowed reads it

    def _to_batch_page(self, kind: str, ids: list[str]) -> Any:
        records = self.scoped_batch(ids)  # type: ignore[attr-defined]
        return redirect(url_for("opportunity_board.batch", kind=kind, ids=",".join(str(r.id) for r in records),
                                back=url_for(".index_view")))

    @action("opp_assign", _l("指派给同事"))
    def action_opp_assign(self, ids: list[str]) -> Any:
        return self._to_batch_page("assign", ids)

    @action("opp_stage", _l("变更阶段"))
    def action_opp_stage(self, ids: list[str]) -> Any:
        return self._to_batch_page("stage", ids)

    @action("opp_win", _l("标记赢单"), _l("所选销售机会将标记为赢单，确定吗？"))
    def action_opp_win(self, ids: list[str]) -> None:
        """Flask-Admin returns to the list (with its filters) after an action that returns nothing."""
        records = self.scoped_batch(ids)  # type: ignore[attr-defined]
        actor = current_actor()
        with transaction() as outcome:
            result = opportunity_batch.win_many(db.session, [r.id for r in records], actor=actor, now=now())
            outcome.done(result.summary(), "success" if not result.skipped else "warning")

    @action("opp_lose", _l("标记输单"))
    def action_opp_lose(self, ids: list[str]) -> Any:
        return self._to_batch_page("lose", ids)
