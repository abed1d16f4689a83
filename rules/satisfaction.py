"""满意度回访: after a ticket is resolved the customer is asked for a score of 1–5 (and a word if
they like), by an SMS link to a one-question page that needs no sign-in, or by the agent on the
phone who enters the answer on the ticket page. Either way the score lands on the survey, on
Ticket.satisfaction_score (lists and reports read it there) and on the ticket's timeline (a
VISIT entry); a low score (≤ 2) tells the assignee.

Surveys are made by a periodic job (`survey_due`, every 10 minutes) that looks for tickets
resolved in the last `LOOK_BACK` with no survey yet: one survey per ticket, made once (a unique
ticket_id), its SMS keyed f"survey:{ticket_id}" in the outbox, so two runs send one message.

The link's token is random and shown only in the SMS; the survey keeps its SHA-256 hash, so the
database alone cannot answer for the customer. The link works once (a guarded UPDATE WHERE
answered_at IS NULL) until it expires (`survey_days`, default 7). Nothing here commits."""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from models.care import SatisfactionSurvey, SurveyChannel
from models.messaging import Channel, Outbox, OutboxStatus
from models.office import NotificationKind
from models.service import EntryKind, StatusCategory, Ticket, TicketEntry
from rules import audit, care_settings, i18n, messaging, notifications, scope
from rules.actor import Actor
from rules.errors import InvalidValue, PermissionDenied, RuleViolation
from rules.links import ListKind, RecordLink

PERMISSION = "service.handle"
TOKEN_BYTES = 24      # 32 URL-safe characters
LOW_SCORE = 2         # this or less tells the assignee
LOOK_BACK = timedelta(days=3)  # the job catches up after this much downtime, no further back
BATCH = 500
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")
DONE_CATEGORIES = (StatusCategory.RESOLVED.value, StatusCategory.CLOSED.value)

SCORE_LABELS = {1: _l("非常不满意"), 2: _l("不满意"), 3: _l("一般"), 4: _l("满意"), 5: _l("非常满意")}


class SurveyState(StrEnum):
    WAITING = "waiting"    # 待发送 (no mobile, or not sent yet)
    SENT = "sent"          # 已发送，待评价
    ANSWERED = "answered"  # 已评价
    EXPIRED = "expired"    # 链接已过期


STATE_LABELS = {SurveyState.WAITING: _l("未发送"), SurveyState.SENT: _l("已发送，待评价"),
                SurveyState.ANSWERED: _l("已评价"), SurveyState.EXPIRED: _l("链接已过期")}
STATE_CSS = {SurveyState.WAITING: "secondary", SurveyState.SENT: "info", SurveyState.ANSWERED: "success",
             SurveyState.EXPIRED: "warning"}


class SurveyRefused(RuleViolation):
    """A survey cannot be sent or answered (the ticket is not resolved, it was answered)."""


def state_of(survey: SatisfactionSurvey, now: datetime) -> SurveyState:
    if survey.answered_at is not None:
        return SurveyState.ANSWERED
    if survey.sent_at is None:
        return SurveyState.WAITING
    return SurveyState.SENT if survey.expires_at is not None and survey.expires_at > now else SurveyState.EXPIRED


def state_clause(state: SurveyState, now: datetime) -> Any:
    """The surveys in `state` (the 满意度回访 list's filter); agrees with state_of."""
    answered = SatisfactionSurvey.answered_at.is_not(None)
    if state is SurveyState.ANSWERED:
        return answered
    if state is SurveyState.WAITING:
        return and_(~answered, SatisfactionSurvey.sent_at.is_(None))
    live = SatisfactionSurvey.expires_at > now
    sent = and_(~answered, SatisfactionSurvey.sent_at.is_not(None))
    return and_(sent, live) if state is SurveyState.SENT else and_(sent, or_(SatisfactionSurvey.expires_at.is_(None), ~live))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def parse_score(raw: Any) -> int:
    text = str(raw if raw is not None else "").strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 5:
        raise InvalidValue(_l("请选择 1 到 5 分"))
    return int(text)


def check_comment(raw: Any) -> str | None:
    text = str(raw if raw is not None else "").strip()  # the customer's words as typed (no NFKC folding)
    if len(text) > 500:
        raise InvalidValue(_l("评价内容不能超过 500 字"))
    return text or None


# --- making and sending ---------------------------------------------------------------------------

def ensure_survey(session: Session, ticket: Ticket, now: datetime) -> SatisfactionSurvey:
    survey = session.scalar(select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == ticket.id))
    if survey is None:
        survey = SatisfactionSurvey(ticket_id=ticket.id, customer_id=ticket.customer_id, contact_id=ticket.contact_id,
                                    agent_id=ticket.assignee_id, sends=0, created_at=now)
        session.add(survey)
        session.flush()
    return survey


