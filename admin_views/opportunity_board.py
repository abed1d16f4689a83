"""销售机会看板 (the board), 停滞的销售机会, and the pages of the opportunity list's batch actions
(指派, 变更阶段, 标记输单) that admin_views/opportunity_actions.py leads to. Every move goes through
rules/opportunity_stages.py; a drag on the board is a CSRF-checked POST answered in JSON."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, get_flashed_messages, jsonify, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.routing import BuildError

from admin_views import params
from admin_views.base import PermissionView
from admin_views.context import current_actor, now
from admin_views.formatters import fmt_money
from admin_views.forms import CsrfForm
from admin_views.menu import SALES, fa
from admin_views.navigation import back_url
from admin_views.transaction import transaction
from models import db
from models.dictionary import DictItem, DictKind
from models.opportunity import Opportunity, Stage, StageGroup
from models.org import Department
from rules import opportunity_batch, opportunity_board, opportunity_stages, scope
from rules.errors import OutOfScope


def link(endpoint: str, **values: Any) -> str | None:
    """A link to a page another module offers (the opportunity page, the lead list), or None
    while that page does not exist."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def opportunity_link(opportunity_id: int) -> str | None:
    return link("opportunity.details_view", id=opportunity_id)


def parse_month(value: Any) -> date | None:
    """预计成交月份 as typed in <input type=month>: 2026-11."""
    text = params.clean_text(value)
    if not text:
        return None
    try:
        year, month = (int(p) for p in text.split("-")[:2])
        return params.check_year(date(year, month, 1), name=gettext("预计成交月份"))
    except ValueError:
        raise params.BadParameter(gettext("预计成交月份“%(v)s”无法识别，请按 2026-11 的格式填写", v=text)) from None


def loss_reasons() -> list[DictItem]:
    return list(db.session.scalars(select(DictItem).where(DictItem.kind == DictKind.LOSS_REASON,
                                                          DictItem.active.is_(True))
                                   .order_by(DictItem.sort_order, DictItem.id)))


