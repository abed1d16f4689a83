"""Sending a stored file (an attachment, a document version, a thumbnail) to the browser: shown
in the page only when it is a raster image or a PDF (rules/file_types.INLINE_MIMES), otherwise
downloaded under its own (Chinese) name; never sniffed into another type, and sandboxed so
nothing inside it can run as this site."""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import send_file

from rules import file_types


def disposition(kind: str, name: str) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''…` (RFC 6266 / 5987): every browser gets the
    Chinese name, and nothing in the name can break out of the header."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name) or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def harden(response: Any) -> Any:
    """Whatever the bytes are, the browser neither guesses their type nor runs anything in them."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def send_stored(path: Path | str, file_name: str, mime: str, *, etag: str | None = None) -> Any:
    inline = mime in file_types.INLINE_MIMES
    response = send_file(path, mimetype=mime, conditional=True, etag=etag or True, max_age=0)
    response.headers["Content-Disposition"] = disposition("inline" if inline else "attachment", file_name)
    return harden(response)
