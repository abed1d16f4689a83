"""Login decisions: credentials, disabled accounts, the daily failure lock, the login log."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.org import User
from models.system import LoginLog, LoginReason
from rules.clock import local_date, local_day_start
from rules.errors import LoginRefused
from rules.org import password_matches


def is_locked(user: User, *, now: datetime, tz: str) -> bool:
    """A lock lasts until an administrator unlocks the account or the local day ends."""
    return user.locked_at is not None and local_date(user.locked_at, tz) == local_date(now, tz)


def failures_today(session: Session, user: User, *, now: datetime, tz: str) -> int:
    since = local_day_start(now, tz)
    if user.unlocked_at and user.unlocked_at > since:
        since = user.unlocked_at
    return session.scalar(
        select(func.count(LoginLog.id)).where(
            LoginLog.user_id == user.id,
            LoginLog.success.is_(False),
            LoginLog.reason == LoginReason.BAD_PASSWORD,
            LoginLog.at >= since,
        )
    ) or 0


def authenticate(session: Session, *, username: str, password: str, ip: str | None,
                 user_agent: str | None, now: datetime, tz: str, max_failures: int) -> User:
    """Return the user, or raise LoginRefused. Either way a LoginLog row is added (flushed)."""
    username = (username or "").strip()
    user = session.scalar(select(User).where(User.username == username)) if username else None

    def log(success: bool, reason: LoginReason | None) -> None:
        session.add(LoginLog(at=now, user_id=user.id if user else None, username=username[:64],
                             ip=ip, user_agent=(user_agent or "")[:255], success=success,
                             reason=reason))
        session.flush()

    if user is None:
        log(False, LoginReason.UNKNOWN_USER)
        raise LoginRefused(_l("用户名或密码错误"), reason=LoginReason.UNKNOWN_USER)
    if not user.active:
        log(False, LoginReason.DISABLED)
        raise LoginRefused(_l("该账号已停用，请联系管理员"), reason=LoginReason.DISABLED)
    if is_locked(user, now=now, tz=tz):
        log(False, LoginReason.LOCKED)
        raise LoginRefused(_l("今日登录失败次数过多，账号已锁定，请联系管理员解锁"), reason=LoginReason.LOCKED)
    if not password_matches(user, password):
        log(False, LoginReason.BAD_PASSWORD)
        failures = failures_today(session, user, now=now, tz=tz)
        if failures >= max_failures:
            user.locked_at = now
            session.flush()
            raise LoginRefused(_l("今日登录失败次数过多，账号已锁定，请联系管理员解锁"), reason=LoginReason.LOCKED)
        raise LoginRefused(
            _l("用户名或密码错误，今日还可尝试 %(n)d 次", n=max_failures - failures),
            reason=LoginReason.BAD_PASSWORD,
        )
    log(True, None)
    user.last_login_at = now
    return user