class OpportunityBoardView(PermissionView):
    permission = "opportunity.view"

    def _filters(self, source: Any) -> tuple[opportunity_board.BoardFilters, list[StageGroup], StageGroup | None]:
        choices = opportunity_board.groups(db.session)
        group_id = params.id_or_none(source.get("group"))
        group = next((g for g in choices if g.id == group_id), None) \
            or opportunity_board.default_group(db.session, current_actor(), choices)
        owner = source.get("owner")
        owner_id = current_actor().user_id if owner == "me" else params.id_or_none(owner)
        filters = opportunity_board.BoardFilters(
            group_id=group.id if group else None, owner_id=owner_id,
            department_id=params.id_or_none(source.get("department")),
            close_month=parse_month(source.get("month")))
        return filters, choices, group

    def _columns_json(self, group: StageGroup, filters: opportunity_board.BoardFilters) -> list[dict[str, Any]]:
        sums = opportunity_board.column_sums(db.session, current_actor(), [s.id for s in group.stages if s.active],
                                             filters)
        out = []
        for stage in group.stages:
            if not stage.active:
                continue
            count, amount = sums.get(stage.id, (0, 0))
            out.append({"stage": stage.id, "count": count, "amount": fmt_money(amount),
                        "weighted": fmt_money(opportunity_board.weighted(amount, stage.probability))})
        return out

    @expose("/")
    def index(self) -> Any:
        actor = current_actor()
        filters, choices, group = self._filters(request.args)
        columns = opportunity_board.board(db.session, actor, group, filters) if group else []
        departments = list(db.session.scalars(select(Department).order_by(Department.path)))
        return self.render(
            "admin/opportunity_board/board.html", group=group, groups=choices, columns=columns, filters=filters,
            owners=opportunity_board.owners_to_filter(db.session, actor), departments=departments,
            month=request.args.get("month", ""), cutoff=opportunity_board.stale_cutoff(db.session, now()),
            reasons=loss_reasons(), cap=opportunity_board.CARDS_PER_COLUMN, opportunity_link=opportunity_link,
            weighted=opportunity_board.weighted,
            can_edit=opportunity_stages.allows(actor, opportunity_stages.OpportunityAction.STAGE),
            query=request.query_string.decode())

    @expose("/move", methods=["POST"])
    def move(self) -> Any:
        """A card dropped on a column (target "stage:<id>") or on 赢单 / 输单: the rule's answer
        in JSON, with the columns' new sums under the same filters."""
        if not CsrfForm(request.form).validate():
            return jsonify(ok=False, message=gettext("页面已过期，请刷新后重试")), 400
        actor = current_actor()
        form = request.form
        opportunity_id = params.int_id(form.get("id"))
        version = params.id_or_none(form.get("version"))
        target = params.clean_text(form.get("target"))
        note = params.clean_text(form.get("note")) or None
        try:
            scope.get_in_scope(db.session, Opportunity, opportunity_id, actor)
        except OutOfScope:
            abort(404)
        with transaction() as outcome:
            if target.startswith("stage:"):
                stage_id = params.id_or_none(target.split(":", 1)[1])
                opportunity_stages.move(db.session, opportunity_id, stage_id, actor=actor, now=now(), note=note,
                                        expected_version=version)
                stage = db.session.get(Stage, stage_id)
                outcome.done(gettext("已移到「%(s)s」", s=stage.name))
            elif target == "won":
                opportunity_stages.win(db.session, opportunity_id, actor=actor, now=now(), note=note,
                                       expected_version=version)
                outcome.done(gettext("已标记赢单"))
            elif target == "lost":
                opportunity_stages.lose(db.session, opportunity_id, reason_id=form.get("reason"), actor=actor,
                                        now=now(), note=note, expected_version=version)
                outcome.done(gettext("已标记输单"))
            else:
                abort(400)
        # transaction() flashed its message for a page; this answer carries it instead.
        messages = [str(m) for _, m in get_flashed_messages(with_categories=True)]
        filters, _, group = self._filters(request.args)
        opportunity = db.session.get(Opportunity, opportunity_id)
        return jsonify(ok=outcome.ok, message="；".join(messages), version=opportunity.version,
                       columns=self._columns_json(group, filters) if group else [])

    @expose("/stale/")
    def stale(self) -> Any:
        actor = current_actor()
        mine = request.args.get("owner") == "me"
        count, rows = opportunity_board.stale_list(db.session, actor, now(),
                                                   owner_id=actor.user_id if mine else None)
        return self.render("admin/opportunity_board/stale.html", rows=rows, count=count, mine=mine,
                           days=opportunity_board.stale_days(db.session), opportunity_link=opportunity_link,
                           can_set_days=actor.can("settings.manage"))

    @expose("/stale/days", methods=["POST"])
    def stale_days(self) -> Any:
        """停滞天数, for the administrator (settings.manage)."""
        self.require("settings.manage")
        if not CsrfForm(request.form).validate():
            abort(400)
        with transaction() as outcome:
            days = opportunity_board.set_stale_days(db.session, request.form.get("days"))
            outcome.done(gettext("已保存：超过 %(d)d 天没有跟进的销售机会算作停滞", d=days))
        return redirect(url_for(".stale"))

    # --- the list's batch actions that need a choice first ----------------------------------------
    BATCH_KINDS = {"assign": "opportunity.assign", "stage": "opportunity.edit", "lose": "opportunity.edit"}

    @expose("/batch/<kind>/", methods=["GET", "POST"])
    def batch(self, kind: str) -> Any:
        actor = current_actor()
        if kind not in self.BATCH_KINDS:
            abort(404)
        if not actor.can(self.BATCH_KINDS[kind]):
            abort(403)
        wanted = params.ids_list(request.values.get("ids"))
        visible = scope.ids_in_scope(db.session, Opportunity, wanted, actor)
        if not wanted or len(visible) != len(wanted):
            abort(404)  # a forged or foreign id refuses the whole batch, as the list's actions do
        back = back_url(request.values.get("back"), link("opportunity.index_view") or url_for(".index"))
        records = list(db.session.scalars(select(Opportunity).where(Opportunity.id.in_(wanted))
                                          .order_by(Opportunity.id)))
        stages = list(db.session.scalars(
            select(Stage).join(StageGroup).where(Stage.group_id.in_({r.group_id for r in records}),
                                                 Stage.active.is_(True))
            .order_by(StageGroup.sort_order, StageGroup.id, Stage.sort_order)))
        colleagues = opportunity_board.owners_to_filter(db.session, actor)
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            form, at = request.form, now()
            with transaction() as outcome:
                if kind == "assign":
                    result = opportunity_batch.assign_many(db.session, wanted, to_user_id=form.get("to_user"),
                                                           actor=actor, now=at)
                elif kind == "stage":
                    result = opportunity_batch.move_many(db.session, wanted, to_stage_id=form.get("stage"),
                                                         actor=actor, now=at, note=form.get("note"))
                else:
                    result = opportunity_batch.lose_many(db.session, wanted, reason_id=form.get("reason"),
                                                         actor=actor, now=at, note=form.get("note"))
                outcome.done(result.summary(), "success" if not result.skipped else "warning")
            if outcome.ok:
                return redirect(back)
        return self.render("admin/opportunity_board/batch.html", kind=kind, records=records, stages=stages,
                           colleagues=colleagues, reasons=loss_reasons(), ids=",".join(map(str, wanted)),
                           back=back, form=request.form)


def views() -> list[BaseView]:
    return [OpportunityBoardView(name=_l("销售机会看板"), category=SALES, endpoint="opportunity_board",
                                 url="/admin/opportunity-board", **fa("fa-columns")),
            ]
