"""Notifications under the bell."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, case, func, literal, select, update
from sqlalchemy.orm import Session

from models.notification_setting import NotificationSetting
from models.office import Notification, NotificationKind
from models.org import User
from rules import i18n, links, notification_sms
from rules.actor import Actor
from rules.links import Link
from rules.notification_settings import DEFAULTS, Choices, days_ahead, settings_for, stored_time
from rules.scope import clause_for, scoped

DEFAULT_TZ = "Asia/Shanghai"  # config.Config.TIMEZONE: the jobs and views pass theirs
GROUP_OVER = 3  # notify_grouped: more than this many of one kind for one user become one notification

# days_ahead and settings_for are offered here too: producers (tasks, events) ask this module.
__all__ = ["GROUP_OVER", "Notice", "PollAnswer", "days_ahead", "latest_unread", "mark_all_read", "mark_read",
           "newest_id", "notify", "notify_grouped", "poll", "settings_for", "title_of", "title_parts",
           "unread_count"]


def title_parts(title: str | LazyString) -> tuple[str, str | None, dict[str, Any] | None]:
    """A title given as a lazy message (_l("%(n)d 位客户…", n=3)) is kept as its message and values,
    so each reader sees it in their own language, and as its text in the default language for
    search and lists (rules/i18n.py); plain text as it is."""
    text, key, params = i18n.parts(title)
    return text[:200], key, params


def title_of(note: Notification | Row[Any]) -> str:
    """The title in the reader's language (of a notification, or of a row with its title columns)."""
    if note.title_key:
        try:
            return gettext(note.title_key, **(note.title_params or {}))
        except (KeyError, TypeError, ValueError):  # a translation whose placeholders do not fit
            return note.title
    return note.title


def notify(session: Session, *, user_id: int, title: str | LazyString, now: datetime, body: str | None = None,
           link: Link | None = None, dedupe_key: str | None = None,
           kind: NotificationKind = NotificationKind.OTHER, tz: str = DEFAULT_TZ) -> Notification | None:
    """Add a notification; with `dedupe_key`, at most one per user and key (None if it exists).
    Give `title` as a lazy message (see `title_parts`), not as text rendered for the actor, and
    `link` as what it opens (stored as `links.dump` text, made a URL when the reader opens it).
    The open pages of the reader pop it up by themselves (the poll, admin_views/notifications.py)
    if they chose its kind; for the kinds they chose to be texted, an SMS is queued as well
    (rules/notification_sms.py), after their do-not-disturb hours (`tz` is the firm's)."""
    if dedupe_key is not None:
        exists = session.scalar(select(Notification.id).where(Notification.user_id == user_id,
                                                              Notification.dedupe_key == dedupe_key))
        if exists is not None:
            return None
    text, key, params = title_parts(title)
    note = Notification(user_id=user_id, kind=NotificationKind(kind).value, title=text, title_key=key, title_params=params, body=body,
                        link=links.dump(link) if link is not None else None,
                        created_at=now, dedupe_key=dedupe_key)
    session.add(note)
    session.flush()
    choices = settings_for(session, user_id)
    if choices.texts(note.kind):
        notification_sms.queue(session, note, choices, now=now, tz=tz)
    return note


@dataclass(frozen=True)
class Notice:
    """One reminder a producer would raise, for `notify_grouped`."""

    title: str | LazyString
    link: Link | None = None
    dedupe_key: str | None = None
    body: str | None = None


def notify_grouped(session: Session, *, user_id: int, kind: NotificationKind, notices: Sequence[Notice],
                   summary: Callable[[int], LazyString], now: datetime, link: Link | None = None,
                   dedupe_key: str | None = None, limit: int = GROUP_OVER,
                   tz: str = DEFAULT_TZ) -> list[Notification]:
    """Many reminders of one kind for one user from one run (a job's overdue tasks, a recycle
    warning over 10,000 customers): up to `limit` go out one by one; more become ONE notification,
    `summary(n)` (e.g. _l("%(n)d 项待办已逾期", n=n)) opening `link` (their list), with the first
    titles in its body — one pop-up and at most one SMS instead of a flood. Notices raised before
    (their dedupe key exists) are left out first; give the summary a `dedupe_key` (one per day, say)
    so that a job run twice does not group them again."""
    fresh = _not_raised(session, user_id, notices)
    if len(fresh) <= limit:
        raised = [notify(session, user_id=user_id, title=n.title, now=now, body=n.body, link=n.link,
                         dedupe_key=n.dedupe_key, kind=kind, tz=tz) for n in fresh]
        return [note for note in raised if note is not None]
    listed = [title_parts(n.title)[0] for n in fresh[:10]]
    more = [i18n.source_text(_l("……共 %(n)d 条", n=len(fresh)))] if len(fresh) > len(listed) else []
    body = "\n".join(listed + more)
    note = notify(session, user_id=user_id, title=summary(len(fresh)), now=now, body=body, link=link,
                  dedupe_key=dedupe_key, kind=kind, tz=tz)
    return [note] if note is not None else []


