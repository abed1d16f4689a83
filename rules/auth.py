"""Login decisions: throttling, the CAPTCHA, credentials, disabled accounts, the per-role IP
allow-list and the login log.

Failed logins slow an attacker down without locking anyone out (OWASP ASVS 6.3.1): after a few
failures a CAPTCHA is required, after more each further attempt must wait a growing delay
(2, 4, 8 … seconds, capped), per username and per client IP. Nothing an attacker does can keep
the right person out for longer than the cap. The state is the login log itself (indexed counts
of recent failures), so every web process on every host sees the same throttle.

Until the password is right, an unknown username, a wrong password and a disabled account get
the same answer, the same throttle and the same CAPTCHA: nothing tells whether an account exists.
"""
from __future__ import annotations

import ipaddress
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.org import User
from models.system import LoginCaptcha, LoginLog, LoginReason
from rules.errors import InvalidValue, LoginRefused, LoginThrottled
from rules.org import password_matches, password_matches_nobody

# Failures that count against a username: the password was checked and was wrong (an unknown
# username counts the same, so the throttle does not reveal which names exist).
ACCOUNT_FAILURES = (LoginReason.BAD_PASSWORD, LoginReason.UNKNOWN_USER)
# Failures that count against a client IP: also unsolved CAPTCHAs, which only an attacker's own
# address pays for. Throttled attempts count nowhere: waiting must end the wait.
IP_FAILURES = (LoginReason.BAD_PASSWORD, LoginReason.UNKNOWN_USER, LoginReason.BAD_CAPTCHA)
# Letters and digits that cannot be mistaken for one another in the image (no 0/O, 1/I, ...).
CAPTCHA_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CAPTCHA_LENGTH = 4


@dataclass(frozen=True)
class ThrottleRules:
    """The LOGIN_* settings (config.py)."""

    account_free_failures: int = 10
    account_window: timedelta = timedelta(hours=24)
    ip_free_failures: int = 30
    ip_window: timedelta = timedelta(hours=1)
    captcha_after_failures: int = 3
    max_delay_seconds: int = 900
    captcha_ttl: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class Standing:
    """What the next attempt faces: a wait (0: none) and whether a CAPTCHA is required."""

    wait_seconds: int
    captcha_required: bool


def delay_seconds(failures: int, *, free: int, cap: int) -> int:
    """The wait after `failures` recent failures: none while under `free`, then 2, 4, 8 … up to `cap`."""
    if failures < free:
        return 0
    return min(2 ** min(failures - free + 1, 30), cap)


def _count_since(session: Session, where: list, since: datetime, reasons: tuple) -> tuple[int, datetime | None]:
    """How many failures, and the last one's time, strictly after `since` (an unlock or a success
    at the same instant as a failure clears it)."""
    row = session.execute(
        select(func.count(LoginLog.id), func.max(LoginLog.at))
        .where(*where, LoginLog.success.is_(False), LoginLog.reason.in_(list(reasons)), LoginLog.at > since)
    ).one()
    return row[0] or 0, row[1]


def account_failures(session: Session, username: str, *, now: datetime,
                     rules: ThrottleRules) -> tuple[int, datetime | None]:
    """Recent failures for a username: within the window, since its last success and since an
    administrator last cleared it (解除登录限制 or `flask unlock-user`)."""
    since = now - rules.account_window
    last_success = session.scalar(select(func.max(LoginLog.at)).where(
        LoginLog.username == username, LoginLog.success.is_(True), LoginLog.at >= since))
    unlocked_at = session.scalar(select(User.unlocked_at).where(User.username == username))
    since = max([since] + [t for t in (last_success, unlocked_at) if t is not None])
    return _count_since(session, [LoginLog.username == username], since, ACCOUNT_FAILURES)


def ip_failures(session: Session, ip: str | None, *, now: datetime,
                rules: ThrottleRules) -> tuple[int, datetime | None]:
    if not ip:
        return 0, None
    return _count_since(session, [LoginLog.ip == ip], now - rules.ip_window, IP_FAILURES)


def standing(session: Session, *, username: str | None, ip: str | None, now: datetime,
             rules: ThrottleRules) -> Standing:
    """The throttle for the next attempt by `username` (None: not known yet, e.g. the login
    page's GET) from `ip`."""
    counts = [(ip_failures(session, ip, now=now, rules=rules), rules.ip_free_failures)]
    username = (username or "").strip()[:64]
    if username:
        counts.append((account_failures(session, username, now=now, rules=rules), rules.account_free_failures))
    wait = 0.0
    for (failures, last_at), free in counts:
        delay = delay_seconds(failures, free=free, cap=rules.max_delay_seconds)
        if delay and last_at is not None:
            wait = max(wait, (last_at + timedelta(seconds=delay) - now).total_seconds())
    captcha = any(failures >= rules.captcha_after_failures for (failures, _), _free in counts)
    return Standing(wait_seconds=math.ceil(wait) if wait > 0 else 0, captcha_required=captcha)


