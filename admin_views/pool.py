"""客户池 in the panel: 公共客户 (the pool list), 领用申请, 流转记录 and 客户池设置.
Every decision is a rules.pool / rules.recycle call."""
from __future__ import annotations

from typing import Any

from flask import abort, g, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import tools
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from wtforms import SelectMultipleField, StringField

from admin_views.base import ScopedModelView, SecureModelView, commit_or_explain
from admin_views.context import current_actor, now
from admin_views.customers import KIND_LABELS, LABELS, OWNERSHIP_REASONS, _local_today, _region
from admin_views.filters import IdEqual, LazyOptions, LocalDateBetween, OneOf
from admin_views.formatters import choice_label
from admin_views.forms import CsrfForm
from admin_views.links import drill
from models import (
    ClaimRequest, Customer, Department, OwnershipEvent, Pool, PoolMember, PoolReason, RequestStatus, Role, User, db,
)
from rules import pool as pool_rules
from rules import dictionaries, i18n, recycle, scope
from rules.errors import OutOfScope
from rules.links import DrillFilter as F

POOL_REASONS = {PoolReason.RELEASED: _l("放弃"), PoolReason.RECYCLED: _l("回收"), PoolReason.RECALLED: _l("收回"),
                PoolReason.IMPORTED: _l("导入"), PoolReason.NEW: _l("新建")}
REQUEST_STATUS = {RequestStatus.PENDING.value: _l("待批示"), RequestStatus.APPROVED.value: _l("已批准"),
                  RequestStatus.REJECTED.value: _l("未批准")}
HIDEABLE = {"phone": _l("电话"), "mobile": _l("手机"), "email": _l("邮箱"), "qq": _l("QQ"), "wechat": _l("微信"),
            "address": _l("地址")}


def _role_id() -> int:
    return current_user.role_id


_run = commit_or_explain  # the pool actions share the panel's commit-or-explain step


class PoolView(ScopedModelView):
    """公共客户: unowned customers of the pools the user belongs to."""

    permission_view = "pool.view"
    action_permissions = {"claim": "pool.claim", "request": "pool.claim", "assign": "pool.assign"}
    list_template = "admin/pool/list.html"
    can_view_details = False
    capped_count = True
    column_list = ["code", "name", "kind", "region", "phone", "mobile", "pool_reason", "pool_entered_at"]
    column_labels = {**LABELS, "pool_reason": _l("入池原因"), "pool_entered_at": _l("入池时间")}
    column_default_sort = [("pool_entered_at", True), ("id", True)]
    column_sortable_list = ["code", "name", "pool_entered_at"]
    column_searchable_list = ["name", "code"]
    column_filters = [LocalDateBetween(Customer.pool_entered_at, _l("入池时间"))]

    def is_accessible(self) -> bool:
        return super().is_accessible() and pool_rules.enabled(db.session)

    def _hidden(self) -> set[str]:
        # Flask-Admin reads column_formatters once per cell: work it out once per request.
        if "kechi_pool_hidden" in g:
            return g.kechi_pool_hidden
        pools = pool_rules.pools_of(db.session, current_actor().user_id)
        hidden: set[str] = set()
        for pool in db.session.scalars(select(Pool).where(Pool.id.in_(pools))):
            hidden |= set(pool.hidden_fields or [])
        g.kechi_pool_hidden = hidden
        return hidden

    @property
    def column_formatters(self) -> dict:  # type: ignore[override]
        # Read per request (Flask-Admin also reads it once at start-up, outside any request).
        hidden = self._hidden() if has_request_context() and current_user.is_authenticated else set()
        masked = {f: (lambda v, c, m, n: gettext("领用后可见")) for f in hidden}
        return {"pool_reason": choice_label(POOL_REASONS), "region": _region, "kind": choice_label(KIND_LABELS),
                **masked}

    def get_query(self) -> Any:
        return db.session.query(Customer).filter(pool_rules.pool_clause(db.session, current_actor(), now=now()))

    def get_count_query(self) -> Any:
        from admin_views.base import CappedCountQuery

        query = CappedCountQuery([func.count(Customer.id)], session=db.session).select_from(Customer)
        return query.filter(pool_rules.pool_clause(db.session, current_actor(), now=now()))

    def write_clause(self) -> Any:
        return pool_rules.pool_clause(db.session, current_actor(), now=now())

    def get_one(self, id: Any) -> Any:
        try:
            return scope.get_in_scope(db.session, Customer, id, current_actor(), self.write_clause())
        except OutOfScope:
            abort(404)

    def _claim_ids(self, ids: list[str]) -> list[int]:
        return [int(i) for i in ids if str(i).isdigit()]

    @action("claim", _l("领用"))
    def action_claim(self, ids: list[str]) -> None:
        actor = current_actor()

        def claim_all() -> int:
            for customer_id in self._claim_ids(ids):
                pool_rules.claim(db.session, customer_id, actor=actor, role_id=_role_id(), now=now(),
                                 today=_local_today())
            return len(ids)

        _run(claim_all, lambda n: gettext("已领用 %(n)d 位客户，可在“客户列表”中查看", n=n))

    @action("request", _l("申请领用"))
    def action_request(self, ids: list[str]) -> None:
        actor = current_actor()
        _run(lambda: [pool_rules.request_claim(db.session, cid, actor=actor, reason=None, now=now())
                      for cid in self._claim_ids(ids)],
             lambda made: gettext("已提交 %(n)d 条领用申请，等待主管批示", n=len(made)))

    @action("assign", _l("指派给同事"))
    def action_assign(self, ids: list[str]) -> Any:
        return redirect(url_for("customer.assign_view", ids=",".join(ids), back=url_for(".index_view")))

    @expose("/random/", methods=["POST"])
    def claim_random(self) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        actor = current_actor()
        try:
            count = int(request.form.get("count", "0"))
        except ValueError:
            count = 0
        _run(lambda: pool_rules.claim_random(db.session, count, actor=actor, role_id=_role_id(), now=now(),
                                             today=_local_today()),
             lambda events: gettext("随机领用了 %(n)d 位客户", n=len(events)))
        return redirect(url_for(".index_view"))


