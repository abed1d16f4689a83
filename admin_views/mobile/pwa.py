"""手机版 as an app on the home screen (PWA): the manifest, the service worker and the page it
shows without a network. Open without login (no data in any of them): the browser fetches the
manifest and the worker on its own, and the offline page must be stored before it is needed.

What the worker may keep is decided here, once: the mobile pages' static files (cache-first,
in a cache named after their content, so a release replaces it) and the offline page. Pages and
JSON are never stored: they hold customers, and a phone left behind after logout must not show
them (the logout response also says Clear-Site-Data: "cache")."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, url_for
from flask_admin import BaseView
from flask_babel import gettext

bp = Blueprint("m_pwa", __name__, url_prefix="/m")

ICON_SIZES = (192, 512)
# The static files of the mobile pages (other engineers' kechi-mobile-*.js included by the glob).
STATIC_GLOBS = ("css/kechi-mobile*.css", "js/kechi-mobile*.js", "img/kechi-mobile-*.png")


@lru_cache(maxsize=4)
def _static_files(folder: str) -> tuple[tuple[str, ...], str]:
    """The mobile static files (relative names) and a short hash of their content: the cache's
    version, which changes with any of them."""
    root = Path(folder)
    names = sorted({p.relative_to(root).as_posix() for pattern in STATIC_GLOBS for p in root.glob(pattern)})
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    return tuple(names), digest.hexdigest()[:12]


@bp.route("/manifest.webmanifest")
def manifest() -> Any:
    body = {
        "name": gettext("客池CRM"), "short_name": gettext("客池CRM"), "lang": "zh-CN",
        "start_url": url_for("m_home.index"), "scope": url_for("m_home.index"), "display": "standalone",
        "background_color": "#f4f6f8", "theme_color": "#1f6feb",
        "icons": [{"src": url_for("static", filename=f"img/kechi-mobile-{s}.png"), "sizes": f"{s}x{s}",
                   "type": "image/png", "purpose": "any"} for s in ICON_SIZES],
    }
    response = current_app.response_class(current_app.json.dumps(body), mimetype="application/manifest+json")
    return response


@bp.route("/sw.js")
def service_worker() -> Any:
    names, version = _static_files(current_app.static_folder)
    script = render_template("mobile/sw.js", version=version, offline=url_for(".offline"),
                             static_prefix=current_app.static_url_path + "/",
                             precache=[url_for("static", filename=n) for n in names])
    response = current_app.response_class(script, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("m_home.index")
    response.headers["Cache-Control"] = "no-cache"  # a new release's worker is found at the next visit
    return response


@bp.route("/offline")
def offline() -> Any:
    return render_template("mobile/offline.html")


def views() -> list[BaseView]:
    return []


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
