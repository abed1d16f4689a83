"""客户池设置: pools of customers and of leads (线索池: the same rules, Pool.kind chosen when the
pool is made), their members, claim and recycle rules (with per-role and per-value-level
numbers), and a preview of tonight's recycling."""
from __future__ import annotations

from typing import Any

from flask import flash, g, request
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectField, SelectMultipleField, StringField

from admin_views import params
from admin_views.base import SecureModelView
from admin_views.context import now
from admin_views.menu import SETTINGS, fa
from admin_views.formatters import choice_label
from models import Customer, Department, Lead, Pool, PoolMember, Role, User, db
from models.pool import PoolKind
from rules import dictionaries, recycle
from rules import pool as pool_rules
from rules.pool_subject import CUSTOMERS, LEADS, SUBJECTS, PoolSubject

KIND_LABELS = {PoolKind.CUSTOMER.value: _l("客户池"), PoolKind.LEAD.value: _l("线索池")}
HIDEABLE = {"phone": _l("电话"), "mobile": _l("手机"), "email": _l("邮箱"), "qq": _l("QQ"), "wechat": _l("微信"),
            "address": _l("地址")}


class _TableWidget:
    """Renders a small table of number inputs (per role, per value level) inside the form."""

    def __init__(self, build) -> None:
        self.build = build

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        # Markup is safe here: the builders below escape() every name and value they interpolate.
        return Markup(self.build(field))


def _role_limits_table(field: Any) -> str:
    limits = field.object_data or {}
    rows = []
    # Translated outside the f-strings: Babel's extractor does not look inside them.
    same = escape(gettext("同上"))
    for role in db.session.scalars(select(Role).order_by(Role.id)):
        own = limits.get(str(role.id), {})
        cells = "".join(
            f"<td><input class='form-control form-control-sm' type='number' min='0' name='role_{role.id}_{key}' "
            f"value='{escape(own.get(key, ''))}' placeholder='{same}'></td>"
            for key in ("max_owned", "max_claims_per_day"))
        rows.append(f"<tr><th class='font-weight-normal'>{escape(role.name)}</th>{cells}</tr>")
    head = "<tr><th>{}</th><th>{}</th><th>{}</th></tr>".format(
        escape(gettext("角色")), escape(gettext("拥有上限")), escape(gettext("每日领用上限")))
    return f"<table class='table table-sm mb-0' style='max-width:560px'><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _level_days_table(field: Any) -> str:
    days = field.object_data or {}
    rows = []
    same = escape(gettext("同上"))
    for level in dictionaries.items(db.session, "value_level"):
        own = days.get(str(level.id), {})
        cells = "".join(
            f"<td><input class='form-control form-control-sm' type='number' min='1' name='level_{level.id}_{key}' "
            f"value='{escape(own.get(key, ''))}' placeholder='{same}'></td>"
            for key in recycle.RULE_FIELDS.values())
        rows.append(f"<tr><th class='font-weight-normal'>{escape(level.name)}</th>{cells}</tr>")
    head = "<tr><th>{}</th>{}</tr>".format(escape(gettext("价值等级")), "".join(
        f"<th>{escape(str(label))}</th>" for label in recycle.RULE_LABELS.values()))
    return f"<table class='table table-sm mb-0' style='max-width:720px'><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _numbers(prefix: str, ids: list[int], keys: list[str]) -> dict[str, dict[str, int]]:
    """{id: {key: n}} from inputs named <prefix>_<id>_<key>; blanks mean "as the pool"."""
    out: dict[str, dict[str, int]] = {}
    for ident in ids:
        values = {k: n for k in keys if (n := params.setting_number(request.form.get(f"{prefix}_{ident}_{k}"))) is not None}
        if values:
            out[str(ident)] = values
    return out