class ClaimRequestView(ScopedModelView):
    """领用申请: one's own requests, and for approvers those of their team."""

    permission_view = "pool.view"
    action_permissions = {"approve": "pool.approve", "reject": "pool.approve"}
    column_list = ["created_at", "customer_name", "applicant", "owner", "reason", "status", "decided_by",
                   "decision_note"]
    column_labels = {"created_at": _l("申请时间"), "customer_name": _l("客户"), "applicant": _l("申请人"),
                     "owner": _l("原业务员"), "reason": _l("申请理由"), "status": _l("状态"),
                     "decided_by": _l("批示人"), "decision_note": _l("批示意见")}
    column_formatters = {"status": choice_label(REQUEST_STATUS),
                         "customer_name": lambda v, c, m, n: db.session.get(Customer, m.customer_id).name}
    column_default_sort = ("created_at", True)
    column_filters = [IdEqual(ClaimRequest.status, _l("状态"), options=list(REQUEST_STATUS.items()))]
    list_template = "admin/pool/requests.html"

    def _mine_or_team(self) -> Any:
        actor = current_actor()
        clause = ClaimRequest.applicant_id == actor.user_id
        if actor.can("pool.approve"):
            clause = or_(clause, scope.owner_clause(ClaimRequest.applicant_id, actor))
        return clause

    def get_query(self) -> Any:
        return db.session.query(ClaimRequest).filter(self._mine_or_team()).options(
            joinedload(ClaimRequest.applicant), joinedload(ClaimRequest.owner), joinedload(ClaimRequest.decided_by))

    def get_count_query(self) -> Any:
        return db.session.query(func.count(ClaimRequest.id)).filter(self._mine_or_team())

    def write_clause(self) -> Any:
        return pool_rules.requests_for_approver(current_actor())

    def get_one(self, id: Any) -> Any:
        try:
            return scope.get_in_scope(db.session, ClaimRequest, id, current_actor(), self._mine_or_team())
        except OutOfScope:
            abort(404)

    def _decide(self, ids: list[str], approve: bool) -> None:
        actor = current_actor()
        wanted = [int(i) for i in ids if str(i).isdigit()]
        _run(lambda: [pool_rules.decide(db.session, rid, approve=approve, actor=actor, now=now()) for rid in wanted],
             lambda done: gettext("已批示 %(n)d 条申请", n=len(done)))

    @action("approve", _l("批准"))
    def action_approve(self, ids: list[str]) -> None:
        self._decide(ids, True)

    @action("reject", _l("不批准"), _l("确定不批准所选申请吗？"))
    def action_reject(self, ids: list[str]) -> None:
        self._decide(ids, False)


