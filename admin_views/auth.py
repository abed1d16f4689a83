"""Login, logout, language choice, and the per-request session checks (idle timeout,
forced logout, last-seen) that keep a copied or idle cookie from being any use."""
from __future__ import annotations

import base64
import functools
from datetime import timedelta
from typing import Any

from captcha.image import ImageCaptcha

from flask import Blueprint, Flask, current_app, has_request_context, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.middleware.proxy_fix import ProxyFix
from sqlalchemy.orm import joinedload

from admin_views import csp
from admin_views.context import audit_context, client_ip, now
from admin_views.forms import CsrfForm, LoginForm
from admin_views.navigation import back_url
from admin_views.transaction import commit_bookkeeping, transaction
from models import User, db
from rules import auth as auth_rules
from rules.audit import INFO_KEY
from rules.errors import LoginRefused, LoginThrottled

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("请先登录")
login_manager.login_message_category = "warning"
LAST_SEEN_EVERY_SECONDS = 60
CAPTCHA_SESSION_KEY = "login_captcha"  # the id of the challenge shown; its answer stays in the database


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The cookie holds "id:session_version"; a bumped version ends that session."""
    try:
        user_id, version = (int(part) for part in token.split(":"))
    except ValueError:
        return None
    # The department comes with the user: every page's actor needs its path (one statement less).
    user = db.session.get(User, user_id, options=[joinedload(User.department)])
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _next_url() -> str:
    home = url_for("admin.index")
    target = back_url(request.args.get("next") or request.form.get("next"), home)
    return home if target.startswith(url_for("auth.login")) else target


def throttle_rules() -> auth_rules.ThrottleRules:
    config = current_app.config
    return auth_rules.ThrottleRules(
        account_free_failures=config["LOGIN_ACCOUNT_FREE_FAILURES"],
        account_window=timedelta(hours=config["LOGIN_ACCOUNT_WINDOW_HOURS"]),
        ip_free_failures=config["LOGIN_IP_FREE_FAILURES"],
        ip_window=timedelta(minutes=config["LOGIN_IP_WINDOW_MINUTES"]),
        captcha_after_failures=config["LOGIN_CAPTCHA_AFTER_FAILURES"],
        max_delay_seconds=config["LOGIN_MAX_DELAY_SECONDS"],
        captcha_ttl=timedelta(seconds=config["LOGIN_CAPTCHA_TTL_SECONDS"]),
    )


@functools.cache
def _captcha_painter() -> ImageCaptcha:
    return ImageCaptcha(width=160, height=60)  # the fonts the captcha package ships


def captcha_png(answer: str) -> bytes:
    """The CAPTCHA image of `answer` (the login page's and the public web forms')."""
    return _captcha_painter().generate(answer, format="png").getvalue()


def _captcha_image(username: str | None) -> str | None:
    """A fresh CAPTCHA as a data: URI when the next attempt needs one, else None. Its id goes
    into the session (a signed but readable cookie), its answer into the database."""
    rules = throttle_rules()
    if not auth_rules.standing(db.session, username=username, ip=client_ip(), now=now(), rules=rules).captcha_required:
        session.pop(CAPTCHA_SESSION_KEY, None)
        return None
    challenge = auth_rules.new_captcha(db.session, now=now(), rules=rules)
    commit_bookkeeping()
    session[CAPTCHA_SESSION_KEY] = challenge.id
    png = captcha_png(challenge.answer)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm(request.form)
    error = None
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                user = auth_rules.authenticate(
                    db.session, username=form.username.data, password=form.password.data,
                    ip=client_ip(), user_agent=request.user_agent.string, now=now(),
                    rules=throttle_rules(), captcha_id=session.pop(CAPTCHA_SESSION_KEY, None),
                    captcha_answer=form.captcha.data,
                )
            except LoginRefused as exc:
                commit_bookkeeping()  # the attempt is logged: the throttle counts it
                error = str(exc)
                status = 429 if isinstance(exc, LoginThrottled) else 401
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
            status = 401
    form.password.data = form.captcha.data = ""
    return render_template("auth/login.html", form=form, error=error, next=request.args.get("next", ""),
                           captcha_image=_captcha_image(form.username.data)), status


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
    response = redirect(url_for("auth.login"))
    # Nothing this browser kept may outlive the session (the phone's 手机版 above all).
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


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


# Requests a page makes by itself (the approvals pop-up's and the reminders' polls): they neither keep an idle
# session alive nor mark the user as seen.
BACKGROUND_ENDPOINTS = frozenset({"approval.poll", "notification.poll"})


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
    user = current_user._get_current_object()
    if not auth_rules.ip_allowed(user.role.allowed_networks, client_ip()):
        # IP限制登录 holds for open sessions too: a laptop that left the office network is out.
        logout_user()
        session.clear()
        flash(gettext("当前IP不允许登录该账号"), "error")
        return None if expired_on_login_page else redirect(url_for("auth.login"))
    if request.endpoint in BACKGROUND_ENDPOINTS:  # a page asking on its own is not the user at work
        db.session.info[INFO_KEY] = audit_context()
        return None
    session["last_active"] = moment.timestamp()
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
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Behind nginx every request comes from the proxy: without this, the login throttle
        # would count the whole firm as one IP and the role IP allow-list would see only nginx.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    login_manager.init_app(app)
    app.register_blueprint(bp)
    app.before_request(_check_session)
    app.after_request(_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp.csp_nonce  # for inline scripts of pages outside Flask-Admin
