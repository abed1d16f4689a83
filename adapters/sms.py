"""SMS gateways: a log provider that only records, and a generic HTTP provider configured per
gateway (Chinese SMS gateways all differ: URL, method, form or JSON, field names, signature,
how success reads).

A provider's `send` gets the outbox row's idempotency key; `lookup(key)` asks the gateway
whether it already has that message (None: the provider cannot tell), which is how a job that
died after the gateway accepted a message finds out instead of sending it again.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


def N_(text: str) -> str:
    """Marks a fixed reason for the catalogue without translating it: it is stored as written and
    shown in the reader's language (rules.i18n.shown)."""
    return text


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
        return {"mobile": mobile, "content": text, "key": key, "timestamp": str(int(time.time()))}

    def send(self, mobile: str, text: str, key: str) -> SendResult:
        url = self.config.get("url")
        if not url:
            return SendResult(ok=False, error=N_("短信网关地址未设置"))
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
    """The gateway the 短信设置 describe (config["provider"]); the log provider when none is set."""
    provider = config.get("provider") or {}
    if provider.get("kind") == "http":
        return HttpSmsProvider(provider)
    return LogSmsProvider()
