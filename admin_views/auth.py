"""Login, logout, language choice, and the per-request session checks (idle timeout,
forced logout, last-seen) that keep a copied or idle cookie from being any use."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, has_request_context, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user

from admin_views import csp
from admin_views.context import audit_context, client_ip, now
from admin_views.forms import CsrfForm, LoginForm
from admin_views.navigation import back_url
from admin_views.transaction import commit_bookkeeping, transaction
from models import User, db
from rules import auth as auth_rules
from rules.audit import INFO_KEY
from rules.errors import LoginRefused

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("请先登录")
login_manager.login_message_category = "warning"
LAST_SEEN_EVERY_SECONDS = 60


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The cookie holds "id:session_version"; a bumped version ends that session."""
    try:
        user_id, version = (int(part) for part in token.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _next_url() -> str:
    home = url_for("admin.index")
    target = back_url(request.args.get("next") or request.form.get("next"), home)
    return home if target.startswith(url_for("auth.login")) else target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm(request.form)
    error = None
    if request.method == "POST":
        if form.validate():
            try:
                user = auth_rules.authenticate(
                    db.session, username=form.username.data, password=form.password.data,
                    ip=client_ip(), user_agent=request.user_agent.string, now=now(),
                    tz=current_app.config["TIMEZONE"],
                    max_failures=current_app.config["LOGIN_MAX_FAILURES_PER_DAY"],
                )
            except LoginRefused as exc:
                commit_bookkeeping()  # the failure is logged (and may have locked the account)
                error = str(exc)
            else:
                commit_bookkeeping()
                target = _next_url()
                session.clear()  # a fresh session at login: nothing carries over
                login_user(user)
                session.permanent = True
                session["last_active"] = now().timestamp()
                return redirect(target)
        elif "csrf_token" in form.errors:
            error = gettext("页面已过期，请重新登录")
    return render_template("auth/login.html", form=form, error=error,
                           next=request.args.get("next", "")), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    if not CsrfForm(request.form).validate():
        flash(gettext("页面已过期，请重试"), "error")
        return redirect(url_for("admin.index"))
    if current_user.is_authenticated:
        with transaction():
            user = db.session.get(User, current_user.id)
            user.session_version += 1  # copies of this cookie die too
            user.last_seen_at = None
    logout_user()
    session.clear()
    flash(gettext("您已安全退出"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_language(code: str) -> Any:
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            with transaction():
                db.session.get(User, current_user.id).locale = code
    return redirect(back_url(request.referrer, url_for("admin.index")))


def select_locale() -> str:
    if not has_request_context():  # CLI and jobs speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated:
        return current_user.locale
    return session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]


def _check_session() -> Any:
    """Before each request: idle timeout, last-seen, and the audit context for this request."""
    if request.endpoint in ("static", "health.healthz") or (request.endpoint or "").endswith(".static"):
        return None
    if not current_user.is_authenticated:
        return None
    moment = now()
    expired_on_login_page = request.endpoint == "auth.login"
    last = session.get("last_active")
    idle = current_app.config["IDLE_TIMEOUT"].total_seconds()
    if last is not None and moment.timestamp() - last > idle:
        logout_user()
        session.clear()
        flash(gettext("您已超过 %(m)d 分钟未操作，请重新登录", m=int(idle // 60)), "warning")
        if expired_on_login_page:
            return None
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    session["last_active"] = moment.timestamp()
    user = current_user._get_current_object()
    if user.last_seen_at is None or (moment - user.last_seen_at).total_seconds() > LAST_SEEN_EVERY_SECONDS:
        user.last_seen_at = moment
        user.last_ip = client_ip()
        commit_bookkeeping()
    db.session.info[INFO_KEY] = audit_context()
    return None


def _security_headers(response: Any) -> Any:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    # Everything is served from this host; scripts only with this response's nonce (admin_views/csp.py).
    headers.setdefault("Content-Security-Policy", csp.policy())
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if current_user and current_user.is_authenticated:
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)
    app.before_request(_check_session)
    app.after_request(_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp.csp_nonce  # for inline scripts of pages outside Flask-Admin