# --- the CAPTCHA ---------------------------------------------------------------------------------

def new_captcha(session: Session, *, now: datetime, rules: ThrottleRules) -> LoginCaptcha:
    """A fresh challenge (its id goes into the browser's session, its answer stays here).
    Expired challenges are swept on the way, so the table stays small."""
    session.execute(delete(LoginCaptcha).where(LoginCaptcha.created_at < now - rules.captcha_ttl))
    answer = "".join(secrets.choice(CAPTCHA_ALPHABET) for _ in range(CAPTCHA_LENGTH))
    captcha = LoginCaptcha(id=secrets.token_urlsafe(32), answer=answer, created_at=now)
    session.add(captcha)
    session.flush()
    return captcha


def solve_captcha(session: Session, captcha_id: str | None, answer: str | None, *, now: datetime,
                  rules: ThrottleRules) -> bool:
    """True if `answer` is the answer of that challenge. A challenge is used up by any attempt,
    right or wrong, so one image never serves two guesses."""
    if not captcha_id:
        return False
    captcha = session.get(LoginCaptcha, captcha_id)
    if captcha is None:
        return False
    session.delete(captcha)
    session.flush()
    if captcha.created_at < now - rules.captcha_ttl:
        return False
    return secrets.compare_digest(captcha.answer, (answer or "").strip().upper())


# --- the per-role IP allow-list (IP限制登录) --------------------------------------------------------

def parse_networks(text: str | None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """CIDR networks (or single addresses), one per line or separated by commas/spaces.
    Raises InvalidValue naming the first entry that is not one."""
    networks = []
    for entry in (text or "").replace(",", " ").replace("，", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise InvalidValue(_l("“%(v)s”不是有效的 IP 地址或网段（如 192.168.1.0/24）", v=entry)) from None
    return networks


def ip_allowed(networks_text: str | None, ip: str | None) -> bool:
    """True when the role has no allow-list, or `ip` lies in one of its networks."""
    try:
        networks = parse_networks(networks_text)
    except InvalidValue:
        return False  # a broken list (edited outside the form) admits nobody rather than everybody
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in networks)


# --- the decision --------------------------------------------------------------------------------

def authenticate(session: Session, *, username: str, password: str, ip: str | None,
                 user_agent: str | None, now: datetime, rules: ThrottleRules,
                 captcha_id: str | None = None, captcha_answer: str | None = None) -> User:
    """Return the user, or raise LoginRefused (LoginThrottled for a wait). Either way a LoginLog
    row with the reason is added (flushed). The password is checked only after the throttle and
    the CAPTCHA let the attempt through; disabled accounts and the IP allow-list are told only
    after the right password."""
    username = (username or "").strip()[:64]
    user: User | None = None

    def log(success: bool, reason: LoginReason | None) -> None:
        session.add(LoginLog(at=now, user_id=user.id if user else None, username=username,
                             ip=ip, user_agent=(user_agent or "")[:255], success=success,
                             reason=reason))
        session.flush()

    now_standing = standing(session, username=username, ip=ip, now=now, rules=rules)
    if now_standing.wait_seconds:
        log(False, LoginReason.THROTTLED)
        raise LoginThrottled(_l("登录尝试过于频繁，请 %(n)d 秒后再试", n=now_standing.wait_seconds),
                             reason=LoginReason.THROTTLED, wait_seconds=now_standing.wait_seconds)
    solved = solve_captcha(session, captcha_id, captcha_answer, now=now, rules=rules)
    if now_standing.captcha_required and not solved:
        log(False, LoginReason.BAD_CAPTCHA)
        message = _l("验证码错误，请重新输入") if (captcha_answer or "").strip() else _l("请输入图片中的验证码")
        raise LoginRefused(message, reason=LoginReason.BAD_CAPTCHA)

    user = session.scalar(select(User).where(User.username == username)) if username else None
    if user is None:
        password_matches_nobody(password)
        log(False, LoginReason.UNKNOWN_USER)
        raise LoginRefused(_l("用户名或密码错误"), reason=LoginReason.UNKNOWN_USER)
    if not password_matches(user, password):
        log(False, LoginReason.BAD_PASSWORD)
        raise LoginRefused(_l("用户名或密码错误"), reason=LoginReason.BAD_PASSWORD)
    if not user.active:
        log(False, LoginReason.DISABLED)
        raise LoginRefused(_l("该账号已停用，请联系管理员"), reason=LoginReason.DISABLED)
    if not ip_allowed(user.role.allowed_networks, ip):
        log(False, LoginReason.IP_DENIED)
        raise LoginRefused(_l("当前IP不允许登录该账号"), reason=LoginReason.IP_DENIED)
    log(True, None)
    user.last_login_at = now
    return user
