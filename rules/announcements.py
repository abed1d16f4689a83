"""公告: writing, publishing and withdrawing announcements, and reading the feed.

Who may read one is the data-scope rule `scope.announcement_clause` (published, not expired,
addressed to the reader's department or the whole company). Functions here flush; the caller
commits.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import JSON, ColumnElement, Row, delete, exists, false, insert, literal, select, true
from sqlalchemy.orm import Session, aliased, joinedload

from models.announcement import Announcement, announcement_departments
from models.base import UTCDateTime
from models.office import Notification, NotificationKind
from models.org import DataScope, Department, User
from rules import links, notification_sms, notifications
from rules.actor import Actor
from rules.errors import InvalidValue
from rules.links import ListKind, RecordLink
from rules.messaging import clean_html, html_to_text
from rules.scope import clause_for

# Anything that looks like a tag makes the body HTML (cleaned by nh3); otherwise it is plain
# text, shown escaped with its line breaks.
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")


def is_html(body: str | None) -> bool:
    return bool(_TAG.search(body or ""))


def clean_body(body: str | None) -> str:
    """What is stored: HTML cleaned of scripts, handlers and javascript: links, or the plain
    text as typed (trailing blanks trimmed)."""
    text = (body or "").replace("\r\n", "\n").strip()
    return clean_html(text) if is_html(text) else text


def body_html(body: str | None) -> Markup:
    """The body for a page. Cleaned again on the way out: a row written around the form (the
    importer, SQL) cannot carry a script either."""
    if is_html(body):
        return Markup(clean_html(body or ""))
    return Markup("<br>\n").join(escape(line) for line in (body or "").split("\n"))


def excerpt(body: str | None, length: int = 80) -> str:
    text = " ".join((html_to_text(body or "") if is_html(body) else (body or "")).split())
    return text if len(text) <= length else text[:length].rstrip() + "…"


def addressable(actor: Actor) -> ColumnElement[bool]:
    """Departments the actor may address: any with a company-wide data scope, otherwise their
    own department and the ones below it."""
    if actor.data_scope is DataScope.ALL:
        return true()
    if not actor.department_path:
        return false()
    return Department.path.startswith(actor.department_path)


def check(announcement: Announcement, *, actor: Actor) -> None:
    """A title, a body and someone to read it, within the reach of the one who sends it."""
    announcement.title = (announcement.title or "").strip()
    if not announcement.title:
        raise InvalidValue(_l("请填写公告标题"))
    if not (announcement.body or "").strip():
        raise InvalidValue(_l("请填写公告内容"))
    if not announcement.whole_company and not announcement.departments:
        raise InvalidValue(_l("请选择接收部门，或勾选“全公司”"))
    if actor.data_scope is not DataScope.ALL:
        if announcement.whole_company:
            raise InvalidValue(_l("您只能向本部门及下属部门发布公告，请取消“全公司”并选择部门"))
        if any(not d.path.startswith(actor.department_path or "/-/") for d in announcement.departments):
            raise InvalidValue(_l("您只能向本部门及下属部门发布公告"))


def expired(announcement: Announcement, today: date) -> bool:
    """Past its 有效期至 (the day itself still counts), as scope.announcement_clause reads it."""
    return announcement.expires_on is not None and announcement.expires_on < today


def publish(session: Session, announcement: Announcement, *, actor: Actor, now: datetime) -> int:
    """Publish (or publish again, moving it to the top) and put it under the audience's bell.
    Returns how many people were notified: one INSERT … SELECT, never a loop over users;
    someone already notified of this announcement is not notified twice."""
    check(announcement, actor=actor)
    if expired(announcement, actor.today):
        raise InvalidValue(_l("公告“%(t)s”的有效期已过，请先修改有效期再发布", t=announcement.title))
    announcement.published_at = now
    session.flush()
    return _notify_audience(session, announcement, now=now)


def withdraw(session: Session, announcement: Announcement) -> bool:
    """Back to draft: nobody but its managers sees it, and its unread bell notices go (their
    link would lead nowhere). False if it was not published."""
    if announcement.published_at is None:
        return False
    announcement.published_at = None
    session.execute(delete(Notification).where(Notification.dedupe_key == _notice_key(announcement),
                                               Notification.read_at.is_(None))
                    .execution_options(synchronize_session=False))
    return True


def _notice_key(announcement: Announcement) -> str:
    return f"announcement:{announcement.id}"


def _notify_audience(session: Session, announcement: Announcement, *, now: datetime) -> int:
    key = _notice_key(announcement)
    title, title_key, title_params = notifications.title_parts(_l("新公告：%(t)s", t=announcement.title))
    already = exists().where(Notification.user_id == User.id, Notification.dedupe_key == key)
    users = select(
        User.id, literal(title), literal(title_key), literal(title_params, JSON()),
        literal(links.dump(RecordLink(ListKind.ANNOUNCEMENT, announcement.id))), literal(now, UTCDateTime()),
        literal(key), literal(NotificationKind.ANNOUNCEMENT.value),
    ).where(User.active.is_(True), User.id != announcement.author_id, ~already)
    if not announcement.whole_company:
        chosen = aliased(Department)
        addressed = (
            select(announcement_departments.c.department_id)
            .join(chosen, chosen.id == announcement_departments.c.department_id)
            .where(announcement_departments.c.announcement_id == announcement.id,
                   Department.path.startswith(chosen.path))
            .exists()
        )
        users = users.join(Department, User.department_id == Department.id).where(addressed)
    stmt = insert(Notification).from_select(
        ["user_id", "title", "title_key", "title_params", "link", "created_at", "dedupe_key", "kind"], users)
    # SQLAlchemy keeps an INSERT's row count only when asked (PostgreSQL reported -1 people).
    count = session.execute(stmt.execution_options(preserve_rowcount=True)).rowcount
    notification_sms.queue_bulk(session, kind=NotificationKind.ANNOUNCEMENT, dedupe_key=key, now=now)
    return count


def feed(session: Session, actor: Actor, *, limit: int, offset: int = 0) -> list[Row[Any]]:
    """What the actor may read, pinned first, newest first: id, title, pinned, published_at.
    One query down `ix_announcements_feed`."""
    stmt = (
        select(Announcement.id, Announcement.title, Announcement.pinned, Announcement.published_at)
        .where(clause_for(Announcement, actor))
        .order_by(Announcement.pinned.desc(), Announcement.published_at.desc(), Announcement.id.desc())
        .limit(limit).offset(offset)
    )
    return list(session.execute(stmt))


def page(session: Session, actor: Actor, *, page: int, per_page: int) -> tuple[list[Announcement], bool]:
    """One page of the 公告 list (whole rows, their authors with them) and whether a next one exists."""
    stmt = (
        select(Announcement).options(joinedload(Announcement.author))
        .where(clause_for(Announcement, actor))
        .order_by(Announcement.pinned.desc(), Announcement.published_at.desc(), Announcement.id.desc())
        .limit(per_page + 1).offset((page - 1) * per_page)
    )
    rows = list(session.scalars(stmt))
    return rows[:per_page], len(rows) > per_page


def audience_label(announcement: Announcement) -> str:
    if announcement.whole_company:
        return str(_l("全公司"))
    return "、".join(d.name for d in announcement.departments)