def _staff_options() -> list[tuple[str, str]]:
    """原业务员 and 新业务员 offer the same people: read once per page view."""
    if "kechi_staff_options" not in g:
        g.kechi_staff_options = [(str(u.id), u.display_name)
                                 for u in db.session.scalars(select(User).order_by(User.display_name))]
    return g.kechi_staff_options


class OwnershipEventView(ScopedModelView):
    """流转记录: every move of the customers in one's scope, searchable."""

    permission_view = "customer.view"
    capped_count = True  # "10000+": the log grows by a row per customer and per move
    column_list = ["at", "customer", "reason", "from_user", "to_user", "actor", "note"]
    column_labels = {"at": _l("时间"), "customer": _l("客户"), "reason": _l("变动"), "from_user": _l("原业务员"),
                     "to_user": _l("新业务员"), "actor": _l("操作人"), "note": _l("说明"),
                     "customer.name": _l("客户名称")}
    column_formatters = {
        "reason": choice_label(OWNERSHIP_REASONS),
        "customer": lambda v, c, m, n: Markup(f"<a href='{escape(url_for('customer.details_view', id=m.customer_id))}'>"
                                              f"{escape(m.customer.name)}</a>"),
        "to_user": lambda v, c, m, n: m.to_user or gettext("客户池"),
        "actor": lambda v, c, m, n: m.actor or gettext("系统"),
        "note": lambda v, c, m, n: ownership_note(m),
    }
    column_default_sort = ("at", True)
    column_searchable_list = ["customer.name", "note"]
    # 变动 takes a reason, or 领用 with approved requests as 客户池报表 counts them; 原/新业务员
    # let the report open one salesperson's moves.
    column_filters = [
        drill(F.HAPPENED_ON, LocalDateBetween(OwnershipEvent.at, _l("时间"))),
        drill(F.REASON_IN, OneOf(OwnershipEvent.reason, _l("变动"), allowed=OWNERSHIP_REASONS,
                                 options=[("claim,approved", _l("领用（含申请获批）")), *OWNERSHIP_REASONS.items()])),
        drill(F.FROM_USER, IdEqual(OwnershipEvent.from_user_id, _l("原业务员"),
                                   options=LazyOptions(_staff_options))),
        drill(F.TO_USER, IdEqual(OwnershipEvent.to_user_id, _l("新业务员"), options=LazyOptions(_staff_options))),
    ]

    def get_query(self) -> Any:
        return super().get_query().options(
            joinedload(OwnershipEvent.customer), joinedload(OwnershipEvent.from_user),
            joinedload(OwnershipEvent.to_user), joinedload(OwnershipEvent.actor))

    def _apply_search(self, query: Any, count_query: Any, joins: dict, count_joins: dict, search: str) -> tuple:
        """说明 shows a recycle's rule as its label, which is not stored: a word of a label (in
        the reader's language or in Chinese) also finds the events of that rule."""
        for term in search.split(" "):
            rules = [rule for rule, label in recycle.RULE_LABELS.items()
                     if term and (term.lower() in str(label).lower() or term in i18n.source_text(label))]
            if not rules:
                query, count_query, joins, count_joins = super()._apply_search(query, count_query, joins,
                                                                               count_joins, term)
                continue
            like = tools.parse_like_term(term)
            found = or_(OwnershipEvent.customer_id.in_(select(Customer.id).where(Customer.name.ilike(like))),
                        OwnershipEvent.note.ilike(like), OwnershipEvent.recycle_rule.in_(rules))
            query = query.filter(found)
            count_query = count_query.filter(found) if count_query is not None else None
        return query, count_query, joins, count_joins


def ownership_note(event: OwnershipEvent) -> str:
    """说明 of a move: the recycle rule's label in the reader's language, or what a person wrote."""
    return str(recycle.RULE_LABELS[event.recycle_rule]) if event.recycle_rule else (event.note or "")


