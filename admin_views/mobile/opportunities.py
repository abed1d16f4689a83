"""商机 on the phone: my opportunities by stage (the board's columns, sums and scope), one
opportunity, and moving it — through rules/opportunity_stages.py as the admin's page and board do,
so a refused move explains itself in the rule's words."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from admin_views import params
from admin_views.context import current_actor, now
from admin_views.forms import CsrfForm
from admin_views.mobile.base import MobileView
from admin_views.opportunity_board import loss_reasons
from admin_views.transaction import transaction
from models import db
from models.opportunity import Opportunity, OpportunityAction, OpportunityEvent, Outcome, Stage
from rules import opportunities, opportunity_board, opportunity_stages, scope
from rules.errors import OutOfScope

CARDS_PER_STAGE = 20
HISTORY = 10
OUTCOME_BADGES = {Outcome.OPEN.value: "", Outcome.WON.value: "m-badge-green", Outcome.LOST.value: "m-badge-red",
                  Outcome.INVALID.value: ""}


class OpportunitiesView(MobileView):
    permission = "opportunity.view"  # as the admin's list and board
    mobile_url = "/opportunities"
    tab = "m_opportunities.index"

    @expose("/")
    def index(self) -> Any:
        actor = current_actor()
        choices = opportunity_board.groups(db.session)
        group_id = params.id_or_none(request.args.get("group"))
        group = next((g for g in choices if g.id == group_id), None) \
            or opportunity_board.default_group(db.session, actor, choices)
        mine = request.args.get("owner") == "me"
        filters = opportunity_board.BoardFilters(group_id=group.id if group else None,
                                                 owner_id=actor.user_id if mine else None)
        columns = opportunity_board.board(db.session, actor, group, filters, limit=CARDS_PER_STAGE) if group else []
        return self.render("mobile/opportunities.html", title=_l("商机"), group=group, groups=choices,
                           columns=columns, mine=mine, cap=CARDS_PER_STAGE,
                           total_count=sum(c.count for c in columns), total_amount=sum(c.amount for c in columns))

    def _one(self, opportunity_id: int) -> Opportunity:
        try:
            return scope.get_in_scope(db.session, Opportunity, opportunity_id, current_actor())
        except OutOfScope:
            abort(404)

    @expose("/<int:opportunity_id>/")
    def detail(self, opportunity_id: int, typed: dict[str, str] | None = None) -> Any:
        """`typed`: a refused move's form as it was sent, shown again (the stage, reason and note)."""
        opportunity = self._one(opportunity_id)
        actor = current_actor()
        history = list(db.session.scalars(
            select(OpportunityEvent).where(OpportunityEvent.opportunity_id == opportunity.id)
            .options(joinedload(OpportunityEvent.to_stage), joinedload(OpportunityEvent.actor))
            .order_by(OpportunityEvent.at.desc(), OpportunityEvent.id.desc()).limit(HISTORY)))
        is_open = opportunity.outcome == Outcome.OPEN.value
        return self.render(
            "mobile/opportunity_detail.html", title=opportunity.title, back=url_for(".index"), model=opportunity,
            stages=[s for s in opportunity.group.stages if s.active], history=history,
            can_move=is_open and opportunity_stages.allows(actor, OpportunityAction.STAGE),
            reasons=loss_reasons(), outcome_labels=opportunities.OUTCOME_LABELS, outcome_badges=OUTCOME_BADGES,
            event_labels=opportunities.EVENT_LABELS, weighted=opportunities.weighted(opportunity),
            admin_url=url_for("opportunity.details_view", id=opportunity.id), csrf=CsrfForm(), typed=typed or {})

    @expose("/<int:opportunity_id>/move", methods=("POST",))
    def move(self, opportunity_id: int) -> Any:
        """推进阶段 / 赢单 / 输单, as the admin's stage buttons (admin_views/opportunities.stage_view)."""
        self._one(opportunity_id)
        back = redirect(url_for(".detail", opportunity_id=opportunity_id))
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return back
        form, common = request.form, {"actor": current_actor(), "now": now()}
        note = params.clean_text(form.get("note")) or None
        do = form.get("do")
        with transaction() as outcome:
            if do == "move":
                stage_id = params.id_or_none(form.get("stage_id"))
                opportunity_stages.move(db.session, opportunity_id, stage_id, note=note, **common)
                outcome.done(gettext("已移到「%(s)s」", s=db.session.get(Stage, stage_id).name))
            elif do == "win":
                opportunity_stages.win(db.session, opportunity_id, note=note, **common)
                outcome.done(gettext("已标记赢单"))
            elif do == "lose":
                opportunity_stages.lose(db.session, opportunity_id, reason_id=params.id_or_none(form.get("reason_id")),
                                        note=note, **common)
                outcome.done(gettext("已标记输单"))
            else:
                abort(400)
        if outcome.ok:
            return back
        return self.detail(opportunity_id, typed={"do": do, "note": note or "", "stage_id": form.get("stage_id", ""),
                                                  "reason_id": form.get("reason_id", "")})


def views() -> list[BaseView]:
    return [OpportunitiesView(_l("商机"), endpoint="m_opportunities")]
