"""知识库 and 问答库: writing, publishing and archiving articles, who reads what, 有帮助/没帮助,
the ticket reply picker and 转为知识库文章. Functions flush; the caller commits.

The knowledge base is company-wide (scope.UNSCOPED says why), but a draft or an archived article
is for editors only: every path (list, count, search, page, picker) narrows through
`visible_clause`, and a page outside it answers 404 like any record out of scope."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, delete, func, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.knowledge import ArticleKind, ArticleStatus, KbArticle, KbArticleTag, KbCategory, KbHelpfulVote
from models.service import EntryKind, Ticket, TicketEntry
from rules import audit, kb_search, scope
from rules.actor import Actor
from rules.announcements import clean_body, is_html
from rules.errors import ChangedMeanwhile, InvalidValue, PermissionDenied
from rules.messaging import html_to_text

EDIT = "knowledge.edit"
CUSTOM_ENTITY = "kb_article"
PICKER_RESULTS = 10
MAX_TAGS = 10
TAG_LENGTH = 32

KIND_LABELS = {ArticleKind.ARTICLE: _l("文章"), ArticleKind.QA: _l("问答")}
STATUS_LABELS = {ArticleStatus.DRAFT: _l("草稿"), ArticleStatus.PUBLISHED: _l("已发布"),
                 ArticleStatus.ARCHIVED: _l("已归档")}
STATUS_CSS = {ArticleStatus.DRAFT: "secondary", ArticleStatus.PUBLISHED: "success", ArticleStatus.ARCHIVED: "light"}


def can_edit(actor: Actor) -> bool:
    return actor.can(EDIT)


def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """Editors see every article; readers only published ones."""
    if can_edit(actor):
        return true()
    return KbArticle.status == ArticleStatus.PUBLISHED.value


def get_visible(session: Session, article_id: Any, actor: Actor) -> KbArticle:
    return scope.get_in_scope(session, KbArticle, article_id, actor, visible_clause(actor))


# --- writing ------------------------------------------------------------------------------------

_TAG_SPLIT = re.compile(r"[,，、;；\s]+")


def parse_tags(raw: str | None) -> list[str]:
    """标签 as typed in one box (逗号、顿号或空格分隔), each once, in the order typed."""
    tags: list[str] = []
    for tag in _TAG_SPLIT.split(raw or ""):
        tag = tag.strip().lstrip("#")
        if not tag or tag in tags:
            continue
        if len(tag) > TAG_LENGTH:
            raise InvalidValue(_l("标签“%(t)s”太长（最多 %(n)d 个字）", t=tag, n=TAG_LENGTH))
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidValue(_l("标签最多 %(n)d 个", n=MAX_TAGS))
    return tags


def _plain(text_: str | None) -> str:
    """A question or answer is plain text (it goes into a reply as it is): markup pasted in is
    reduced to its text, a script with its content removed."""
    text_ = (text_ or "").replace("\r\n", "\n").strip()
    return html_to_text(text_) if is_html(text_) else text_


def clean(article: KbArticle) -> None:
    """What is stored: the body cleaned of scripts and on* handlers (nh3, as 公告), question and
    answer as plain text; then what each kind needs."""
    article.title = (article.title or "").strip()
    article.body = clean_body(article.body) or None
    article.question = _plain(article.question) or None
    article.answer = _plain(article.answer) or None
    if article.kind == ArticleKind.QA:
        if not article.question:
            raise InvalidValue(_l("请填写问题"))
        if not article.answer:
            raise InvalidValue(_l("请填写答案"))
        if not article.title:
            article.title = article.question.split("\n", 1)[0][:200]
    elif not article.body:
        raise InvalidValue(_l("请填写文章正文"))
    if not article.title:
        raise InvalidValue(_l("请填写标题"))


def save(session: Session, article: KbArticle, *, actor: Actor, tags: list[str], created: bool) -> None:
    """Create or edit (the form's save): cleaned, tagged, indexed. A new article is a draft of
    its author; publishing is a move of its own."""
    if not can_edit(actor):
        raise PermissionDenied(_l("您没有编写知识库文章的权限"))
    clean(article)
    article.tags = tags
    if created:
        article.author_id = actor.user_id
        article.status = ArticleStatus.DRAFT
        session.add(article)
    if article.source_ticket_id is not None and created:
        scope.get_in_scope(session, Ticket, article.source_ticket_id, actor)  # 转为知识库文章 from one's own tickets
    session.flush()
    session.execute(delete(KbArticleTag).where(KbArticleTag.article_id == article.id))
    if tags:
        session.execute(insert(KbArticleTag), [{"article_id": article.id, "tag": t} for t in tags])
    kb_search.refresh(session, article)


# --- the state machine ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Move:
    sources: tuple[ArticleStatus, ...]
    target: ArticleStatus
    label: Any


MOVES: dict[str, Move] = {
    "publish": Move((ArticleStatus.DRAFT,), ArticleStatus.PUBLISHED, _l("发布")),
    "archive": Move((ArticleStatus.DRAFT, ArticleStatus.PUBLISHED), ArticleStatus.ARCHIVED, _l("归档")),
    "unarchive": Move((ArticleStatus.ARCHIVED,), ArticleStatus.DRAFT, _l("取消归档")),
}


def moves_for(article: KbArticle, actor: Actor) -> list[tuple[str, Any]]:
    """The buttons of the article page: (move, label)."""
    if not can_edit(actor):
        return []
    return [(name, m.label) for name, m in MOVES.items() if article.status in m.sources]


def move(session: Session, article_id: Any, action: str, *, actor: Actor, now: datetime,
         version: int | None = None) -> KbArticle:
    """One guarded UPDATE from the state the page showed (its row version, when the page posts
    it) to the move's target; an audit row for the move. 取消归档 returns to 草稿: an archived
    text is looked over again before readers see it."""
    if not can_edit(actor):
        raise PermissionDenied(_l("您没有发布或归档知识库文章的权限"))
    rule = MOVES.get(action)
    if rule is None:
        raise InvalidValue(_l("不支持的操作"))
    article = get_visible(session, article_id, actor)
    state = ArticleStatus(article.status)
    seen = version if version is not None else article.version
    refused = _l("文章“%(t)s”的状态已被他人修改为“%(s)s”，请刷新后再试", t=article.title, s=STATUS_LABELS[state])
    if version is not None and version != article.version:
        raise ChangedMeanwhile(refused)
    if state not in rule.sources:
        raise InvalidValue(_l("文章“%(t)s”当前为“%(s)s”，不能%(m)s", t=article.title, s=STATUS_LABELS[state],
                              m=rule.label))
    values: dict[str, Any] = {"status": rule.target.value, "version": KbArticle.version + 1, "updated_at": now}
    if rule.target is ArticleStatus.PUBLISHED:
        values["published_at"] = now
    moved = session.execute(
        update(KbArticle).where(KbArticle.id == article.id, KbArticle.status == state.value, KbArticle.version == seen)
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        session.expire(article)
        current = ArticleStatus(session.scalar(select(KbArticle.status).where(KbArticle.id == article.id)))
        raise ChangedMeanwhile(_l("文章“%(t)s”的状态已被他人修改为“%(s)s”，请刷新后再试", t=article.title,
                                  s=STATUS_LABELS[current]))
    ctx = session.info.get(audit.INFO_KEY) or audit.AuditContext(actor.user_id, actor.display_name)
    audit.record(session, ctx=ctx, action="update", entity=KbArticle.__name__, entity_id=str(article.id),
                 details={"status": [state.value, rule.target.value]})
    session.refresh(article)
    return article


# --- readers ------------------------------------------------------------------------------------

def vote(session: Session, article: KbArticle, *, actor: Actor, helpful: bool, now: datetime) -> bool:
    """有帮助 / 没帮助, counted once per person and article. False: this person had voted (the
    count is unchanged). The unique key decides, so two clicks at once count once too."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(KbHelpfulVote).values(article_id=article.id, user_id=actor.user_id, helpful=helpful, at=now)
    added = session.execute(stmt.on_conflict_do_nothing().execution_options(preserve_rowcount=True)).rowcount
    if added != 1:
        return False
    column = KbArticle.helpful_yes if helpful else KbArticle.helpful_no
    session.execute(update(KbArticle).where(KbArticle.id == article.id)
                    .values({column: column + 1, KbArticle.updated_at: KbArticle.updated_at})  # not an edit
                    .execution_options(synchronize_session=False))
    session.refresh(article)
    return True


def my_vote(session: Session, article_id: int, user_id: int) -> bool | None:
    return session.scalar(select(KbHelpfulVote.helpful).where(KbHelpfulVote.article_id == article_id,
                                                              KbHelpfulVote.user_id == user_id))


def count_view(session: Session, article_id: int) -> None:
    """阅读次数: one UPDATE, not a read-modify-write; neither the version nor 最后修改 moves (a
    read is not an edit, and nobody's open form goes stale)."""
    session.execute(update(KbArticle).where(KbArticle.id == article_id)
                    .values(views=KbArticle.views + 1, updated_at=KbArticle.updated_at)
                    .execution_options(synchronize_session=False))


def text_of(article: KbArticle) -> str:
    """What goes into a reply: a Q&A's answer, or an article's body as plain text."""
    if article.kind == ArticleKind.QA:
        return article.answer or ""
    return html_to_text(article.body or "") if is_html(article.body) else (article.body or "")


def picker(session: Session, term: str, *, limit: int = PICKER_RESULTS) -> list[dict[str, Any]]:
    """The ticket reply picker: published articles only (whoever asks), at most `limit`, newest
    first, each with its title, a snippet around the term and the text to insert."""
    found = kb_search.clause(session, term)
    if found is None:
        return []
    rows = session.execute(
        select(KbArticle).where(found, KbArticle.status == ArticleStatus.PUBLISHED.value)
        # Newest first, as the list: the published index walks in this order and stops at ten
        # even when a common word matches most of the knowledge base.
        .order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(min(limit, PICKER_RESULTS))).scalars()
    return [{"id": a.id, "title": a.title, "kind": a.kind,
             "snippet": kb_search.snippet("\n".join(filter(None, [a.question, text_of(a)])), term),
             "answer": text_of(a)} for a in rows]


def draft_from_ticket(session: Session, ticket_id: Any, *, actor: Actor) -> KbArticle:
    """转为知识库文章: a Q&A prefilled from a ticket in the actor's scope (else OutOfScope → 404):
    its subject as the title and question, its last reply to the customer (or its description)
    as the answer. Not saved: the editor looks it over first."""
    if not can_edit(actor):
        raise PermissionDenied(_l("您没有编写知识库文章的权限"))
    ticket = scope.get_in_scope(session, Ticket, ticket_id, actor)
    reply = session.scalar(select(TicketEntry.body).where(TicketEntry.ticket_id == ticket.id,
                                                          TicketEntry.kind == EntryKind.REPLY.value,
                                                          TicketEntry.body.is_not(None))
                           .order_by(TicketEntry.id.desc()).limit(1))
    question = ticket.subject if not ticket.description else f"{ticket.subject}\n{ticket.description}"
    return KbArticle(kind=ArticleKind.QA, title=ticket.subject, question=question,
                     answer=reply or ticket.description or "", source_ticket_id=ticket.id, tags=[])


def check_category_delete(session: Session, category: KbCategory) -> None:
    used = session.scalar(select(func.count()).select_from(KbArticle).where(KbArticle.category_id == category.id))
    if used:
        raise InvalidValue(_l("分类“%(c)s”下还有 %(n)d 篇文章，不能删除；可以改为停用", c=category.name, n=used))

