"""The workbench (工作台): the landing page, made of widgets later issues add to."""
from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from admin_views import links
from admin_views import ticket_widgets  # issue 22
from admin_views.base import SIGNED_IN, AccessMixin
from admin_views.context import current_actor, now
from admin_views.formatters import fmt_money, local
from admin_views.opportunity_board import link
from admin_views.forms import CsrfForm
from admin_views.transaction import transaction
from models import ClaimRequest, Customer, Order, db
from models.sales import OrderStatus
from rules import (
    announcements, customers, finance_drill, followups, notifications, opportunity_board, protection, recycle, reports,
    scope, task_reminders,
)
from rules.clock import local_date
from rules.links import ListLink
from rules import pool as pool_rules
from rules import workbench as layout_rules


def _today() -> date:  # the firm's calendar day: a week or a due date is local
    return local_date(now(), current_app.config["TIMEZONE"])


@dataclass
class Widget:
    key: str
    title: Any
    value: Any
    link: str | None = None
    hint: Any = None
    chart: Any = None  # ECharts options of a small chart under the figure
    items: list[dict[str, Any]] | None = None  # a list widget (title, link, day, pinned) instead of a figure


def _my_customers() -> Widget:
    count = customers.visible_count(db.session, current_actor())
    return Widget("customers", _l("我可见的客户"), count, url_for("customer.index_view"),
                  _l("按您的数据范围统计"))


def _unread() -> Widget:
    """未读提醒: the count and the newest few, each opening (and marking read) its record."""
    actor = current_actor()
    count = notifications.unread_count(db.session, actor)
    items = [{"title": notifications.title_of(n), "pinned": False, "day": local(n.created_at).strftime("%m-%d %H:%M"),
              "link": url_for("notification.open", note_id=n.id)}
             for n in notifications.latest_unread(db.session, actor, limit=5)]
    return Widget("notifications", gettext("未读提醒（%(n)d）", n=count) if count else _l("未读提醒"), count,
                  url_for("notification.index_view"), _l("没有未读提醒。新的提醒会在页面右下角弹出"), items=items)


def _due_today() -> Widget:
    actor = current_actor()
    stmt = scope.scoped(select(func.count(Customer.id)), Customer, actor).where(
        Customer.owner_id == actor.user_id, followups.due_clause(actor.today))
    return Widget("due", _l("今日待回访"), db.session.scalar(stmt), url_for("due_customer.index_view"),
                  _l("下次联系日期已到的客户"))


def _recycle_soon() -> Widget:
    actor = current_actor()
    count = db.session.scalar(select(func.count(Customer.id)).where(
        Customer.owner_id == actor.user_id, recycle.soon_clause(db.session, now())))
    return Widget("recycle_soon", _l("即将被回收"), count, url_for("recycle_soon.index_view"),
                  _l("尽快跟进，以免回到客户池"))


def _protection_expiring() -> Widget:
    actor = current_actor()
    warn = int(protection.load_policy(db.session)["warn_days"])
    count = db.session.scalar(select(func.count(Customer.id)).where(
        protection.expiring_clause(actor.user_id, now(), warn)))
    return Widget("protection_expiring", _l("保护即将到期"), count, url_for("customer.index_view"),
                  _l("%(d)d 天内到期的受保护客户", d=warn))


def _requests_to_approve() -> Widget:
    count = db.session.scalar(select(func.count(ClaimRequest.id)).where(
        pool_rules.requests_for_approver(current_actor())))
    return Widget("claim_requests", _l("待批示的领用申请"), count, url_for("claim_request.index_view"))


def _overdue() -> Widget:
    actor = current_actor()
    stmt = scope.scoped(select(func.count(Customer.id)), Customer, actor).where(
        Customer.owner_id == actor.user_id, Customer.next_contact_at < actor.today)
    return Widget("overdue", _l("逾期未联系"), db.session.scalar(stmt), url_for("due_customer.index_view"),
                  _l("下次联系日期已过仍未联系"))


def _orders_to_review() -> Widget:
    actor = current_actor()
    count = db.session.scalar(scope.scoped(select(func.count(Order.id)), Order, actor).where(
        Order.state == OrderStatus.PENDING_REVIEW))
    return Widget("orders_to_review", _l("待审核订单"), count, url_for("order_pending.index_view"),
                  _l("等待您审核的订单"))


