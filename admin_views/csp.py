"""The Content-Security-Policy: scripts run only from this host's files or from an inline block
carrying the response's nonce (ours through `csp_nonce()` in templates, Flask-Admin's through
`Admin(csp_nonce_generator=...)`). Markup smuggled into a name therefore cannot run even where an
escape was forgotten, and inline event handlers (onclick=...) are refused too: markup asks for
that behaviour with data attributes that static/js/kechi-page.js serves."""
from __future__ import annotations

import secrets

from flask import g


def csp_nonce() -> str:
    """This request's script nonce, made on first use: the page's inline <script> tags and the
    header must carry the same one, and the next response gets another."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def policy() -> str:
    # Styles keep 'unsafe-inline': Flask-Admin, select2, ECharts and our templates set style
    # attributes, and CSS cannot run script. A nonce in style-src would switch that off.
    return (f"default-src 'self'; script-src 'self' 'nonce-{csp_nonce()}'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
            "frame-ancestors 'self'; form-action 'self'; base-uri 'self'")
