"""公告: the read pages every logged-in user has (list + detail, only what their audience
allows) and 公告管理, the administrators' CRUD with 发布/撤回."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import BooleanField, TextAreaField

from admin_views import params
from admin_views.base import SIGNED_IN, PermissionView, ScopedModelView
from admin_views.context import current_actor, now
from admin_views.formatters import fmt_date, fmt_datetime, indented
from admin_views.menu import OFFICE, fa
from admin_views.transaction import transaction
from models import Announcement, DataScope, Department, db
from rules import announcements, scope
from rules.errors import OutOfScope

PER_PAGE = 20


def _addressable_departments() -> Any:
    """The picker offers only the departments the writer may address (rules/announcements.py)."""
    return db.session.scalars(select(Department).where(announcements.addressable(current_actor()))
                              .order_by(Department.path))


# Markup.format() escapes its arguments (these and the ones below).
def _status(view: Any, context: Any, model: Announcement, name: str) -> Markup:
    if model.published_at is None:
        return Markup("<span class='badge badge-secondary'>{}</span>").format(_l("草稿"))
    if announcements.expired(model, current_actor().today):
        return Markup("<span class='badge badge-light'>{}</span>").format(_l("已过期"))
    return Markup("<span class='badge badge-success'>{}</span>").format(_l("已发布"))


def _pinned(view: Any, context: Any, model: Announcement, name: str) -> Markup:
    return Markup("<span class='badge badge-danger'>{}</span>").format(_l("置顶")) if model.pinned else Markup("")


def _title(view: Any, context: Any, model: Announcement, name: str) -> Markup:
    return Markup("<a href='{}'>{}</a>").format(url_for(".details_view", id=model.id), model.title)


class AnnouncementManageView(ScopedModelView):
    """公告管理: drafts included, for those with 发布公告 (office.announce). A manager sees the
    announcements written by people in their data scope."""

    permission_view = permission_create = permission_edit = permission_delete = "office.announce"
    action_permissions = {"publish": "office.announce", "withdraw": "office.announce",
                          "delete": "office.announce"}
    can_view_details = True
    details_modal = False
    list_template = "admin/announcements/manage_list.html"

    column_list = ["title", "status", "pinned", "audience", "author", "published_at", "expires_on"]
    column_labels = {
        "title": _l("标题"), "status": _l("状态"), "pinned": _l("置顶"), "audience": _l("接收范围"),
        "author": _l("发布人"), "published_at": _l("发布时间"), "expires_on": _l("有效期至"),
        "body": _l("内容"), "whole_company": _l("全公司"), "departments": _l("接收部门"),
        "created_at": _l("创建时间"), "updated_at": _l("最后修改"), "publish_now": _l("保存后立即发布"),
    }
    column_sortable_list = ["title", "pinned", "published_at", "expires_on"]
    column_default_sort = ("created_at", True)
    column_searchable_list = ["title"]
    column_formatters = {
        "title": _title, "status": _status, "pinned": _pinned,
        "audience": lambda v, c, m, n: announcements.audience_label(m),
        "published_at": lambda v, c, m, n: fmt_datetime(m.published_at),
        "expires_on": lambda v, c, m, n: fmt_date(m.expires_on) or _l("长期"),
    }
    column_details_list = ["title", "status", "audience", "pinned", "author", "published_at", "expires_on",
                           "body", "created_at", "updated_at"]
    column_formatters_detail = dict(column_formatters, title=lambda v, c, m, n: m.title,
                                    # body_html(): nh3-cleaned HTML or escaped text.
                                    body=lambda v, c, m, n: Markup("<div class='kechi-announcement-body'>{}</div>")
                                    .format(announcements.body_html(m.body)))

    form_columns = ["title", "body", "whole_company", "departments", "pinned", "expires_on", "publish_now"]
    form_overrides = {"body": TextAreaField}
    form_extra_fields = {"publish_now": BooleanField(_l("保存后立即发布"),
                                                     description=_l("不勾选则保存为草稿，之后可在列表中选中并“发布”"))}
    form_args = {
        "title": {"label": _l("标题")},
        "body": {"label": _l("内容"), "render_kw": {"rows": 12},
                 "description": _l("直接输入文字即可，换行会保留；也可以粘贴 HTML，脚本等不安全的内容会被自动去除")},
        "whole_company": {"label": _l("全公司"), "default": True,
                          "description": _l("不勾选时，只发给下面选中的部门（含其下属部门）")},
        "departments": {"label": _l("接收部门"), "query_factory": _addressable_departments, "get_label": indented},
        "pinned": {"label": _l("置顶"), "description": _l("置顶的公告排在最前面")},
        "expires_on": {"label": _l("有效期至"), "description": _l("留空表示长期有效；过了这一天就不再显示")},
    }

    def scope_clause(self) -> Any:
        return scope.announcement_manage_clause(current_actor())

    def write_clause(self) -> Any:
        return scope.announcement_manage_clause(current_actor())

    def _clause_for_request(self) -> Any:
        return self.write_clause()  # details show drafts too: the managers' clause on every path

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(Announcement.author), selectinload(Announcement.departments))

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        if request.method == "GET":  # only a company-wide writer starts with 全公司 ticked
            form.whole_company.data = current_actor().data_scope is DataScope.ALL
        return form

    def apply_rules(self, form: Any, model: Announcement, is_created: bool) -> None:
        actor = current_actor()
        if is_created:
            model.author_id = actor.user_id
        model.body = announcements.clean_body(model.body)
        announcements.check(model, actor=actor)
        if form.publish_now.data:
            db.session.add(model)
            announcements.publish(db.session, model, actor=actor, now=now())

    def after_model_change(self, form: Any, model: Announcement, is_created: bool) -> None:
        if form.publish_now.data:
            flash(_l("公告“%(t)s”已发布。", t=model.title), "success")

    @action("publish", _l("发布"), _l("发布后，接收范围内的员工都能看到，并会在铃铛里收到提醒。确定发布所选公告吗？"))
    def action_publish(self, ids: list[str]) -> None:
        records = self.scoped_batch(ids)
        actor = current_actor()
        with transaction() as outcome:
            notified = sum(announcements.publish(db.session, r, actor=actor, now=now()) for r in records)
            outcome.done(ngettext("已发布 %(num)d 条公告，已提醒 %(people)d 人。", "已发布 %(num)d 条公告，已提醒 %(people)d 人。",
                                  len(records), people=notified))

    @action("withdraw", _l("撤回"), _l("撤回后公告变回草稿，员工将看不到它。确定撤回所选公告吗？"))
    def action_withdraw(self, ids: list[str]) -> None:
        records = self.scoped_batch(ids)
        with transaction() as outcome:
            count = sum(announcements.withdraw(db.session, r) for r in records)
            outcome.done(ngettext("已撤回 %(num)d 条公告。", "已撤回 %(num)d 条公告。", count))


class AnnouncementView(PermissionView):
    """公告: what the reader's audience allows, pinned first, newest first; outside it → 404."""

    permission = SIGNED_IN  # the audience (rules/scope.announcement_clause) decides what each reads

    @expose("/")
    def index(self) -> Any:
        number = max(params.page_number(request.args.get("page")), 1)
        rows, more = announcements.page(db.session, current_actor(), page=number, per_page=PER_PAGE)
        items = [{"row": r, "excerpt": announcements.excerpt(r.body)} for r in rows]
        return self.render("admin/announcements/list.html", items=items, page=number, more=more,
                           can_announce=current_actor().can("office.announce"))

    def record_url(self, announcement_id: int) -> str:
        """Where a link to one announcement leads (admin_views/links.record_url)."""
        return url_for(f"{self.endpoint}.detail", announcement_id=announcement_id)

    @expose("/<int:announcement_id>/")
    def detail(self, announcement_id: int) -> Any:
        try:
            record = scope.get_in_scope(db.session, Announcement, announcement_id, current_actor())
        except OutOfScope:
            abort(404)
        return self.render("admin/announcements/detail.html", record=record,
                           body=announcements.body_html(record.body),
                           audience=announcements.audience_label(record),
                           can_announce=current_actor().can("office.announce"))


def views() -> list[Any]:
    return [
        AnnouncementView(name=_l("公告"), category=OFFICE, endpoint="announcement", url="/admin/announcement",
                         **fa("fa-bullhorn")),
        AnnouncementManageView(Announcement, name=_l("公告管理"), category=OFFICE, endpoint="announcement_manage",
                               **fa("fa-pencil-square-o")),
    ]