def _month_sales() -> Widget:
    """This month's sales so far (net of returns) against the same days of last month, with a
    small daily chart."""
    from admin_views.reports import mini_line  # the report module owns the chart drawing

    actor = current_actor()
    this, previous, daily = reports.month_sales(db.session, actor, actor.today, current_app.config["TIMEZONE"])
    if previous:
        change = (this - previous) * 100 / previous
        hint = _l("上月同期 %(m)s，%(c)s", m=fmt_money(previous), c=f"{change:+.1f}%")
    else:
        hint = _l("上月同期 %(m)s", m=fmt_money(previous))
    return Widget("month_sales", _l("本月销售额"), fmt_money(this), url_for("report_sales.index"), hint,
                  chart=mini_line([d for d, _ in daily], [v for _, v in daily]))


def _announcements() -> Widget:
    """最新公告: the 5 newest the user may read, pinned first (one query down the feed index)."""
    rows = announcements.feed(db.session, current_actor(), limit=5)
    items = [{"title": r.title, "pinned": r.pinned, "day": local(r.published_at).strftime("%Y-%m-%d"),
              "link": url_for("announcement.detail", announcement_id=r.id)} for r in rows]
    hint = (_l("暂无公告。可在“综合办公 › 公告管理”中写一条并发布") if current_actor().can("office.announce")
            else _l("暂无公告。公司发布新公告时会在这里和铃铛里通知您"))
    return Widget("announcements", _l("最新公告"), None, url_for("announcement.index"), hint, items=items)


# --- the pipeline (opp-board) -------------------------------------------------------------------

def _my_opportunities() -> Widget:
    """我的销售机会: my open ones per stage, each line leading to the board."""
    rows = layout_rules.my_open_by_stage(db.session, current_actor())
    items = [{"title": gettext("%(s)s · %(n)d 个", s=stage.name, n=count), "pinned": False, "day": fmt_money(amount),
              "link": url_for("opportunity_board.index", group=stage.group_id, owner="me")}
             for stage, count, amount in rows]
    return Widget("my_opportunities", _l("我的销售机会"), None, url_for("opportunity_board.index", owner="me"),
                  _l("暂无进行中的销售机会。从客户页面或线索转化新建一个"), items=items)


def _closing_this_month() -> Widget:
    today = current_actor().today
    first, last = opportunity_board.month_bounds(today.replace(day=1))
    count, amount = layout_rules.my_closing_in_month(db.session, current_actor(), first, last)
    return Widget("closing_this_month", _l("本月预计成交"), count,
                  url_for("opportunity_board.index", owner="me", month=first.strftime("%Y-%m")),
                  _l("合计 %(m)s", m=fmt_money(amount)))


def _stale_opportunities() -> Widget:
    days = opportunity_board.stale_days(db.session)
    count = layout_rules.my_stale_count(db.session, current_actor(), opportunity_board.stale_cutoff(db.session, now()))
    return Widget("stale_opportunities", _l("停滞的销售机会"), count,
                  url_for("opportunity_board.stale", owner="me"), _l("超过 %(d)d 天没有跟进", d=days))


def _leads_to_follow() -> Widget:
    count = layout_rules.my_leads_to_follow(db.session, current_actor(), current_actor().today)
    return Widget("leads_to_follow", _l("待跟进线索"), count, link("lead.index_view"),
                  _l("下次联系已到期或新分到还未跟进"))


# --- the finance widgets (fin-reports) ------------------------------------------------------------

def _page(*endpoints: str) -> str | None:
    """The first of these pages that exists (another module may not be merged yet)."""
    for endpoint in endpoints:
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return None


def _list(link: ListLink) -> str | None:
    return links.list_url(current_app.extensions["admin"][0], link)


def _waiting_approvals() -> Widget:
    """待我审批: approval tasks waiting for my decision (rules/approvals)."""
    from rules import approvals  # the approvals engineer's module; offered only once it exists

    count = approvals.waiting_count(db.session, current_actor())
    return Widget("waiting_approvals", _l("待我审批"), count, _page("approval.index_view", "approval.index"),
                  _l("合同、回款、开票等等待您审批的单据"))


def _plans_due_this_week() -> Widget:
    actor = current_actor()
    link = layout_rules.plans_due_link(actor, _today())
    count, owed = layout_rules.plans_figure(db.session, actor, link)
    return Widget("plans_due_this_week", _l("本周应回款"), count, _list(link),
                  _l("本周到期的回款计划期次，未回 %(m)s", m=fmt_money(owed)))


