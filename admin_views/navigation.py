"""Return addresses: where a page sends the user back to after its work (the login's `next`,
the assign page's `back`, a batch page's `url`, the language switch's referrer, a
notification's stored link). Every one of them comes from the request or the database, so it
is checked here, once, before it becomes a redirect or a link."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask_admin.helpers import is_safe_url


def back_url(target: str | None, fallback: str) -> str:
    """`target` if it leads to a page of this site, else `fallback`.

    Flask-Admin's `is_safe_url` judges a browser's reading of the address (`//host`, `\\host`,
    `javascript:`, spaces inside a scheme); on top of it a backslash or a control character is
    refused outright, since browsers read them differently from one another, and a same-host
    absolute address (the Referer header) is cut to its local part so the answer is always a
    path on this site."""
    if not target or "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return fallback
    if not is_safe_url(target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        target = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
