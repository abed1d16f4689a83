"""Departments, roles, staff and online users (the internal address book is admin_views/address_books.py)."""
from __future__ import annotations

from typing import Any

from flask import current_app, g
from flask_admin.actions import action
from flask_babel import lazy_gettext as _l
from flask_babel import gettext
from sqlalchemy import func, select
from wtforms import PasswordField, SelectField, TextAreaField
from wtforms.validators import Optional

from admin_views import params
from admin_views.base import SecureModelView
from admin_views.context import current_actor, now
from admin_views.formatters import choice_label, indented
from admin_views.forms import PermissionsField
from admin_views.menu import SETTINGS, fa
from admin_views.transaction import transaction
from models import DataScope, Department, Role, User, db
from rules import auth as auth_rules
from rules import org
from rules.errors import InvalidValue, RuleViolation

DATA_SCOPE_LABELS = {
    DataScope.SELF.value: _l("本人"),
    DataScope.SELF_AND_SUBORDINATES.value: _l("本人及下属"),
    DataScope.DEPARTMENT.value: _l("本部门"),
    DataScope.DEPARTMENT_TREE.value: _l("本部门及下属部门"),
    DataScope.ALL.value: _l("全部"),
}
LOCALE_LABELS = {"zh_CN": "简体中文", "en": "English"}


def _departments_by_path() -> Any:
    return db.session.scalars(select(Department).order_by(Department.path))


def _member_counts() -> dict[int, int]:
    """Active staff per department, one GROUP BY per request rather than a query per row."""
    if "member_counts" not in g:
        rows = db.session.execute(select(User.department_id, func.count(User.id))
                                  .where(User.active.is_(True)).group_by(User.department_id))
        g.member_counts = {dept_id: count for dept_id, count in rows}
    return g.member_counts


def apply_to_users(ids: list[str], change: Any, message: str) -> None:
    """Run one rule over the selected staff; all or nothing, with the reason if refused."""
    wanted = params.ids_list(ids)
    users = list(db.session.scalars(select(User).where(User.id.in_(wanted))))
    with transaction(message(len(users))):
        for user in users:
            change(user)


class OrgAdminView(SecureModelView):
    permission_view = permission_create = permission_edit = permission_delete = "org.manage"


def _active_users() -> Any:
    return db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name))


class DepartmentView(OrgAdminView):
    column_list = ["name", "parent", "manager", "member_count"]
    column_labels = {"name": _l("部门名称"), "parent": _l("上级部门"), "member_count": _l("人数"), "manager": _l("部门负责人"),
                     "sort_order": _l("排序"), "path": _l("路径")}
    column_default_sort = "path"
    column_sortable_list = []
    column_searchable_list = ["name"]
    form_columns = ["name", "parent", "manager", "sort_order"]
    form_args = {"parent": {"query_factory": _departments_by_path, "get_label": indented},
                 "manager": {"label": _l("部门负责人"), "query_factory": _active_users,
                             "description": _l("审批流程中“部门负责人”一步由此人审批；未设置时由本部门汇报关系最上层的员工审批")}}
    column_formatters = {
        "name": lambda v, c, m, n: indented(m),
        "member_count": lambda v, c, m, n: _member_counts().get(m.id, 0),
    }

    def apply_rules(self, form: Any, model: Department, is_created: bool) -> None:
        org.place_department(db.session, model, model.parent)

    def check_delete(self, model: Department) -> None:
        busy = db.session.scalar(select(func.count(User.id)).where(User.department_id == model.id))
        if model.children or busy:
            raise RuleViolation(_l("部门“%(n)s”下还有员工或下级部门，请先调整后再删除", n=model.name))


class RoleView(OrgAdminView):
    column_list = ["name", "data_scope", "permissions", "description"]
    column_labels = {"name": _l("角色名称"), "data_scope": _l("数据范围"), "permissions": _l("权限"),
                     "description": _l("说明")}
    column_formatters = {
        "data_scope": choice_label(DATA_SCOPE_LABELS),
        "permissions": lambda v, c, m, n: _l("%(n)d 项", n=len(m.permissions or [])),
    }
    form_columns = ["name", "data_scope", "permissions", "allowed_networks", "description"]
    form_overrides = {"data_scope": SelectField, "permissions": PermissionsField, "allowed_networks": TextAreaField}
    form_args = {
        "data_scope": {"choices": [(k, v) for k, v in DATA_SCOPE_LABELS.items()],
                       "label": _l("数据范围")},
        "permissions": {"label": _l("权限")},
        "allowed_networks": {"label": _l("IP限制登录"),
                             "description": _l("每行一个 IP 地址或网段，如 192.168.1.0/24；留空表示不限制。"
                                               "限制对已登录的会话立即生效。")},
    }

    def apply_rules(self, form: Any, model: Role, is_created: bool) -> None:
        # One network per line, as parsed: a typo is refused here, not discovered at login.
        networks = auth_rules.parse_networks(model.allowed_networks)
        model.allowed_networks = "\n".join(str(net) for net in networks) or None

    def check_delete(self, model: Role) -> None:
        if model.users:
            raise RuleViolation(_l("还有员工使用角色“%(n)s”，不能删除", n=model.name))


