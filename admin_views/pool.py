"""客户池 in the panel: 公共客户 (the pool list), 将被回收, 领用申请 and 流转记录 (客户池设置 is
admin_views/pool_settings.py). Every decision is a rules.pool / rules.recycle call."""
from __future__ import annotations

from typing import Any

from flask import g, redirect, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla import tools
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from admin_views import params
from admin_views.base import ScopedModelView
from admin_views.context import current_actor, now
from admin_views.customer_columns import region
from admin_views.customer_labels import KIND_LABELS, LABELS, OWNERSHIP_REASONS
from admin_views.customers import NarrowedCustomerView
from admin_views.filters import IdEqual, LazyOptions, LocalDateBetween, OneOf
from admin_views.formatters import PHONE_CELLS, choice_label
from admin_views.links import drill
from admin_views.menu import POOL, fa
from admin_views.pool_list import PoolListMixin
from admin_views.transaction import commit_or_explain
from models import ClaimRequest, Customer, OwnershipEvent, PoolReason, RequestStatus, User, db
from rules import pool as pool_rules
from rules import i18n, recycle
from rules.links import DrillFilter as F
from rules.pool_subject import CUSTOMERS

POOL_REASONS = {PoolReason.RELEASED: _l("放弃"), PoolReason.RECYCLED: _l("回收"), PoolReason.RECALLED: _l("收回"),
                PoolReason.IMPORTED: _l("导入"), PoolReason.NEW: _l("新建")}
REQUEST_STATUS = {RequestStatus.PENDING.value: _l("待批示"), RequestStatus.APPROVED.value: _l("已批准"),
                  RequestStatus.REJECTED.value: _l("未批准")}


_run = commit_or_explain  # the pool actions share the panel's commit-or-explain step


class PoolView(PoolListMixin, ScopedModelView):
    """公共客户: unowned customers of the pools the user belongs to."""

    pool_subject = CUSTOMERS
    permission_view = "pool.view"
    action_permissions = {"claim": "pool.claim", "request": "pool.claim", "assign": "pool.assign"}
    column_list = ["code", "name", "kind", "region", "phone", "mobile", "pool_reason", "pool_entered_at"]
    column_labels = {**LABELS, "pool_reason": _l("入池原因"), "pool_entered_at": _l("入池时间")}
    column_default_sort = [("pool_entered_at", True), ("id", True)]
    column_sortable_list = ["code", "name", "pool_entered_at"]
    column_searchable_list = ["name", "code"]
    column_filters = [LocalDateBetween(Customer.pool_entered_at, _l("入池时间"))]
    pool_formatters = {"pool_reason": choice_label(POOL_REASONS), "region": region, "kind": choice_label(KIND_LABELS),
                       **PHONE_CELLS}
    random_confirm = _l("从客户池中随机领用这么多位客户吗？")
    my_pools_label = _l("您从以下客户池领用：")
    empty_text = _l("客户池里暂时没有客户。业务员放弃或系统回收的客户会出现在这里。")

    def is_accessible(self) -> bool:
        return super().is_accessible() and pool_rules.enabled(db.session)

    def claimed_message(self, n: int) -> str:
        return gettext("已领用 %(n)d 位客户，可在“客户列表”中查看", n=n)

    def random_message(self, n: int) -> str:
        return gettext("随机领用了 %(n)d 位客户", n=n)

    @action("request", _l("申请领用"))
    def action_request(self, ids: list[str]) -> None:
        actor = current_actor()
        _run(lambda: [pool_rules.request_claim(db.session, cid, actor=actor, reason=None, now=now())
                      for cid in params.ids_list(ids)],
             lambda made: gettext("已提交 %(n)d 条领用申请，等待主管批示", n=len(made)))

    @action("assign", _l("指派给同事"))
    def action_assign(self, ids: list[str]) -> Any:
        return redirect(url_for("customer.assign_view", ids=",".join(ids), back=url_for(".index_view")))


class SoonRecycledView(NarrowedCustomerView):
    """将被回收: one's own customers that the recycle rules will take back within the warning days."""

    list_template = "admin/customers/soon_list.html"
    column_default_sort = [("last_follow_up_at", False), ("id", False)]
    column_list = ["code", "name", "mobile", "stage", "claimed_at", "last_follow_up_at", "recycle_in"]
    column_labels = {**LABELS, "claimed_at": _l("领用时间")}

    def narrow(self, query: Any) -> Any:
        return query.filter(Customer.owner_id == current_actor().user_id, recycle.soon_clause(db.session, now()))


class ClaimRequestView(ScopedModelView):
    """领用申请: one's own requests, and for approvers those of their team
    (rules/scope.claim_request_clause)."""

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

    def get_query(self) -> Any:
        return super().get_query().options(
            joinedload(ClaimRequest.applicant), joinedload(ClaimRequest.owner), joinedload(ClaimRequest.decided_by))

    def write_clause(self) -> Any:
        return pool_rules.requests_for_approver(current_actor())

    def _decide(self, ids: list[str], approve: bool) -> None:
        actor = current_actor()
        wanted = params.ids_list(ids)
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
        # Markup is safe here: every interpolated value passes through escape().
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


def views() -> list[Any]:
    return [
        PoolView(Customer, name=_l("公共客户"), category=POOL, endpoint="pool", **fa("fa-inbox")),
        SoonRecycledView(Customer, name=_l("将被回收"), category=POOL, endpoint="recycle_soon",
                         **fa("fa-hourglass-half")),
        ClaimRequestView(ClaimRequest, name=_l("领用申请"), category=POOL, endpoint="claim_request",
                         **fa("fa-hand-paper-o")),
        OwnershipEventView(OwnershipEvent, name=_l("流转记录"), category=POOL, endpoint="ownership_event",
                           **fa("fa-exchange")),
    ]