class _TableWidget:
    """Renders a small table of number inputs (per role, per value level) inside the form."""

    def __init__(self, build) -> None:
        self.build = build

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
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
        values = {k: int(v) for k in keys if (v := request.form.get(f"{prefix}_{ident}_{k}", "").strip()).isdigit()}
        if values:
            out[str(ident)] = values
    return out


class PoolSettingsView(SecureModelView):
    """客户池设置: pools, members, claim and recycle rules, with a preview of tonight's run."""

    permission_view = permission_create = permission_edit = "settings.manage"
    list_template = "admin/pool/settings_list.html"
    create_template = "admin/pool/settings_create.html"
    edit_template = "admin/pool/settings_edit.html"
    column_list = ["name", "is_default", "max_owned", "max_claims_per_day", "cooldown_days", "recycle_enabled",
                   "no_contact_days", "idle_days", "no_deal_days"]
    column_labels = {"name": _l("客户池名称"), "is_default": _l("默认客户池"), "max_owned": _l("拥有上限"),
                     "deals_count_as_owned": _l("成交客户计入上限"), "max_claims_per_day": _l("每日领用上限"),
                     "cooldown_days": _l("再次领用间隔（天）"), "recycle_enabled": _l("开启自动回收"),
                     "no_contact_days": _l("领用后未联系收回（天）"), "idle_days": _l("间隔未联系收回（天）"),
                     "no_deal_days": _l("未成交收回（天）"), "exempt_deals": _l("成交客户不回收"),
                     "warn_days": _l("提前提醒（天）"), "hidden_fields": _l("领用前隐藏的字段"),
                     "member_users": _l("成员（员工）"), "member_departments": _l("成员（部门）")}
    form_columns = ["name", "is_default", "member_departments", "member_users", "hidden_fields", "max_owned",
                    "deals_count_as_owned", "max_claims_per_day", "cooldown_days", "role_limits", "recycle_enabled",
                    "no_contact_days", "idle_days", "no_deal_days", "level_days", "exempt_deals", "warn_days"]
    form_overrides = {"hidden_fields": SelectMultipleField, "role_limits": StringField, "level_days": StringField}
    form_args = {"hidden_fields": {"choices": list(HIDEABLE.items()), "validate_choice": False,
                                   "label": _l("领用前隐藏的字段")},
                 "max_owned": {"description": _l("0 表示不限")}, "max_claims_per_day": {"description": _l("0 表示不限")},
                 "no_contact_days": {"description": _l("留空表示不启用此规则")},
                 "role_limits": {"label": _l("按角色的领用限额（留空同上）"), "widget": _TableWidget(_role_limits_table)},
                 "level_days": {"label": _l("按价值等级的回收天数（留空同上）"), "widget": _TableWidget(_level_days_table)}}
    form_extra_fields = {
        "member_users": SelectMultipleField(_l("成员（员工）"), choices=[], validate_choice=False),
        "member_departments": SelectMultipleField(_l("成员（部门）"), choices=[], validate_choice=False),
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
        return self._with_choices(super().edit_form(obj), obj)

    def apply_rules(self, form: Any, model: Pool, is_created: bool) -> None:
        roles = list(db.session.scalars(select(Role.id)))
        levels = [item.id for item in dictionaries.items(db.session, "value_level")]
        model.role_limits = _numbers("role", roles, ["max_owned", "max_claims_per_day"])
        model.level_days = _numbers("level", levels, list(recycle.RULE_FIELDS.values()))
        model.hidden_fields = [f for f in (form.hidden_fields.data or []) if f in HIDEABLE]
        model.members = [PoolMember(user_id=int(u)) for u in form.member_users.data or [] if u.isdigit()] + [
            PoolMember(department_id=int(d)) for d in form.member_departments.data or [] if d.isdigit()]
        if model.is_default:
            db.session.execute(Pool.__table__.update().where(Pool.id != (model.id or -1)).values(is_default=False))

    @expose("/preview/")
    def preview_view(self) -> Any:
        moved = recycle.preview(db.session, now=now())
        due = list(db.session.scalars(select(Customer).where(recycle.due_clause(db.session, now()))
                                      .options(joinedload(Customer.owner)).order_by(Customer.claimed_at).limit(50)))
        return self.render("admin/pool/preview.html", moved=moved, due=due, labels=recycle.RULE_LABELS,
                           total=sum(moved.values()))