def _not_raised(session: Session, user_id: int, notices: Sequence[Notice]) -> list[Notice]:
    keys = [n.dedupe_key for n in notices if n.dedupe_key is not None]
    seen: set[str] = set()
    for start in range(0, len(keys), 500):  # bound the IN list (SQLite's parameter limit)
        seen.update(session.scalars(select(Notification.dedupe_key).where(
            Notification.user_id == user_id, Notification.dedupe_key.in_(keys[start:start + 500]))))
    return [n for n in notices if n.dedupe_key is None or n.dedupe_key not in seen]


def mark_all_read(session: Session, *, actor: Actor, now: datetime) -> int:
    """全部标为已读: one UPDATE, however many."""
    stmt = (update(Notification).where(clause_for(Notification, actor), Notification.read_at.is_(None))
            .values(read_at=now).execution_options(synchronize_session=False))
    return session.execute(stmt).rowcount


def unread_count(session: Session, actor: Actor) -> int:
    stmt = scoped(select(func.count(Notification.id)), Notification, actor)
    return session.scalar(stmt.where(Notification.read_at.is_(None))) or 0


def latest_unread(session: Session, actor: Actor, *, limit: int = 5) -> list[Notification]:
    stmt = scoped(select(Notification), Notification, actor).where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))


def mark_read(session: Session, ids: list[int], *, actor: Actor, now: datetime) -> int:
    stmt = (
        update(Notification)
        .where(Notification.id.in_(ids), clause_for(Notification, actor),
               Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount


POPUPS = 5  # at most this many pop up at once; the rest are under the bell
BELL_CAP = 99  # the bell shows "99+" beyond


@dataclass(frozen=True)
class PollAnswer:
    newest: int
    unread: int
    popups: list[Row[Any]]  # id, kind, title, title_key, title_params: newest first


def poll(session: Session, *, user_id: int, after: int, now: datetime, tz: str = DEFAULT_TZ) -> PollAnswer | None:
    """What an open page asks every half minute: None when nothing arrived after notification
    `after` (one statement on the (user_id, id) index); otherwise the unread count and the new
    unread ones of the kinds the user chose to pop up, none during their do-not-disturb hours
    (a second statement, only then). Plain rows: no ORM objects for 500 open pages to build."""
    newest = select(func.max(Notification.id)).where(Notification.user_id == user_id).scalar_subquery()
    # Counted up to BELL_CAP (the bell says "99+"): 10,000 unread must not cost 10,000 index entries a poll.
    some_unread = (select(literal(1)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
                   .limit(BELL_CAP + 1).subquery())
    unread = select(func.count()).select_from(some_unread).scalar_subquery()
    # The count runs only when something is new (CASE evaluates its branch lazily on both databases).
    head = session.execute(
        select(newest, case((newest > literal(after), unread), else_=literal(None)), NotificationSetting.user_id,
               NotificationSetting.popup_kinds, NotificationSetting.quiet_start, NotificationSetting.quiet_end)
        .select_from(User).outerjoin(NotificationSetting, NotificationSetting.user_id == User.id)
        .where(User.id == user_id)).first()
    if head is None or head[0] is None or head[0] <= after:
        return None
    choices = DEFAULTS if head[2] is None else Choices(
        popup_kinds=frozenset(head[3] or ()), sms_kinds=frozenset(), days_ahead=0,
        quiet_start=stored_time(head[4]), quiet_end=stored_time(head[5]))
    popups: list[Row[Any]] = []
    if choices.popup_kinds and not choices.quiet_at(now, tz):
        popups = list(session.execute(
            select(Notification.id, Notification.kind, Notification.title, Notification.title_key,
                   Notification.title_params)
            # coalesce(): "unread" as a filter on the few new rows, not as an index to walk (the
            # (user_id, read_at) index would make both databases sort all of one's unread ones).
            .where(Notification.user_id == user_id, Notification.id > after,
                   func.coalesce(Notification.read_at, None).is_(None),
                   Notification.kind.in_(sorted(choices.popup_kinds)))
            .order_by(Notification.id.desc()).limit(POPUPS)))
    return PollAnswer(newest=head[0], unread=head[1] or 0, popups=popups)


def newest_id(session: Session, user_id: int) -> int:
    """Where a page's poll starts: what exists when the page is drawn does not pop up."""
    return session.scalar(select(func.max(Notification.id)).where(Notification.user_id == user_id)) or 0
