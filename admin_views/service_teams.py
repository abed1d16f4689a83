"""服务组 (客户服务, service.manage): teams of agents with a leader (who hears of breaches) and how
new tickets are handed out (rules/ticket_assignment.py); each member's 暂停接单 flag, set by the
administrator here or by the member on 我的接单状态."""
from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for
from flask_admin import expose
from flask_admin.form.widgets import Select2Widget
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, SelectMultipleField

from admin_views import params
from admin_views.base import PermissionView, SecureModelView
from admin_views.context import current_actor
from admin_views.formatters import choice_label
from admin_views.forms import CsrfForm
from admin_views.menu import SERVICE, fa
from admin_views.navigation import back_url
from admin_views.transaction import transaction
from models import ServiceTeam, ServiceTeamMember, User, db
from rules import ticket_assignment

AWAY_TEXT = _l("暂停接单")


def _members_html(view: Any, context: Any, model: ServiceTeam, name: str) -> Markup:
    parts = []
    for m in model.members:
        label = escape(m.user.display_name)
        if m.away:
            label += Markup(' <span class="badge badge-secondary">{}</span>').format(AWAY_TEXT)
        if not m.user.active:
            label += Markup(' <span class="badge badge-light">{}</span>').format(_l("离职"))
        parts.append(label)
    return Markup("、").join(parts) if parts else Markup('<span class="text-muted">{}</span>').format(_l("（无成员）"))


def _active_users():
    return db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name))


class ServiceTeamView(SecureModelView):
    """服务组: members, leader, assignment mode; the away flags on the list."""

    permission_view = permission_create = permission_edit = permission_delete = "service.manage"
    list_template = "admin/service/team_list.html"
    column_list = ["name", "leader", "assign_mode", "members", "active"]
    column_labels = {"name": _l("服务组名称"), "leader": _l("组长"), "assign_mode": _l("分派方式"),
                     "members": _l("成员"), "active": _l("启用")}
    column_formatters = {"assign_mode": choice_label(ticket_assignment.MODE_LABELS), "members": _members_html,
                         "leader": lambda v, c, m, n: m.leader.display_name if m.leader else ""}
    form_columns = ["name", "leader", "assign_mode", "member_ids", "active"]
    form_overrides = {"assign_mode": SelectField}
    form_args = {
        "name": {"label": _l("服务组名称")},
        "leader": {"label": _l("组长"), "query_factory": _active_users, "allow_blank": True, "blank_text": "—",
                   "description": _l("工单超时后升级通知组长")},
        "assign_mode": {"label": _l("分派方式"), "choices": list(ticket_assignment.MODE_LABELS.items()),
                        "description": _l("轮流分派和按未结工单最少分派都会跳过暂停接单和已离职的成员")},
        "active": {"label": _l("启用"), "default": True},
    }
    form_extra_fields = {"member_ids": SelectMultipleField(_l("成员"), choices=[], validate_choice=False,
                                                           widget=Select2Widget(multiple=True),
                                                           description=_l("可输入姓名查找；可多选"))}

    def get_query(self) -> Any:
        return super().get_query().options(selectinload(ServiceTeam.members).joinedload(ServiceTeamMember.user))

    def _with_members(self, form: Any, obj: ServiceTeam | None) -> Any:
        form.member_ids.choices = [(str(u.id), u.display_name) for u in _active_users()]
        if obj is not None and request.method == "GET":
            form.member_ids.data = [str(m.user_id) for m in obj.members]
        return form

    def create_form(self, obj: Any = None) -> Any:
        return self._with_members(super().create_form(obj), None)

    def edit_form(self, obj: Any = None) -> Any:
        return self._with_members(super().edit_form(obj), obj)

    def apply_rules(self, form: Any, model: ServiceTeam, is_created: bool) -> None:
        ids = [int(u) for u in form.member_ids.data or [] if str(u).isdigit()]
        ticket_assignment.set_members(db.session, model, ids)

    def check_delete(self, model: ServiceTeam) -> None:
        ticket_assignment.check_delete(db.session, model)

    @expose("/away/", methods=("POST",))
    def away(self) -> Any:
        """暂停接单 / 恢复接单 for a member, from the list."""
        if not CsrfForm(request.form).validate():
            abort(400)
        _set_away()
        return redirect(back_url(request.form.get("next"), url_for(".index_view")))


def _set_away() -> None:
    team_id = params.int_id(request.form.get("team_id"))
    user_id = params.int_id(request.form.get("user_id"))
    away = request.form.get("away") == "1"
    done = gettext("已暂停接单") if away else gettext("已恢复接单")
    with transaction(done):
        ticket_assignment.set_away(db.session, team_id=team_id, user_id=user_id, away=away, actor=current_actor())


class MyServiceStatusView(PermissionView):
    """我的接单状态: a member pauses taking new tickets (leave, training) and resumes."""

    permission = ("service.view", "service.handle")

    @expose("/", methods=("GET", "POST"))
    def index(self) -> Any:
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            if params.int_id(request.form.get("user_id")) != current_actor().user_id:
                abort(404)
            _set_away()
            return redirect(url_for(".index"))
        mine = ticket_assignment.memberships(db.session, current_actor().user_id)
        return self.render("admin/service/my_status.html", memberships=mine,
                           mode_labels=ticket_assignment.MODE_LABELS)


def views() -> list[Any]:
    return [ServiceTeamView(ServiceTeam, name=_l("服务组"), category=SERVICE, endpoint="service_team",
                            url="/admin/service_team", **fa("fa-users")),
            MyServiceStatusView(name=_l("我的接单状态"), category=SERVICE, endpoint="my_service_status",
                                url="/admin/my_service_status", **fa("fa-toggle-on"))]