def _recipient(session: Session, ticket: Ticket) -> messaging.Recipient | None:
    """The ticket's contact's mobile, else the customer's (opt-outs respected)."""
    contacts = [ticket.contact] if ticket.contact is not None and ticket.contact.mobile else None
    found = messaging.collect(session, [] if contacts else [ticket.customer], channel=Channel.SMS, contacts=contacts)
    return found.send[0] if found.send else None


def _send(session: Session, survey: SatisfactionSurvey, ticket: Ticket, *, link: Callable[[str], str],
          now: datetime, key: str) -> bool:
    """A fresh token (the old link stops working), a new expiry, and the SMS in the outbox under
    `key`. False when the customer has no mobile to text (or refuses messages)."""
    recipient = _recipient(session, ticket)
    if recipient is None:
        return False
    days = care_settings.load(session)["survey_days"]
    token = secrets.token_urlsafe(TOKEN_BYTES)
    body = ("{称呼}您好，您的服务工单" + ticket.number + "已处理完毕，请为本次服务打分：" + link(token)
            + "（" + str(days) + "天内有效）")
    batch = messaging.queue_messages(session, [recipient], channel=Channel.SMS, body=body, sender=None, now=now,
                                     title=f"满意度回访 {ticket.number}", source="survey", key=lambda _r: key,
                                     owner_as_sender=False, respect_quiet_hours=True)  # a night's resolution waits for morning
    if batch.total == 0:  # this key was queued before: the message exists, nothing new is sent
        session.delete(batch)
        session.flush()
        return survey.sent_at is not None
    survey.token_hash = hash_token(token)
    survey.sent_at = now
    survey.expires_at = now + timedelta(days=days)
    survey.sends = (survey.sends or 0) + 1
    session.flush()
    return True


def survey_due(session: Session, *, now: datetime, link: Callable[[str], str] | None) -> list[int]:
    """Every 10 minutes: a survey for each ticket resolved lately that has none; an SMS when
    sending is on, a link address is known and the customer has a mobile (the messages go out
    with messaging's every-minute dispatch). Returns the tickets' ids."""
    config = care_settings.load(session)
    if not config["survey_auto"]:
        return []
    has_survey = exists().where(SatisfactionSurvey.ticket_id == Ticket.id)
    tickets = list(session.scalars(select(Ticket).where(
        Ticket.resolved_at >= now - LOOK_BACK, Ticket.resolved_at <= now,
        Ticket.status_category.in_(DONE_CATEGORIES), ~has_survey).order_by(Ticket.resolved_at, Ticket.id).limit(BATCH)))
    # None of them has a survey (the query says so): made together, one flush for the lot.
    surveys = [SatisfactionSurvey(ticket_id=t.id, customer_id=t.customer_id, contact_id=t.contact_id,
                                  agent_id=t.assignee_id, sends=0, created_at=now) for t in tickets]
    session.add_all(surveys)
    session.flush()
    if link is not None:
        for ticket, survey in zip(tickets, surveys):
            _send(session, survey, ticket, link=link, now=now, key=f"survey:{ticket.id}")
    return [t.id for t in tickets]


def _ticket(session: Session, ticket_id: Any, actor: Actor) -> Ticket:
    if not actor.can(PERMISSION):
        raise PermissionDenied(_l("您没有回访工单的权限"))
    ticket = scope.get_in_scope(session, Ticket, ticket_id, actor)
    if ticket.status_category not in DONE_CATEGORIES:
        raise SurveyRefused(_l("工单解决后才能回访"))
    return ticket


def send_link(session: Session, ticket_id: Any, *, actor: Actor, now: datetime, link: Callable[[str], str]) -> SatisfactionSurvey:
    """发送/重发评价短信 from the ticket page: a new link (the earlier one stops working)."""
    ticket = _ticket(session, ticket_id, actor)
    survey = ensure_survey(session, ticket, now)
    if survey.answered_at is not None:
        raise SurveyRefused(_l("客户已评价，无需再发送"))
    if survey.sends:
        # The earlier SMS may still wait (quiet hours): a new token now would send it out dead.
        earlier = f"survey:{ticket.id}" if survey.sends == 1 else f"survey:{ticket.id}:{survey.sends}"
        if session.scalar(select(Outbox.id).where(Outbox.key == earlier, Outbox.status.in_(
                (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)))) is not None:
            raise SurveyRefused(_l("上一条评价短信还没有发出（可能在等免打扰时段结束），请稍后再重发"))
    key = f"survey:{ticket.id}" if not survey.sends else f"survey:{ticket.id}:{survey.sends + 1}"
    if not _send(session, survey, ticket, link=link, now=now, key=key):
        raise SurveyRefused(_l("客户没有可接收短信的手机号，请电话回访后录入评分"))
    return survey


# --- answering ------------------------------------------------------------------------------------

