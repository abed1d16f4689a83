"""报价单分享链接: the 分享 section of the quote page (make a link with an expiry, copy it, see
who opened it, revoke it) and the public page /q/<token> the customer opens without signing in,
beside the web forms' /f/<key>. The decisions are rules/quote_shares.py; the page itself is
rules/quote_share_page.py."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, redirect, render_template, request, url_for
from flask_admin import expose
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin_views import params
from admin_views.base import PermissionView, allowed
from admin_views.context import current_actor, now
from admin_views.formatters import fmt_datetime
from admin_views.forms import CsrfForm
from admin_views.navigation import back_url
from admin_views.transaction import commit_bookkeeping, commit_or_explain
from models import Quote, QuoteShare, db
from rules import qr, quote_share_page, quote_shares, quotes, scope
from rules.errors import OutOfScope


def public_url(token: str) -> str:
    return url_for("quote_share_public.show", token=token, _external=True)


def _back(quote_id: int) -> str:
    return back_url(request.form.get("url"), url_for("quote.details_view", id=quote_id))


class QuoteShareView(PermissionView):
    """The 分享 section's buttons (POST only); the section itself is on the quote page."""

    permission = quote_shares.PERMISSION

    def is_visible(self) -> bool:
        return False  # reached from a quote's page, never from the menu

    @expose("/")
    def index(self) -> Any:
        return redirect(url_for("quote.index_view"))

    @expose("/create/", methods=["POST"])
    def create_view(self) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        quote_id = params.int_id(request.form.get("quote_id"))
        commit_or_explain(
            lambda: quote_shares.create(db.session, quote_id, days=request.form.get("days"),
                                        template_id=request.form.get("template_id"), actor=current_actor(), now=now()),
            lambda share: gettext("已生成分享链接，%(d)s 前有效，复制后发给客户即可", d=fmt_datetime(share.expires_at)))
        return redirect(_back(quote_id) + "#kechi-quote-shares")

    @expose("/<int:share_id>/revoke/", methods=["POST"])
    def revoke_view(self, share_id: int) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        revoked: list[int] = []
        commit_or_explain(
            lambda: revoked.append(quote_shares.revoke(db.session, share_id, actor=current_actor(), now=now()).quote_id),
            lambda _s: gettext("分享链接已撤销，客户将无法再打开"))
        quote_id = revoked[0] if revoked else params.int_id(request.form.get("quote_id"))
        return redirect(_back(quote_id) + "#kechi-quote-shares")

    @expose("/<int:share_id>/qr.png")
    def qr_view(self, share_id: int) -> Response:
        """The live link as a QR code, for the customer to scan off the screen or a printout; a
        share outside the reader's scope, revoked or expired answers 404."""
        try:
            share = scope.get_in_scope(db.session, QuoteShare, share_id, current_actor())
        except OutOfScope:
            abort(404)
        if quote_shares.status_of(share, now()) != quote_shares.ShareStatus.ACTIVE:
            abort(404)
        return Response(qr.png(public_url(share.token)), mimetype=qr.PNG_TYPE,
                        headers={"Cache-Control": "private, no-store"})


def quote_share_section(quote: Quote) -> dict[str, Any]:
    """The quote page's 分享 section (a template global): the links of a quote the reader already
    sees, each with its address, status and openings; making and revoking for those who may."""
    moment = now()
    rows = [{"share": share, "url": public_url(share.token), "status": quote_shares.status_of(share, moment)}
            for share in quote_shares.for_quote(db.session, quote.id)]
    layouts = quote_shares.layouts(db.session)
    names = {t.id: t.name for t in layouts}
    for row in rows:
        row["layout"] = names.get(row["share"].template_id) if row["share"].template_id else None
    return {"rows": rows, "layouts": layouts, "can_share": allowed(quote_shares.PERMISSION) and quote.superseded_by_id is None,
            "may_revoke": allowed(quote_shares.PERMISSION), "labels": quote_shares.STATUS_LABELS,
            "css": quote_shares.STATUS_CSS, "active": quote_shares.ShareStatus.ACTIVE,
            "default_days": quote_shares.DEFAULT_DAYS, "max_days": quote_shares.MAX_DAYS}


# --- the public page ------------------------------------------------------------------------------

bp = Blueprint("quote_share_public", __name__)


def _private(response: Any) -> Any:
    """A quote is the customer's and ours: no cache keeps it, no search engine lists it, and no
    other site frames it."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays out of other sites' logs
    return response


def _lang() -> str:
    return "en" if str(get_locale() or "").startswith("en") else "zh-CN"


@bp.route("/q/<token>")
def show(token: str) -> Any:
    moment = now()
    staff = current_user.is_authenticated  # a colleague checking the link is not the customer reading it
    opened = quote_shares.open_shared(db.session, token, now=moment, count=not staff)
    if opened is None:
        db.session.rollback()
        return _private(current_app.make_response((render_template("quote_shares/gone.html", lang=_lang()), 404)))
    page = quote_share_page.build(db.session, opened, now=moment, tz=current_app.config["TIMEZONE"],
                                  files_root=current_app.config["FILES_DIR"])
    html = render_template("quote_shares/public.html", page=page, staff=staff, zhe=quotes.zhe, lang=_lang())
    commit_bookkeeping()  # the opening counted, the owner told
    return _private(current_app.make_response(html))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(quote_share_section, "kechi_quote_shares")


def views() -> list:
    return [QuoteShareView(name=_l("报价单分享"), endpoint="quote_share")]