def _overdue_plans() -> Widget:
    actor = current_actor()
    link = layout_rules.overdue_plans_link(actor, _today())
    count, owed = layout_rules.plans_figure(db.session, actor, link)
    return Widget("overdue_plans", _l("逾期回款"), count, _list(link),
                  _l("已过到期日仍未回完的期次，未回 %(m)s", m=fmt_money(owed)))


def _expiring_contracts() -> Widget:
    actor = current_actor()
    link = layout_rules.expiring_contracts_link(actor, _today())
    return Widget("expiring_contracts", _l("即将到期合同"), finance_drill.count(db.session, actor, link), _list(link),
                  _l("%(d)d 天内到期的执行中合同", d=layout_rules.EXPIRING_DAYS))


def _today_events() -> Widget:
    """今日日程: my events of today still to come (all-day ones too), each leading to its page."""
    from rules import events  # 日程 (issue 21)

    tz = current_app.config["TIMEZONE"]
    rows = events.upcoming_today(db.session, current_actor(), now(), tz)
    items = [{"title": r.title, "pinned": False, "link": url_for("event.details", event_id=r.id),
              "day": gettext("全天") if r.all_day else local(r.starts_at).strftime("%H:%M")} for r in rows[:8]]
    return Widget("today_events", _l("今日日程"), None, url_for("event.index"),
                  _l("今天没有待参加的日程。点击进入日程安排"), items=items)


def _my_tasks() -> Widget:
    """我的待办: overdue and due within my 提醒天数, soonest first (rules/task_reminders.my_open)."""
    overdue, rows = task_reminders.my_open(db.session, current_actor(), now(), current_app.config["TIMEZONE"])
    items = [{"title": r.title, "pinned": False, "link": url_for("task.detail", task_id=r.id),
              "day": gettext("逾期 %(t)s", t=local(r.due_at).strftime("%m-%d %H:%M")) if r.due_at < now()
              else local(r.due_at).strftime("%m-%d %H:%M")} for r in rows]
    return Widget("my_tasks", _l("我的待办"), None, url_for("task.index_view", show="overdue" if overdue else "open"),
                  _l("近期没有到期的待办。可在“综合办公 › 我的待办”新建一条"), items=items)


def _logs_to_read() -> Widget:
    """待阅日志: logs sent to me not opened yet (the newest few), and new comments on mine."""
    from rules import work_logs  # 工作日志 (issue 21)

    actor = current_actor()
    logs, comments = work_logs.to_read(db.session, actor)
    items = [{"title": gettext("%(name)s 的%(period)s", name=r.author, period=work_logs.period_label(r.period)),
              "pinned": False, "day": r.period_start.isoformat(), "link": url_for("work_log.detail", log_id=r.id)}
             for r in work_logs.latest_to_read(db.session, actor)]
    if comments:
        items.insert(0, {"title": gettext("我的日志有 %(n)d 条新点评", n=comments), "pinned": False, "day": "",
                         "link": url_for("work_log.index", box="mine")})
    return Widget("logs_to_read", _l("待阅日志（%(n)d）", n=logs), None, url_for("work_log.index", box="inbox", unread=1),
                  _l("没有待阅的日志。下属提交日志时会出现在这里"), items=items)


def _my_tickets() -> Widget:
    return ticket_widgets.my_tickets(Widget)  # issue 22


def _tickets_due_today() -> Widget:
    return ticket_widgets.tickets_due_today(Widget)  # issue 22


