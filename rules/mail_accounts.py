"""邮件配置's rotation: the accounts are used in turn, each until its daily quota is used up,
and count their successes and failures. Sending itself is adapters/mail.py."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.orm import Session

from models.messaging import MailAccount


def _has_quota(today: date) -> Any:
    """Active, and today's count below the daily quota (a new day starts from zero)."""
    return and_(MailAccount.active.is_(True), MailAccount.daily_quota > 0,
                or_(MailAccount.used_day.is_(None), MailAccount.used_day != today,
                    MailAccount.used_today < MailAccount.daily_quota))


def quota_left(session: Session, *, today: date) -> bool:
    """Whether some active account may still send today (a read; take_account takes it)."""
    return session.scalar(select(MailAccount.id).where(_has_quota(today)).limit(1)) is not None


def take_account(session: Session, *, today: date) -> MailAccount | None:
    """The first active account with quota left today; its counter goes up in the same
    transaction (a guarded UPDATE, so two jobs never overrun a quota)."""
    accounts = session.scalars(select(MailAccount.id).where(MailAccount.active.is_(True))
                               .order_by(MailAccount.sort_order, MailAccount.id))
    for account_id in list(accounts):
        result = session.execute(
            update(MailAccount)
            .where(MailAccount.id == account_id, _has_quota(today))
            .values(used_today=case((MailAccount.used_day == today, MailAccount.used_today + 1), else_=1),
                    used_day=today)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            return session.get(MailAccount, account_id)
    return None


def count_result(session: Session, account_id: int, ok: bool) -> None:
    column = MailAccount.success_count if ok else MailAccount.failure_count
    session.execute(update(MailAccount).where(MailAccount.id == account_id).values({column: column + 1})
                    .execution_options(synchronize_session=False))
