"""报价单分享链接: an H5 page of one quote for the customer, opened by an unguessable token
without signing in, until the link expires (1 to 90 days) or is revoked.

Each opening is counted on the link (views, first/last viewed) by a guarded UPDATE that says the
link is still live, so a revoke landing between the look-up and the count is honoured; the
quote's `viewed_at` is a Core UPDATE, which leaves its row version alone (a salesperson editing
the quote while the customer reads it is not told "someone changed it"). The first opening of a
link tells the quote's owner under the bell, once. Nothing here commits."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.org import DataScope, User
from models.printing import PrintDocType, PrintTemplate
from models.quote import Quote, QuoteShare
from rules import notifications, scope
from rules.actor import Actor
from rules.errors import InvalidValue, PermissionDenied, RuleViolation
from rules.links import ListKind, RecordLink

PERMISSION = "quote.create"
DEFAULT_DAYS = 7
MAX_DAYS = 90
TOKEN_BYTES = 24  # 32 URL-safe characters: not guessable, short enough for a WeChat message
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class ShareStatus(StrEnum):
    ACTIVE = "active"      # 有效
    EXPIRED = "expired"    # 已过期
    REVOKED = "revoked"    # 已撤销


STATUS_LABELS = {ShareStatus.ACTIVE: _l("有效"), ShareStatus.EXPIRED: _l("已过期"),
                 ShareStatus.REVOKED: _l("已撤销")}
STATUS_CSS = {ShareStatus.ACTIVE: "success", ShareStatus.EXPIRED: "secondary", ShareStatus.REVOKED: "danger"}


class ShareRefused(RuleViolation):
    """The link cannot be made or revoked (an old version of the quote, revoked already)."""


def status_of(share: QuoteShare, now: datetime) -> ShareStatus:
    if share.revoked_at is not None:
        return ShareStatus.REVOKED
    return ShareStatus.ACTIVE if share.expires_at > now else ShareStatus.EXPIRED


def expiry_days(raw: Any) -> int:
    """The days a new link lasts, as typed (blank: the default)."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return DEFAULT_DAYS
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise InvalidValue(_l("有效天数应为 1 到 %(m)d 之间的整数", m=MAX_DAYS))
    return int(text)


def _require(actor: Actor) -> None:
    if not actor.can(PERMISSION):
        raise PermissionDenied(_l("您没有分享报价单的权限"))


def _writable_quote(session: Session, quote_id: Any, actor: Actor) -> Quote:
    """The quote, when the actor may change it (OutOfScope otherwise: the page answers 404)."""
    return scope.get_in_scope(session, Quote, quote_id, actor, clause=scope.write_clause_for(Quote, actor))


def layouts(session: Session) -> list[PrintTemplate]:
    """The 报价单 print templates a link may be shown in, the default first."""
    return list(session.scalars(select(PrintTemplate).where(
        PrintTemplate.doc_type == PrintDocType.QUOTE, PrintTemplate.active.is_(True), PrintTemplate.deleted_at.is_(None))
        .order_by(PrintTemplate.is_default.desc(), PrintTemplate.name, PrintTemplate.id)))


def _layout(session: Session, raw: Any) -> int | None:
    """The chosen template's id (blank: whichever is the default when the link is opened)."""
    if raw in (None, ""):
        return None
    wanted = str(raw).strip()
    for template in layouts(session):
        if str(template.id) == wanted:
            return template.id
    raise InvalidValue(_l("所选的打印模板不存在或已停用"))


def create(session: Session, quote_id: Any, *, days: Any, actor: Actor, now: datetime,
           template_id: Any = None) -> QuoteShare:
    """A new link to the quote, lasting `days` (default 7, at most 90), shown in the chosen
    报价单 print template (none chosen: the default one)."""
    _require(actor)
    quote = _writable_quote(session, quote_id, actor)
    lasting = expiry_days(days)
    if quote.superseded_by_id is not None:
        raise ShareRefused(_l("报价单 %(n)s 已有新版本，请分享最新版本", n=str(quote)))
    share = QuoteShare(quote_id=quote.id, token=secrets.token_urlsafe(TOKEN_BYTES), created_by_id=actor.user_id,
                       created_at=now, expires_at=now + timedelta(days=lasting), views=0,
                       template_id=_layout(session, template_id))
    session.add(share)
    session.flush()
    return share


