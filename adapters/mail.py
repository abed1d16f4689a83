"""Email through SMTP: the message built from an account (a MailAccount row or anything with
its fields) and sent over SSL, STARTTLS or plain SMTP. Which account carries a message, and its
daily quota, is rules/mail_accounts.py."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr
from typing import Protocol

from adapters.sms import SendResult


class SmtpAccount(Protocol):
    name: str
    from_address: str
    from_name: str | None
    host: str
    port: int
    security: str  # ssl, starttls or none
    username: str | None
    password: str | None


def build_email(account: SmtpAccount, *, to_address: str, to_name: str | None, subject: str, html: str,
                text: str, key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((account.from_name or account.name, account.from_address))
    message["To"] = formataddr((to_name or "", to_address))
    message["Subject"] = subject
    message["Message-ID"] = f"<{key}@kechi-crm>"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_email(account: SmtpAccount, message: EmailMessage, *, timeout: float = 30) -> SendResult:
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
