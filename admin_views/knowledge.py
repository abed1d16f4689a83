"""知识库 in the panel: the list (by category, status, kind, tag; the search box cuts Chinese as
customer search does), the article page with 有帮助/没帮助 and the editors' 发布/归档 buttons, the
editor form (转为知识库文章 prefills it from a ticket), 知识库分类, and the JSON the ticket page's
reply picker asks. Drafts and archived articles stay with editors (rules/knowledge.visible_clause)."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from admin_views import links, params
from admin_views.base import SEARCH_COUNT_CAP, ScopedModelView, SecureModelView
from admin_views.context import current_actor, now
from admin_views.custom_fields import CustomFieldsMixin, request_definitions
from admin_views.filters import IdEqual, LazyOptions
from admin_views.formatters import fmt_datetime
from admin_views.forms import CsrfForm
from admin_views.menu import SERVICE, fa
from admin_views.navigation import back_url
from admin_views.transaction import commit_bookkeeping, commit_or_explain, transaction
from models import db
from models.knowledge import ArticleKind, ArticleStatus, KbArticle, KbArticleTag, KbCategory
from rules import custom_fields, kb_search, knowledge
from rules.announcements import body_html
from rules.errors import OutOfScope, RuleViolation
from rules.links import ListKind, RecordLink

LABELS = {
    "title": _l("标题"), "kind": _l("类型"), "category": _l("分类"), "status": _l("状态"), "tags": _l("标签"),
    "helpful": _l("有帮助 / 没帮助"), "views": _l("阅读"), "updated_at": _l("最后修改"), "author": _l("作者"),
    "published_at": _l("发布时间"), "question": _l("问题"), "answer": _l("答案"), "body": _l("正文"),
    "tags_text": _l("标签"), "source_ticket_id": _l("来源工单"),
}


def _category_options() -> list[tuple[str, str]]:
    rows = db.session.execute(select(KbCategory.id, KbCategory.name).order_by(KbCategory.sort_order, KbCategory.name))
    return [(str(r.id), r.name) for r in rows]


def _active_categories() -> Any:
    return db.session.scalars(select(KbCategory).where(KbCategory.active.is_(True))
                              .order_by(KbCategory.sort_order, KbCategory.name))


def _title_optional(form: Any) -> Any:
    """A Q&A's title may be left empty (the rules take the question's first line), but the
    column is NOT NULL, so Flask-Admin marks the box required and the browser would refuse."""
    form.title.flags.required = False
    form.title.validators = [v for v in form.title.validators if not isinstance(v, (InputRequired, DataRequired))]
    return form


class HasTag(BaseSQLAFilter):
    """按标签: articles carrying the tag typed (exactly, through the tag index)."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(KbArticle.id.in_(select(KbArticleTag.article_id).where(KbArticleTag.tag == value)))

    def clean(self, value: Any) -> str:
        return str(value).strip().lstrip("#")

    def operation(self) -> Any:
        return _l("等于")


# Markup.format() escapes its arguments.
def _title(view: Any, context: Any, model: KbArticle, name: str) -> Markup:
    return Markup("<a href='{}'>{}</a>").format(url_for(".details_view", id=model.id), model.title)


def _status(view: Any, context: Any, model: KbArticle, name: str) -> Markup:
    state = ArticleStatus(model.status)
    return Markup("<span class='badge badge-{}'>{}</span>").format(knowledge.STATUS_CSS[state],
                                                                 knowledge.STATUS_LABELS[state])