# Later issues append here. Keys are stable: users' hidden/reordered choices refer to them.
WIDGETS: list[tuple[str | None, Callable[[], Widget]]] = [
    ("customer.view", _due_today),
    ("customer.view", _overdue),
    ("pool.claim", _recycle_soon),
    ("pool.claim", _protection_expiring),
    ("pool.approve", _requests_to_approve),
    ("order.approve", _orders_to_review),
    ("report.view", _month_sales),
    (None, _announcements),
    ("customer.view", _my_customers),
    (None, _unread),
    ("opportunity.view", _my_opportunities),
    ("opportunity.view", _closing_this_month),
    ("opportunity.view", _stale_opportunities),
    ("lead.view", _leads_to_follow),
    *([(None, _waiting_approvals)] if importlib.util.find_spec("rules.approvals") else []),
    ("payment.view", _plans_due_this_week),
    ("payment.view", _overdue_plans),
    ("contract.view", _expiring_contracts),
    (None, _today_events),
    (None, _my_tasks),  # 待办 (issue 21)
    (None, _logs_to_read),  # 工作日志 (issue 21)
    ("service.view", _my_tickets),  # 工单 (issue 22)
    ("service.view", _tickets_due_today),  # 工单 (issue 22)
]
WIDGET_TITLES: dict[str, Any] = {
    "due": _l("今日待回访"), "overdue": _l("逾期未联系"), "recycle_soon": _l("即将被回收"),
    "protection_expiring": _l("保护即将到期"), "claim_requests": _l("待批示的领用申请"),
    "orders_to_review": _l("待审核订单"), "month_sales": _l("本月销售额"), "customers": _l("我可见的客户"),
    "notifications": _l("未读提醒"), "announcements": _l("最新公告"),
    "my_opportunities": _l("我的销售机会"), "closing_this_month": _l("本月预计成交"),
    "stale_opportunities": _l("停滞的销售机会"), "leads_to_follow": _l("待跟进线索"),
    "waiting_approvals": _l("待我审批"), "plans_due_this_week": _l("本周应回款"), "overdue_plans": _l("逾期回款"),
    "expiring_contracts": _l("即将到期合同"),
    "today_events": _l("今日日程"),
    "my_tasks": _l("我的待办"),
    "logs_to_read": _l("待阅日志"),
    "my_tickets": _l("我的工单"), "tickets_due_today": _l("今日将超时工单"),  # issue 22
}
_KEYS = {"due": _due_today, "overdue": _overdue, "recycle_soon": _recycle_soon,
             "protection_expiring": _protection_expiring, "claim_requests": _requests_to_approve,
             "orders_to_review": _orders_to_review, "month_sales": _month_sales, "customers": _my_customers,
             "notifications": _unread, "announcements": _announcements,
             "my_opportunities": _my_opportunities, "closing_this_month": _closing_this_month,
             "stale_opportunities": _stale_opportunities, "leads_to_follow": _leads_to_follow,
             "waiting_approvals": _waiting_approvals, "plans_due_this_week": _plans_due_this_week,
             "overdue_plans": _overdue_plans, "expiring_contracts": _expiring_contracts,
             "today_events": _today_events,
             "my_tasks": _my_tasks,
             "logs_to_read": _logs_to_read,
             "my_tickets": _my_tickets, "tickets_due_today": _tickets_due_today}  # issue 22


def _offered() -> dict[str, Callable[[], Widget]]:
    """The widgets the actor's permissions offer, by key, in the default order."""
    actor = current_actor()
    keys = {build: key for key, build in _KEYS.items()}
    return {keys.get(build, build.__name__.strip("_")): build for permission, build in WIDGETS
            if permission is None or actor.can(permission)}


class WorkbenchIndexView(AccessMixin, AdminIndexView):
    permission = SIGNED_IN  # each widget asks for its own permission (WIDGETS)

    def is_visible(self) -> bool:
        return True

    @expose("/")
    def index(self) -> Any:
        offered = _offered()
        shown, hidden = layout_rules.arrange(list(offered), layout_rules.load_layout(db.session, current_user.id))
        widgets = [offered[key]() for key in shown]
        return self.render("admin/index.html", widgets=widgets, user=current_user,
                           widget_layout=[(key, WIDGET_TITLES.get(key, key), key in hidden) for key in shown + hidden])

    @expose("/workbench/layout", methods=["POST"])
    def layout(self) -> Any:
        """自定义工作台: the widgets to show and their order, remembered per user."""
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return redirect(url_for(".index"))
        offered = list(_offered())

        def position(key: str) -> tuple[int, int]:
            raw = request.form.get(f"pos_{key}", "")
            return (int(raw) if raw.strip().lstrip("-").isdigit() else 999, offered.index(key))

        with transaction(gettext("工作台设置已保存")):
            if request.form.get("reset"):
                layout_rules.save_layout(db.session, current_user.id, order=[], hidden=[], known=offered)
            else:
                order = sorted(offered, key=position)
                hidden = [k for k in offered if not request.form.get(f"show_{k}")]
                layout_rules.save_layout(db.session, current_user.id, order=order, hidden=hidden, known=offered)
        return redirect(url_for(".index"))