class PoolSettingsView(SecureModelView):
    """客户池设置: pools, members, claim and recycle rules, with a preview of tonight's run."""

    permission_view = permission_create = permission_edit = "settings.manage"
    list_template = "admin/pool/settings_list.html"
    create_template = "admin/pool/settings_create.html"
    edit_template = "admin/pool/settings_edit.html"
    column_list = ["name", "kind", "is_default", "members", "max_owned", "max_claims_per_day", "cooldown_days", "recycle_enabled",
                   "no_contact_days", "idle_days", "no_deal_days"]
    column_labels = {"name": _l("客户池名称"), "kind": _l("类型"), "is_default": _l("默认客户池"), "max_owned": _l("拥有上限"),
                     "deals_count_as_owned": _l("成交客户计入上限"), "max_claims_per_day": _l("每日领用上限"),
                     "cooldown_days": _l("再次领用间隔（天）"), "recycle_enabled": _l("开启自动回收"),
                     "no_contact_days": _l("领用后未联系收回（天）"), "idle_days": _l("间隔未联系收回（天）"),
                     "no_deal_days": _l("未成交收回（天）"), "exempt_deals": _l("成交客户不回收"),
                     "warn_days": _l("提前提醒（天）"), "hidden_fields": _l("领用前隐藏的字段"),
                     "member_users": _l("成员（员工）"), "member_departments": _l("成员（部门）"),
                     "members": _l("成员")}
    column_formatters = {"members": lambda v, c, m, n: _members_text(m), "kind": choice_label(KIND_LABELS)}
    form_columns = ["name", "kind", "is_default", "member_departments", "member_users", "hidden_fields", "max_owned",
                    "deals_count_as_owned", "max_claims_per_day", "cooldown_days", "role_limits", "recycle_enabled",
                    "no_contact_days", "idle_days", "no_deal_days", "level_days", "exempt_deals", "warn_days"]
    form_overrides = {"kind": SelectField, "hidden_fields": SelectMultipleField, "role_limits": StringField, "level_days": StringField}
    form_args = {"kind": {"choices": list(KIND_LABELS.items()), "default": PoolKind.CUSTOMER.value,
                          "validate_choice": False, "label": _l("类型"),
                          "description": _l("线索池按同样的规则领用和回收线索（不适用价值等级和成交相关的设置）。创建后不能更改。")},
                 "hidden_fields": {"choices": list(HIDEABLE.items()), "validate_choice": False,
                                   "label": _l("领用前隐藏的字段")},
                 "max_owned": {"description": _l("0 表示不限")}, "max_claims_per_day": {"description": _l("0 表示不限")},
                 "no_contact_days": {"description": _l("留空表示不启用此规则")},
                 "role_limits": {"label": _l("按角色的领用限额（留空同上）"), "widget": _TableWidget(_role_limits_table)},
                 "level_days": {"label": _l("按价值等级的回收天数（留空同上）"), "widget": _TableWidget(_level_days_table)}}
    form_extra_fields = {
        "member_users": SelectMultipleField(_l("成员（员工）"), choices=[], validate_choice=False),
        "member_departments": SelectMultipleField(
            _l("成员（部门）"), choices=[], validate_choice=False,
            description=_l("部门含其下级部门。员工可同时属于多个客户池；被任何客户池列为成员的员工不再从默认客户池领用，除非默认客户池也列出他们。")),
    }

    def _with_choices(self, form: Any, obj: Pool | None) -> Any:
        form.member_users.choices = [(str(u.id), u.display_name) for u in db.session.scalars(
            select(User).where(User.active.is_(True)).order_by(User.display_name))]
        form.member_departments.choices = [(str(d.id), d.name) for d in db.session.scalars(
            select(Department).order_by(Department.path))]
        if obj is not None and request.method == "GET":
            form.member_users.data = [str(m.user_id) for m in obj.members if m.user_id]
            form.member_departments.data = [str(m.department_id) for m in obj.members if m.department_id]
        return form

    def create_form(self, obj: Any = None) -> Any:
        return self._with_choices(super().create_form(obj), None)

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        # What a pool holds is chosen once: its customers or leads would be stranded by a change.
        del form.kind
        return self._with_choices(form, obj)

    def apply_rules(self, form: Any, model: Pool, is_created: bool) -> None:
        roles = list(db.session.scalars(select(Role.id)))
        levels = [item.id for item in dictionaries.items(db.session, "value_level")]
        model.role_limits = _numbers("role", roles, ["max_owned", "max_claims_per_day"])
        model.level_days = _numbers("level", levels, list(recycle.RULE_FIELDS.values()))
        model.hidden_fields = [f for f in (form.hidden_fields.data or []) if f in HIDEABLE]
        if is_created and model.kind not in KIND_LABELS:
            model.kind = PoolKind.CUSTOMER.value
        subject = SUBJECTS[PoolKind(model.kind)]
        users = _active_user_ids()
        before = pool_rules.memberships(db.session, users, subject)
        model.members = [PoolMember(user_id=int(u)) for u in form.member_users.data or [] if u.isdigit()] + [
            PoolMember(department_id=int(d)) for d in form.member_departments.data or [] if d.isdigit()]
        if model.is_default:  # one default pool of each kind
            db.session.execute(Pool.__table__.update().where(Pool.id != (model.id or -1), Pool.kind == model.kind)
                               .values(is_default=False))
        db.session.flush()
        g.kechi_pool_moves = (subject, pool_rules.moves(before, pool_rules.memberships(db.session, users, subject)))

    def after_model_change(self, form: Any, model: Pool, is_created: bool) -> None:
        """Saved: say who no longer draws from which pool (a department pool takes its people
        out of the default pool), so nobody's 公共客户 empties without the administrator knowing."""
        subject, moves = g.pop("kechi_pool_moves", (CUSTOMERS, []))
        for text in _move_messages(moves, subject):
            flash(text, "warning")

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.list_template:
            kwargs["draws"] = _draws()
        return super().render(template, **kwargs)

    @expose("/preview/")
    def preview_view(self) -> Any:
        moved = recycle.preview(db.session, now=now())
        due = list(db.session.scalars(select(Customer).where(recycle.due_clause(db.session, now()))
                                      .options(joinedload(Customer.owner)).order_by(Customer.claimed_at).limit(50)))
        leads = recycle.preview(db.session, now=now(), subject=LEADS)
        due_leads = list(db.session.scalars(select(Lead).where(recycle.due_clause(db.session, now(), LEADS))
                                            .options(joinedload(Lead.owner)).order_by(Lead.claimed_at).limit(50)))
        return self.render("admin/pool/preview.html", moved=moved, due=due, labels=recycle.RULE_LABELS,
                           total=sum(moved.values()), due_leads=due_leads, lead_total=sum(leads.values()))