class KbArticleView(CustomFieldsMixin, ScopedModelView):
    """知识库: readers (knowledge.view) see what is published; editors (knowledge.edit) write,
    publish and archive, and see drafts and archived articles too."""

    permission_view = "knowledge.view"
    permission_create = permission_edit = "knowledge.edit"
    permission_delete = None  # an article is archived, not deleted: tickets may quote it
    action_permissions = {"publish": "knowledge.edit", "archive": "knowledge.edit", "unarchive": "knowledge.edit"}
    custom_entity = knowledge.CUSTOM_ENTITY
    capped_count = True

    can_view_details = True
    details_modal = False
    details_template = "admin/knowledge/details.html"
    list_template = "admin/knowledge/list.html"
    create_template = "admin/knowledge/create.html"
    edit_template = "admin/knowledge/edit.html"

    column_list = ["title", "kind", "category", "status", "tags", "helpful", "views", "updated_at"]
    column_labels = LABELS
    column_sortable_list = ["updated_at", "views"]
    column_default_sort = [("updated_at", True), ("id", True)]
    column_searchable_list = ["title"]  # replaced by the token index (_apply_search)
    column_formatters = {
        "title": _title, "status": _status,
        "kind": lambda v, c, m, n: knowledge.KIND_LABELS[ArticleKind(m.kind)],
        "tags": lambda v, c, m, n: "、".join(m.tags or []),
        "helpful": lambda v, c, m, n: f"{m.helpful_yes} / {m.helpful_no}",
        "updated_at": lambda v, c, m, n: fmt_datetime(m.updated_at),
    }
    column_filters = [
        IdEqual(KbArticle.category_id, _l("分类"), options=LazyOptions(_category_options)),
        FilterEqual(KbArticle.status, _l("状态"), options=[(s.value, label) for s, label in knowledge.STATUS_LABELS.items()]),
        FilterEqual(KbArticle.kind, _l("类型"), options=[(k.value, label) for k, label in knowledge.KIND_LABELS.items()]),
        HasTag(KbArticle.id, _l("标签")),
    ]

    form_columns = ["kind", "title", "category", "question", "answer", "body", "tags_text", "from_ticket"]
    form_overrides = {"body": TextAreaField, "question": TextAreaField, "answer": TextAreaField,
                      "kind": SelectField}
    form_extra_fields = {
        "tags_text": StringField(_l("标签"), validators=[Optional()],
                                 description=_l("多个标签用逗号、顿号或空格分开，如：滤芯 漏水 安装")),
        "from_ticket": HiddenField(),
    }
    form_args = {
        "kind": {"label": _l("类型"), "choices": [(k.value, label) for k, label in knowledge.KIND_LABELS.items()]},
        "title": {"label": _l("标题"), "validators": [Optional()],
                  "description": _l("问答可留空，取问题的第一行")},
        "category": {"label": _l("分类"), "query_factory": _active_categories, "allow_blank": True, "blank_text": "—"},
        "question": {"label": _l("问题"), "render_kw": {"rows": 3}, "description": _l("问答填写：客户通常怎么问")},
        "answer": {"label": _l("答案"), "render_kw": {"rows": 6},
                   "description": _l("问答填写：纯文字，会原样插入到工单回复中")},
        "body": {"label": _l("正文"), "render_kw": {"rows": 12},
                 "description": _l("文章填写：直接输入文字即可；也可以粘贴 HTML，脚本等不安全的内容会被自动去除")},
    }

    def scope_clause(self) -> Any:
        return knowledge.visible_clause(current_actor())

    def write_clause(self) -> Any:
        return knowledge.visible_clause(current_actor())

    def _clause_for_request(self) -> Any:
        return knowledge.visible_clause(current_actor())  # drafts stay with editors on every path

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(KbArticle.category))

    def search_placeholder(self) -> str:
        return gettext("标题、问题、答案或正文中的字词")

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str) -> Any:
        found = kb_search.clause(db.session, search)
        if found is None:
            return query, count_query, joins, count_joins
        g.kechi_count_cap = SEARCH_COUNT_CAP  # "1000+" hits: counting a common word's every hit costs more than the page
        return query.filter(found), (count_query.filter(found) if count_query is not None else None), joins, count_joins

    def render(self, template: str, **kwargs: Any) -> Any:
        kwargs.setdefault("can_edit", knowledge.can_edit(current_actor()))
        return super().render(template, **kwargs)

    # --- the editor form --------------------------------------------------------------------------
    def create_form(self, obj: Any = None) -> Any:
        ticket_id = request.args.get("ticket")
        if request.method == "GET" and ticket_id and obj is None:
            try:
                obj = knowledge.draft_from_ticket(db.session, ticket_id, actor=current_actor())
            except OutOfScope:
                abort(404)
            except RuleViolation as exc:
                flash(str(exc), "error")
        form = _title_optional(super().create_form(obj))
        if request.method == "GET" and obj is not None:
            form.from_ticket.data = obj.source_ticket_id
        return form

    def edit_form(self, obj: Any = None) -> Any:
        form = _title_optional(super().edit_form(obj))
        if obj is not None and obj.category_id is not None:
            # A category stopped since keeps its articles: offered here, the save does not clear it.
            kept = obj.category_id
            form.category.query_factory = lambda: db.session.scalars(
                select(KbCategory).where(or_(KbCategory.active.is_(True), KbCategory.id == kept))
                .order_by(KbCategory.sort_order, KbCategory.name))
        if request.method == "GET" and obj is not None:
            form.tags_text.data = " ".join(obj.tags or [])
        return form

    def apply_rules(self, form: Any, model: KbArticle, is_created: bool) -> None:
        self.apply_custom_fields(form, model)
        model.kind = ArticleKind(form.kind.data)
        if is_created:
            model.source_ticket_id = params.int_id(form.from_ticket.data) if form.from_ticket.data else None
        with db.session.no_autoflush:
            knowledge.save(db.session, model, actor=current_actor(), tags=knowledge.parse_tags(form.tags_text.data),
                           created=is_created)

    def after_model_change(self, form: Any, model: KbArticle, is_created: bool) -> None:
        if is_created:
            flash(gettext("“%(t)s”已保存为草稿；检查无误后点“发布”", t=model.title), "success")

    # --- the article page -------------------------------------------------------------------------
    @expose("/details/")
    def details_view(self) -> Any:
        article = self.get_one(request.args.get("id"))
        actor = current_actor()
        knowledge.count_view(db.session, article.id)
        commit_bookkeeping()
        custom = [(d.label, custom_fields.display(d, (article.custom or {}).get(d.key)))
                  for d in request_definitions(knowledge.CUSTOM_ENTITY)]
        return self.render(self.details_template, model=article, body=body_html(article.body), custom=custom,
                           moves=knowledge.moves_for(article, actor), my_vote=knowledge.my_vote(
                               db.session, article.id, actor.user_id),
                           ticket_url=links.record_url(self.admin, RecordLink(ListKind.TICKET, article.source_ticket_id))
                           if article.source_ticket_id else None,
                           kind_label=knowledge.KIND_LABELS[ArticleKind(article.kind)],
                           status_label=knowledge.STATUS_LABELS[ArticleStatus(article.status)],
                           status_css=knowledge.STATUS_CSS[ArticleStatus(article.status)],
                           return_url=back_url(request.values.get("url"), url_for(".index_view")))

    @expose("/vote/", methods=["POST"])
    def vote_view(self) -> Any:
        if not CsrfForm(request.form).validate() or request.form.get("helpful") not in ("1", "0"):
            abort(400)
        article = self.get_one(request.args.get("id"))
        helpful = request.form["helpful"] == "1"
        commit_or_explain(lambda: knowledge.vote(db.session, article, actor=current_actor(), helpful=helpful, now=now()),
                          lambda counted: gettext("感谢您的反馈") if counted else gettext("您已评价过这篇文章"))
        return redirect(url_for(".details_view", id=article.id))

    @expose("/move/<move>/", methods=["POST"])
    def move_view(self, move: str) -> Any:
        if move not in knowledge.MOVES or not CsrfForm(request.form).validate():
            abort(400)
        self.require("knowledge.edit")
        article = self.get_one(request.args.get("id"))
        version = params.int_id(request.form.get("version")) if request.form.get("version") else None
        commit_or_explain(lambda: knowledge.move(db.session, article.id, move, actor=current_actor(), now=now(),
                                                 version=version),
                          lambda moved: gettext("“%(t)s”现为“%(s)s”", t=moved.title,
                                                s=knowledge.STATUS_LABELS[ArticleStatus(moved.status)]))
        return redirect(url_for(".details_view", id=article.id))

    def _batch_move(self, ids: list[str], move: str) -> None:
        records = self.scoped_batch(ids)
        actor, when = current_actor(), now()
        with transaction() as outcome:
            for record in records:
                knowledge.move(db.session, record.id, move, actor=actor, now=when)
            outcome.done(gettext("已处理 %(num)d 篇文章。", num=len(records)))

    @action("publish", _l("发布"), _l("发布后所有能查看知识库的同事都能看到，并可在工单回复中引用。确定发布所选文章吗？"))
    def action_publish(self, ids: list[str]) -> None:
        self._batch_move(ids, "publish")

    @action("archive", _l("归档"), _l("归档后只有编辑者能看到。确定归档所选文章吗？"))
    def action_archive(self, ids: list[str]) -> None:
        self._batch_move(ids, "archive")

    @action("unarchive", _l("取消归档"), _l("取消归档的文章回到草稿，需要再次发布。继续吗？"))
    def action_unarchive(self, ids: list[str]) -> None:
        self._batch_move(ids, "unarchive")

    # --- the ticket page's reply picker -----------------------------------------------------------
    @expose("/picker/")
    def picker_view(self) -> Any:
        """Published articles matching `q`, at most ten: title, snippet and the text to insert."""
        term = params.clean_text(request.args.get("q")) or ""
        return jsonify({"results": knowledge.picker(db.session, term[:100])})