def revoke(session: Session, share_id: Any, *, actor: Actor, now: datetime) -> QuoteShare:
    """撤销: the link stops working at once (its counts stay for the record)."""
    _require(actor)
    share = scope.get_in_scope(session, QuoteShare, share_id, actor)
    _writable_quote(session, share.quote_id, actor)
    if share.revoked_at is not None:
        raise ShareRefused(_l("该分享链接已撤销"))
    share.revoked_at = now
    share.revoked_by_id = actor.user_id
    session.flush()
    return share


def for_quote(session: Session, quote_id: int) -> list[QuoteShare]:
    """The quote's links, newest first (the caller shows them on a quote page it already scoped)."""
    return list(session.scalars(select(QuoteShare).where(QuoteShare.quote_id == quote_id)
                                .order_by(QuoteShare.created_at.desc(), QuoteShare.id.desc())))


def _live(now: datetime) -> Any:
    return (QuoteShare.revoked_at.is_(None), QuoteShare.expires_at > now)


@dataclass(frozen=True)
class Opened:
    share: QuoteShare
    quote: Quote


def open_shared(session: Session, token: str, *, now: datetime, count: bool = True) -> Opened | None:
    """The quote behind a live link, its opening counted (`count=False`: a colleague signed in
    looking at the link, which is not the customer reading). None for an unknown, expired or
    revoked link, or a deleted quote: the page says only that the link is no longer valid."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        return None
    found = session.execute(
        select(QuoteShare, Quote).join(Quote, Quote.id == QuoteShare.quote_id)
        .where(QuoteShare.token == token, *_live(now), Quote.deleted_at.is_(None))).first()
    if found is None:
        return None
    share, quote = found
    if count:
        counted = session.execute(
            update(QuoteShare).where(QuoteShare.id == share.id, *_live(now))
            .values(views=QuoteShare.views + 1, last_viewed_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if counted != 1:  # revoked a moment ago
            return None
        # Two first openings at once: the row lock lets one of them find it still unseen.
        first = session.execute(
            update(QuoteShare).where(QuoteShare.id == share.id, QuoteShare.first_viewed_at.is_(None))
            .values(first_viewed_at=now).execution_options(synchronize_session=False)).rowcount == 1
        session.execute(update(Quote).where(Quote.id == quote.id)
                        .values(viewed_at=now, updated_at=Quote.updated_at)
                        .execution_options(synchronize_session=False))
        if first:
            _tell_owner(session, share, quote, now=now)
        session.refresh(share)
    return Opened(share, quote)


def _tell_owner(session: Session, share: QuoteShare, quote: Quote, *, now: datetime) -> None:
    """The owner learns the customer opened the quote: once per link."""
    notifications.notify(session, user_id=quote.owner_id, now=now,
                         title=_l("客户查看了报价单 %(n)s（%(c)s）", n=str(quote), c=quote.customer.name),
                         link=RecordLink(ListKind.QUOTE, quote.id), dedupe_key=f"quote_share_viewed:{share.id}")


def reader(session: Session, share: QuoteShare) -> Actor:
    """Whom the public page reads the quote as, once the token has been checked: the link itself
    is the permission to see this one quote, so the scope is everything and the only permission
    is reading quotes (this actor serves the one print-data call for the linked quote, nothing
    else); 打印人 on the page is the colleague who made the link."""
    name = session.scalar(select(User.display_name).where(User.id == share.created_by_id)) or ""
    return Actor(user_id=share.created_by_id, display_name=name, department_id=None, department_path=None,
                 report_path="", data_scope=DataScope.ALL, permissions=frozenset({"quote.view"}), has_shares=False)


def watermark(customer_name: str, day: Any) -> str:
    """The text repeated across the page: whose copy it is, that it is for reading, and when."""
    return f"{customer_name} {_l('仅供查看')} {day.isoformat()}"