def _active_user_ids() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.active.is_(True))))


def _pool_names(ids: Any) -> str:
    return "、".join(f"“{name}”" for name in pool_rules.names(db.session, ids))


def _move_messages(moves: list[pool_rules.MembershipMove], subject: PoolSubject = CUSTOMERS) -> list[str]:
    """One sentence per change shared by several people: who, from which pools, to which, and
    where their customers now go back (whose recycle rules then apply)."""
    grouped: dict[tuple, list[int]] = {}
    for move in moves:
        grouped.setdefault((move.left, move.now, move.rehomed), []).append(move.user_id)
    users = dict(db.session.execute(select(User.id, User.display_name)).all())
    messages = []
    for (left, now, rehomed), ids in grouped.items():
        who, left_names, now_names, home = ("、".join(users[u] for u in ids), _pool_names(left), _pool_names(now),
                                            _pool_names(now[:1]))
        if subject is LEADS:
            text = gettext("%(who)s 将不再从%(left)s领用线索，今后从%(now)s领用；如需同时领用，请把他们也加为%(left)s的成员",
                           who=who, left=left_names, now=now_names)
            if rehomed:
                text += gettext("。他们放弃或被回收的线索今后进入%(home)s，按该池的回收规则计算", home=home)
        else:
            text = gettext("%(who)s 将不再从%(left)s领用客户，今后从%(now)s领用；如需同时领用，请把他们也加为%(left)s的成员",
                           who=who, left=left_names, now=now_names)
            if rehomed:
                text += gettext("。他们放弃或被回收的客户今后进入%(home)s，按该池的回收规则计算", home=home)
        messages.append(text)
    return messages


def _members_text(pool: Pool) -> str:
    named = [m.department.name for m in pool.members if m.department] + [
        m.user.display_name for m in pool.members if m.user]
    if pool.is_default:
        named.append(gettext("未加入其他线索池的员工") if pool.kind == PoolKind.LEAD else gettext("未加入其他客户池的员工"))
    return "、".join(named)


def _draws() -> list[tuple[User, str, str, str, str]]:
    """每位员工从哪些客户池和线索池领用, and where their released or recycled records go."""
    users = list(db.session.scalars(select(User).where(User.active.is_(True))
                                    .options(joinedload(User.department)).order_by(User.display_name)))
    pools = pool_rules.memberships(db.session, [u.id for u in users])
    leads = pool_rules.memberships(db.session, [u.id for u in users], LEADS)
    return [(user, _pool_names(pools[user.id]), _pool_names(pools[user.id][:1]), _pool_names(leads[user.id]),
             _pool_names(leads[user.id][:1])) for user in users]


def views() -> list[Any]:
    return [PoolSettingsView(Pool, name=_l("客户池设置"), category=SETTINGS, endpoint="pool_settings", **fa("fa-cogs"))]