class UserView(OrgAdminView):
    # Staff are never deleted (logs and customers point at them): 离职停用 instead.
    permission_delete = None
    column_list = ["username", "display_name", "department", "role", "superior", "mobile", "active",
                   "last_login_at"]
    column_labels = {
        "username": _l("用户名"), "display_name": _l("姓名"), "department": _l("部门"),
        "role": _l("角色"), "superior": _l("上级"), "mobile": _l("手机"), "email": _l("邮箱"),
        "active": _l("在职"), "locked_at": _l("锁定"), "last_login_at": _l("最后登录"),
        "locale": _l("界面语言"), "new_password": _l("密码"), "last_seen_at": _l("最后活动"),
        "last_ip": _l("IP 地址"),
    }
    column_searchable_list = ["username", "display_name", "mobile"]
    column_filters = ["active", "department.name", "role.name"]
    column_default_sort = "id"
    column_details_list = ["username", "display_name", "department", "role", "superior", "mobile", "email",
                           "active", "locale", "last_login_at", "last_seen_at", "last_ip"]
    form_columns = ["username", "display_name", "department", "role", "superior", "mobile", "email",
                    "locale", "new_password"]
    form_extra_fields = {"new_password": PasswordField(_l("密码"), validators=[Optional()],
                                                       description=_l("新建时必填；编辑时留空表示不修改"))}
    form_overrides = {"locale": SelectField}
    form_args = {
        "locale": {"choices": list(LOCALE_LABELS.items()), "label": _l("界面语言")},
        "department": {"query_factory": _departments_by_path, "get_label": indented},
        "superior": {"query_factory": lambda: db.session.scalars(
            select(User).where(User.active.is_(True)).order_by(User.display_name))},
    }
    action_permissions = {"disable": "org.manage", "enable": "org.manage", "unlock": "org.manage"}

    def on_form_prefill(self, form: Any, id: Any) -> None:
        form.new_password.data = ""

    def apply_rules(self, form: Any, model: User, is_created: bool) -> None:
        password = form.new_password.data
        if is_created and not password:
            raise InvalidValue(_l("新建员工时请设置密码"))
        if password:
            org.set_password(model, password)
        if is_created:
            db.session.add(model)
            db.session.flush()
        elif form.department.object_data != form.department.data:
            org.move_user_department(db.session, model, form.department.data)
        org.set_superior(db.session, model, model.superior)

    @action("disable", _l("离职停用"), _l("停用后该员工将无法登录，已登录的会话立即失效。确定停用所选员工吗？"))
    def action_disable(self, ids: list[str]) -> None:
        apply_to_users(ids, lambda u: org.disable_user(u, actor=current_actor()), lambda n: gettext("已停用 %(num)d 名员工。", num=n))

    @action("enable", _l("恢复启用"))
    def action_enable(self, ids: list[str]) -> None:
        apply_to_users(ids, org.enable_user, lambda n: gettext("已启用 %(num)d 名员工。", num=n))

    # Failed logins never lock an account (rules/auth.py); this clears their delays and CAPTCHA.
    @action("unlock", _l("解除登录限制"))
    def action_unlock(self, ids: list[str]) -> None:
        apply_to_users(ids, lambda u: org.unlock_user(u, now=now()),
                       lambda n: gettext("已解除 %(num)d 名员工的登录限制。", num=n))


class OnlineUsersView(SecureModelView):
    """Who is using the system now; an administrator can force someone out."""

    permission_view = "session.manage"
    action_permissions = {"force_logout": "session.manage"}
    can_view_details = False
    column_list = ["display_name", "username", "department", "last_login_at", "last_seen_at", "last_ip"]
    column_labels = UserView.column_labels
    column_default_sort = ("last_seen_at", True)

    def _online(self, query: Any) -> Any:
        since = now() - current_app.config["IDLE_TIMEOUT"]
        return query.filter(User.last_seen_at >= since, User.active.is_(True))

    def get_query(self) -> Any:
        return self._online(super().get_query())

    def get_count_query(self) -> Any:
        return self._online(super().get_count_query())

    @action("force_logout", _l("强制下线"), _l("所选员工将被立即退出登录，确定吗？"))
    def action_force_logout(self, ids: list[str]) -> None:
        apply_to_users(ids, lambda u: org.force_logout(u, actor=current_actor()), lambda n: gettext("已强制 %(num)d 名员工下线。", num=n))


def views() -> list[Any]:
    return [
        DepartmentView(Department, name=_l("部门管理"), category=SETTINGS, endpoint="department", **fa("fa-sitemap")),
        RoleView(Role, name=_l("角色权限"), category=SETTINGS, endpoint="role", **fa("fa-key")),
        UserView(User, name=_l("员工管理"), category=SETTINGS, endpoint="user", **fa("fa-user")),
        OnlineUsersView(User, name=_l("在线用户"), category=SETTINGS, endpoint="online_users", **fa("fa-signal")),
    ]
