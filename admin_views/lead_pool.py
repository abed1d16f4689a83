"""线索池 in the panel: unowned open leads of the user's lead pools (newest arrivals first), with
领用, 批量随机领用 and 指派, under the customer pool's rules (admin_views/pool_list.py, rules.pool
with the LEADS subject). The pages behind 放弃 and 指派 live here too, and
`LeadPoolActionsMixin` gives any lead list (the 线索 list of admin_views/leads.py) the batch
actions 放弃到线索池, 指派给同事 and 收回到线索池 that lead to them."""
from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload

from admin_views import params
from admin_views.base import ScopedModelView
from admin_views.context import current_actor, now
from admin_views.customer_columns import region
from admin_views.filters import LocalDateBetween
from admin_views.formatters import PHONE_CELLS, choice_label
from admin_views.menu import POOL, fa
from admin_views.navigation import back_url
from admin_views.pool import POOL_REASONS
from admin_views.pool_list import PoolListMixin
from admin_views.pool_moves import assign_page, release_page
from admin_views.transaction import commit_or_explain
from models import Lead, db
from rules import pool as pool_rules
from rules.pool_subject import LEADS

# What each batch action needs; a lead list including LeadPoolActionsMixin merges these into its
# action_permissions.
LEAD_ACTION_PERMISSIONS = {"release": LEADS.claim_permission, "assign": LEADS.assign_permission,
                           "recall": LEADS.recall_permission}

LABELS = {"name": _l("线索名称"), "company": _l("公司"), "contact_name": _l("联系人"), "region": _l("地区"),
          "phone": _l("电话"), "mobile": _l("手机"), "email": _l("邮箱"), "wechat": _l("微信"), "address": _l("地址"),
          "source": _l("来源"), "pool_reason": _l("入池原因"), "pool_entered_at": _l("入池时间")}


class LeadPoolView(PoolListMixin, ScopedModelView):
    """线索池: open leads nobody owns in the pools the user draws leads from."""

    pool_subject = LEADS
    permission_view = "lead.view"
    action_permissions = {"claim": LEADS.claim_permission, "assign": LEADS.assign_permission}
    column_list = ["name", "company", "contact_name", "region", "phone", "mobile", "source", "pool_reason",
                   "pool_entered_at"]
    column_labels = LABELS
    # Newest arrivals first: ix_leads_pool (pool_id, pool_entered_at) WHERE owner_id IS NULL.
    column_default_sort = [("pool_entered_at", True), ("id", True)]
    column_sortable_list = ["name", "pool_entered_at"]
    column_searchable_list = ["name", "company", "contact_name"]
    column_filters = [LocalDateBetween(Lead.pool_entered_at, _l("入池时间"))]
    pool_formatters = {"pool_reason": choice_label(POOL_REASONS), "region": region, **PHONE_CELLS}
    random_confirm = _l("从线索池中随机领用这么多条线索吗？")
    my_pools_label = _l("您从以下线索池领用：")
    empty_text = _l("线索池里暂时没有线索。留资表单、导入和业务员放弃或系统回收的线索会出现在这里。")

    def claimed_message(self, n: int) -> str:
        return gettext("已领用 %(n)d 条线索，可在“线索”中跟进", n=n)

    def random_message(self, n: int) -> str:
        return gettext("随机领用了 %(n)d 条线索", n=n)

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Lead.source))

    @action("assign", _l("指派给同事"))
    def action_assign(self, ids: list[str]) -> Any:
        return redirect(url_for(".assign_view", ids=",".join(ids), back=url_for(".index_view")))

    # --- the pages behind the batch actions (also those of LeadPoolActionsMixin) ------------------
    @expose("/release/", methods=["GET", "POST"])
    def release_view(self) -> Any:
        """放弃: one's own open leads back to one's lead pool, with a reason."""
        actor = current_actor()
        if not actor.can(LEADS.claim_permission):
            abort(403)
        wanted = params.ids_list(request.values.get("ids"))
        mine = and_(Lead.owner_id == actor.user_id, LEADS.live())
        records = list(db.session.scalars(select(Lead).where(Lead.id.in_(wanted), mine).order_by(Lead.id)))
        if not wanted or len(records) != len(wanted):
            abort(404)
        return release_page(self, LEADS, records, ",".join(map(str, wanted)),
                            back=back_url(request.values.get("back"), url_for(".index_view")),
                            done=lambda n: gettext("已将 %(n)d 条线索放弃到线索池", n=n), title=gettext("放弃线索"),
                            hint=gettext("放弃后线索回到线索池，其他同事可以领用。请写明原因，便于主管了解。"))

    @expose("/assign/", methods=["GET", "POST"])
    def assign_view(self) -> Any:
        """指派: leads in the manager's scope (or from their lead pools) to a colleague in scope."""
        return assign_page(self, LEADS, title=gettext("指派线索"),
                           done=lambda n, who: gettext("已将 %(n)d 条线索指派给 %(u)s", n=n, u=who))


def recall_leads(ids: list[str]) -> bool:
    """收回: the selected leads from their owners back to the owners' lead pools, or nothing."""
    actor = current_actor()
    wanted = params.ids_list(ids)
    return commit_or_explain(lambda: pool_rules.recall(db.session, wanted, actor=actor, now=now(), subject=LEADS),
                             lambda count: gettext("已收回 %(n)d 条线索到线索池", n=count))


class LeadPoolActionsMixin:
    """Batch actions of a lead list (a ScopedModelView of Lead): 放弃 and 指派 open their pages on
    the 线索池 view, 收回 asks for confirmation and moves at once. Merge LEAD_ACTION_PERMISSIONS
    into the view's action_permissions."""

    @action("release", _l("放弃到线索池"))
    def action_release(self, ids: list[str]) -> Any:
        return redirect(url_for("lead_pool.release_view", ids=",".join(ids), back=url_for(".index_view")))

    @action("assign", _l("指派给同事"))
    def action_assign(self, ids: list[str]) -> Any:
        return redirect(url_for("lead_pool.assign_view", ids=",".join(ids), back=url_for(".index_view")))

    @action("recall", _l("收回到线索池"), _l("所选线索将从业务员名下收回到线索池，确定吗？"))
    def action_recall(self, ids: list[str]) -> None:
        recall_leads(ids)


def views() -> list[Any]:
    return [LeadPoolView(Lead, name=_l("线索池"), category=POOL, endpoint="lead_pool", **fa("fa-filter"))]
