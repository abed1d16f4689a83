"""What every mobile page shares: the absolute /m/ address, no admin menu entry, the tab bar and
the browser permissions a field page needs (the admin keeps geolocation and camera off)."""
from __future__ import annotations

from typing import Any, NamedTuple

from flask import Flask, current_app, request, url_for
from flask_babel import lazy_gettext as _l

from admin_views.base import PermissionView
from admin_views.context import current_actor
from models import db
from rules import attachments

URL_PREFIX = "/m"


class Tab(NamedTuple):
    endpoint: str
    label: Any
    icon: str  # a name in static/css/kechi-mobile.css (.m-ico-<name>)


# The bottom bar, left to right. A tab appears once its page is registered, so a page module can
# land on its own.
TABS: tuple[Tab, ...] = (
    Tab("m_home.index", _l("今日"), "today"),
    Tab("m_customers.index", _l("客户"), "customers"),
    Tab("m_opportunities.index", _l("商机"), "deals"),
    Tab("m_approvals.index", _l("审批"), "approvals"),
    Tab("m_me.index", _l("我的"), "me"),
)


class MobileView(PermissionView):
    """A page of the mobile workspace: `mobile_url` is its address under /m/ ("" for /m/ itself),
    and it never shows in the admin menu."""

    mobile_url: str = ""
    tab: str = ""  # the endpoint of the tab this page belongs to, lit in the bar

    def __init__(self, name: Any = None, *, endpoint: str, **kwargs: Any) -> None:
        super().__init__(name=name, endpoint=endpoint, url=f"{URL_PREFIX}{self.mobile_url}", **kwargs)

    def is_visible(self) -> bool:
        return False

    def render(self, template: str, **kwargs: Any) -> Any:
        kwargs.setdefault("mobile_tab", self.tab)
        return super().render(template, **kwargs)


def tabs() -> list[tuple[Tab, str]]:
    """The tabs whose page exists, each with its address."""
    return [(tab, url_for(tab.endpoint)) for tab in TABS if tab.endpoint in current_app.view_functions]


def photo_context() -> dict[str, Any]:
    """What templates/mobile/_photo.html needs: whether the user may upload, and the limit."""
    limit = attachments.limits(db.session)["attachment_max_mb"]
    return {"can_photo": current_actor().can(attachments.UPLOAD), "photo_max_mb": limit,
            "photo_max_bytes": int(limit) * attachments.MB}


# Pages whose form carries a photo: up to what an attachment upload may (rules/attachments), not
# the site's request limit, so an oversized photo reaches the rule and is refused with the typed
# text kept instead of a bare 413.
PHOTO_ENDPOINTS = {"m_followups.new", "m_checkins.new"}


def _photo_upload_limit() -> None:
    if request.endpoint in PHOTO_ENDPOINTS:
        request.max_content_length = attachments.request_limit(db.session)


def mobile_url(endpoint: str, **values: Any) -> str | None:
    """The address of another mobile page, or None while that page does not exist: a page shows
    the button to it only when it can be followed."""
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


def _field_permissions(response: Any) -> Any:
    # A check-in reads the position and a follow-up may take a photo; the admin refuses both
    # (admin_views/auth._security_headers sets the header only where none was set).
    if request.path == URL_PREFIX or request.path.startswith(URL_PREFIX + "/"):
        response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=(self)"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_field_permissions)
    # Before params.refuse_nul_bytes, which reads the form of every request.
    app.before_request_funcs.setdefault(None, []).insert(0, _photo_upload_limit)
    app.jinja_env.globals.update(mobile_tabs=tabs, mobile_url=mobile_url)
