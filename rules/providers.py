"""Who carries the messages: SMS providers (a log provider that only records, and a generic
HTTP provider configured per gateway, since Chinese SMS gateways all differ) and SMTP accounts
rotated by their daily quotas.

A provider's `send` gets the outbox row's idempotency key; `lookup(key)` asks the gateway
whether it already has that message (None: the provider cannot tell), which is how a job that
died after the gateway accepted a message finds out instead of sending it again.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session

from models.messaging import MailAccount
from rules import clock, i18n

log = logging.getLogger(__name__)


@dataclass
class SendResult:
    ok: bool
    provider_id: str | None = None
    error: str | None = None
    retryable: bool = False


class SmsProvider(Protocol):
    name: str

    def send(self, mobile: str, text: str, key: str) -> SendResult: ...

    def lookup(self, key: str) -> SendResult | None: ...


class LogSmsProvider:
    """Records only (embedded mode, demos): the message is written to the log, nothing leaves."""

    name = "log"

    def send(self, mobile: str, text: str, key: str) -> SendResult:
        log.info("SMS (log provider) to %s [%s]: %s", mobile, key, text)
        return SendResult(ok=True, provider_id=f"log-{key}")

    def lookup(self, key: str) -> SendResult | None:
        return None


def parse_mapping(text: str | dict | None) -> dict[str, str]:
    """Field mapping as the administrator types it: one `name=value` per line, where value may
    hold {mobile}, {content}, {key} and {timestamp}."""
    if isinstance(text, dict):
        return {str(k): str(v) for k, v in text.items()}
    mapping: dict[str, str] = {}
    for line in (text or "").splitlines():
        if "=" in line:
            name, value = line.split("=", 1)
            if name.strip():
                mapping[name.strip()] = value.strip()
    return mapping


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


class HttpSmsProvider:
    """A generic HTTP gateway: URL, method, form or JSON body, a field mapping, an optional
    signature over the sorted fields, a success test on the answer, and an optional status
    query by our key."""

    name = "http"

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.timeout = float(config.get("timeout") or 10)

    def _fields(self, template: dict[str, str], values: dict[str, str]) -> dict[str, str]:
        fields = {}
        for name, pattern in template.items():
            value = pattern
            for placeholder, actual in values.items():
                value = value.replace("{%s}" % placeholder, actual)
            fields[name] = value
        sign_field, secret = self.config.get("sign_field"), self.config.get("secret") or ""
        if sign_field and secret:
            plain = "&".join(f"{k}={fields[k]}" for k in sorted(fields))
            if self.config.get("sign_method") == "md5":
                fields[sign_field] = hashlib.md5((plain + secret).encode()).hexdigest()
            else:
                fields[sign_field] = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
        return fields

    def _call(self, url: str, fields: dict[str, str]) -> tuple[int, str]:
        method = (self.config.get("method") or "POST").upper()
        headers = {"User-Agent": "KechiCRM"}
        data = None
        if method == "GET":
            url = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(fields)
        elif self.config.get("format") == "json":
            data = json.dumps(fields, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        else:
            data = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (admin-set URL)
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def _judge(self, status: int, body: str) -> SendResult:
        field, expected = self.config.get("success_field"), str(self.config.get("success_value") or "")
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if field:
            ok = 200 <= status < 300 and data is not None and str(_dig(data, field)) == expected
        else:
            ok = 200 <= status < 300 and (expected in body if expected else True)
        provider_id = None
        if ok and self.config.get("id_field") and data is not None:
            found = _dig(data, self.config["id_field"])
            provider_id = str(found) if found is not None else None
        if ok:
            return SendResult(ok=True, provider_id=provider_id)
        return SendResult(ok=False, error=f"HTTP {status}: {body[:300]}", retryable=status >= 500 or status == 429)

    def _values(self, key: str, mobile: str = "", text: str = "") -> dict[str, str]:
        return {"mobile": mobile, "content": text, "key": key, "timestamp": str(int(clock.now().timestamp()))}

    def send(self, mobile: str, text: str, key: str) -> SendResult:
        url = self.config.get("url")
        if not url:
            return SendResult(ok=False, error=i18n.source_text(_l("短信网关地址未设置")))
        fields = self._fields(parse_mapping(self.config.get("params")), self._values(key, mobile, text))
        try:
            status, body = self._call(url, fields)
        except (OSError, urllib.error.URLError) as exc:  # refused, timed out, DNS: try again later
            return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:300], retryable=True)
        return self._judge(status, body)

    def lookup(self, key: str) -> SendResult | None:
        url = self.config.get("query_url")
        if not url:
            return None
        fields = self._fields(parse_mapping(self.config.get("query_params") or "key={key}"), self._values(key))
        try:
            status, body = self._call(url, fields)
        except (OSError, urllib.error.URLError):
            return None
        return self._judge(status, body)


def sms_provider(config: dict[str, Any]) -> SmsProvider:
    provider = config.get("provider") or {}
    if provider.get("kind") == "http":
        return HttpSmsProvider(provider)
    return LogSmsProvider()


# --- email -------------------------------------------------------------------------------------
def take_account(session: Session, *, today: date) -> MailAccount | None:
    """The first active account with quota left today; its counter goes up in the same
    transaction (a guarded UPDATE, so two jobs never overrun a quota)."""
    accounts = session.scalars(select(MailAccount.id).where(MailAccount.active.is_(True))
                               .order_by(MailAccount.sort_order, MailAccount.id))
    for account_id in list(accounts):
        result = session.execute(
            update(MailAccount)
            .where(MailAccount.id == account_id,
                   or_(MailAccount.used_day.is_(None), MailAccount.used_day != today,
                       MailAccount.used_today < MailAccount.daily_quota),
                   MailAccount.daily_quota > 0)
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


def build_email(account: MailAccount, *, to_address: str, to_name: str | None, subject: str, html: str,
                text: str, key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((account.from_name or account.name, account.from_address))
    message["To"] = formataddr((to_name or "", to_address))
    message["Subject"] = subject
    message["Message-ID"] = f"<{key}@kechi-crm>"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_email(account: MailAccount, message: EmailMessage, *, timeout: float = 30) -> SendResult:
    try:
        if account.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(account.host, account.port, timeout=timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(account.host, account.port, timeout=timeout)
        with smtp:
            if account.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if account.username:
                smtp.login(account.username, account.password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        return SendResult(ok=False, error=f"收件人被拒绝: {exc}"[:300])
    except (smtplib.SMTPException, OSError) as exc:
        return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:300], retryable=True)
    return SendResult(ok=True, provider_id=message["Message-ID"])