class KbCategoryView(SecureModelView):
    """知识库分类: a flat list in the editors' order; a used category is deactivated, not deleted."""

    permission_view = permission_create = permission_edit = permission_delete = "knowledge.edit"
    column_list = ["name", "sort_order", "active"]
    column_labels = {"name": _l("分类名称"), "sort_order": _l("排序"), "active": _l("启用")}
    column_default_sort = [("sort_order", False), ("name", False)]
    form_columns = ["name", "sort_order", "active"]
    form_args = {"name": {"label": _l("分类名称")}, "sort_order": {"label": _l("排序"), "default": 0,
                                                             "description": _l("数字小的排在前面")},
                 "active": {"label": _l("启用"), "default": True, "description": _l("停用后新文章不能再选这个分类")}}

    def check_delete(self, model: KbCategory) -> None:
        knowledge.check_category_delete(db.session, model)


def init_app(app: Any) -> None:
    """For the ticket page's reply picker (templates/admin/knowledge/_reply_picker.html)."""
    @app.context_processor
    def knowledge_globals() -> dict:
        def can_read() -> bool:
            return current_user.is_authenticated and current_actor().can("knowledge.view")

        def can_edit() -> bool:
            return current_user.is_authenticated and knowledge.can_edit(current_actor())

        return {"kechi_can_read_knowledge": can_read, "kechi_can_edit_knowledge": can_edit}


def views() -> list[Any]:
    return [
        KbArticleView(KbArticle, name=_l("知识库"), category=SERVICE, endpoint="kb_article", **fa("fa-book")),
        KbCategoryView(KbCategory, name=_l("知识库分类"), category=SERVICE, endpoint="kb_category", **fa("fa-folder-o")),
    ]