def _record(session: Session, survey: SatisfactionSurvey, *, score: int, comment: str | None,
            author_id: int | None, now: datetime) -> None:
    """What an answer changes besides the survey: the ticket's score (a Core UPDATE that leaves
    the ticket's version alone: an agent editing it meanwhile is not told someone changed it),
    the timeline, and the assignee's bell for a low score."""
    before = session.scalar(select(Ticket.satisfaction_score).where(Ticket.id == survey.ticket_id))
    session.execute(update(Ticket).where(Ticket.id == survey.ticket_id)
                    .values(satisfaction_score=score, updated_at=Ticket.updated_at)
                    .execution_options(synchronize_session=False))
    ctx = session.info.get(audit.INFO_KEY)
    if ctx is not None:  # the guarded UPDATEs pass the session's own log by: written here
        audit.record(session, ctx=ctx, action="update", entity=SatisfactionSurvey.__name__,
                     entity_id=str(survey.id), details={"score": [None, score], "comment": [None, comment],
                                                        "channel": [None, SurveyChannel.SMS.value if author_id is None
                                                                    else SurveyChannel.AGENT.value]})
        audit.record(session, ctx=ctx, action="update", entity=Ticket.__name__, entity_id=str(survey.ticket_id),
                     details={"satisfaction_score": [before, score]})
    said = _l("客户短信评价：%(s)d 分", s=score) if author_id is None else _l("电话回访录入：%(s)d 分", s=score)
    body = i18n.source_text(said) + (f"。{comment}" if comment else "")
    session.add(TicketEntry(ticket_id=survey.ticket_id, kind=EntryKind.VISIT, author_id=author_id, body=body, at=now))
    ticket = session.get(Ticket, survey.ticket_id)
    if ticket is not None:
        session.refresh(ticket, ["satisfaction_score"])
        if score <= LOW_SCORE and ticket.assignee_id is not None:
            notifications.notify(session, user_id=ticket.assignee_id, now=now, kind=NotificationKind.CARE,
                                 title=_l("工单 %(n)s 的满意度只有 %(s)d 分，请跟进", n=ticket.number, s=score),
                                 link=RecordLink(ListKind.TICKET, ticket.id), dedupe_key=f"survey_low:{survey.id}")
    session.flush()


def record_by_agent(session: Session, ticket_id: Any, *, score: Any, comment: Any, actor: Actor,
                    now: datetime) -> SatisfactionSurvey:
    """The agent called the customer and enters the answer; the SMS link then says it was answered."""
    ticket = _ticket(session, ticket_id, actor)
    value, text = parse_score(score), check_comment(comment)
    survey = ensure_survey(session, ticket, now)
    taken = session.execute(update(SatisfactionSurvey).where(
        SatisfactionSurvey.id == survey.id, SatisfactionSurvey.answered_at.is_(None))
        .values(score=value, comment=text, channel=SurveyChannel.AGENT.value, entered_by_id=actor.user_id,
                answered_at=now).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise SurveyRefused(_l("该工单已有满意度评价"))
    _record(session, survey, score=value, comment=text, author_id=actor.user_id, now=now)
    session.refresh(survey)
    return survey


class Opened(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    EXPIRED = "expired"


@dataclass(frozen=True)
class PublicSurvey:
    survey: SatisfactionSurvey
    state: Opened
    took: bool = False  # this very submission was the answer taken


def open_link(session: Session, token: str, *, now: datetime) -> PublicSurvey | None:
    """The survey behind a link, or None for a token that matches none (the page answers 404)."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        return None
    survey = session.scalar(select(SatisfactionSurvey).where(SatisfactionSurvey.token_hash == hash_token(token)))
    if survey is None:
        return None
    if survey.answered_at is not None:
        return PublicSurvey(survey, Opened.ANSWERED)
    if survey.expires_at is None or survey.expires_at <= now:
        return PublicSurvey(survey, Opened.EXPIRED)
    return PublicSurvey(survey, Opened.OPEN)


def answer(session: Session, token: str, *, score: Any, comment: Any, now: datetime) -> PublicSurvey | None:
    """The customer's answer: taken once, before the link expires. A second submission (or one
    after an agent entered the score) changes nothing and reports ANSWERED without `took`; a late
    one EXPIRED; a link re-sent meanwhile None (the old token no longer matches)."""
    opened = open_link(session, token, now=now)
    if opened is None or opened.state is not Opened.OPEN:
        return opened
    value, text = parse_score(score), check_comment(comment)
    survey = opened.survey
    taken = session.execute(update(SatisfactionSurvey).where(
        SatisfactionSurvey.id == survey.id, SatisfactionSurvey.answered_at.is_(None),
        SatisfactionSurvey.expires_at > now, SatisfactionSurvey.token_hash == hash_token(token))
        .values(score=value, comment=text, channel=SurveyChannel.SMS.value, answered_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if taken != 1:  # answered, or re-sent (a new token), a moment ago
        session.expire(survey)
        return open_link(session, token, now=now)
    _record(session, survey, score=value, comment=text, author_id=None, now=now)
    session.refresh(survey)
    return PublicSurvey(survey, Opened.ANSWERED, took=True)


def for_ticket(session: Session, ticket_id: int) -> SatisfactionSurvey | None:
    """The survey of a ticket the caller already scoped."""
    return session.scalar(select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == ticket_id))
